from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app import exporting

from ...services.scrapes import failure_reason
from ._common import count_of, course_named


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
            type=count_of("workers", 256),
            default=exporting.default_workers(),
            help="reports rendered at a time, each within the render budget (default: one per core, here %(default)s)",
        )

    def handle(self, *args, course, out, workers, verbosity, **options):
        found = course_named(course)
        target = Path(out)
        if target.is_dir():
            raise CommandError(f"{out}: is a folder; give the name of the zip file to write")
        if target.exists() and not target.is_file():  # a device or a pipe: the zip would be renamed over it
            raise CommandError(f"{out}: is not a regular file; give the name of the zip file to write")
        if not target.parent.is_dir():
            raise CommandError(f"{out}: the folder {target.parent} does not exist")

        def progress(done: int, total: int) -> None:
            if verbosity >= 2 and done:
                self.stderr.write(f"{done}/{total} groups")

        try:
            summary = exporting.export_to_path(course=found, target=target, progress=progress, workers=workers)
        except OSError as error:
            raise CommandError(f"{out}: not written ({error.strerror or error})") from None
        except Exception as error:  # each group's own problems are in the zip: this is the site's (its database)
            raise CommandError(f"{out}: not written ({failure_reason(error)})") from None
        self.stdout.write(f"Wrote {target}: {summary}")
