"""Moving a course's reports to the course's template when it was switched to another version: a preview of where
the answers go (engine/moving.py), then the move, one transaction per report.

Nothing is deleted: an answer moves as a new version of the new question's answer (source "moved from <old> Q7"),
and the old answers stay on their questions of the old version, with their history (pages show only the answers of a
report's own template: `Answer.objects.on_own_template()`). Moving a report that follows the course's template
already changes nothing, so a move can be applied again after one report failed, or twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.utils import timezone

from ..engine import diffing, moving, parsing
from ..models import Answer, AnswerRevision, ChecklistMark, Course, Report, ReportTemplate
from .templates import max_length_of

MOVED_FROM = "moved from {template} Q{number}"
MOVE_REFUSED = "the database refused it ({error}), so nothing of it changed; it still follows its old version"
NO_TEMPLATE = "The course {course} has no template: choose one on the course's page first."
UNRENDERED_NOTE = '<div class="alert alert-warning render-error"'  # how rendering.unrendered_html begins


def template_as_stored(template: ReportTemplate) -> parsing.ParsedTemplate:
    """The template as its reports are checked now: its text with the rules and checker as stored."""
    return diffing.with_stored(template.parsed(), rules=template.rules(), checker=template.checker)


@dataclass(frozen=True)
class Plan:
    """Where the answers and ticks of a report on `old` go on `new`, with the rows they are stored under."""

    old: ReportTemplate
    new: ReportTemplate
    move: moving.Move
    old_questions: dict[int, tuple[int, str]]  # number -> (question id, placeholder)
    new_questions: dict[int, int]  # number -> question id
    old_items: dict[int, int]  # checklist position -> item id
    new_items: dict[int, int]

    @classmethod
    def make(cls, old: ReportTemplate, new: ReportTemplate) -> Plan:
        return cls(
            old=old,
            new=new,
            move=moving.plan_move(template_as_stored(old), template_as_stored(new)),
            old_questions={q.number: (q.pk, q.placeholder.strip()) for q in old.questions.all()},
            new_questions=dict(new.questions.values_list("number", "id")),
            old_items=dict(old.checklist.values_list("position", "id")),
            new_items=dict(new.checklist.values_list("position", "id")),
        )


@dataclass(frozen=True)
class MoveFrom:
    """The reports of a course on one other version, and where their answers go."""

    plan: Plan
    groups: list[int]  # numbers of the groups whose report follows it
    stranded: int  # answers written to questions that have no place on the new version (they stay on the old one)
    own_layout: list[int]  # groups whose report keeps its imported file's text, which the new version's replaces

    def rows(self) -> list[Row]:
        return preview_rows(self.plan.move)

    def group_numbers(self) -> str:
        return diffing.number_ranges(self.groups)

    def summary(self) -> str:
        """E.g. '31 questions of v1: 29 same question, 1 reworded, 1 by number only (2 to check, marked below); 1
        without a place. 1 new question, unanswered.'"""
        move = self.plan.move
        hows = [p.how for p in move.placed]
        kinds = [f"{hows.count(how)} {how}" for how in moving.KINDS if how in hows]
        flagged = sum(1 for p in move.placed if p.flags)
        text = f"{len(move.placed) + len(move.no_place)} questions of {self.plan.old}: " + ", ".join(kinds or ["none"])
        text += f" ({flagged} to check, marked below)" if flagged else ""
        text += f"; {len(move.no_place)} without a place." if move.no_place else "."
        new = len(move.new_only)
        return text + (f" {new} new question{'s' if new != 1 else ''}, unanswered." if new else "")


@dataclass(frozen=True)
class Row:
    """One line of the preview: an old question and where its answers go, or a new question nobody answered yet."""

    old: int | None
    old_text: str
    new: int | None
    new_text: str
    how: str  # moving.SAME_TEXT..., or NO_PLACE, NEW_ONLY
    flags: tuple[str, ...] = ()


NO_PLACE = "no place: its answers stay on the old version"
NEW_ONLY = "new: starts unanswered"


def preview_rows(move: moving.Move) -> list[Row]:
    """The preview's table: the new version's questions in order (each with the old one whose answers it gets, if
    any), then the old questions that have no place."""
    rows = [Row(p.old.number, _asks(p.old), p.new.number, _asks(p.new), p.how, p.flags) for p in move.placed] + [
        Row(None, "", q.number, _asks(q), NEW_ONLY) for q in move.new_only
    ]
    rows.sort(key=lambda row: row.new or 0)
    return rows + [Row(q.number, _asks(q), None, "", NO_PLACE) for q in move.no_place]


def _asks(question: parsing.QuestionSpec) -> str:
    return moving.asks(question.prompt)


@dataclass(frozen=True)
class MovePreview:
    target: ReportTemplate
    sources: list[MoveFrom]
    on_target: int  # reports that follow the target already

    @property
    def to_move(self) -> int:
        return sum(len(source.groups) for source in self.sources)


def course_move_preview(*, course: Course) -> MovePreview:
    """What moving the course's reports to its template would do; writes nothing. ValueError without a template."""
    target = course.template
    if target is None:
        raise ValueError(NO_TEMPLATE.format(course=course))
    reports = list(
        Report.objects.filter(group__course=course)
        .order_by("group__number")
        .values_list("template_id", "group__number", "layout")
    )
    sources = []
    for template in ReportTemplate.objects.filter(pk__in={t for t, _, _ in reports}).exclude(pk=target.pk):
        plan = Plan.make(template, target)
        mine = [(number, layout) for t, number, layout in reports if t == template.pk]
        sources.append(
            MoveFrom(
                plan=plan,
                groups=[number for number, _ in mine],
                stranded=_stranded_answers(course, plan),
                own_layout=[number for number, layout in mine if layout is not None],
            )
        )
    on_target = sum(1 for t, _, _ in reports if t == target.pk)
    return MovePreview(target=target, sources=sources, on_target=on_target)


def _stranded_answers(course: Course, plan: Plan) -> int:
    """Answers written (not empty, not the placeholder) to the old questions that have no place on the new version."""
    numbers = {q.number for q in plan.move.no_place}
    answers = Answer.objects.filter(
        report__group__course=course,
        report__template=plan.old,
        question__template=plan.old,
        question__number__in=numbers,
    ).values_list("question__number", "text")
    return sum(1 for number, text in answers if _written(text, plan.old_questions[number][1]))


def _written(text: str, placeholder: str) -> bool:
    return bool(text.strip()) and text.strip() != placeholder


@dataclass
class MoveOutcome:
    moved: list[int] = field(default_factory=list)  # group numbers
    failed: list[tuple[int, str]] = field(default_factory=list)  # (group number, why)


def course_reports_move(*, course: Course, user) -> MoveOutcome:
    """Move every report of the course that follows another version to the course's template, each report in its own
    transaction: one that fails is listed with why and the others go on. ValueError when the course has no template."""
    target = course.template
    if target is None:
        raise ValueError(NO_TEMPLATE.format(course=course))
    reports = list(
        Report.objects.filter(group__course=course)
        .exclude(template=target)
        .order_by("group__number")
        .values_list("pk", "template_id", "group__number")
    )
    templates = ReportTemplate.objects.filter(pk__in={template_id for _, template_id, _ in reports})
    plans = {template.pk: Plan.make(template, target) for template in templates}
    outcome = MoveOutcome()
    for report_id, template_id, number in reports:
        try:
            if report_move(report_id=report_id, plan=plans[template_id], user=user):
                outcome.moved.append(number)
        except DatabaseError as error:
            outcome.failed.append((number, MOVE_REFUSED.format(error=error)))
    return outcome


@transaction.atomic
def report_move(*, report_id: int, plan: Plan, user) -> bool:
    """Move one report from `plan.old` to `plan.new`: each placed answer becomes a new version of its new question's
    answer (unless that holds the same text already), each moved tick is set, and the report follows the new version
    with the new version's text (an imported file's own text, `layout`, is dropped: the file stays in `source`, and the
    next scrape reads it again). False when the report does not follow `plan.old` (any more): nothing changes."""
    report = Report.objects.select_for_update().filter(pk=report_id, template=plan.old).first()
    if report is None:
        return False
    _move_answers(report, plan, user)
    _move_marks(report, plan, user)
    report.template, report.layout = plan.new, None
    report.save(update_fields=["template", "layout", "updated_at"])
    return True


def _move_answers(report: Report, plan: Plan, user) -> None:
    answers = Answer.objects.filter(report=report).order_by().only("id", "question_id", "text", "html", "version")
    old_answers = {a.question_id: a for a in answers.filter(question__template=plan.old)}
    new_answers = {a.question_id: a for a in answers.filter(question__template=plan.new)}
    now, created, updated, revisions = timezone.now(), [], [], []
    longest = max_length_of(AnswerRevision, "source")
    for old_number, new_number in plan.move.numbers().items():
        question_id, placeholder = plan.old_questions[old_number]
        source = old_answers.get(question_id)
        if source is None or not _written(source.text, placeholder):
            continue
        answer = new_answers.get(plan.new_questions[new_number])
        if answer is not None and answer.text == source.text:
            continue
        html = source.html
        if html and html.startswith(UNRENDERED_NOTE):  # the note names the question: rendered anew, under its new one
            html = None
        if answer is None:
            answer = Answer(report=report, question_id=plan.new_questions[new_number], version=0)
            created.append(answer)
        else:
            updated.append(answer)
        answer.text, answer.html, answer.version, answer.updated_by = source.text, html, answer.version + 1, user
        label = MOVED_FROM.format(template=plan.old.name, number=old_number)[:longest]
        revisions.append((answer, label))
    Answer.objects.bulk_create(created)
    for answer in updated:
        Answer.objects.filter(pk=answer.pk).update(
            text=answer.text, html=answer.html, version=answer.version, updated_by=user, updated_at=now
        )
    AnswerRevision.objects.bulk_create(
        AnswerRevision(answer=a, version=a.version, text=a.text, author=user, source=label) for a, label in revisions
    )


def _move_marks(report: Report, plan: Plan, user) -> None:
    marks = ChecklistMark.objects.filter(report=report).order_by().only("id", "item_id", "checked", "mark")
    old_marks = {m.item_id: m for m in marks.filter(item__template=plan.old)}
    new_marks = {m.item_id: m for m in marks.filter(item__template=plan.new)}
    created: list[ChecklistMark] = []
    changed: dict[tuple[bool, str], list[int]] = {}  # (checked, mark) -> the marks to set so
    for old_position, new_position in plan.move.positions().items():
        source = old_marks.get(plan.old_items[old_position])
        if source is None:
            continue
        item_id = plan.new_items[new_position]
        mark = new_marks.get(item_id)
        if mark is None:
            if source.checked:
                created.append(
                    ChecklistMark(report=report, item_id=item_id, checked=True, mark=source.mark, updated_by=user)
                )
        elif (mark.checked, mark.mark) != (source.checked, source.mark):
            changed.setdefault((source.checked, source.mark), []).append(mark.pk)
    ChecklistMark.objects.bulk_create(created)
    now = timezone.now()
    for (checked, raw), ids in changed.items():  # a query per distinct mark, not per item
        ChecklistMark.objects.filter(pk__in=ids).update(checked=checked, mark=raw, updated_by=user, updated_at=now)
