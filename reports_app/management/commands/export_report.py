from django.core.management.base import BaseCommand

from reports_app.engine import rendering

from ...services.reports import report_grading_html, report_markdown
from ._common import group_number, rendering_of, report_of


class Command(BaseCommand):
    help = "Print a group's report: README markdown, the standard hand-in HTML, or the self-contained grading HTML."

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True)
        parser.add_argument("--group", required=True, type=group_number)
        parser.add_argument("--format", choices=["markdown", "html", "grading"], default="markdown")

    def handle(self, *args, course, group, format, **options):
        report = report_of(course, group)
        readme = report_markdown(report)
        if format == "markdown":
            self.stdout.write(readme, ending="")
            return
        with rendering_of(f"the report of group {group} of {course}"):
            page = report_grading_html(report) if format == "grading" else rendering.standard_html(readme)
        self.stdout.write(page, ending="")
