"""A course where every kind of hostile report meets the jobs at once: each such group gets a clear status of its
own, and every other group is scraped and exported exactly as it would be without them (issue 11)."""

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from reports_app import exporting, tasks
from reports_app.engine import rendering
from reports_app.models import Group, Job
from reports_app.selectors.report_page import report_page
from tests.helpers.hostile import BRACKETS, NESTED
from tests.helpers.repos import FILLED, JAN_10, make_repo, sha_of, with_answer

NORMAL = (6, 7)


def readmes() -> dict[int, bytes]:
    """What each group's reports/README.md holds."""
    return {
        1: with_answer(NESTED),  # an answer Python-Markdown recurses on past the stack
        2: with_answer(BRACKETS),  # an answer Python-Markdown takes minutes over
        3: FILLED.replace(b"## Group information", NESTED.encode() + b"\n\n## Group information"),  # outside answers
        4: b"x" * (settings.REPORT_MAX_BYTES + 1),
        5: "Grüße aus Lyngby\n".encode("latin-1"),
        6: FILLED,
        7: with_answer("s111111, s222222"),
    }


@pytest.fixture
def hostile_course(course, tmp_path, settings, short_budget):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    for number, readme in readmes().items():
        url = make_repo(tmp_path, f"group{number}", [(JAN_10, {"reports/README.md": readme})])
        Group.objects.create(course=course, number=number, name=f"G{number}", repo_url=url)
    return course


def run_job(course, kind: str) -> Job:
    """A job run as db_worker runs it, without the worker."""
    job = Job.objects.create(kind=kind, course=course)
    tasks.job_run(job.pk)
    job.refresh_from_db()
    return job


def zip_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}  # files only


@pytest.mark.timeout(240)
def test_hostile_groups_get_their_own_status_and_the_others_come_out_as_without_them(hostile_course, tmp_path):
    scrape = run_job(hostile_course, Job.Kind.SCRAPE)

    assert scrape.status == "done", scrape.message
    statuses = {s.group.number: (s.status, s.message) for s in scrape.scrapes.select_related("group")}
    assert statuses == {
        1: ("ok", ""),  # a scrape renders no answer: the report page does, the first time it shows it
        2: ("ok", ""),
        3: ("ok", ""),  # the text is part of the report's layout: nothing renders it yet
        4: ("no_report", "reports/README.md was not read: 5.0 MB; a report may be at most 5.0 MB"),
        5: (
            "no_report",
            "reports/README.md was not read: the report is not UTF-8 text (byte 0xfc on line 1); save it as UTF-8",
        ),
        6: ("ok", ""),
        7: ("ok", ""),
    }
    for number, why in ((1, "nested 500 levels deep"), (2, "the renderer took longer than 1 s")):
        row = report_page(Group.objects.get(number=number).report).rows[1]
        assert row.answer.html == rendering.unrendered_html(row.answer.text, why, what="Question 2")
    again = StringIO()
    call_command("scrape_reports", "--course", "C1", stdout=again)  # a second run: the same, and nothing new
    lines = again.getvalue().splitlines()
    assert lines[5] == f"group 6: ok {sha_of(Group.objects.get(number=6).repo_url)[:10]} 2025-01-10 13:00 (unchanged)"
    assert lines[-1] == "Scraped 7 groups: 5 ok, 2 no report"

    export = run_job(hostile_course, Job.Kind.EXPORT)

    assert export.status == "problems"
    assert export.message.splitlines()[1:] == [
        "cannot render group 1: nested 500 levels deep",
        "cannot render group 2: the renderer took longer than 1 s",
        "cannot render group 3: nested 500 levels deep",
    ]
    files = zip_files(Path(settings.MEDIA_ROOT) / export.file.name)
    for number in (1, 2, 3):
        folder = f"group-{number:03d}"
        assert sorted(name for name in files if name.startswith(folder)) == [
            f"{folder}/CANNOT-RENDER.txt",
            f"{folder}/README.md",
        ]
    assert not any(name.startswith(("group-004", "group-005")) for name in files)  # no report was ever imported

    Group.objects.exclude(number__in=NORMAL).delete()
    out = io.BytesIO()
    exporting.course_export(course=hostile_course, out=out)
    alone = zip_files(out)
    assert sorted(name for name in alone if name.startswith("group-")) == [
        f"group-00{n}/{file}" for n in NORMAL for file in ("README.md", "grading.html", "report.html")
    ]
    assert {name: files[name] for name in alone if name.startswith("group-")} == {
        name: data for name, data in alone.items() if name.startswith("group-")
    }
