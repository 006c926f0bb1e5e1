"""The grades of a course for grades out (selectors.grade_exports): each (group, question number)'s grade with its
score and max points, in a constant number of queries (3, however many groups and questions)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..models import Course, Grade, QuestionPoints
from ..services.grading import grade_score


@dataclass(frozen=True)
class GradeRow:
    grade: Grade  # its items prefetched, graded_by selected
    score: Decimal
    max_points: Decimal | None


def grades_for(course: Course) -> dict[tuple[int, int], GradeRow]:
    """{(group id, question number): GradeRow} of the course's grades.

    Queries: the course's max points, the grades with their graders, their rubric items (prefetch).
    """
    max_points = dict(QuestionPoints.objects.filter(course=course).values_list("number", "max_points"))
    grades = Grade.objects.filter(group__course=course).select_related("graded_by").prefetch_related("items")
    rows = {}
    for grade in grades:
        top = max_points.get(grade.number)
        rows[grade.group_id, grade.number] = GradeRow(grade, grade_score(grade, course, top), top)
    return rows
