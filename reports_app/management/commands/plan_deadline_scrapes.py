from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from reports_app.models import Course

from ...services.deadline_scrapes import deadline_scrapes_plan
from ._common import course_named


class Command(BaseCommand):
    help = (
        "Plan a scrape of each group's branch head at its deadline (the course's, or the group's extension), run by "
        "the worker then: every group with a repo URL and a deadline to come. Idempotent; for cron, or after a "
        "roster import. The admin plans them too whenever a deadline is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", help="The course's code (default: every course)")

    def handle(self, *args, course, **options):
        courses = [course_named(course)] if course else list(Course.objects.order_by("code"))
        for found in courses:
            with transaction.atomic():  # the tasks are queued as it commits
                plan = deadline_scrapes_plan(course=found)
            for scheduled in plan.due:
                when = timezone.localtime(scheduled.due_at).strftime("%Y-%m-%d %H:%M")
                self.stdout.write(f"{found.code} group {scheduled.group.number}: head scrape at {when}")
            self.stdout.write(f"{found.code}: {plan}")
