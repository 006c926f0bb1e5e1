"""Feedback's writes: instructors release grades to the students (the whole course, or one question), mailing each
member of a group with a newly released grade one link to their feedback page; members ask for a regrade of a
released grade (until the course's `regrades_until`), and a grader of the group or an instructor answers it, maybe
changing the grade (a logged grade save, noted with the request).

Release mails are not counted against MAIL_MAX_PER_RECIPIENT: a member gets at most one per question (a question
released already mails nobody again), so nobody can make the site send them more. They are queued in the outbox
(services/outbox.py) in the release's transaction, and go out from the worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from ..engine.people import person_name
from ..models import (
    Course,
    CourseStaff,
    Grade,
    Group,
    GroupGrader,
    Mail,
    Membership,
    QuestionPoints,
    RegradeRequest,
    RubricItem,
    StaffRole,
)
from ..selectors.feedback import released_numbers
from ..selectors.submissions import course_codes
from .grading import UNGRADED, GradingRefused, grade_save, grade_score, max_points_of
from .invitations import NO_ADDRESS
from .outbox import MailsQueued, address_of, mails_queue

NOT_RELEASER = "Only an instructor of {course} may release its grades."
NEEDS_SITE_URL = "Set SITE_URL, the site's address that the links in the release mails start with."
NOT_MEMBER = "Only a member of the group may ask for a regrade of its grades."
NOT_RELEASED = "The grade of question {number} is not released yet."
NO_REGRADES = "This course takes no regrade requests."
REGRADES_CLOSED = "Regrade requests closed on {until}."
REASON_EMPTY = "Say why the grade should change: the reason is empty."
REASON_MAX = 2000
REASON_LONG = "A reason has at most 2000 characters; this one has {length}."
ALREADY_OPEN = "Question {number} has a regrade request open already: its answer comes first."
NOT_ANSWERER = "Only a grader of the group or an instructor of the course may answer its regrade requests."
ANSWERED_ALREADY = "This regrade request has been answered already."
RESPONSE_EMPTY = "Write a response to the request: it is what the student reads."
REGRADE_NOTE = "regrade request #{pk}"

MAIL_SUBJECT = "{course}: grades released"
MAIL_BODY = """Hello {name},

The grades of {what} of {course} have been released. Your points, the rubric items applied and your graders' comments
are on your group's feedback page:

{link}
"""


def grades_release(*, course: Course, user, number: int | None = None, base_url: str | None = None) -> MailsQueued:
    """Release the course's grades (`number` None) or one question's, and queue for each member of a group with a
    graded question newly released one mail with a link to its feedback page (`base_url`, e.g.
    "https://reports.example.com", else SITE_URL), in the release's transaction; the worker sends them. Releasing
    what is released already changes nothing and mails nobody. Instructors only (GradingRefused). Returns who was
    queued a mail and who not and why."""
    if not Course.objects.instructed_by(user).filter(pk=course.pk).exists():
        raise GradingRefused(NOT_RELEASER.format(course=course))
    base = _site(base_url)
    if not base:
        raise GradingRefused(NEEDS_SITE_URL)
    now = timezone.now()
    given = course
    result = MailsQueued()
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        before = released_numbers(course)
        if number is None:
            if course.grades_released_at is None:
                course.grades_released_at = now
                course.save(update_fields=["grades_released_at"])
        else:
            row = QuestionPoints.objects.filter(course=course, number=number, max_points__isnull=False).first()
            if row is None:
                raise GradingRefused(UNGRADED.format(number=number, course=course))
            if row.released_at is None and course.grades_released_at is None:
                row.released_at = now
                row.save(update_fields=["released_at"])
        new = released_numbers(course) - before
        what = f"question {number}" if number is not None else "the report"
        mails = []
        for membership in _members_with_grades(course, new) if new else []:
            member = membership.user
            if not (address := address_of(member)):
                result.failed.append((member.get_username(), NO_ADDRESS))
                continue
            context = {"group": membership.group_id, "what": what, "base_url": base}
            kind = Mail.Kind.RELEASE
            mails.append(Mail(kind=kind, course=course, user=member, address=address, context=context, created_by=user))
            result.queued.append(address)
        mails_queue(mails)
    given.grades_released_at = course.grades_released_at  # a later save of the caller's object keeps the release
    return result


def _site(base_url: str | None) -> str:
    """The address links in mails start with: the request's (`base_url`), else SITE_URL; "" when neither is set."""
    return (base_url or settings.SITE_URL).rstrip("/")


def _members_with_grades(course: Course, numbers: Iterable[int]) -> list[Membership]:
    """The active members of the course's groups that have a grade on one of `numbers` (one query)."""
    graded = Grade.objects.filter(group=OuterRef("group"), number__in=list(numbers), version__gt=0)
    found = Membership.objects.filter(Exists(graded), group__course=course, user__is_active=True)
    return list(found.select_related("user", "group").order_by("group__number", "user__username"))


def release_mail_render(mail: Mail) -> EmailMessage:
    """The release mail `mail` stands for, written now (no queries: its user and course come with it)."""
    course, context = mail.course, mail.context
    link = context["base_url"] + reverse("feedback", args=[context["group"]])
    title = f"{course.code} {course.title}".strip()
    body = MAIL_BODY.format(name=person_name(mail.user), what=context["what"], course=title, link=link)
    return EmailMessage(MAIL_SUBJECT.format(course=course.code), body, None, [mail.address])


REGRADE_SUBJECT = "{course}: a regrade request on question {number}"
REGRADE_BODY = """Hello {name},

A student asks for a regrade of question {number} of submission {code} in {course}. Their reason, the grade and the
answer are on the grading page, where you answer the request:

{link}
"""


def _regrade_refusal(grade: Grade, user, now: datetime) -> str | None:
    course = grade.group.course
    if not Membership.objects.filter(group=grade.group, user_id=user.pk).exists():
        return NOT_MEMBER
    if grade.version == 0 or grade.number not in released_numbers(course):
        return NOT_RELEASED.format(number=grade.number)
    if course.regrades_until is None:
        return NO_REGRADES
    if now >= course.regrades_until:
        until = timezone.localtime(course.regrades_until).strftime("%Y-%m-%d %H:%M %Z")
        return REGRADES_CLOSED.format(until=until)
    return None


def reason_problem(reason: str) -> str | None:
    """Why `reason` is not one (empty, or longer than REASON_MAX characters), or None."""
    if not reason.strip():
        return REASON_EMPTY
    if len(reason) > REASON_MAX:
        return REASON_LONG.format(length=len(reason))
    return None


def regrade_request(*, grade: Grade, user, reason: str, base_url: str | None = None) -> RegradeRequest:
    """A member of the grade's group asks for a regrade of it: the grade released, before the course's
    `regrades_until` (none set: no regrades), a reason of 1..REASON_MAX characters, and no other request on the
    grade still open. GradingRefused says which rule stops it.

    The group's graders (none assigned: the course's instructors) are mailed a link to the grading page, which names
    the submission by its code only (`base_url`, else SITE_URL; neither: no mail). A member can have one request
    open per grade, and a new one only once a grader answered the last: no one can make the site mail graders more
    often than they answer."""
    reason = reason.strip()
    with transaction.atomic():
        grade = Grade.objects.select_for_update().select_related("group__course").get(pk=grade.pk)
        refusal = _regrade_refusal(grade, user, timezone.now()) or reason_problem(reason)
        if refusal is None and grade.regrades.filter(answered_at__isnull=True).exists():
            refusal = ALREADY_OPEN.format(number=grade.number)
        if refusal:
            raise GradingRefused(refusal)
        course = grade.group.course
        score = grade_score(grade, course, max_points_of(course, grade.number))
        regrade = RegradeRequest.objects.create(grade=grade, requested_by=user, reason=reason, score_at_request=score)
        if base := _site(base_url):
            _queue_regrade_mails(grade, user, base)
        return regrade


def _queue_regrade_mails(grade: Grade, user, base: str) -> None:
    """A mail to each grader of the grade's group with an address (none assigned: each instructor of the course)."""
    course = grade.group.course
    graders = [g.user for g in GroupGrader.objects.filter(group=grade.group).select_related("user")]
    if not graders:
        staff = CourseStaff.objects.filter(course=course, role=StaffRole.INSTRUCTOR).select_related("user")
        graders = [s.user for s in staff]
    code = course_codes(course)[grade.group_id]
    context = {"number": grade.number, "code": code, "base_url": base}
    mails = [
        Mail(kind=Mail.Kind.REGRADE, course=course, user=grader, address=address, context=context, created_by=user)
        for grader in graders
        if (address := address_of(grader))
    ]
    mails_queue(mails)


def regrade_mail_render(mail: Mail) -> EmailMessage:
    """The regrade request mail `mail` stands for, written now: the question and the submission's code, a link."""
    course, number, code = mail.course, mail.context["number"], mail.context["code"]
    link = mail.context["base_url"] + reverse("grade", args=[course.pk, code, number])
    body = REGRADE_BODY.format(name=person_name(mail.user), number=number, code=code, course=course.code, link=link)
    return EmailMessage(REGRADE_SUBJECT.format(course=course.code, number=number), body, None, [mail.address])


def regrade_answer(
    *,
    regrade: RegradeRequest,
    user,
    response: str,
    items: Iterable[RubricItem] | None = None,
    adjustment: object | None = None,
    comment: str | None = None,
    base_version: int | None = None,
) -> RegradeRequest:
    """A grader of the group or an instructor answers an open regrade request with `response`; any of `items`,
    `adjustment`, `comment` given changes the grade (services.grading.grade_save, based on `base_version`, else the
    grade's version now; noted "regrade request #<id>" in the log). GradingRefused for who may not or what is not
    an answer; a GradeConflict propagates with nothing saved."""
    response = response.strip()
    with transaction.atomic():
        regrade = RegradeRequest.objects.select_for_update().get(pk=regrade.pk)
        grade = Grade.objects.select_related("group__course").prefetch_related("items").get(pk=regrade.grade_id)
        group: Group = grade.group
        if not Group.objects.visible_to(user).filter(pk=group.pk).exists():
            raise GradingRefused(NOT_ANSWERER)
        if not regrade.is_open:
            raise GradingRefused(ANSWERED_ALREADY)
        if not response:
            raise GradingRefused(RESPONSE_EMPTY)
        if items is not None or adjustment is not None or comment is not None:
            grade = grade_save(
                group=group,
                number=grade.number,
                items=grade.items.all() if items is None else items,
                adjustment=grade.adjustment if adjustment is None else adjustment,
                comment=grade.comment if comment is None else comment,
                base_version=grade.version if base_version is None else base_version,
                user=user,
                revision=grade.revision,
                note=REGRADE_NOTE.format(pk=regrade.pk),
            )
        regrade.response = response
        regrade.answered_by = user
        regrade.answered_at = timezone.now()
        regrade.score_after = grade_score(grade, group.course, max_points_of(group.course, grade.number))
        regrade.save(update_fields=["response", "answered_by", "answered_at", "score_after"])
    return regrade
