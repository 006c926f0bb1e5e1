"""What a group's feedback page shows: each released graded question, in the order of its report's template, with its
points, the rubric items applied, the comment, who graded it and its regrade requests; and the total. Five queries
whatever the number of questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..engine import diffing
from ..engine.people import person_name
from ..engine.scoring import ZERO
from ..models import Course, Grade, Group, Question, QuestionPoints, RegradeRequest, Report, RubricItem
from ..services.grading import grade_score

A_TA = "a TA"  # who graded, in a course graded anonymously


@dataclass
class FeedbackRow:
    question: Question
    max_points: Decimal
    grade: Grade | None  # None: released, not graded (yet)
    score: Decimal = ZERO
    items: list[RubricItem] = field(default_factory=list)
    grader: str = ""
    regrades: list[RegradeRequest] = field(default_factory=list)  # newest first, each with `answerer` set

    @property
    def title(self) -> str:
        return diffing.first_line(self.question.prompt)

    @property
    def has_open_regrade(self) -> bool:
        return any(regrade.is_open for regrade in self.regrades)


@dataclass
class FeedbackPage:
    rows: list[FeedbackRow]
    total: Decimal
    max_total: Decimal
    regrades_open: bool  # members may ask for regrades now

    @property
    def released(self) -> bool:
        return bool(self.rows)


def released_points(course: Course) -> dict[int, Decimal]:
    """{number: max points} of the course's graded questions whose grades students see: every question with max
    points once the course is released, else those released alone (one query)."""
    rows = QuestionPoints.objects.filter(course=course, max_points__isnull=False)
    if course.grades_released_at is None:
        rows = rows.filter(released_at__isnull=False)
    return dict(rows.values_list("number", "max_points"))


def released_numbers(course: Course) -> set[int]:
    """The numbers of the course's released graded questions (`released_points`; one query)."""
    return set(released_points(course))


def grader_name(user, course: Course) -> str:
    """'a TA' in a course graded anonymously, else the person's full name or user name."""
    return A_TA if course.anonymous_grading else person_name(user)


def feedback_page(group: Group, report: Report) -> FeedbackPage:
    """The released questions of the group's report (with the group's course selected).

    Queries: max points and releases, the template's questions, the group's grades with their graders, their rubric
    items (prefetch), their regrade requests with who asked and who answered.
    """
    course = group.course
    points = released_points(course)  # 1
    released = list(points)
    questions = [q for q in report.template.questions.all() if q.number in released]  # 2
    grades = {
        grade.number: grade
        for grade in Grade.objects.filter(group=group, number__in=released, version__gt=0)
        .select_related("graded_by")
        .prefetch_related("items")  # 3, 4
    }
    regrades: dict[int, list[RegradeRequest]] = {}
    requests = RegradeRequest.objects.filter(grade__in=list(grades.values())).select_related(
        "requested_by", "answered_by"
    )
    for regrade in requests:  # 5, newest first
        regrade.answerer = grader_name(regrade.answered_by, course) if regrade.answered_by_id else ""
        regrades.setdefault(regrade.grade_id, []).append(regrade)
    rows = []
    for question in questions:
        top = points[question.number]
        grade = grades.get(question.number)
        row = FeedbackRow(question, top, grade)
        if grade is not None:
            row.items = sorted(grade.items.all(), key=lambda item: (item.position, item.pk))
            row.score = grade_score(grade, course, top)
            row.grader = grader_name(grade.graded_by, course)
            row.regrades = regrades.get(grade.pk, [])
        rows.append(row)
    until = course.regrades_until
    return FeedbackPage(
        rows,
        total=sum((row.score for row in rows), ZERO),
        max_total=sum((row.max_points for row in rows), ZERO),
        regrades_open=until is not None and timezone.now() < until,
    )


def has_released_grades(group: Group) -> bool:
    """Whether the group has a graded question its members see (one query; the group's course selected)."""
    course = group.course
    points = QuestionPoints.objects.filter(course=course, number=OuterRef("number"), max_points__isnull=False)
    if course.grades_released_at is None:
        points = points.filter(released_at__isnull=False)
    return Grade.objects.filter(Exists(points), group=group, version__gt=0).exists()
