"""A scrape or an import stores answers unrendered; the first page that shows one renders it and stores it, within one
render budget per page (issue 16: a scrape of 150 repos renders nothing)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains

from reports_app.engine import rendering
from reports_app.models import Answer
from reports_app.services.answers import PAGE_OUT_OF_TIME, answer_save, answers_rendered
from reports_app.services.reports import report_import
from tests.helpers.hostile import BRACKETS, NESTED
from tests.helpers.repos import FILLED, with_answer

SECOND_ANSWER = b"We used the hourly readings of a public network of weather stations."


def imported(group, readme: bytes) -> None:
    report_import(group=group, text=readme.decode(), template=group.course.template, label="import: README.md")


def stored_html(group) -> dict[int, str | None]:
    answers = Answer.objects.filter(report__group=group).select_related("question")
    return {a.question.number: a.html for a in answers}


def test_an_import_renders_nothing_and_the_report_page_renders_each_answer_once(alice, group1):
    imported(group1, with_answer(NESTED))
    assert set(stored_html(group1).values()) == {None}

    page = alice.get(reverse("report", args=[group1.pk]))

    assertContains(page, "Question 2 cannot be rendered: nested 500 levels deep. It is shown as typed.")
    html = stored_html(group1)
    assert None not in html.values()
    third = Answer.objects.get(report__group=group1, question__number=3)
    assert html[3] == rendering.answer_html(third.text, figure_url=lambda name: name)
    assertContains(page, html[3], html=False)
    with CaptureQueriesContext(connection) as queries:
        again = alice.get(reverse("report", args=[group1.pk]))
    assertContains(again, html[3], html=False)
    assert not [q for q in queries if q["sql"].startswith('UPDATE "reports_app_answer"')]  # from what was stored


def test_the_editor_renders_the_answer_it_shows(alice, group1):
    imported(group1, FILLED)

    page = alice.get(reverse("edit-answer", args=[group1.pk, 3]))

    third = Answer.objects.get(report__group=group1, question__number=3)
    assert third.html and third.html.startswith("<p>")
    assertContains(page, third.html, html=False)
    assert [n for n, html in stored_html(group1).items() if html is not None] == [3]  # only what it showed


@pytest.mark.timeout(60)
def test_a_page_spends_one_render_budget_and_leaves_the_rest_for_the_next_view(alice, group1, short_budget):
    slow = with_answer(BRACKETS).replace(SECOND_ANSWER, BRACKETS.encode())  # questions 2 and 3 take 1 s each
    imported(group1, slow)

    first = alice.get(reverse("report", args=[group1.pk]))

    assert first.status_code == 200
    assertContains(first, "Question 2 cannot be rendered: the renderer took longer than 1 s. It is shown as typed.")
    assertContains(first, f"Question 3 cannot be rendered: {PAGE_OUT_OF_TIME}. It is shown as typed.")
    html = stored_html(group1)
    assert html[2] == rendering.unrendered_html(BRACKETS, "the renderer took longer than 1 s", what="Question 2")
    assert html[3] is None and html[4] is None  # not stored: the next view renders them

    second = alice.get(reverse("report", args=[group1.pk]))

    assertContains(second, "Question 3 cannot be rendered: the renderer took longer than 1 s. It is shown as typed.")
    assert stored_html(group1)[3] is not None


def test_a_rendering_is_never_stored_over_a_newer_save(alice, group1):
    imported(group1, FILLED)
    stale = Answer.objects.select_related("report__group").get(report__group=group1, question__number=3)
    answer_save(report=stale.report, question=stale.question, text="Newer *words*.", base_version=1, user=None)

    answers_rendered({3: stale}, group1.pk)  # a page that read version 1 before the save

    assert Answer.objects.get(pk=stale.pk).html == "<p>Newer <em>words</em>.</p>"
