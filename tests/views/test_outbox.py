"""A course's mails page (views/outbox.py): its instructors see what is queued, sent and failed, with the address and
why, and send a failed mail again; the grading overview's release panel counts them. Who else may look:
tests/views/test_authorization.py."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reports_app.models import Course, Mail
from reports_app.services.outbox import mails_send
from tests.helpers.smtp import smtp_server

WHY = "the mail server refused the address (550 no such user here)"
TIMEOUT = "the mail server did not answer in time"


def make_mail(course: Course, user, **fields) -> Mail:
    context = {"group": 1, "what": "question 3", "base_url": "http://testserver"}
    return Mail.objects.create(
        kind=Mail.Kind.RELEASE,
        course=course,
        user=user,
        address=f"{user.username}@example.com",
        context=context,
        **fields,
    )


@pytest.fixture
def mails(course, group1, django_user_model) -> dict[str, Mail]:
    alice, bob = (django_user_model.objects.get(username=name) for name in ("alice", "bob"))
    return {
        "failed": make_mail(course, alice, status=Mail.Status.FAILED, tries=1, error=WHY),
        "queued": make_mail(course, bob, tries=1, error=TIMEOUT, due_at=timezone.now() + timedelta(minutes=5)),
        "sent": make_mail(course, bob, status=Mail.Status.SENT),
    }


def test_the_page_shows_each_mail_not_sent_with_why_and_offers_to_send_a_failed_one_again(staff, course, mails):
    response = staff.get(reverse("outbox", args=[course.pk]))

    assertContains(response, "1 queued · 1 sent · 1 failed")
    assertContains(response, "<td>alice@example.com</td>")
    assertContains(response, WHY)
    assertContains(response, "queued, try 2 at")
    assertContains(response, f'name="mail" value="{mails["failed"].pk}"')
    assertNotContains(response, f'name="mail" value="{mails["queued"].pk}"')
    assertNotContains(response, 'id="retry-all"')  # one failed mail: its own button


def test_a_failed_mail_sent_again_goes_out(staff, course, mails, mailoutbox):
    url = reverse("retry-mails", args=[course.pk])

    response = staff.post(url, {"mail": mails["failed"].pk}, follow=True)

    assertRedirects(response, reverse("outbox", args=[course.pk]))
    assertContains(response, "1 failed mail queued again; it goes out within a minute.")
    mails["failed"].refresh_from_db()
    assert (mails["failed"].status, mails["failed"].tries, mails["failed"].error) == (Mail.Status.QUEUED, 0, "")
    with smtp_server() as server:
        mails_send()
    assert server.delivered == ["alice@example.com"]


def test_every_failed_mail_is_sent_again_at_once(staff, course, mails, django_user_model):
    make_mail(course, django_user_model.objects.get(username="bob"), status=Mail.Status.FAILED, error=WHY)
    assertContains(staff.get(reverse("outbox", args=[course.pk])), "Send the 2 failed mails again")

    response = staff.post(reverse("retry-mails", args=[course.pk]), follow=True)

    assertContains(response, "2 failed mails queued again; they go out within a minute.")
    assert not Mail.objects.filter(status=Mail.Status.FAILED).exists()
    mails["sent"].refresh_from_db()
    assert mails["sent"].status == Mail.Status.SENT


@pytest.mark.parametrize("posted", ["sent", "queued", "made-up"])
def test_a_mail_not_failed_or_not_a_mail_is_not_sent_again(staff, course, mails, posted):
    mail = str(mails[posted].pk) if posted in mails else "99999999999999999999999"

    response = staff.post(reverse("retry-mails", args=[course.pk]), {"mail": mail}, follow=True)

    assertContains(response, "No failed mail to send again: it was sent or queued meanwhile.")
    assert Mail.objects.filter(status=Mail.Status.FAILED).count() == 1


def test_a_mail_of_another_course_is_not_sent_again_through_this_one(staff, course, mails, instructor):
    other = Course.objects.create(code="C2", title="Course two")
    foreign = make_mail(other, instructor, status=Mail.Status.FAILED)

    response = staff.post(reverse("retry-mails", args=[course.pk]), {"mail": foreign.pk})

    assert response.status_code == 302
    foreign.refresh_from_db()
    assert foreign.status == Mail.Status.FAILED


def test_the_release_panel_counts_the_mails_and_links_the_page(staff, course, mails):
    response = staff.get(reverse("grading", args=[course.pk]))

    assertContains(response, "Mails: 1 queued (")
    assertContains(response, "1 waiting for the mail server</span>) · 1 sent · ")
    assertContains(response, '<span class="text-danger">1 failed</span>')
    assertContains(response, f'href="{reverse("outbox", args=[course.pk])}"')


def test_the_unsent_mails_are_summed_up_by_reason_before_each_is_listed(staff, course, mails):
    for _ in range(30):
        make_mail(course, mails["failed"].user, tries=1, error=TIMEOUT, due_at=timezone.now() + timedelta(minutes=9))

    response = staff.get(reverse("outbox", args=[course.pk]))

    reasons = re.findall(r"<li>(.*?)</li>", response.content.decode().split('id="outbox-reasons"')[1].split("</ul>")[0])
    assert [re.sub(r"<[^>]+>", "", reason) for reason in reasons] == [
        f"failed: 1 mail, {WHY}",
        f"queued: 31 mails, {TIMEOUT}; next try at {timezone.localtime(mails['queued'].due_at):%H:%M}",
    ]
    assertContains(response, '<summary class="mb-2">Each mail not sent yet (32)</summary>')


@pytest.mark.parametrize("extra", [0, 20])
def test_the_page_takes_the_same_queries_however_many_mails(staff, course, mails, extra, django_assert_num_queries):
    for _ in range(extra):
        make_mail(course, mails["failed"].user, status=Mail.Status.FAILED, error=WHY)
        make_mail(course, mails["sent"].user, status=Mail.Status.SENT)

    # 1 the session, 2 the user, 3 the course with the user's role, 4 the mails by status, 5 those not sent, 6 the
    # last sent
    with django_assert_num_queries(6):
        response = staff.get(reverse("outbox", args=[course.pk]))
    assert response.content.decode().count("Send again") == 1 + extra
