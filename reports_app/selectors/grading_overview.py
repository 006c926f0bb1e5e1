"""A course's grading overview for one grader: the submissions they grade by the graded questions, each cell
ungraded, graded (with its score) or changed since graded (the answer graded now is another version than the
grader saw), with its open regrade request; progress per grader, per question and overall; the filters `mine`,
`ungraded` and `flagged`.

Seven queries, however many groups, questions and graders (see `grading_overview`). Scores are what
services.grading.grade_score makes of a grade (engine.scoring.score of the items' current points, the adjustment and
the course's rule), computed here from plain rows rather than model instances: a course of 150 groups x 31 questions
has thousands of grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.db.models import BooleanField, ExpressionWrapper

from ..engine.people import person_name
from ..engine.scoring import score
from ..models import Course, Grade, Group, GroupGrader, QuestionPoints, RegradeRequest, staff_sees
from .graded import graded_revision_ids
from .submissions import Submission, course_codes, submissions


class CellState(StrEnum):
    UNGRADED = "ungraded"
    GRADED = "graded"
    CHANGED = "changed"  # graded, but the answer graded now is not the version its grader saw

    @property
    def letter(self) -> str:
        """What a cell shows besides its colour: U, G or C (its title says the rest)."""
        return self.value[0].upper()


@dataclass(frozen=True)
class Cell:
    number: int
    state: CellState
    score: Decimal | None  # None: ungraded
    max_points: Decimal
    regrade: bool  # an open regrade request

    @property
    def flagged(self) -> bool:
        return self.state is CellState.CHANGED or self.regrade


@dataclass(frozen=True)
class Row:
    submission: Submission
    cells: tuple[Cell, ...]
    graders: frozenset[int]  # user ids

    @property
    def ungraded(self) -> bool:
        return any(cell.state is CellState.UNGRADED for cell in self.cells)

    @property
    def flagged(self) -> bool:
        return any(cell.flagged for cell in self.cells)

    @property
    def graded(self) -> int:
        return sum(cell.state is not CellState.UNGRADED for cell in self.cells)


@dataclass(frozen=True)
class Progress:
    label: str
    graded: int
    total: int

    @property
    def percent(self) -> int:
        """Rounded down, so that 100 means done."""
        return self.graded * 100 // self.total if self.total else 100


@dataclass(frozen=True)
class GradingOverview:
    course: Course
    question_points: tuple[QuestionPoints, ...]  # the course's, graded or not (the release panel lists them)
    numbers: tuple[int, ...]  # the graded questions (with max points), in order
    rows: tuple[Row, ...]  # every submission the user grades, in grading order
    graders: tuple[Progress, ...]  # per grader of those submissions, by name
    questions: tuple[Progress, ...]  # per question, in order
    overall: Progress

    def select(self, *, user_id: int, mine: bool = False, ungraded: bool = False, flagged: bool = False) -> list[Row]:
        """The rows the filters keep: assigned to `user_id` (mine), with an ungraded question, flagged."""
        return [
            row
            for row in self.rows
            if (not mine or user_id in row.graders) and (not ungraded or row.ungraded) and (not flagged or row.flagged)
        ]


def first_ungraded(rows: list[Row]) -> tuple[Submission, int] | None:
    """Where grading by question starts: the lowest question number any of `rows` has ungraded, and the first of
    them (in grading order) that has it ungraded; None when every cell is graded."""
    best: tuple[int, int] | None = None  # (number, row index)
    for index, row in enumerate(rows):
        for cell in row.cells:
            if cell.state is CellState.UNGRADED:
                if best is None or cell.number < best[0]:
                    best = (cell.number, index)
                break
    return (rows[best[1]].submission, best[0]) if best else None


def _progress(label: str, cells: list[Cell]) -> Progress:
    return Progress(label, sum(cell.state is not CellState.UNGRADED for cell in cells), len(cells))


def grading_overview(course: Course, user, *, hidden: bool) -> GradingOverview:
    """The overview of the course's submissions `user` grades (Group.objects.visible_to), named by code when
    `hidden` (selectors.submissions.hides_groups).

    Queries: 1 the course's groups, each with whether the user sees it; 2 the questions' points; 3 the
    grades of the course; 4 the points of their applied rubric items; 5 the revision graded of each answer
    (selectors.graded); 6 the open regrade requests; 7 the graders of the course's groups with their names.
    """
    groups = list(
        Group.objects.filter(course=course).annotate(
            sees=ExpressionWrapper(staff_sees(user), output_field=BooleanField())
        )
    )
    codes = course_codes(course, [group.pk for group in groups])  # no query: the ids are given
    mine = [group for group in groups if group.sees]
    for group in mine:
        group.course = course
    seen = {group.pk for group in mine}
    everything = len(mine) == len(groups)  # then no list of ids in the queries below
    question_points = tuple(QuestionPoints.objects.filter(course=course).order_by("number"))
    max_points = {p.number: p.max_points for p in question_points if p.max_points is not None}
    numbers = tuple(max_points)

    grades = Grade.objects.filter(group__course=course, version__gt=0, number__in=numbers)
    if not everything:
        grades = grades.filter(group_id__in=seen)
    grade_rows = list(grades.values_list("pk", "group_id", "number", "adjustment", "revision_id"))
    applied: dict[int, list[Decimal]] = {}
    through = Grade.items.through.objects.filter(grade_id__in=grades.values("pk"))
    for grade_id, item_points in through.values_list("grade_id", "rubricitem__points"):
        applied.setdefault(grade_id, []).append(item_points)
    graded = graded_revision_ids(course, group_ids=None if everything else seen)
    regrades = set(
        RegradeRequest.objects.filter(grade__group__course=course, answered_at=None).values_list(
            "grade__group_id", "grade__number"
        )
    )
    assigned: dict[int, set[int]] = {}
    names: dict[int, str] = {}
    graders = GroupGrader.objects.filter(group__course=course, user__course_roles__course=course)
    for grader in graders.select_related("user"):
        assigned.setdefault(grader.group_id, set()).add(grader.user_id)
        names[grader.user_id] = person_name(grader.user)

    states: dict[tuple[int, int], tuple[CellState, Decimal]] = {}
    for grade_id, group_id, number, adjustment, revision_id in grade_rows:
        value = score(applied.get(grade_id, ()), adjustment, max_points[number], may_exceed=course.grades_may_exceed)
        changed = revision_id != graded.get((group_id, number))
        states[group_id, number] = (CellState.CHANGED if changed else CellState.GRADED, value)

    def cell(group_id: int, number: int) -> Cell:
        state, value = states.get((group_id, number), (CellState.UNGRADED, None))
        return Cell(number, state, value, max_points[number], (group_id, number) in regrades)

    rows = tuple(
        Row(s, tuple(cell(s.group.pk, n) for n in numbers), frozenset(assigned.get(s.group.pk, ())))
        for s in submissions(mine, codes, hidden=hidden)
    )

    by_grader: dict[int, list[Cell]] = {}
    for row in rows:
        for user_id in row.graders:
            by_grader.setdefault(user_id, []).extend(row.cells)
    return GradingOverview(
        course=course,
        question_points=question_points,
        numbers=numbers,
        rows=rows,
        graders=tuple(
            sorted((_progress(names[user_id], cells) for user_id, cells in by_grader.items()), key=lambda p: p.label)
        ),
        questions=tuple(
            _progress(f"Question {number}", [row.cells[i] for row in rows]) for i, number in enumerate(numbers)
        ),
        overall=_progress("All", [cell for row in rows for cell in row.cells]),
    )
