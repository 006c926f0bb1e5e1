"""The staff pages: a course's dashboard (as a page and as CSV) and the background jobs (scrape, export) staff
start, follow and download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import exporting, tasks
from ..engine.csvfiles import write_csv
from ..forms.staff import DashboardForm
from ..models import Course, Job
from ..selectors.courses import JOBS_ON_PAGE, course_hub
from ..selectors.overview import course_overview
from .access import attachment, get_course_for_staff, wants_json

# Background jobs (scrape, export): staff start them, watch their progress and download what they made.


def _get_job(request: HttpRequest, job_id: int) -> Job:
    """A job of a course the user instructs; 404 for anyone else (students and TAs never learn what runs)."""
    jobs = Job.objects.filter(course__in=Course.objects.instructed_by(request.user))
    return get_object_or_404(jobs.select_related("course", "created_by"), pk=job_id)


@login_required
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(request, job_id)
    if wants_json(request):
        return JsonResponse({"status": job.state, "label": job.state_label(), "done": job.done, "total": job.total})
    scrapes = job.scrapes.select_related("group").order_by("group__number") if job.kind == Job.Kind.SCRAPE else []
    return render(request, "reports_app/job.html", {"job": job, "scrapes": scrapes})


JOB_STARTED = "Started: {title}. It is listed under Jobs below, with its progress."
NO_DEADLINE = "This course has no deadline to scrape at: set one in the admin, or scrape at the branch head."
# Where a form on a course's page (`back=dashboard`, `back=jobs`) returns after starting a job: its list of jobs.
BACK_TO = {"dashboard": "dashboard", "jobs": "course-jobs"}


def _back_to(request: HttpRequest, course_id: int) -> str | None:
    """The jobs list of the page the form was on, or None (the job's own page)."""
    name = BACK_TO.get(request.POST.get("back", ""))
    return f"{reverse(name, args=[course_id])}#jobs" if name else None


def _started(request: HttpRequest, job: Job) -> HttpResponse:
    """After starting `job`: its own page, or back to the list the form was in, saying so."""
    back = _back_to(request, job.course_id)
    if back is None:
        return redirect("job", job.pk)
    messages.success(request, JOB_STARTED.format(title=job.title()))
    return redirect(back)


@login_required
@require_POST
def start_job(request: HttpRequest, course_id: int) -> HttpResponse:
    """Start a scrape (`kind=scrape`, optional `at_deadline`) or an export of a course; then watch it run (on its
    page, or in the list of the page the form was on: `back`)."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    kind = request.POST.get("kind")
    if kind not in Job.Kind.values:
        return HttpResponse("Unknown kind of job", status=400, content_type="text/plain")
    options = {"at_deadline": request.POST.get("at_deadline") == "1"} if kind == Job.Kind.SCRAPE else {}
    if options.get("at_deadline") and course.deadline is None:
        messages.error(request, NO_DEADLINE)
        return redirect(_back_to(request, course.pk) or reverse("dashboard", args=[course.pk]))
    try:
        started = tasks.job_start(kind=kind, course=course, user=request.user, options=options)
    except tasks.JobBusy as busy:
        messages.error(request, str(busy))
        return redirect(_back_to(request, course.pk) or reverse("dashboard", args=[course.pk]))
    return _started(request, started)


@login_required
@require_POST
def rerun_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """The same job again, after it failed or its worker was stopped half-way: groups already imported come out
    unchanged. Refused while it is queued or running still."""
    old = _get_job(request, job_id)
    try:
        started = tasks.job_rerun(old, user=request.user)
    except tasks.JobBusy as busy:
        messages.error(request, str(busy))
        return redirect(_back_to(request, old.course_id) or reverse("job", args=[old.pk]))
    return _started(request, started)


@login_required
def course_jobs(request: HttpRequest, course_id: int) -> HttpResponse:
    """A course's recent jobs with their state (the dashboard shows the first few; its script reads this page to
    follow the running ones)."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    return render(request, "reports_app/course_jobs.html", {"course": course, "hub": course_hub(course, JOBS_ON_PAGE)})


@login_required
def download_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(request, job_id)
    if job.status not in (Job.Status.DONE, Job.Status.PROBLEMS) or not job.file:
        raise Http404("This job has no file")
    if not job.file.storage.exists(job.file.name):  # exports are not kept in backups: a restored site lacks them
        raise Http404("The export's file is gone; run the export again")
    name = exporting.download_name(job.course, job.finished_at)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name, content_type="application/zip")


# The staff dashboard: every group of a course with its check and last scrape, as a page and as CSV.


ANONYMOUS_COURSE = "{course} is graded anonymously: TAs see its submissions on the grading pages only."


def _dashboard(request: HttpRequest, course: Course):
    """(overview, filter form, the rows the form selects): the page and its CSV show the same rows, of the groups the
    user sees (a TA: the groups assigned to them; none in a course graded anonymously: Http404)."""
    if course.anonymous_grading and not course.viewer_instructs:
        raise Http404(ANONYMOUS_COURSE.format(course=course))
    groups = None if course.viewer_instructs else course.groups.visible_to(request.user).values_list("pk", flat=True)
    overview = course_overview(course, group_ids=groups, invited=True)
    form = DashboardForm(request.GET, numbers=overview.numbers)
    return overview, form, overview.select(**form.selection())


@login_required
def dashboard(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_staff(request, course_id)
    if course.anonymous_grading and not course.viewer_instructs:
        messages.info(request, ANONYMOUS_COURSE.format(course=course))
        return redirect("grading", course.pk)
    overview, form, rows = _dashboard(request, course)
    can_open_admin = course.viewer_instructs and (  # the admin shows a TA no group
        request.user.has_perm("reports_app.view_group") or request.user.has_perm("reports_app.change_group")
    )
    context = {"course": course, "overview": overview, "form": form, "rows": rows, "sort": form.selection()["sort"]}
    context["can_open_admin"] = can_open_admin
    context["instructor"] = course.viewer_instructs
    return render(request, "reports_app/dashboard.html", context)


@login_required
def dashboard_csv(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_staff(request, course_id)
    overview, _, rows = _dashboard(request, course)
    response = attachment("", f"{exporting.file_name_part(course.code)}-dashboard.csv", "text/csv; charset=utf-8")
    write_csv(response, exporting.dashboard_rows(overview.numbers, rows), bom=True)
    return response
