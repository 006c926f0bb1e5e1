"""grades_for: a course's grades with their scores (services.grading.grade_score) in 3 queries, however many groups."""

from decimal import Decimal

import pytest

from reports_app.models import Grade, Group, QuestionPoints, RubricItem
from reports_app.selectors.grades import grades_for


def graded_course(course, groups: int) -> list[Group]:
    """`groups` groups, each graded on questions 1 and 2 (2 points each) with one item applied and an adjustment."""
    for number in (1, 2):
        QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("2"))
    items = [RubricItem.objects.create(course=course, number=n, text=f"Item {n}", points=Decimal("1")) for n in (1, 2)]
    made = []
    for number in range(1, groups + 1):
        group = Group.objects.create(course=course, number=number)
        for item in items:
            grade = Grade.objects.create(group=group, number=item.number, adjustment=Decimal("0.25"), version=1)
            grade.items.add(item)
        made.append(group)
    return made


@pytest.mark.parametrize("groups", [3, 30])
def test_grades_for_takes_three_queries_however_many_groups(course, groups, django_assert_num_queries):
    graded_course(course, groups)

    # 1 the course's max points, 2 its grades with their graders, 3 the grades' rubric items
    with django_assert_num_queries(3):
        rows = grades_for(course)

    assert len(rows) == 2 * groups
    assert {row.score for row in rows.values()} == {Decimal("1.25")}


def test_grades_for_keys_each_grade_by_group_and_question_with_its_clamped_score(course, demo_template):
    groups = graded_course(course, 3)
    Grade.objects.filter(group=groups[1], number=2).update(adjustment=Decimal("5"))  # 6, clamped to 2

    rows = grades_for(course)

    assert sorted(rows) == [(g.pk, n) for g in groups for n in (1, 2)]
    assert rows[groups[1].pk, 2].score == Decimal("2") and rows[groups[1].pk, 2].max_points == Decimal("2")
    assert rows[groups[1].pk, 1].score == Decimal("1.25")
