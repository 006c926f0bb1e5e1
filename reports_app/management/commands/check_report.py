from django.core.management.base import BaseCommand, CommandError

from ...services.checking import check_markdown
from ._common import read_markdown, template_for


class Command(BaseCommand):
    help = (
        "Check a report the way the course checker does: its messages in its order, then the pass count. "
        "Structure problems go to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--template", help="Template name (default: the loaded template the file follows most closely)"
        )
        parser.add_argument("--compat", action="store_true", help="Fail exactly where the course checker fails")

    def handle(self, *args, file, template, compat, **options):
        text = read_markdown(file, what="report")
        chosen = template_for(text, template)
        result = check_markdown(text, chosen)
        if compat and result.course_error:
            raise CommandError(result.course_error)
        for note in result.structure:
            self.stderr.write(note)
        self.stdout.write("\n".join(result.lines()))
