"""What the report commands share: reading a file safely, finding templates, groups and reports by name, and saying in
one line (a CommandError, never a traceback) why a file cannot be read or rendered."""

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from reports_app.engine import parsing, rendering
from reports_app.engine.roster import MAX_GROUP_NUMBER
from reports_app.models import Course, Report, ReportTemplate

from ...services.templates import template_closest


def group_number(value: str) -> int:
    """An argparse type: a group number as the database can hold it (1 to 2,147,483,647), else a clear error."""
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not 1 <= int(value) <= MAX_GROUP_NUMBER:
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a group number (1 to {MAX_GROUP_NUMBER})")
    return int(value)


def count_of(what: str, top: int, *, low: int = 1) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `top` (workers, minutes), else a clear error."""

    def parse(value: str) -> int:
        if not value.isascii() or not value.isdigit() or len(value) > 9 or not low <= int(value) <= top:
            raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a number of {what} ({low} to {top})")
        return int(value)

    return parse


def read_markdown(path: str, *, what: str = "file") -> str:
    """The text of a markdown file (LF line ends), or a CommandError with a one-line reason."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise CommandError(f"{path}: not a file")
        if size > settings.REPORT_MAX_BYTES:
            raise CommandError(
                f"{path}: the {what} is {size / 1e6:.1f} MB; the limit is {settings.REPORT_MAX_BYTES / 1e6:.1f} MB "
                "(setting REPORT_MAX_BYTES)"
            )
        data = file.read_bytes()
    except OSError as e:
        raise CommandError(f"{path}: {e.strerror or e}") from None
    try:
        return parsing.decode_text(data, what=what)
    except ValueError as e:
        raise CommandError(f"{path}: {e}") from None


@contextmanager
def rendering_of(what: str) -> Iterator[None]:
    """A RenderError inside becomes CommandError("cannot render WHAT: why"), e.g. `nested 500 levels deep`."""
    try:
        yield
    except rendering.RenderError as error:
        raise CommandError(f"cannot render {what}: {error}") from None


def template_named(name: str) -> ReportTemplate:
    template = ReportTemplate.objects.filter(name=name).first()
    if template is None:
        loaded = ", ".join(ReportTemplate.objects.values_list("name", flat=True)) or "none"
        raise CommandError(f"no template named {name!r} (loaded: {loaded})")
    return template


def course_named(code: str) -> Course:
    course = Course.objects.filter(code=code).first()
    if course is None:
        codes = ", ".join(Course.objects.values_list("code", flat=True)) or "none"
        raise CommandError(f"no course with code {code!r} (courses: {codes})")
    return course


def template_for(text: str, name: str | None) -> ReportTemplate:
    """The named template, or the loaded one the text follows most closely."""
    if name:
        return template_named(name)
    found = template_closest(text)
    if found is None:
        raise CommandError("no templates are loaded; run load_template first")
    return found[0]


def report_of(course: str, group: int) -> Report:
    report = (
        Report.objects.select_related("group__course", "template")
        .filter(group__course__code=course, group__number=group)
        .first()
    )
    if report is None:
        raise CommandError(f"group {group} of course {course!r} has no report; run import_report first")
    return report
