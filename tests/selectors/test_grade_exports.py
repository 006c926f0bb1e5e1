"""Grades out: points per graded question and total per group, D2L's import rows (one per student), in a constant
number of queries however many groups."""

from decimal import Decimal

import pytest

from reports_app.models import Grade, Group, Membership, QuestionPoints, RubricItem
from reports_app.selectors.grade_exports import course_points, d2l_rows, grades_file, points_rows
from reports_app.services.grading import grade_save
from tests.helpers.csv import assert_all_quoted, assert_nothing_runs


@pytest.fixture
def graded(course, group1, group2, instructor):
    """Q2 (max 5) and Q4 (max 3) graded, Q6 ungraded (no max) though group 1 has a grade on it from before.
    Group 1: Q2 4.50 (item 3 + 1.50), Q4 2; group 2: nothing. Alice has a study number, bob none."""
    QuestionPoints.objects.create(course=course, number=2, max_points=Decimal("5"))
    QuestionPoints.objects.create(course=course, number=4, max_points=Decimal("3"))
    QuestionPoints.objects.create(course=course, number=6, max_points=None)
    item = RubricItem.objects.create(course=course, number=2, text="Explains the setup", points=Decimal("3"))
    grade_save(group=group1, number=2, items=[item], adjustment="1.5", comment="", base_version=0, user=instructor)
    grade_save(group=group1, number=4, items=[], adjustment="2", comment="", base_version=0, user=instructor)
    Grade.objects.create(group=group1, number=6, adjustment=Decimal("7"), version=1)
    Membership.objects.filter(user__username="alice").update(study_number="s123456")
    return course


def test_points_are_per_graded_question_with_a_total_and_the_max_total(graded, group1, group2):
    points = course_points(graded)

    assert points.header() == ["Q2 points", "Q4 points", "total points", "max points"]
    # Q6 has no max: it counts nowhere
    assert points.cells(group1.pk) == [Decimal("4.50"), Decimal("2.00"), Decimal("6.50"), Decimal("8.00")]
    assert points.cells(group2.pk) == ["", "", "", Decimal("8.00")]  # not graded: empty, not 0
    assert points.total(group2.pk) is None


def test_points_rows_list_each_group_with_its_members_and_study_numbers(graded):
    assert list(points_rows(graded)) == [
        ["group", "name", "members", "study numbers", "Q2 points", "Q4 points", "total points", "max points"],
        [1, "One", "alice; bob", "s123456; ", *(Decimal(p) for p in ("4.50", "2.00", "6.50", "8.00"))],
        [2, "Two", "charlie", "", "", "", "", Decimal("8.00")],
    ]


def test_d2l_rows_give_every_member_the_groups_total(graded):
    graded.lms_item_name = "Project report"
    graded.save()

    assert list(d2l_rows(graded)) == [
        ["OrgDefinedId", "Username", "Project report Points Grade", "End-of-Line Indicator"],
        ["#s123456", "#alice", Decimal("6.50"), "#"],
        ["", "#bob", Decimal("6.50"), "#"],  # no study number: matched by user name alone
        ["", "#charlie", "", "#"],  # group 2 is not graded
    ]


def test_d2l_file_starts_with_its_header_and_defuses_what_members_typed(graded, group2):
    Membership.objects.filter(user__username="charlie").update(study_number="=1+2")
    Group.objects.filter(pk=group2.pk).update(name="=HYPERLINK(1)")

    text = grades_file(graded, "d2l.csv")
    rows = assert_all_quoted(text)

    assert text.startswith('"OrgDefinedId","Username",')  # no BOM: D2L's import reads the header as it is
    assert rows[3][:2] == ["#=1+2", "#charlie"]  # `#` first: text to a spreadsheet
    assert_nothing_runs(text)
    assert_nothing_runs(grades_file(graded, "grades.csv"))


def test_a_negative_score_goes_out_as_a_number_not_as_text(graded, group2, instructor):
    graded.grades_may_exceed = True
    graded.save()
    grade_save(group=group2, number=4, items=[], adjustment="-2", comment="", base_version=0, user=instructor)

    grades = assert_all_quoted(grades_file(graded, "grades.csv"))
    d2l = assert_all_quoted(grades_file(graded, "d2l.csv"))

    assert grades[2][4:] == ["", "-2.00", "-2.00", "8.00"]  # not '-2.00, which a spreadsheet or D2L reads as text
    assert d2l[3] == ["", "#charlie", "-2.00", "#"]


def make_groups(course, count: int) -> None:
    """`count` groups of two members each, each graded on Q1 (max 2) with one item."""
    QuestionPoints.objects.create(course=course, number=1, max_points=Decimal("2"))
    item = RubricItem.objects.create(course=course, number=1, text="Item", points=Decimal("1"))
    for number in range(1, count + 1):
        group = Group.objects.create(course=course, number=number, name=f"G{number}")
        for who in "ab":
            user = Membership._meta.get_field("user").related_model.objects.create_user(f"{who}{number}")
            Membership.objects.create(user=user, group=group, study_number=f"s{number}{who}")
        Grade.objects.create(group=group, number=1, version=1).items.add(item)


@pytest.mark.parametrize("groups", [3, 30])
def test_the_files_take_the_same_queries_however_many_groups(course, groups, django_assert_num_queries):
    make_groups(course, groups)

    # 1 graded questions, 2 max points, 3 grades, 4 their items, 5 groups, 6 their members with their users
    with django_assert_num_queries(6):
        rows = list(points_rows(course))
    # 1-4 as above, 5 the members with their users and groups
    with django_assert_num_queries(5):
        students = list(d2l_rows(course))

    assert len(rows) == groups + 1 and rows[-1][-2:] == [Decimal("1.00"), Decimal("2.00")]
    assert len(students) == 2 * groups + 1 and students[-1][2] == Decimal("1.00")
