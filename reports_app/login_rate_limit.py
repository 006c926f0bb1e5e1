"""Login rate limiting: failed logins are counted per user name and per client address, in the database.

After `LOGIN_MAX_FAILURES` failures for one user name (from any address), or `LOGIN_MAX_FAILURES_PER_ADDRESS` from
one address (for any user names), within `LOGIN_LOCKOUT_SECONDS`, further logins for it are refused for
`LOGIN_LOCKOUT_SECONDS`, without checking the password: a correct password during a lockout reveals nothing.

Every attempt is counted as failed *before* its password is checked, and taken back when the password turns out to
be right. So twenty logins sent at once for one user name check at most `LOGIN_MAX_FAILURES` passwords: each takes
its turn on the counter row (`select_for_update`), and the ones past the limit are refused.

Sign-ups are counted the same way, per client address in a counter of their own (`JOIN_MAX_FAILURES_PER_ADDRESS`,
the same `LOGIN_LOCKOUT_SECONDS`): logins and sign-ups never lock each other. Every sign-up counts, with a right
code or a wrong one: a right code taken back would let anyone who has it probe without limit.

Mails anyone can make the site send (invitations, reset links) are counted per recipient and per client address
(`MAIL_MAX_PER_RECIPIENT`, `MAIL_MAX_PER_ADDRESS` within `MAIL_WINDOW_SECONDS`), with the same rules; the invitations
staff send to a roster's accounts count per recipient only.

A refused attempt writes no row, and every attempt deletes a bounded number of counters whose window and lockout are
over: the table holds only the counters of the current window, however long anyone hammers a locked address.

    >>> start = datetime(2026, 1, 1, 12, 0)
    >>> count = Count()
    >>> for _ in range(5):
    ...     count = count.attempt(now=start, max_failures=5, lockout=timedelta(minutes=15))
    >>> count.locked(start), count.locked(start + timedelta(minutes=15))
    (True, False)
"""

from __future__ import annotations

import ipaddress
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginCounter

Scope = LoginCounter.Scope
LOCKED_MESSAGES = {
    Scope.USERNAME: "Too many failed logins for this account. Try again in {wait}, or reset your password.",
    Scope.ADDRESS: "Too many failed logins from your network. Try again in {wait}, or reset your password.",
    Scope.JOIN: "Too many sign-up attempts from your network. Try again in {wait}.",
}
PRUNE_BATCH = 100  # stale counters deleted by one attempt at most; an attempt makes at most two


@dataclass(frozen=True)
class Count:
    """One counter's state: failures since `window_start`, and the end of its lockout if it is locked."""

    failures: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def attempt(self, *, now: datetime, max_failures: int, lockout: timedelta) -> Count:
        """The count with one more attempt, which locks it once it reaches `max_failures` (an attempt that succeeds
        takes that back). A window that has run out, or a lockout that has ended, starts over. Not for a locked
        count: a refused attempt is not counted."""
        fresh = self.window_start is None or self.locked_until is not None or now >= self.window_start + lockout
        failures = 1 if fresh else self.failures + 1
        window_start = now if fresh else self.window_start
        return Count(failures, window_start, now + lockout if failures >= max_failures else None)


@dataclass(frozen=True)
class Refusal:
    scope: str
    until: datetime

    def seconds_left(self, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))

    def message(self, now: datetime) -> str:
        minutes = math.ceil(self.seconds_left(now) / 60)
        return LOCKED_MESSAGES[self.scope].format(wait=f"{minutes} minute{'' if minutes == 1 else 's'}")


def normalise_username(username: str) -> str:
    """The key of a user name: logins match user names regardless of case (reports_app.auth), so count them so.

    >>> normalise_username("  Alice@Example.COM ")
    'alice@example.com'
    """
    return unicodedata.normalize("NFKC", username).strip().casefold()[:255]


def client_address(request: HttpRequest, trusted_proxies: int | None = None) -> str:
    """The address a request came from: REMOTE_ADDR, or with `TRUSTED_PROXIES` = N proxies in front of the site, the
    entry the outermost of them added to X-Forwarded-For (the Nth from the right; entries left of it are whatever
    the client sent). An IPv6 address stands for its /64, which one household or server usually gets whole."""
    if trusted_proxies is None:
        trusted_proxies = settings.TRUSTED_PROXIES
    address = request.META.get("REMOTE_ADDR", "")
    if trusted_proxies > 0:
        forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= trusted_proxies and forwarded[-trusted_proxies]:
            address = forwarded[-trusted_proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:255]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _limits() -> dict[str, int]:
    return {
        Scope.USERNAME: settings.LOGIN_MAX_FAILURES,
        Scope.ADDRESS: settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
        Scope.JOIN: settings.JOIN_MAX_FAILURES_PER_ADDRESS,
        Scope.MAIL_TO: settings.MAIL_MAX_PER_RECIPIENT,
        Scope.MAIL_FROM: settings.MAIL_MAX_PER_ADDRESS,
    }


def _windows() -> dict[str, timedelta]:
    """Each scope's window, which is also how long its lockout lasts."""
    login = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    mail = timedelta(seconds=settings.MAIL_WINDOW_SECONDS)
    return {Scope.USERNAME: login, Scope.ADDRESS: login, Scope.JOIN: login, Scope.MAIL_TO: mail, Scope.MAIL_FROM: mail}


def attempt_start(*, username: str, address: str, now: datetime | None = None) -> Refusal | None:
    """Count a login attempt for the user name and the address before its password is checked, or refuse it (and
    count nothing) while either is locked. Rows are locked user name first, then address, so attempts never wait for
    each other in a circle."""
    return _count_attempt([(Scope.USERNAME, normalise_username(username)), (Scope.ADDRESS, address)], now)


def join_attempt_start(*, address: str, now: datetime | None = None) -> Refusal | None:
    """Count a sign-up attempt for the address before its code is checked, or refuse it (counting nothing)."""
    return _count_attempt([(Scope.JOIN, address)], now)


def mail_allowed(*, recipient: str, address: str, now: datetime | None = None) -> bool:
    """Count one mail to `recipient` asked for from the client `address`; False (counting nothing) when either has
    had its share of mails in this window: then send nothing, and answer as if it was sent."""
    return _count_attempt([(Scope.MAIL_TO, normalise_username(recipient)), (Scope.MAIL_FROM, address)], now) is None


def staff_mail_allowed(*, recipient: str, now: datetime | None = None) -> bool:
    """Count one mail to `recipient` that staff send (a roster's invitations); False (counting nothing) when the
    address has had its share in this window. Staff mail whole courses, so no client address is counted."""
    return _count_attempt([(Scope.MAIL_TO, normalise_username(recipient))], now) is None


def _refusal(rows: list[LoginCounter], now: datetime) -> Refusal | None:
    locked = next((row for row in rows if row.locked_until is not None and now < row.locked_until), None)
    return Refusal(locked.scope, locked.locked_until) if locked else None


def _count_attempt(keys: list[tuple[str, str]], now: datetime | None) -> Refusal | None:
    """Count an attempt on each (scope, key) counter, locking the rows in this order; or refuse it if one is locked.

    A refusal writes nothing: the locks are looked at before any counter is made, so that attempts with ever new user
    names from a locked address add no rows (a lock set in between is still honoured, by the check under lock)."""
    now = now or timezone.now()
    found = LoginCounter.objects.filter(Q(*[Q(scope=scope, key=key) for scope, key in keys], _connector=Q.OR))
    if refusal := _refusal(list(found), now):
        return refusal
    counters = LoginCounter.objects.select_for_update()
    with transaction.atomic():
        rows = [counters.get_or_create(scope=scope, key=key, defaults={"window_start": now})[0] for scope, key in keys]
        if refusal := _refusal(rows, now):
            return refusal
        for row in rows:
            count = Count(row.failures, row.window_start, row.locked_until).attempt(
                now=now, max_failures=_limits()[row.scope], lockout=_windows()[row.scope]
            )
            row.failures, row.window_start, row.locked_until = count.failures, count.window_start, count.locked_until
            row.save(update_fields=["failures", "window_start", "locked_until"])
    prune(now)
    return None


def prune(now: datetime) -> int:
    """Delete up to PRUNE_BATCH counters whose window and lockout are both over (they count nothing any more); how
    many. Bounded, so that one attempt never pays for a backlog; each attempt makes at most two rows."""
    over = Q(*[Q(scope=scope, window_start__lte=now - window) for scope, window in _windows().items()], _connector=Q.OR)
    stale = LoginCounter.objects.filter(over, Q(locked_until__isnull=True) | Q(locked_until__lte=now))
    ids = list(stale.values_list("pk", flat=True)[:PRUNE_BATCH])
    return LoginCounter.objects.filter(pk__in=ids).delete()[0] if ids else 0


def attempt_succeeded(*, username: str, address: str) -> None:
    """The password was right: the user name's count starts over, and the address's takes this attempt back (and the
    lock it may have set: a count is locked only once it reaches its limit, and it did so with this attempt)."""
    with transaction.atomic():
        LoginCounter.objects.filter(scope=Scope.USERNAME, key=normalise_username(username)).delete()
        _take_back(Scope.ADDRESS, address)


def _take_back(scope: str, key: str) -> None:
    """Take one attempt back from this counter, and the lock it may have set by reaching the limit."""
    LoginCounter.objects.filter(scope=scope, key=key, failures__gt=0).update(
        failures=F("failures") - 1, locked_until=None
    )


def clear(*, username: str) -> None:
    """Lift the count on a user name (its owner has just chosen a new password)."""
    LoginCounter.objects.filter(scope=Scope.USERNAME, key=normalise_username(username)).delete()
