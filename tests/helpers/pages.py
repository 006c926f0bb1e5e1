"""Driving the report pages: saving an answer through the editor (test client), opening it in a browser."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, expect

from reports_app.models import Question
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_for_group


def preview(client, group, number: int, text: str):
    """What the editor sends while someone types (their draft, asking for the preview back): the response."""
    url = reverse("answer-draft", args=[group.pk, number])
    return client.post(url, {"text": text, "version": 0, "preview": "1"}, HTTP_ACCEPT="application/json")


def save(group, number: int, text: str, username: str = "alice"):
    from django.contrib.auth import get_user_model

    report = report_for_group(group)
    question = Question.objects.get(template=report.template, number=number)
    answer = report.answers.filter(question=question).first()
    return answer_save(
        report=report,
        question=question,
        text=text,
        base_version=answer.version if answer else 0,
        user=get_user_model().objects.get(username=username),
    )


def open_editor(page: Page, number: int) -> None:
    """On the report page, press the question's Edit button: its editor opens in place, with the focus in it."""
    page.get_by_role("link", name=f"Edit question {number}", exact=True).click()
    expect(answer_box(page, number)).to_be_focused()


def answer_box(page: Page, number: int):
    return page.get_by_label(f"Answer to question {number} (markdown)")


def log_in_as(page: Page, live_server, username: str) -> None:
    """The browser gets a session of `username` (the login form is tests/browser/test_smoke.py's business)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
