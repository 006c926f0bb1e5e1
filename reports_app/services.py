"""Writes that touch several models, each in one transaction, and the reads that assemble a whole report."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import checks, parsing, rendering
from .models import (
    Answer,
    AnswerRevision,
    ChecklistItem,
    ChecklistMark,
    Course,
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
            new_answers.append(
                Answer(report=report, question_id=question_ids[number], text=text_, version=1, updated_by=user)
            )
        elif answer.text != text_:
            answer.text, answer.version, answer.updated_by = text_, answer.version + 1, user
            updated.append(answer)
        else:
            continue
        changed.append(number)
    Answer.objects.bulk_create(new_answers)
    now = timezone.now()
    for answer in updated:
        answer.updated_at = now
    Answer.objects.bulk_update(updated, ["text", "version", "updated_by", "updated_at"])
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


def report_grading_html(report: Report, figures: dict[str, bytes] | None = None) -> str:
    group = report.group
    title = f"{group.course.code} group {group.number}" + (f" ({group.name})" if group.name else "")
    return rendering.grading_html(report_markdown(report), title=title, figures=figures or {})
