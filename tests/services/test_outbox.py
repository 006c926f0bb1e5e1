"""The outbox (services/outbox.py): releases and invitations queue their mails in their own transaction and send
nothing themselves; the worker sends them, each marked sent as the server takes it, so that a worker stopped
half-way is followed by one that sends the rest and nothing twice; a temporary failure is tried again later, a
permanent one is failed with the server's words. Django's locmem backend is the mail server, or one of the test's own
that fails as a real one does."""

import re
import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail as django_mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reports_app.models import Course, Group, Mail, Membership, QuestionPoints
from reports_app.services.feedback import grades_release
from reports_app.services.invitations import invitations_send, members_without_password
from reports_app.services.outbox import MAIL_LEASE_SECONDS, RETRY_SECONDS, mails_send
from tests.helpers.grading import save_grade
from tests.helpers.smtp import closed_port, smtp_server

SITE = "https://reports.example.com"
PASSWORD = "Quiet-otter-rows-42"
SEND_TASK = "reports_app.tasks.send_mails"


def members(group: Group, count: int) -> list[str]:
    """`count` new members of `group` with e-mail addresses m0@example.com, m1@..., by user name."""
    addresses = [f"m{n}@example.com" for n in range(count)]
    for address in addresses:
        user = get_user_model().objects.create_user(address, email=address)
        Membership.objects.create(user=user, group=group)
    return addresses


@pytest.fixture
def five(course, group1, instructor) -> list[str]:
    """Group 1 graded on question 3, with five members (alice and bob have no address, so no mail): the release
    queues five mails."""
    get_user_model().objects.filter(username__in=["alice", "bob"]).delete()
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("4"))
    save_grade(group1, 3, instructor, adjustment="2")
    return members(group1, 5)


def release(course: Course, instructor) -> None:
    grades_release(course=course, user=instructor, base_url=SITE)


def delivered() -> list[str]:
    return sorted(address for message in django_mail.outbox for address in message.to)


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


class DiesAfterTwo(EmailBackend):
    """The worker is killed (SIGKILL: nothing of ours runs) as it sends the third mail."""

    sent = 0

    def send_messages(self, messages):
        if DiesAfterTwo.sent == 2:
            raise WorkerKilled
        DiesAfterTwo.sent += 1
        return super().send_messages(messages)


class WorkerKilled(BaseException):
    """Stands for the worker's death: not an Exception, so no code of ours handles it."""


class BusyOnce(EmailBackend):
    """The server answers 451 (try again later) for the first mail, then takes them."""

    refused = 0

    def send_messages(self, messages):
        if BusyOnce.refused == 0:
            BusyOnce.refused += 1
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (451, b"4.7.1 greylisted, try later")})
        return super().send_messages(messages)


class SecondWorker(EmailBackend):
    """While the first worker sends its first mail, a second worker runs: what it sent is kept."""

    second: list = []

    def send_messages(self, messages):
        if not SecondWorker.second:
            SecondWorker.second.append(mails_send())
        return super().send_messages(messages)


# --- queued in the request, sent by the worker ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_releasing_queues_the_mails_and_a_real_worker_sends_them(five, course, group1, staff, mailoutbox):
    response = staff.post(f"/courses/{course.pk}/grading/release/", {"confirm": "1"}, follow=True)

    assert mailoutbox == []  # nothing from the request
    assert "5 mails queued; they go out within a minute." in response.content.decode()
    assert {m.status for m in Mail.objects.all()} == {Mail.Status.QUEUED}
    assert DBTaskResult.objects.filter(task_path=SEND_TASK).count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)  # as in production

    assert delivered() == five
    assert {(m.status, m.tries) for m in Mail.objects.all()} == {(Mail.Status.SENT, 0)}
    assert f"http://testserver/groups/{group1.pk}/feedback/" in mailoutbox[0].body


def test_a_worker_stopped_after_two_of_five_sends_nothing_twice_on_resume(five, course, instructor, settings):
    release(course, instructor)
    settings.EMAIL_BACKEND = f"{__name__}.DiesAfterTwo"
    DiesAfterTwo.sent = 0

    with pytest.raises(WorkerKilled):
        mails_send()

    assert len(django_mail.outbox) == 2
    assert Mail.objects.filter(status=Mail.Status.SENT).count() == 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert mails_send().sent == 0  # its claim holds until the lease ends: nobody takes the mails meanwhile
    resumed = mails_send(now=later(MAIL_LEASE_SECONDS + 1))

    assert resumed.sent == 3
    assert delivered() == five  # each once
    assert not Mail.objects.exclude(status=Mail.Status.SENT).exists()


def test_a_stopped_worker_leaves_a_task_for_when_its_claim_ends(
    five, course, instructor, settings, django_capture_on_commit_callbacks
):
    release(course, instructor)
    settings.EMAIL_BACKEND = f"{__name__}.DiesAfterTwo"
    DiesAfterTwo.sent = 0

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(WorkerKilled):
        mails_send()

    lease_end = Mail.objects.filter(status=Mail.Status.QUEUED).first().due_at
    assert list(DBTaskResult.objects.filter(task_path=SEND_TASK).values_list("run_after", flat=True)) == [lease_end]


def test_a_second_worker_takes_none_of_the_mails_the_first_is_sending(five, course, instructor, settings):
    release(course, instructor)
    settings.EMAIL_BACKEND = f"{__name__}.SecondWorker"
    SecondWorker.second = []

    first = mails_send()

    assert (first.sent, SecondWorker.second[0].sent) == (5, 0)
    assert delivered() == five


# --- failures ------------------------------------------------------------------------------------------------------


def test_a_4xx_is_tried_again_later_and_then_sent(
    five, course, instructor, settings, django_capture_on_commit_callbacks
):
    release(course, instructor)
    settings.EMAIL_BACKEND = f"{__name__}.BusyOnce"
    BusyOnce.refused = 0

    with django_capture_on_commit_callbacks(execute=True):
        first = mails_send()

    assert (first.sent, first.retrying, first.failed) == (4, 1, 0)
    waiting = Mail.objects.get(status=Mail.Status.QUEUED)
    assert (waiting.address, waiting.tries) == ("m0@example.com", 1)
    assert waiting.error == "the mail server refused the address (451 4.7.1 greylisted, try later)"
    retry = DBTaskResult.objects.filter(task_path=SEND_TASK, run_after=waiting.due_at)
    assert retry.exists() and waiting.due_at > later(RETRY_SECONDS[0] - 5)
    assert mails_send().sent == 0  # not before its time

    assert mails_send(now=later(RETRY_SECONDS[0] + 1)).sent == 1

    assert delivered() == five
    waiting.refresh_from_db()
    assert (waiting.status, waiting.tries) == (Mail.Status.SENT, 1)


def test_a_refused_address_fails_at_once_with_the_servers_words_and_the_others_go_out(five, course, instructor):
    release(course, instructor)

    with smtp_server(refused={"m2@example.com"}) as server:
        run = mails_send()

    assert (run.sent, run.retrying, run.failed) == (4, 0, 1)
    assert sorted(server.delivered) == [a for a in five if a != "m2@example.com"]
    refused = Mail.objects.get(address="m2@example.com")
    assert (refused.status, refused.tries) == (Mail.Status.FAILED, 1)
    assert refused.error == "the mail server refused the address (550 no such user here)"


def test_a_server_that_stays_down_is_tried_four_times_then_the_mails_fail(five, course, instructor, settings):
    release(course, instructor)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", closed_port(), False

    waited = 0
    for wait in (0, *RETRY_SECONDS):
        waited += wait + 1
        mails_send(now=later(waited))

    mails = Mail.objects.all()
    assert {(m.status, m.tries) for m in mails} == {(Mail.Status.FAILED, 1 + len(RETRY_SECONDS))}
    assert {m.error for m in mails} == {"the mail server could not be reached (Connection refused)"}


# --- invitations ---------------------------------------------------------------------------------------------------


def test_an_invitation_is_written_when_sent_and_its_link_sets_the_password(course, group1, mailoutbox):
    (address,) = members(group1, 1)
    queued = invitations_send(
        memberships=members_without_password(course.groups.all(), usernames=[address]), base_url=SITE, site_name="x"
    )
    assert queued.queued == [address] and mailoutbox == []
    (mail,) = Mail.objects.all()
    assert mail.context == {"groups": [group1.pk], "base_url": SITE, "site_name": "x"}  # no token at rest
    # a login after the mail was queued: a token made then would no longer be valid; one made at send time is
    user = get_user_model().objects.get(username=address)
    user.last_login = timezone.now()
    user.save()

    mails_send()

    link = re.search(r"https://reports\.example\.com(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    visitor = Client()
    form = visitor.get(link, follow=True)
    assert "Choose your password" in form.content.decode()
    visitor.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert Client().login(username=address, password=PASSWORD)


def test_invitations_keep_the_limit_per_recipient(course, group1, settings):
    settings.MAIL_MAX_PER_RECIPIENT = 2
    (address,) = members(group1, 1)

    results = [
        invitations_send(memberships=members_without_password(course.groups.all()), base_url=SITE, site_name="x")
        for _ in range(3)
    ]

    assert results[-1].summary() == "No invitations queued: 1 not."
    assert [len(r.queued) for r in results] == [1, 1, 0]
    assert Mail.objects.filter(address=address).count() == 2
