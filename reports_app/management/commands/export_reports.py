from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app import exporting

from ._common import course_named


class Command(BaseCommand):
    help = (
        "Export every group's report of a course into one zip for grading: a folder per group (README.md, the "
        "hand-in HTML as the course renders it, a grading HTML with figures, figures/), index.html and grades.csv."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="the course code")
        parser.add_argument("--out", required=True, help="the zip file to write (replaced when it exists)")
        parser.add_argument(
            "--workers",
            type=int,
            default=exporting.default_workers(),
            help="processes that render the reports' HTML (default: one per core, here %(default)s)",
        )

    def handle(self, *args, course, out, workers, verbosity, **options):
        found = course_named(course)
        target = Path(out)
        if target.is_dir():
            raise CommandError(f"{out}: is a folder; give the name of the zip file to write")
        if not target.parent.is_dir():
            raise CommandError(f"{out}: the folder {target.parent} does not exist")
        if workers < 1:
            raise CommandError(f"--workers must be 1 or more, not {workers}")

        def progress(done: int, total: int) -> None:
            if verbosity >= 2 and done:
                self.stderr.write(f"{done}/{total} groups")

        try:
            summary = exporting.export_to_path(course=found, target=target, progress=progress, workers=workers)
        except OSError as error:
            raise CommandError(f"{out}: not written ({error.strerror or error})") from None
        self.stdout.write(f"Wrote {target}: {summary}")
