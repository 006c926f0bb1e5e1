"""What the report page shows, read with a fixed number of queries whatever the number of questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..engine import checks
from ..engine.people import person_name
from ..models import (
    Answer,
    ChecklistItem,
    Draft,
    Figure,
    Question,
    Report,
)
from ..services.answers import answers_rendered
from ..services.checking import check_markdown
from .provenance import answer_provenance, with_current_source

# What a question's badge and jump link say, besides the course checker's verdict (`QuestionRow.state`).
NOT_ANSWERED = "not answered"
PLACEHOLDER = "placeholder"
PASSES = "passes"
FAILS = "fails"


@dataclass
class QuestionRow:
    question: Question
    answer: Answer | None
    result: checks.QuestionResult
    warnings: list[str] = field(default_factory=list)  # checks.answer_warnings of the answer
    provenance: str = ""  # who or what changed the answer last (selectors.provenance)
    draft_at: datetime | None = None  # when the viewer's unsaved draft of this answer was last autosaved
    editing: list[str] = field(default_factory=list)  # the other members typing in it now

    @property
    def is_placeholder(self) -> bool:
        """The answer is still the template's `--- question N fill here ---` text (which the course counts as words)."""
        return (
            self.answer is not None
            and bool(self.question.placeholder)
            and (self.answer.text.strip() == self.question.placeholder.strip())
        )

    @property
    def is_empty(self) -> bool:
        return self.answer is None or not self.answer.text.strip()

    @property
    def is_answered(self) -> bool:
        return not self.is_empty and not self.is_placeholder

    @property
    def state(self) -> str:
        """NOT_ANSWERED, PLACEHOLDER (both whatever the checker says: it passes an empty answer to a question with
        no minimum, and counts a placeholder's words), else PASSES or FAILS as the course checker says."""
        if self.is_empty:
            return NOT_ANSWERED
        if self.is_placeholder:
            return PLACEHOLDER
        return PASSES if self.result.passed else FAILS


@dataclass
class ReportPage:
    report: Report
    rows: list[QuestionRow]
    result: checks.CheckResult
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]]  # (week, [(item, checked)])
    figures: list[Figure] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(row.is_answered for row in self.rows)

    @property
    def sections(self) -> list[tuple[str, list[QuestionRow]]]:
        grouped: list[tuple[str, list[QuestionRow]]] = []
        for row in self.rows:
            title = row.question.section.title if row.question.section else ""
            if not grouped or grouped[-1][0] != title:
                grouped.append((title, []))
            grouped[-1][1].append(row)
        return grouped


def report_page(report: Report, viewer=None) -> ReportPage:
    """Questions, answers, verdicts, checklist and figures of a report, in five queries; with a `viewer`, a sixth
    says which answers they have an unsaved draft of, and who else is typing in which. Answers a scrape stored
    unrendered are rendered here (a query each, the first time: `answers_rendered`)."""
    questions = list(report.template.questions.select_related("section"))  # 1
    answers = {
        a.question_id: a
        for a in with_current_source(report.answers.on_own_template().select_related("updated_by"))  # 2
    }
    answers_rendered({q.number: answers[q.id] for q in questions if q.id in answers}, report.group_id)
    items = list(report.template.checklist.all())  # 3
    marks = {m.item_id: m for m in report.marks.on_own_template()}  # 4
    figure_list = list(report.figures.all())  # 5
    readme = report.readme(
        {q.number: answers[q.id].text for q in questions if q.id in answers},
        {i.position: marks[i.id].mark for i in items if i.id in marks},
    )
    result = check_markdown(readme, report.template, [q.rule() for q in questions])
    by_number = {r.number: r for r in result.questions}
    now, last = timezone.now(), questions[-1].number if questions else None
    rows = []
    for q in questions:
        answer = answers.get(q.id)
        text = answer.text if answer else ""
        warnings = checks.answer_warnings(text, is_last=q.number == last, placeholder=q.placeholder)
        provenance = answer_provenance(answer, answer.current_source, now=now) if answer else ""
        rows.append(QuestionRow(q, answer, by_number[q.number], warnings, provenance))
    if viewer is not None:
        _add_drafts(report, rows, viewer, now)
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]] = []
    for item in items:
        if not checklist or checklist[-1][0] != item.week:
            checklist.append((item.week, []))
        checklist[-1][1].append((item, item.id in marks and marks[item.id].checked))
    return ReportPage(report, rows, result, checklist, figure_list)


def _add_drafts(report: Report, rows: list[QuestionRow], viewer, now: datetime) -> None:
    since = now - timedelta(seconds=settings.DRAFT_PRESENCE_SECONDS)
    drafts = Draft.objects.filter(Q(author_id=viewer.pk) | Q(updated_at__gte=since), report=report)
    by_question = {row.question.pk: row for row in rows}
    for draft in drafts.select_related("author").order_by("author_id"):  # 6
        row = by_question.get(draft.question_id)
        if row is None:
            continue
        if draft.author_id == viewer.pk:
            row.draft_at = draft.updated_at if not row.answer or draft.text != row.answer.text else None
        else:
            row.editing.append(person_name(draft.author))
