"""The student pages: a group's report, its answers, history, checklist, figures and downloads.

Every view looks its group up through `_get_access`: members may edit until the deadline, staff may look at every
group, anyone else gets a 404 (we don't confirm that a group exists).
"""

from __future__ import annotations

import functools
import logging
import smtplib
import sys
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import send_mail
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_POST

from . import exporting, login_rate_limit, tasks
from .engine import checks, rendering
from .engine.csvfiles import write_csv
from .engine.figures import FigureRejected
from .forms import (
    MAX_ANSWER_CHARS,
    VERSION_REFUSED_RESTORE,
    AnswerForm,
    DashboardForm,
    FigureForm,
    JoinForm,
    LoginForm,
    PasswordSetupForm,
    RestoreForm,
    clean_answer_text,
)
from .models import Answer, AnswerRevision, Course, Figure, Group, Invitation, Job, Membership, Question, Report
from .selectors.overview import course_overview
from .selectors.report_page import report_page
from .services.answers import (
    UNRENDERED,
    AnswerConflict,
    DeadlinePassed,
    answer_restore,
    answer_save,
    checklist_set,
    closed_message,
    stored_answer_html,
)
from .services.figures import figure_add, figure_delete, figure_users
from .services.reports import report_for_group, report_grading_html, report_markdown, report_zip
from .services.signup import (
    INVITATION_GONE,
    InvitationRefused,
    SignupRefused,
    course_for_join_code,
    group_people,
    group_signup,
    invitation_accept,
    invitation_account,
    invitation_find,
    invitation_new_account,
    invitation_renew,
    invitations_for,
    join_sizes,
)
from .services.templates import MAX_POSITION

logger = logging.getLogger(__name__)

UNRENDERED_SAVED = "Your text is saved as typed; the report shows it unformatted until it can be rendered."
HAND_IN_UNRENDERABLE = "The hand-in HTML of group {number} cannot be made: {why}. The README itself downloads as usual."


@dataclass(frozen=True)
class Access:
    group: Group
    report: Report
    is_member: bool
    can_edit: bool  # a member, before the deadline: decided once per request, so one page never says both


def _get_access(request: HttpRequest, group_id: int) -> Access:
    """The group and its report for a member or staff; 404 for anyone else (one query)."""
    group = get_object_or_404(
        Group.objects.select_related("course__template", "report__template").annotate(
            is_member=Exists(Membership.objects.filter(group=OuterRef("pk"), user_id=request.user.pk))
        ),
        pk=group_id,
    )
    if not (group.is_member or request.user.is_staff):
        raise Http404("No such group")
    report = report_for_group(group)
    if report is None:
        raise Http404("This course has no report template yet")
    return Access(group, report, group.is_member, group.is_member and group.is_open())


def _wants_json(request: HttpRequest) -> bool:
    """The page's script asks for JSON; a plain form post gets a redirect with a message."""
    return request.headers.get("Accept") == "application/json"


def _why_not_writable(access: Access) -> str | None:
    """Why this user may not change the report now, or None when they may."""
    if access.can_edit:
        return None
    return closed_message(access.group) if access.is_member else "Only the group's members can change its report."


def _refusal(request: HttpRequest, group_id: int, reason: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": reason}, status=403)
    messages.error(request, reason)
    return redirect("report", group_id)


def _refuse_write(request: HttpRequest, access: Access) -> HttpResponse | None:
    """A 403 (JSON) or a redirect with the reason when this user may not change the report now, else None."""
    reason = _why_not_writable(access)
    return _refusal(request, access.group.pk, reason) if reason else None


def _closes_cleanly(view):
    """A write that meets the deadline between our check and the save gets the same refusal as one refused up front."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, group_id: int, **kwargs) -> HttpResponse:
        try:
            return view(request, group_id, **kwargs)
        except DeadlinePassed as error:
            return _refusal(request, group_id, str(error))

    return wrapper


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler for an uncaught exception (called inside its `except`). A database that does not answer (it is
    restarting, say) gets a 503 that says so and gives back the text the person sent, so that nothing typed is lost.
    Rendered without the request: its context would query the database again."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        text = request.POST.get("text", "") if request.method == "POST" else ""
        page = loader.render_to_string("503.html", {"text": text})
        return HttpResponse(page, status=503, headers={"Retry-After": "30"})
    return HttpResponseServerError(loader.render_to_string("500.html"))


def healthz(request: HttpRequest) -> HttpResponse:
    """For the container's health check: 200 when the site answers and reaches its database, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    groups = list(Group.objects.filter(memberships__user=request.user).select_related("course"))
    if len(groups) == 1 and not request.user.is_staff:
        return redirect("report", groups[0].pk)
    courses = Course.objects.prefetch_related("groups") if request.user.is_staff else Course.objects.none()
    return render(request, "reports_app/home.html", {"groups": groups, "courses": courses})


@login_required
def report(request: HttpRequest, group_id: int) -> HttpResponse:
    access = _get_access(request, group_id)
    page = report_page(access.report)
    members, invited = group_people(access.group)
    context = {"access": access, "page": page, "group": access.group, "members": members, "invited": invited}
    return render(request, "reports_app/report.html", context)


def _question(access: Access, number: int) -> Question:
    return get_object_or_404(
        Question.objects.select_related("section"), template_id=access.report.template_id, number=number
    )


def _answer(access: Access, question: Question) -> Answer:
    answer = Answer.objects.filter(report=access.report, question=question).select_related("updated_by").first()
    return answer or Answer(report=access.report, question=question, version=0)


@login_required
@_closes_cleanly
def edit_answer(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    access = _get_access(request, group_id)
    question = _question(access, number)
    answer = _answer(access, question)
    form = AnswerForm(request.POST or None, initial={"text": answer.text, "version": answer.version})
    conflict = preview = refused = None
    if request.method == "POST":
        if refused := _why_not_writable(access):
            messages.error(request, f"{refused} Your text was not saved; it is below to copy.")
        elif form.is_valid():
            text = form.cleaned_data["text"]
            if "preview" in request.POST:
                preview, _ = stored_answer_html(text, access.group.pk, number)
            else:
                try:
                    saved = answer_save(
                        report=access.report,
                        question=question,
                        text=text,
                        base_version=form.cleaned_data["version"],
                        user=request.user,
                    )
                except AnswerConflict as error:
                    conflict, answer = error, error.answer
                    form = AnswerForm(initial={"text": text, "version": answer.version})
                else:
                    messages.success(request, f"Question {number} saved (version {saved.version}).")
                    _warn_if_unrendered(request, saved, number)
                    return redirect(reverse("report", args=[group_id]) + f"#question-{number}")
    is_last = not Question.objects.filter(template_id=question.template_id, number__gt=number).exists()
    result = checks.check_alone(form["text"].value() or "", question.rule(), is_last=is_last)
    context = {
        "access": access,
        "group": access.group,
        "question": question,
        "answer": answer,
        "form": form,
        "conflict": conflict,
        "preview": preview,
        "result": result,
        "is_last": is_last,
        "figures": access.report.figures.all(),
        "unsaved_text": request.POST.get("text") if refused else None,
    }
    return render(request, "reports_app/edit_answer.html", context, status=403 if refused else 200)


def _warn_if_unrendered(request: HttpRequest, saved: Answer, number: int) -> None:
    """Say so when the text just saved could not be rendered (answer_save sets `render_problem`)."""
    if saved.render_problem:
        why = UNRENDERED.format(number=number, why=saved.render_problem)
        messages.warning(request, f"{why}. {UNRENDERED_SAVED}")


@login_required
@require_POST
def preview_answer(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    """The sanitized HTML of unsaved text, for the editor's preview pane: within the render budget, text that cannot
    be rendered comes back as typed with why. Refused (403, with the reason) to anyone who may not write now."""
    access = _get_access(request, group_id)
    _question(access, number)
    if reason := _why_not_writable(access):
        page = f'<div class="alert alert-warning mb-0" role="alert">{escape(reason)}</div>'
        return HttpResponse(page, status=403, content_type="text/html; charset=utf-8")
    text = clean_answer_text(request.POST.get("text", ""))[:MAX_ANSWER_CHARS]
    html, _ = stored_answer_html(text, access.group.pk, number)
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@login_required
def answer_history(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    access = _get_access(request, group_id)
    question = _question(access, number)
    answer = _answer(access, question)
    revisions = list(answer.revisions.select_related("author")) if answer.pk else []
    by_id = {r.pk: r for r in revisions}
    saved = [r for r in revisions if r.kind == AnswerRevision.Kind.SAVED]
    new = by_id.get(_int(request.GET.get("new"))) or (saved[0] if saved else None)
    old = by_id.get(_int(request.GET.get("old"))) or next((r for r in saved if new and r.version < new.version), None)
    diff = rendering.word_diff(old.text if old else "", new.text) if new else rendering.WordDiff([])
    context = {
        "access": access,
        "group": access.group,
        "question": question,
        "answer": answer,
        "revisions": revisions,
        "old": old,
        "new": new,
        "diff": diff.runs,
        "diff_note": rendering.WORD_DIFF_SIMPLIFIED if diff.simplified else "",
    }
    return render(request, "reports_app/answer_history.html", context)


def _int(value: str | None) -> int | None:
    # ASCII digits only ("²".isdigit() is true, int() refuses it) and few enough for int() to take them at once
    return int(value) if value and len(value) <= 18 and value.isascii() and value.isdigit() else None


@login_required
@require_POST
@_closes_cleanly
def restore_answer(request: HttpRequest, group_id: int, number: int, revision_id: int) -> HttpResponse:
    access = _get_access(request, group_id)
    if refused := _refuse_write(request, access):
        return refused
    revision = get_object_or_404(
        AnswerRevision.objects.select_related("answer__question"),
        pk=revision_id,
        answer__report=access.report,
        answer__question__number=number,
    )
    history = reverse("answer-history", args=[group_id, number])
    form = RestoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, VERSION_REFUSED_RESTORE)
        return redirect(history)
    try:
        saved = answer_restore(
            report=access.report,
            revision=revision,
            base_version=form.cleaned_data["version"],
            user=request.user,
        )
    except AnswerConflict as error:
        messages.error(
            request,
            f"Not restored: version {error.answer.version} was saved in the meantime. "
            "Your restore is kept in the history below; look at the newest version, then restore again if you want.",
        )
        return redirect(history)
    messages.success(request, f"Restored as version {saved.version}.")
    _warn_if_unrendered(request, saved, number)
    return redirect(history)


def _positions(values: list[str]) -> set[int]:
    """Checklist positions as a form sends them; ValueError, as for an unknown item, for a value that is none."""
    positions = set()
    for value in values:
        position = _int(value)
        if position is None or position > MAX_POSITION:
            raise ValueError(f"no checklist item at position {value[:40]}")
        positions.add(position)
    return positions


@login_required
@require_POST
@_closes_cleanly
def tick_checklist(request: HttpRequest, group_id: int) -> HttpResponse:
    """Checklist ticks. The form sends what was ticked when the page was shown (`was`) and what is ticked now
    (`item`); only the difference is saved, so a stale page never unticks a teammate's item."""
    access = _get_access(request, group_id)
    if refused := _refuse_write(request, access):
        return refused
    checklist = reverse("report", args=[group_id]) + "#checklist"
    try:
        now, was = _positions(request.POST.getlist("item")), _positions(request.POST.getlist("was"))
        changes = {p: True for p in now - was} | {p: False for p in was - now}
        checklist_set(report=access.report, changes=changes, user=request.user)
    except ValueError as error:
        if _wants_json(request):
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, f"Checklist not saved: {error}.")
        return redirect(checklist)
    if _wants_json(request):
        return JsonResponse({"saved": {str(p): c for p, c in changes.items()}})
    messages.success(request, "Checklist saved." if changes else "The checklist had no changes to save.")
    return redirect(checklist)


@login_required
@_closes_cleanly
def figures(request: HttpRequest, group_id: int) -> HttpResponse:
    access = _get_access(request, group_id)
    form = FigureForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if refused := _refuse_write(request, access):
            return refused
        if form.is_valid():
            try:
                figure, created = figure_add(
                    report=access.report,
                    data=form.cleaned_data["file"].read(),
                    wanted_name=form.wanted_name(),
                    user=request.user,
                )
            except FigureRejected as error:
                form.add_error("file", str(error))
            else:
                if created:
                    messages.success(
                        request, f"Uploaded {figure.name}. Paste {figure.snippet} into an answer to show it."
                    )
                else:
                    messages.info(request, f"This image is uploaded already, as {figure.name}.")
                return redirect("figures", group_id)
    figure_list = list(access.report.figures.select_related("uploaded_by"))
    used = figure_users(access.report.answers.select_related("question"))
    context = {
        "access": access,
        "group": access.group,
        "form": form,
        "figures": [(f, used.get(f.name, [])) for f in figure_list],
    }
    return render(request, "reports_app/figures.html", context)


def _figure(access: Access, name: str) -> Figure:
    return get_object_or_404(Figure, report=access.report, name=name)


@login_required
def figure(request: HttpRequest, group_id: int, name: str) -> FileResponse:
    access = _get_access(request, group_id)
    found = _figure(access, name)
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
@_closes_cleanly
def delete_figure(request: HttpRequest, group_id: int, name: str) -> HttpResponse:
    access = _get_access(request, group_id)
    found = _figure(access, name)
    used_by = figure_users(access.report.answers.select_related("question")).get(name, [])
    if request.method == "POST":
        if refused := _refuse_write(request, access):
            return refused
        if not used_by or request.POST.get("confirm") == "yes":
            figure_delete(figure=found)
            messages.success(request, f"Deleted {name}.")
            return redirect("figures", group_id)
    context = {"access": access, "group": access.group, "figure": found, "used_by": used_by}
    return render(request, "reports_app/delete_figure.html", context)


def _attachment(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _download_name(group: Group, suffix: str) -> str:
    return f"{exporting.safe_name(group.course.code)}-group-{group.number}-{suffix}"


@login_required
def download_zip(request: HttpRequest, group_id: int) -> HttpResponse:
    access = _get_access(request, group_id)
    return _attachment(report_zip(access.report), _download_name(access.group, "reports.zip"), "application/zip")


def _cannot_make(request: HttpRequest, access: Access, error: rendering.RenderError) -> HttpResponse:
    """Instead of a hand-in HTML that cannot be made: a page that says why (never a substitute file)."""
    context = {
        "access": access,
        "group": access.group,
        "message": HAND_IN_UNRENDERABLE.format(number=access.group.number, why=error),
    }
    return render(request, "reports_app/download_error.html", context, status=422)


@login_required
def download_html(request: HttpRequest, group_id: int) -> HttpResponse:
    """The hand-in exactly as the course renders it; raw student HTML included, so never shown as one of our pages."""
    access = _get_access(request, group_id)
    try:
        html = rendering.standard_html(report_markdown(access.report))
    except rendering.RenderError as error:
        return _cannot_make(request, access, error)
    response = _attachment(html, _download_name(access.group, "report.html"), "text/html; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox"
    return response


@login_required
def download_grading(request: HttpRequest, group_id: int) -> HttpResponse:
    access = _get_access(request, group_id)
    try:
        html = report_grading_html(access.report)
    except rendering.RenderError as error:
        return _cannot_make(request, access, error)
    response = _attachment(html, _download_name(access.group, "grading.html"), "text/html; charset=utf-8")
    response["Content-Security-Policy"] = rendering.GRADING_CSP
    return response


# Background jobs (scrape, export): staff start them, watch their progress and download what they made.


def _get_job(request: HttpRequest, job_id: int) -> Job:
    """A job, for staff only; 404 for anyone else (students never learn what runs)."""
    if not request.user.is_staff:
        raise Http404("No such job")
    return get_object_or_404(Job.objects.select_related("course", "created_by"), pk=job_id)


@login_required
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(request, job_id)
    if _wants_json(request):
        return JsonResponse({"status": job.state, "label": job.state_label(), "done": job.done, "total": job.total})
    scrapes = job.scrapes.select_related("group").order_by("group__number") if job.kind == Job.Kind.SCRAPE else []
    return render(request, "reports_app/job.html", {"job": job, "scrapes": scrapes})


@login_required
@require_POST
def start_job(request: HttpRequest, course_id: int) -> HttpResponse:
    """Start a scrape (`kind=scrape`, optional `at_deadline`) or an export of a course; then watch it run."""
    course = _get_course_for_staff(request, course_id)
    kind = request.POST.get("kind")
    if kind not in Job.Kind.values:
        return HttpResponse("Unknown kind of job", status=400, content_type="text/plain")
    options = {"at_deadline": request.POST.get("at_deadline") == "1"} if kind == Job.Kind.SCRAPE else {}
    started = tasks.job_start(kind=kind, course=course, user=request.user, options=options)
    return redirect("job", started.pk)


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
        return redirect("job", old.pk)
    return redirect("job", started.pk)


@login_required
def download_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(request, job_id)
    if job.status not in (Job.Status.DONE, Job.Status.PROBLEMS) or not job.file:
        raise Http404("This job has no file")
    if not job.file.storage.exists(job.file.name):  # exports are not kept in backups: a restored site lacks them
        raise Http404("The export's file is gone; run the export again")
    name = f"{exporting.safe_name(job.course.code)}-reports-{job.finished_at:%Y%m%d-%H%M}.zip"
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name, content_type="application/zip")


# Self sign-up: a group that has its course's join code signs itself up; everyone it names is invited by mail, and
# joins by accepting (`invitation`). No answer says whether an address has an account or which group anyone is in.

JOIN_CODE_WRONG = "This join code is not valid. Check it with your course's teachers."
INVITATION_ACCEPTED = "You are now a member of group {number} of {course}."


def join(request: HttpRequest) -> HttpResponse:
    """Open to anyone (the code is the key); a logged-in user is filled in as the first member, and is the only one who
    becomes a member at once. Every sign-up counts per client address, right code or wrong (login_rate_limit.py):
    past the limit the page answers 429 without checking the code."""
    sizes = join_sizes()
    me = request.user
    initial = {"email_1": me.email, "name_1": me.get_full_name()} if me.is_authenticated else {}
    form = JoinForm(request.POST or None, max_members=sizes[1], initial=initial)
    if form.is_valid():
        now, address = timezone.now(), login_rate_limit.client_address(request)
        refusal = login_rate_limit.join_attempt_start(address=address, now=now)
        if refusal:
            form.add_error(None, refusal.message(now))
            response = render(request, "reports_app/join.html", {"form": form, "sizes": sizes}, status=429)
            response["Retry-After"] = str(refusal.seconds_left(now))
            return response
        course = course_for_join_code(form.cleaned_data["code"])
        if course is None:
            form.add_error("code", JOIN_CODE_WRONG)
        else:
            try:
                signup = group_signup(
                    course=course,
                    name=form.cleaned_data["name"],
                    repo_url=form.cleaned_data["repo_url"],
                    members=form.members(),
                    submitter=me if me.is_authenticated else None,
                )
            except SignupRefused as refused:
                for about, message in refused.problems:
                    form.add_error(form.member_fields.get(about or "", about), message)
            else:
                unmailed = [
                    invitation.email
                    for invitation, token in signup.invited
                    if login_rate_limit.mail_allowed(recipient=invitation.email, address=address, now=now)
                    and not _mail_invitation(request, invitation, token)
                ]
                invited = [invitation.email for invitation, _ in signup.invited]
                context = {"signup": signup, "group": signup.group, "invited": invited, "unmailed": unmailed}
                context["days"] = settings.INVITATION_DAYS
                return render(request, "reports_app/join.html", context)
    return render(request, "reports_app/join.html", {"form": form, "sizes": sizes})


def _mail_invitation(request: HttpRequest, invitation: Invitation, token: str) -> bool:
    """Mail the invitation's link (the caller checked the mail limits); False when the mail server refused or could
    not be reached: the invitation stands, and "Forgot your password?" mails a new link later."""
    context = {
        "invitation": invitation,
        "group": invitation.group,
        "site_name": get_current_site(request).name,
        "link": request.build_absolute_uri(reverse("invitation", args=[token])),
    }
    subject = loader.render_to_string("reports_app/invitation_email_subject.txt", context)
    body = loader.render_to_string("reports_app/invitation_email.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [invitation.email])
    except (OSError, smtplib.SMTPException) as error:  # SMTPException is an OSError; named for the reader
        logger.warning("the invitation to %s could not be mailed: %s", invitation.email, error)
        return False
    return True


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link: GET shows what accepting does, POST accepts. The invited address's account accepts
    logged in; an address without an account, or whose account has no password yet, chooses its password here (the
    link reached its mailbox) and is logged in. Whatever refuses it is said here only, to whoever has the link."""
    found = invitation_find(token)
    if found is None:
        return render(request, "reports_app/invitation.html", {"refused": INVITATION_GONE}, status=404)
    context = {"invitation": found, "group": found.group}
    try:
        account = invitation_account(found)
    except InvitationRefused as refused:
        return render(request, "reports_app/invitation.html", context | {"refused": str(refused)}, status=409)
    logged_in = account is not None and account.pk == request.user.pk
    form = None
    if account is None or not (logged_in or account.has_usable_password()):
        form = SetPasswordForm(account or invitation_new_account(found), request.POST or None)
    elif not logged_in:
        return render(request, "reports_app/invitation.html", context | {"log_in": True})
    if request.method == "POST" and (form is None or form.is_valid()):
        password = form.cleaned_data["new_password1"] if form else None
        try:
            user = invitation_accept(invitation=found, user=request.user if logged_in else None, password=password)
        except InvitationRefused as refused:
            return render(request, "reports_app/invitation.html", context | {"refused": str(refused)}, status=409)
        if form is not None:
            auth_login(request, user)
            login_rate_limit.clear(username=user.get_username())
        messages.success(request, INVITATION_ACCEPTED.format(number=found.group.number, course=found.group.course.code))
        return redirect("home")
    return render(request, "reports_app/invitation.html", context | {"form": form})


# The staff dashboard: every group of a course with its check and last scrape, as a page and as CSV.


def _get_course_for_staff(request: HttpRequest, course_id: int) -> Course:
    """A course, for staff only; 404 for anyone else (one query)."""
    if not request.user.is_staff:
        raise Http404("No such course")
    return get_object_or_404(Course, pk=course_id)


def _dashboard(request: HttpRequest, course: Course):
    """(overview, filter form, the rows the form selects): the page and its CSV show the same rows."""
    overview = course_overview(course)
    form = DashboardForm(request.GET, numbers=overview.numbers)
    return overview, form, overview.select(**form.selection())


@login_required
def dashboard(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _get_course_for_staff(request, course_id)
    overview, form, rows = _dashboard(request, course)
    context = {"course": course, "overview": overview, "form": form, "rows": rows, "sort": form.selection()["sort"]}
    return render(request, "reports_app/dashboard.html", context)


@login_required
def dashboard_csv(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _get_course_for_staff(request, course_id)
    overview, _, rows = _dashboard(request, course)
    response = _attachment("", f"{exporting.safe_name(course.code)}-dashboard.csv", "text/csv; charset=utf-8")
    write_csv(response, exporting.dashboard_rows(overview.numbers, rows), bom=True)
    return response


class LoginView(auth_views.LoginView):
    """Django's login page with LoginForm: a login refused for too many failures answers 429 and Retry-After."""

    form_class = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "Forgot your password?", through PasswordSetupForm (accounts without a password yet get a link too);
    it also mails again the address's pending invitations, with new links. Every mail counts against the mail limits
    (login_rate_limit.mail_allowed), whether the address has an account or not; past them nothing is sent and the
    page answers the same, so it tells nothing about the address either way."""

    form_class = PasswordSetupForm

    def form_valid(self, form):
        email, address = form.cleaned_data["email"], login_rate_limit.client_address(self.request)
        if not login_rate_limit.mail_allowed(recipient=email, address=address):
            return redirect(self.get_success_url())
        for invitation in invitations_for(email=email):
            if login_rate_limit.mail_allowed(recipient=email, address=address):
                _mail_invitation(self.request, invitation, invitation_renew(invitation=invitation))
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's "choose a new password" page; the new password also lifts a lockout of the account's logins, as the
    lockout message promises."""

    def form_valid(self, form):
        response = super().form_valid(form)
        login_rate_limit.clear(username=form.user.get_username())
        return response
