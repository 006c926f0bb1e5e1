"""The grades of a course for the grading pages: each (group, question number)'s grade with its score and max
points, and each group's total, in a constant number of queries (3, however many groups and questions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..engine.scoring import ZERO, score
from ..models import Course, Grade, Group, QuestionPoints


@dataclass(frozen=True)
class GradeRow:
    grade: Grade  # its items prefetched, graded_by selected
    score: Decimal
    max_points: Decimal | None


def grades_for(course: Course, *, groups: Iterable[Group] | None = None) -> dict[tuple[int, int], GradeRow]:
    """{(group id, question number): GradeRow} of the course's grades (of `groups` only, when given).

    Queries: the course's max points, the grades with their graders, their rubric items (prefetch).
    """
    max_points = dict(QuestionPoints.objects.filter(course=course).values_list("number", "max_points"))
    grades = Grade.objects.filter(group__course=course).select_related("graded_by").prefetch_related("items")
    if groups is not None:
        grades = grades.filter(group__in=[g.pk for g in groups])
    rows = {}
    for grade in grades:
        top = max_points.get(grade.number)
        points = [item.points for item in grade.items.all()]
        value = score(points, grade.adjustment, top, may_exceed=course.grades_may_exceed)
        rows[grade.group_id, grade.number] = GradeRow(grade, value, top)
    return rows


def group_totals(rows: dict[tuple[int, int], GradeRow]) -> dict[int, Decimal]:
    """{group id: the sum of its questions' scores} from `grades_for`'s rows (a group with no grade: absent)."""
    totals: dict[int, Decimal] = {}
    for (group_id, _), row in rows.items():
        totals[group_id] = totals.get(group_id, ZERO) + row.score
    return totals
