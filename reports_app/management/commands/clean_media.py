from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from ...services.figures import figure_orphans
from ._common import count_of


class Command(BaseCommand):
    help = (
        "List the figure files that no figure refers to (left by an import whose worker was killed, or by a restore "
        "over another site); --delete removes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Remove them (without it: only list them)")
        parser.add_argument(
            "--older-than",
            type=count_of("minutes", 10**7, low=0),
            default=60,
            metavar="MINUTES",
            help="Only files older than this (default: 60)",
        )

    def handle(self, *args, delete, older_than, **options):
        orphans = figure_orphans(older_than=timedelta(minutes=older_than))
        for path in orphans:
            self.stdout.write(str(path.relative_to(settings.MEDIA_ROOT)))
            if delete:
                path.unlink(missing_ok=True)
        verb = "Removed" if delete else "Found"
        self.stderr.write(f"{verb} {len(orphans)} figure file{'' if len(orphans) == 1 else 's'} no figure refers to")
