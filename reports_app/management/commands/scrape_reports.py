from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports_app import tasks
from reports_app.models import Scrape

from ...services.scrapes import course_scrape, failure_reason
from ._common import count_of, course_named, group_number


class Command(BaseCommand):
    help = (
        "Read reports/README.md and reports/figures/ from the groups' repos (all that have a repo URL, or the ones "
        "named) and import them: one line per group, then a summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="Course code")
        parser.add_argument(
            "--group", type=group_number, nargs="+", action="extend", dest="groups", help="Group numbers (default: all)"
        )
        parser.add_argument(
            "--at-deadline", action="store_true", help="Read the last commit before each group's deadline"
        )
        parser.add_argument(
            "--workers",
            type=count_of("workers", 256),
            default=settings.SCRAPE_WORKERS,
            help="Repos fetched at once (setting SCRAPE_WORKERS)",
        )

    def handle(self, *args, course, groups, at_deadline, workers, **options):
        found = course_named(course)
        selected = found.groups.select_related("course").order_by("number")
        if not groups:
            selected = selected.scrapable()  # as a scrape job does
        else:
            selected = selected.filter(number__in=groups)
            missing = sorted(set(groups) - {g.number for g in selected})
            if missing:
                known = ", ".join(str(n) for n in found.groups.values_list("number", flat=True)) or "none"
                raise CommandError(f"course {course} has no group {missing[0]} (its groups: {known})")
        try:
            scrapes = course_scrape(groups=selected, at_deadline=at_deadline, workers=workers)
        except ValueError as e:
            raise CommandError(str(e)) from None
        except Exception as error:  # each group's own problems are its status: this is the site's (its database)
            raise CommandError(f"the scrape stopped: {failure_reason(error)}") from None
        for scrape in scrapes:
            self.stdout.write(line(scrape))
        self.stdout.write(f"Scraped {tasks.scrape_summary(scrapes)}")


def line(scrape: Scrape) -> str:
    """`group 3: ok 1a2b3c4d5e 2025-01-20 14:03 (2 answers changed)`, or the status and why."""
    head = f"group {scrape.group.number}: {scrape.get_status_display()}"
    if scrape.commit_sha:
        when = timezone.localtime(scrape.commit_at).strftime("%Y-%m-%d %H:%M")
        head += f" {scrape.commit_sha[:10]} {when}" + (" (late)" if scrape.is_late else "")
    if scrape.status in (Scrape.Status.OK, Scrape.Status.PROBLEMS):
        detail = "unchanged" if scrape.unchanged else f"{len(scrape.changed)} answers changed"
        detail += f", {len(scrape.problems)} problems" if scrape.problems else ""
        detail += f", {len(scrape.skipped)} files skipped" if scrape.skipped else ""
        detail += f"; {scrape.message}" if scrape.message and not scrape.problems else ""  # answers stored as typed
    else:
        detail = scrape.message
    return f"{head} ({detail})"
