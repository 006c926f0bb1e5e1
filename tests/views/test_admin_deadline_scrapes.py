"""A deadline saved in the admin (the course's, or a group's extension) plans the head scrapes at the deadlines
again (services.deadline_scrapes), their tasks queued once the save commits."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from reports_app.models import Group, ScheduledScrape
from tests.views.test_admin_deadlines import course_form, group_form

REPO = "https://github.com/owner/repo"


def local(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def planned() -> set[tuple[int, datetime, bool]]:
    """(group number, due at, whether its task is queued) of every plan."""
    rows = ScheduledScrape.objects.values_list("group__number", "due_at", "task_id")
    return {(number, due, DBTaskResult.objects.filter(id=task_id or None).exists()) for number, due, task_id in rows}


def test_saving_the_course_deadline_plans_a_head_scrape_per_group_with_a_repo(
    admin_client, course, django_capture_on_commit_callbacks
):
    Group.objects.create(course=course, number=1, repo_url=REPO)
    Group.objects.create(course=course, number=2)  # no repo: nothing to read

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:reports_app_course_change", args=[course.pk]), course_form(course, "2099-01-20", "23:59")
        )

    assert response.status_code == 302
    assert planned() == {(1, local("2099-01-20", "23:59"), True)}


def test_saving_an_extension_plans_the_group_at_it(admin_client, course, django_capture_on_commit_callbacks):
    course.deadline = local("2099-01-20", "23:59")
    course.save()
    group = Group.objects.create(course=course, number=1, repo_url=REPO)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:reports_app_group_change", args=[group.pk]),
            {**group_form(group, "2099-01-22", "12:00"), "repo_url": REPO},
        )

    assert response.status_code == 302
    assert planned() == {(1, local("2099-01-22", "12:00"), True)}
