"""The course export for grading: a zip with a folder per group, an index page and grades.csv."""

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from reports_app import exporting, tasks
from reports_app.engine import rendering
from reports_app.engine.readme_file import git_blob_id
from reports_app.models import (
    Course,
    Group,
    Invitation,
    Job,
    Membership,
    Question,
    QuestionPoints,
    RubricItem,
    Scrape,
)
from reports_app.services.answers import answer_save
from reports_app.services.checking import report_check
from reports_app.services.figures import figure_add
from reports_app.services.grading import grade_save
from reports_app.services.reports import report_for_group, report_grading_html, report_import, report_markdown
from tests.conftest import png_bytes, read_fixture
from tests.helpers.csv import assert_all_quoted, assert_nothing_runs
from tests.helpers.grading import grading_header, zip_modes

DEADLINE = datetime(2026, 1, 20, 23, 59, tzinfo=UTC)


def save(report, number: int, text: str):
    question = Question.objects.get(template=report.template, number=number)
    return answer_save(report=report, question=question, text=text, base_version=0, user=None)


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def export_zip(course, workers: int = 1, **kwargs) -> tuple[bytes, exporting.ExportSummary]:
    """The zip, and the summary (in this process unless `workers` says otherwise)."""
    out = io.BytesIO()
    summary = exporting.course_export(course=course, out=out, workers=workers, **kwargs)
    return out.getvalue(), summary


def export(course, workers: int = 1, **kwargs) -> tuple[dict[str, bytes], exporting.ExportSummary]:
    """The zip's files (not its folders) by name, and the summary."""
    data, summary = export_zip(course, workers, **kwargs)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}, summary


def grades(files) -> list[list[str]]:
    text = files["grades.csv"].decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def course_with_reports(course, group1, group2, django_user_model):
    """Group 1: answers, two figures, a late commit, a member with a study number and one invited. Group 2: no report.
    Group 3: a file the checker stops on."""
    report = report_for_group(group1)
    figure_add(report=report, data=png_bytes(color="red"), wanted_name="pipeline.png", user=None)
    figure_add(report=report, data=png_bytes(color="green"), wanted_name="runs.png", user=None)
    save(report, 1, "7")
    save(report, 3, words(60))
    save(report, 4, "too short <script>alert(1)</script>")
    save(report, 6, f"{words(120)}\n\n![runs](figures/runs.png)")
    save(report, 9, f"![pipeline](figures/pipeline.png)\n\n{words(250)}")
    django_user_model.objects.filter(username="alice").update(email="alice@example.org")
    Membership.objects.filter(user__username="alice").update(study_number="s123456")
    Invitation.objects.create(
        group=group1, email="dora@example.org", name="Dora", study_number="s345678", token_hash="d" * 64
    )
    group3 = Group.objects.create(course=course, number=3, name="=1+2")
    Membership.objects.create(
        user=django_user_model.objects.create_user("erik", email="-erik@example.org"), group=group3
    )
    report_import(group=group3, text=read_fixture("missing_answer_line.md"), template=course.template, label="t")
    scrape = Scrape.objects.create(
        group=group1,
        repo_url="https://github.com/acme/one",
        status=Scrape.Status.OK,
        commit_sha="0123456789abcdef0123456789abcdef01234567",
        commit_at=DEADLINE + timedelta(minutes=5),
        fetched_at=DEADLINE + timedelta(days=1),
    )
    Group.objects.filter(pk=group1.pk).update(last_scrape=scrape)
    course.deadline = DEADLINE
    course.save()
    return course


def test_the_zip_has_a_folder_per_group_with_a_report_and_an_index_and_grades(course_with_reports):
    files, _ = export(course_with_reports)
    assert sorted(files) == [
        "grades.csv",
        "group-001/README.md",
        "group-001/figures/pipeline.png",
        "group-001/figures/runs.png",
        "group-001/grading.html",
        "group-001/report.html",
        "group-003/README.md",
        "group-003/grading.html",
        "group-003/report.html",
        "index.html",
        "manifest.json",
    ]


def test_each_groups_files_are_what_the_site_gives_byte_for_byte(course_with_reports, group1):
    files, _ = export(course_with_reports)
    report = group1.report
    readme = report_markdown(report)

    assert files["group-001/README.md"].decode("utf-8") == readme
    assert files["group-001/report.html"].decode("utf-8") == rendering.standard_html(readme)
    assert "<script>alert(1)</script>" in files["group-001/report.html"].decode()  # as the course renders it
    assert files["group-001/grading.html"].decode("utf-8") == report_grading_html(report)
    assert "<script>" not in files["group-001/grading.html"].decode()
    assert files["group-001/figures/pipeline.png"] == png_bytes(color="red")
    assert files["group-001/figures/runs.png"] == png_bytes(color="green")


def test_worker_processes_render_the_same_files(course_with_reports):
    alone, summary = export(course_with_reports)
    pooled, pooled_summary = export(course_with_reports, workers=2)
    assert pooled.keys() == alone.keys()
    assert {name: data for name, data in pooled.items() if name != "index.html"} == {
        name: data for name, data in alone.items() if name != "index.html"
    }
    assert pooled_summary == summary


def test_an_imported_file_comes_out_as_it_went_in(course_with_reports):
    files, _ = export(course_with_reports)
    assert files["group-003/README.md"].decode("utf-8") == read_fixture("missing_answer_line.md")


def test_grades_csv_has_a_verdict_per_question_and_neutralises_formulas(course_with_reports, group1):
    files, _ = export(course_with_reports)
    header, one, two, three = grades(files)
    assert report_check(group1.report).passed == 6

    assert header == [
        "group", "name", "members", "study numbers", "passed", "questions", *(f"Q{n}" for n in range(1, 11)),
        "commit", "commit time (Europe/Copenhagen)", "late", "first seen after deadline", "members without commits",
        "total points", "max points", "readme_blob", "notes",
    ]  # fmt: skip
    assert one == [
        "1", "One", "alice@example.org; bob", "s123456; ", "6", "10",
        "P", "M", "P", "W", "M", "P", "M", "M", "P", "M",
        "0123456789abcdef0123456789abcdef01234567", "2026-01-21 01:04", "yes", "no", "", "", "0",
        git_blob_id(files["group-001/README.md"]), "",
    ]  # fmt: skip
    assert two == ["2", "Two", "charlie", "", "0", "10", *["M"] * 10, "", "", "no", "no", "", "", "0", "", ""]
    assert three[:6] == ["3", "'=1+2", "'-erik@example.org", "", "0", "10"]
    assert three[6:16] == ["S"] * 10  # the course checker stops on this file


def test_index_links_every_report_and_lists_groups_without_one(course_with_reports):
    files, _ = export(course_with_reports)
    index = files["index.html"].decode("utf-8")

    for folder in ("group-001", "group-003"):  # grading.html first; report.html says what opening it may do
        assert (
            f'<a href="{folder}/grading.html">grading.html</a> · <a href="{folder}/report.html" '
            "title=\"the course's raw HTML: may run the group's scripts if opened from disk\">report.html</a>"
            f' · <a href="{folder}/README.md">README.md</a>'
        ) in index
    assert "the course's raw HTML, exactly as the course renders\nit: it may run the group's scripts" in index
    assert "group-002" not in index
    group2 = index[index.index('<tr id="group-2">') : index.index('<tr id="group-3">')]
    assert '<span class="muted">none</span>' in group2 and "no report" in group2
    group1 = index[index.index('<tr id="group-1">') : index.index('<tr id="group-2">')]
    assert '<td class="num">6/10</td>' in group1
    assert "alice@example.org (s123456), bob" in group1
    assert '<code title="0123456789abcdef0123456789abcdef01234567">0123456789</code>' in group1
    assert '<span class="late">late</span>' in group1
    assert '<th scope="row"><a href="group-003/grading.html">3 · =1+2</a></th>' in index
    assert '<th scope="row">2 · Two</th>' in index  # no report: no link
    assert "course checker stops" in index


def test_index_escapes_what_groups_typed(course_with_reports, group2):
    Group.objects.filter(pk=group2.pk).update(name='<img src=x onerror="alert(1)">')
    files, _ = export(course_with_reports)
    index = files["index.html"].decode("utf-8")
    assert "<img" not in index
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in index


def test_progress_after_each_group_and_a_summary(course_with_reports):
    calls = []
    _, summary = export(course_with_reports, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert (summary.groups, summary.reports, summary.figures, summary.no_report, summary.late, summary.stops) == (
        3, 2, 2, 1, 1, 1,
    )  # fmt: skip
    assert str(summary) == (
        "3 groups, 2 reports with 2 figures; 1 with nothing written, 1 late, 1 that the course checker stops on"
    )


def test_groups_are_read_a_chunk_at_a_time(course_with_reports, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(exporting, "CHUNK_GROUPS", 2)
    # the group ids; then per chunk of 2 groups: the overview's 6 queries, the chunk's figures, invitations and READMEs
    # as committed; then once for grades.csv's points: the graded questions, max points, grades (none here: no query
    # for their items)
    with django_assert_num_queries(1 + 2 * 9 + 3):
        export(course_with_reports)


class WriteOnly(io.RawIOBase):
    """A stream that cannot seek or tell, like a pipe or an HTTP response."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)


def test_the_zip_streams_into_a_stream_that_cannot_seek(course_with_reports):
    out = WriteOnly()
    exporting.course_export(course=course_with_reports, out=out, workers=1)
    with zipfile.ZipFile(io.BytesIO(b"".join(out.chunks))) as archive:
        assert archive.testzip() is None
        assert "group-001/report.html" in archive.namelist()


def test_a_figure_missing_from_storage_is_named_and_the_rest_exported(course_with_reports, group1):
    figure = group1.report.figures.get(name="runs.png")
    figure.file.storage.delete(figure.file.name)
    files, summary = export(course_with_reports)

    assert "group-001/figures/runs.png" not in files
    assert files["group-001/figures/pipeline.png"] == png_bytes(color="red")
    assert "group-001/report.html" in files and "index.html" in files
    (problem,) = summary.problems
    assert problem.startswith("group 1: figure runs.png could not be read ([Errno 2] No such file or directory")
    assert str(summary).endswith(f"\nnot exported: {problem}")


def test_a_course_without_groups_gives_an_index_that_says_so(course):
    files, summary = export(course)
    assert sorted(files) == ["grades.csv", "index.html", "manifest.json"]
    assert "This course has no groups." in files["index.html"].decode()
    assert str(summary) == "0 groups, 0 reports with 0 figures"


def test_grades_csv_quotes_every_cell_so_no_locale_runs_one(course_with_reports, group2):
    Group.objects.filter(pk=group2.pk).update(name="Otters;=1+1;")
    files, _ = export(course_with_reports)
    text = files["grades.csv"].decode("utf-8")

    _, _, two, three = assert_all_quoted(text)
    assert two[:2] == ["2", "Otters;=1+1;"]
    assert three[:3] == ["3", "'=1+2", "'-erik@example.org"]
    assert_nothing_runs(text)


@pytest.mark.parametrize("code", ["../../escaped", "../x", "a/b", "/tmp/abs", ".."])
def test_an_export_job_writes_inside_the_exports_folder_whatever_the_course_code(
    code, demo_template, instructor, settings, tmp_path
):
    course = Course.objects.create(code=code, template=demo_template)  # an old row, from before codes were checked
    Group.objects.create(course=course, number=1)
    job = Job.objects.create(kind=Job.Kind.EXPORT, course=course, created_by=instructor)

    tasks.job_run(job.pk)

    job.refresh_from_db()
    exports = (settings.MEDIA_ROOT / "exports").resolve()
    assert job.status == "done", job.message
    assert (settings.MEDIA_ROOT / job.file.name).resolve().parent == exports
    assert [path.parent for path in tmp_path.rglob("*.zip")] == [exports]
    assert "/" not in job.file.name.removeprefix("exports/") and ".." not in job.file.name


# --- a group whose HTML cannot be made ------------------------------------------------------------------------------

NESTED = "1. " * 500 + "deep"  # Python-Markdown recurses once a level: RecursionError past the stack


def group_files(files: dict[str, bytes], folder: str) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name.startswith(f"{folder}/")}


def save_late(group, number: int, text: str) -> None:
    """Save an answer after the course's deadline (it passed in course_with_reports), as before it."""
    course = group.course
    deadline, course.deadline = course.deadline, None
    course.save()
    save(group.report, number, text)
    course.deadline = deadline
    course.save()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_group_whose_html_cannot_be_made_gets_its_readme_figures_and_why(course_with_reports, group1, workers):
    save_late(group1, 2, NESTED)
    readme = report_markdown(group1.report)

    files, summary = export(course_with_reports, workers=workers)

    assert sorted(group_files(files, "group-001")) == [
        "group-001/CANNOT-RENDER.txt",
        "group-001/README.md",
        "group-001/figures/pipeline.png",
        "group-001/figures/runs.png",
    ]
    assert files["group-001/README.md"].decode() == readme
    assert files["group-001/figures/runs.png"] == png_bytes(color="green")
    assert files["group-001/CANNOT-RENDER.txt"].decode() == (
        "The hand-in HTML of group 1 could not be made: nested 500 levels deep.\n"
        "So this folder has no report.html and no grading.html; README.md is the report as it stands, and figures/ "
        "its figures.\n"
    )
    index = files["index.html"].decode()
    row = index[index.index('<tr id="group-1">') : index.index('<tr id="group-2">')]
    assert '<a href="group-001/CANNOT-RENDER.txt">CANNOT-RENDER.txt</a>' in row
    assert "(no HTML: it cannot be rendered, nested 500 levels deep)" in row
    assert "group-001/report.html" not in index and "group-001/grading.html" not in index
    _, one, two, three = grades(files)
    assert (one[0], one[-1], two[-1], three[-1]) == ("1", "cannot render: nested 500 levels deep", "", "")
    assert summary.unrendered == ("group 1: nested 500 levels deep",)
    assert str(summary) == (
        "3 groups, 2 reports with 2 figures; 1 with nothing written, 1 late, 1 that the course checker stops on, "
        "1 without HTML (CANNOT-RENDER.txt)\ncannot render group 1: nested 500 levels deep"
    )

    group1.delete()  # the course without it: every other group's files are the same, byte for byte
    without, _ = export(course_with_reports, workers=workers)
    rest = {name: data for name, data in files.items() if name.startswith("group-") and "group-001/" not in name}
    assert rest == {name: data for name, data in without.items() if name.startswith("group-")}


@pytest.mark.timeout(120)
def test_a_render_past_the_budget_costs_only_that_group(course_with_reports, group1, budget_of):
    budget_of(3)  # far more than an ordinary report's render needs (~40 ms), also on a machine under load
    save_late(group1, 2, "[" * 30000)  # Python-Markdown takes minutes over it

    files, summary = export(course_with_reports, workers=2)

    assert summary.unrendered == ("group 1: the renderer took longer than 3 s",)
    assert "group-001/CANNOT-RENDER.txt" in files and "group-001/report.html" not in files
    assert "group-003/report.html" in files


def test_one_pass_count_on_the_report_page_the_dashboard_and_grades_csv(course_with_reports, instructor):
    """A report the course checker stops on passes nothing anywhere; its question-by-question count is guidance only."""
    from django.urls import reverse
    from django.utils.html import escape

    from tests.conftest import client_for

    staff = client_for("instructor")
    stops = Group.objects.get(course=course_with_reports, number=3).report
    assert report_check(stops).course_error and report_check(stops).passed == 7  # by its headings

    files, _ = export(course_with_reports)
    in_grades = {int(line[0]): int(line[4]) for line in grades(files)[1:]}
    dashboard = staff.get(reverse("dashboard", args=[course_with_reports.pk]))
    on_dashboard = {row.group.number: row.passed for row in dashboard.context["rows"]}
    on_report_pages = {}
    for number in (1, 3):
        group = Group.objects.get(course=course_with_reports, number=number)
        html = staff.get(reverse("report", args=[group.pk])).content.decode()
        result = report_check(group.report)
        assert f'<span id="passed">passed {result.course_passed}/10</span>' in html
        assert f'<code id="course-message">{escape(result.course_message)}</code>' in html
        on_report_pages[number] = result.course_passed

    assert in_grades == on_dashboard == {1: 6, 2: 0, 3: 0}
    assert on_report_pages == {1: 6, 3: 0}
    assert report_check(stops).course_message.startswith("ValueError: Number of answers are different")


# --- context for graders: the grading header, the index's grid, study numbers, local times, modes ----------------


def test_each_grading_html_starts_with_its_group_members_commit_and_verdicts(course_with_reports, group1):
    files, _ = export(course_with_reports)
    header = grading_header(files["group-001/grading.html"].decode())

    assert header.title == "Group 1 · One · C1 · Course one"
    assert header.people == [
        "alice@example.org · s123456",
        "bob · no study number",
        "Dora <dora@example.org> · s345678 · invited, has not joined",
    ]
    assert header.commit == (
        "0123456789abcdef0123456789abcdef01234567 committed 2026-01-21 01:04 CET "
        "late: after the deadline, 2026-01-21 00:59 CET"
    )
    assert header.checker == "passed 6/10 · answered 5/10"  # the checker passes some questions not answered
    assert [text for _, _, text in header.chips] == [
        "Q1 P", "Q2 M", "Q3 P", "Q4 W", "Q5 M", "Q6 P", "Q7 M", "Q8 M", "Q9 P", "Q10 M",
    ]  # fmt: skip
    kind, title, _ = header.chips[3]
    assert kind == "verdict-words"
    assert title == "Question 4 failed check. Expected number of words to be between 100 and 200 but got 3"
    assert header.legend == "P passes · M not answered · W wrong number of words"


def test_the_grading_header_of_a_report_the_checker_stops_on_says_why(course_with_reports):
    files, _ = export(course_with_reports)
    header = grading_header(files["group-003/grading.html"].decode())

    assert header.title == "Group 3 · =1+2 · C1 · Course one"
    assert header.people == ["-erik@example.org · no study number"]
    assert header.commit == "never scraped: the report as written on this site (deadline 2026-01-21 00:59 CET)"
    assert header.checker.startswith("passed 0/10 · answered ")
    assert "It stops on this file: ValueError: Number of answers are different" in header.checker
    assert {text[-1] for _, _, text in header.chips} == {"S"}


def test_index_has_a_coloured_grid_of_verdicts_and_links_grades_csv(course_with_reports):
    files, _ = export(course_with_reports)
    index = files["index.html"].decode()

    assert '<a href="grades.csv" id="grades">grades.csv</a>' in index
    assert '<th scope="col" class="q">Q1</th><th scope="col" class="q">Q2</th>' in index
    legend = index[index.index('<p class="legend" id="legend">') :]
    assert legend.startswith(
        '<p class="legend" id="legend">Questions, as the course checker sees each README now: '
        '<span class="verdict-pass">P</span> passes · <span class="verdict-words">W</span> wrong number of words'
    )
    rows = {n: index[index.index(f'<tr id="group-{n}">') :].split("</tr>")[0] for n in (1, 2, 3)}
    cells = {
        n: re.findall(r'<td class="v verdict-(\w+)" title="Q(\d+): ([^"]*)">(\w)</td>', row) for n, row in rows.items()
    }
    assert [(kind, letter) for kind, _, _, letter in cells[1]] == [
        ("pass", "P"), ("missing", "M"), ("pass", "P"), ("words", "W"), ("missing", "M"),
        ("pass", "P"), ("missing", "M"), ("missing", "M"), ("pass", "P"), ("missing", "M"),
    ]  # fmt: skip
    assert [number for _, number, _, _ in cells[1]] == [str(n) for n in range(1, 11)]
    assert cells[1][3][2] == "Question 4 failed check. Expected number of words to be between 100 and 200 but got 3"
    assert {(kind, detail, letter) for kind, _, detail, letter in cells[2]} == {("missing", "No report yet", "M")}
    assert {(kind, letter) for kind, _, _, letter in cells[3]} == {("stops", "S")}
    assert '<a href="group-001/grading.html">grading.html</a>' in rows[1]
    assert '<a href="group-003/grading.html">grading.html</a>' in rows[3]


def test_grades_csv_lists_study_numbers_in_the_order_of_the_members(course_with_reports, group1, django_user_model):
    carol = django_user_model.objects.create_user("carol", email="carol@example.org")
    Membership.objects.create(user=carol, group=group1, study_number="s777777")
    files, _ = export(course_with_reports)
    header, one, two, _ = grades(files)

    members, numbers = header.index("members"), header.index("study numbers")
    assert one[members] == "alice@example.org; bob; carol@example.org"
    assert one[numbers] == "s123456; ; s777777"  # bob has none: his place stays
    assert two[numbers] == ""  # nobody in group 2 has one


def test_grades_csv_has_points_per_graded_question_and_totals(course_with_reports, group1, instructor):
    for number, top in ((3, "4"), (9, "6")):
        QuestionPoints.objects.create(course=course_with_reports, number=number, max_points=Decimal(top))
    item = RubricItem.objects.create(course=course_with_reports, number=9, text="Clear figure", points=Decimal("5"))
    grade_save(group=group1, number=9, items=[item], adjustment="-0.5", comment="", base_version=0, user=instructor)
    files, _ = export(course_with_reports)
    header, one, two, three = grades(files)

    points = header.index("Q3 points")
    assert header[points:] == ["Q3 points", "Q9 points", "total points", "max points", "readme_blob", "notes"]
    assert one[points:] == ["", "4.50", "4.50", "10.00", git_blob_id(files["group-001/README.md"]), ""]
    assert two[points:] == ["", "", "", "10.00", "", ""]  # not graded: empty, not 0; no report, no README
    assert three[points:] == ["", "", "", "10.00", git_blob_id(files["group-003/README.md"]), ""]


def test_every_entry_extracts_as_0644_and_every_folder_as_0755(course_with_reports):
    data, _ = export_zip(course_with_reports)
    modes = zip_modes(data)

    assert {name: mode for name, mode in modes.items() if name.endswith("/")} == {
        "group-001/": "drwxr-xr-x",
        "group-001/figures/": "drwxr-xr-x",
        "group-003/": "drwxr-xr-x",
    }
    files = {mode for name, mode in modes.items() if not name.endswith("/")}
    assert files == {"-rw-r--r--"}
    assert len(modes) == 3 + 11


def test_times_in_the_export_are_in_the_sites_time_zone(course_with_reports, settings, instructor):
    from django.urls import reverse

    from tests.conftest import client_for

    settings.TIME_ZONE = "America/New_York"  # commit at 2026-01-21 00:04 UTC: 2026-01-20 19:04 EST
    job = Job.objects.create(kind=Job.Kind.EXPORT, course=course_with_reports, created_by=instructor)
    tasks.job_run(job.pk)
    job.refresh_from_db()
    download = client_for("instructor").get(reverse("download-job", args=[job.pk]))
    data = b"".join(download.streaming_content)

    local = job.finished_at.astimezone(ZoneInfo("America/New_York"))
    assert download["Content-Disposition"] == f'attachment; filename="C1-reports-{local:%Y%m%d-%H%M}.zip"'
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        dates = {info.date_time for info in archive.infolist()}
        index = archive.read("index.html").decode()
        grading = archive.read("group-001/grading.html").decode()
        sheet = list(csv.reader(io.StringIO(archive.read("grades.csv").decode("utf-8-sig"))))
    (when,) = dates
    assert abs(datetime(*when, tzinfo=ZoneInfo("America/New_York")) - job.finished_at) < timedelta(minutes=10)
    assert "every time here is in America/New_York" in index
    assert '<code title="0123456789abcdef0123456789abcdef01234567">0123456789</code> 2026-01-20 19:04' in index
    assert "committed 2026-01-20 19:04 EST late: after the deadline, 2026-01-20 18:59 EST" in (
        grading_header(grading).commit
    )
    column = sheet[0].index("commit time (America/New_York)")
    assert sheet[1][column] == "2026-01-20 19:04"
