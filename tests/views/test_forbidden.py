"""The pages for a request refused (templates/403.html for PermissionDenied, raised anywhere, and 403_csrf.html for a
failed CSRF check): in the site's frame with a way back, with DEBUG off as in production."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed

from tests.conftest import client_for

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
NAV = '<a class="navbar-brand" href="/">Report hand-in</a>'


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def in_frame_with_a_way_back(response) -> None:
    assertContains(response, VIEWPORT, status_code=403)
    assertContains(response, NAV, status_code=403, html=True)
    link = f'<a class="touch-link" href="{reverse("home")}">Back to your reports</a>'
    assertContains(response, link, status_code=403, html=True)


@pytest.mark.parametrize(
    "url",
    [
        lambda course: reverse("admin:reports_app_course_import_roster", args=[course.pk]),  # our admin view
        lambda course: reverse("admin:reports_app_course_changelist"),  # Django's admin
        lambda course: reverse("admin:reports_app_course_change", args=[course.pk]),
    ],
)
def test_staff_without_the_permission_get_our_page_in_the_sites_frame(staff, course, url):
    response = staff.get(url(course))

    assertTemplateUsed(response, "403.html")
    in_frame_with_a_way_back(response)
    assertContains(response, "You may not open this page", status_code=403)
    assertContains(response, "Your account, instructor, does not have access to it.", status_code=403)


def test_the_page_says_nothing_of_why_beyond_the_account(instructor, course):
    instructor.user_permissions.add(Permission.objects.get(codename="view_course"))

    response = client_for("instructor").post(
        reverse("admin:reports_app_course_import_roster", args=[course.pk]), {"apply": "Apply"}
    )

    assert response.status_code == 403
    assert b"Traceback" not in response.content and b"PermissionDenied" not in response.content


def test_a_failed_csrf_check_keeps_the_frame_and_a_way_back(group1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(group1.memberships.first().user)

    for data in ({}, {"text": "Typed before the session ended.", "version": "1"}):
        response = client.post(reverse("edit-answer", args=[group1.pk, 1]), data)

        assertTemplateUsed(response, "403_csrf.html")
        in_frame_with_a_way_back(response)
