"""What a course's outbox shows (services/outbox.py sends the mails): how many are queued, sent and failed, every
mail not sent yet with why, and the last ones sent. Three queries whatever the number of mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from ..models import Course, Mail

SENT_ON_PAGE = 50


def outbox_counts(course: Course) -> dict[str, int]:
    """The course's mails by status, and the queued ones that failed a try already ('retrying'): {'queued': 12,
    'sent': 590, 'failed': 3, 'retrying': 0} (one query)."""
    counts = dict.fromkeys([*Mail.Status.values, "retrying"], 0)
    rows = Mail.objects.filter(course=course).values("status").order_by()
    for row in rows.annotate(n=Count("pk"), retrying=Count("pk", filter=Q(tries__gt=0))):
        counts[row["status"]] = row["n"]
        counts["retrying"] += row["retrying"] if row["status"] == Mail.Status.QUEUED else 0
    return counts


@dataclass(frozen=True)
class Reason:
    """Unsent mails that share a state and a reason: 'queued, the mail server could not be reached: 732'."""

    status: str
    error: str  # "" for mails not tried yet
    count: int
    next_try: datetime | None  # the first of them due again (queued ones)


@dataclass(frozen=True)
class Outbox:
    counts: dict[str, int]
    unsent: list[Mail]  # failed ones first, then queued; oldest first
    sent: list[Mail]  # the last SENT_ON_PAGE, newest first

    @property
    def reasons(self) -> list[Reason]:
        """The unsent mails by state and reason, failed ones first: what a mail server down for an hour looks like
        in one line, not in 700."""
        groups: dict[tuple[str, str], list[Mail]] = {}
        for mail in self.unsent:
            groups.setdefault((mail.status, mail.error), []).append(mail)
        return [
            Reason(status, error, len(mails), min(m.due_at for m in mails) if status == Mail.Status.QUEUED else None)
            for (status, error), mails in groups.items()
        ]


def outbox_page(course: Course) -> Outbox:
    mails = Mail.objects.filter(course=course)
    unsent = mails.exclude(status=Mail.Status.SENT).order_by("status", "created_at", "pk")  # 'failed' < 'queued'
    sent = mails.filter(status=Mail.Status.SENT).order_by("-sent_at", "-pk")[:SENT_ON_PAGE]
    return Outbox(outbox_counts(course), list(unsent), list(sent))
