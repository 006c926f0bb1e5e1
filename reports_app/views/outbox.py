"""A course's outbox, for its instructors: the mails the site queued for it (grades released, invitations), which
went out and which did not and why; a failed one is sent again with a button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..models import Mail
from ..selectors.outbox import outbox_page
from ..services.outbox import mails_retry
from .access import get_course_for_staff, int_param, login_required

QUEUED_AGAIN = "{count} failed mail{s} queued again; {they} out within a minute."
NOTHING_FAILED = "No failed mail to send again: it was sent or queued meanwhile."


@login_required
@require_GET
def outbox(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_staff(request, course_id, instructors_only=True)
    return render(request, "reports_app/outbox.html", {"course": course, "outbox": outbox_page(course)})


@login_required
@require_POST
def retry_mails(request: HttpRequest, course_id: int) -> HttpResponse:
    """Queue the course's failed mails again: the one posted as `mail`, else every one (its instructors only)."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    mails = Mail.objects.filter(course=course)
    if "mail" in request.POST:
        mails = mails.filter(pk=int_param(request.POST["mail"]))
    count = mails_retry(mails=mails)
    if count:
        words = {"count": count, "s": "" if count == 1 else "s", "they": "it goes" if count == 1 else "they go"}
        messages.success(request, QUEUED_AGAIN.format(**words))
    else:
        messages.info(request, NOTHING_FAILED)
    return redirect("outbox", course.pk)
