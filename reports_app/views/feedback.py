"""Feedback: instructors release grades (all, or one question), students read theirs and ask for regrades, graders
answer them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..forms.feedback import AnswerRegradeForm, RegradeRequestForm, ReleaseForm
from ..models import Grade, Group, RegradeRequest
from ..selectors.feedback import feedback_page, released_numbers
from ..selectors.submissions import course_codes
from ..services.feedback import grades_release, regrade_answer, regrade_request
from ..services.grading import GradeConflict, GradingRefused
from .access import Access, get_access, get_course_for_staff, login_required

REGRADE_SENT = "Your regrade request for question {number} was sent to its graders."
RELEASED = "Released the grades of {what}: {queued}"
NOTHING_NEW = "The grades of {what} were released already: nobody was mailed again."
ANSWERED = "Your response to the regrade request was saved."
ANSWER_CONFLICT = "The grade was changed by someone else meanwhile, so nothing was saved. Your response was: {response}"
ANSWER_REFUSED = "Nothing was saved: {why} Your response was: {response}"


def _render_feedback(
    request: HttpRequest, access: Access, bound: tuple[int, RegradeRequestForm] | None = None
) -> HttpResponse:
    page = feedback_page(access.group, access.report)
    context = {"group": access.group, "access": access, "page": page, "crumb": "Grades and feedback"}
    context["bound_number"], context["bound_form"] = bound or (None, None)
    return render(request, "reports_app/feedback.html", context, status=400 if bound else 200)


@login_required
@require_GET
def feedback(request: HttpRequest, group_id: int) -> HttpResponse:
    """The group's released grades, for its members; staff who see the group preview what the students see."""
    return _render_feedback(request, get_access(request, group_id))


@login_required
@require_POST
def request_regrade(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    access = get_access(request, group_id)
    if number not in released_numbers(access.group.course):
        raise Http404("No released grade")  # the same as no grade: nothing says a question was graded before release
    grade = get_object_or_404(Grade, group=access.group, number=number, version__gt=0)
    form = RegradeRequestForm(request.POST)
    if form.is_valid():
        try:
            reason, base = form.cleaned_data["reason"], request.build_absolute_uri("/")
            regrade_request(grade=grade, user=request.user, reason=reason, base_url=base)
        except GradingRefused as error:
            form.add_error(None, str(error))
    if not form.is_valid():
        return _render_feedback(request, access, (number, form))
    messages.success(request, REGRADE_SENT.format(number=number))
    return redirect("feedback", access.group.pk)


@login_required
@require_POST
def release_grades(request: HttpRequest, course_id: int) -> HttpResponse:
    """Release every grade of the course, or one question's (`number`), once the instructor confirms the mails."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("grading", course.pk)
    number = form.cleaned_data["number"]
    what = "the course" if number is None else f"question {number}"
    try:
        sent = grades_release(course=course, user=request.user, number=number, base_url=request.build_absolute_uri("/"))
    except GradingRefused as error:
        messages.error(request, str(error))
        return redirect("grading", course.pk)
    if sent.queued or sent.failed:
        messages.success(request, RELEASED.format(what=what, queued=sent.summary()))
    else:
        messages.info(request, NOTHING_NEW.format(what=what))
    for line in sent.failures():
        messages.warning(request, line)
    return redirect("grading", course.pk)


@login_required
@require_POST
def answer_regrade(request: HttpRequest, course_id: int, regrade_id: int) -> HttpResponse:
    """A grader of the group or an instructor answers a regrade request, maybe with a new adjustment or comment; back
    to the grade's page (which names the group by its submission code)."""
    course = get_course_for_staff(request, course_id)
    regrades = RegradeRequest.objects.select_related("grade__group__course")
    visible = Group.objects.visible_to(request.user).filter(course=course)
    regrade = get_object_or_404(regrades, pk=regrade_id, grade__group__in=visible)
    grade = regrade.grade
    code = course_codes(course)[grade.group_id]
    back = reverse("grade", args=[course.pk, code, grade.number])
    form = AnswerRegradeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    try:
        regrade_answer(
            regrade=regrade,
            user=request.user,
            response=data["response"],
            adjustment=data["adjustment"].strip() or None,
            comment=data["comment"].strip() or None,
            base_version=data["base_version"],
        )
    except GradeConflict:
        messages.error(request, ANSWER_CONFLICT.format(response=data["response"]))
    except GradingRefused as error:
        messages.error(request, ANSWER_REFUSED.format(why=error, response=data["response"]))
    else:
        messages.success(request, ANSWERED)
    return redirect(back)
