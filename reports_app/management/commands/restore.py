from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app import backups


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database and MEDIA_ROOT, after checking the "
        "whole tar (manifest, names, checksums). Refuses a database that already holds a site unless --force, which "
        "replaces that database whole. Run `manage.py migrate` afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="the tar file written by `manage.py backup`")
        parser.add_argument(
            "--force", action="store_true", help="replace the database even though it already holds a site"
        )

    def handle(self, *args, source, force, **options):
        try:
            summary = backups.restore_from_path(Path(source), force=force)
        except (backups.BackupError, OSError) as error:
            raise CommandError(f"{source}: {error}") from None
        made = summary.manifest
        self.stdout.write(f"Restored {source} (made {made.created}): {summary}; every count and checksum matches.")
        self.stdout.write(
            "Now run `manage.py migrate` (it brings a backup of an older version up to date), then start the site."
        )
