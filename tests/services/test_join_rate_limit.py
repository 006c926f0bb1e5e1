"""Sign-ups on /join/ are limited per client address, right code or wrong (reports_app/login_rate_limit.py,
views.join)."""

import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from course import settings as course_settings
from reports_app.models import Group, LoginCounter
from reports_app.services.signup import course_for_join_code
from reports_app.views import accounts
from reports_app.views.accounts import JOIN_CODE_WRONG
from tests.helpers.processes import all_at_once
from tests.helpers.settings import start

CODE = "otter-42-river"
WRONG = "otter-42-rivers"
LOCKED = "Too many sign-up attempts from your network. Try again in 15 minutes."
SIGNED_UP = "is signed up"
LOCKOUT = timedelta(minutes=15)
THREE = (("ann@example.com", "Ann"), ("ben@example.com", "Ben"), ("cat@example.com", "Cat"))
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    """A small limit keeps the tests quick; the default of 20 has a test of its own."""
    settings.JOIN_MAX_FAILURES_PER_ADDRESS = LIMIT


@pytest.fixture
def joinable(course):
    course.join_code = CODE
    course.save()
    return course


@pytest.fixture
def code_checks(monkeypatch):
    """The join codes the view looked up (the real lookup runs; this only writes them down)."""
    checked = []
    lock = threading.Lock()
    lookup = course_for_join_code

    def counting(code):
        with lock:
            checked.append(code)
        return lookup(code)

    monkeypatch.setattr(accounts, "course_for_join_code", counting)  # where the join view looks it up
    return checked


def sign_up(client, code=CODE, address="10.0.0.1", members=THREE, repo_url="https://github.com/otters/mlops", **extra):
    """POST the join form from `address`: a valid form with `code`, a repo and three members."""
    data = {"code": code, "repo_url": repo_url}
    for i, (email, name) in enumerate(members, start=1):
        data |= {f"email_{i}": email, f"name_{i}": name, f"study_number_{i}": f"s26000{i}"}
    return client.post(reverse("join"), data, REMOTE_ADDR=address, **extra)


def guess(client, times, address="10.0.0.1", **extra):
    for _ in range(times):
        assertContains(sign_up(client, WRONG, address, **extra), "This join code is not valid.")


def join_counter(key="10.0.0.1") -> LoginCounter:
    return LoginCounter.objects.get(scope=LoginCounter.Scope.JOIN, key=key)


# --- the limit ---------------------------------------------------------------------------------------------------


def test_wrong_codes_under_the_default_limit_get_the_usual_form_error(client, joinable, settings):
    settings.JOIN_MAX_FAILURES_PER_ADDRESS = course_settings.JOIN_MAX_FAILURES_PER_ADDRESS
    assert settings.JOIN_MAX_FAILURES_PER_ADDRESS == 20
    guess(client, 19)

    response = sign_up(client, WRONG)

    assert response.status_code == 200
    assert response.context["form"].errors == {"code": [JOIN_CODE_WRONG]}
    assert (join_counter().failures, join_counter().locked_until is not None) == (20, True)


def test_at_the_limit_even_the_right_code_gets_429_unchecked(client, joinable, code_checks, mailoutbox):
    guess(client, LIMIT)

    right = sign_up(client, CODE)
    wrong = sign_up(client, WRONG)

    assert (right.status_code, right["Retry-After"]) == (429, "900")
    assertContains(right, LOCKED, status_code=429)
    assertNotContains(right, "This join code is not valid.", status_code=429)
    assertNotContains(right, SIGNED_UP, status_code=429)
    assert right.context["form"].errors == wrong.context["form"].errors == {"__all__": [LOCKED]}
    assert not Group.objects.filter(course=joinable).exists()
    assert mailoutbox == []
    assert code_checks == [WRONG] * LIMIT
    assert join_counter().failures == LIMIT  # refused attempts are not counted


def test_the_lockout_ends_after_the_lockout_seconds(client, joinable):
    guess(client, LIMIT)
    counter = join_counter()
    counter.window_start -= LOCKOUT
    counter.locked_until = timezone.now() - timedelta(seconds=1)
    counter.save()

    assertContains(sign_up(client, CODE), SIGNED_UP)
    assert (join_counter().failures, join_counter().locked_until) == (1, None)  # a new window, with this attempt


def test_failures_older_than_the_window_no_longer_count(client, joinable, settings):
    guess(client, LIMIT - 1)
    LoginCounter.objects.update(window_start=timezone.now() - LOCKOUT)

    guess(client, LIMIT - 1)

    assert join_counter().failures == LIMIT - 1


def test_the_message_and_retry_after_count_the_time_left(client, joinable, settings):
    guess(client, LIMIT)
    LoginCounter.objects.update(locked_until=timezone.now() + timedelta(seconds=50))

    response = sign_up(client, WRONG)

    assertContains(response, "Too many sign-up attempts from your network. Try again in 1 minute.", status_code=429)
    assert 1 <= int(response["Retry-After"]) <= 50


# --- what counts as an attempt ------------------------------------------------------------------------------------


def test_a_right_code_counts_like_a_wrong_one(client, joinable):
    """The finding: a right code took its attempt back, so whoever has it could probe the sign-up without limit."""
    guess(client, LIMIT - 1)

    assertContains(sign_up(client, CODE), SIGNED_UP)

    assert join_counter().failures == LIMIT and join_counter().locked_until is not None
    assert sign_up(client, CODE, repo_url="https://github.com/otters/other").status_code == 429


def test_probing_with_the_right_code_alone_is_limited(client, joinable, code_checks):
    statuses = [sign_up(client, CODE, members=THREE[:2]).status_code for _ in range(LIMIT + 2)]

    assert statuses == [200] * LIMIT + [429] * 2
    assert code_checks == [CODE] * LIMIT


def test_a_right_code_with_a_refused_sign_up_counts(client, joinable):
    response = sign_up(client, CODE, members=THREE[:2])

    assertContains(response, "A group has 3 to 5 members; you entered 2.")
    assert join_counter().failures == 1


def test_a_form_with_mistakes_has_its_code_checked_and_counted_too(client, joinable, code_checks):
    """So that the page shows every problem at once (tests/views/test_join.py), a wrong code among them."""
    bad_email = sign_up(client, CODE, members=[("not-an-e-mail", "Ann"), *THREE[1:]])
    no_repo = client.post(
        reverse("join"), {"code": WRONG, "email_1": "ann@example.com", "name_1": "Ann"}, REMOTE_ADDR="10.0.0.1"
    )

    assertContains(bad_email, "Enter a valid email address.")
    assertContains(no_repo, "This field is required.")
    assertContains(no_repo, "This join code is not valid.")
    assert code_checks == [CODE, WRONG]
    assert join_counter().failures == 2


def test_a_form_without_a_code_is_not_counted(client, joinable, code_checks):
    response = client.post(reverse("join"), {"email_1": "ann@example.com", "name_1": "Ann"})

    assertContains(response, "This field is required.")
    assert code_checks == []
    assert not LoginCounter.objects.exists()


# --- whose guesses -----------------------------------------------------------------------------------------------


def test_other_addresses_are_unaffected(client, joinable):
    guess(client, LIMIT)

    assertContains(sign_up(client, CODE, address="10.0.0.2"), SIGNED_UP)


def test_an_ipv6_address_counts_for_its_64(client, joinable, settings):
    guess(client, LIMIT, address="2001:db8:1:2::1")

    assert sign_up(client, CODE, address="2001:db8:1:2:ffff::9").status_code == 429
    assertContains(sign_up(client, CODE, address="2001:db8:1:3::1"), SIGNED_UP)


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(client, joinable, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = {"address": "172.18.0.5"}
    guess(client, LIMIT, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert sign_up(client, CODE, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert sign_up(client, CODE, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9").status_code == 429
    assertContains(sign_up(client, CODE, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7"), SIGNED_UP)


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(client, joinable, settings):
    assert settings.TRUSTED_PROXIES == 0
    for i in range(LIMIT):
        guess(client, 1, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    assert sign_up(client, CODE, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert list(LoginCounter.objects.values_list("key", flat=True)) == ["10.0.0.1"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_check_at_most_the_limit_of_codes(joinable, settings, code_checks):
    settings.JOIN_MAX_FAILURES_PER_ADDRESS = 5
    statuses = [response.status_code for response in all_at_once([lambda: sign_up(Client(), WRONG)] * 12)]

    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert code_checks == [WRONG] * 5
    assert join_counter().failures == 5 and join_counter().locked_until is not None


# --- logins and sign-ups keep separate counts --------------------------------------------------------------------


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_an_address_locked_for_join_codes_can_still_log_in(client, joinable, group1):
    guess(client, LIMIT)

    assert log_in(client, "alice", "pw-alice").status_code == 302
    assert sign_up(Client(), CODE).status_code == 429


def test_an_address_locked_for_logins_can_still_sign_up(client, joinable, group1, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = LIMIT
    for i in range(LIMIT):
        assertContains(log_in(client, f"guess{i}", "wrong"), "Please enter a correct e-mail or user name and password.")
    assert log_in(client, "bob", "pw-bob").status_code == 429

    assertContains(sign_up(client, CODE), SIGNED_UP)
    assert LoginCounter.objects.get(scope=LoginCounter.Scope.ADDRESS, key="10.0.0.1").failures == LIMIT


def test_a_limit_below_one_is_refused_at_start():
    result = start(JOIN_MAX_FAILURES_PER_ADDRESS="0")

    assert result.returncode != 0
    assert "JOIN_MAX_FAILURES_PER_ADDRESS must be 1 or more" in result.stderr
