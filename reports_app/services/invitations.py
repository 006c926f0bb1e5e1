"""Invitations to accounts without a password yet (a roster import makes them so): a mail per account naming its
groups, with a link to choose its password. The link is Django's password reset link, which "Forgot your password?"
(forms.accounts.PasswordSetupForm) also mails, so a lost or expired one is easy to replace.

Staff send them: to the accounts a roster import makes (the admin's Import roster, `import_roster --invite`), and
again to every member of some courses or groups who never chose a password (the admin action "Send invitations
again"). Each mail counts against the per-recipient mail limit (login_rate_limit.staff_mail_allowed). They are queued
in the outbox (services/outbox.py) and go out from the worker, which writes each one as it sends it: the link's token
is made then, never stored. Whatever keeps a mail from being queued is said per address, never raised.

(Sign-up invitations, which make someone a member only when accepted, are services/signup.py's.)
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template import loader
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .. import login_rate_limit
from ..models import Group, Mail, Membership
from .outbox import MailsQueued, address_of, mails_queue

NO_ADDRESS = "the account has no e-mail address"
MAIL_LIMITED = "not sent: this address had its share of mails for now (MAIL_MAX_PER_RECIPIENT); send again later"
NOBODY = "Nobody to invite: every member has chosen a password already."


def members_without_password(groups: QuerySet[Group], *, usernames: Iterable[str] | None = None) -> list[Membership]:
    """The memberships of `groups` whose account is active and has no password yet (optionally only the accounts of
    these user names), by course, group and user name. One query."""
    found = Membership.objects.filter(
        group__in=groups, user__is_active=True, user__password__startswith=UNUSABLE_PASSWORD_PREFIX
    )
    if usernames is not None:
        found = found.filter(user__username__in=list(usernames))
    return list(found.select_related("user", "group__course").order_by("group__course__code", "group__number", "pk"))


def invitations_send(
    *, memberships: list[Membership], base_url: str, site_name: str, user: AbstractBaseUser | None = None
) -> MailsQueued:
    """Queue for each account of `memberships` one invitation (naming all its groups among them) with a link to
    choose its password; `base_url` is the site's address the links start with ("https://reports.example.com").
    `user` is who sends them. One transaction for the mails and the mail counters; the worker sends them."""
    groups_of: dict[int, list[Group]] = {}
    users: dict[int, AbstractBaseUser] = {}
    for membership in memberships:
        users[membership.user_id] = membership.user
        groups_of.setdefault(membership.user_id, []).append(membership.group)
    result = MailsQueued(noun="invitation", nothing=NOBODY)
    mails: list[Mail] = []
    with transaction.atomic():  # one commit for all the mail counters, not one per address (SQLite: 13 ms each)
        for pk, account in users.items():
            if not (address := address_of(account)):
                result.failed.append((account.get_username(), NO_ADDRESS))
            elif not login_rate_limit.staff_mail_allowed(recipient=address):
                result.failed.append((address, MAIL_LIMITED))
            else:
                groups = groups_of[pk]
                context = {"groups": [g.pk for g in groups], "base_url": base_url, "site_name": site_name}
                mails.append(
                    Mail(
                        kind=Mail.Kind.INVITATION,
                        course=groups[0].course,
                        user=account,
                        address=address,
                        context=context,
                        created_by=user,
                    )
                )
                result.queued.append(address)
        mails_queue(mails)
    return result


def invitation_mail_render(mail: Mail) -> EmailMessage:
    """The invitation `mail` stands for, written now: its link's token is made from the account as it is now."""
    user, context = mail.user, mail.context
    groups = Group.objects.filter(pk__in=context["groups"]).select_related("course")
    base_url = context["base_url"].rstrip("/")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    context = {
        "user": user,
        "email": mail.address,
        "groups": sorted(groups, key=lambda g: (g.course.code, g.number, g.pk)),
        "site_name": context["site_name"],
        "link": base_url + path,
        "reset_link": base_url + reverse("password_reset"),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = loader.render_to_string("reports_app/invitation_account_email_subject.txt", context)
    body = loader.render_to_string("reports_app/invitation_account_email.txt", context)
    return EmailMessage(" ".join(subject.split()), body, None, [mail.address])
