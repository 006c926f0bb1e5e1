"""The student pages: a group's report, its answers, history, checklist, figures and downloads (staff see them
read-only)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..engine import checks, rendering
from ..engine.people import person_name
from ..forms.students import (
    VERSION_REFUSED_RESTORE,
    AnswerForm,
    DraftForm,
    RestoreForm,
)
from ..models import Answer, AnswerRevision, Question
from ..selectors.feedback import has_released_grades
from ..selectors.provenance import answer_provenance, with_current_source
from ..selectors.report_page import report_page
from ..services.answers import (
    UNRENDERED,
    AnswerConflict,
    answer_restore,
    answer_save,
    answers_rendered,
    checklist_set,
    stored_answer_html,
)
from ..services.drafts import draft_of, draft_save, draft_worth_restoring, editing_now
from ..services.reports import report_grading_html, report_markdown, report_zip
from ..services.signup import (
    group_people,
)
from ..services.templates import MAX_POSITION
from .access import (
    Access,
    attachment,
    closes_cleanly,
    download_name,
    form_refused,
    get_access,
    int_param,
    login_required,
    refuse_write,
    wants_json,
    why_not_writable,
)

UNRENDERED_SAVED = "Your text is saved as typed; the report shows it unformatted until it can be rendered."
HAND_IN_UNRENDERABLE = "The hand-in HTML of group {number} cannot be made: {why}. The README itself downloads as usual."


@login_required
def report(request: HttpRequest, group_id: int) -> HttpResponse:
    access = get_access(request, group_id)
    page = report_page(access.report, viewer=request.user if access.can_edit else None)
    members, invited = group_people(access.group)
    context = {"access": access, "page": page, "group": access.group, "members": members, "invited": invited}
    context["has_feedback"] = has_released_grades(access.group)
    return render(request, "reports_app/report.html", context)


def _question(access: Access, number: int) -> Question:
    """The question of the report's template, with `is_last` (whether the course checker reads it as the last)."""
    later = Question.objects.filter(template_id=OuterRef("template_id"), number__gt=OuterRef("number"))
    questions = Question.objects.select_related("section").annotate(is_last=~Exists(later))
    return get_object_or_404(questions, template_id=access.report.template_id, number=number)


def _answer(access: Access, question: Question) -> Answer:
    """The answer (with its `current_source`, for its provenance), or an unsaved empty one at version 0 (without)."""
    answers = Answer.objects.filter(report=access.report, question=question).select_related("updated_by")
    answer = with_current_source(answers).first()
    if answer is None:
        return Answer(report=access.report, question=question, version=0)
    answers_rendered({question.number: answer}, access.group.pk)
    return answer


SAVED = "Question {number} saved (version {version})."
CONFLICT = (
    "{author} saved version {version} while you were editing. Your text was not saved over it: it is still in the "
    "editor (and kept in the history). Merge the two, then save again."
)


def _warnings(text: str, question: Question) -> list[str]:
    """What in `text` makes the course checker stop or miscount, as the editor and the save say it."""
    return checks.answer_warnings(text, is_last=question.is_last, placeholder=question.placeholder)


@login_required
@closes_cleanly
def edit_answer(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    """The answer's editor. A plain form post saves and goes back to the report (the no-JavaScript way); the page's
    script saves with `Accept: application/json` and stays (`_save_json`). Opening it restores the author's draft."""
    access = get_access(request, group_id)
    question = _question(access, number)
    answer = _answer(access, question)
    if request.method == "POST" and wants_json(request):
        return _save_json(request, access, question)
    draft = draft_of(report=access.report, question=question, author=request.user) if access.can_edit else None
    restored = draft if draft_worth_restoring(draft, answer) else None
    start = restored or answer
    initial = {"text": start.text, "version": restored.base_version if restored else answer.version}
    form = AnswerForm(request.POST or None, initial=initial)
    conflict = preview = refused = None
    if request.method == "POST":
        if refused := why_not_writable(access):
            messages.error(request, f"{refused} Your text was not saved; it is below to copy.")
        elif form.is_valid():
            text = form.cleaned_data["text"]
            if "preview" in request.POST:
                preview, _ = stored_answer_html(text, access.group.pk, number)
            else:
                try:
                    saved = _save(request, access, question, form)
                except AnswerConflict as error:
                    conflict, answer = _conflict(error, text), error.answer
                    answers_rendered({number: answer}, access.group.pk)  # a scrape's version: not rendered yet
                    form = AnswerForm(initial={"text": text, "version": answer.version})
                else:
                    messages.success(request, SAVED.format(number=number, version=saved.version))
                    _warn_if_unrendered(request, saved, number)
                    for warning in _warnings(saved.text, question):
                        messages.warning(request, warning)
                    return redirect(reverse("report", args=[group_id]) + f"#question-{number}")
    is_last = question.is_last
    text = form["text"].value() or ""
    context = {
        "access": access,
        "group": access.group,
        "question": question,
        "answer": answer,
        "form": form,
        "conflict": conflict,
        "preview": preview,
        "result": checks.check_alone(text, question.rule(), is_last=is_last),
        "warnings": _warnings(text, question),
        "is_last": is_last,
        "restored": restored,
        "provenance": answer_provenance(answer, getattr(answer, "current_source", None)),
        "editing": editing_now(report=access.report, question=question, besides=request.user)
        if access.can_edit
        else [],
        "figures": access.report.figures.all(),
        "unsaved_text": request.POST.get("text") if refused else None,
    }
    if request.GET.get("fragment") and access.can_edit:  # the report page's script edits in place
        return render(request, "reports_app/_editor.html", context)
    return render(request, "reports_app/edit_answer.html", context, status=403 if refused else 200)


def _save(request: HttpRequest, access: Access, question: Question, form: AnswerForm) -> Answer:
    """answer_save of a valid AnswerForm by the person asking (AnswerConflict when a teammate saved meanwhile)."""
    return answer_save(
        report=access.report,
        question=question,
        text=form.cleaned_data["text"],
        base_version=form.cleaned_data["version"],
        user=request.user,
    )


def _conflict(error: AnswerConflict, mine: str) -> dict:
    """What the editor shows of a conflict: the newer version, who saved it, and what differs from the text typed."""
    theirs = error.answer
    diff = rendering.word_diff(theirs.text, mine)
    return {
        "version": theirs.version,
        "author": person_name(theirs.updated_by),
        "text": theirs.text,
        "mine": mine,
        "diff": diff.runs,
        "diff_note": rendering.WORD_DIFF_SIMPLIFIED if diff.simplified else "",
    }


def _save_json(request: HttpRequest, access: Access, question: Question) -> JsonResponse:
    """The editor script's save: it stays on the page, so every answer says what happened, and the text stays in the
    editor whatever it is (the script never clears it)."""
    if refused := why_not_writable(access):
        return JsonResponse({"error": refused}, status=403)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return form_refused(form)
    text = form.cleaned_data["text"]
    try:
        saved = _save(request, access, question, form)
    except AnswerConflict as error:
        conflict = _conflict(error, text)
        panel = render_to_string("reports_app/_conflict.html", {"conflict": conflict}, request=request)
        message = CONFLICT.format(author=conflict["author"], version=conflict["version"])
        payload = {key: conflict[key] for key in ("version", "author", "text")} | {"panel_html": panel}
        return JsonResponse({"error": message, "conflict": payload}, status=409)
    page = report_page(access.report)
    row = next(r for r in page.rows if r.question.pk == question.pk)
    warnings = _warnings(saved.text, question)
    if saved.render_problem:
        warnings.insert(0, f"{UNRENDERED.format(number=question.number, why=saved.render_problem)}. {UNRENDERED_SAVED}")
    parts = {"row": row, "access": access, "group": access.group}
    return JsonResponse(
        {
            "version": saved.version,
            "message": SAVED.format(number=question.number, version=saved.version),
            "warnings": warnings,
            "html": saved.html,
            "card_html": render_to_string("reports_app/_question_card.html", parts, request=request),
            "jump_html": render_to_string("reports_app/_question_jump.html", parts),
            "passed": page.result.course_passed,
            "answered": page.answered,
            "total": page.result.total,
            "provenance": row.provenance,
        }
    )


@login_required
@closes_cleanly
def answer_draft(request: HttpRequest, group_id: int, number: int) -> JsonResponse:
    """The editor script's autosave (POST: text, version; with `preview`, the text's sanitized HTML and the course
    checker's warnings come back too: one request while someone types) and presence poll (GET): who else is typing in
    this answer, and its version now (so that the editor can say a teammate saved meanwhile). JSON only."""
    access = get_access(request, group_id)
    question = _question(access, number)
    reply = {}
    if request.method == "POST":
        if refused := why_not_writable(access):
            return JsonResponse({"error": refused}, status=403)
        form = DraftForm(request.POST)
        if not form.is_valid():
            return form_refused(form)
        text = form.cleaned_data["text"]
        draft = draft_save(
            report=access.report,
            question=question,
            author=request.user,
            text=text,
            base_version=form.cleaned_data["version"],
        )
        reply["saved_at"] = draft.updated_at.isoformat()
        if request.POST.get("preview"):
            reply["html"], reply["unrendered"] = stored_answer_html(text, access.group.pk, number)
            reply["warnings"] = _warnings(text, question)
    elif request.method != "GET":
        return JsonResponse({"error": "GET or POST only."}, status=405)
    answer = _answer(access, question)
    return JsonResponse(
        {
            "saved_at": None,
            **reply,
            "editing": editing_now(report=access.report, question=question, besides=request.user),
            "version": answer.version,
            "updated_by": person_name(answer.updated_by) if answer.version else None,
        }
    )


def _warn_if_unrendered(request: HttpRequest, saved: Answer, number: int) -> None:
    """Say so when the text just saved could not be rendered (answer_save sets `render_problem`)."""
    if saved.render_problem:
        why = UNRENDERED.format(number=number, why=saved.render_problem)
        messages.warning(request, f"{why}. {UNRENDERED_SAVED}")


@login_required
def answer_history(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    access = get_access(request, group_id)
    question = _question(access, number)
    answer = _answer(access, question)
    revisions = list(answer.revisions.select_related("author")) if answer.pk else []
    by_id = {r.pk: r for r in revisions}
    saved = [r for r in revisions if r.kind == AnswerRevision.Kind.SAVED]
    new = by_id.get(int_param(request.GET.get("new"))) or (saved[0] if saved else None)
    before_new = next((r for r in saved if new and r.version < new.version), None)
    old = by_id.get(int_param(request.GET.get("old"))) or before_new
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


@login_required
@require_POST
@closes_cleanly
def restore_answer(request: HttpRequest, group_id: int, number: int, revision_id: int) -> HttpResponse:
    access = get_access(request, group_id)
    if refused := refuse_write(request, access):
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
        position = int_param(value)
        if position is None or position > MAX_POSITION:
            raise ValueError(f"no checklist item at position {value[:40]}")
        positions.add(position)
    return positions


@login_required
@require_POST
@closes_cleanly
def tick_checklist(request: HttpRequest, group_id: int) -> HttpResponse:
    """Checklist ticks. The form sends what was ticked when the page was shown (`was`) and what is ticked now
    (`item`); only the difference is saved, so a stale page never unticks a teammate's item."""
    access = get_access(request, group_id)
    if refused := refuse_write(request, access):
        return refused
    checklist = reverse("report", args=[group_id]) + "#checklist"
    try:
        now, was = _positions(request.POST.getlist("item")), _positions(request.POST.getlist("was"))
        changes = {p: True for p in now - was} | {p: False for p in was - now}
        checklist_set(report=access.report, changes=changes, user=request.user)
    except ValueError as error:
        if wants_json(request):
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, f"Checklist not saved: {error}.")
        return redirect(checklist)
    if wants_json(request):
        return JsonResponse({"saved": {str(p): c for p, c in changes.items()}})
    messages.success(request, "Checklist saved." if changes else "The checklist had no changes to save.")
    return redirect(checklist)


@login_required
def download_zip(request: HttpRequest, group_id: int) -> HttpResponse:
    access = get_access(request, group_id)
    return attachment(report_zip(access.report), download_name(access.group, "reports.zip"), "application/zip")


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
    access = get_access(request, group_id)
    try:
        html = rendering.standard_html(report_markdown(access.report))
    except rendering.RenderError as error:
        return _cannot_make(request, access, error)
    response = attachment(html, download_name(access.group, "report.html"), "text/html; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox"
    return response


@login_required
def download_grading(request: HttpRequest, group_id: int) -> HttpResponse:
    access = get_access(request, group_id)
    try:
        html = report_grading_html(access.report)
    except rendering.RenderError as error:
        return _cannot_make(request, access, error)
    response = attachment(html, download_name(access.group, "grading.html"), "text/html; charset=utf-8")
    response["Content-Security-Policy"] = rendering.GRADING_CSP
    return response
