"""Grades out of the site, for instructors: points per question and total per group (grades.csv, also the points
columns of the export's grades.csv), a row per student in D2L / Brightspace's grade-import format (d2l.csv), and the
grade log (log.csv). The web download and `manage.py export_grades` make the same bytes with `grades_file`.

Every function reads the whole course in a constant number of queries, however many groups it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from ..engine.csvfiles import csv_text
from ..engine.scoring import ZERO
from ..models import Course, Grade, Group, Membership, QuestionPoints
from ..services.grading import grade_log_rows
from .grades import GradeRow, grades_for

KINDS = ("grades.csv", "d2l.csv", "log.csv")  # what `grades_file` makes; the view's and the command's choices
TOTAL_POINTS = "total points"
MAX_POINTS = "max points"
D2L_END = "End-of-Line Indicator"
D2L_MARK = "#"  # D2L's end-of-record value, and the prefix of its key fields (see d2l_rows)


@dataclass(frozen=True)
class CoursePoints:
    """The course's graded questions (a max set) with their max points, in number order, and its grades."""

    max_points: dict[int, Decimal]
    grades: dict[tuple[int, int], GradeRow]

    def header(self) -> list[str]:
        """'Q3 points' per graded question, then 'total points' and 'max points'."""
        return [*(f"Q{n} points" for n in self.max_points), TOTAL_POINTS, MAX_POINTS]

    def total(self, group_id: int) -> Decimal | None:
        """The sum of the group's scores on the graded questions; None when it has no grade on any of them."""
        scores = [row.score for n in self.max_points if (row := self.grades.get((group_id, n)))]
        return sum(scores, ZERO) if scores else None

    def cells(self, group_id: int) -> list[Decimal | str]:
        """The cells under `header` for a group: its score per question ('' where not graded), its total ('' with
        no grade at all) and the course's max points total. Numbers stay Decimals: engine.csvfiles defuses text
        only, so that a negative score (a course whose grades may exceed 0..max) goes out as -2.00, not '-2.00."""
        scores = [self.grades.get((group_id, n)) for n in self.max_points]
        total = self.total(group_id)
        return [
            *("" if row is None else row.score for row in scores),
            "" if total is None else total,
            sum(self.max_points.values(), ZERO),
        ]


def course_points(course: Course) -> CoursePoints:
    """The course's graded questions and every grade (four queries: max points, then grades_for's three).

    A grade on a question that has no max points (any more) counts nowhere: the question is not graded."""
    graded = QuestionPoints.objects.filter(course=course, max_points__isnull=False).order_by("number")
    return CoursePoints(dict(graded.values_list("number", "max_points")), grades_for(course))


def points_rows(course: Course) -> Iterator[list]:
    """grades.csv: a row per group (number, name, members' e-mails or user names, their study numbers in the same
    order), then its points per graded question, total and the max total (7 queries)."""
    points = course_points(course)  # 1-4
    memberships = Prefetch("memberships", Membership.objects.select_related("user").order_by("id"))
    groups = Group.objects.filter(course=course).order_by("number").prefetch_related(memberships)  # 5, 6
    yield ["group", "name", "members", "study numbers", *points.header()]
    for group in groups:
        members = group.memberships.all()
        study_numbers = [m.study_number for m in members]
        yield [
            group.number,
            group.name,
            "; ".join(m.user.email or m.user.get_username() for m in members),
            "; ".join(study_numbers) if any(study_numbers) else "",
            *points.cells(group.pk),
        ]


def d2l_rows(course: Course) -> Iterator[list]:
    """d2l.csv, Brightspace's grade import: a row per member of each group, with the group's total points.

    D2L's documented import format: `OrgDefinedId` and/or `Username` identify the user (either suffices, so a member
    without a study number is still exported, matched by user name), a `<item> Points Grade` column per numeric grade
    item, and a last column `End-of-Line Indicator` whose value is `#` on every row. D2L's own grade exports put a
    `#` in front of the OrgDefinedId and Username values, which D2L's import takes off again: it keeps Excel from
    reading a study number such as 00246 as a number and dropping its zeros, so we write them that way too (an empty
    study number stays empty). A group with no grade gets an empty grade: the end-of-line `#` is what lets D2L read
    a row whose last grade is empty. E.g.

        "OrgDefinedId","Username","Report Points Grade","End-of-Line Indicator"
        "#s123456","#alice@example.org","17.50","#"
    """
    points = course_points(course)  # 1-4
    members = Membership.objects.filter(group__course=course).select_related("user", "group")  # 5
    yield ["OrgDefinedId", "Username", f"{course.lms_item_name} Points Grade", D2L_END]
    for member in members.order_by("group__number", "id"):
        total = points.total(member.group_id)
        yield [
            f"{D2L_MARK}{member.study_number}" if member.study_number else "",
            f"{D2L_MARK}{member.user.get_username()}",
            "" if total is None else total,
            D2L_MARK,
        ]


def has_grades(course: Course) -> bool:
    return Grade.objects.filter(group__course=course).exists()


def grades_file(course: Course, kind: str) -> str:
    """The text of one of KINDS for the course: grades.csv and log.csv with a BOM (Excel reads them as UTF-8 only
    with it), d2l.csv without (it is for D2L's import, whose header must start with OrgDefinedId)."""
    if kind == "grades.csv":
        return csv_text(points_rows(course), bom=True)
    if kind == "d2l.csv":
        return csv_text(d2l_rows(course))
    if kind == "log.csv":
        return csv_text(grade_log_rows(course=course), bom=True)
    raise ValueError(f"not a kind of grades file: {kind!r}")
