"""Scrapes planned at each group's deadline: the worker reads the branch head at that moment, so the commit graded
is the one the server saw then, whatever dates its commits claim (selectors.graded).

`deadline_scrapes_plan` is called wherever a deadline may change (the admin's course and group pages, the command
`plan_deadline_scrapes`); it is idempotent. A task whose `due_at` is no longer its group's deadline does nothing
when it runs: the new deadline has its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Course, ScheduledScrape, Scrape
from .scrapes import group_scrape

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What `deadline_scrapes_plan` did: the scrapes due at the groups' deadlines, and how many of them it queued."""

    due: list[ScheduledScrape]
    queued: int

    def __str__(self) -> str:
        return f"{len(self.due)} head scrape{'' if len(self.due) == 1 else 's'} planned, {self.queued} newly queued"


def deadline_scrapes_plan(*, course: Course) -> Plan:
    """One ScheduledScrape per group of the course with a repo URL and a deadline still to come, at that deadline,
    its task queued (`run_after`) once the transaction commits.

    Idempotent: a (group, deadline) planned already is left as it is; one whose task was never queued (its process
    died before the commit) is queued now. Plans for a deadline that moved stay, and do nothing when they run.
    """
    now = timezone.now()
    groups = course.groups.scrapable().select_related("course").order_by("number")
    wanted = {g.pk: g.deadline for g in groups if g.deadline is not None and g.deadline > now}
    ScheduledScrape.objects.bulk_create(
        [ScheduledScrape(group_id=pk, due_at=due) for pk, due in wanted.items()], ignore_conflicts=True
    )
    planned = ScheduledScrape.objects.filter(group_id__in=list(wanted), due_at__gt=now, done_at=None)
    planned = planned.select_related("group").order_by("group__number")
    due = [s for s in planned if wanted[s.group_id] == s.due_at]
    unqueued = [s.pk for s in due if not s.task_id]
    if unqueued:
        transaction.on_commit(lambda: _enqueue(unqueued))
    return Plan(due, len(unqueued))


def _enqueue(scheduled_ids: list[int]) -> None:
    from ..tasks import run_deadline_scrape  # tasks imports this module

    for scheduled in ScheduledScrape.objects.filter(pk__in=scheduled_ids, task_id=""):
        result = run_deadline_scrape.using(run_after=scheduled.due_at).enqueue(scheduled.pk)
        ScheduledScrape.objects.filter(pk=scheduled.pk).update(task_id=str(result.id))


def deadline_scrape_run(*, scheduled_id: int) -> Scrape | None:
    """The planned scrape, run by the worker at its `due_at`: the group's branch head, recorded as on time.

    Nothing happens (None) when the plan is gone or done already (its task came twice), or when the group's deadline
    is not `due_at` any more (moved: the new deadline has its own plan) or its repo URL was removed. The plan is
    claimed before the scrape, so that two workers never both run it. A run later than DEADLINE_SCRAPE_GRACE_SECONDS
    after `due_at` (no worker was running) cannot tell what the head was at the deadline: its scrape is an ordinary
    head scrape, not on time, and the hand-in is graded by commit date (selectors.graded), with its flags.
    """
    scheduled = ScheduledScrape.objects.select_related("group__course").filter(pk=scheduled_id).first()
    if scheduled is None or scheduled.done_at is not None:
        return None
    group = scheduled.group
    if group.deadline != scheduled.due_at or not group.repo_url:
        logger.info("group %s: its deadline is not %s any more; no scrape", group.pk, scheduled.due_at)
        return None
    if not ScheduledScrape.objects.filter(pk=scheduled.pk, done_at=None).update(done_at=timezone.now()):
        return None
    try:
        scrape = group_scrape(group=group, at_deadline=False)
    except ValueError as error:  # the course has no template: nothing can be read
        logger.warning("group %s: the scrape at its deadline could not be done: %s", group.pk, error)
        return None
    late = timezone.now() - scheduled.due_at > timedelta(seconds=settings.DEADLINE_SCRAPE_GRACE_SECONDS)
    if late:
        logger.warning("group %s: the scrape due at %s ran late; not counted as on time", group.pk, scheduled.due_at)
    else:
        Scrape.objects.filter(pk=scrape.pk).update(on_time=True)
        scrape.on_time = True
    ScheduledScrape.objects.filter(pk=scheduled.pk).update(scrape=scrape, done_at=timezone.now())
    return scrape
