"""Grading's writes: a group's grade on a question (only its graders and the course's instructors; optimistic
locking as answers have), a rubric item's points and a question's max points (instructors; every grade whose score
that changes gets an entry in the audit log), and the log as CSV rows.

Points are Decimals with two places; a score is computed from the items' current points (engine.scoring).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..engine.scoring import score
from ..models import AnswerRevision, Course, Grade, GradeLog, Group, QuestionPoints, RubricItem

NOT_GRADER = "Only a grader of {group} or an instructor of {course} may grade it."
NOT_INSTRUCTOR = "Only an instructor of {course} may change its points and rubric."
UNGRADED = "Question {number} of {course} has no max points: it is not graded."
FOREIGN_REVISION = "That version is not of question {number} of {group}'s answer."
FOREIGN_ITEM = "'{item}' is not a rubric item of question {number} of {course}."
BAD_POINTS = "{what} must be a number with at most 2 decimal places between -9999.99 and 9999.99, not '{value}'."
LIMIT = Decimal("9999.99")
CENT = Decimal("0.01")


class GradingRefused(Exception):
    """The user may not do this (str() says who may), or the input is not a grade (str() says why)."""


class GradeConflict(Exception):
    """A save based on an old version: someone graded since. Nothing was changed; `grade` is the current one."""

    def __init__(self, grade: Grade):
        super().__init__(f"Question {grade.number} of {grade.group} was graded by someone else in the meantime")
        self.grade = grade


def points_value(value: object, what: str = "Points") -> Decimal:
    """`value` as points (Decimal, 2 places); GradingRefused(BAD_POINTS) for anything else."""
    try:
        points = Decimal(str(value).strip())
    except InvalidOperation:
        points = None
    if points is None or not points.is_finite() or abs(points) > LIMIT or points != points.quantize(CENT):
        raise GradingRefused(BAD_POINTS.format(what=what, value=value))
    return points.quantize(CENT)


def max_points_of(course: Course, number: int) -> Decimal | None:
    row = QuestionPoints.objects.filter(course=course, number=number).first()
    return row.max_points if row else None


def grade_score(
    grade: Grade, course: Course, max_points: Decimal | None, points: dict[int, Decimal] | None = None
) -> Decimal:
    """The grade's score, as every page, file, mail and log entry shows it: its (prefetched) items' current points
    (`points` replacing some of them by item id) plus its adjustment, within 0..`max_points` unless the course's
    grades may exceed them (engine.scoring.score). No query: `course` is the grade's group's, given."""
    points = points or {}
    applied = [points.get(item.pk, item.points) for item in grade.items.all()]
    return score(applied, grade.adjustment, max_points, may_exceed=course.grades_may_exceed)


def grade_fields(grade: Grade, points: dict[int, Decimal] | None = None) -> dict:
    """What the log keeps of a grade: its items (text and points), adjustment and comment."""
    points = points or {}
    items = sorted(grade.items.all(), key=lambda i: (i.position, i.pk))
    return {
        "items": [f"{item.text} ({points.get(item.pk, item.points):+})" for item in items],
        "adjustment": str(grade.adjustment),
        "comment": grade.comment,
    }


def _refuse_unless_instructor(course: Course, user) -> None:
    if not Course.objects.instructed_by(user).filter(pk=course.pk).exists():
        raise GradingRefused(NOT_INSTRUCTOR.format(course=course))


def grade_save(
    *,
    group: Group,
    number: int,
    items: Iterable[RubricItem],
    adjustment: object,
    comment: str,
    base_version: int,
    user,
    revision: AnswerRevision | None = None,
    note: str = "",
) -> Grade:
    """Save the group's grade on question `number`, if `base_version` is still its version (0: not graded yet).

    Only a grader of the group or an instructor of its course may (GradingRefused otherwise, as for an ungraded
    question, another question's item or bad points). A save based on an old version changes nothing and raises
    GradeConflict with the current grade. Saving what is there already is a no-op; any other save is logged (with
    `note`, e.g. the regrade request it answers). `revision` is the answer's version the grader saw (None: not
    answered), kept on the grade to tell when the answer changes since (selectors.graded).
    """
    course = group.course
    if not Group.objects.visible_to(user).filter(pk=group.pk).exists():
        raise GradingRefused(NOT_GRADER.format(group=group, course=course))
    max_points = max_points_of(course, number)
    if max_points is None:
        raise GradingRefused(UNGRADED.format(number=number, course=course))
    items = list(items)
    for item in items:
        if item.course_id != course.pk or item.number != number:
            raise GradingRefused(FOREIGN_ITEM.format(item=item.text, number=number, course=course))
    adjustment = points_value(adjustment, "The adjustment")
    if revision is not None and (
        revision.answer.report.group_id != group.pk or revision.answer.question.number != number
    ):
        raise GradingRefused(FOREIGN_REVISION.format(number=number, group=group))
    with transaction.atomic():
        grade, _ = Grade.objects.prefetch_related("items").get_or_create(group=group, number=number)
        grade.group = group
        graded = grade.version > 0
        before = grade_fields(grade) if graded else {}
        score_before = grade_score(grade, course, max_points) if graded else None
        same = {i.pk for i in grade.items.all()} == {i.pk for i in items} and (
            grade.adjustment,
            grade.comment,
            grade.revision_id,
        ) == (adjustment, comment, revision.pk if revision else None)
        if graded and grade.version == base_version and same:
            return grade
        saved = Grade.objects.filter(pk=grade.pk, version=base_version).update(
            adjustment=adjustment,
            comment=comment,
            graded_by=user,
            graded_at=timezone.now(),
            version=base_version + 1,
            revision=revision,
        )
        if not saved:
            current = Grade.objects.select_related("graded_by").prefetch_related("items").get(pk=grade.pk)
            raise GradeConflict(current)
        grade.items.set(items)
        grade = Grade.objects.select_related("group__course", "graded_by").prefetch_related("items").get(pk=grade.pk)
        GradeLog.objects.create(
            grade=grade,
            kind=GradeLog.Kind.CHANGED if graded else GradeLog.Kind.CREATED,
            user=user,
            score_before=score_before,
            score_after=grade_score(grade, course, max_points),
            before=before,
            after=grade_fields(grade),
            note=note,
        )
    return grade


def _rescore(
    grades: list[Grade],
    *,
    user,
    kind: str,
    note: str,
    max_before: Decimal | None,
    max_after: Decimal | None,
    points_before: dict[int, Decimal] | None = None,
) -> int:
    """Log, for each grade whose score is not what it was (max points `max_before`, items' points `points_before`),
    the change; returns how many. The grades' items are prefetched with their new points."""
    entries = []
    for grade in grades:
        course = grade.group.course
        old = grade_score(grade, course, max_before, points_before)
        new = grade_score(grade, course, max_after)
        if old != new:
            entries.append(
                GradeLog(
                    grade=grade,
                    kind=kind,
                    user=user,
                    score_before=old,
                    score_after=new,
                    before=grade_fields(grade, points_before),
                    after=grade_fields(grade),
                    note=note,
                )
            )
    GradeLog.objects.bulk_create(entries)
    return len(entries)


def rubric_item_set_points(*, item: RubricItem, points: object, user) -> int:
    """Give a rubric item new points (other fields changed on `item` are saved too), re-scoring every grade that uses
    it; each grade whose score changes gets a log entry. Instructors of its course only. Returns how many changed."""
    _refuse_unless_instructor(item.course, user)
    points = points_value(points)
    with transaction.atomic():
        old = RubricItem.objects.select_for_update().values_list("points", flat=True).get(pk=item.pk)
        item.points = points
        item.save()
        if old == points:
            return 0
        grades = list(Grade.objects.filter(items=item).select_related("group__course").prefetch_related("items"))
        max_points = max_points_of(item.course, item.number)
        note = f"'{item.text}' {old:+} -> {points:+}"
        return _rescore(
            grades,
            user=user,
            kind=GradeLog.Kind.ITEM_POINTS,
            note=note,
            max_before=max_points,
            max_after=max_points,
            points_before={item.pk: old},
        )


RUBRIC_TEXT_EMPTY = "A rubric item needs a text."
RUBRIC_TEXT_LONG = "A rubric item's text has at most {limit} characters (this one has {length})."
RUBRIC_ITEM_APPLIED = "'{item}' is applied in {count}; set its points to 0 instead."


def _rubric_text(text: str) -> str:
    text = text.strip()
    limit = RubricItem._meta.get_field("text").max_length
    if not text:
        raise GradingRefused(RUBRIC_TEXT_EMPTY)
    if len(text) > limit:
        raise GradingRefused(RUBRIC_TEXT_LONG.format(limit=limit, length=len(text)))
    return text


def grades_count(count: int) -> str:
    """'1 grade', '12 grades'."""
    return f"{count} grade" + ("" if count == 1 else "s")


def rubric_item_edit(*, item: RubricItem, text: str, points: object, user) -> int:
    """Give a rubric item a new text and points (rubric_item_set_points: the grades using it are re-scored and
    logged). Instructors of its course only; GradingRefused for an empty or too long text or bad points, with
    nothing changed. Returns how many grades changed score."""
    item.text = _rubric_text(text)
    return rubric_item_set_points(item=item, points=points, user=user)


def rubric_item_add(*, course: Course, number: int, text: str, points: object, user) -> RubricItem:
    """A new item, last in question `number`'s rubric. Instructors of the course only."""
    _refuse_unless_instructor(course, user)
    text, points = _rubric_text(text), points_value(points)
    with transaction.atomic():
        rubric = RubricItem.objects.filter(course=course, number=number)
        last = rubric.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
        return RubricItem.objects.create(course=course, number=number, text=text, points=points, position=position)


def rubric_item_remove(*, item: RubricItem, user) -> None:
    """Delete an item no grade applies (one that is applied would change those grades' scores without a trace in
    their log: GradingRefused, set its points to 0 instead). Instructors of its course only."""
    _refuse_unless_instructor(item.course, user)
    with transaction.atomic():
        applied = Grade.objects.filter(items=item).count()
        if applied:
            raise GradingRefused(RUBRIC_ITEM_APPLIED.format(item=item.text, count=grades_count(applied)))
        item.delete()


def question_points_set(*, course: Course, number: int, max_points: object | None, user) -> int:
    """Set question `number`'s max points in the course (None or "": ungraded); each grade whose score that clamps
    gets a log entry. Instructors of the course only. Returns how many grades changed score."""
    _refuse_unless_instructor(course, user)
    new = None if max_points in (None, "") else points_value(max_points, "Max points")
    if new is not None and new < 0:
        raise GradingRefused(BAD_POINTS.format(what="Max points", value=max_points))
    with transaction.atomic():
        row, _ = QuestionPoints.objects.select_for_update().get_or_create(course=course, number=number)
        old = row.max_points
        row.max_points = new
        row.save()
        if old == new:
            return 0
        grades = Grade.objects.filter(group__course=course, number=number)
        return _rescore(
            list(grades.select_related("group__course").prefetch_related("items")),
            user=user,
            kind=GradeLog.Kind.MAX_POINTS,
            note=f"max points {old} -> {new}",
            max_before=old,
            max_after=new,
        )


GRADE_LOG_HEADER = [
    "when",
    "group",
    "question",
    "who",
    "change",
    "score before",
    "score after",
    "items before",
    "items after",
    "adjustment before",
    "adjustment after",
    "comment before",
    "comment after",
    "note",
]


def grade_log_rows(*, course: Course) -> list[list[str]]:
    """The course's grade log, oldest first, as rows for engine.csvfiles (header first; times in TIME_ZONE)."""
    entries = GradeLog.objects.filter(grade__group__course=course).select_related("grade__group", "user")
    rows = [GRADE_LOG_HEADER]
    for entry in entries.order_by("at", "pk"):
        before, after = entry.before, entry.after
        rows.append(
            [
                timezone.localtime(entry.at).isoformat(timespec="seconds"),
                str(entry.grade.group.number),
                str(entry.grade.number),
                entry.user.get_username() if entry.user else "",
                entry.get_kind_display(),
                "" if entry.score_before is None else str(entry.score_before),
                str(entry.score_after),
                "; ".join(before.get("items", [])),
                "; ".join(after.get("items", [])),
                before.get("adjustment", ""),
                after.get("adjustment", ""),
                before.get("comment", ""),
                after.get("comment", ""),
                entry.note,
            ]
        )
    return rows
