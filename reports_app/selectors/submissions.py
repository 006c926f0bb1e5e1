"""How grading pages name a group: by its number ("Group 12 · Herons"), or, in a course graded anonymously, by a
submission code ("Submission 7F3K") to every TA, and to an instructor who has not chosen to reveal the groups.

Codes come from engine.anonymity (stable, unique in the course, nothing stored). A grading URL always names a
group by its code, so that no address a TA sees carries a group's number or id.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from ..engine.anonymity import submission_codes
from ..models import Course, Group

REVEAL_KEY = "reveal-groups:{course}"  # in the session: this instructor shows the course's groups


def course_codes(course: Course, group_ids: list[int] | None = None) -> dict[int, str]:
    """{group id: submission code} for every group of the course (one query unless `group_ids` is all of them)."""
    if group_ids is None:
        group_ids = list(Group.objects.filter(course=course).values_list("pk", flat=True))
    secret = f"{settings.SECRET_KEY}:course:{course.pk}".encode()
    return submission_codes(secret, group_ids)


def hides_groups(request: HttpRequest, course: Course) -> bool:
    """Whether grading pages show this user codes instead of groups: in an anonymous course, always for a TA, and for
    an instructor (or superuser) until they reveal. `course` comes from views.access.get_course_for_staff (role)."""
    if not course.anonymous_grading:
        return False
    if not course.viewer_instructs:
        return True
    return not request.session.get(REVEAL_KEY.format(course=course.pk), False)


@dataclass(frozen=True)
class Submission:
    """A group as a grading page names it."""

    group: Group
    code: str
    hidden: bool

    @property
    def label(self) -> str:
        """'Submission 7F3K', or 'Group 12 · Herons'."""
        if self.hidden:
            return f"Submission {self.code}"
        return f"Group {self.group.number}" + (f" · {self.group.name}" if self.group.name else "")

    @property
    def sort_key(self) -> tuple:
        return (self.code,) if self.hidden else (self.group.number,)


def submissions(groups: list[Group], codes: dict[int, str], *, hidden: bool) -> list[Submission]:
    """The groups as submissions, in grading order: by code when hidden (the order says nothing of the numbers),
    else by number."""
    rows = [Submission(group, codes[group.pk], hidden) for group in groups]
    return sorted(rows, key=lambda s: s.sort_key)


@dataclass(frozen=True)
class GradingAccess:
    """What a grading page may show: the course (with the user's `role`) and one submission of it."""

    course: Course
    submission: Submission
    codes: dict[int, str]  # every group of the course's code, by group id

    @property
    def group(self) -> Group:
        return self.submission.group
