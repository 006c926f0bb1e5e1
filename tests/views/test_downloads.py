"""The three downloads of a group's report: the reports/ zip, the course's hand-in HTML and the grading HTML."""

import base64
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from reports_app.engine import rendering
from reports_app.engine.parsing import parse_report
from reports_app.models import Group, Invitation, Membership, Question, Scrape
from reports_app.selectors.report_page import report_page
from reports_app.services.answers import answer_save, checklist_set
from reports_app.services.checking import check_markdown
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group, report_grading_html, report_markdown
from tests.conftest import png_bytes
from tests.helpers import pages
from tests.helpers.grading import grading_header, zip_modes
from tests.helpers.hostile import BRACKETS, NESTED

SCRIPT = "<script>alert(1)</script>"
DOWNLOADS = ["download-zip", "download-html", "download-grading"]


@pytest.fixture
def report(group1):
    return report_for_group(group1)


def save(report, number: int, text: str, user=None):
    question = Question.objects.get(template=report.template, number=number)
    return answer_save(report=report, question=question, text=text, base_version=0, user=user)


def add_figure(report, data: bytes, name: str):
    return figure_add(report=report, data=data, wanted_name=name, user=None).figure


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


@pytest.fixture
def filled(report, django_user_model):
    """A report with answers that pass and fail the course check, two ticked items and two figures in use."""
    alice = django_user_model.objects.get(username="alice")
    add_figure(report, png_bytes(color="red"), "pipeline.png")
    add_figure(report, png_bytes(color="green"), "runs.png")
    answers = {
        1: "7",
        2: "s123456, s234567",
        3: words(60),  # 50-100 words: passes
        4: words(10),  # 100-200 words: fails
        6: f"{words(120)}\n\n![runs](figures/runs.png)",  # 100-200 words + 1-2 images: passes
        9: f"![pipeline](figures/pipeline.png)\n\n{words(250)}",
    }
    for number, text in answers.items():
        save(report, number, text, user=alice)
    checklist_set(report=report, changes={1: True, 5: True}, user=alice)
    return answers


def zip_contents(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- zip ---------------------------------------------------------------------------------------------------------


def test_the_zip_holds_the_readme_and_every_figure_intact(alice, group1, report, filled):
    response = alice.get(reverse("download-zip", args=[group1.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="C1-group-1-reports.zip"'
    files = zip_contents(response)
    assert sorted(files) == [
        "reports/",
        "reports/README.md",
        "reports/figures/",
        "reports/figures/pipeline.png",
        "reports/figures/runs.png",
    ]
    assert files["reports/figures/pipeline.png"] == png_bytes(color="red")
    assert files["reports/figures/runs.png"] == png_bytes(color="green")
    assert files["reports/README.md"].decode("utf-8") == report_markdown(report)


def test_the_zips_readme_parses_back_to_the_saved_answers_and_ticks(alice, group1, report, filled, demo_template):
    readme = zip_contents(alice.get(reverse("download-zip", args=[group1.pk])))["reports/README.md"].decode()

    parsed = parse_report(readme, demo_template.parsed())

    assert parsed.problems == ()
    assert {number: parsed.answers[number] for number in filled} == filled
    assert {number for number, text in parsed.answers.items() if text} == set(filled)
    assert {index for index, mark in parsed.marks.items() if mark.strip()} == {1, 5}
    assert parsed.marks[1] == "x"


def test_the_course_checks_the_zips_readme_as_the_report_page_shows(alice, group1, report, filled, demo_template):
    readme = zip_contents(alice.get(reverse("download-zip", args=[group1.pk])))["reports/README.md"].decode()

    result = check_markdown(readme, demo_template)

    page = report_page(report).result
    assert result.course_error is None
    assert result.lines() == page.lines()
    assert 0 < result.passed < result.total  # the report has passing and failing answers
    assert "Question 4 failed check. Expected number of words to be between 100 and 200 but got 10" in result.lines()
    response = alice.get(reverse("report", args=[group1.pk]))
    assert f'<span id="passed">passed {result.passed}/{result.total}</span>' in response.content.decode()


def test_the_zip_extracts_files_as_0644_and_folders_as_0755(alice, group1, report, filled):
    modes = zip_modes(alice.get(reverse("download-zip", args=[group1.pk])).content)

    assert modes == {
        "reports/": "drwxr-xr-x",
        "reports/README.md": "-rw-r--r--",
        "reports/figures/": "drwxr-xr-x",
        "reports/figures/pipeline.png": "-rw-r--r--",
        "reports/figures/runs.png": "-rw-r--r--",
    }


# --- hand-in HTML ------------------------------------------------------------------------------------------------


def test_the_hand_in_html_is_the_courses_rendering_of_the_readme(alice, group1, report, filled):
    response = alice.get(reverse("download-html", args=[group1.pk]))

    assert response.status_code == 200
    assert response.content.decode("utf-8") == rendering.standard_html(report_markdown(report))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.fullmatch(r'attachment; filename="[^"]*report\.html"', disposition)
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_raw_html_in_an_answer_is_kept_in_the_hand_in_html_only(alice, group1, report, demo_template):
    save(report, 3, f"Our data.\n\n{SCRIPT}\n\nMore text.")

    hand_in = alice.get(reverse("download-html", args=[group1.pk])).content.decode()
    page = alice.get(reverse("report", args=[group1.pk])).content.decode()
    preview = pages.preview(alice, group1, 3, SCRIPT).json()["html"]
    grading = alice.get(reverse("download-grading", args=[group1.pk])).content.decode()

    assert SCRIPT in hand_in
    assert "Our data." in page
    for html in (page, preview, grading):
        assert SCRIPT not in html
        assert "alert(1)" not in html


# --- grading HTML ------------------------------------------------------------------------------------------------


def test_the_grading_html_embeds_each_used_figure_and_carries_its_csp(alice, group1, report, filled):
    response = alice.get(reverse("download-grading", args=[group1.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="C1-group-1-grading.html"'
    assert response["Content-Security-Policy"] == rendering.GRADING_CSP
    html = response.content.decode()
    assert f'<meta http-equiv="Content-Security-Policy" content="{rendering.GRADING_CSP}">' in html
    for color in ("red", "green"):
        uri = "data:image/png;base64," + base64.b64encode(png_bytes(color=color)).decode("ascii")
        assert f'src="{uri}"' in html
    sources = re.findall(r'<img [^>]*src="([^"]*)"', html)
    assert len(sources) == 2
    assert all(src.startswith("data:image/png;base64,") for src in sources)


DEADLINE = datetime(2026, 1, 20, 23, 59, tzinfo=UTC)


def test_the_grading_html_starts_with_the_group_its_members_its_commit_and_its_verdicts(
    alice, course, group1, report, filled
):
    Membership.objects.filter(user__username="bob").update(study_number="s234567")
    Invitation.objects.create(group=group1, email="eve@example.org", name="Eve", token_hash="e" * 64)
    Invitation.objects.create(  # expired: not shown
        group=group1, email="old@example.org", token_hash="o" * 64, created_at=DEADLINE - timedelta(days=400)
    )
    scrape = Scrape.objects.create(
        group=group1,
        repo_url="https://github.com/acme/one",
        status=Scrape.Status.OK,
        commit_sha="89abcdef0123456789abcdef0123456789abcdef",
        commit_at=DEADLINE - timedelta(hours=2),
        fetched_at=DEADLINE,
    )
    Group.objects.filter(pk=group1.pk).update(last_scrape=scrape)
    course.deadline = DEADLINE
    course.save()

    header = grading_header(alice.get(reverse("download-grading", args=[group1.pk])).content.decode())

    result = report_page(report).result
    assert header.title == "Group 1 · One · C1 · Course one"
    assert header.people == [
        "alice · no study number",
        "bob · s234567",
        "Eve <eve@example.org> · no study number · invited, has not joined",
    ]
    assert header.commit == (
        "89abcdef0123456789abcdef0123456789abcdef committed 2026-01-20 22:59 CET (deadline 2026-01-21 00:59 CET)"
    )
    assert header.checker == f"passed {result.course_passed}/10 · answered 6/10"
    assert 0 < result.course_passed < 10
    assert [text for _, _, text in header.chips] == [
        "Q1 P", "Q2 P", "Q3 P", "Q4 W", "Q5 M", "Q6 P", "Q7 M", "Q8 M", "Q9 P", "Q10 M",
    ]  # fmt: skip
    page = alice.get(reverse("report", args=[group1.pk])).content.decode()
    assert f'<span id="passed">passed {result.course_passed}/10</span>' in page


def test_the_grading_header_of_a_group_never_scraped_says_so_and_escapes_what_was_typed(alice, group1, report, filled):
    Group.objects.filter(pk=group1.pk).update(name="<b>Otters</b>")
    Membership.objects.filter(user__username="alice").update(study_number="<i>s1</i>")

    document = alice.get(reverse("download-grading", args=[group1.pk])).content.decode()

    header = grading_header(document)
    assert header.title == "Group 1 · <b>Otters</b> · C1 · Course one"  # as text: the markup is escaped
    assert header.people[0] == "alice · <i>s1</i>"
    assert header.commit == "never scraped: the report as written on this site"
    assert "<b>Otters" not in document and "<i>s1" not in document
    assert "Group 1 · &lt;b&gt;Otters&lt;/b&gt;" in document


# --- who may download --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOWNLOADS)
def test_outsider_gets_404_for_a_download(charlie, group1, report, name):
    assert charlie.get(reverse(name, args=[group1.pk])).status_code == 404


@pytest.mark.parametrize("name", DOWNLOADS)
def test_anonymous_is_sent_to_log_in_for_a_download(client, group1, report, name):
    url = reverse(name, args=[group1.pk])

    assertRedirects(client.get(url), f"{reverse('login')}?next={url}")


@pytest.mark.parametrize("name", DOWNLOADS)
def test_staff_can_download(staff, group1, report, filled, name):
    response = staff.get(reverse(name, args=[group1.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("name", DOWNLOADS)
def test_a_member_can_download_after_the_deadline(alice, course, group1, report, filled, name):
    course.deadline = timezone.now() - timedelta(hours=1)
    course.save()

    assert alice.get(reverse(name, args=[group1.pk])).status_code == 200


# --- a README that cannot be rendered ----------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "why"),
    [(NESTED, "nested 500 levels deep"), (BRACKETS, "the renderer took longer than 1 s")],
    ids=["nested", "brackets"],
)
def test_html_downloads_that_cannot_be_made_say_why_and_the_zip_still_downloads(
    alice, group1, report, short_budget, text, why
):
    save(report, 3, "A normal answer.")
    save(report, 6, text)
    message = f"The hand-in HTML of group 1 cannot be made: {why}. The README itself downloads as usual."
    for name in ("download-html", "download-grading"):
        response = alice.get(reverse(name, args=[group1.pk]))
        assert response.status_code == 422
        assert response["Content-Type"] == "text/html; charset=utf-8" and "Content-Disposition" not in response
        assertContains(response, message, status_code=422)
        assertContains(response, 'href="/static/vendor/bootstrap/bootstrap.min.css"', status_code=422)  # our page
    with pytest.raises(rendering.RenderError, match=f"^{why}$"):
        report_grading_html(report)

    response = alice.get(reverse("download-zip", args=[group1.pk]))
    assert response.status_code == 200
    readme = zip_contents(response)["reports/README.md"].decode()
    assert readme == report_markdown(report) and text in readme
