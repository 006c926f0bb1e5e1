"""What the report commands share: reading a file safely and finding templates, groups and reports by name."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from reports_app import parsing, services
from reports_app.models import Course, Report, ReportTemplate


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
    found = services.template_closest(text)
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
