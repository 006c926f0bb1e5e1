"""grades_for: a course's grades with their scores in 3 queries, however many groups; totals per group."""

from decimal import Decimal

import pytest

from reports_app.models import Grade, Group, QuestionPoints, RubricItem
from reports_app.selectors.grades import grades_for, group_totals


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
        totals = group_totals(rows)

    assert len(rows) == 2 * groups
    assert set(totals.values()) == {Decimal("2.5")}


def test_grades_for_some_groups_only_and_their_totals(course, demo_template):
    groups = graded_course(course, 3)
    Grade.objects.filter(group=groups[1], number=2).update(adjustment=Decimal("5"))  # 6, clamped to 2

    rows = grades_for(course, groups=groups[1:])

    assert sorted(rows) == [(g.pk, n) for g in groups[1:] for n in (1, 2)]
    assert rows[groups[1].pk, 2].score == Decimal("2") and rows[groups[1].pk, 2].max_points == Decimal("2")
    assert group_totals(rows) == {groups[1].pk: Decimal("3.25"), groups[2].pk: Decimal("2.5")}
