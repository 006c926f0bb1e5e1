"""What every page shares: who may see a group (`get_access`: members may edit until the deadline, the course's
instructors and the group's graders may look at it, anyone else gets a 404, which does not confirm that a group
exists), which course a staff page may show (`get_course_for_staff`), refusals, attachments."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required as django_login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme

from .. import exporting
from ..engine.anonymity import normal_code
from ..models import Course, CourseStaff, Group, Membership, Report, StaffRole, staff_sees
from ..selectors.submissions import GradingAccess, course_codes, hides_groups, submissions
from ..services.answers import (
    DeadlinePassed,
    closed_message,
)
from ..services.reports import report_for_group


@dataclass(frozen=True)
class Access:
    group: Group
    report: Report
    is_member: bool
    can_edit: bool  # a member, before the deadline: decided once per request, so one page never says both


def get_access(request: HttpRequest, group_id: int) -> Access:
    """The group and its report for a member or staff; 404 for anyone else (one query)."""
    group = get_object_or_404(
        Group.objects.select_related("course__template", "report__template")
        .defer("report__source_bytes")  # up to REPORT_MAX_BYTES, read only by downloads
        .annotate(
            is_member=Exists(Membership.objects.filter(group=OuterRef("pk"), user_id=request.user.pk)),
            staff_sees=ExpressionWrapper(staff_sees(request.user), output_field=BooleanField()),
        ),
        pk=group_id,
    )
    if not (group.is_member or group.staff_sees):
        raise Http404("No such group")
    if not group.is_member and group.course.anonymous_grading and not is_instructor_of(request.user, group.course):
        raise Http404("No such group")  # a TA of a course graded anonymously sees submissions, never groups
    report = report_for_group(group)
    if report is None:
        raise Http404("This course has no report template yet")
    return Access(group, report, group.is_member, group.is_member and group.is_open())


def get_course_for_staff(request: HttpRequest, course_id: int, *, instructors_only: bool = False) -> Course:
    """A course the user has a role in (with `role` annotated), or one they instruct; 404 for anyone else, so that
    nobody learns of a course they have no part in (one query)."""
    courses = (
        Course.objects.instructed_by(request.user) if instructors_only else Course.objects.staffed_by(request.user)
    )
    return get_object_or_404(courses.with_role(request.user), pk=course_id)


def get_submission(request: HttpRequest, course_id: int, code: str) -> GradingAccess:
    """A group of a course by its submission code, for one of its graders or the course's instructors; 404 for
    anyone else and for a code of no group the user grades (three queries)."""
    course = get_course_for_staff(request, course_id)
    codes = course_codes(course)
    wanted = normal_code(code)
    group_id = next((pk for pk, c in codes.items() if c == wanted), None)
    group = Group.objects.visible_to(request.user).filter(course=course, pk=group_id).first() if group_id else None
    if group is None:
        raise Http404("No such submission")
    group.course = course
    return GradingAccess(course, submissions([group], codes, hidden=hides_groups(request, course))[0], codes)


def is_course_staff(user) -> bool:
    """Whether the user has a role in any course (or is a superuser): the staff home page, not a student's."""
    return user.is_superuser or CourseStaff.objects.filter(user_id=user.pk).exists()


def is_instructor_of(user, course: Course) -> bool:
    """Whether `user` instructs `course` (or is a superuser); one query unless a superuser."""
    return (
        user.is_superuser
        or CourseStaff.objects.filter(course=course, user_id=user.pk, role=StaffRole.INSTRUCTOR).exists()
    )


def int_param(value: str | None) -> int | None:
    """An id or number sent in a form or query string, None when it is not one: ASCII digits only ("²".isdigit() is
    true, int() refuses it), and few enough for int() to take them at once."""
    return int(value) if value and len(value) <= 18 and value.isascii() and value.isdigit() else None


def back_to(request: HttpRequest, fallback: str) -> str:
    """Where a form's `next` field sends the user back to, when it is a page of this site; else `fallback`."""
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return back
    return fallback


def wants_json(request: HttpRequest) -> bool:
    """The page's script asks for JSON; a plain form post gets a redirect with a message."""
    return request.headers.get("Accept") == "application/json"


SESSION_ENDED = "You are no longer logged in (the session ended, or you logged out in another tab). Nothing was saved."


def login_required(view):
    """Django's login_required, except that a script asking for JSON gets 401 and where to log in (its page then
    offers a login that does not leave the page), never a redirect that would lose what it sent."""
    wrapped = django_login_required(view)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and wants_json(request):
            login = redirect_to_login(request.get_full_path())["Location"]
            return JsonResponse({"error": SESSION_ENDED, "login": login}, status=401)
        return wrapped(request, *args, **kwargs)

    return wrapper


def form_refused(form) -> JsonResponse:
    """A form a script sent that did not validate: 400 and every error, in one sentence list."""
    return JsonResponse({"error": " ".join(e for errors in form.errors.values() for e in errors)}, status=400)


def why_not_writable(access: Access) -> str | None:
    """Why this user may not change the report now, or None when they may."""
    if access.can_edit:
        return None
    return closed_message(access.group) if access.is_member else "Only the group's members can change its report."


def refusal(request: HttpRequest, group_id: int, reason: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": reason}, status=403)
    messages.error(request, reason)
    return redirect("report", group_id)


def refuse_write(request: HttpRequest, access: Access) -> HttpResponse | None:
    """A 403 (JSON) or a redirect with the reason when this user may not change the report now, else None."""
    reason = why_not_writable(access)
    return refusal(request, access.group.pk, reason) if reason else None


def closes_cleanly(view):
    """A write that meets the deadline between our check and the save gets the same refusal as one refused up front."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, group_id: int, **kwargs) -> HttpResponse:
        try:
            return view(request, group_id, **kwargs)
        except DeadlinePassed as error:
            return refusal(request, group_id, str(error))

    return wrapper


def attachment(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def download_name(group: Group, suffix: str) -> str:
    return f"{exporting.file_name_part(group.course.code)}-group-{group.number}-{suffix}"
