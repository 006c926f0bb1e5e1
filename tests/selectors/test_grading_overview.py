"""The grading overview's data: each cell's state (ungraded, graded with its score, changed since graded, an open
regrade request), the filters, the progress per grader, per question and overall, and its constant queries."""

from decimal import Decimal

import pytest

from reports_app.models import (
    AnswerRevision,
    CourseStaff,
    Grade,
    Group,
    GroupGrader,
    QuestionPoints,
    RegradeRequest,
    RubricItem,
    StaffRole,
)
from reports_app.selectors.grading_overview import CellState, first_ungraded, grading_overview
from reports_app.services.answers import answer_save
from reports_app.services.grading import grade_save
from reports_app.services.reports import report_for_group

G, U, C = CellState.GRADED, CellState.UNGRADED, CellState.CHANGED


def write(group: Group, number: int, text: str) -> AnswerRevision:
    """A new saved version of the group's answer to question `number`; returns its revision."""
    report = report_for_group(group)
    question = group.course.template.questions.get(number=number)
    answer = report.answers.filter(question=question).first()
    answer = answer_save(
        report=report, question=question, text=text, base_version=answer.version if answer else 0, user=None
    )
    return AnswerRevision.objects.get(answer=answer, version=answer.version)


def grade(group: Group, number: int, user, items=(), adjustment="0", revision=None) -> Grade:
    current = Grade.objects.filter(group=group, number=number).first()
    return grade_save(
        group=group,
        number=number,
        items=items,
        adjustment=adjustment,
        comment="",
        base_version=current.version if current else 0,
        user=user,
        revision=revision,
    )


def make_ta(course, username: str, *groups: Group):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, first_name=username.title())
    CourseStaff.objects.create(course=course, user=user, role=StaffRole.TA)
    for group in groups:
        GroupGrader.objects.create(group=group, user=user)
    return user


@pytest.fixture
def graded(course, group1, group2, instructor):
    """Questions 1 (2 points) and 2 (3 points) graded, question 3 not (no max). Group 1: Q1 graded on the version
    still graded (2 + 0.5, clamped to 2), Q2 graded on version 1 of an answer now at version 2 (changed); group 2: Q1
    graded (1), with an open regrade request, Q2 not graded. Tara grades group 1, Theo group 2."""
    QuestionPoints.objects.create(course=course, number=1, max_points=Decimal("2"))
    QuestionPoints.objects.create(course=course, number=2, max_points=Decimal("3"))
    QuestionPoints.objects.create(course=course, number=3, max_points=None)
    full = RubricItem.objects.create(course=course, number=1, text="Complete", points=Decimal("2"))
    half = RubricItem.objects.create(course=course, number=1, text="Half", points=Decimal("1"))
    kept = write(group1, 1, "Our pipeline trains nightly.")
    grade(group1, 1, instructor, [full], adjustment="0.5", revision=kept)
    first = write(group1, 2, "First try.")
    grade(group1, 2, instructor, revision=first)
    write(group1, 2, "Second try, after the grade.")
    other = grade(group2, 1, instructor, [half])
    RegradeRequest.objects.create(grade=other, reason="Please look again", score_at_request=Decimal("1"))
    answered = RegradeRequest.objects.create(grade=other, reason="Earlier", score_at_request=Decimal("1"))
    answered.answered_at = answered.created_at
    answered.save()
    return {"tara": make_ta(course, "tara", group1), "theo": make_ta(course, "theo", group2)}


def states(overview) -> dict:
    return {
        row.submission.group.number: [(c.number, c.state, c.score, c.regrade) for c in row.cells]
        for row in overview.rows
    }


def test_cells_are_ungraded_graded_with_score_or_changed_since_graded(course, instructor, graded):
    overview = grading_overview(course, instructor, hidden=False)

    assert overview.numbers == (1, 2)  # question 3 has no max points
    assert states(overview) == {
        1: [(1, G, Decimal("2"), False), (2, C, Decimal("0"), False)],
        2: [(1, G, Decimal("1"), True), (2, U, None, False)],
    }
    assert [row.submission.label for row in overview.rows] == ["Group 1 · One", "Group 2 · Two"]


def test_a_grade_made_on_the_version_graded_now_is_no_longer_changed(course, instructor, graded, group1):
    current = AnswerRevision.objects.filter(answer__report__group=group1, answer__question__number=2).latest("version")
    grade(group1, 2, instructor, revision=current)

    overview = grading_overview(course, instructor, hidden=False)

    assert states(overview)[1][1][1] is G


def test_a_ta_sees_only_their_submissions_by_code(course, graded, group2):
    overview = grading_overview(course, graded["theo"], hidden=True)

    (row,) = overview.rows
    assert row.submission.group == group2 and row.submission.label == f"Submission {row.submission.code}"
    assert [p.label for p in overview.graders] == ["Theo"]
    assert (overview.overall.graded, overview.overall.total) == (1, 2)


def test_progress_per_grader_per_question_and_overall(course, instructor, graded):
    overview = grading_overview(course, instructor, hidden=False)

    assert [(p.label, p.graded, p.total, p.percent) for p in overview.graders] == [
        ("Tara", 2, 2, 100),
        ("Theo", 1, 2, 50),
    ]
    assert [(p.label, p.graded, p.total) for p in overview.questions] == [("Question 1", 2, 2), ("Question 2", 1, 2)]
    assert (overview.overall.graded, overview.overall.total, overview.overall.percent) == (3, 4, 75)


def test_filters_mine_ungraded_and_flagged(course, instructor, graded, group1, group2):
    GroupGrader.objects.create(group=group2, user=instructor)
    overview = grading_overview(course, instructor, hidden=False)

    def numbers(**filters) -> list[int]:
        return [row.submission.group.number for row in overview.select(user_id=instructor.pk, **filters)]

    assert numbers() == [1, 2]
    assert numbers(mine=True) == [2]
    assert numbers(ungraded=True) == [2]
    assert numbers(flagged=True) == [1, 2]  # 1: changed since graded; 2: a regrade request
    RegradeRequest.objects.filter(answered_at=None).update(answered_at=group1.course.template.loaded_at)
    overview = grading_overview(course, instructor, hidden=False)
    assert numbers(flagged=True) == [1]
    assert numbers(mine=True, ungraded=True, flagged=True) == []


def test_grading_starts_at_the_lowest_ungraded_question_of_any_submission(course, instructor, graded, group1, group2):
    overview = grading_overview(course, instructor, hidden=False)
    submission, number = first_ungraded(list(overview.rows))
    assert (submission.group, number) == (group2, 2)

    Grade.objects.filter(group=group1, number=1).delete()  # now question 1 of group 1 comes first
    overview = grading_overview(course, instructor, hidden=False)
    submission, number = first_ungraded(list(overview.rows))
    assert (submission.group, number) == (group1, 1)

    grade(group2, 2, instructor, adjustment="1")
    grade(group1, 1, instructor, adjustment="1")
    assert first_ungraded(list(grading_overview(course, instructor, hidden=False).rows)) is None


def many(course, groups: int, questions: int, ta) -> None:
    """`groups` groups with an answer to question 1, `questions` graded questions with two rubric items each, every
    other cell graded with one item, an open regrade request on each group's first grade; `ta` grades the odd groups."""
    items = {}
    for number in range(1, questions + 1):
        QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("5"))
        items[number] = [
            RubricItem.objects.create(course=course, number=number, text=f"Item {k}", points=Decimal(k)) for k in (1, 2)
        ]
    for n in range(1, groups + 1):
        group = Group.objects.create(course=course, number=100 + n)
        write(group, 1, f"Answer of group {n}.")
        if n % 2:
            GroupGrader.objects.create(group=group, user=ta)
        for number in range(1, questions + 1):
            if (n + number) % 2:
                made = Grade.objects.create(group=group, number=number, version=1)
                made.items.add(items[number][n % 2])
                if number <= 2:
                    RegradeRequest.objects.create(grade=made, reason="Why?", score_at_request=Decimal("1"))


@pytest.mark.parametrize("groups", [3, 30])
@pytest.mark.parametrize("questions", [5, 10])
def test_queries_are_constant_in_groups_and_questions(course, instructor, groups, questions, django_assert_num_queries):
    ta = make_ta(course, "tara")
    many(course, groups, questions, ta)

    for user, expected in ((instructor, groups), (ta, (groups + 1) // 2)):
        # 1 the groups with whether the user sees each, 2 the questions' max points, 3 the grades, 4 their items'
        # points, 5 the revision graded of each answer, 6 the open regrade requests, 7 the graders with their names
        with django_assert_num_queries(7):
            overview = grading_overview(course, user, hidden=user == ta)
        assert len(overview.rows) == expected
        assert overview.overall.total == expected * questions
        assert overview.overall.graded == sum(
            (n + q) % 2 for n in range(1, groups + 1) for q in range(1, questions + 1) if user == instructor or n % 2
        )
