"""Background jobs: staff start a scrape or an export, a real `db_worker` runs it, the job page follows it."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from reports_app import tasks
from reports_app.models import Job


def run_worker() -> None:
    """What `manage.py db_worker` does in production, here until the queue is empty.

    The worker closes its database connections as it goes, so tests that run it use a transactional database.
    """
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


@pytest.fixture
def started(staff, course, django_capture_on_commit_callbacks):
    """Start a job through the page, as staff do; the task is queued when the request's transaction commits."""

    def start(kind: str, **extra) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            response = staff.post(reverse("start-job", args=[course.pk]), {"kind": kind, **extra})
        job = Job.objects.latest("id")
        assert response.status_code == 302 and response.url == reverse("job", args=[job.pk])
        return job

    return start


def urls(job: Job) -> list[tuple[str, str]]:
    return [
        ("get", reverse("job", args=[job.pk])),
        ("get", reverse("download-job", args=[job.pk])),
        ("post", reverse("rerun-job", args=[job.pk])),
        ("post", reverse("start-job", args=[job.course_id])),
    ]


@pytest.fixture
def job(course, instructor):
    return Job.objects.create(kind=Job.Kind.EXPORT, course=course, created_by=instructor)


def test_anonymous_is_sent_to_login(client, job):
    for method, url in urls(job):
        response = getattr(client, method)(url, {"kind": "export"})
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    assert Job.objects.count() == 1


def test_students_get_404_and_start_nothing(alice, job):
    for method, url in urls(job):
        assert getattr(alice, method)(url, {"kind": "export"}).status_code == 404, url
    assert Job.objects.count() == 1


def test_starting_a_job_queues_it_once_the_request_commits(started, instructor, course):
    course.deadline = timezone.now() + timedelta(days=1)
    course.save()
    job = started("scrape", at_deadline="1")
    assert (job.kind, job.status, job.created_by) == ("scrape", "queued", instructor)
    assert job.options == {"at_deadline": True}
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [job.pk] and queued.task_path == "reports_app.tasks.run_job"
    job.refresh_from_db()
    assert job.task_id == str(queued.id)


def test_an_unknown_kind_is_refused(staff, course):
    response = staff.post(reverse("start-job", args=[course.pk]), {"kind": "delete-everything"})
    assert response.status_code == 400 and Job.objects.count() == 0


def test_a_queued_job_page_says_it_waits_for_a_worker(staff, started):
    job = started("export")
    response = staff.get(reverse("job", args=[job.pk]))
    assert b"Waiting for a worker" in response.content and b"0 of 0" in response.content
    status = staff.get(reverse("job", args=[job.pk]), headers={"Accept": "application/json"}).json()
    assert status == {"status": "queued", "label": "queued", "done": 0, "total": 0}


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_an_export_and_the_page_offers_the_zip(staff, started, group1, group2, settings):
    job = started("export")
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 2, 2)
    assert job.started_at <= job.finished_at
    response = staff.get(reverse("job", args=[job.pk]))
    assert reverse("download-job", args=[job.pk]).encode() in response.content
    download = staff.get(reverse("download-job", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="C1-reports-')
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert "index.html" in names and "grades.csv" in names
    assert not list((settings.MEDIA_ROOT / "exports").glob("*.part"))  # the zip was written under another name first

    Path(job.file.path).unlink()  # as on a site restored from a backup, which leaves exports out
    assert staff.get(reverse("download-job", args=[job.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_worker_scrapes_every_group_with_a_repo(staff, started, group1, group2):
    job = started("scrape")  # neither group has a repo URL: nothing to fetch, and the job still ends
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.total, job.message) == ("done", 0, "0 groups")


@pytest.mark.django_db(transaction=True)
def test_a_failing_export_is_marked_failed_with_its_reason(staff, started, group1, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    job = started("export")
    run_worker()
    job.refresh_from_db()
    assert job.status == "failed" and job.message.startswith(("FileExistsError", "NotADirectoryError"))
    response = staff.get(reverse("job", args=[job.pk]))
    assert escape(job.message).encode() in response.content and b"Run it again" in response.content
    assert staff.get(reverse("download-job", args=[job.pk])).status_code == 404


def test_a_job_runs_once_even_when_its_task_comes_twice(started, group1):
    job = started("export")
    tasks.job_run(job.pk)
    job.refresh_from_db()
    finished = job.finished_at
    tasks.job_run(job.pk)  # a second delivery finds it done and leaves it alone
    job.refresh_from_db()
    assert job.status == "done" and job.finished_at == finished


def test_run_again_starts_a_failed_job_anew(staff, started, django_capture_on_commit_callbacks, course):
    course.deadline = timezone.now() + timedelta(days=1)
    course.save()
    first = started("scrape", at_deadline="1")
    Job.objects.filter(pk=first.pk).update(status="failed", message="RuntimeError: boom")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("rerun-job", args=[first.pk]))
    second = Job.objects.latest("id")
    assert second.pk != first.pk and response.url == reverse("job", args=[second.pk])
    assert (second.kind, second.options, second.status) == ("scrape", {"at_deadline": True}, "queued")
    assert DBTaskResult.objects.count() == 2


def test_a_queued_or_live_job_is_not_run_twice(staff, started, settings):
    job = started("export")
    for status in ("queued", "running"):
        Job.objects.filter(pk=job.pk).update(status=status, started_at=timezone.now(), heartbeat_at=timezone.now())
        page = staff.get(reverse("job", args=[job.pk]))
        assert b"Run it again" not in page.content
        response = staff.post(reverse("rerun-job", args=[job.pk]), follow=True)
        assert f"This job is {status} still".encode() in response.content
        assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_a_scrape_is_not_started_while_another_scrape_of_the_course_is_queued_or_running(
    staff, started, course, settings
):
    first = started("scrape")
    back = staff.post(reverse("start-job", args=[course.pk]), {"kind": "scrape", "back": "dashboard"}, follow=True)

    assert f"A scrape of {course} is queued already (job #{first.pk}".encode() in back.content
    assert back.redirect_chain[-1][0] == reverse("dashboard", args=[course.pk]) + "#jobs"
    assert started("export").kind == "export"  # exports are not held up
    Job.objects.filter(pk=first.pk).update(status="running", started_at=timezone.now(), heartbeat_at=timezone.now())
    assert staff.post(reverse("start-job", args=[course.pk]), {"kind": "scrape"}).status_code == 302
    assert Job.objects.filter(kind="scrape").count() == 1
    stalled = timezone.now() - timedelta(seconds=settings.JOB_STALLED_SECONDS + 1)
    Job.objects.filter(pk=first.pk).update(heartbeat_at=stalled)  # its worker was killed: no longer in the way
    assert started("scrape").pk != first.pk


def test_the_admin_action_says_which_course_is_busy_and_starts_the_others(admin_client, course, instructor):
    from reports_app.models import Course

    other = Course.objects.create(code="C9", template=course.template)
    busy = tasks.job_start(kind="scrape", course=course, user=instructor)
    changelist = reverse("admin:reports_app_course_changelist")
    data = {"action": "scrape_heads", "_selected_action": [course.pk, other.pk]}

    page = admin_client.post(changelist, data, follow=True).content.decode()

    assert f"A scrape of {course} is queued already (job #{busy.pk}" in page
    assert list(Job.objects.filter(kind="scrape").values_list("course__code", flat=True).order_by("id")) == ["C1", "C9"]


def test_a_running_job_without_heartbeat_is_stopped_and_can_be_run_again(
    staff, started, settings, django_capture_on_commit_callbacks, admin_client
):
    settings.JOB_STALLED_SECONDS = 60
    job = started("export")
    beat = timezone.now() - timedelta(seconds=59)
    Job.objects.filter(pk=job.pk).update(status="running", started_at=beat, heartbeat_at=beat, done=3, total=9)
    as_json = {"headers": {"Accept": "application/json"}}
    assert staff.get(reverse("job", args=[job.pk]), **as_json).json()["status"] == "running"

    beat = timezone.now() - timedelta(seconds=61)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=beat)
    assert staff.get(reverse("job", args=[job.pk]), **as_json).json() == {
        "status": "stopped",
        "label": "stopped",
        "done": 3,
        "total": 9,
    }
    page = staff.get(reverse("job", args=[job.pk])).content.decode()
    assert 'Status: <strong id="job-status">stopped</strong>' in page and "Run it again" in page
    admin_list = admin_client.get(reverse("admin:reports_app_job_changelist")).content.decode()
    assert '<td class="field-state">stopped</td>' in admin_list
    assert f"no sign of life since {timezone.localtime(beat):%H:%M:%S}" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("rerun-job", args=[job.pk]))
    again = Job.objects.latest("id")
    assert response.url == reverse("job", args=[again.pk]) and again.status == "queued"
    job.refresh_from_db()
    assert job.status == "failed" and job.message.startswith("Stopped: its worker gave no sign of life after")
    tasks.job_run(again.pk)
    again.refresh_from_db()
    assert again.status == "done"


def test_the_course_action_starts_a_scrape_at_the_deadline(admin_client, course):
    response = admin_client.post(
        reverse("admin:reports_app_course_changelist"),
        {"action": "scrape_at_deadline", "_selected_action": [course.pk]},
    )
    job = Job.objects.get()
    assert response.url == reverse("job", args=[job.pk])
    assert (job.kind, job.course, job.options) == ("scrape", course, {"at_deadline": True})


def test_the_group_action_starts_one_scrape_per_course_for_the_chosen_groups(admin_client, group1, group2):
    from reports_app.models import Course, Group

    other = Group.objects.create(course=Course.objects.create(code="C2"), number=5)
    response = admin_client.post(
        reverse("admin:reports_app_group_changelist"),
        {"action": "scrape_heads", "_selected_action": [group2.pk, other.pk]},
        follow=True,
    )
    jobs = list(Job.objects.order_by("course__code"))
    assert [(j.course.code, j.options) for j in jobs] == [
        ("C1", {"groups": [group2.pk], "at_deadline": False}),
        ("C2", {"groups": [other.pk], "at_deadline": False}),
    ]
    assert b"2 jobs started" in response.content
    for job in jobs:
        assert reverse("job", args=[job.pk]).encode() in response.content


def test_a_scrape_of_chosen_groups_covers_only_them(group1, group2, instructor):
    job = Job.objects.create(kind="scrape", course=group1.course, options={"groups": [group2.pk]})
    group1.repo_url = "https://github.com/acme/one"
    group1.save()
    assert tasks.job_groups(job) == [group2]
    job.options = {}
    assert tasks.job_groups(job) == [group1]  # every group with a repo URL


def test_the_job_list_in_the_admin_links_each_job_page(admin_client, job):
    response = admin_client.get(reverse("admin:reports_app_job_changelist"))
    assert reverse("job", args=[job.pk]).encode() in response.content


# --- progress, not only liveness ------------------------------------------------------------------------------------


def test_a_running_job_whose_progress_stands_still_is_stuck_though_its_heartbeat_goes_on(
    staff, started, settings, django_capture_on_commit_callbacks, admin_client
):
    """A hung job's heartbeat thread beats on: the job shows as stuck once no step began or ended for longer than a
    group may take, names where it stands, and can be run again."""
    settings.JOB_HEARTBEAT_SECONDS, settings.JOB_STALLED_SECONDS, settings.JOB_GROUP_SECONDS = 10, 60, 300
    job = started("scrape")
    now = timezone.now()
    last_step = now - timedelta(seconds=300)
    Job.objects.filter(pk=job.pk).update(
        status="running", started_at=last_step, heartbeat_at=now, progress_at=last_step, current="on group 7"
    )
    as_json = {"headers": {"Accept": "application/json"}}
    assert staff.get(reverse("job", args=[job.pk]), **as_json).json()["status"] == "running"  # within its budget

    last_step = now - timedelta(seconds=311)
    Job.objects.filter(pk=job.pk).update(progress_at=last_step)
    label = f"stuck on group 7 since {timezone.localtime(last_step):%H:%M}"
    assert staff.get(reverse("job", args=[job.pk]), **as_json).json() == {
        "status": "stuck",
        "label": label,
        "done": 0,
        "total": 0,
    }
    page = staff.get(reverse("job", args=[job.pk])).content.decode()
    assert f'Status: <strong id="job-status">{label}</strong>' in page and "Run it again" in page
    assert f"no progress on group 7 since\n    {timezone.localtime(last_step):%H:%M:%S}" in page
    admin_list = admin_client.get(reverse("admin:reports_app_job_changelist")).content.decode()
    assert f'<td class="field-state">{label}</td>' in admin_list

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("rerun-job", args=[job.pk]))
    again = Job.objects.latest("id")
    assert response.url == reverse("job", args=[again.pk]) and again.status == "queued"
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith(f"Stuck: no progress on group 7 since {timezone.localtime(last_step):%H:%M:%S}")
    tasks.job_run(again.pk)
    again.refresh_from_db()
    assert (again.status, again.current) == ("done", "")
    assert again.started_at <= again.progress_at <= again.finished_at


def test_a_scrape_where_a_group_cannot_be_imported_ends_done_with_problems(
    staff, started, group1, group2, tmp_path, settings, parser_breaks_on_boom
):
    from tests.helpers.repos import BOOM, JAN_10, make_repo, with_answer

    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    for group, text in ((group1, with_answer(BOOM)), (group2, with_answer("s111111, s222222"))):
        group.repo_url = make_repo(tmp_path, f"g{group.number}", [(JAN_10, {"reports/README.md": text})])
        group.save()
    job = started("scrape")

    tasks.job_run(job.pk)

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.current) == ("problems", 2, 2, "")
    assert job.message == "2 groups: 1 cannot import, 1 ok"
    page = staff.get(reverse("job", args=[job.pk])).content.decode()
    assert 'Status: <strong id="job-status">done with problems</strong>' in page
    assert "the report could not be imported: ValueError: the parser gave up" in page
    assert "Run it again" not in page
