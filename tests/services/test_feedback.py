"""Releasing grades (the course or one question, a mail per member with a link, never twice for a question) and
regrade requests (who may ask, when, how often; who may answer, and a grade changed by an answer is logged)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from reports_app.models import CourseStaff, Grade, GradeLog, GroupGrader, QuestionPoints, RubricItem, StaffRole
from reports_app.selectors.feedback import released_numbers
from reports_app.selectors.submissions import course_codes
from reports_app.services.feedback import (
    ALREADY_OPEN,
    ANSWERED_ALREADY,
    NO_REGRADES,
    NOT_ANSWERER,
    NOT_MEMBER,
    NOT_RELEASED,
    NOT_RELEASER,
    REASON_EMPTY,
    REASON_LONG,
    grades_release,
    regrade_answer,
    regrade_request,
)
from reports_app.services.grading import UNGRADED, GradeConflict, GradingRefused
from reports_app.services.outbox import mails_send
from tests.conftest import client_for
from tests.helpers.grading import save_grade as save

SITE = "https://reports.example.com"


def user(name: str):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def graded(course, group1, group2, instructor):
    """Questions 3 (4 points) and 4 (2 points); group 1 graded on both, group 2 on question 4 only. Members have
    e-mail addresses."""
    for name in ("alice", "bob", "charlie"):
        get_user_model().objects.filter(username=name).update(email=f"{name}@example.com")
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("4"))
    QuestionPoints.objects.create(course=course, number=4, max_points=Decimal("2"))
    QuestionPoints.objects.create(course=course, number=5, max_points=None)
    clear = RubricItem.objects.create(course=course, number=3, text="Clear figure", points=Decimal("3"))
    grades = {
        "g1q3": save(group1, 3, instructor, [clear], comment="Nice"),
        "g1q4": save(group1, 4, instructor, adjustment="1"),
        "g2q4": save(group2, 4, instructor, adjustment="2"),
    }
    return grades


def release(course, who, number=None):
    """Release, then run what the worker runs: the mails queued go out (tests/services/test_outbox.py: not before)."""
    queued = grades_release(course=course, user=who, number=number, base_url=SITE)
    mails_send()
    return queued


def recipients(outbox) -> list[str]:
    return sorted(address for mail in outbox for address in mail.to)


# --- release -------------------------------------------------------------------------------------------------------


def test_releasing_the_course_mails_each_member_one_link_to_their_feedback(
    course, group1, instructor, graded, mailoutbox
):
    sent = release(course, instructor)

    course.refresh_from_db()
    assert course.grades_released_at is not None
    assert released_numbers(course) == {3, 4}
    assert (
        sorted(sent.queued) == recipients(mailoutbox) == ["alice@example.com", "bob@example.com", "charlie@example.com"]
    )
    assert [len(mail.to) for mail in mailoutbox] == [1, 1, 1]
    to_alice = next(mail for mail in mailoutbox if mail.to == ["alice@example.com"])
    assert SITE + reverse("feedback", args=[group1.pk]) in to_alice.body
    assert to_alice.subject == "C1: grades released"


def test_releasing_again_mails_nobody(course, instructor, graded, mailoutbox):
    release(course, instructor)
    course.refresh_from_db()
    first = course.grades_released_at
    mailoutbox.clear()

    again = release(course, instructor)

    course.refresh_from_db()
    assert (again.queued, again.failed, mailoutbox, course.grades_released_at) == ([], [], [], first)


def test_one_question_mails_the_members_of_groups_graded_on_it(course, instructor, graded, mailoutbox):
    sent = release(course, instructor, number=3)

    assert QuestionPoints.objects.get(course=course, number=3).released_at is not None
    assert released_numbers(course) == {3}
    assert sorted(sent.queued) == recipients(mailoutbox) == ["alice@example.com", "bob@example.com"]


def test_the_course_after_a_question_mails_only_for_what_is_new(course, instructor, graded, mailoutbox):
    release(course, instructor, number=4)  # both groups
    assert len(mailoutbox) == 3
    mailoutbox.clear()
    release(course, instructor, number=4)  # again: nobody
    assert mailoutbox == []

    release(course, instructor)  # question 3 is new: group 1 only

    assert recipients(mailoutbox) == ["alice@example.com", "bob@example.com"]


def test_an_ungraded_question_is_not_released(course, instructor, graded, mailoutbox):
    for number in (5, 9):  # no max points; no row
        with pytest.raises(GradingRefused) as refused:
            release(course, instructor, number=number)
        assert str(refused.value) == UNGRADED.format(number=number, course=course)
    assert released_numbers(course) == set() and mailoutbox == []


def test_only_instructors_release(course, group1, graded, mailoutbox):
    ta = get_user_model().objects.create_user("tim")
    CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=ta)

    for who in (ta, user("alice")):
        with pytest.raises(GradingRefused) as refused:
            release(course, who)
        assert str(refused.value) == NOT_RELEASER.format(course=course)
    course.refresh_from_db()
    assert course.grades_released_at is None and mailoutbox == []


def test_a_member_without_an_address_is_named_and_the_others_mailed(course, instructor, graded, mailoutbox):
    get_user_model().objects.filter(username="bob").update(email="")

    sent = release(course, instructor, number=3)

    assert sent.queued == ["alice@example.com"]
    assert sent.failures() == ["Not mailed to bob: the account has no e-mail address."]


# --- regrade requests ----------------------------------------------------------------------------------------------


@pytest.fixture
def open_for_regrades(course, instructor, graded):
    release(course, instructor)
    course.regrades_until = timezone.now() + timedelta(days=7)
    course.save()
    return graded


def ask(grade, name="alice", reason="The figure is there, on page 2."):
    return regrade_request(grade=grade, user=user(name), reason=reason)


def refusal(grade, name="alice", reason="Please look again.") -> str:
    with pytest.raises(GradingRefused) as refused:
        ask(grade, name, reason)
    return str(refused.value)


def test_a_member_asks_for_a_regrade_of_a_released_grade(open_for_regrades):
    regrade = ask(open_for_regrades["g1q3"])

    assert (regrade.requested_by, regrade.score_at_request, regrade.is_open) == (user("alice"), Decimal("3"), True)
    assert regrade.reason == "The figure is there, on page 2."


def test_no_regrade_of_a_grade_not_released(course, instructor, graded):
    release(course, instructor, number=4)
    course.regrades_until = timezone.now() + timedelta(days=7)
    course.save()

    assert refusal(graded["g1q3"]) == NOT_RELEASED.format(number=3)
    assert ask(graded["g1q4"]).is_open


def test_no_regrades_without_a_date_or_after_it(course, open_for_regrades):
    course.regrades_until = None
    course.save()
    assert refusal(open_for_regrades["g1q3"]) == NO_REGRADES

    course.regrades_until = timezone.now() - timedelta(minutes=1)
    course.save()
    assert refusal(open_for_regrades["g1q3"]).startswith("Regrade requests closed on ")


def test_only_a_member_of_the_group_asks(open_for_regrades, instructor):
    assert refusal(open_for_regrades["g1q3"], "charlie") == NOT_MEMBER
    with pytest.raises(GradingRefused, match=NOT_MEMBER):
        regrade_request(grade=open_for_regrades["g1q3"], user=instructor, reason="As staff")


def test_one_open_request_per_grade(open_for_regrades):
    ask(open_for_regrades["g1q3"])

    assert refusal(open_for_regrades["g1q3"], "bob") == ALREADY_OPEN.format(number=3)
    assert ask(open_for_regrades["g1q4"], "bob").is_open  # another question is another grade


def test_a_reason_is_one_to_2000_characters(open_for_regrades):
    assert refusal(open_for_regrades["g1q3"], reason="  \n ") == REASON_EMPTY
    assert refusal(open_for_regrades["g1q3"], reason="x" * 2001) == REASON_LONG.format(length=2001)
    assert ask(open_for_regrades["g1q3"], reason="x" * 2000).is_open


def test_a_regrade_request_mails_the_groups_graders_a_link_that_names_the_submission_by_code_only(
    course, group1, group2, open_for_regrades, mailoutbox, settings
):
    course.anonymous_grading = True
    course.save()
    for name, group in (("tess", group1), ("theo", group2)):
        ta = get_user_model().objects.create_user(name, email=f"{name}@example.com", password=f"pw-{name}")
        CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
        GroupGrader.objects.create(group=group, user=ta)
    mailoutbox.clear()

    regrade_request(grade=open_for_regrades["g1q3"], user=user("alice"), reason="Look again.", base_url=SITE + "/")
    assert mailoutbox == []  # the worker sends it
    mails_send()

    assert recipients(mailoutbox) == ["tess@example.com"]
    code = course_codes(course)[group1.pk]
    path = reverse("grade", args=[course.pk, code, 3])
    assert mailoutbox[0].subject == "C1: a regrade request on question 3"
    assert f"question 3 of submission {code} in C1" in mailoutbox[0].body
    assert f"{SITE}{path}\n" in mailoutbox[0].body
    for hidden in (group1.name, "group 1", "alice", "bob", "Look again"):
        assert hidden not in mailoutbox[0].body
    tess = client_for("tess")
    assert tess.get(path).status_code == 200


def test_a_regrade_request_of_a_group_without_graders_mails_the_instructors(
    course, instructor, open_for_regrades, mailoutbox, settings
):
    instructor.email = "ines@example.com"
    instructor.save()
    settings.SITE_URL = ""
    mailoutbox.clear()

    ask(open_for_regrades["g1q4"])  # neither a base URL nor SITE_URL: no link to send, so no mail
    mails_send()
    assert mailoutbox == []

    settings.SITE_URL = SITE
    ask(open_for_regrades["g1q3"])
    mails_send()
    assert recipients(mailoutbox) == ["ines@example.com"]


# --- answers -------------------------------------------------------------------------------------------------------


def test_a_ta_not_of_the_group_may_not_answer(course, group2, open_for_regrades):
    theo = get_user_model().objects.create_user("theo")
    CourseStaff.objects.create(course=course, user=theo, role=StaffRole.TA)
    GroupGrader.objects.create(group=group2, user=theo)
    regrade = ask(open_for_regrades["g1q3"])

    with pytest.raises(GradingRefused, match=NOT_ANSWERER):
        regrade_answer(regrade=regrade, user=theo, response="No.")
    regrade.refresh_from_db()
    assert regrade.is_open and regrade.response == ""


def test_an_answer_that_changes_the_grade_is_logged_with_the_request(open_for_regrades, instructor, group1):
    grade = open_for_regrades["g1q3"]
    regrade = ask(grade)

    answered = regrade_answer(
        regrade=regrade, user=instructor, response="Right, it is there.", adjustment="1", base_version=grade.version
    )

    answered.refresh_from_db()
    assert (answered.response, answered.answered_by, answered.score_after) == ("Right, it is there.", instructor, 4)
    assert answered.answered_at is not None and not answered.is_open
    entry = GradeLog.objects.filter(grade=grade).latest("at", "pk")
    assert (entry.note, entry.score_before, entry.score_after) == (f"regrade request #{regrade.pk}", 3, 4)
    grade.refresh_from_db()
    assert (grade.adjustment, grade.comment, list(grade.items.values_list("text", flat=True))) == (
        Decimal("1"),
        "Nice",
        ["Clear figure"],
    )


def test_an_answer_without_a_change_keeps_the_grade(open_for_regrades, instructor):
    grade = open_for_regrades["g1q3"]
    logged = GradeLog.objects.count()

    answered = regrade_answer(regrade=ask(grade), user=instructor, response="The grade stands.")

    assert answered.score_after == answered.score_at_request == 3
    assert GradeLog.objects.count() == logged
    with pytest.raises(GradingRefused, match=ANSWERED_ALREADY):
        regrade_answer(regrade=answered, user=instructor, response="Again")


def test_an_answer_on_a_stale_grade_saves_nothing(open_for_regrades, instructor):
    grade = open_for_regrades["g1q3"]
    regrade = ask(grade)
    save(grade.group, 3, instructor, comment="Changed meanwhile", base_version=grade.version)

    with pytest.raises(GradeConflict):
        regrade_answer(regrade=regrade, user=instructor, response="Fixed", comment="Mine", base_version=grade.version)

    regrade.refresh_from_db()
    assert regrade.is_open and regrade.response == ""
    assert Grade.objects.get(pk=grade.pk).comment == "Changed meanwhile"
