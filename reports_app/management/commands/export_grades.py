import csv
import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...selectors.grade_exports import grades_file, has_grades
from ._common import course_named

FORMATS = {"csv": "grades.csv", "d2l": "d2l.csv"}  # --format: the kind of grades_file, as the web download has it
NO_GRADES = "{course} has no grades yet: nothing to export"


class Command(BaseCommand):
    help = (
        "Write a course's grades as CSV: --format csv, a row per group with its points per question and total; "
        "--format d2l, a row per student in D2L / Brightspace's grade-import format (each member gets the group's "
        "total). The same files as the grading pages' downloads."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="The course's code")
        parser.add_argument("--format", dest="kind", required=True, choices=sorted(FORMATS), help="csv or d2l")
        parser.add_argument("--output", help="The file to write (default: standard output)")

    def handle(self, *args, course, kind, output, **options):
        found = course_named(course)
        if not has_grades(found):
            raise CommandError(NO_GRADES.format(course=found.code))
        text = grades_file(found, FORMATS[kind])
        if output is None:
            self.stdout.write(text, ending="")
            return
        target = Path(output)
        if target.exists() and not target.is_file():
            raise CommandError(f"{output}: is not a regular file")
        try:
            target.write_text(text, encoding="utf-8", newline="")
        except OSError as e:
            raise CommandError(f"{output}: {e.strerror or e}") from None
        rows = len(list(csv.reader(io.StringIO(text)))) - 1  # a row per group (csv) or per student (d2l)
        self.stderr.write(f"Wrote {rows} row{'s' if rows != 1 else ''} of {found.code}'s grades to {output}")
