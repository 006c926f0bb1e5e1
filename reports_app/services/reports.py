"""A group's report as a whole: importing a filled README (new versions of changed answers), the README rebuilt
from the answers, its figures, its grading HTML and its zip, and the report of a group started when first needed."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..engine import parsing, readme_file, rendering
from ..models import (
    Answer,
    AnswerRevision,
    ChecklistMark,
    Course,
    Group,
    Report,
    ReportTemplate,
)
from .templates import max_length_of


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
def report_import(
    *,
    group: Group,
    text: str,
    template: ReportTemplate,
    label: str,
    user=None,
    raw: bytes | None = None,
    blob: str = "",
) -> ImportResult:
    """Store a report file as the group's report: every answer and mark, the raw text, and what deviates.

    An answer whose text changed gets a new version (with a revision labelled `label`); web edits stay in history.
    `raw` and `blob` are the file's bytes as committed and their git blob id, when it comes from a repo; an import
    without them forgets the bytes of an earlier one.
    """
    text = parsing.normalize_newlines(text)
    label = label[: max_length_of(Report, "source_label")]  # a long file name; AnswerRevision.source is as long
    parsed_template = template.parsed()
    parsed = parsing.parse_report(text, parsed_template)
    layout = None if parsed.layout == parsed_template.layout else parsing.layout_to_json(parsed.layout)
    report, _ = Report.objects.select_for_update().get_or_create(group=group, defaults={"template": template})
    report.template = template
    report.source = text
    report.source_label = label
    report.source_bytes = raw
    report.source_blob = blob if raw is not None else ""
    report.layout = layout
    report.problems = [[p.line, p.message] for p in parsed.problems]
    report.unplaced = [[u.line, u.text] for u in parsed.unplaced]
    report.imported_at = timezone.now()
    report.save()

    question_ids = dict(template.questions.values_list("number", "id"))
    existing = {a.question.number: a for a in report.answers.on_own_template().select_related("question")}
    changed, new_answers, updated = [], [], []
    for number, text_ in parsed.answers.items():
        answer = existing.get(number)
        if answer is not None and answer.text == text_:
            continue
        if answer is None:  # html None: rendered by the first page that shows it (answers_rendered)
            new_answers.append(
                Answer(
                    report=report, question_id=question_ids[number], text=text_, html=None, version=1, updated_by=user
                )
            )
        else:
            answer.text, answer.html, answer.version, answer.updated_by = text_, None, answer.version + 1, user
            updated.append(answer)
        changed.append(number)
    Answer.objects.bulk_create(new_answers)
    now = timezone.now()
    for answer in updated:  # a query per answer: bulk_update's CASE expressions cost ten times more to build
        answer.updated_at = now
        Answer.objects.filter(pk=answer.pk).update(
            text=answer.text, html=answer.html, version=answer.version, updated_by=user, updated_at=now
        )
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
    by_mark: dict[str, list[int]] = {}
    for mark in changed_marks:  # a query per distinct mark (" ", "x", "X"...), not per item
        by_mark.setdefault(mark.mark, []).append(mark.pk)
    for raw, ids in by_mark.items():
        ChecklistMark.objects.filter(pk__in=ids).update(
            mark=raw, checked=parsing.is_checked(raw), updated_by=user, updated_at=now
        )
    return ImportResult(report, changed, parsed.problems, parsed.unplaced)


def report_markdown(report: Report) -> str:
    """The group's README.md: the template's text (or the imported file's) with the current answers and marks."""
    answers = dict(Answer.objects.filter(report=report).on_own_template().values_list("question__number", "text"))
    marks = dict(ChecklistMark.objects.filter(report=report).on_own_template().values_list("item__position", "mark"))
    return report.readme(answers, marks)


def report_readme(report: Report) -> readme_file.ReadmeFile:
    """The README.md handed out for the report: the file as committed while the report says what it says, else
    rebuilt from the answers and marks with its line ends (engine/readme_file.py)."""
    committed = None if report.source_bytes is None else bytes(report.source_bytes)  # a memoryview on PostgreSQL
    return readme_file.readme_file(report_markdown(report), committed)


def report_figures(report: Report) -> dict[str, bytes]:
    """The report's figure files by name, as they go into reports/figures/."""
    return {figure.name: figure.read_bytes() for figure in report.figures.all()}


def grading_title(group: Group) -> str:
    """'C1 group 7 (Otters)': the title of a group's grading page."""
    return f"{group.course.code} group {group.number}" + (f" ({group.name})" if group.name else "")


def report_grading_html(report: Report, figures: dict[str, bytes] | None = None) -> str:
    """The grading page of the report's hand-in HTML, with its header (group, members, commit, verdicts: the
    export's grading.html, byte for byte); rendering.RenderError when it cannot be made (no substitute)."""
    from ..selectors.grading import group_grading  # it reads the overview, whose checks import this module

    figures = report_figures(report) if figures is None else figures
    readme, header = group_grading(report.group)
    return rendering.grading_html(readme, title=grading_title(report.group), figures=figures, header=header)


def report_zip(report: Report) -> bytes:
    """The group's `reports/` folder, ready to unpack into the repo and commit: README.md and figures/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        readme = report_readme(report).data
        report_folder_write(archive, "reports", readme, report_figures(report), when=timezone.now())
    return buffer.getvalue()


FILE_MODE = 0o100644  # a regular file, rw-r--r-- (writestr gives a file named by a string 0600: owner only)
FOLDER_MODE = 0o40755  # a directory, rwxr-xr-x
MS_DOS_DIRECTORY = 0x10


def zip_add(archive: zipfile.ZipFile, name: str, data: bytes, *, when: datetime, stored: bool = False) -> None:
    """One entry of a zip we hand out: a file (mode 0644), or a folder (0755) when `name` ends with `/`; dated
    `when` in the site's time zone (zip times have none: unzip shows them as they are)."""
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(when).timetuple()[:6])
    if name.endswith("/"):
        info.external_attr = FOLDER_MODE << 16 | MS_DOS_DIRECTORY
        info.CRC = 0
        archive.mkdir(info)
        return
    info.external_attr = FILE_MODE << 16
    info.compress_type = zipfile.ZIP_STORED if stored else archive.compression
    archive.writestr(info, data)


def report_folder_write(
    archive: zipfile.ZipFile,
    folder: str,
    readme: bytes,
    figures: dict[str, bytes],
    pages: dict[str, str] | None = None,
    *,
    when: datetime,
) -> None:
    """A report as a folder of a zip: README.md, then `pages` (file name -> text) and figures/ (stored as they are:
    PNG and JPEG do not compress). The one writer of a report into a zip, for the students' download and the export."""
    zip_add(archive, f"{folder}/", b"", when=when)
    zip_add(archive, f"{folder}/README.md", readme, when=when)
    for name, text in (pages or {}).items():
        zip_add(archive, f"{folder}/{name}", text.encode("utf-8"), when=when)
    if figures:
        zip_add(archive, f"{folder}/figures/", b"", when=when)
    for name, data in figures.items():
        zip_add(archive, f"{folder}/figures/{name}", data, when=when, stored=True)


def report_for_group(group: Group) -> Report | None:
    """The group's report, started on the course's template the first time; None while the course has no template."""
    try:
        return group.report
    except Report.DoesNotExist:
        if group.course.template_id is None:
            return None
    report, _ = Report.objects.get_or_create(group=group, defaults={"template_id": group.course.template_id})
    return report
