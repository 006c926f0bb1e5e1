"""Switching a course's template in the admin: the save warns that reports stay on their version and links to the move
page, which previews where each answer goes and moves every report on Move."""

import html
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from reports_app.forms.admin import MOVE_TARGET_CHANGED
from reports_app.models import Report
from tests.helpers.forms import empty_inlines
from tests.helpers.template_moves import NEW_ASK_10, load_versions, switched_course

MOVE = "admin:reports_app_course_move_reports"


@pytest.fixture
def versions(db):
    return load_versions()


@pytest.fixture
def v1(versions):
    return versions[0]


@pytest.fixture
def v2(versions):
    return versions[1]


@pytest.fixture
def moving_course(course, v1, v2, group1, group2):
    return switched_course(course, [group1, group2], v1, v2)


def text(response) -> str:
    """The page's text: tags gone, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def course_form(course, template) -> dict[str, str]:
    """The admin's course form as a browser posts it."""
    return {
        "code": course.code,
        "title": course.title,
        "template": str(template.pk),
        "deadline_0": "",
        "deadline_1": "",
        "join_code": "",
        "min_group_size": "3",
        "max_group_size": "5",
        "lms_item_name": "Report",
        **empty_inlines("staff", "question_points", "rubric_items"),
    }


def test_switching_the_template_warns_that_the_reports_stay_and_links_to_the_move(admin_client, course, v1, v2, group1):
    Report.objects.create(group=group1, template=course.template)
    change = reverse("admin:reports_app_course_change", args=[course.pk])

    response = admin_client.post(change, course_form(course, v2), follow=True)

    page = text(response)
    assert "1 report of this course follows another version than its template, v2." in page
    assert "Move them to v2 : the next page shows where each answer goes before anything moves." in page
    assertContains(response, f'<a href="{reverse(MOVE, args=[course.pk])}">Move them to v2</a>')
    assert Report.objects.get(group=group1).template.name == "demo"  # saving the course moves nothing


def test_the_course_page_offers_the_move_while_reports_follow_another_version(admin_client, moving_course):
    change = reverse("admin:reports_app_course_change", args=[moving_course.pk])

    assertContains(
        admin_client.get(change), f'<a href="{reverse(MOVE, args=[moving_course.pk])}">Move 2 reports to v2</a>'
    )


def test_the_course_page_offers_no_move_when_every_report_follows_its_template(admin_client, course, group1):
    Report.objects.create(group=group1, template=course.template)
    change = reverse("admin:reports_app_course_change", args=[course.pk])

    response = admin_client.post(change, course_form(course, course.template), follow=True)

    assertNotContains(response, reverse(MOVE, args=[course.pk]))
    assertNotContains(response, "another version")


def test_the_preview_shows_where_each_answer_goes_and_moves_nothing(admin_client, moving_course):
    response = admin_client.get(reverse(MOVE, args=[moving_course.pk]))

    page = text(response)
    assert "2 reports of C1 follow another version than the course's template, v2." in page
    assert "From v1: 2 reports (groups 1-2)" in page
    assert (
        "11 questions of v1: 9 same question, 1 by number only (3 to check, marked below); 1 without a place."
    ) in page
    assert (
        "Q10: What was the hardest part of the project, and what would you do differently if you started again? "
        f"Q10: {NEW_ASK_10[4:-2]} by number only another question: only the number is the same"
    ) in page
    assert "Q11: Which tool would you leave out next time? no place: its answers stay on the old version" in page
    assert "2 written answers to questions without a place stay on v1, with their history" in page
    assert "Schedule the whole pipeline to run once a day (M19)" in page
    assertContains(response, 'value="Move 2 reports to v2"')
    assert set(Report.objects.values_list("template__name", flat=True)) == {"v1"}


def test_move_moves_every_report_and_the_students_see_their_answers(admin_client, alice, moving_course, group1):
    response = admin_client.post(reverse(MOVE, args=[moving_course.pk]), {"target": moving_course.template_id})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_app_course_change", args=[moving_course.pk])
    assert "Moved 2 reports to v2." in text(admin_client.get(response["Location"]))
    history = admin_client.get(reverse("admin:reports_app_course_history", args=[moving_course.pk]))
    assertContains(history, "Moved 2 reports to v2.")
    assert set(Report.objects.values_list("template__name", flat=True)) == {"v2"}
    report = alice.get(reverse("report", args=[group1.pk]))
    assertContains(report, "We are group 1.")
    assertContains(report, "moved from v1 Q1")


def test_move_is_refused_when_the_course_switched_again_since_the_preview(admin_client, moving_course, v1, v2):
    moving_course.template = v1
    moving_course.save()

    response = admin_client.post(reverse(MOVE, args=[moving_course.pk]), {"target": v2.pk})

    assert response.status_code == 200
    assert MOVE_TARGET_CHANGED in text(response)
    assert "Every report of C1 follows its template, v1, already (2 reports): there is nothing to move." in text(
        response
    )
    assert set(Report.objects.values_list("template__name", flat=True)) == {"v1"}


def test_a_tampered_target_moves_nothing(admin_client, moving_course):
    response = admin_client.post(reverse(MOVE, args=[moving_course.pk]), {"target": "v2; drop table"})

    assert response.status_code == 200
    assert set(Report.objects.values_list("template__name", flat=True)) == {"v1"}


def test_a_course_without_a_template_says_so(admin_client, course):
    course.template = None
    course.save()

    response = admin_client.get(reverse(MOVE, args=[course.pk]))

    assert "The course C1 has no template yet: choose one on the course's page first." in text(response)


def test_moving_needs_the_permission_to_change_courses(staff, instructor, moving_course):
    url = reverse(MOVE, args=[moving_course.pk])
    instructor.user_permissions.add(Permission.objects.get(codename="view_course"))

    assert staff.get(url).status_code == 403
    assert staff.post(url, {"target": moving_course.template_id}).status_code == 403
    assert set(Report.objects.values_list("template__name", flat=True)) == {"v1"}


def test_an_unknown_course_is_not_found(admin_client, db):
    assert admin_client.get(reverse(MOVE, args=[9999])).status_code == 404
