from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app.engine import roster
from reports_app.engine.figures import human_size

from ...services.graders import graders_read, graders_set, graders_spread_plan
from ._common import course_named


class Command(BaseCommand):
    help = (
        "Assign a course's groups to graders: from a CSV (group,ta_email; each group the file names gets exactly the "
        "graders it lists) or spread evenly over the course's TAs (round robin by group number). Prints the changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="The course's code")
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument("--csv", metavar="FILE", help="A group,ta_email file")
        how.add_argument("--spread", action="store_true", help="Every group to one TA, round robin by group number")
        parser.add_argument("--dry-run", action="store_true", help="Print the changes without making them")

    def handle(self, *args, course, csv, spread, dry_run, **options):
        target = course_named(course)
        if spread:
            try:
                wanted = graders_spread_plan(course=target)
            except ValueError as error:
                raise CommandError(str(error)) from None
        else:
            wanted = self._read(target, csv)
        changes = graders_set(course=target, wanted=wanted, only_tas=spread, dry_run=dry_run)
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        for line in changes.lines():
            self.stdout.write(line)
        self.stdout.write(changes.summary())

    def _read(self, course, file: str) -> dict[int, set[int]]:
        path = Path(file)
        try:
            if not path.is_file():
                raise CommandError(f"{file}: not a regular file")
            if (size := path.stat().st_size) > roster.MAX_BYTES:
                raise CommandError(f"{file}: the file is {human_size(size)}; at most {human_size(roster.MAX_BYTES)}")
            data = path.read_bytes()
        except OSError as e:
            raise CommandError(f"{file}: {e.strerror or e}") from None
        try:
            return graders_read(course=course, data=data)
        except roster.RosterError as error:
            for line, message in error.problems:
                self.stderr.write(f"{file}: line {line}: {message}")
            count = len(error.problems)
            raise CommandError(f"{file}: {count} problem{'s' if count != 1 else ''}; nothing was assigned") from None
