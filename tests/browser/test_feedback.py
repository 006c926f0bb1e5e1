"""Released feedback in a real browser: a student follows "Grades and feedback" from the report page, reads the
points, rubric items and rendered comment, and asks for a regrade; the group's TA answers it on the grade page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports_app.models import CourseStaff, GroupGrader, QuestionPoints, RegradeRequest, RubricItem, StaffRole
from reports_app.selectors.submissions import course_codes
from reports_app.services.feedback import grades_release
from reports_app.services.grading import grade_save

REASON = "Our figure 2 shows the loss curve the item asks for."


@pytest.fixture
def released(course, group1, instructor, django_user_model):
    """Group 1's question 3 graded by tara (2 items of 3, a markdown comment), released, regrades open."""
    tara = django_user_model.objects.create_user("tara", password="pw-tara", first_name="Tara", last_name="Grader")
    CourseStaff.objects.create(course=course, user=tara, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=tara)
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("5"))
    items = [
        RubricItem.objects.create(course=course, number=3, text="Names the data source", points=Decimal("2")),
        RubricItem.objects.create(course=course, number=3, text="Missing loss curve", points=Decimal("-1")),
    ]
    grade = grade_save(
        group=group1, number=3, items=items, adjustment="0", comment="See *figure 2*.", base_version=0, user=tara
    )
    grades_release(course=course, user=instructor, base_url="http://testserver")
    course.refresh_from_db()
    course.regrades_until = timezone.now() + timedelta(days=2)
    course.save()
    return grade


def test_a_student_reads_released_feedback_and_asks_for_a_regrade(page, live_server, login, group1, released):
    login(page, live_server, "alice", "pw-alice")

    page.get_by_role("link", name="Grades and feedback").click()

    card = page.locator("#feedback-3")
    expect(card.locator(".points")).to_have_text("1 / 5")
    expect(card.locator(".rubric-applied li")).to_have_text(["Names the data source +2", "Missing loss curve -1"])
    expect(card.locator(".grade-comment em")).to_have_text("figure 2")
    expect(card.locator(".grader")).to_contain_text("Graded by Tara Grader")
    card.get_by_text("Ask for a regrade of question 3").click()
    card.get_by_label("Why should this grade change?").fill(REASON)
    card.get_by_role("button", name="Send the request").click()

    expect(page.get_by_role("alert")).to_have_text("Your regrade request for question 3 was sent to its graders.")
    expect(page.locator("#feedback-3 .regrade-reason")).to_have_text(REASON)
    assert RegradeRequest.objects.get().reason == REASON


def test_the_ta_answers_the_request_and_the_student_sees_the_outcome(
    page, new_page, live_server, login, course, group1, released
):
    regrade = RegradeRequest.objects.create(
        grade=released, requested_by=group1.memberships.first().user, reason=REASON, score_at_request=1
    )
    code = course_codes(course)[group1.pk]
    login(page, live_server, "tara", "pw-tara")
    page.goto(f"{live_server.url}/courses/{course.pk}/grading/{code}/3/")

    request = page.locator(f"#regrade-{regrade.pk}")
    expect(request.locator(".regrade-reason")).to_have_text(REASON)
    request.get_by_label("Response to the student").fill("Right: the curve is there.")
    request.get_by_label("New adjustment (empty: unchanged)").fill("1")
    request.get_by_role("button", name="Answer").click()

    expect(page.get_by_text("Your response to the regrade request was saved.")).to_be_visible()
    regrade.refresh_from_db()
    assert (regrade.response, regrade.score_after) == ("Right: the curve is there.", 2)

    student = new_page()
    login(student, live_server, "alice", "pw-alice")
    student.goto(f"{live_server.url}/groups/{group1.pk}/feedback/")
    expect(student.locator("#feedback-3 .points")).to_have_text("2 / 5")
    expect(student.locator("#feedback-3 .regrade-response")).to_have_text("Right: the curve is there.")
    expect(student.locator("#feedback-3 .regrade")).to_contain_text("answered by Tara Grader")
