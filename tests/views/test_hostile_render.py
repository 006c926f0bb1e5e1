"""A template whose prompt cannot be rendered still loads, and every page that shows the prompt still answers."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from reports_app.models import Course, Group, Membership
from reports_app.services.templates import template_load
from tests.conftest import DEMO_TEMPLATE, client_for
from tests.helpers.hostile import NESTED

PROMPT = "> **Which data source did you choose, and why is it a good fit for a pipeline project?**\n"


@pytest.fixture
def hostile_group(db, django_user_model):
    """A group on the demo template with 500 nested list levels under question 3's prompt."""
    source = DEMO_TEMPLATE.read_text(encoding="utf-8")
    assert source.count(PROMPT) == 1
    template, _ = template_load(name="hostile", source=source.replace(PROMPT, f"{PROMPT}>\n> {NESTED}\n"))
    course = Course.objects.create(code="H1", title="Hostile", template=template)
    group = Group.objects.create(course=course, number=1)
    Membership.objects.create(user=django_user_model.objects.create_user("dana", password="pw-dana"), group=group)
    return group


@pytest.mark.parametrize("page", ["report", "edit-answer"])
def test_a_prompt_that_cannot_be_rendered_is_shown_as_typed_and_the_page_works(hostile_group, page):
    args = [hostile_group.pk] + ([3] if page == "edit-answer" else [])
    response = client_for("dana").get(reverse(page, args=args))
    assertContains(response, "This prompt cannot be rendered: nested 501 levels deep. It is shown as typed.")
    assertContains(response, "1. 1. 1. 1. deep")
    if page == "report":  # the other prompts render as usual
        assertContains(response, "<strong>Which group number did your group get when you registered?</strong>")
