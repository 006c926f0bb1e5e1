"""Grading's services: who may grade (a grader of the group or an instructor of its course), optimistic locking
between two graders, the score's bounds, and re-scoring with its audit log when points change."""

from decimal import Decimal

import pytest

from reports_app.engine import csvfiles
from reports_app.models import CourseStaff, Grade, GradeLog, GroupGrader, QuestionPoints, RubricItem, StaffRole
from reports_app.services.grading import (
    FOREIGN_ITEM,
    NOT_GRADER,
    NOT_INSTRUCTOR,
    UNGRADED,
    GradeConflict,
    GradingRefused,
    grade_log_rows,
    question_points_set,
    rubric_item_set_points,
)
from tests.helpers.grading import save_grade


@pytest.fixture
def rubric(course):
    """Question 3 is worth 4 points; two items on it, one on question 4."""
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("4"))
    return {
        "clear": RubricItem.objects.create(course=course, number=3, text="Clear figure", points=Decimal("3")),
        "cites": RubricItem.objects.create(course=course, number=3, text="Cites sources", points=Decimal("1.5")),
        "q4": RubricItem.objects.create(course=course, number=4, text="Other question", points=Decimal("1")),
    }


@pytest.fixture
def ta(course, group1, django_user_model):
    user = django_user_model.objects.create_user("tim")
    CourseStaff.objects.create(course=course, user=user, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=user)
    return user


def save(group, user, items=(), adjustment="0", comment="", base_version=0, number=3) -> Grade:
    return save_grade(group, number, user, items, adjustment, comment, base_version)


def test_an_assigned_ta_grades_and_the_grade_is_logged(group1, ta, rubric):
    grade = save(group1, ta, [rubric["clear"]], adjustment="0.5", comment="Good *plot*")

    assert (grade.version, grade.graded_by, grade.adjustment) == (1, ta, Decimal("0.50"))
    assert list(grade.items.all()) == [rubric["clear"]]
    entry = GradeLog.objects.get()
    assert (entry.kind, entry.user, entry.score_before, entry.score_after) == ("created", ta, None, Decimal("3.5"))
    assert entry.after == {"items": ["Clear figure (+3.00)"], "adjustment": "0.50", "comment": "Good *plot*"}


def test_a_ta_not_assigned_to_the_group_is_refused_and_nothing_is_stored(group2, ta, rubric):
    with pytest.raises(GradingRefused) as refused:
        save(group2, ta, [rubric["clear"]])

    assert str(refused.value) == NOT_GRADER.format(group=group2, course=group2.course)
    assert not Grade.objects.exists() and not GradeLog.objects.exists()


def test_a_student_of_the_group_is_refused(group1, rubric, django_user_model):
    with pytest.raises(GradingRefused):
        save(group1, django_user_model.objects.get(username="alice"), [rubric["clear"]])


def test_an_instructor_grades_any_group_of_their_course(group2, instructor, rubric):
    assert save(group2, instructor, [rubric["cites"]]).version == 1


def test_an_instructor_of_another_course_is_refused(group1, rubric, demo_template, django_user_model):
    from reports_app.models import Course

    other = Course.objects.create(code="C2", template=demo_template)
    user = django_user_model.objects.create_user("olga")
    CourseStaff.objects.create(course=other, user=user, role=StaffRole.INSTRUCTOR)

    with pytest.raises(GradingRefused):
        save(group1, user, [rubric["clear"]])


def test_a_question_without_points_and_another_questions_item_are_refused(group1, instructor, rubric, course):
    with pytest.raises(GradingRefused) as ungraded:
        save(group1, instructor, number=5)
    with pytest.raises(GradingRefused) as foreign:
        save(group1, instructor, [rubric["q4"]])

    assert str(ungraded.value) == UNGRADED.format(number=5, course=course)
    assert str(foreign.value) == FOREIGN_ITEM.format(item="Other question", number=3, course=course)
    assert not Grade.objects.filter(version__gt=0).exists()


@pytest.mark.parametrize("bad", ["abc", "1.234", "100000", "nan", "Infinity"])
def test_an_adjustment_that_is_not_points_is_refused(group1, instructor, rubric, bad):
    with pytest.raises(GradingRefused, match="The adjustment must be a number"):
        save(group1, instructor, adjustment=bad)


def test_a_save_based_on_an_old_version_changes_nothing_and_says_whose_grade_is_current(group1, ta, instructor, rubric):
    save(group1, ta, [rubric["clear"]], comment="tim's")  # both opened version 0; tim saved first

    with pytest.raises(GradeConflict) as conflict:
        save(group1, instructor, [rubric["cites"]], comment="mine", base_version=0)

    grade = Grade.objects.get()
    assert conflict.value.grade.pk == grade.pk and conflict.value.grade.comment == "tim's"
    assert (grade.version, grade.comment, grade.graded_by) == (1, "tim's", ta)
    assert list(grade.items.all()) == [rubric["clear"]]
    assert GradeLog.objects.count() == 1

    again = save(group1, instructor, [rubric["cites"]], comment="mine", base_version=1)  # on the current version
    assert (again.version, again.comment) == (2, "mine")
    assert GradeLog.objects.filter(kind="changed").get().before["comment"] == "tim's"


def test_saving_the_same_grade_again_is_a_no_op(group1, ta, rubric):
    save(group1, ta, [rubric["clear"]], comment="same")
    assert save(group1, ta, [rubric["clear"]], comment="same", base_version=1).version == 1
    assert GradeLog.objects.count() == 1


def test_the_score_stays_within_zero_and_max_unless_the_course_allows_more(group1, group2, instructor, rubric, course):
    from reports_app.selectors.grades import grades_for

    save(group1, instructor, [rubric["clear"], rubric["cites"]], adjustment="1")  # 3 + 1.5 + 1 = 5.5 > 4
    save(group2, instructor, adjustment="-2")
    assert [row.score for row in grades_for(course).values()] == [Decimal("4"), Decimal("0")]

    course.grades_may_exceed = True
    course.save()
    assert [row.score for row in grades_for(course).values()] == [Decimal("5.5"), Decimal("-2")]


def test_new_points_for_an_item_rescore_every_grade_using_it_with_an_entry_each(group1, group2, instructor, rubric):
    save(group1, instructor, [rubric["cites"]])  # 1.5
    save(group2, instructor, [rubric["clear"]])  # 3: not using the item

    changed = rubric_item_set_points(item=rubric["cites"], points="0.5", user=instructor)

    assert changed == 1
    entry = GradeLog.objects.get(kind="item_points")
    assert (entry.grade.group, entry.score_before, entry.score_after) == (group1, Decimal("1.5"), Decimal("0.5"))
    assert entry.before["items"] == ["Cites sources (+1.50)"] and entry.after["items"] == ["Cites sources (+0.50)"]
    assert entry.note == "'Cites sources' +1.50 -> +0.50"
    rubric["cites"].refresh_from_db()
    assert rubric["cites"].points == Decimal("0.5")


def test_new_item_points_that_the_bounds_absorb_log_nothing(group1, instructor, rubric):
    save(group1, instructor, [rubric["clear"], rubric["cites"]])  # 4.5, clamped to 4

    assert rubric_item_set_points(item=rubric["cites"], points="2", user=instructor) == 0  # 5, still 4
    assert not GradeLog.objects.filter(kind="item_points").exists()


def test_lower_max_points_log_every_grade_they_clamp(group1, group2, instructor, rubric, course):
    save(group1, instructor, [rubric["clear"]])  # 3
    save(group2, instructor, [rubric["cites"]])  # 1.5

    assert question_points_set(course=course, number=3, max_points="2", user=instructor) == 1

    entry = GradeLog.objects.get(kind="max_points")
    assert (entry.grade.group, entry.score_before, entry.score_after) == (group1, Decimal("3"), Decimal("2"))
    assert entry.note == "max points 4.00 -> 2.00"


def test_a_ta_may_not_change_points(group1, ta, rubric, course):
    with pytest.raises(GradingRefused, match=NOT_INSTRUCTOR.format(course=course)):
        rubric_item_set_points(item=rubric["clear"], points="1", user=ta)
    with pytest.raises(GradingRefused):
        question_points_set(course=course, number=3, max_points="9", user=ta)
    rubric["clear"].refresh_from_db()
    assert rubric["clear"].points == Decimal("3")
    assert QuestionPoints.objects.get(number=3).max_points == Decimal("4")


def test_the_comment_is_stored_as_typed_and_shown_sanitized(group1, instructor, rubric):
    typed = "Nice <script>alert(1)</script> **work** <img src=x onerror=alert(2)>"
    grade = save(group1, instructor, comment=typed)

    assert Grade.objects.get().comment == typed
    html = grade.comment_html()
    assert "<strong>work</strong>" in html
    assert "<script" not in html and "onerror" not in html


@pytest.mark.timeout(60)
def test_a_comment_past_the_render_budget_is_shown_as_typed_with_why(group1, instructor, rubric, short_budget):
    deep = "1. " * 500 + "deep"
    grade = save(group1, instructor, comment=deep)

    assert "cannot be rendered" in grade.comment_html()
    assert Grade.objects.get().comment == deep


def test_the_log_exports_as_csv_rows(group1, ta, instructor, rubric, course):
    save(group1, ta, [rubric["clear"]], comment="=SUM(A1)")
    rubric_item_set_points(item=rubric["clear"], points="2", user=instructor)

    rows = grade_log_rows(course=course)

    assert [row[1:7] for row in rows[1:]] == [
        ["1", "3", "tim", "graded", "", "3.00"],
        ["1", "3", "instructor", "rubric item's points changed", "3.00", "2.00"],
    ]
    assert "'=SUM(A1)" in csvfiles.csv_text(rows)  # the CSV runs nothing in Excel


def test_a_first_grade_of_zero_with_nothing_applied_is_saved(group1, ta, rubric):
    grade = save(group1, ta)

    assert (grade.version, grade.adjustment) == (1, 0)
    assert GradeLog.objects.filter(grade=grade, kind=GradeLog.Kind.CREATED).count() == 1
    assert save(group1, ta, base_version=1).version == 1  # the same again: nothing new
