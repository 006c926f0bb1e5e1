"""The student pages' writes: answers (the deadline lock, conflict detection, restoring a version) and the
checklist. Every write refuses a closed hand-in, and none can overwrite newer work."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from django.conf import settings
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import formats, timezone

from ..engine import rendering
from ..models import (
    Answer,
    AnswerRevision,
    ChecklistMark,
    Draft,
    Group,
    Question,
    Report,
)


class DeadlinePassed(Exception):
    """The group's hand-in is closed; nothing may change any more."""


class AnswerConflict(Exception):
    """A save based on an old version: a teammate saved a newer one. The attempt is kept as a conflict revision."""

    def __init__(self, answer: Answer, attempt: AnswerRevision):
        super().__init__(f"Question {answer.question.number} was saved by someone else in the meantime")
        self.answer = answer
        self.attempt = attempt


def closed_message(group: Group) -> str:
    when = formats.date_format(timezone.localtime(group.deadline), "DATETIME_FORMAT")
    return f"The hand-in closed on {when}; the report can no longer be changed."


def ensure_open(group: Group) -> None:
    if not group.is_open():
        raise DeadlinePassed(closed_message(group))


def answer_html(text: str, group_id: int) -> str:
    """How our pages show an answer: sanitized, its figures served by the figure view of its group.

    Raises rendering.RenderError; `stored_answer_html` falls back instead.
    """
    return rendering.answer_html(text, figure_url=lambda name: reverse("figure", args=[group_id, name]))


UNRENDERED = "Question {number} cannot be rendered: {why}"


def stored_answer_html(text: str, group_id: int, number: int) -> tuple[str, str | None]:
    """The html stored for an answer and None; or, for text that cannot be rendered, the text escaped under a note
    that says why, and why ("nested 500 levels deep"). Either way the text itself is saved: no word is lost."""
    try:
        return answer_html(text, group_id), None
    except rendering.RenderError as error:
        return rendering.unrendered_html(text, str(error), what=f"Question {number}"), str(error)


PAGE_OUT_OF_TIME = "this page spent its time on the answers before it; reload the page to see it"
logger = logging.getLogger(__name__)


def answers_rendered(answers: Mapping[int, Answer], group_id: int) -> None:
    """Give every answer (by question number) its `html`: a scrape stores answers unrendered (`html` None), and the
    first page to show one renders it and stores the result, so that a scrape of 150 repos renders nothing.

    One page spends at most one render budget (BUDGET_SECONDS) on this: answers past it are shown as typed, with a
    note, and left for the next view. The result is stored only onto the version rendered (a save in between wins);
    when the database cannot take it, the page still shows it.
    """
    started = time.monotonic()
    for number, answer in answers.items():
        if answer.html is not None:
            continue
        if time.monotonic() - started > settings.BUDGET_SECONDS:
            answer.html = rendering.unrendered_html(answer.text, PAGE_OUT_OF_TIME, what=f"Question {number}")
            continue
        answer.html = stored_answer_html(answer.text, group_id, number)[0]
        try:
            with transaction.atomic():  # a savepoint: a failure leaves the caller's transaction usable
                Answer.objects.filter(pk=answer.pk, version=answer.version, html=None).update(html=answer.html)
        except DatabaseError:
            logger.warning("the rendered answer %s could not be stored", answer.pk, exc_info=True)


def answer_save(
    *, report: Report, question: Question, text: str, base_version: int, user, source: str = "web"
) -> Answer:
    """Save `text` as the next version of the answer, if `base_version` is still the current one.

    When a teammate saved a newer version since, nothing is overwritten: the text is kept as a conflict revision and
    AnswerConflict carries the current answer, so that the student can merge. Saving the text already there is a no-op.
    A save that goes through discards the author's draft of the answer (a conflict keeps it: nothing was saved).
    The answer returned has `render_problem`: why its text could not be rendered (its html then shows it as typed),
    or None.
    """
    ensure_open(report.group)
    html, problem = stored_answer_html(text, report.group_id, question.number)
    with transaction.atomic():
        answer, _ = Answer.objects.get_or_create(report=report, question=question)
        if answer.version == base_version and answer.text == text:
            _discard_draft(answer, user)
            answer.render_problem = problem
            return answer
        saved = Answer.objects.filter(pk=answer.pk, version=base_version).update(
            text=text, html=html, version=base_version + 1, updated_by=user, updated_at=timezone.now()
        )
        if saved:
            AnswerRevision.objects.create(
                answer_id=answer.pk, version=base_version + 1, text=text, author=user, source=source
            )
    current = Answer.objects.select_related("question", "updated_by").get(pk=answer.pk)
    if saved or current.text == text:
        _discard_draft(current, user)
        current.render_problem = problem
        return current
    attempt = AnswerRevision.objects.create(
        answer=current, version=base_version, kind=AnswerRevision.Kind.CONFLICT, text=text, author=user, source=source
    )
    raise AnswerConflict(current, attempt)


def _discard_draft(answer: Answer, user) -> None:
    if user is not None and user.pk is not None:
        Draft.objects.filter(report_id=answer.report_id, question_id=answer.question_id, author_id=user.pk).delete()


def answer_restore(*, report: Report, revision: AnswerRevision, base_version: int, user) -> Answer:
    """Make an old version (or a conflicting attempt) current again, as a new version; history is never rewritten."""
    what = f"v{revision.version}" if revision.kind == AnswerRevision.Kind.SAVED else "an unsaved attempt"
    return answer_save(
        report=report,
        question=revision.answer.question,
        text=revision.text,
        base_version=base_version,
        user=user,
        source=f"restore of {what}",
    )


def checklist_set(*, report: Report, changes: dict[int, bool], user) -> list[ChecklistMark]:
    """Tick (True) or untick (False) checklist items by position; items not in `changes` stay as they are.

    Only changes are sent, never the whole list, so two teammates ticking different items never undo each other.
    """
    ensure_open(report.group)
    items = {i.position: i for i in report.template.checklist.filter(position__in=changes)}
    unknown = sorted(set(changes) - set(items))
    if unknown:
        raise ValueError(f"no checklist item at position {unknown[0]}")
    now, marks = timezone.now(), []
    with transaction.atomic():
        for position, checked in changes.items():
            mark, _ = ChecklistMark.objects.select_for_update().get_or_create(report=report, item=items[position])
            if mark.checked != checked:
                mark.checked, mark.mark, mark.updated_by, mark.updated_at = checked, "x" if checked else " ", user, now
                mark.save(update_fields=["checked", "mark", "updated_by", "updated_at"])
            marks.append(mark)
    return marks
