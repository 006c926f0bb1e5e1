from django.core.management.base import BaseCommand, CommandError

from reports_app.engine import parsing
from reports_app.models import Checker

from ...services.templates import TemplateConflict, template_load
from ._common import read_markdown


class Command(BaseCommand):
    help = "Load a version of the report template from its markdown file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--name", required=True, help="Name of this template version, e.g. 2026-01-09_eb7305c")
        parser.add_argument(
            "--checker", choices=Checker.values, help="Which course checker applies (default: detected)"
        )

    def handle(self, *args, file, name, checker, **options):
        source = read_markdown(file, what="template")
        try:
            template, created = template_load(name=name, source=source, checker=checker)
        except (parsing.TemplateError, TemplateConflict) as e:
            raise CommandError(f"{file}: {e}") from None
        parsed = template.parsed()
        verb = "Loaded" if created else "Already loaded:"
        self.stdout.write(
            f"{verb} template {template.name}: {len(parsed.questions)} questions in {len(parsed.sections)} sections, "
            f"{len(parsed.checklist)} checklist items, {template.get_checker_display()}"
        )
