"""The context above a group's grading page (rendering.GradingHeader): course, group, members with their study
numbers, the people invited, the last scrape's commit and whether it is late, and the course checker's verdicts.

It is made from the group's overview row, so the grading page says what the dashboard and grades.csv say.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from ..engine import rendering
from ..models import Group, Invitation
from .overview import GroupMember, GroupOverview, Verdict, course_overview

# The dashboard legend's words for each verdict (its letter and colour say the same).
VERDICT_LABELS = {
    Verdict.PASS: "passes",
    Verdict.WORDS: "wrong number of words",
    Verdict.IMAGES: "wrong number of images",
    Verdict.MISSING: "not answered",
    Verdict.STOPS: "the course checker stops on the file",
}
NEVER_SCRAPED = "never scraped: the report as written on this site"
NO_COMMIT = "no commit read (last scrape: {status}): the report as written on this site"


def zoned_time(value: datetime | None) -> str:
    """'2026-01-21 01:04 CET': a time in the site's time zone (TIME_ZONE), with the zone's name; '' for None."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""


Person = tuple[str, str]  # ("Name <e-mail>", study number or "")


def invited_people(group_ids: Iterable[int]) -> dict[int, tuple[Person, ...]]:
    """By group id, the people invited who have not joined yet (pending invitations), by e-mail; one query."""
    invited: dict[int, tuple[Person, ...]] = {}
    pending = Invitation.objects.pending().filter(group_id__in=list(group_ids)).order_by("group_id", "email")
    for group_id, name, email, study_number in pending.values_list("group_id", "name", "email", "study_number"):
        invited[group_id] = (*invited.get(group_id, ()), (f"{name} <{email}>" if name else email, study_number))
    return invited


def _who(member: GroupMember) -> str:
    contact = member.email or member.username
    return f"{member.name} <{contact}>" if member.name else contact


def grading_header(row: GroupOverview, invited: tuple[Person, ...] = ()) -> rendering.GradingHeader:
    """The header of the row's grading page: the verdicts of its report's own questions, times in TIME_ZONE."""
    group, course, scrape, result = row.group, row.group.course, row.scrape, row.result
    own = {q.number for q in result.questions} if result else set()
    no_commit = NEVER_SCRAPED if scrape is None else NO_COMMIT.format(status=scrape.get_status_display())
    stops = ""
    if result is not None and result.course_error:
        stops = result.course_error + (f" ({' '.join(result.structure)})" if result.structure else "")
    return rendering.GradingHeader(
        course=" · ".join(filter(None, [course.code, course.title])),
        group=f"Group {group.number}" + (f" · {group.name}" if group.name else ""),
        members=tuple((_who(member), member.study_number) for member in row.members),
        invited=invited,
        commit=scrape.commit_sha if scrape else "",
        commit_time=zoned_time(row.commit_at),
        no_commit=no_commit,
        deadline=zoned_time(group.deadline),
        late=row.late,
        passed=row.passed,
        answered=row.answered,
        total=row.total,
        stops=stops,
        verdicts=tuple(
            rendering.HeaderVerdict(v.number, v.verdict.value, v.verdict.letter, VERDICT_LABELS[v.verdict], v.detail)
            for v in row.verdicts
            if v.number in own
        ),
    )


def group_grading(group: Group) -> tuple[str, rendering.GradingHeader]:
    """The group's README as it stands and the header of its grading page (the group has a report): 7 queries."""
    (row,) = course_overview(group.course, group_ids=[group.pk]).rows
    if row.readme is None:
        raise ValueError(f"group {group.number} of {group.course.code} has no report")
    return row.readme, grading_header(row, invited_people([group.pk]).get(group.pk, ()))
