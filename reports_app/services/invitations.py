"""Invitations to accounts without a password yet (a roster import makes them so): a mail per account naming its
groups, with a link to choose its password. The link is Django's password reset link, which "Forgot your password?"
(forms.accounts.PasswordSetupForm) also mails, so a lost or expired one is easy to replace.

Staff send them: to the accounts a roster import makes (the admin's Import roster, `import_roster --invite`), and
again to every member of some courses or groups who never chose a password (the admin action "Send invitations
again"). Each mail counts against the per-recipient mail limit (login_rate_limit.staff_mail_allowed). Whatever keeps
a mail from going out is said per address, never raised: the import or the action has happened all the same.

(Sign-up invitations, which make someone a member only when accepted, are services/signup.py's.)
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.template import loader
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .. import login_rate_limit
from ..models import Group, Membership

NO_ADDRESS = "the account has no e-mail address"
MAIL_LIMITED = "not sent: this address had its share of mails for now (MAIL_MAX_PER_RECIPIENT); send again later"
MAIL_REFUSED = "the mail server refused the address ({reply})"
MAIL_ANSWERED = "the mail server refused the mail ({reply})"
MAIL_TIMEOUT = "the mail server did not answer in time"
MAIL_UNREACHABLE = "the mail server could not be reached ({reason})"
MAIL_NOT_TAKEN = "the mail server did not take the mail"
NOBODY = "Nobody to invite: every member has chosen a password already."


@dataclass
class InvitationsSent:
    """Who got an invitation, and who did not and why, in the order they were tried."""

    sent: list[str] = field(default_factory=list)  # e-mail addresses
    failed: list[tuple[str, str]] = field(default_factory=list)  # (e-mail address or user name, why not)

    def summary(self) -> str:
        """'Invitations mailed to 5 accounts; 2 not mailed.'"""
        if not self.sent and not self.failed:
            return NOBODY
        text = f"Invitations mailed to {len(self.sent)} account{'' if len(self.sent) == 1 else 's'}"
        return text + (f"; {len(self.failed)} not mailed." if self.failed else ".")

    def failures(self) -> list[str]:
        """A line per reason, naming every address it kept a mail from: 'Not mailed to a@x.dk, b@x.dk: why.'"""
        by_reason: dict[str, list[str]] = {}
        for who, why in self.failed:
            by_reason.setdefault(why, []).append(who)
        return [f"Not mailed to {', '.join(who)}: {why}." for why, who in by_reason.items()]


def members_without_password(groups: QuerySet[Group], *, usernames: Iterable[str] | None = None) -> list[Membership]:
    """The memberships of `groups` whose account is active and has no password yet (optionally only the accounts of
    these user names), by course, group and user name. One query."""
    found = Membership.objects.filter(
        group__in=groups, user__is_active=True, user__password__startswith=UNUSABLE_PASSWORD_PREFIX
    )
    if usernames is not None:
        found = found.filter(user__username__in=list(usernames))
    return list(found.select_related("user", "group__course").order_by("group__course__code", "group__number", "pk"))


def invitations_send(*, memberships: list[Membership], base_url: str, site_name: str) -> InvitationsSent:
    """Mail each account of `memberships` one invitation (naming all its groups among them) with a link to choose
    its password; `base_url` is the site's address the links start with ("https://reports.example.com"). One
    connection to the mail server for all of them: a server that cannot be reached fails every address at once,
    after one wait at most (EMAIL_TIMEOUT), not one per address."""
    groups_of: dict[int, list[Group]] = {}
    users: dict[int, AbstractBaseUser] = {}
    for membership in memberships:
        users[membership.user_id] = membership.user
        groups_of.setdefault(membership.user_id, []).append(membership.group)
    result = InvitationsSent()
    mails: list[tuple[str, EmailMessage]] = []
    with transaction.atomic():  # one commit for all the mail counters, not one per address (SQLite: 13 ms each)
        for pk, user in users.items():
            address = getattr(user, user.get_email_field_name(), "")
            if not address:
                result.failed.append((user.get_username(), NO_ADDRESS))
            elif not login_rate_limit.staff_mail_allowed(recipient=address):
                result.failed.append((address, MAIL_LIMITED))
            else:
                mails.append((address, _invitation_mail(user, address, groups_of[pk], base_url, site_name)))
    _send_all(mails, result)  # after the commit: the mail server may be slow, and holds no lock
    return result


def _invitation_mail(
    user: AbstractBaseUser, address: str, groups: list[Group], base_url: str, site_name: str
) -> EmailMessage:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    context = {
        "user": user,
        "email": address,
        "groups": groups,
        "site_name": site_name,
        "link": base_url.rstrip("/") + path,
        "reset_link": base_url.rstrip("/") + reverse("password_reset"),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = loader.render_to_string("reports_app/invitation_account_email_subject.txt", context)
    body = loader.render_to_string("reports_app/invitation_account_email.txt", context)
    return EmailMessage(" ".join(subject.split()), body, None, [address])


def _send_all(mails: list[tuple[str, EmailMessage]], result: InvitationsSent) -> None:
    if not mails:
        return
    connection = get_connection()
    try:
        connection.open()
    except OSError as error:  # smtplib.SMTPException is an OSError
        result.failed.extend((address, mail_error(error)) for address, _ in mails)
        return
    try:
        for address, mail in mails:
            try:
                sent = connection.send_messages([mail])
            except OSError as error:
                result.failed.append((address, mail_error(error)))
            else:
                if sent:
                    result.sent.append(address)
                else:
                    result.failed.append((address, MAIL_NOT_TAKEN))
    finally:
        with contextlib.suppress(OSError):
            connection.close()


def mail_error(error: OSError) -> str:
    """Why a mail was not sent, in words for staff.

    >>> mail_error(smtplib.SMTPRecipientsRefused({"a@x.dk": (550, b"no such user")}))
    'the mail server refused the address (550 no such user)'
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, message = next(iter(error.recipients.values()))
        return MAIL_REFUSED.format(reply=_reply(code, message))
    if isinstance(error, smtplib.SMTPResponseException):
        return MAIL_ANSWERED.format(reply=_reply(error.smtp_code, error.smtp_error))
    if isinstance(error, TimeoutError):
        return MAIL_TIMEOUT
    return MAIL_UNREACHABLE.format(reason=error.strerror or str(error) or type(error).__name__)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"[:200]
