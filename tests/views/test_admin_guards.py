"""The admin refuses what would go wrong later: an extension that shortens a group's time (from the group's side and
from the course's), a repo URL the scraper would refuse; it names the time zone of its dates, and shows internal
tables read-only or not at all."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import formats, timezone
from pytest_django.asserts import assertContains

from reports_app import scraping
from reports_app.engine import repo_urls, roster
from reports_app.forms.admin import (
    DEADLINE_CLEARED_WITH_EXTENSIONS,
    DEADLINE_PAST_EXTENSIONS,
    EXTENSION_NOT_LATER,
    EXTENSION_WITHOUT_DEADLINE,
)
from reports_app.models import Course, Group
from reports_app.services.roster import roster_read
from tests.helpers.forms import empty_inlines

DEADLINE = datetime(2030, 1, 16, 11, 0, tzinfo=UTC)  # 12:00 in Copenhagen


def local_text(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def group_form(group: Group, extension: datetime | None, repo_url: str = "") -> dict[str, str]:
    """The admin's group form as a browser posts it (no members), the extension typed in local time."""
    local = timezone.localtime(extension) if extension else None
    return {
        "course": str(group.course_id),
        "number": str(group.number),
        "name": group.name,
        "repo_url": repo_url,
        "extension_0": local.strftime("%Y-%m-%d") if local else "",
        "extension_1": local.strftime("%H:%M:%S") if local else "",
        **empty_inlines("memberships", "graders"),
    }


def course_form(course: Course, deadline: datetime | None) -> dict[str, str]:
    local = timezone.localtime(deadline) if deadline else None
    return {
        "code": course.code,
        "title": course.title,
        "template": str(course.template_id),
        "deadline_0": local.strftime("%Y-%m-%d") if local else "",
        "deadline_1": local.strftime("%H:%M:%S") if local else "",
        "join_code": "",
        "min_group_size": "3",
        "max_group_size": "5",
        "lms_item_name": "Report",
        **empty_inlines("staff", "question_points", "rubric_items"),
    }


@pytest.fixture
def with_deadline(course):
    course.deadline = DEADLINE
    course.save()
    return course


def post_group(admin_client, group: Group, extension: datetime | None, repo_url: str = ""):
    url = reverse("admin:reports_app_group_change", args=[group.pk])
    return admin_client.post(url, group_form(group, extension, repo_url))


# --- extensions ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [DEADLINE - timedelta(days=1), DEADLINE], ids=["earlier", "the same time"])
def test_an_extension_that_does_not_end_after_the_course_deadline_is_refused(
    admin_client, with_deadline, group1, extension
):
    response = post_group(admin_client, group1, extension)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"extension": [EXTENSION_NOT_LATER.format(deadline=local_text(DEADLINE))]}
    assert "An extension must end after the course deadline (Jan. 16, 2030, noon)" in form.errors["extension"][0]
    group1.refresh_from_db()
    assert group1.extension is None


def test_an_extension_after_the_course_deadline_is_saved(admin_client, alice, with_deadline, group1):
    later = DEADLINE + timedelta(days=2)

    assert post_group(admin_client, group1, later).status_code == 302

    group1.refresh_from_db()
    assert group1.extension == later
    assertContains(alice.get(reverse("report", args=[group1.pk])), "(extended for this group)")


def test_an_extension_without_a_course_deadline_is_refused(admin_client, course, group1):
    response = post_group(admin_client, group1, DEADLINE)

    assert response.context["adminform"].form.errors == {"extension": [EXTENSION_WITHOUT_DEADLINE.format(course="C1")]}
    group1.refresh_from_db()
    assert group1.extension is None


def test_a_new_group_gets_the_same_rule(admin_client, with_deadline):
    draft = Group(course=with_deadline, number=9, name="Nine")

    response = admin_client.post(
        reverse("admin:reports_app_group_add"), group_form(draft, DEADLINE - timedelta(hours=1))
    )

    assert "extension" in response.context["adminform"].form.errors
    assert not Group.objects.filter(number=9).exists()


def test_a_course_deadline_moved_past_an_extension_is_refused(admin_client, with_deadline, group1, group2):
    for group, days in ((group1, 1), (group2, 3)):
        group.extension = DEADLINE + timedelta(days=days)
        group.save()
    url = reverse("admin:reports_app_course_change", args=[with_deadline.pk])

    refused = admin_client.post(url, course_form(with_deadline, DEADLINE + timedelta(days=1)))
    moved = admin_client.post(url, course_form(with_deadline, DEADLINE + timedelta(hours=12)))

    assert refused.context["adminform"].form.errors == {"deadline": [DEADLINE_PAST_EXTENSIONS.format(groups="group 1")]}
    assert moved.status_code == 302
    with_deadline.refresh_from_db()
    assert with_deadline.deadline == DEADLINE + timedelta(hours=12)


def test_a_course_deadline_cleared_while_groups_have_extensions_is_refused(admin_client, with_deadline, group1, group2):
    Group.objects.update(extension=DEADLINE + timedelta(days=1))
    url = reverse("admin:reports_app_course_change", args=[with_deadline.pk])

    response = admin_client.post(url, course_form(with_deadline, None))

    errors = response.context["adminform"].form.errors
    assert errors == {"deadline": [DEADLINE_CLEARED_WITH_EXTENSIONS.format(groups="Groups 1 and 2", have="have")]}
    with_deadline.refresh_from_db()
    assert with_deadline.deadline == DEADLINE


# --- repo URLs: one rule, one reason, wherever a URL comes in -------------------------------------------------------

REFUSED_URLS = [
    ("https://github.com.evil.example/x/y", "the repo URL must start with https://github.com/"),
    ("https://me:token@github.com/otters/mlops", repo_urls.URL_CREDENTIALS),
    ("https://github.com/otters/%2e%2e/mlops", repo_urls.URL_DOTS),
    ("git@github.com:otters/mlops.git", "the repo URL must start with https://github.com/"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
def test_the_admin_the_roster_and_the_scrape_refuse_a_url_with_the_same_reason(
    admin_client, settings, tmp_path, course, group1, url, reason
):
    settings.SCRAPE_ALLOWED_URLS = ["https://github.com/"]

    response = post_group(admin_client, group1, None, repo_url=url)
    with pytest.raises(roster.RosterError) as read:
        roster_read(course=course, data=f"group,email,repo\n1,ann@example.com,{url}\n".encode())
    with pytest.raises(scraping.RepoRefused) as scraped:
        scraping.fetch_reports(
            url, allowed=settings.SCRAPE_ALLOWED_URLS, before=None, workdir=tmp_path, timeout=1, max_bytes=1,
            max_report_bytes=1, max_figure_bytes=1, max_figures=1,
        )  # fmt: skip

    assert response.context["adminform"].form.errors == {"repo_url": [f"{reason[0].upper()}{reason[1:]}."]}
    assert (2, reason) in read.value.problems
    assert str(scraped.value) == reason
    group1.refresh_from_db()
    assert group1.repo_url == ""


# --- time zones -----------------------------------------------------------------------------------------------------


def test_date_fields_name_their_time_zone(admin_client, settings, course, group1):
    settings.TIME_ZONE = "America/Chicago"

    course_page = admin_client.get(reverse("admin:reports_app_course_change", args=[course.pk]))
    group_page = admin_client.get(reverse("admin:reports_app_group_change", args=[group1.pk]))
    new_group = admin_client.get(reverse("admin:reports_app_group_add"))

    assertContains(course_page, "Deadline (America/Chicago):")
    assertContains(group_page, "Extension (America/Chicago):")
    assertContains(new_group, "Extension (America/Chicago):")


# --- what the admin lists, and what it lets change ------------------------------------------------------------------

# (add, change, delete) for a superuser, for every model the admin lists. Internal tables are not listed at all:
# checklist marks, drafts, figures and their versions, memberships (inline on the group), the task queue's results.
PERMISSIONS = {
    "auth.Group": (True, True, True),
    "auth.User": (True, True, True),
    "reports_app.Course": (True, True, True),
    "reports_app.Group": (True, True, True),
    "reports_app.ReportTemplate": (True, True, True),  # added by loading its file; only its rules change
    "reports_app.ChecklistItem": (False, False, False),
    "reports_app.Report": (False, False, False),
    "reports_app.AnswerRevision": (False, False, False),
    "reports_app.Scrape": (False, False, False),
    "reports_app.Job": (False, False, True),
    "reports_app.LoginCounter": (False, False, True),  # deleting a row lifts its lockout
    "reports_app.Invitation": (False, False, True),  # deleting one withdraws it
    "reports_app.GradeLog": (False, False, False),  # the audit log of grades: kept as written
}


def test_every_listed_model_is_useful_and_guarded(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user

    listed = {
        model._meta.label: (
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
        )
        for model, model_admin in admin.site._registry.items()
    }

    assert listed == PERMISSIONS


@pytest.mark.parametrize("model", ["reports_app.Report", "reports_app.AnswerRevision", "reports_app.Invitation"])
def test_read_only_tables_offer_no_add_and_refuse_one(admin_client, model):
    name = model.split(".")[1].lower()

    changelist = admin_client.get(reverse(f"admin:reports_app_{name}_changelist"))

    assert changelist.status_code == 200
    assert f'href="{reverse(f"admin:reports_app_{name}_add")}"' not in changelist.content.decode()
    assert admin_client.post(reverse(f"admin:reports_app_{name}_add"), {}).status_code == 403


def test_the_admin_index_lists_no_internal_table(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    for hidden in ("Checklist marks", "Task results", "Drafts", "Figure versions", "Db task results"):
        assert hidden.lower() not in page.lower()
