from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app.engine import csvfiles

from ...services.grading import grade_log_rows
from ._common import course_named


class Command(BaseCommand):
    help = "Write a course's grade log as CSV: every change of a grade, oldest first, with the score before and after."

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="The course's code")
        parser.add_argument("--out", help="The file to write (default: standard output)")

    def handle(self, *args, course, out, **options):
        rows = grade_log_rows(course=course_named(course))
        text = csvfiles.csv_text(rows)
        if out is None:
            self.stdout.write(text, ending="")
            return
        target = Path(out)
        if target.exists() and not target.is_file():
            raise CommandError(f"{out}: is not a regular file")
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as e:
            raise CommandError(f"{out}: {e.strerror or e}") from None
        entries = len(rows) - 1
        self.stderr.write(f"Wrote {entries} entr{'ies' if entries != 1 else 'y'} of {course}'s grade log to {out}")
