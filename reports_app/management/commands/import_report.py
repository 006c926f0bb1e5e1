from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports_app.models import Course

from ...services.reports import group_get_or_create, report_import
from ._common import group_number, read_markdown, template_for


class Command(BaseCommand):
    help = "Import a filled report as a group's report (the course and group are created when missing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--course", required=True)
        parser.add_argument("--group", required=True, type=group_number)
        parser.add_argument(
            "--template", help="Template name (default: the loaded template the file follows most closely)"
        )

    def handle(self, *args, file, course, group, template, **options):
        if not Course.objects.filter(code=course).exists():
            try:
                Course._meta.get_field("code").clean(course, None)
            except ValidationError as error:
                raise CommandError(f"course code {course!r}: {' '.join(error.messages)}") from None
        text = read_markdown(file, what="report")
        chosen = template_for(text, template)
        target = group_get_or_create(course_code=course, number=group, template=chosen)
        result = report_import(group=target, text=text, template=chosen, label=f"import: {Path(file).name}")
        for problem in result.problems:
            self.stderr.write(f"{file}: {problem}")
        self.stdout.write(
            f"Imported {file} as group {group} of {course} (template {chosen.name}): "
            f"{len(result.changed)} answers changed, {len(result.problems)} problems"
        )
