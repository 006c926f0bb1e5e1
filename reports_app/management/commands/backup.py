from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app import backups


class Command(BaseCommand):
    help = (
        "Back the whole site up into one tar: the database (pg_dump or a SQLite copy), every media file (figures; "
        "course exports are left out, they can be made again) and a manifest with counts and checksums. "
        "Restore it with `manage.py restore`."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="the tar file to write (replaced when it exists), outside MEDIA_ROOT")

    def handle(self, *args, out, **options):
        try:
            summary = backups.backup_to_path(Path(out))
        except backups.BackupError as error:
            raise CommandError(f"{out}: not written: {error}") from None
        except OSError as error:
            raise CommandError(f"{out}: not written: {error}") from None
        self.stdout.write(f"Wrote {out}: {summary}")
        if summary.skipped:
            self.stdout.write(f"Not in the backup, from MEDIA_ROOT: {summary.left_out()}")
