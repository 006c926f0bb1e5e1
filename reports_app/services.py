"""Writes that touch several models, each in one transaction, and the reads that assemble a whole report."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone

from . import checks, figures, parsing, rendering
from .models import (
    Answer,
    AnswerRevision,
    ChecklistItem,
    ChecklistMark,
    Course,
    Figure,
    Group,
    Question,
    Report,
    ReportTemplate,
    Section,
)


class TemplateConflict(ValueError):
    """A template of that name is loaded already, with other text."""


def template_load(*, name: str, source: str, checker: str | None = None) -> tuple[ReportTemplate, bool]:
    """Load a template version: (template, created). Loading the same text under the same name again is a no-op.

    Raises parsing.TemplateError (naming the line) for text that is not a report template, TemplateConflict when
    the name is taken by other text: a loaded version never changes under the reports that follow it.
    """
    source = parsing.normalize_newlines(source)
    parsed = parsing.parse_template(source)
    content_hash = ReportTemplate.hash_source(source)
    existing = ReportTemplate.objects.filter(name=name).first()
    if existing is not None:
        if existing.content_hash != content_hash:
            raise TemplateConflict(
                f"a template named {name!r} is loaded already with other text; load this version under a new name"
            )
        return existing, False
    with transaction.atomic():
        template = ReportTemplate.objects.create(
            name=name, source=source, content_hash=content_hash, checker=checker or parsed.checker
        )
        sections = {
            title: Section.objects.create(template=template, position=position, title=title)
            for position, title in enumerate(parsed.sections)
        }
        Question.objects.bulk_create(
            Question(
                template=template,
                section=sections.get(q.section),
                number=q.number,
                prompt=q.prompt,
                placeholder=q.placeholder[:200],
                min_words=q.words[0] if q.words else None,
                max_words=q.words[1] if q.words else None,
                min_images=q.images[0] if q.images else None,
                max_images=q.images[1] if q.images else None,
            )
            for q in parsed.questions
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(template=template, position=i.index, week=i.week, text=i.text, modules="+".join(i.modules))
            for i in parsed.checklist
        )
    return template, True


def template_closest(text: str, templates: list[ReportTemplate] | None = None) -> tuple[ReportTemplate, int] | None:
    """The loaded template a report follows most closely, and how far it strays; ties go to the earliest loaded."""
    templates = list(ReportTemplate.objects.order_by("id")) if templates is None else templates
    return parsing.closest_template(text, [(t, t.outline()) for t in templates])  # type: ignore[return-value]


def group_get_or_create(*, course_code: str, number: int, template: ReportTemplate | None = None) -> Group:
    course, _ = Course.objects.get_or_create(code=course_code, defaults={"title": course_code, "template": template})
    if course.template is None and template is not None:
        course.template = template
        course.save(update_fields=["template"])
    group, _ = Group.objects.get_or_create(course=course, number=number)
    return group


@dataclass(frozen=True)
class ImportResult:
    report: Report
    changed: list[int]  # question numbers whose answer got a new version
    problems: tuple[parsing.Problem, ...]
    unplaced: tuple[parsing.Unplaced, ...]


@transaction.atomic
def report_import(*, group: Group, text: str, template: ReportTemplate, label: str, user=None) -> ImportResult:
    """Store a report file as the group's report: every answer and mark, the raw text, and what deviates.

    An answer whose text changed gets a new version (with a revision labelled `label`); web edits stay in history.
    """
    text = parsing.normalize_newlines(text)
    parsed_template = template.parsed()
    parsed = parsing.parse_report(text, parsed_template)
    layout = None if parsed.layout == parsed_template.layout else parsing.layout_to_json(parsed.layout)
    report, _ = Report.objects.select_for_update().get_or_create(group=group, defaults={"template": template})
    report.template = template
    report.source = text
    report.source_label = label
    report.layout = layout
    report.problems = [[p.line, p.message] for p in parsed.problems]
    report.unplaced = [[u.line, u.text] for u in parsed.unplaced]
    report.imported_at = timezone.now()
    report.save()

    question_ids = dict(template.questions.values_list("number", "id"))
    existing = {
        a.question.number: a for a in report.answers.filter(question__template=template).select_related("question")
    }
    changed, new_answers, updated = [], [], []
    for number, text_ in parsed.answers.items():
        answer = existing.get(number)
        if answer is None:
            html = answer_html(text_, group.pk)
            new_answers.append(
                Answer(
                    report=report, question_id=question_ids[number], text=text_, html=html, version=1, updated_by=user
                )
            )
        elif answer.text != text_:
            html = answer_html(text_, group.pk)
            answer.text, answer.html, answer.version, answer.updated_by = text_, html, answer.version + 1, user
            updated.append(answer)
        else:
            continue
        changed.append(number)
    Answer.objects.bulk_create(new_answers)
    now = timezone.now()
    for answer in updated:
        answer.updated_at = now
    Answer.objects.bulk_update(updated, ["text", "html", "version", "updated_by", "updated_at"])
    AnswerRevision.objects.bulk_create(
        AnswerRevision(answer=a, version=a.version, text=a.text, author=user, source=label)
        for a in new_answers + updated
    )

    item_ids = dict(template.checklist.values_list("position", "id"))
    marks = {m.item.position: m for m in report.marks.filter(item__template=template).select_related("item")}
    new_marks, changed_marks = [], []
    for position, item_id in item_ids.items():
        raw = parsed.marks.get(position, " ")
        mark = marks.get(position)
        if mark is None:
            new_marks.append(
                ChecklistMark(
                    report=report, item_id=item_id, mark=raw, checked=parsing.is_checked(raw), updated_by=user
                )
            )
        elif mark.mark != raw:
            mark.mark, mark.checked, mark.updated_by, mark.updated_at = raw, parsing.is_checked(raw), user, now
            changed_marks.append(mark)
    ChecklistMark.objects.bulk_create(new_marks)
    ChecklistMark.objects.bulk_update(changed_marks, ["mark", "checked", "updated_by", "updated_at"])
    return ImportResult(report, changed, parsed.problems, parsed.unplaced)


def report_markdown(report: Report) -> str:
    """The group's README.md: the template's text (or the imported file's) with the current answers and marks."""
    answers = dict(
        Answer.objects.filter(report=report, question__template_id=report.template_id).values_list(
            "question__number", "text"
        )
    )
    marks = dict(
        ChecklistMark.objects.filter(report=report, item__template_id=report.template_id).values_list(
            "item__position", "mark"
        )
    )
    return parsing.render_layout(report.layout_parts(), answers, marks)


def check_markdown(text: str, template: ReportTemplate, rules: list[checks.Rule] | None = None) -> checks.CheckResult:
    """Check a README against a template the way the course checker of that template's era does."""
    return checks.check_text(
        text,
        template.rules() if rules is None else rules,
        checks.CHECKERS[template.checker],
        lambda: parsing.parse_report(text, template.parsed()),
    )


def report_check(report: Report) -> checks.CheckResult:
    return check_markdown(report_markdown(report), report.template)


def report_figures(report: Report) -> dict[str, bytes]:
    """The report's figure files by name, as they go into reports/figures/."""
    result = {}
    for figure in report.figures.all():
        with figure.file.open("rb") as f:
            result[figure.name] = f.read()
    return result


def report_grading_html(report: Report, figures: dict[str, bytes] | None = None) -> str:
    group = report.group
    title = f"{group.course.code} group {group.number}" + (f" ({group.name})" if group.name else "")
    figures = report_figures(report) if figures is None else figures
    return rendering.grading_html(report_markdown(report), title=title, figures=figures)


def report_zip(report: Report) -> bytes:
    """The group's `reports/` folder, ready to unpack into the repo and commit: README.md and figures/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("reports/README.md", report_markdown(report))
        for name, data in report_figures(report).items():
            archive.writestr(f"reports/figures/{name}", data, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


# The student pages: every write below refuses a closed hand-in, and none of them can overwrite newer work.


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


def _ensure_open(group: Group) -> None:
    if not group.is_open():
        raise DeadlinePassed(closed_message(group))


def answer_html(text: str, group_id: int) -> str:
    """How our pages show an answer: sanitized, its figures served by the figure view of its group."""
    return rendering.answer_html(text, figure_url=lambda name: reverse("figure", args=[group_id, name]))


def report_for_group(group: Group) -> Report | None:
    """The group's report, started on the course's template the first time; None while the course has no template."""
    try:
        return group.report
    except Report.DoesNotExist:
        if group.course.template_id is None:
            return None
    report, _ = Report.objects.get_or_create(group=group, defaults={"template_id": group.course.template_id})
    return report


def answer_save(
    *, report: Report, question: Question, text: str, base_version: int, user, source: str = "web"
) -> Answer:
    """Save `text` as the next version of the answer, if `base_version` is still the current one.

    When a teammate saved a newer version since, nothing is overwritten: the text is kept as a conflict revision and
    AnswerConflict carries the current answer, so that the student can merge. Saving the text already there is a no-op.
    """
    _ensure_open(report.group)
    html = answer_html(text, report.group_id)
    with transaction.atomic():
        answer, _ = Answer.objects.get_or_create(report=report, question=question)
        if answer.version == base_version and answer.text == text:
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
        return current
    attempt = AnswerRevision.objects.create(
        answer=current, version=base_version, kind=AnswerRevision.Kind.CONFLICT, text=text, author=user, source=source
    )
    raise AnswerConflict(current, attempt)


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
    _ensure_open(report.group)
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


def figure_add(*, report: Report, data: bytes, wanted_name: str, user) -> tuple[Figure, bool]:
    """Store an uploaded image as `reports/figures/<safe name>`: (figure, created).

    The bytes must be a PNG or JPEG that decodes whole (figures.FigureRejected otherwise). The same bytes uploaded
    again give back the figure already there.
    """
    _ensure_open(report.group)
    info = figures.inspect_image(data, max_bytes=settings.FIGURE_MAX_BYTES, max_pixels=settings.FIGURE_MAX_PIXELS)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        Report.objects.select_for_update().filter(pk=report.pk).first()  # one upload at a time picks a name
        existing = {f.name: f for f in report.figures.all()}
        same = next((f for f in existing.values() if f.sha256 == digest), None)
        if same is not None:
            return same, False
        figure = Figure(
            report=report,
            name=figures.safe_name(wanted_name, info.extension, set(existing)),
            content_type=info.content_type,
            size=len(data),
            width=info.width,
            height=info.height,
            sha256=digest,
            uploaded_by=user,
        )
        figure.file.save(figure.name, ContentFile(data), save=False)
        try:
            figure.save()
        except Exception:
            figure.file.delete(save=False)
            raise
    return figure, True


def figure_delete(*, figure: Figure) -> None:
    _ensure_open(figure.report.group)
    with transaction.atomic():
        figure.delete()
        transaction.on_commit(lambda: figure.file.delete(save=False))


def figure_users(answers: Iterable[Answer]) -> dict[str, list[int]]:
    """Figure name -> the numbers of the questions whose answer shows it, in order."""
    users: dict[str, list[int]] = {}
    for answer in sorted(answers, key=lambda a: a.question.number):
        for name in figures.referenced_names(answer.text):
            users.setdefault(name, []).append(answer.question.number)
    return users


# What the report page shows, read with a fixed number of queries whatever the number of questions.


@dataclass
class QuestionRow:
    question: Question
    answer: Answer | None
    result: checks.QuestionResult

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


@dataclass
class ReportPage:
    report: Report
    rows: list[QuestionRow]
    result: checks.CheckResult
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]]  # (week, [(item, checked)])
    figures: list[Figure] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, list[QuestionRow]]]:
        grouped: list[tuple[str, list[QuestionRow]]] = []
        for row in self.rows:
            title = row.question.section.title if row.question.section else ""
            if not grouped or grouped[-1][0] != title:
                grouped.append((title, []))
            grouped[-1][1].append(row)
        return grouped


def report_page(report: Report) -> ReportPage:
    """Questions, answers, verdicts, checklist and figures of a report, in five queries."""
    questions = list(report.template.questions.select_related("section"))  # 1
    answers = {
        a.question_id: a
        for a in report.answers.filter(question__template_id=report.template_id).select_related("updated_by")  # 2
    }
    items = list(report.template.checklist.all())  # 3
    marks = {m.item_id: m for m in report.marks.filter(item__template_id=report.template_id)}  # 4
    figure_list = list(report.figures.all())  # 5
    readme = parsing.render_layout(
        report.layout_parts(),
        {q.number: answers[q.id].text for q in questions if q.id in answers},
        {i.position: marks[i.id].mark for i in items if i.id in marks},
    )
    result = check_markdown(readme, report.template, [q.rule() for q in questions])
    by_number = {r.number: r for r in result.questions}
    rows = [QuestionRow(q, answers.get(q.id), by_number[q.number]) for q in questions]
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]] = []
    for item in items:
        if not checklist or checklist[-1][0] != item.week:
            checklist.append((item.week, []))
        checklist[-1][1].append((item, item.id in marks and marks[item.id].checked))
    return ReportPage(report, rows, result, checklist, figure_list)
