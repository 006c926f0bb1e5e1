"""The feedback page (nothing before release; points, items, comment, grader or "a TA", regrades after), asking for a
regrade from it (errors keep the reason), an instructor's release, and a grader's answer to a regrade request."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reports_app.forms.feedback import CONFIRM_RELEASE
from reports_app.models import (
    CourseStaff,
    Grade,
    GradeLog,
    GroupGrader,
    QuestionPoints,
    RegradeRequest,
    RubricItem,
    StaffRole,
)
from reports_app.selectors.submissions import course_codes
from reports_app.services.feedback import REASON_EMPTY, REASON_LONG, REGRADES_CLOSED, grades_release, regrade_request
from reports_app.services.grading import grade_save
from reports_app.services.outbox import mails_send
from reports_app.views.feedback import ANSWERED, REGRADE_SENT
from tests.conftest import client_for
from tests.views.test_report import big_template_course

COMMENT = "Good *plot*, but say which **seed** you used."
REASON = "We state the seed in the second paragraph."


def feedback_url(group) -> str:
    return reverse("feedback", args=[group.pk])


@pytest.fixture
def tara(course, group1, django_user_model):
    """A TA who grades group 1, with a full name."""
    user = django_user_model.objects.create_user("tara", first_name="Tara", last_name="Grader")
    CourseStaff.objects.create(course=course, user=user, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=user)
    return user


@pytest.fixture
def grade(course, group1, tara):
    """Group 1's grade on question 3 (of 4 points): an item of 3 points, -0.5 adjustment and a markdown comment."""
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("4"))
    item = RubricItem.objects.create(course=course, number=3, text="Seed fixed and stated", points=Decimal("3"))
    return grade_save(
        group=group1, number=3, items=[item], adjustment="-0.5", comment=COMMENT, base_version=0, user=tara
    )


def release(course, instructor, number=None) -> None:
    grades_release(course=course, user=instructor, number=number, base_url="http://testserver")
    course.refresh_from_db()


@pytest.fixture
def released(course, instructor, grade):
    release(course, instructor)
    course.regrades_until = timezone.now() + timedelta(days=3)
    course.save()
    return grade


# --- the page ------------------------------------------------------------------------------------------------------


def test_nothing_is_shown_before_release(alice, group1, grade):
    response = alice.get(feedback_url(group1))

    assertContains(response, "No grades released yet")
    assertNotContains(response, "seed")
    assertNotContains(response, "Tara")
    assertNotContains(alice.get(reverse("report", args=[group1.pk])), 'id="feedback-link"')


def test_a_member_sees_points_items_the_rendered_comment_and_the_grader(alice, group1, released):
    response = alice.get(feedback_url(group1))

    assertContains(response, "2.5 / 4")
    assertContains(response, "Seed fixed and stated")
    assertContains(response, "Good <em>plot</em>, but say which <strong>seed</strong> you used.")
    assertContains(response, "Graded by Tara Grader")
    assertContains(response, 'id="total">Total: <strong>2.5 / 4</strong>')
    report = alice.get(reverse("report", args=[group1.pk]))
    assertContains(report, f'href="{feedback_url(group1)}" id="feedback-link">Grades and feedback</a>')


def test_one_released_question_shows_alone(alice, course, group1, instructor, grade):
    QuestionPoints.objects.create(course=course, number=4, max_points=Decimal("2"))
    grade_save(
        group=group1, number=4, items=[], adjustment="2", comment="Hidden still", base_version=0, user=instructor
    )

    release(course, instructor, number=3)
    response = alice.get(feedback_url(group1))

    assertContains(response, 'id="feedback-3"')
    assertNotContains(response, 'id="feedback-4"')
    assertNotContains(response, "Hidden still")


def test_an_anonymous_course_names_no_grader(alice, course, group1, released):
    course.anonymous_grading = True
    course.save()

    response = alice.get(feedback_url(group1))

    assertContains(response, "Graded by a TA")
    assertNotContains(response, "Tara")
    assertNotContains(response, "tara")


def test_an_outsider_gets_404_and_anonymous_the_login(charlie, client, group1, released):
    assert charlie.get(feedback_url(group1)).status_code == 404
    assertRedirects(client.get(feedback_url(group1)), f"{reverse('login')}?next={feedback_url(group1)}")


def test_staff_preview_what_students_see(staff, group1, released):
    response = staff.get(feedback_url(group1))

    assertContains(response, "this is what the students see")
    assertNotContains(response, "Ask for a regrade")


def test_the_page_takes_the_same_queries_for_3_and_30_questions(django_user_model):
    def page_queries(n: int) -> int:
        group, client = big_template_course(django_user_model, n)
        course = group.course
        course.grades_released_at = timezone.now()
        course.regrades_until = timezone.now() + timedelta(days=1)
        course.save()
        member = group.memberships.get().user
        for number in range(1, n + 1):
            QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("2"))
            item = RubricItem.objects.create(course=course, number=number, text=f"item {number}", points=1)
            grade = Grade.objects.create(group=group, number=number, version=1, graded_by=member, comment="**ok**")
            grade.items.set([item])
            RegradeRequest.objects.create(grade=grade, requested_by=member, reason="why", score_at_request=1)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(feedback_url(group)).status_code == 200
        return len(queries)

    # session, user, group+course+template+report+membership; released max points, questions, grades with their
    # graders, their rubric items, their regrade requests with who asked and answered
    assert page_queries(3) == page_queries(30) == 8


# --- asking for a regrade ------------------------------------------------------------------------------------------


def test_a_member_asks_for_a_regrade(alice, group1, released):
    response = alice.post(reverse("request-regrade", args=[group1.pk, 3]), {"reason": REASON}, follow=True)

    assertRedirects(response, feedback_url(group1))
    assertContains(response, REGRADE_SENT.format(number=3))
    assertContains(response, REASON)
    assertContains(response, "waiting for an answer")
    assert RegradeRequest.objects.get().requested_by.username == "alice"


@pytest.mark.parametrize(("reason", "error"), [("   ", REASON_EMPTY), ("y" * 2001, REASON_LONG.format(length=2001))])
def test_a_bad_reason_is_refused_on_the_page_keeping_what_was_typed(alice, group1, released, reason, error):
    response = alice.post(reverse("request-regrade", args=[group1.pk, 3]), {"reason": reason})

    assertContains(response, error, status_code=400)
    assertContains(response, f">{reason}</textarea>", status_code=400)
    assert not RegradeRequest.objects.exists()


def test_a_regrade_after_the_date_is_refused_keeping_the_reason(alice, course, group1, released):
    course.regrades_until = timezone.now() - timedelta(minutes=5)
    course.save()
    typed = REASON + " <b>really</b>"

    response = alice.post(reverse("request-regrade", args=[group1.pk, 3]), {"reason": typed})

    assertContains(response, REGRADES_CLOSED.split("{")[0], status_code=400)
    assertContains(response, "We state the seed in the second paragraph. &lt;b&gt;really&lt;/b&gt;", status_code=400)
    assert not RegradeRequest.objects.exists()


def test_a_question_not_released_is_not_found(alice, group1, grade):
    assert alice.post(reverse("request-regrade", args=[group1.pk, 3]), {"reason": REASON}).status_code == 404
    assert not RegradeRequest.objects.exists()


# --- releasing -----------------------------------------------------------------------------------------------------


def test_an_instructor_releases_with_a_confirmation(staff, course, grade, mailoutbox):
    get_user_model().objects.filter(username__in=["alice", "bob"]).update(email="m@example.com")
    url = reverse("release-grades", args=[course.pk])

    refused = staff.post(url, {"number": "3"}, follow=True)
    assertContains(refused, CONFIRM_RELEASE)
    assert QuestionPoints.objects.get(number=3).released_at is None

    response = staff.post(url, {"number": "3", "confirm": "1"}, follow=True)

    assertRedirects(response, reverse("grading", args=[course.pk]))
    queued = "Released the grades of question 3: 2 mails queued; they go out within a minute."
    assertContains(response, queued)
    assertContains(response, "Mails: 2 queued · 0 sent · 0 failed")
    assert QuestionPoints.objects.get(number=3).released_at is not None
    assert mailoutbox == []  # the worker sends them
    mails_send()
    assert "http://testserver/groups/" in mailoutbox[0].body


def test_a_ta_may_not_release(course, tara, grade):
    response = client_for("tara").post(reverse("release-grades", args=[course.pk]), {"confirm": "1"})

    assert response.status_code == 404
    course.refresh_from_db()
    assert course.grades_released_at is None


# --- answering -----------------------------------------------------------------------------------------------------


def grade_page(course, group, number: int) -> str:
    return reverse("grade", args=[course.pk, course_codes(course)[group.pk], number])


def test_the_grader_answers_with_a_new_adjustment(course, group1, tara, released):
    regrade = regrade_request(grade=released, user=group1.memberships.first().user, reason=REASON)
    data = {"response": "Indeed: +0.5.", "adjustment": "0", "comment": "", "base_version": released.version}

    response = client_for("tara").post(reverse("answer-regrade", args=[course.pk, regrade.pk]), data)

    assertRedirects(response, grade_page(course, group1, 3), fetch_redirect_response=False)
    regrade.refresh_from_db()
    assert (regrade.response, regrade.answered_by, regrade.score_after) == ("Indeed: +0.5.", tara, 3)
    assert GradeLog.objects.latest("at", "pk").note == f"regrade request #{regrade.pk}"
    assert Grade.objects.get(pk=released.pk).comment == COMMENT  # empty: unchanged


def test_an_answer_needs_a_response(course, group1, tara, released):
    regrade = regrade_request(grade=released, user=group1.memberships.first().user, reason=REASON)
    client = client_for("tara")

    response = client.post(reverse("answer-regrade", args=[course.pk, regrade.pk]), {"response": " "})

    assertRedirects(response, grade_page(course, group1, 3), fetch_redirect_response=False)
    regrade.refresh_from_db()
    assert regrade.is_open
    assert ANSWERED not in [str(m) for m in response.wsgi_request._messages]


def test_a_ta_not_of_the_group_gets_404(course, group1, group2, released, django_user_model):
    theo = django_user_model.objects.create_user("theo")
    CourseStaff.objects.create(course=course, user=theo, role=StaffRole.TA)
    GroupGrader.objects.create(group=group2, user=theo)
    regrade = regrade_request(grade=released, user=group1.memberships.first().user, reason=REASON)

    response = client_for("theo").post(reverse("answer-regrade", args=[course.pk, regrade.pk]), {"response": "No"})

    assert response.status_code == 404
    regrade.refresh_from_db()
    assert regrade.is_open


def test_the_grading_overview_offers_each_question_not_released_yet(staff, course, instructor, grade):
    QuestionPoints.objects.create(course=course, number=4, max_points=Decimal("2"))
    release(course, instructor, number=3)

    response = staff.get(reverse("grading", args=[course.pk]))

    assertContains(response, 'id="release-panel"')
    assertContains(response, "Q3 released")
    assertContains(response, '<option value="4">question 4 only</option>')
    assertNotContains(response, '<option value="3">')


def test_a_ta_of_an_anonymous_course_sees_a_request_without_its_member(course, group1, tara, released):
    course.anonymous_grading = True
    course.save()
    alice = group1.memberships.get(user__username="alice").user
    alice.first_name, alice.email = "Alice", "alice@example.com"
    alice.save()
    regrade_request(grade=released, user=alice, reason=REASON)

    response = client_for("tara").get(grade_page(course, group1, 3))

    assertContains(response, REASON)
    assertContains(response, "by a member,")
    for leak in ("alice", "Alice", "bob", f"Group {group1.number}"):
        assertNotContains(response, leak)
