"""The admin's grading tables: points per question (a row per question of the course's template) and the rubric on
the course's page, changed through the grading services (re-scored and logged); the grade log read-only; each
instructor only in their own courses, a TA nowhere."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from reports_app.admin import ITEM_IN_USE
from reports_app.models import Course, CourseStaff, Grade, GradeLog, Group, QuestionPoints, RubricItem, StaffRole
from reports_app.services.grading import grade_save
from tests.helpers.forms import empty_inlines

PERMISSIONS = ["view_course", "change_course", "view_coursestaff", "view_gradelog"]
PERMISSIONS += [
    f"{action}_{model}" for action in ("view", "add", "change", "delete") for model in ("questionpoints", "rubricitem")
]


def client_with_role(course, django_user_model, username: str, role: str) -> Client:
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS))
    CourseStaff.objects.create(course=course, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(course, django_user_model):
    return client_with_role(course, django_user_model, "manager", StaffRole.INSTRUCTOR)


@pytest.fixture
def graded(course, group1, instructor):
    """Question 3 worth 4 points, an item of 3 points applied to group 1's grade."""
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("4"))
    item = RubricItem.objects.create(course=course, number=3, text="Clear figure", points=Decimal("3"))
    grade_save(group=group1, number=3, items=[item], adjustment="0", comment="", base_version=0, user=instructor)
    return item


def change_page(course) -> str:
    return reverse("admin:reports_app_course_change", args=[course.pk])


def course_form(course, points: list[dict], items: list[dict], points_initial: int = 0, items_initial: int = 0):
    """The course's change form as a browser posts it, with these rows of points and rubric items."""
    form = {
        "code": course.code,
        "title": course.title,
        "template": str(course.template_id),
        "deadline_0": "",
        "deadline_1": "",
        "join_code": "",
        "min_group_size": "3",
        "max_group_size": "5",
        "lms_item_name": "Report",
        **empty_inlines("staff", "question_points", "rubric_items"),
    }
    for prefix, rows, initial in (("question_points", points, points_initial), ("rubric_items", items, items_initial)):
        form[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        form[f"{prefix}-INITIAL_FORMS"] = str(initial)
        for i, row in enumerate(rows):
            form |= {f"{prefix}-{i}-{name}": str(value) for name, value in row.items()}
    return form


def test_the_course_page_has_a_points_row_per_question_of_its_template(manager, course):
    response = manager.get(change_page(course))

    (points,) = [f for f in response.context["inline_admin_formsets"] if f.formset.model is QuestionPoints]
    assert [form.initial.get("number") for form in points.formset.forms] == list(range(1, 11))
    assertContains(response, "Rubric items")


def test_rows_left_blank_stay_ungraded_and_filled_ones_get_points(manager, course):
    rows = [{"number": n, "max_points": ""} for n in range(1, 11)]
    rows[1]["max_points"] = "2.5"

    response = manager.post(change_page(course), course_form(course, rows, []))

    assert response.status_code == 302
    assert list(QuestionPoints.objects.values_list("number", "max_points")) == [(2, Decimal("2.5"))]


def test_new_item_points_from_the_admin_rescore_the_grades_and_log_who(manager, course, graded):
    points = [{"id": QuestionPoints.objects.get().pk, "number": 3, "max_points": "4"}]
    items = [
        {"id": graded.pk, "number": 3, "position": 0, "text": "Clear figure", "points": "1"},
        {"number": 3, "position": 1, "text": "Cites sources", "points": "-0.5"},
    ]

    response = manager.post(change_page(course), course_form(course, points, items, 1, 1))

    assert response.status_code == 302
    assert list(RubricItem.objects.values_list("text", "points")) == [
        ("Clear figure", Decimal("1")),
        ("Cites sources", Decimal("-0.5")),
    ]
    entry = GradeLog.objects.get(kind="item_points")
    assert (entry.user.username, entry.score_before, entry.score_after) == ("manager", Decimal("3"), Decimal("1"))


def test_lower_max_points_from_the_admin_are_logged_for_the_grades_they_clamp(manager, course, graded):
    points = [{"id": QuestionPoints.objects.get().pk, "number": 3, "max_points": "2"}]

    manager.post(change_page(course), course_form(course, points, []))

    entry = GradeLog.objects.get(kind="max_points")
    assert (entry.score_before, entry.score_after, entry.user.username) == (Decimal("3"), Decimal("2"), "manager")


def test_an_item_in_use_is_not_deleted_and_the_page_says_why(manager, course, graded):
    items = [{"id": graded.pk, "number": 3, "position": 0, "text": "Clear figure", "points": "3", "DELETE": "on"}]

    response = manager.post(change_page(course), course_form(course, [], items, 0, 1))

    assert response.status_code == 200
    assertContains(response, ITEM_IN_USE.format(item="Clear figure", count=1).replace("'", "&#x27;"))
    assert RubricItem.objects.filter(pk=graded.pk).exists()


def test_a_bad_max_points_is_a_form_error(manager, course):
    rows = [{"number": 1, "max_points": "-1"}]

    response = manager.post(change_page(course), course_form(course, rows, []))

    assert response.status_code == 200
    assertContains(response, "Ensure this value is greater than or equal to 0.")
    assert not QuestionPoints.objects.exists()


def test_an_instructor_edits_and_sees_only_their_own_courses_grading(
    manager, course, graded, demo_template, django_user_model
):
    other = Course.objects.create(code="C2", template=demo_template)
    theirs = client_with_role(other, django_user_model, "olga", StaffRole.INSTRUCTOR)
    other_group = Group.objects.create(course=other, number=1)
    QuestionPoints.objects.create(course=other, number=3, max_points=Decimal("4"))
    Grade.objects.create(group=other_group, number=3, version=1)

    response = manager.post(change_page(other), course_form(other, [{"number": 1, "max_points": "9"}], []))

    assert response.status_code == 302 and response["Location"] == reverse("admin:index")  # "not found"
    assert not QuestionPoints.objects.filter(course=other, number=1).exists()
    log = manager.get(reverse("admin:reports_app_gradelog_changelist"))
    assert [entry.grade.group.course for entry in log.context["cl"].result_list] == [course]
    assert list(theirs.get(reverse("admin:reports_app_gradelog_changelist")).context["cl"].result_list) == []


def test_a_ta_sees_no_grading_table_and_no_log(course, graded, django_user_model):
    ta = client_with_role(course, django_user_model, "tim", StaffRole.TA)

    assert list(ta.get(reverse("admin:reports_app_gradelog_changelist")).context["cl"].result_list) == []
    assert ta.get(change_page(course)).status_code == 302


def test_the_grade_log_is_read_only(manager, graded):
    entry = GradeLog.objects.get()

    page = manager.get(reverse("admin:reports_app_gradelog_change", args=[entry.pk]))

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert (
        manager.post(reverse("admin:reports_app_gradelog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    )
    assert GradeLog.objects.filter(pk=entry.pk).exists()
