"""The roster: groups and members from a CSV file (engine/roster.py reads it), and the roster as rows to export.
Accounts a roster makes have no usable password: their owners choose one with the link that the import's invitation
mails them (services/invitations.py), or with the password-reset link (forms.accounts.PasswordSetupForm)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch, Q
from django.db.models.functions import Lower

from ..engine.roster import Member, Roster, RosterChanges, RosterError, parse_roster, split_name
from ..models import (
    Course,
    Group,
    Membership,
)


def roster_read(*, course: Course, data: bytes) -> Roster:
    """A roster file checked against the course's group sizes and the repo allow-list; RosterError otherwise."""
    return parse_roster(
        data,
        min_size=course.min_group_size,
        max_size=course.max_group_size,
        allowed=settings.SCRAPE_ALLOWED_URLS,
        email_ok=_is_email,
    )


def _is_email(value: str) -> bool:
    """Django's judgement of an e-mail address, the one every form of the site applies."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def users_by_email(emails: set[str]) -> tuple[dict[str, AbstractBaseUser], dict[str, list[str]]]:
    """The accounts of lowercased e-mail addresses: the user named by the address, else the one user who has it as
    e-mail; and the addresses that more than one account has (with their user names), which we refuse to guess."""
    candidates = (
        get_user_model()
        .objects.annotate(username_lower=Lower("username"), email_lower=Lower("email"))
        .filter(Q(username_lower__in=emails) | Q(email_lower__in=emails))
        .order_by("pk")
    )
    by_username: dict[str, AbstractBaseUser] = {}
    by_email: dict[str, list[AbstractBaseUser]] = {}
    for user in candidates:
        if user.username_lower in emails:
            by_username.setdefault(user.username_lower, user)
        if user.email_lower in emails:
            by_email.setdefault(user.email_lower, []).append(user)
    found, ambiguous = {}, {}
    for email in emails:
        if email in by_username:
            found[email] = by_username[email]
        elif len(by_email.get(email, [])) == 1:
            found[email] = by_email[email][0]
        elif email in by_email:
            ambiguous[email] = [user.get_username() for user in by_email[email]]
    return found, ambiguous


def roster_without_password(roster: Roster) -> list[str]:
    """The roster's e-mail addresses whose accounts exist and have no password yet (an earlier import made them and
    nobody has chosen one), in file order: an import invites only the accounts it makes, so these get no mail."""
    emails = [member.email for entry in roster.groups for member in entry.members]
    found, _ = users_by_email(set(emails))
    return [email for email in emails if email in found and not found[email].has_usable_password()]


def _ambiguous(email: str, usernames: list[str]) -> str:
    return f"the accounts {', '.join(usernames)} all have the e-mail {email}; merge them in the admin first"


def _user_create(member: Member) -> AbstractBaseUser:
    """An account named by the e-mail address, without a usable password."""
    first, last = split_name(member.name)
    return get_user_model().objects.create_user(
        member.email, email=member.email, password=None, first_name=first, last_name=last
    )


def _member_label(user) -> str:
    return user.email or user.get_username()


def roster_import(
    *, course: Course, roster: Roster, dry_run: bool = False, remove_missing: bool = False
) -> RosterChanges:
    """Make the course's groups and members what the roster says, and report what that changed.

    Missing groups, accounts and memberships are created; repo URLs, study numbers and GitHub user names the file
    gives are set (an empty cell keeps what is stored; names are set on new accounts only). Members in the site but not
    in the file are listed, and removed only with `remove_missing`. Importing the same file again changes nothing.
    All or nothing: RosterError (accounts that share an e-mail) writes nothing, and a dry run rolls back what it did.
    """
    with transaction.atomic():
        list(Course.objects.select_for_update().filter(pk=course.pk))  # one import or sign-up at a time per course
        changes = _roster_apply(course, roster, remove_missing)
        if dry_run:
            transaction.set_rollback(True)
    return changes


def _roster_apply(course: Course, roster: Roster, remove_missing: bool) -> RosterChanges:
    changes = RosterChanges(removed=remove_missing)
    members = [member for entry in roster.groups for member in entry.members]
    users, ambiguous = users_by_email({member.email for member in members})
    if ambiguous:
        raise RosterError([(m.line, _ambiguous(m.email, ambiguous[m.email])) for m in members if m.email in ambiguous])
    groups = {group.number: group for group in course.groups.all()}
    memberships = {
        (membership.group.number, membership.user_id): membership
        for membership in Membership.objects.filter(group__course=course).select_related("group", "user")
    }
    wanted = set()
    for entry in roster.groups:
        group = groups.get(entry.number)
        if group is None:
            group = Group.objects.create(course=course, number=entry.number, repo_url=entry.repo_url)
            changes.groups_created.append(entry.number)
        elif entry.repo_url and entry.repo_url != group.repo_url:
            changes.repos_changed.append((entry.number, group.repo_url, entry.repo_url))
            group.repo_url = entry.repo_url
            group.save(update_fields=["repo_url"])
        for member in entry.members:
            user = users.get(member.email)
            if user is None:
                user = users[member.email] = _user_create(member)
                changes.users_created.append(member.email)
            wanted.add((entry.number, user.pk))
            membership = memberships.get((entry.number, user.pk))
            if membership is None:
                Membership.objects.create(
                    user=user, group=group, study_number=member.study_number, github_username=member.github_username
                )
                changes.members_added.append((entry.number, member.email))
                continue
            if member.github_username and member.github_username != membership.github_username:
                changes.github_usernames_changed.append(
                    (entry.number, member.email, membership.github_username, member.github_username)
                )
                membership.github_username = member.github_username
                membership.save(update_fields=["github_username"])
            if member.study_number and member.study_number != membership.study_number:
                changes.study_numbers_changed.append(
                    (entry.number, member.email, membership.study_number, member.study_number)
                )
                membership.study_number = member.study_number
                membership.save(update_fields=["study_number"])
    missing = sorted(
        (membership for key, membership in memberships.items() if key not in wanted),
        key=lambda membership: (membership.group.number, _member_label(membership.user).lower()),
    )
    changes.missing = [(membership.group.number, _member_label(membership.user)) for membership in missing]
    if remove_missing and missing:
        Membership.objects.filter(pk__in=[membership.pk for membership in missing]).delete()
    return changes


def roster_rows(course: Course) -> list[list[str]]:
    """The course's roster as student-list rows (roster.LIST_HEADER), one per member, by group then e-mail; a group
    without members is a row with empty student cells. Two queries. Importing the rows back changes nothing."""
    memberships = Prefetch("memberships", queryset=Membership.objects.select_related("user"))
    rows = []
    for group in course.groups.order_by("number").prefetch_related(memberships):
        members = sorted(group.memberships.all(), key=lambda membership: _member_label(membership.user).lower())
        for membership in members:
            user = membership.user
            rows.append(
                [
                    str(group.number),
                    membership.study_number,
                    user.get_full_name(),
                    _member_label(user),
                    group.repo_url,
                    membership.github_username,
                ]
            )
        if not members:
            rows.append([str(group.number), "", "", "", group.repo_url, ""])
    return rows
