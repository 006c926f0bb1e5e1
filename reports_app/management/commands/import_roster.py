from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app.engine import roster
from reports_app.engine.figures import human_size

from ...services.roster import roster_import, roster_read
from ...services.scrapes import failure_reason
from ._common import course_named


class Command(BaseCommand):
    help = (
        "Create a course's groups, accounts and memberships from a roster CSV (the sign-up sheet or a student list) "
        "and print what changed. Members not in the file are listed, not removed, unless --remove-missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--course", required=True, help="The course's code")
        parser.add_argument("--dry-run", action="store_true", help="Print the changes without making them")
        parser.add_argument("--remove-missing", action="store_true", help="Remove members who are not in the file")

    def handle(self, *args, file, course, dry_run, remove_missing, **options):
        target = course_named(course)
        path = Path(file)
        try:
            size = path.stat().st_size
            if not path.is_file() and not path.is_dir():  # a pipe would wait for a writer, a device never end
                raise CommandError(f"{file}: not a regular file")
            if size > roster.MAX_BYTES:
                raise CommandError(
                    f"{file}: the file is {human_size(size)}; a roster may be at most {human_size(roster.MAX_BYTES)}"
                )
            data = path.read_bytes()
        except OSError as e:
            raise CommandError(f"{file}: {e.strerror or e}") from None
        try:
            changes = roster_import(
                course=target,
                roster=roster_read(course=target, data=data),
                dry_run=dry_run,
                remove_missing=remove_missing,
            )
        except roster.RosterError as error:
            for line, message in error.problems:
                self.stderr.write(f"{file}: line {line}: {message}")
            count = len(error.problems)
            raise CommandError(f"{file}: {count} problem{'s' if count != 1 else ''}; nothing was imported") from None
        except Exception as error:  # one transaction: nothing was imported
            raise CommandError(f"{file}: {failure_reason(error)}; nothing was imported") from None
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        for line in changes.lines():
            self.stdout.write(line)
        self.stdout.write(changes.summary())
