"""Loading a template version (any of the course's), checking that the database can hold it, and finding the
loaded template a file follows most closely."""

from __future__ import annotations

from django.db import models, transaction

from ..engine import matching, parsing
from ..models import (
    ChecklistItem,
    Question,
    ReportTemplate,
    Section,
)


class TemplateConflict(ValueError):
    """A template of that name is loaded already, with other text."""


MAX_POSITION = 2**15 - 1  # the most questions or checklist items a template may have: their positions are smallints


def max_length_of(model: type[models.Model], field: str) -> int:
    return model._meta.get_field(field).max_length


def template_check_sizes(parsed: parsing.ParsedTemplate, source: str) -> None:
    """parsing.TemplateError, naming the line, for a parsed template the database cannot hold: a section title, a
    checklist heading or an item's module tags longer than its column, or more questions or checklist items than
    MAX_POSITION. Pure, so that a preview says so before anything is saved."""
    lines = source.split("\n")

    def line_of(text: str, below: int) -> int:
        """The (1-based) number of the last line up to line `below` that holds `text`."""
        return next((n for n in range(below, 0, -1) if text in lines[n - 1]), below)

    most = max_length_of(Section, "title")
    if long := next((q for q in parsed.questions if len(q.section) > most), None):
        raise parsing.TemplateError(
            f"line {line_of(long.section, long.line)}: the section title has {len(long.section)} characters; "
            f"a section title may have at most {most}"
        )
    most = max_length_of(ChecklistItem, "week")
    if item := next((i for i in parsed.checklist if len(i.week) > most), None):
        raise parsing.TemplateError(
            f"line {line_of(item.week, item.line)}: the checklist heading has {len(item.week)} characters; "
            f"a checklist heading may have at most {most}"
        )
    most = max_length_of(ChecklistItem, "modules")
    if item := next((i for i in parsed.checklist if len("+".join(i.modules)) > most), None):
        raise parsing.TemplateError(
            f"line {item.line}: the module tags of this checklist item have {len('+'.join(item.modules))} "
            f"characters; they may have at most {most}"
        )
    for what, specs in (("questions", parsed.questions), ("checklist items", parsed.checklist)):
        if len(specs) > MAX_POSITION:
            raise parsing.TemplateError(
                f"line {specs[MAX_POSITION].line}: a template may have at most {MAX_POSITION} {what}"
            )


def template_load(*, name: str, source: str, checker: str | None = None) -> tuple[ReportTemplate, bool]:
    """Load a template version: (template, created). Loading the same text under the same name again is a no-op.

    Raises parsing.TemplateError (naming the line) for text that is not a report template or that the database
    cannot hold (or a name longer than its column), TemplateConflict when the name is taken by other text: a loaded
    version never changes under the reports that follow it.
    """
    if len(name) > max_length_of(ReportTemplate, "name"):
        raise parsing.TemplateError(
            f"the name has {len(name)} characters; a template's name may have at most "
            f"{max_length_of(ReportTemplate, 'name')}"
        )
    source = parsing.normalize_newlines(source)
    parsed = parsing.parse_template(source)
    template_check_sizes(parsed, source)
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
    return matching.closest_template(text, [(t, t.outline()) for t in templates])  # type: ignore[return-value]
