"""The admin for course staff: Assign graders (a group,ta_email file or Spread evenly, previewed, then Apply), the
graders inline of a group, and the admin's scope (an instructor manages only their courses; a superuser, all)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from reports_app.forms.admin import GradersApplyForm
from reports_app.models import GRADER_NOT_STAFF, Course, CourseStaff, Group, GroupGrader, StaffRole
from tests.helpers.forms import empty_inlines


@pytest.fixture
def tas(course, django_user_model):
    for name in ("ann", "bob"):
        user = django_user_model.objects.create_user(name, email=f"{name}@example.com")
        CourseStaff.objects.create(course=course, user=user, role=StaffRole.TA)
    return [Group.objects.create(course=course, number=n) for n in (1, 2, 3)]


def page(course) -> str:
    return reverse("admin:reports_app_course_assign_graders", args=[course.pk])


def graders() -> list[tuple[int, str]]:
    return sorted(GroupGrader.objects.values_list("group__number", "user__username"))


def upload(text: str) -> dict:
    return {"upload": "1", "file": SimpleUploadedFile("graders.csv", text.encode(), "text/csv")}


def test_a_file_is_previewed_then_applied(admin_client, course, tas):
    preview = admin_client.post(page(course), upload("group,ta_email\n1,ann@example.com\n3,bob@example.com\n"))

    assertContains(preview, "<li>group 1: ann grades it</li>", html=True)
    assertContains(preview, "2 added, 0 removed, 0 unchanged.")
    assert graders() == []

    token = preview.context["apply"]["graders"].value()
    applied = admin_client.post(page(course), {"apply": "1", "graders": token})

    assert applied["Location"] == reverse("admin:reports_app_course_change", args=[course.pk])
    assert graders() == [(1, "ann"), (3, "bob")]


def test_every_problem_of_a_file_is_listed_by_line_and_nothing_is_assigned(admin_client, course, tas):
    response = admin_client.post(page(course), upload("group,ta_email\n1,ann@example.com\n9,bob@example.com\nx,y\n"))

    assert response.status_code == 200
    assert response.context["problems"] == [
        (3, "the course has no group 9"),
        (4, "the group number 'x' is not a number"),
        (4, "'y' is not an e-mail address"),
    ]
    assertContains(response, "Nothing was assigned: 3 problems.")
    assert graders() == []


def test_spread_evenly_is_previewed_then_applied(admin_client, course, tas):
    preview = admin_client.post(page(course), {"spread": "1"})
    assert graders() == []

    admin_client.post(page(course), {"apply": "1", "graders": preview.context["apply"]["graders"].value()})

    assert graders() == [(1, "ann"), (2, "bob"), (3, "ann")]


def test_an_altered_apply_assigns_nothing(admin_client, course, tas, demo_template):
    other = Course.objects.create(code="C2", template=demo_template)
    token = GradersApplyForm.sign(course_id=other.pk, spread=True)

    response = admin_client.post(page(course), {"apply": "1", "graders": token})  # another course's preview

    assertContains(response, "was altered, so nothing was assigned")
    assert graders() == []


def test_a_grader_must_have_a_role_in_the_course(admin_client, course, tas, django_user_model):
    outsider = django_user_model.objects.create_user("zed")
    group = tas[0]
    form = {
        "course": str(course.pk),
        "number": "1",
        "name": "",
        "repo_url": "",
        "extension_0": "",
        "extension_1": "",
        **empty_inlines("memberships"),
        "graders-TOTAL_FORMS": "1",
        "graders-INITIAL_FORMS": "0",
        "graders-0-user": str(outsider.pk),
        "graders-0-group": str(group.pk),
    }

    response = admin_client.post(reverse("admin:reports_app_group_change", args=[group.pk]), form)

    assertContains(response, GRADER_NOT_STAFF.format(user=outsider, course=course))
    assert graders() == []


# --- scope: an instructor with the model permissions manages their own courses only ---------------------------------

PERMISSIONS = ["view_course", "change_course", "add_course", "view_group", "change_group", "view_coursestaff"]
PERMISSIONS += ["add_coursestaff", "change_coursestaff", "view_groupgrader", "add_groupgrader", "change_groupgrader"]


@pytest.fixture
def manager(course, django_user_model):
    """A client as an instructor of course C1 with the admin's course and group permissions."""
    user = django_user_model.objects.create_user("manager", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS))
    CourseStaff.objects.create(course=course, user=user, role=StaffRole.INSTRUCTOR)
    client = Client()
    client.force_login(user)
    return client


def test_an_instructor_sees_and_opens_only_their_courses_in_the_admin(manager, course, group1, demo_template):
    other = Course.objects.create(code="C2", template=demo_template)
    theirs = Group.objects.create(course=other, number=5)

    courses = manager.get(reverse("admin:reports_app_course_changelist"))
    groups = manager.get(reverse("admin:reports_app_group_changelist"))

    assert list(courses.context["cl"].result_list) == [course]
    assert list(groups.context["cl"].result_list) == [group1]
    assert manager.get(reverse("admin:reports_app_course_change", args=[other.pk])).status_code == 302  # "not found"
    assert manager.get(reverse("admin:reports_app_group_change", args=[theirs.pk])).status_code == 302
    assert manager.get(page(other)).status_code == 404
    assert manager.get(reverse("admin:reports_app_course_import_roster", args=[other.pk])).status_code == 404
    assert manager.get(page(course)).status_code == 200


def test_a_course_an_instructor_creates_is_theirs(manager):
    form = {"code": "NEW1", "title": "", "template": "", "deadline_0": "", "deadline_1": "", "join_code": ""}
    form |= {
        "min_group_size": "3",
        "max_group_size": "5",
        "lms_item_name": "Report",
        **empty_inlines("staff", "question_points", "rubric_items"),
    }

    response = manager.post(reverse("admin:reports_app_course_add"), form)

    assert response.status_code == 302
    created = Course.objects.get(code="NEW1")
    assert list(created.staff.values_list("user__username", "role")) == [("manager", "instructor")]
    assert manager.get(reverse("dashboard", args=[created.pk])).status_code == 200


def test_the_course_page_offers_assign_graders(manager, course):
    response = manager.get(reverse("admin:reports_app_course_change", args=[course.pk]))
    assertContains(response, f'href="{page(course)}"')
    assertContains(response, "Course staff")  # the inline of instructors and TAs


def test_a_ta_sees_no_course_in_the_admin(course, django_user_model):
    ta = django_user_model.objects.create_user("ta", password="x", is_staff=True)
    ta.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS))
    CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
    client = Client()
    client.force_login(ta)
    response = client.get(reverse("admin:reports_app_course_changelist"))
    assert list(response.context["cl"].result_list) == []
    assertNotContains(response, f'href="{reverse("admin:reports_app_course_change", args=[course.pk])}"')
