"""The editor's preview pane in a real browser when the server cannot render the text or refuses the preview."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from reports_app.models import Answer
from tests.helpers.hostile import NESTED


def test_text_that_cannot_be_rendered_previews_as_typed_with_why(page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{group1.pk}/questions/3/")
    textarea = page.get_by_label("Answer to question 3 (markdown)")
    textarea.fill(NESTED)

    preview = page.locator("#preview-3")
    expect(preview.get_by_role("alert")).to_have_text(
        "Question 3 cannot be rendered: nested 500 levels deep. It is shown as typed."
    )
    expect(preview.locator("pre")).to_have_text(NESTED)
    expect(textarea).to_have_value(NESTED)
    assert not Answer.objects.exists()


def test_a_preview_after_the_deadline_says_the_hand_in_closed(page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{group1.pk}/questions/3/")
    group1.course.deadline = timezone.now() - timedelta(minutes=1)
    group1.course.save()
    page.get_by_label("Answer to question 3 (markdown)").fill("*late* text")

    expect(page.locator(".preview-state")).to_contain_text(
        re.compile(r"not updated: The hand-in closed on .+; the report can no longer be changed\.")
    )
    expect(page.locator("#preview-3 em")).to_have_count(0)
    expect(page.get_by_label("Answer to question 3 (markdown)")).to_have_value("*late* text")
