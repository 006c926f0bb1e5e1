"""Deadlines and extensions typed into the admin stay within years a date can be computed from: year 1 or 9999 would
overflow as soon as it is turned into UTC or local time (a 500 on save, then on every page that shows it)."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports_app.forms.admin import DEADLINE_OUT_OF_RANGE
from reports_app.models import Course, Group
from tests.helpers.forms import empty_inlines

# (date, time) as the admin's split widget posts them; the first two overflow converting between UTC and local time
FAR_OFF = [("0001-01-01", "00:00:00"), ("9999-12-31", "23:59:59"), ("1999-12-31", "12:00:00"), ("9001-01-01", "12:00")]


def course_form(course: Course, day: str, time: str) -> dict[str, str]:
    """The admin's course form as a browser posts it."""
    return {
        "code": course.code,
        "title": course.title,
        "template": str(course.template_id),
        "deadline_0": day,
        "deadline_1": time,
        "join_code": "",
        "min_group_size": "3",
        "max_group_size": "5",
        "lms_item_name": "Report",
        **empty_inlines("staff", "question_points", "rubric_items"),
    }


def group_form(group: Group, day: str, time: str) -> dict[str, str]:
    """The admin's group form as a browser posts it (no members)."""
    return {
        "course": str(group.course_id),
        "number": str(group.number),
        "name": group.name,
        "repo_url": "",
        "extension_0": day,
        "extension_1": time,
        **empty_inlines("memberships", "graders"),
    }


@pytest.mark.parametrize(("day", "time"), FAR_OFF)
def test_a_course_deadline_out_of_range_is_a_form_error_and_nothing_changes(admin_client, course, day, time):
    response = admin_client.post(
        reverse("admin:reports_app_course_change", args=[course.pk]),
        {**course_form(course, day, time), "title": "Renamed"},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"deadline": [DEADLINE_OUT_OF_RANGE]}
    assert (form["deadline"].value(), form["title"].value()) == ([day, time], "Renamed")  # what was typed stays
    course.refresh_from_db()
    assert (course.deadline, course.title) == (None, "Course one")


@pytest.mark.parametrize(("day", "time"), FAR_OFF)
def test_a_group_extension_out_of_range_is_a_form_error_and_nothing_changes(admin_client, group1, day, time):
    response = admin_client.post(
        reverse("admin:reports_app_group_change", args=[group1.pk]), group_form(group1, day, time)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"extension": [DEADLINE_OUT_OF_RANGE]}
    group1.refresh_from_db()
    assert group1.extension is None


@pytest.mark.parametrize(("day", "time"), [("2000-01-01", "00:00:00"), ("9000-12-31", "23:59:59")])
def test_deadlines_at_the_ends_of_the_range_are_saved_and_shown(admin_client, alice, group1, day, time):
    course = group1.course
    course_url = reverse("admin:reports_app_course_change", args=[course.pk])
    assert admin_client.post(course_url, course_form(course, day, time)).status_code == 302
    typed = timezone.make_aware(datetime.fromisoformat(f"{day}T{time}"))
    course.refresh_from_db()
    assert course.deadline == typed
    course.deadline = typed - timedelta(days=1)  # an extension ends after the course deadline
    course.save()
    group_url = reverse("admin:reports_app_group_change", args=[group1.pk])
    assert admin_client.post(group_url, group_form(group1, day, time)).status_code == 302

    group1.refresh_from_db()
    assert group1.extension == typed
    for url in (reverse("report", args=[group1.pk]), reverse("edit-answer", args=[group1.pk, 1])):
        assert alice.get(url).status_code == 200
    assert admin_client.get(reverse("dashboard", args=[course.pk])).status_code == 200
