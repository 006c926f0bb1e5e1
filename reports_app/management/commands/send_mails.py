from django.core.management.base import BaseCommand

from ...services.outbox import mails_send


class Command(BaseCommand):
    help = (
        "Send the outbox's queued mails that are due, as the worker does (a mail waiting for its next try after a "
        "temporary failure waits still). For a shell or cron when no `db_worker` runs."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(mails_send()))
