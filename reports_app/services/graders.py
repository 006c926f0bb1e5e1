"""Who grades which group of a course: from a `group,ta_email` CSV (each group the file names gets exactly the graders
it lists; groups it does not name keep theirs), or spread evenly over the course's TAs (every group gets one TA, round
robin by group number over the TAs by user name; instructors' own assignments stay). Both preview with `dry_run`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from ..engine.graders import read_graders, spread
from ..engine.roster import RosterError
from ..models import Course, CourseStaff, GroupGrader, StaffRole
from .roster import _ambiguous, users_by_email

NO_GROUP = "the course has no group {number}"
NO_ACCOUNT = "{email} has no account"
NOT_STAFF = "{email} is not a TA or instructor of {course}: give them a role in the course first"
NO_TAS = "The course has no TAs to spread its groups over: give people the TA role in the course first."


@dataclass
class GraderChanges:
    added: list[tuple[int, str]] = field(default_factory=list)  # (group number, user name)
    removed: list[tuple[int, str]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def lines(self) -> list[str]:
        return [f"group {n}: {user} grades it" for n, user in self.added] + [
            f"group {n}: {user} no longer grades it" for n, user in self.removed
        ]

    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.removed)} removed, {self.unchanged} unchanged."


def graders_read(*, course: Course, data: bytes) -> dict[int, set[int]]:
    """A `group,ta_email` file as {group id: {user id}}; RosterError with every problem and its line (a group the
    course lacks, an address without an account, or whose account has no role in the course)."""
    rows, problems = read_graders(data)
    groups = {g.number: g.pk for g in course.groups.filter(number__in={row.number for row in rows})}
    users, ambiguous = users_by_email({row.email for row in rows})
    staff = set(CourseStaff.objects.filter(course=course).values_list("user_id", flat=True))
    wanted: dict[int, set[int]] = {}
    for row in rows:
        user = users.get(row.email)
        if row.number not in groups:
            problems.append((row.line, NO_GROUP.format(number=row.number)))
        if row.email in ambiguous:
            problems.append((row.line, _ambiguous(row.email, ambiguous[row.email])))
        elif user is None:
            problems.append((row.line, NO_ACCOUNT.format(email=row.email)))
        elif user.pk not in staff:
            problems.append((row.line, NOT_STAFF.format(email=row.email, course=course)))
        elif row.number in groups:
            wanted.setdefault(groups[row.number], set()).add(user.pk)
    if problems:
        raise RosterError(problems)  # sorted by line
    return wanted


def graders_spread_plan(*, course: Course) -> dict[int, set[int]]:
    """{group id: {the one TA}} for every group of the course; ValueError(NO_TAS) when it has no TA."""
    tas = CourseStaff.objects.filter(course=course, role=StaffRole.TA).order_by("user__username", "user_id")
    ta_ids = [str(pk) for pk in tas.values_list("user_id", flat=True)]
    if not ta_ids:
        raise ValueError(NO_TAS)
    numbers = dict(course.groups.values_list("number", "pk"))
    return {numbers[number]: {int(user)} for number, user in spread(list(numbers), ta_ids).items()}


def graders_set(
    *, course: Course, wanted: dict[int, set[int]], only_tas: bool = False, dry_run: bool = False
) -> GraderChanges:
    """Give each group in `wanted` exactly its graders there (of the TAs only, with `only_tas`: an instructor
    assigned to a group stays), and report the changes; a dry run writes nothing."""
    changes = GraderChanges()
    tas = set(CourseStaff.objects.filter(course=course, role=StaffRole.TA).values_list("user_id", flat=True))
    with transaction.atomic():
        current = GroupGrader.objects.filter(group__course=course, group_id__in=wanted).select_related("group", "user")
        have: dict[int, dict[int, GroupGrader]] = {}
        for grader in current:
            have.setdefault(grader.group_id, {})[grader.user_id] = grader
        numbers = dict(course.groups.filter(pk__in=wanted).values_list("pk", "number"))
        names = dict(CourseStaff.objects.filter(course=course).values_list("user_id", "user__username"))
        for group_id, users in sorted(wanted.items(), key=lambda item: numbers[item[0]]):
            there = have.get(group_id, {})
            for user_id, grader in there.items():
                if user_id in users:
                    changes.unchanged += 1
                elif not only_tas or user_id in tas:
                    changes.removed.append((numbers[group_id], grader.user.get_username()))
                    if not dry_run:
                        grader.delete()
            for user_id in sorted(users - there.keys(), key=lambda pk: names.get(pk, "")):
                changes.added.append((numbers[group_id], names[user_id]))
                if not dry_run:
                    GroupGrader.objects.create(group_id=group_id, user_id=user_id)
    return changes
