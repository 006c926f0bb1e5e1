from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app.engine import roster

from ...services.roster import roster_rows
from ._common import course_named


class Command(BaseCommand):
    help = "Write a course's roster as a student list CSV (group, study_number, name, email, repo), one row a member."

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="The course's code")
        parser.add_argument("--out", help="The file to write (default: standard output)")

    def handle(self, *args, course, out, **options):
        rows = roster_rows(course_named(course))
        text = roster.roster_csv(rows)
        if out is None:
            self.stdout.write(text, ending="")
            return
        target = Path(out)
        if target.exists() and not target.is_file() and not target.is_dir():  # a pipe would wait for a reader
            raise CommandError(f"{out}: is not a regular file")
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as e:
            raise CommandError(f"{out}: {e.strerror or e}") from None
        self.stderr.write(f"Wrote {len(rows)} row{'s' if len(rows) != 1 else ''} of {course} to {out}")
