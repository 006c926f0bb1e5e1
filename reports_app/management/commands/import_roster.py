from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reports_app.engine import roster
from reports_app.engine.figures import human_size

from ...services.invitations import invitations_send, members_without_password
from ...services.roster import roster_import, roster_read, roster_without_password
from ...services.scrapes import failure_reason
from ._common import course_named

INVITE_NEEDS_SITE_URL = (
    "--invite needs SITE_URL, the site's address that the links in the mails start with (e.g. "
    "https://reports.example.com); nothing was imported"
)

NO_NEW_ACCOUNTS = "No new accounts: no invitations to mail."


class Command(BaseCommand):
    help = (
        "Create a course's groups, accounts and memberships from a roster CSV (the sign-up sheet or a student list) "
        "and print what changed. Members not in the file are listed, not removed, unless --remove-missing. "
        "With --invite, each new account is mailed a link to choose its password."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--course", required=True, help="The course's code")
        parser.add_argument("--dry-run", action="store_true", help="Print the changes without making them")
        parser.add_argument("--remove-missing", action="store_true", help="Remove members who are not in the file")
        parser.add_argument(
            "--invite",
            action="store_true",
            help="Mail each new account an invitation with a link to choose its password (needs SITE_URL)",
        )

    def handle(self, *args, file, course, dry_run, remove_missing, invite, **options):
        target = course_named(course)
        if invite and not dry_run and not settings.SITE_URL:
            raise CommandError(INVITE_NEEDS_SITE_URL)
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
            read = roster_read(course=target, data=data)
            waiting = roster_without_password(read)  # before the import, which makes accounts without one
            changes = roster_import(course=target, roster=read, dry_run=dry_run, remove_missing=remove_missing)
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
        if invite:
            self._invite(target, changes.users_created, dry_run)
        if invite and waiting:
            self.stdout.write(
                f"No password yet, and no mail from this import (it invites new accounts only): {', '.join(waiting)}"
            )

    def _invite(self, course, new: list[str], dry_run: bool) -> None:
        """Queue the new accounts' invitations (the worker mails them): a line per address not queued (on stderr),
        then a summary."""
        if not new:
            self.stdout.write(NO_NEW_ACCOUNTS)
        elif dry_run:
            self.stdout.write(f"Would mail {len(new)} invitation{'' if len(new) == 1 else 's'}: {', '.join(new)}")
        else:
            memberships = members_without_password(course.groups.all(), usernames=new)
            site = urlsplit(settings.SITE_URL).netloc
            sent = invitations_send(memberships=memberships, base_url=settings.SITE_URL, site_name=site)
            for line in sent.failures():
                self.stderr.write(line)
            self.stdout.write(sent.summary())
