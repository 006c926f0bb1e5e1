"""Scraping group repos into the site: group_scrape, course_scrape and `manage.py scrape_reports`,
against real git repos made in the test."""

import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from reports_app import scraping
from reports_app.engine import parsing, rendering
from reports_app.models import Answer, AnswerRevision, Figure, FigureVersion, Group, Report, Scrape
from reports_app.selectors.report_page import report_page
from reports_app.services.answers import answer_save
from reports_app.services.scrapes import course_scrape, group_scrape
from tests.conftest import jpeg_bytes, png_bytes, read_fixture
from tests.helpers.repos import (
    BOOM,
    FILLED,
    JAN_10,
    JAN_20,
    MEMBERS,
    Symlink,
    empty_repo,
    make_repo,
    noise,
    sha_of,
    with_answer,
)

NOT_AN_IMAGE = (
    "Only PNG and JPEG images can be uploaded, and this file is neither (we check its content, not its name)."
)
DRAFT = FILLED.replace(MEMBERS, b"s123456, s234567")


@pytest.fixture(autouse=True)
def _file_urls(settings, tmp_path):
    """file:// URLs of this test's folder are allowed here, and only here."""
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]


def with_repo(group: Group, url: str) -> Group:
    group.repo_url = url
    group.save(update_fields=["repo_url"])
    return group


def revisions(group: Group, number: int) -> list[tuple[int, str, str]]:
    """(version, source, text) of a question's saved versions, oldest first."""
    return list(
        AnswerRevision.objects.filter(answer__report__group=group, answer__question__number=number, kind="saved")
        .order_by("version")
        .values_list("version", "source", "text")
    )


def stored_files() -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


@pytest.fixture
def repo(tmp_path):
    """The filled report and a figure on Jan 20, after a draft on Jan 10."""
    return make_repo(
        tmp_path,
        "repo",
        [
            (JAN_10, {"reports/README.md": DRAFT}),
            (JAN_20, {"reports/README.md": FILLED, "reports/figures/runs.png": png_bytes(), "src/a.py": b"1\n"}),
        ],
    )


# --- group_scrape ---------------------------------------------------------------------------------------------------


def test_scrape_imports_the_report_and_figures_of_the_head(group1, repo):
    scrape = group_scrape(group=with_repo(group1, repo), at_deadline=False)

    sha = sha_of(repo)
    assert (scrape.status, scrape.message, scrape.commit_sha, scrape.unchanged) == ("ok", "", sha, False)
    assert scrape.commit_at == datetime(2025, 1, 20, 12, tzinfo=UTC)
    assert scrape.changed == list(range(1, 11))
    assert (scrape.problems, scrape.skipped) == ([], [])
    group1.refresh_from_db()
    assert group1.last_scrape == scrape
    report = group1.report
    assert report.source == FILLED.decode()
    assert report.source_label == f"repo@{sha}"
    assert revisions(group1, 3) == [(1, f"repo@{sha}", report.answers.get(question__number=3).text)]
    figure = Figure.objects.get(report=report)
    assert (figure.name, figure.content_type, figure.width, figure.height) == ("runs.png", "image/png", 4, 3)
    assert figure.file.read() == png_bytes()


def test_scrape_at_the_deadline_reads_the_commit_before_it_and_an_extension_moves_it(course, group1, group2, repo):
    course.deadline = datetime(2025, 1, 15, tzinfo=UTC)
    course.save()
    group2.extension = datetime(2025, 1, 25, tzinfo=UTC)
    group2.save()

    first = group_scrape(group=with_repo(group1, repo), at_deadline=True)
    extended = group_scrape(group=with_repo(group2, repo), at_deadline=True)

    assert (first.commit_sha, first.at_deadline, first.is_late) == (sha_of(repo, "HEAD~1"), True, False)
    assert group1.report.source == DRAFT.decode()
    assert extended.commit_sha == sha_of(repo)
    assert group2.report.source == FILLED.decode()


def test_head_scrape_after_the_deadline_is_late(course, group1, repo):
    course.deadline = datetime(2025, 1, 15, tzinfo=UTC)
    course.save()

    scrape = group_scrape(group=with_repo(group1, repo), at_deadline=False)

    assert scrape.is_late


def test_a_repo_without_reports_is_no_report(group1, tmp_path):
    url = make_repo(tmp_path, "bare", [(JAN_10, {"src/main.py": b"print(1)\n"})])

    scrape = group_scrape(group=with_repo(group1, url), at_deadline=False)

    assert (scrape.status, scrape.message) == ("no_report", "the commit has no reports/README.md")
    assert scrape.commit_sha == sha_of(url)
    assert not Report.objects.filter(group=group1).exists()


def test_a_report_that_is_not_utf8_is_no_report(group1, tmp_path):
    url = make_repo(tmp_path, "latin", [(JAN_10, {"reports/README.md": "Grüße\n".encode("latin-1")})])

    scrape = group_scrape(group=with_repo(group1, url), at_deadline=False)

    assert scrape.status == "no_report"
    assert scrape.message == (
        "reports/README.md was not read: the report is not UTF-8 text (byte 0xfc on line 1); save it as UTF-8"
    )


def test_an_empty_repo_is_empty(group1, tmp_path):
    scrape = group_scrape(group=with_repo(group1, empty_repo(tmp_path)), at_deadline=False)

    assert (scrape.status, scrape.message, scrape.commit_sha) == ("empty", "the repo has no commits", "")
    group1.refresh_from_db()
    assert group1.last_scrape == scrape


def test_a_missing_repo_is_unreachable(group1, tmp_path):
    scrape = group_scrape(group=with_repo(group1, f"file://{tmp_path}/gone.git"), at_deadline=False)

    assert (scrape.status, scrape.message) == ("unreachable", "there is no git repo at that URL")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://github.com/acme/mlops", "the repo URL must start with file://{tmp}/"),
        ("file://someone:secret@localhost{tmp}/repo.git", "the repo URL must not contain a user name or password"),
        ("", "the group has no repo URL"),
    ],
)
def test_urls_off_the_policy_are_refused_and_git_never_runs(group1, tmp_path, monkeypatch, url, message):
    def refuse(*args, **kwargs):
        raise AssertionError("git was started")

    monkeypatch.setattr(scraping.subprocess, "Popen", refuse)

    scrape = group_scrape(group=with_repo(group1, url.format(tmp=tmp_path)), at_deadline=False)

    assert (scrape.status, scrape.message) == ("refused", message.format(tmp=tmp_path))
    assert Scrape.objects.get() == scrape


def test_files_we_do_not_take_are_listed_and_nothing_else_is_stored(group1, tmp_path, settings):
    settings.FIGURE_MAX_BYTES = 100_000
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes(color="green"))
    url = make_repo(
        tmp_path,
        "odd",
        [
            (
                JAN_10,
                {
                    "reports/README.md": FILLED,
                    "reports/figures/runs.png": png_bytes(),
                    "reports/figures/fake.png": b"this is text, not an image\n",
                    "reports/figures/huge.png": noise(150_000),
                    "reports/figures/link.png": Symlink(str(secret)),
                    "reports/figures/old/runs.png": png_bytes(color="blue"),
                },
            )
        ],
    )

    scrape = group_scrape(group=with_repo(group1, url), at_deadline=False)

    assert scrape.status == "ok"
    assert scrape.skipped == [
        ["reports/figures/link.png", "a symbolic link; only regular files are read"],
        ["reports/figures/old", "a folder; only files directly in reports/figures/ are read"],
        ["reports/figures/huge.png", "146 kB; a figure may be at most 98 kB"],
        ["reports/figures/fake.png", NOT_AN_IMAGE],
    ]
    assert list(Figure.objects.values_list("name", flat=True)) == ["runs.png"]
    assert [p.read_bytes() for p in stored_files()] == [png_bytes()]


def test_parse_problems_are_listed_and_the_report_imported(group1, tmp_path):
    url = make_repo(tmp_path, "dup", [(JAN_10, {"reports/README.md": read_fixture("duplicate_question.md").encode()})])

    scrape = group_scrape(group=with_repo(group1, url), at_deadline=False)

    assert scrape.status == "problems"
    assert scrape.message == "the report deviates from its template in 1 place"
    assert scrape.problems == [[146, "Question 7 appears twice (first on line 136); the second copy is not an answer"]]
    assert group1.report.problems == scrape.problems
    assert group1.report.answers.count() == 10


def test_scraping_the_same_commit_again_creates_nothing_new(group1, tmp_path):
    url = make_repo(
        tmp_path,
        "again",
        [
            (
                JAN_10,
                {"reports/README.md": FILLED, "reports/figures/runs.png": png_bytes(), "reports/figures/x.png": b"x"},
            )
        ],
    )
    first = group_scrape(group=with_repo(group1, url), at_deadline=False)
    counts = (AnswerRevision.objects.count(), Figure.objects.count(), stored_files())

    again = group_scrape(group=group1, at_deadline=False)

    assert (AnswerRevision.objects.count(), Figure.objects.count(), stored_files()) == counts
    assert (again.status, again.unchanged, again.changed, again.commit_sha) == ("ok", True, [], first.commit_sha)
    assert again.skipped == first.skipped == [["reports/figures/x.png", NOT_AN_IMAGE]]
    group1.refresh_from_db()
    assert group1.last_scrape == again
    assert Scrape.objects.filter(group=group1).count() == 2


def test_a_web_edit_stays_in_history_after_a_scrape(group1, tmp_path, django_user_model):
    first_url = make_repo(tmp_path, "v1", [(JAN_10, {"reports/README.md": FILLED})])
    group_scrape(group=with_repo(group1, first_url), at_deadline=False)
    report, alice = group1.report, django_user_model.objects.get(username="alice")
    question = report.template.questions.get(number=2)
    answer_save(report=report, question=question, text="Edited on the web.", base_version=1, user=alice)
    newer = FILLED.replace(MEMBERS, MEMBERS + b", s456789")
    url = make_repo(tmp_path, "v2", [(JAN_10, {"reports/README.md": FILLED}), (JAN_20, {"reports/README.md": newer})])

    scrape = group_scrape(group=with_repo(group1, url), at_deadline=False)

    history = revisions(group1, 2)
    assert [(v, source) for v, source, _ in history] == [
        (1, f"repo@{sha_of(first_url)}"),
        (2, "web"),
        (3, f"repo@{scrape.commit_sha}"),
    ]
    assert history[1][2] == "Edited on the web."
    assert 2 in scrape.changed


def test_figures_change_with_the_repo_and_those_gone_from_it_are_kept(
    group1, tmp_path, django_capture_on_commit_callbacks
):
    url = make_repo(
        tmp_path,
        "figs",
        [
            (
                JAN_10,
                {
                    "reports/README.md": FILLED,
                    "reports/figures/a.png": png_bytes(),
                    "reports/figures/b.jpg": jpeg_bytes(),
                },
            ),
            (JAN_20, {"reports/figures/a.png": png_bytes(color="green"), "reports/figures/b.jpg": None}),
        ],
    )
    with_repo(group1, url)
    group1.extension = datetime(2025, 1, 15, tzinfo=UTC)
    group1.save()
    group_scrape(group=group1, at_deadline=True)
    old_a = Figure.objects.get(name="a.png")
    old_file = Path(old_a.file.path)

    with django_capture_on_commit_callbacks(execute=True):
        scrape = group_scrape(group=group1, at_deadline=False)

    assert scrape.status == "ok"
    a, b = Figure.objects.order_by("name")
    assert (a.pk, a.file.read(), a.sha256 != old_a.sha256) == (old_a.pk, png_bytes(color="green"), True)
    assert (b.name, b.file.read()) == ("b.jpg", jpeg_bytes())
    assert old_file.read_bytes() == png_bytes()  # the replaced file stays, in the figure's history
    assert [(v.name, v.number, v.file.path) for v in FigureVersion.objects.all()] == [("a.png", 1, str(old_file))]
    assert len(stored_files()) == 3


def test_a_scrape_stores_figures_after_the_deadline(course, group1, repo):
    course.deadline = datetime(2025, 1, 25, tzinfo=UTC)
    course.save()

    scrape = group_scrape(group=with_repo(group1, repo), at_deadline=True)

    assert not group1.is_open()
    assert scrape.status == "ok"
    assert list(Figure.objects.values_list("name", flat=True)) == ["runs.png"]


def test_at_the_deadline_without_any_deadline_is_refused_before_fetching(group1, repo):
    with pytest.raises(ValueError, match=r"^group 1 has no deadline \(neither the course nor the group has one\)$"):
        group_scrape(group=with_repo(group1, repo), at_deadline=True)
    assert not Scrape.objects.exists()


# --- course_scrape --------------------------------------------------------------------------------------------------


def test_course_scrape_records_each_groups_status_in_group_order(course, group1, group2, repo, tmp_path):
    third = Group.objects.create(course=course, number=3, repo_url=f"file://{tmp_path}/missing.git")
    fourth = Group.objects.create(course=course, number=4, repo_url="https://github.com/acme/x")
    with_repo(group2, empty_repo(tmp_path))
    with_repo(group1, repo)
    seen = []

    scrapes = course_scrape(
        groups=Group.objects.select_related("course").order_by("number"),
        at_deadline=False,
        workers=1,  # two fetches at a time wait for their import, the next starts as one is imported
        progress=seen.append,
    )

    assert [(s.group.number, s.status) for s in scrapes] == [
        (1, "ok"),
        (2, "empty"),
        (3, "unreachable"),
        (4, "refused"),
    ]
    assert sorted(seen, key=lambda s: s.group.number) == scrapes
    for group in (group1, group2, third, fourth):
        group.refresh_from_db()
    assert [g.last_scrape for g in (group1, group2, third, fourth)] == scrapes


# --- manage.py scrape_reports ---------------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("scrape_reports", *args, stdout=out)
    return out.getvalue()


def test_command_prints_a_line_per_group_and_a_summary(course, group1, group2, repo, tmp_path, settings):
    settings.TIME_ZONE = "UTC"
    with_repo(group1, repo)
    with_repo(group2, f"file://{tmp_path}/missing.git")
    sha = sha_of(repo)

    first = run("--course", "C1", "--workers", "2")
    again = run("--course", "C1", "--group", "1")

    assert first.splitlines() == [
        f"group 1: ok {sha[:10]} 2025-01-20 12:00 (10 answers changed)",
        "group 2: repo unreachable (there is no git repo at that URL)",
        "Scraped 2 groups: 1 ok, 1 repo unreachable",
    ]
    assert again.splitlines() == [
        f"group 1: ok {sha[:10]} 2025-01-20 12:00 (unchanged)",
        "Scraped 1 group: 1 ok",
    ]


def test_command_at_the_deadline_marks_nothing_late_and_reads_the_older_commit(course, group1, repo, settings):
    settings.TIME_ZONE = "UTC"
    course.deadline = datetime(2025, 1, 15, tzinfo=UTC)
    course.save()
    with_repo(group1, repo)

    output = run("--course", "C1", "--at-deadline")

    assert output.splitlines()[0] == f"group 1: ok {sha_of(repo, 'HEAD~1')[:10]} 2025-01-10 12:00 (10 answers changed)"


def test_command_refuses_unknown_courses_and_groups(group1, group2):
    with pytest.raises(CommandError, match=r"^no course with code 'C9' \(courses: C1\)$"):
        run("--course", "C9")
    with pytest.raises(CommandError, match=r"^course C1 has no group 7 \(its groups: 1, 2\)$"):
        run("--course", "C1", "--group", "1", "7")
    with pytest.raises(CommandError, match=r"^Error: argument --workers: '0' is not a number of workers \(1 to 256\)$"):
        run("--course", "C1", "--workers", "0")
    assert not Scrape.objects.exists()


def test_command_leaves_out_groups_without_a_repo_url_unless_named(course, group1, group2, repo):
    with_repo(group2, repo)

    everyone = run("--course", "C1")
    named = run("--course", "C1", "--group", "1")

    assert [line.split(":")[0] for line in everyone.splitlines()] == ["group 2", "Scraped 1 group"]
    assert named.splitlines() == [
        "group 1: refused by policy (the group has no repo URL)",
        "Scraped 1 group: 1 refused by policy",
    ]


def test_command_at_the_deadline_without_one_says_so(group1, repo):
    with_repo(group1, repo)
    with pytest.raises(CommandError, match=r"^group 1 has no deadline \(neither the course nor the group has one\)$"):
        run("--course", "C1", "--at-deadline")


# --- admin ----------------------------------------------------------------------------------------------------------

GROUPS = "admin:reports_app_group_changelist"
SCRAPES = "admin:reports_app_scrape_changelist"


@pytest.fixture
def viewer(instructor, staff):
    """The instructor with the permissions to look at groups and scrapes (but not superuser)."""
    instructor.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="reports_app", codename__in=["view_group", "view_scrape"])
    )
    return staff


def add_groups(course, count: int) -> None:
    """Groups with a recorded scrape each (no git needed to list them)."""
    start = Group.objects.count() + 1
    for number in range(start, start + count):
        group = Group.objects.create(course=course, number=number, repo_url=f"https://github.com/acme/g{number}")
        group.last_scrape = Scrape.objects.create(
            group=group, repo_url=group.repo_url, status="unreachable", message="x", fetched_at=timezone.now()
        )
        group.save()


def test_admin_lists_are_for_staff_only(client, alice, course):
    for url in (reverse(GROUPS), reverse(SCRAPES)):
        for visitor in (client, alice):
            response = visitor.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login") + "?next=")


def test_group_admin_shows_the_last_scrape_and_scrapes_are_read_only(viewer, course, group1):
    add_groups(course, 1)

    response = viewer.get(reverse(GROUPS))

    assertContains(response, '<td class="field-last_scrape_status">repo unreachable</td>', html=True)
    assertContains(response, '<td class="field-last_scrape_status">-</td>', html=True)
    scrape = Scrape.objects.get()
    assert viewer.get(reverse("admin:reports_app_scrape_add")).status_code == 403
    assert viewer.post(reverse("admin:reports_app_scrape_delete", args=[scrape.pk])).status_code == 403
    assertNotContains(viewer.get(reverse("admin:reports_app_scrape_change", args=[scrape.pk])), 'name="_save"')


@pytest.mark.parametrize(("url", "plural"), [(GROUPS, "groups"), (SCRAPES, "scrapes")])
def test_admin_lists_take_the_same_queries_for_few_and_many_rows(
    viewer, course, url, plural, django_assert_num_queries
):
    add_groups(course, 2)
    # session, user, 2 x permissions, the courses of the course filter, 2 counts (filtered and total), and the rows
    # with their course and last scrape joined
    with django_assert_num_queries(8):
        viewer.get(reverse(url))
    add_groups(course, 20)
    with django_assert_num_queries(8):
        response = viewer.get(reverse(url))
    assertContains(response, f"22 {plural}")


# --- one group's trouble stays its own -----------------------------------------------------------------------------

NESTED = "1. " * 500 + "deep"  # Python-Markdown recurses once a level: RecursionError past the stack
BRACKETS = "[" * 30000  # Python-Markdown takes minutes over it


def scrape_all(**kwargs) -> list[Scrape]:
    groups = Group.objects.select_related("course").order_by("number")
    return course_scrape(groups=groups, at_deadline=False, workers=2, **kwargs)


def test_a_scrape_renders_nothing_and_an_answer_that_cannot_be_rendered_is_shown_as_typed_by_its_page(
    group1, group2, tmp_path
):
    with_repo(group1, make_repo(tmp_path, "nested", [(JAN_10, {"reports/README.md": with_answer(NESTED)})]))
    with_repo(group2, make_repo(tmp_path, "fine", [(JAN_10, {"reports/README.md": FILLED})]))

    output = run("--course", "C1")

    first, second = (group.last_scrape for group in Group.objects.order_by("number"))
    assert (first.status, first.message, second.status, second.message) == ("ok", "", "ok", "")
    assert output.splitlines() == [
        f"group 1: ok {first.commit_sha[:10]} 2025-01-10 13:00 (10 answers changed)",
        f"group 2: ok {second.commit_sha[:10]} 2025-01-10 13:00 (10 answers changed)",
        "Scraped 2 groups: 2 ok",
    ]
    assert set(Answer.objects.values_list("html", flat=True)) == {None}  # rendered by the first page to show them

    rows = {row.question.number: row for row in report_page(group1.report).rows}
    why = "nested 500 levels deep"
    assert rows[2].answer.text == NESTED
    assert rows[2].answer.html == rendering.unrendered_html(NESTED, why, what="Question 2")
    assert group1.report.answers.get(question__number=2).html == rows[2].answer.html  # stored: rendered once
    fine = group2.report.answers.get(question__number=2)
    assert fine.html is None
    assert report_page(group2.report).rows[1].answer.html == rendering.answer_html(fine.text, figure_url=lambda n: n)


def test_anything_that_fails_in_one_groups_import_is_its_status_and_nothing_of_it_is_kept(
    group1, group2, tmp_path, parser_breaks_on_boom
):
    with_repo(group1, make_repo(tmp_path, "boom", [(JAN_10, {"reports/README.md": with_answer(BOOM)})]))
    with_repo(group2, make_repo(tmp_path, "fine", [(JAN_10, {"reports/README.md": FILLED})]))

    first, second = scrape_all()
    again = scrape_all()

    message = "the report could not be imported: ValueError: the parser gave up"
    assert (first.status, first.get_status_display(), first.message) == ("failed", "cannot import", message)
    assert first.commit_sha == sha_of(group1.repo_url)
    assert not Report.objects.filter(group=group1).exists()  # the group's transaction was rolled back
    assert (second.status, len(second.changed)) == ("ok", 10)
    assert [(s.status, s.message, s.unchanged) for s in again] == [("failed", message, False), ("ok", "", True)]
    group1.refresh_from_db()
    assert group1.last_scrape == again[0]
    assert run("--course", "C1", "--group", "1").splitlines() == [
        f"group 1: cannot import {first.commit_sha[:10]} 2025-01-10 13:00 ({message})",
        "Scraped 1 group: 1 cannot import",
    ]


@pytest.fixture
def parser_slow_on_boom(monkeypatch):
    """The report parser works for 2 s on one text (busy, as on input built to make it backtrack)."""
    parse = parsing.parse_report

    def slow(text, *args, **kwargs):
        if BOOM in text:
            until = time.monotonic() + 2
            while time.monotonic() < until:
                pass
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(parsing, "parse_report", slow)


@pytest.mark.timeout(120)
def test_an_import_past_the_group_budget_is_rolled_back_as_too_long(
    group1, group2, tmp_path, settings, parser_slow_on_boom
):
    settings.JOB_GROUP_SECONDS = 1
    with_repo(group1, make_repo(tmp_path, "slow", [(JAN_10, {"reports/README.md": with_answer(BOOM)})]))
    with_repo(group2, make_repo(tmp_path, "fine", [(JAN_10, {"reports/README.md": FILLED})]))

    first, second = scrape_all()

    assert (first.status, first.get_status_display(), first.message) == (
        "too_long",
        "took too long",
        "importing the report took longer than 1 s (setting JOB_GROUP_SECONDS); nothing of it was kept",
    )
    assert not Report.objects.filter(group=group1).exists()
    assert (second.status, len(second.changed)) == ("ok", 10)


@pytest.fixture
def silent_server():
    """An https:// address whose server takes connections and never answers, as a host that hangs."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"https://127.0.0.1:{server.getsockname()[1]}/"
    server.close()  # the connections waiting on it are reset: git ends


@pytest.mark.timeout(60)
def test_a_repo_that_never_answers_is_given_up_and_the_other_groups_go_on(
    group1, group2, tmp_path, settings, silent_server
):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/", silent_server]
    settings.SCRAPE_TIMEOUT, settings.JOB_GROUP_SECONDS = 300, 1
    with_repo(group1, f"{silent_server}acme/hangs.git")
    with_repo(group2, make_repo(tmp_path, "fine", [(JAN_10, {"reports/README.md": FILLED})]))
    seen = []

    first, second = scrape_all(progress=seen.append)

    assert (first.status, first.message, first.commit_sha) == (
        "too_long",
        "reading the repo took longer than 1 s (setting JOB_GROUP_SECONDS); it was given up",
        "",
    )
    assert (second.status, len(second.changed)) == ("ok", 10)
    assert sorted(s.group.number for s in seen) == [1, 2]
    group1.refresh_from_db()
    assert group1.last_scrape == first
