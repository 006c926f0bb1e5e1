"""The hand-in archived byte for byte: a scrape keeps reports/README.md as committed (CRLF, a byte order mark,
trailing spaces) with its git blob id, the export and the students' zip hand that file out unchanged while the report
says what it says, and rebuild it with its line ends once an answer changes on the site. Real git repos."""

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from reports_app import exporting
from reports_app.engine.readme_file import git_blob_id
from reports_app.models import Group, Question, Report
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_import
from reports_app.services.scrapes import group_scrape
from tests.helpers.repos import FILLED, JAN_10, MEMBERS, git, make_repo, sha_of

BOM = b"\xef\xbb\xbf"
# Every line ends in CRLF, the first two with trailing spaces too, and the file starts with a byte order mark.
COMMITTED = BOM + FILLED.replace(b"\n", b"  \r\n", 2).replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
EDITED = "s111111, s222222 and a third member typed on the site"


@pytest.fixture(autouse=True)
def _file_urls(settings, tmp_path):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]


@pytest.fixture
def repo(tmp_path) -> str:
    return make_repo(tmp_path, "crlf", [(JAN_10, {"reports/README.md": COMMITTED})])


@pytest.fixture
def scraped(group1: Group, repo: str) -> Group:
    group1.repo_url = repo
    group1.save(update_fields=["repo_url"])
    scrape = group_scrape(group=group1, at_deadline=False)
    assert scrape.status in ("ok", "problems"), scrape.message
    return group1


def committed_blob(url: str) -> tuple[str, bytes]:
    """(blob id, bytes) of reports/README.md at the repo's head, as git itself gives them."""
    bare = Path(url.removeprefix("file://"))
    blob = git("rev-parse", "HEAD:reports/README.md", cwd=bare)
    data = subprocess.run(
        ["git", "--git-dir", str(bare), "cat-file", "blob", blob], check=True, capture_output=True
    ).stdout
    return blob, data


def export_files(course) -> dict[str, bytes]:
    out = io.BytesIO()
    exporting.course_export(course=course, out=out, workers=1)
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def edit(group: Group, number: int, text: str) -> None:
    report = Report.objects.get(group=group)
    question = Question.objects.get(template=report.template, number=number)
    version = report.answers.get(question=question).version
    answer_save(report=report, question=question, text=text, base_version=version, user=None)


def test_a_scrape_keeps_the_readme_as_committed_with_its_blob_id(scraped, repo):
    assert COMMITTED.startswith(BOM) and b"  \r\n" in COMMITTED
    assert COMMITTED.count(b"\n") == COMMITTED.count(b"\r\n") == FILLED.count(b"\n")
    blob, data = committed_blob(repo)
    report = Report.objects.get(group=scraped)
    assert bytes(report.source_bytes) == data == COMMITTED
    assert report.source_blob == scraped.last_scrape.readme_blob == blob == git_blob_id(COMMITTED)
    assert "\r" not in report.source  # the parser still reads the decoded text


def test_the_export_writes_the_committed_file_and_records_it(scraped, repo, course):
    blob, data = committed_blob(repo)
    files = export_files(course)
    assert files["group-001/README.md"] == data
    manifest = json.loads(files["manifest.json"])
    assert manifest["course"] == course.code
    assert manifest["groups"]["group-001"] == {
        "group": 1,
        "commit": sha_of(repo),
        "readme_blob": blob,
        "readme_sha256": hashlib.sha256(data).hexdigest(),
        "committed": True,
    }
    grades = files["grades.csv"].decode("utf-8-sig").splitlines()
    assert '"readme_blob"' in grades[0] and f'"{blob}"' in grades[1]


def test_a_web_edit_rebuilds_the_readme_with_the_committed_line_ends_and_bom(scraped, course, alice):
    edit(scraped, 2, EDITED)
    files = export_files(course)
    readme = files["group-001/README.md"]
    assert readme != COMMITTED
    assert readme.startswith(BOM) and not readme.startswith(BOM * 2)
    assert readme.count(b"\n") == readme.count(b"\r\n")  # every line still ends in CRLF
    assert readme == COMMITTED.replace(MEMBERS, EDITED.encode())  # the rest as committed, trailing spaces too
    entry = json.loads(files["manifest.json"])["groups"]["group-001"]
    assert entry["committed"] is False and entry["readme_blob"] == git_blob_id(readme)

    response = alice.get(reverse("download-zip", args=[scraped.pk]))
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.read("reports/README.md") == readme  # the students' zip: the same bytes


def test_an_edit_undone_hands_out_the_committed_file_again(scraped, course):
    edit(scraped, 2, EDITED)
    edit(scraped, 2, MEMBERS.decode())
    assert export_files(course)["group-001/README.md"] == COMMITTED


def test_the_students_zip_has_the_committed_file(scraped, alice):
    response = alice.get(reverse("download-zip", args=[scraped.pk]))
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.read("reports/README.md") == COMMITTED


def test_an_import_from_a_file_forgets_the_committed_bytes(scraped, course):
    report_import(group=scraped, text=FILLED.decode(), template=course.template, label="import: filled.md")
    report = Report.objects.get(group=scraped)
    assert report.source_bytes is None and report.source_blob == ""
    assert export_files(course)["group-001/README.md"] == FILLED  # the file imported, not the repo's older one


def test_a_report_imported_before_bytes_were_kept_gets_them_at_its_next_scrape(scraped, repo):
    Report.objects.filter(group=scraped).update(source_bytes=None, source_blob="")
    scrape = group_scrape(group=scraped, at_deadline=False)
    assert scrape.unchanged
    report = Report.objects.get(group=scraped)
    assert bytes(report.source_bytes) == COMMITTED and report.source_blob == committed_blob(repo)[0]
