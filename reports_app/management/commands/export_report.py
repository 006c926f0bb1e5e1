from django.core.management.base import BaseCommand

from reports_app import rendering, services

from ._common import report_of


class Command(BaseCommand):
    help = "Print a group's report: README markdown, the standard hand-in HTML, or the self-contained grading HTML."

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True)
        parser.add_argument("--group", required=True, type=int)
        parser.add_argument("--format", choices=["markdown", "html", "grading"], default="markdown")

    def handle(self, *args, course, group, format, **options):
        report = report_of(course, group)
        if format == "grading":
            self.stdout.write(services.report_grading_html(report), ending="")
            return
        readme = services.report_markdown(report)
        self.stdout.write(readme if format == "markdown" else rendering.standard_html(readme), ending="")
