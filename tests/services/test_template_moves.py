"""Moving a course's reports to the template version it was switched to: answers become new versions of the new
questions' answers, ticks follow their item's text, nothing is deleted, a second run changes nothing, and a report
that cannot move is named while the others move."""

import pytest
from django.contrib.auth import get_user_model

from reports_app.models import Answer, AnswerRevision, ChecklistMark, Report
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_import, report_markdown
from reports_app.services.template_moves import course_move_preview, course_reports_move
from tests.helpers.template_moves import V1, load_versions, switched_course


@pytest.fixture
def versions(db):
    return load_versions()


@pytest.fixture
def v1(versions):
    return versions[0]


@pytest.fixture
def v2(versions):
    return versions[1]


@pytest.fixture
def moving_course(course, v1, v2, group1, group2):
    return switched_course(course, [group1, group2], v1, v2)


def answers(report: Report) -> dict[int, str]:
    return dict(Answer.objects.filter(report=report).on_own_template().values_list("question__number", "text"))


def ticked(report: Report) -> list[str]:
    marks = ChecklistMark.objects.filter(report=report, checked=True).on_own_template().order_by("item__position")
    return [mark.item.text for mark in marks]


def test_the_preview_says_where_each_answer_goes_and_writes_nothing(moving_course, v1, v2):
    before = AnswerRevision.objects.count()

    preview = course_move_preview(course=moving_course)

    assert (preview.target, preview.to_move, preview.on_target) == (v2, 2, 0)
    (source,) = preview.sources
    assert (source.plan.old, source.groups, source.stranded, source.own_layout) == (v1, [1, 2], 2, [])
    rows = {(row.old, row.new): (row.how, row.flags) for row in source.rows()}
    assert rows[(1, 2)] == ("same question", ("the text below the question changed",))  # v2's question 2 has an example
    assert rows[(2, 1)] == ("same question", ("the text below the question changed",))
    assert rows[(3, 3)] == ("same question", ())
    assert rows[(10, 10)] == ("by number only", ("another question: only the number is the same",))
    assert rows[(11, None)][0] == "no place: its answers stay on the old version"
    assert [item.text for item in source.plan.move.items_no_place] == [
        "Schedule the whole pipeline to run once a day (M19)"
    ]
    assert AnswerRevision.objects.count() == before
    assert set(Report.objects.values_list("template__name", flat=True)) == {"v1"}


def test_moving_makes_each_answer_a_new_version_of_its_new_question_and_keeps_the_old_ones(
    moving_course, v1, group1, instructor
):
    report = group1.report
    old_answers = list(Answer.objects.filter(report=report).order_by("pk").values())

    outcome = course_reports_move(course=moving_course, user=instructor)

    assert (outcome.moved, outcome.failed) == ([1, 2], [])
    report.refresh_from_db()
    assert report.template.name == "v2"
    assert answers(report) == {1: "s1, s2", 2: "We are group 1.", 3: "Weather data."}  # the placeholder stays behind
    moved = AnswerRevision.objects.filter(answer__report=report, answer__question__template=report.template)
    assert sorted(moved.values_list("answer__question__number", "version", "source", "author__username")) == [
        (1, 1, "moved from v1 Q2", "instructor"),
        (2, 1, "moved from v1 Q1", "instructor"),
        (3, 1, "moved from v1 Q3", "instructor"),
    ]
    # nothing of v1 changed: its answers, question 11's among them, are where they were, with their history
    assert list(Answer.objects.filter(report=report, question__template=v1).order_by("pk").values()) == old_answers
    assert AnswerRevision.objects.filter(answer__report=report, answer__question__template=v1).count() == 5
    assert ticked(report) == ["Set up a git repository for the project (M5)", "Draw a diagram of the complete pipeline"]
    assert "s1, s2" in report_markdown(report).split("### Question 2")[0]


def test_moving_again_changes_nothing(moving_course, instructor):
    course_reports_move(course=moving_course, user=instructor)
    revisions, marks = AnswerRevision.objects.count(), list(ChecklistMark.objects.values())

    again = course_reports_move(course=moving_course, user=instructor)

    assert (again.moved, again.failed) == ([], [])
    assert (AnswerRevision.objects.count(), list(ChecklistMark.objects.values())) == (revisions, marks)


def test_moving_back_brings_the_old_answers_back_and_only_changed_ones_get_a_version(
    moving_course, v1, group1, instructor
):
    course_reports_move(course=moving_course, user=instructor)
    report = Report.objects.get(group=group1)
    alice = get_user_model().objects.get(username="alice")
    answer_save(report=report, question=report.template.questions.get(number=3), text="Sensor data.", base_version=1,
                user=alice)  # fmt: skip
    moving_course.template = v1
    moving_course.save()

    outcome = course_reports_move(course=moving_course, user=instructor)

    assert outcome.moved == [1, 2]
    report.refresh_from_db()
    assert answers(report) == {1: "We are group 1.", 2: "s1, s2", 3: "Sensor data.", 4: "--- question 4 fill here ---",
                               11: "Make"}  # fmt: skip
    back = AnswerRevision.objects.filter(answer__report=report, source__startswith="moved from v2")
    assert list(back.values_list("answer__question__number", "version")) == [(3, 2)]


def test_a_report_that_cannot_move_is_named_and_the_others_move(moving_course, v2, group1, group2, instructor):
    """Group 2's history of v2's question 1 already has a version 1 (left by an earlier run that stopped half-way on
    another database, say): storing the moved answer as version 1 breaks the history's rule, so group 2 stays."""
    broken = Answer.objects.create(report=group2.report, question=v2.questions.get(number=1), text="", version=0)
    AnswerRevision.objects.create(answer=broken, version=1, text="Left over.")
    before = answers(group2.report)

    outcome = course_reports_move(course=moving_course, user=instructor)

    assert outcome.moved == [1]
    ((number, why),) = outcome.failed
    assert number == 2 and why.startswith("the database refused it (") and "unique" in why.lower()
    group2.report.refresh_from_db()
    assert group2.report.template.name == "v1" and answers(group2.report) == before  # untouched: one transaction
    assert Report.objects.get(group=group1).template == v2


def test_a_report_with_its_own_text_takes_the_new_versions(moving_course, v1, group1, instructor):
    text = V1.replace("# Report template for Demo", "# Our own title for Demo").replace(
        "--- question 3 fill here ---", "Weather data, imported."
    )
    report = report_import(group=group1, text=text, template=v1, label="README.md").report
    assert report.layout is not None
    assert course_move_preview(course=moving_course).sources[0].own_layout == [1]

    course_reports_move(course=moving_course, user=instructor)

    report.refresh_from_db()
    assert report.layout is None
    readme = report_markdown(report)
    assert readme.startswith("# Report template for Demo") and "Weather data, imported." in readme
    assert "Which cloud service runs your pipeline" in readme


def test_without_a_template_nothing_moves(course, group1, instructor):
    course.template = None
    course.save()

    with pytest.raises(ValueError, match="has no template"):
        course_reports_move(course=course, user=instructor)
