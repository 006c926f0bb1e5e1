"""Failed logins are limited per user name and per client address (reports_app/login_rate_limit.py, LoginForm)."""

import threading
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from reports_app import login_rate_limit
from reports_app.auth import CaseInsensitiveBackend
from reports_app.login_rate_limit import Count, client_address, normalise_username
from reports_app.models import LoginCounter
from tests.helpers.processes import all_at_once

WRONG_PASSWORD = "Please enter a correct e-mail or user name and password."
ACCOUNT_LOCKED = "Too many failed logins for this account. Try again in 15 minutes, or reset your password."
ADDRESS_LOCKED = "Too many failed logins from your network. Try again in 15 minutes, or reset your password."
LOCKOUT = timedelta(minutes=15)
START = datetime(2026, 1, 5, 9, 0)


def log_in(client, username, password, address="10.0.0.1", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def fail(client, username, times, address="10.0.0.1"):
    for _ in range(times):
        response = log_in(client, username, "wrong", address)
        assertContains(response, WRONG_PASSWORD)


@pytest.fixture
def password_checks(monkeypatch):
    """The user names whose password the backend was asked to check."""
    checked = []
    lock = threading.Lock()
    authenticate = CaseInsensitiveBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        with lock:
            checked.append(username)
        return authenticate(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(CaseInsensitiveBackend, "authenticate", counting)
    return checked


# --- the counting rules, on a fixed clock --------------------------------------------------------------------------


def attempts(count, times, now):
    for _ in range(times):
        count = count.attempt(now=now, max_failures=5, lockout=LOCKOUT)
    return count


def test_fifth_attempt_locks_for_the_lockout_from_then():
    count = attempts(Count(), 4, START)
    assert not count.locked(START)

    count = attempts(count, 1, START + timedelta(minutes=3))

    assert count.locked(START + timedelta(minutes=3))
    assert count.locked(START + timedelta(minutes=17, seconds=59))
    assert not count.locked(START + timedelta(minutes=18))


def test_failures_spread_over_more_than_the_window_never_lock():
    count = attempts(Count(), 4, START)

    count = attempts(count, 1, START + LOCKOUT)

    assert (count.failures, count.window_start, count.locked(START + LOCKOUT)) == (1, START + LOCKOUT, False)


def test_an_attempt_after_a_lockout_ended_starts_a_new_count():
    count = attempts(Count(), 5, START)

    count = attempts(count, 1, START + LOCKOUT)

    assert (count.failures, count.locked_until) == (1, None)


def test_user_names_count_regardless_of_case_and_spaces():
    assert normalise_username("  Alice@Example.COM ") == normalise_username("alice@example.com")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the header is the client's to invent
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the client's own entry comes first and is ignored
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: it did not come through them
        (1, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ],
)
def test_client_address(proxies, forwarded, expected):
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request, trusted_proxies=proxies) == expected


# --- the login page ----------------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_with_429_and_the_message(client, group1):
    fail(client, "alice", 5)

    response = log_in(client, "alice", "wrong")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assertContains(response, ACCOUNT_LOCKED, status_code=429)
    assertNotContains(response, WRONG_PASSWORD, status_code=429)
    assertTemplateUsed(response, "registration/login.html")
    assertContains(
        response,
        f'<a class="touch-link" href="{reverse("password_reset")}">Forgot your password?</a>',
        1,
        429,
        html=True,
    )


def test_correct_password_is_refused_unchecked_while_locked(client, group1, password_checks):
    fail(client, "alice", 5)

    response = log_in(client, "Alice", "pw-alice", address="10.9.9.9")  # another address, the name in capitals

    assertContains(response, ACCOUNT_LOCKED, status_code=429)
    assert SESSION_KEY not in client.session
    assert password_checks == ["alice"] * 5


def test_unknown_user_names_lock_the_same_way(client, db):
    fail(client, "nobody", 5)

    assertContains(log_in(client, "nobody", "x"), ACCOUNT_LOCKED, status_code=429)


def test_lockout_ends_after_the_lockout_seconds(client, group1):
    fail(client, "alice", 5)
    counter = LoginCounter.objects.get(scope="username", key="alice")
    counter.window_start -= LOCKOUT
    counter.locked_until = timezone.now() - timedelta(seconds=1)
    counter.save()

    response = log_in(client, "alice", "pw-alice")

    assert response.status_code == 302
    assert not LoginCounter.objects.filter(scope="username", key="alice").exists()


def test_message_counts_the_minutes_left(client, group1):
    fail(client, "alice", 5)
    LoginCounter.objects.filter(key="alice").update(locked_until=timezone.now() + timedelta(seconds=50))

    assertContains(
        log_in(client, "alice", "x"),
        "Too many failed logins for this account. Try again in 1 minute, or reset your password.",
        status_code=429,
    )


def test_success_clears_the_user_names_count(client, group1):
    fail(client, "alice", 4)
    assert log_in(client, "alice", "pw-alice").status_code == 302
    client.logout()

    fail(client, "alice", 4)

    assert log_in(client, "alice", "pw-alice").status_code == 302


def test_success_on_the_fifth_attempt_logs_in_and_clears(client, group1):
    fail(client, "alice", 4)

    assert log_in(client, "alice", "pw-alice").status_code == 302
    assert not LoginCounter.objects.filter(scope="username").exists()
    assert LoginCounter.objects.get(scope="address").failures == 4


def test_one_user_names_lockout_does_not_lock_another(client, group1):
    fail(client, "alice", 5)

    response = log_in(client, "bob", "pw-bob")

    assert response.status_code == 302


def test_one_address_is_limited_across_user_names(client, group1, settings):
    assert settings.LOGIN_MAX_FAILURES_PER_ADDRESS == 20
    for i in range(20):
        fail(client, f"guess{i}@example.com", 1)

    assertContains(log_in(client, "bob", "pw-bob"), ADDRESS_LOCKED, status_code=429)
    assert log_in(client, "bob", "pw-bob", address="10.0.0.2").status_code == 302


def test_behind_a_trusted_proxy_each_client_has_its_own_address_count(client, group1, settings):
    settings.TRUSTED_PROXIES = 1
    for i in range(20):
        log_in(client, f"guess{i}", "wrong", address="172.18.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assertContains(
        log_in(client, "bob", "pw-bob", address="172.18.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9"),
        ADDRESS_LOCKED,
        status_code=429,
    )
    response = log_in(client, "bob", "pw-bob", address="172.18.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302


def test_the_login_form_is_our_template(client, db):
    response = client.get(reverse("login"))

    assertTemplateUsed(response, "registration/login.html")
    assertContains(response, "Log in | Report hand-in")


def test_csrf_is_still_enforced_and_nothing_is_counted(group1):
    client = Client(enforce_csrf_checks=True)

    response = log_in(client, "alice", "wrong")

    assert response.status_code == 403
    assert not LoginCounter.objects.exists()


def test_empty_password_is_not_counted(client, group1):
    response = log_in(client, "alice", "")

    assertContains(response, "This field is required.")
    assert not LoginCounter.objects.exists()


def test_a_logged_in_session_keeps_working_while_its_account_is_locked(alice, client, group1):
    fail(client, "alice", 5)

    assert alice.get(reverse("report", kwargs={"group_id": group1.pk})).status_code == 200


def test_the_admins_login_counts_in_the_same_counters_and_refuses_unchecked(client, instructor, password_checks):
    for _ in range(4):
        client.post(reverse("admin:login"), {"username": "instructor", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    fail(client, "instructor", 1)

    response = client.post(
        reverse("admin:login"), {"username": "instructor", "password": "pw-instructor"}, REMOTE_ADDR="10.0.0.3"
    )

    assertContains(response, ACCOUNT_LOCKED)  # the admin's page answers 200: Django's admin login view renders it
    assert SESSION_KEY not in client.session
    assert len(password_checks) == 5


def test_password_reset_stays_available_and_lifts_the_lockout(client, group1, mailoutbox, django_user_model):
    django_user_model.objects.filter(username="alice").update(email="alice@example.com")
    fail(client, "alice", 5)

    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    link = response.wsgi_request.build_absolute_uri("/")  # the reset link's host
    path = mailoutbox[0].body.split(link)[1].split()[0]
    form = client.get("/" + path)
    client.post(form["Location"], {"new_password1": "Quiet-otter-rows-42", "new_password2": "Quiet-otter-rows-42"})

    assert log_in(client, "alice", "Quiet-otter-rows-42").status_code == 302


def test_old_counters_are_pruned_on_the_next_attempt(client, group1):
    fail(client, "alice", 5)
    LoginCounter.objects.update(window_start=timezone.now() - LOCKOUT, locked_until=timezone.now())

    fail(client, "bob", 1, address="10.0.0.2")

    assert sorted(LoginCounter.objects.values_list("key", flat=True)) == ["10.0.0.2", "bob"]


def test_a_locked_address_hammering_new_user_names_adds_no_rows(client, group1, settings):
    """The finding: every refused attempt still made a counter for its user name, so a locked address could grow the
    table without bound. A refused attempt now writes nothing."""
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for i in range(3):
        fail(client, f"guess{i}", 1)

    statuses = {log_in(client, f"hammer{i}@example.com", "wrong").status_code for i in range(60)}

    assert statuses == {429}
    assert LoginCounter.objects.count() == 4  # the address and the three user names it tried before its lockout


def test_pruning_deletes_a_bounded_number_of_stale_counters_per_attempt(client, db):
    stale = timezone.now() - LOCKOUT - timedelta(seconds=1)
    LoginCounter.objects.bulk_create(
        LoginCounter(scope=LoginCounter.Scope.USERNAME, key=f"old{i}", failures=1, window_start=stale)
        for i in range(login_rate_limit.PRUNE_BATCH + 50)
    )

    fail(client, "dora", 1)

    assert LoginCounter.objects.filter(key__startswith="old").count() == 50
    fail(client, "dora", 1)
    assert sorted(LoginCounter.objects.values_list("key", flat=True)) == ["10.0.0.1", "dora"]


def test_a_mail_counter_is_kept_for_its_own_window_not_the_logins(client, db, settings):
    settings.MAIL_WINDOW_SECONDS = 3600
    half_an_hour_ago = timezone.now() - timedelta(minutes=30)
    LoginCounter.objects.create(scope=LoginCounter.Scope.MAIL_TO, key="ann@example.com", window_start=half_an_hour_ago)

    fail(client, "dora", 1)

    assert LoginCounter.objects.filter(scope=LoginCounter.Scope.MAIL_TO).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_check_at_most_the_limit_of_passwords(group1, password_checks):
    statuses = [response.status_code for response in all_at_once([lambda: log_in(Client(), "alice", "wrong")] * 12)]

    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert len(password_checks) == 5
    counter = LoginCounter.objects.get(scope="username")
    assert counter.failures == 5 and counter.locked_until is not None


def test_attempt_start_refuses_on_a_fixed_clock(db, settings):
    now = timezone.now()
    for _ in range(5):
        assert login_rate_limit.attempt_start(username="dora", address="10.0.0.1", now=now) is None

    refusal = login_rate_limit.attempt_start(username="dora", address="10.0.0.1", now=now + timedelta(minutes=14))

    assert refusal.message(now + timedelta(minutes=14)) == (
        "Too many failed logins for this account. Try again in 1 minute, or reset your password."
    )
    assert login_rate_limit.attempt_start(username="dora", address="10.0.0.1", now=now + LOCKOUT) is None
