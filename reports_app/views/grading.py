"""Grading one answer: the page per (submission, question), its autosave (JSON, with optimistic locking) or its
Save button without JavaScript, the figures it shows; an instructor revealing the groups of an anonymous course, or
editing a question's rubric from the page."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..engine.people import person_name
from ..engine.scoring import points_text
from ..forms.staff import GradeForm
from ..models import AnswerRevision, Figure, Grade, RubricItem
from ..selectors.grade_page import grade_page, grade_url
from ..selectors.grading import zoned_time
from ..selectors.submissions import REVEAL_KEY
from ..services.grading import (
    GradeConflict,
    GradingRefused,
    grade_save,
    grade_score,
    grades_count,
    max_points_of,
    rubric_item_add,
    rubric_item_edit,
    rubric_item_remove,
)
from .access import (
    back_to,
    form_refused,
    get_course_for_staff,
    get_submission,
    int_param,
    login_required,
    wants_json,
)
from .figures import figure_response

SAVED = "Grade saved."
RUBRIC_SAVED = "Rubric item '{item}' saved: {count} re-scored."
RUBRIC_ADDED = "Rubric item '{item}' added."
RUBRIC_REMOVED = "Rubric item '{item}' removed."
RUBRIC_NOT_CHANGED = "The rubric is not changed: {why}"
RUBRIC_NO_ACTION = "the form sent no action (save, remove or add)."
RUBRIC_DRAFT = "rubric-draft:{course}:{number}"  # in the session: what a refused rubric form sent, to fill it again
CONFLICT = "{who} saved this grade meanwhile (version {version}); nothing of yours was saved. Theirs is shown now."


def grade_state(grade: Grade) -> dict:
    """A saved grade as the page's script reads it."""
    return {
        "version": grade.version,
        "items": sorted(item.pk for item in grade.items.all()),
        "adjustment": str(grade.adjustment),
        "comment": grade.comment,
        "graded_by": person_name(grade.graded_by),
        "graded_at": zoned_time(grade.graded_at),
    }


def _revision(access, number: int, pk: int | None) -> AnswerRevision | None:
    if pk is None:
        return None
    revisions = AnswerRevision.objects.select_related("answer__report", "answer__question")
    return revisions.filter(pk=pk, answer__report__group=access.group, answer__question__number=number).first()


@login_required
def grade(request: HttpRequest, course_id: int, code: str, number: int) -> HttpResponse:
    access = get_submission(request, course_id, code)
    order = request.GET.get("by", "question")
    if request.method != "POST":
        page = grade_page(access, number, request.user, order)
        draft = request.session.pop(RUBRIC_DRAFT.format(course=access.course.pk, number=number), None)
        context = {"page": page, "course": access.course, "rubric_draft": draft}
        return render(request, "reports_app/grade.html", context)
    rubric = RubricItem.objects.filter(course=access.course, number=number)
    form = GradeForm(request.POST, rubric=rubric)
    here = grade_url(access.course.pk, access.submission.code, number, order)
    if not form.is_valid():
        if wants_json(request):
            return form_refused(form)
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(here)
    data = form.cleaned_data
    try:
        saved = grade_save(
            group=access.group,
            number=number,
            items=data["items"],
            adjustment=data["adjustment"],
            comment=data["comment"],
            base_version=data["version"],
            user=request.user,
            revision=_revision(access, number, data["revision"]),
        )
    except GradingRefused as error:
        if wants_json(request):
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, str(error))
        return redirect(here)
    except GradeConflict as conflict:
        theirs = conflict.grade
        message = CONFLICT.format(who=person_name(theirs.graded_by), version=theirs.version)
        if wants_json(request):
            return JsonResponse({"error": message, "grade": grade_state(theirs)}, status=409)
        messages.error(request, message)
        return redirect(here)
    if not wants_json(request):
        messages.success(request, SAVED)
        return redirect(here)
    log = saved.log.select_related("user").order_by("-at", "-pk")
    history = render_to_string("reports_app/_grade_history.html", {"log": log}, request=request)
    score = grade_score(saved, access.course, max_points_of(access.course, number))
    return JsonResponse({"grade": grade_state(saved), "score": points_text(score), "history_html": history})


@login_required
def grading_figure(request: HttpRequest, course_id: int, code: str, name: str) -> FileResponse:
    """A figure of a submission's report, by the submission's code (its group's own URL would name the group)."""
    access = get_submission(request, course_id, code)
    found = get_object_or_404(Figure, report__group=access.group, name=name)
    return figure_response(found.file, found.content_type)


@login_required
@require_POST
def reveal_groups(request: HttpRequest, course_id: int) -> HttpResponse:
    """An instructor shows (or hides again) the groups behind the submission codes of an anonymous course, for
    themselves, in this session."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    key = REVEAL_KEY.format(course=course.pk)
    request.session[key] = request.POST.get("reveal") == "1"
    return redirect(back_to(request, reverse("grading", args=[course.pk])))


@login_required
@require_POST
def rubric_edit(request: HttpRequest, course_id: int, number: int) -> HttpResponse:
    """An instructor changes question `number`'s rubric from a grading page: `action` save (an item's text and
    points; the grades using it are re-scored), remove (an item no grade applies) or add (last). Back to the page
    in `next` with a message; refused input is kept in the session to fill the form again, nothing changed."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    action = request.POST.get("action", "")
    item = None
    if action in ("save", "remove"):
        item = get_object_or_404(RubricItem, pk=int_param(request.POST.get("item")), course=course, number=number)
        item.course = course
    back = back_to(request, reverse("grading", args=[course.pk]))
    text, points = request.POST.get("text", ""), request.POST.get("points", "")
    try:
        if action == "save":
            count = rubric_item_edit(item=item, text=text, points=points, user=request.user)
            messages.success(request, RUBRIC_SAVED.format(item=item.text, count=grades_count(count)))
        elif action == "remove":
            rubric_item_remove(item=item, user=request.user)
            messages.success(request, RUBRIC_REMOVED.format(item=item.text))
        elif action == "add":
            added = rubric_item_add(course=course, number=number, text=text, points=points, user=request.user)
            messages.success(request, RUBRIC_ADDED.format(item=added.text))
        else:
            raise GradingRefused(RUBRIC_NO_ACTION)
    except GradingRefused as error:
        messages.error(request, RUBRIC_NOT_CHANGED.format(why=error))
        if action in ("save", "add"):
            draft = {"item": item.pk if item else "new", "text": text[:1000], "points": points[:50]}
            request.session[RUBRIC_DRAFT.format(course=course.pk, number=number)] = draft
    return redirect(back)
