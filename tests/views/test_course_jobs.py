"""The dashboard as the staff hub: scrapes and the export started from it, the course's recent jobs listed with
their state (views.staff.course_jobs, templates/reports_app/_jobs_panel.html), and the links between the site and
the admin."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reports_app.models import Job
from reports_app.views.staff import JOB_STARTED, NO_DEADLINE

DEADLINE = datetime(2026, 1, 20, 23, 59, tzinfo=UTC)


def dashboard(course) -> str:
    return reverse("dashboard", args=[course.pk])


def jobs_page(course) -> str:
    return reverse("course-jobs", args=[course.pk])


def job_row(html: str, job: Job) -> str:
    row = html[html.index(f'<tr id="job-row-{job.pk}"') :]
    return row[: row.index("</tr>")]


def start(client, course, **data):
    return client.post(reverse("start-job", args=[course.pk]), data)


# --- starting jobs from the dashboard ------------------------------------------------------------------------------


def test_the_dashboard_says_what_a_scrape_reads_before_its_buttons_start_one(staff, course, group1, group2):
    group1.repo_url = "https://github.com/acme/one"
    group1.save()
    course.deadline = DEADLINE
    course.save()

    html = staff.get(dashboard(course)).content.decode()

    panel = html[html.index('<details class="hub-scrape">') : html.index("</details>")]
    assert '<summary class="btn btn-outline-primary btn-sm">Scrape the repos…</summary>' in panel
    assert "each of the <strong>1 group</strong> with a repo URL\n            (1 without one is left out)" in panel
    assert 'name="at_deadline" value="0" class="btn btn-primary btn-sm">Scrape 1 repo at the branch head' in panel
    assert 'name="at_deadline" value="1" class="btn btn-outline-primary btn-sm">Scrape 1 repo at the deadline' in panel
    assert '<input type="hidden" name="back" value="dashboard">' in panel and "csrfmiddlewaretoken" in panel
    assert html.count('<input type="hidden" name="kind" value="export">') == 1


def test_without_a_deadline_or_a_repo_the_panel_says_why_it_cannot(staff, course, group1):
    html = staff.get(dashboard(course)).content.decode()
    assert "No group has a repo URL yet: there is nothing to scrape." in html
    assert "Scrape 0 repos" not in html

    group1.repo_url = "https://github.com/acme/one"
    group1.save()
    html = staff.get(dashboard(course)).content.decode()
    assert "Scrape 1 repo at the deadline" in html
    assert ' disabled aria-describedby="no-deadline">Scrape 1 repo at the deadline' in html
    assert "This course has no deadline to scrape at: set one in the admin." in html


def test_a_scrape_started_from_the_dashboard_comes_back_to_its_list(
    staff, course, instructor, django_capture_on_commit_callbacks
):
    course.deadline = DEADLINE
    course.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = start(staff, course, kind="scrape", at_deadline="1", back="dashboard")

    job = Job.objects.get()
    assertRedirects(response, f"{dashboard(course)}#jobs", fetch_redirect_response=False)
    assert (job.kind, job.options, job.status) == ("scrape", {"at_deadline": True}, "queued")
    assert job.created_by == instructor
    page = staff.get(dashboard(course))
    assertContains(page, escape(JOB_STARTED.format(title="scrape at the deadline")))
    row = job_row(page.content.decode(), job)
    assert "Scrape at the deadline" in row and "queued" in row and "waiting for a worker" in row
    assert "data-active" in row


def test_an_export_started_from_the_jobs_page_comes_back_to_it(staff, course):
    response = start(staff, course, kind="export", back="jobs")
    assertRedirects(response, f"{jobs_page(course)}#jobs", fetch_redirect_response=False)
    assert Job.objects.get().kind == "export"


def test_a_form_from_elsewhere_goes_to_the_jobs_own_page(staff, course):
    response = start(staff, course, kind="export", back="https://elsewhere.example/")
    assertRedirects(response, reverse("job", args=[Job.objects.get().pk]), fetch_redirect_response=False)


def test_a_scrape_at_the_deadline_of_a_course_without_one_is_refused_saying_why(staff, course):
    response = start(staff, course, kind="scrape", at_deadline="1", back="dashboard")
    assertRedirects(response, f"{dashboard(course)}#jobs", fetch_redirect_response=False)
    assert Job.objects.count() == 0
    assertContains(staff.get(dashboard(course)), escape(NO_DEADLINE))


# --- the list of recent jobs --------------------------------------------------------------------------------------


@pytest.fixture
def jobs(course, instructor, settings):
    """A running scrape at 37 of 150, a finished export with its zip, a failed scrape and a stopped export."""
    settings.JOB_STALLED_SECONDS = 60
    now = timezone.now()
    running = Job.objects.create(
        kind="scrape", course=course, created_by=instructor, status="running", done=37, total=150,
        started_at=now, heartbeat_at=now, progress_at=now,
    )  # fmt: skip
    export = Job.objects.create(
        kind="export", course=course, created_by=instructor, status="done", done=2, total=2, message="2 groups",
        finished_at=now,
    )  # fmt: skip
    export.file.save("c1.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    failed = Job.objects.create(
        kind="scrape", course=course, status="failed", options={"groups": [1, 2]}, message="RuntimeError: boom"
    )
    gone = now - timedelta(seconds=61)
    stopped = Job.objects.create(
        kind="export", course=course, created_by=instructor, status="running", started_at=gone, heartbeat_at=gone
    )
    return {"running": running, "export": export, "failed": failed, "stopped": stopped}


def test_the_list_shows_each_jobs_state_progress_and_what_can_be_done_with_it(staff, course, jobs):
    html = staff.get(jobs_page(course)).content.decode()

    running = job_row(html, jobs["running"])
    assert "Scrape at the branch head" in running and ">running</span>" in running and "37/150" in running
    assert "data-active" in running and "Run it again" not in running and "instructor" in running

    export = job_row(html, jobs["export"])
    assert f'href="{reverse("download-job", args=[jobs["export"].pk])}"' in export and "2 groups" in export
    assert "data-active" not in export and "Run it again" not in export

    failed = job_row(html, jobs["failed"])
    assert "Scrape at the branch head (2 chosen groups)" in failed and "RuntimeError: boom" in failed
    assert "by someone" in failed  # nobody recorded as its author
    stopped = job_row(html, jobs["stopped"])
    assert ">stopped</span>" in stopped and "data-active" not in stopped
    assert f"no sign of life since {timezone.localtime(jobs['stopped'].heartbeat_at):%H:%M}: groups finished" in stopped
    for row in (failed, stopped):
        assert "Run it again" in row and '<input type="hidden" name="back" value="jobs">' in row
        assert "Download" not in row


def test_the_dashboard_lists_the_three_most_recent_jobs(staff, course, jobs, instructor):
    newer = Job.objects.create(kind="export", course=course, created_by=instructor)
    html = staff.get(dashboard(course)).content.decode()
    shown = [job for job in Job.objects.all() if f'id="job-row-{job.pk}"' in html]
    assert shown == [newer, jobs["stopped"], jobs["failed"]]
    assert f'href="{jobs_page(course)}"' in html  # all recent jobs


def test_run_again_from_the_dashboard_comes_back_to_it(staff, course, jobs):
    refused = staff.post(reverse("rerun-job", args=[jobs["failed"].pk]), {"back": "dashboard"}, follow=True)
    assert f"A scrape of {course} is running already (job #{jobs['running'].pk}".encode() in refused.content
    Job.objects.filter(pk=jobs["running"].pk).update(status="done")  # the other scrape is over: now it may
    response = staff.post(reverse("rerun-job", args=[jobs["failed"].pk]), {"back": "dashboard"})
    assertRedirects(response, f"{dashboard(course)}#jobs", fetch_redirect_response=False)
    again = Job.objects.latest("id")
    assert (again.kind, again.options, again.status) == ("scrape", {"groups": [1, 2]}, "queued")


def test_run_again_of_a_job_under_way_is_refused_back_in_the_list(staff, course, jobs):
    response = staff.post(reverse("rerun-job", args=[jobs["running"].pk]), {"back": "jobs"}, follow=True)
    assertContains(response, "This job is running still")
    assert response.redirect_chain == [(f"{jobs_page(course)}#jobs", 302)]


def test_a_course_without_jobs_says_so(staff, course):
    assertContains(staff.get(jobs_page(course)), "No jobs yet")


def test_the_jobs_page_queries_do_not_grow_with_the_jobs(
    staff, course, instructor, django_user_model, django_assert_num_queries
):
    Job.objects.create(kind="export", course=course, created_by=instructor)
    # session, user, course, the groups counted, the jobs with who started them, the user's permissions and their
    # groups' (the admin link)
    with django_assert_num_queries(7):
        staff.get(jobs_page(course))
    for n in range(10):
        author = django_user_model.objects.create_user(f"ta{n}")
        Job.objects.create(kind="scrape", course=course, created_by=author, status="failed")
    with django_assert_num_queries(7):
        html = staff.get(jobs_page(course)).content.decode()
    assert html.count('<tr id="job-row-') == 11 and "ta9" in html


def test_the_job_page_leads_back_to_the_course(staff, course, jobs):
    html = staff.get(reverse("job", args=[jobs["failed"].pk])).content.decode()
    assert f'href="{dashboard(course)}"' in html and f'href="{jobs_page(course)}"' in html


# --- between the site and the admin --------------------------------------------------------------------------------


def test_the_admins_course_page_leads_to_the_dashboard_and_the_jobs(admin_client, course):
    page = admin_client.get(reverse("admin:reports_app_course_change", args=[course.pk]))
    assertContains(page, f'<a href="{dashboard(course)}">Dashboard</a>')
    assertContains(page, f'<a href="{jobs_page(course)}">Jobs</a>')


def test_the_admins_group_page_leads_to_the_report_page(admin_client, group1):
    page = admin_client.get(reverse("admin:reports_app_group_change", args=[group1.pk]))
    assertContains(page, f'<a href="{reverse("report", args=[group1.pk])}">Report page</a>')
    assertContains(page, f'<a href="{dashboard(group1.course)}">Dashboard</a>')


def test_the_jobs_page_links_the_admins_list_only_for_who_may_see_it(staff, admin_client, course):
    admin_list = f"{reverse('admin:reports_app_job_changelist')}?course__id__exact={course.pk}"
    assertNotContains(staff.get(jobs_page(course)), admin_list)
    assertContains(admin_client.get(jobs_page(course)), admin_list)


def test_each_group_on_the_dashboard_links_its_admin_page_for_who_may_use_it(staff, admin_client, group1):
    admin_page = reverse("admin:reports_app_group_change", args=[group1.pk])
    for client, shown in ((staff, False), (admin_client, True)):
        html = client.get(dashboard(group1.course)).content.decode()
        row = html[html.index('<tr id="group-1">') :]
        row = row[: row.index("</th>")]
        assert f'href="{reverse("report", args=[group1.pk])}"' in row
        assert (f'href="{admin_page}"' in row) is shown
