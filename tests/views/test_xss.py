"""The XSS matrix: hostile text in every field people can fill, checked on every page that shows it.

Each payload, if it ran, would set `window.__xss` (the browser tests in tests/browser/test_xss_browser.py look for
that). Here each page is parsed with html.parser and must hold no script but our own static files, no on*
attribute, no javascript: URL and no frame; and the hostile text must still be there, shown as text, so that a
page passes because it escaped the payload, not because it left it out.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports_app import exporting
from reports_app.engine import rendering
from reports_app.models import AnswerRevision
from reports_app.services.reports import report_markdown
from tests.helpers.hostile import (
    ANSWER,
    CSV_EMAIL,
    CSV_NAME,
    JS,
    SHORT,
    TEXT,
    Hostile,
    hostile_template_source,
    make_hostile,
)
from tests.helpers.pages import preview

# Scripts we serve ourselves; nothing else may run on a page.
OUR_SCRIPTS = ("/static/", "/admin/jsi18n/")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
FRAMES = {"iframe", "frame", "object", "embed", "base"}


class PageScan(HTMLParser):
    """What on a page could run: scripts not ours, on* handlers, javascript: URLs, frames; and its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.attributes: list[str] = []
        self._raw: str | None = None  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            self.attributes.append(value or "")
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            squeezed = "".join(c for c in (value or "") if c > " ").lower()
            if name in URL_ATTRIBUTES and squeezed.startswith(BAD_SCHEMES):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in FRAMES:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not (values.get("src") or "").startswith(OUR_SCRIPTS):
            self.problems.append(f"<script {values}>")
        if tag in {"script", "style"}:
            self._raw = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "script" and data.strip():
            self.problems.append(f"inline script {data.strip()[:60]!r}")
        elif self._raw == "style" and ("display: none" in data or "__xss" in data):
            self.problems.append(f"style from a payload {data.strip()[:60]!r}")
        elif self._raw is None:
            self.text.append(data)


def scan(html: str | bytes) -> PageScan:
    page = PageScan()
    page.feed(html.decode("utf-8") if isinstance(html, bytes) else html)
    page.close()
    return page


def assert_safe(html: str | bytes, *shown: str) -> PageScan:
    """Nothing on the page can run, and each of `shown` is on it as text or as an attribute's value."""
    page = scan(html)
    assert page.problems == []
    visible = "".join(page.text)
    for text in shown:
        assert text in visible or any(text in value for value in page.attributes), f"{text!r} is not shown"
    return page


@pytest.fixture
def hostile(course, group1, group2) -> Hostile:
    return make_hostile(course, group1, group2)


# --- the payloads themselves -----------------------------------------------------------------------------------------


def test_the_raw_hand_in_html_really_carries_the_payloads(hostile):
    """The course's own rendering keeps them: proof that the pages below are safe because we sanitize and escape."""
    raw = scan(rendering.standard_html(report_markdown(hostile.report)))
    assert any(problem.startswith("<script") for problem in raw.problems)
    assert any("onerror" in problem for problem in raw.problems)
    assert any("javascript:" in problem for problem in raw.problems)


def test_the_stored_answer_html_is_sanitized_but_keeps_the_text(hostile):
    answer = hostile.report.answers.get(question__number=3)
    assert_safe(answer.html, "ANSWER-SHOWN", "plain", "raw link", "tab", "entity", "reference")
    assert "<style" not in answer.html and "display: none" not in answer.html


def test_every_prompt_is_sanitized_and_keeps_its_text(hostile):
    for question in hostile.template.questions.all():
        assert_safe(question.prompt_html())
    assert_safe(hostile.template.questions.get(number=3).prompt_html(), "PROMPT-SHOWN")


# --- the student pages ----------------------------------------------------------------------------------------------


def test_report_page(alice, hostile):
    response = alice.get(reverse("report", args=[hostile.group.pk]))
    assert response.status_code == 200
    assert_safe(response.content, TEXT, "ANSWER-SHOWN", "PROMPT-SHOWN", f"Data handling {TEXT}")


def test_report_page_for_staff(staff, hostile):
    response = staff.get(reverse("report", args=[hostile.group.pk]))
    assert response.status_code == 200
    assert_safe(response.content, TEXT, "ANSWER-SHOWN")


def test_editor_shows_the_text_escaped_in_its_textarea(alice, hostile):
    response = alice.get(reverse("edit-answer", args=[hostile.group.pk, 3]))
    assert response.status_code == 200
    assert_safe(response.content, f"</textarea><script>{JS}</script>", "ANSWER-SHOWN", "PROMPT-SHOWN")


def test_editor_preview_button(alice, hostile):
    url = reverse("edit-answer", args=[hostile.group.pk, 3])
    response = alice.post(url, {"text": ANSWER, "version": 2, "preview": "Preview"})
    assert response.status_code == 200
    assert response.context["preview"] is not None
    assert_safe(response.content, "ANSWER-SHOWN")


def test_preview_while_typing(alice, hostile):
    response = preview(alice, hostile.group, 3, f"PREVIEWED\n\n{ANSWER}")
    assert response.status_code == 200
    assert_safe(response.json()["html"].encode(), "PREVIEWED", "raw link")


def test_unsaved_text_after_the_deadline_is_escaped(alice, hostile):
    hostile.course.deadline = "2020-01-01T00:00:00Z"
    hostile.course.save(update_fields=["deadline"])
    url = reverse("edit-answer", args=[hostile.group.pk, 3])
    response = alice.post(url, {"text": f"{ANSWER}\n\nLATE", "version": 2, "save": "Save"})
    assert response.status_code == 403
    assert_safe(response.content, f"</textarea><script>{JS}</script>")


def test_answer_history_diff(alice, hostile):
    response = alice.get(reverse("answer-history", args=[hostile.group.pk, 3]))
    assert response.status_code == 200
    assert [op for op, _ in response.context["diff"]].count("add") == 1
    assert_safe(response.content, f"<script>{JS}</script>", "EDITED", TEXT[:200])


def test_figures_page(alice, hostile):
    response = alice.get(reverse("figures", args=[hostile.group.pk]))
    assert response.status_code == 200
    (figure,) = hostile.report.figures.all()
    assert re.fullmatch(r"[\w-]+\.png", figure.name, re.ASCII), figure.name
    assert_safe(response.content, figure.name, figure.snippet)


def test_home_page_for_staff(staff, hostile):
    response = staff.get(reverse("home"))
    assert response.status_code == 200
    assert_safe(response.content, TEXT)


def test_downloaded_hand_in_html_is_sandboxed(alice, hostile):
    """The course's rendering keeps raw student HTML by design, so the browser must run none of it."""
    response = alice.get(reverse("download-html", args=[hostile.group.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"] == 'attachment; filename="C1-group-1-report.html"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_downloaded_grading_html(alice, hostile):
    response = alice.get(reverse("download-grading", args=[hostile.group.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    assert_safe(response.content, "ANSWER-SHOWN", "PROMPT-SHOWN")


# --- the staff pages ------------------------------------------------------------------------------------------------


def test_dashboard(staff, hostile):
    response = staff.get(reverse("dashboard", args=[hostile.course.pk]))
    assert response.status_code == 200
    member = f"{TEXT} {TEXT} <{SHORT}@example.com>"  # each member in full, when the cell is opened and on hover
    assert_safe(response.content, f"1 · {TEXT}", member, f"{member}\n{member}", TEXT)


def test_dashboard_filtered_by_a_hostile_search(staff, hostile):
    response = staff.get(reverse("dashboard", args=[hostile.course.pk]), {"q": TEXT})
    assert response.status_code == 200
    assert_safe(response.content)


def test_dashboard_csv_defuses_formulas(staff, hostile):
    response = staff.get(reverse("dashboard-csv", args=[hostile.course.pk]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, by_group = rows[0], {row[0]: row for row in rows[1:]}
    assert by_group["2"][header.index("name")] == f"'{CSV_NAME}"
    assert by_group["2"][header.index("members")] == f"'{CSV_EMAIL}"
    assert by_group["1"][header.index("name")] == TEXT


def test_job_page(staff, hostile):
    response = staff.get(reverse("job", args=[hostile.job.pk]))
    assert response.status_code == 200
    assert_safe(response.content, TEXT, f"reports/figures/{TEXT}: {TEXT}", SHORT[:10])


# --- the admin ------------------------------------------------------------------------------------------------------

ADMIN_MODELS = ["group", "report", "answerrevision", "scrape", "reporttemplate", "course", "job"]


def admin_objects(hostile: Hostile) -> dict[str, int]:
    return {
        "group": hostile.group.pk,
        "report": hostile.report.pk,
        "answerrevision": AnswerRevision.objects.filter(answer__report=hostile.report).first().pk,
        "scrape": hostile.scrape.pk,
        "reporttemplate": hostile.template.pk,
        "course": hostile.course.pk,
        "job": hostile.job.pk,
    }


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelist(admin_client, hostile, model):
    response = admin_client.get(reverse(f"admin:reports_app_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert_safe(response.content)


@pytest.mark.parametrize("model", ["group", "report", "answerrevision", "scrape", "reporttemplate", "course", "job"])
def test_admin_change_page(admin_client, hostile, model):
    response = admin_client.get(reverse(f"admin:reports_app_{model}_change", args=[admin_objects(hostile)[model]]))
    assert response.status_code == 200
    assert_safe(response.content)


def test_admin_group_list_shows_the_hostile_name_as_text(admin_client, hostile):
    response = admin_client.get(reverse("admin:reports_app_group_changelist"))
    assert_safe(response.content, TEXT, f"https://github.com/acme/{TEXT}")


def test_admin_change_pages_show_the_hostile_text(admin_client, hostile):
    scrape = admin_client.get(reverse("admin:reports_app_scrape_change", args=[hostile.scrape.pk]))
    report = admin_client.get(reverse("admin:reports_app_report_change", args=[hostile.report.pk]))
    assert_safe(scrape.content, TEXT)
    assert_safe(report.content, TEXT, f"<script>{JS}</script>")


def test_admin_user_list_shows_member_names_as_text(admin_client, hostile):
    response = admin_client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 200
    assert_safe(response.content, TEXT)


def test_admin_search_with_a_hostile_query(admin_client, hostile):
    response = admin_client.get(reverse("admin:reports_app_group_changelist"), {"q": TEXT})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert_safe(response.content, TEXT)


def test_template_load_preview(admin_client, demo_template):
    upload = SimpleUploadedFile("hostile.md", hostile_template_source().encode("utf-8"), "text/markdown")
    response = admin_client.post(
        reverse("admin:reports_app_reporttemplate_load"),
        {"file": upload, "name": "", "checker": "", "compare_to": demo_template.pk},
    )
    assert response.status_code == 200
    assert response.context["preview"] is not None
    assert_safe(response.content, f"Data handling {TEXT}", f"Set up a git repository {TEXT} (M5)")


def test_template_compare(admin_client, hostile, demo_template):
    response = admin_client.get(
        reverse("admin:reports_app_reporttemplate_compare"), {"old": demo_template.pk, "new": hostile.template.pk}
    )
    assert response.status_code == 200
    assert_safe(response.content, f"Data handling {TEXT}")


# --- the export -----------------------------------------------------------------------------------------------------


def test_exported_index_grading_and_grades(hostile):
    out = io.BytesIO()
    exporting.course_export(course=hostile.course, out=out, workers=1)
    with zipfile.ZipFile(out) as archive:
        index = archive.read("index.html").decode("utf-8")
        grading = archive.read("group-001/grading.html").decode("utf-8")
        grades = archive.read("grades.csv").decode("utf-8-sig")
    assert_safe(index, f"1 · {TEXT}", f"{SHORT}@example.com")
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in index
    assert_safe(grading, "ANSWER-SHOWN", "PROMPT-SHOWN", f"C1 group 1 ({TEXT})")
    rows = list(csv.reader(io.StringIO(grades)))
    assert rows[2][:3] == ["2", f"'{CSV_NAME}", f"'{CSV_EMAIL}"]


# --- who sees the hostile pages at all ------------------------------------------------------------------------------


def test_anonymous_and_outsiders_see_none_of_the_hostile_pages(client, charlie, alice, hostile):
    group = hostile.group.pk
    student_pages = [reverse("report", args=[group]), reverse("answer-history", args=[group, 3])]
    staff_pages = [reverse("dashboard", args=[hostile.course.pk]), reverse("job", args=[hostile.job.pk])]
    for url in student_pages + staff_pages:
        assert client.get(url).status_code == 302
        response = charlie.get(url)
        assert response.status_code == 404 and b"__xss" not in response.content
    for url in staff_pages:
        assert alice.get(url).status_code == 404
    assert charlie.post(reverse("answer-draft", args=[group, 3]), {"text": ANSWER, "version": 0}).status_code == 404
