"""Mails anyone can make the site send are limited per recipient and per client address (login_rate_limit.mail_allowed):
password reset links and invitations. Past the limit the pages answer exactly as before and send nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from reports_app.models import Invitation, LoginCounter
from tests.helpers.settings import start

CODE = "otter-42-river"
PER_RECIPIENT = 3
PER_ADDRESS = 6


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.MAIL_MAX_PER_RECIPIENT = PER_RECIPIENT
    settings.MAIL_MAX_PER_ADDRESS = PER_ADDRESS


@pytest.fixture
def accounts(django_user_model):
    """Ten accounts with an e-mail address each: user0@example.com ..."""
    return [django_user_model.objects.create_user(f"user{i}", email=f"user{i}@example.com") for i in range(10)]


def reset(client, email: str, address: str = "10.0.0.1"):
    response = client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)
    assertRedirects(response, reverse("password_reset_done"))  # the same answer, mailed or not
    return response


def sign_up(client, members, number: int, address: str):
    data = {"code": CODE, "repo_url": f"https://github.com/otters/repo{number}"}
    for i, email in enumerate(members, start=1):
        data |= {f"email_{i}": email, f"name_{i}": email.split("@")[0], f"study_number_{i}": f"s{number}{i}"}
    return client.post(reverse("join"), data, REMOTE_ADDR=address)


def test_a_reset_flood_to_one_address_sends_at_most_the_limit(client, accounts, mailoutbox):
    """The finding: every request mailed a reset link, so anyone could flood an inbox through the site."""
    for _ in range(10):
        reset(client, "user0@example.com")

    assert [m.to for m in mailoutbox] == [["user0@example.com"]] * PER_RECIPIENT


def test_one_client_address_gets_at_most_its_limit_of_mails_sent_to_anyone(client, accounts, mailoutbox):
    for user in accounts:
        reset(client, user.email)

    assert len(mailoutbox) == PER_ADDRESS
    reset(client, "user9@example.com", address="10.0.0.2")
    assert mailoutbox[-1].to == ["user9@example.com"] and len(mailoutbox) == PER_ADDRESS + 1


def test_addresses_without_an_account_count_too_and_the_page_is_the_same(client, accounts, mailoutbox):
    for _ in range(PER_RECIPIENT):
        reset(client, "nobody@example.com")

    counter = LoginCounter.objects.get(scope=LoginCounter.Scope.MAIL_TO, key="nobody@example.com")
    assert counter.failures == PER_RECIPIENT and counter.locked_until is not None
    assert mailoutbox == []


def test_mails_go_out_again_once_the_window_is_over(client, accounts, mailoutbox, settings):
    for _ in range(PER_RECIPIENT + 1):
        reset(client, "user0@example.com")
    an_hour_ago = timezone.now() - timedelta(seconds=settings.MAIL_WINDOW_SECONDS)
    LoginCounter.objects.update(window_start=an_hour_ago, locked_until=an_hour_ago)

    reset(client, "user0@example.com")

    assert len(mailoutbox) == PER_RECIPIENT + 1


def test_invitations_to_one_address_are_limited_and_every_answer_reads_the_same(course, client, mailoutbox):
    """The finding: each sign-up naming someone mailed them, without limit. Sign-ups from several client addresses,
    all naming victim@example.com: the victim gets the limit of mails, and every page says the invitation was sent."""
    course.join_code = CODE
    course.save()

    for n in range(5):
        response = sign_up(client, [f"a{n}@x.dk", "victim@example.com", f"b{n}@x.dk"], n, address=f"10.0.1.{n}")
        assertContains(response, f"An invitation was sent to a{n}@x.dk, victim@example.com, b{n}@x.dk.")

    assert Invitation.objects.filter(email="victim@example.com").count() == 5
    assert sum(m.to == ["victim@example.com"] for m in mailoutbox) == PER_RECIPIENT
    assert len(mailoutbox) == 5 * 3 - (5 - PER_RECIPIENT)


def test_invitations_and_reset_links_share_the_recipients_limit(course, client, mailoutbox, accounts):
    course.join_code = CODE
    course.save()
    sign_up(client, ["user0@example.com", "b@x.dk", "c@x.dk"], 1, address="10.0.1.1")

    for _ in range(PER_RECIPIENT):
        reset(client, "user0@example.com", address="10.0.2.1")

    # the invitation, then one reset request that sent a link and the invitation again: the limit of three
    assert sum(m.to == ["user0@example.com"] for m in mailoutbox) == PER_RECIPIENT


@pytest.mark.parametrize("name", ["MAIL_MAX_PER_RECIPIENT", "MAIL_MAX_PER_ADDRESS", "MAIL_WINDOW_SECONDS"])
def test_a_limit_below_one_is_refused_at_start(name):
    result = start(**{name: "0"})

    assert result.returncode != 0
    assert "MAIL_MAX_PER_RECIPIENT, MAIL_MAX_PER_ADDRESS and MAIL_WINDOW_SECONDS must be 1 or more" in result.stderr
