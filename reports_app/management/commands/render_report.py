from django.core.management.base import BaseCommand

from reports_app.engine import rendering

from ._common import read_markdown, rendering_of, template_named


class Command(BaseCommand):
    help = "Print the standard hand-in HTML of a report: markdown.markdown() of the file minus its front matter."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--template", help="Accepted for symmetry with check_report; rendering needs no template")

    def handle(self, *args, file, template, **options):
        text = read_markdown(file, what="report")
        if template:
            template_named(template)
        with rendering_of(file):
            html = rendering.standard_html(text)
        self.stdout.write(html)
