"""A group signing itself up with its course's join code, and the invitations it mails to everyone it names: an
invited person joins only by accepting; an invited person without an account chooses a password when accepting."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Min
from django.utils import formats, timezone

from ..engine.roster import Member, split_name
from ..models import (
    Course,
    Group,
    Invitation,
    Membership,
)
from .roster import users_by_email


class SignupRefused(ValueError):
    """Why a group can't sign up: (what it is about: a member's e-mail, "repo_url" or None, message) pairs."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        self.problems = problems
        super().__init__(" ".join(message for _, message in problems))


class InvitationRefused(ValueError):
    """Why an invitation can't be accepted; said only to the person who has its link. Nothing was changed."""


SIGNUP_CLOSED = "The hand-in closed on {when}; ask the course staff to add your group."
SIGNUP_SIZE = "A group has {low} to {high} members; you entered {count}."
SIGNUP_REPO_TAKEN = "This repo is the repo of group {number} already."
SIGNUP_YOU_TAKEN = "You are already in group {number} of this course."
INVITATION_GONE = (
    "This invitation is not valid: it was accepted already, it expired, or the link is incomplete. "
    "Ask your course's teachers to add you to the group."
)
INVITATION_TAKEN = (
    "You are already in group {number} of {course}, so you were not added to group {invited}. "
    "If that is wrong, ask your course's teachers."
)
INVITATION_FULL = "Group {number} has {size} members already, the most a group of {course} may have."
INVITATION_SEVERAL = (
    "Several accounts have the e-mail {email}; ask your course's teachers to merge them, then open this link again."
)
INVITATION_LOG_IN = "This invitation is for {email}: log in with that account to accept it."


def course_for_join_code(code: str) -> Course | None:
    """The course whose join code this is, or None. Codes are compared in constant time; an empty one never matches."""
    code = code.strip()
    if not code:
        return None
    for course in Course.objects.taking_signups().order_by("pk"):
        if hmac.compare_digest(course.join_code.encode(), code.encode()):
            return course
    return None


def join_sizes() -> tuple[int, int]:
    """The smallest and the largest group size among the courses that take sign-ups (the defaults when none do)."""
    sizes = Course.objects.taking_signups().aggregate(low=Min("min_group_size"), high=Max("max_group_size"))
    return (
        sizes["low"] or Course._meta.get_field("min_group_size").default,
        sizes["high"] or Course._meta.get_field("max_group_size").default,
    )


def _repo_key(url: str) -> str:
    """Two ways of writing one repo compare equal: https://github.com/A/b.git/ == https://github.com/a/b."""
    return url.strip().rstrip("/").removesuffix(".git").lower()


@dataclass(frozen=True)
class Signup:
    group: Group
    joined: bool  # the logged-in submitter is a member already
    invited: list[tuple[Invitation, str]]  # each invitation with its link's token (only the token's hash is stored)


def _submitter_row(submitter: AbstractBaseUser | None, members: list[Member]) -> Member | None:
    """The row of `members` that names the logged-in submitter (by e-mail, or a user name that is one), if any."""
    if submitter is None:
        return None
    names = {value.lower() for value in (getattr(submitter, "email", ""), submitter.get_username()) if value}
    return next((member for member in members if member.email in names), None)


def _invitation_create(group: Group, member: Member, invited_by: AbstractBaseUser | None) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        group=group,
        email=member.email,
        name=member.name,
        study_number=member.study_number,
        github_username=member.github_username,
        token_hash=Invitation.hash_token(token),
        invited_by=invited_by,
    )
    return invitation, token


def signup_problems(
    *,
    course: Course,
    repo_url: str | None,
    members: list[Member],
    count: int | None = None,
    submitter: AbstractBaseUser | None = None,
) -> list[tuple[str | None, str]]:
    """What keeps this group from signing up to `course`, as SignupRefused.problems; [] when nothing does. Writes
    nothing. `count` is how many member rows were entered (len(members) unless some rows are not valid); a
    `repo_url` of None (not valid) is not compared with the other groups'. The join page calls it for a form with
    mistakes too, so that it shows every problem at once."""
    if course.deadline and timezone.now() >= course.deadline:
        when = formats.date_format(timezone.localtime(course.deadline), "DATETIME_FORMAT")
        return [(None, SIGNUP_CLOSED.format(when=when))]
    problems: list[tuple[str | None, str]] = []
    low, high, count = course.min_group_size, course.max_group_size, len(members) if count is None else count
    if not low <= count <= high:
        problems.append((None, SIGNUP_SIZE.format(low=low, high=high, count=count)))
    me = _submitter_row(submitter, members)
    if me is not None:
        mine = Membership.objects.filter(group__course=course, user=submitter).values_list("group__number")
        if taken := mine.first():
            problems.append((me.email, SIGNUP_YOU_TAKEN.format(number=taken[0])))
    if repo_url is not None:
        repos = course.groups.exclude(repo_url="").values_list("number", "repo_url").order_by("number")
        other = next((n for n, url in repos if _repo_key(url) == _repo_key(repo_url)), None)
        if other is not None:
            problems.append(("repo_url", SIGNUP_REPO_TAKEN.format(number=other)))
    return problems


def group_signup(
    *, course: Course, name: str, repo_url: str, members: list[Member], submitter: AbstractBaseUser | None = None
) -> Signup:
    """A group signs itself up: the group (next free number) and an invitation per member named; one transaction.

    Only the logged-in `submitter`, when a row names them, becomes a member at once (with the study number of that
    row). Everyone else is invited and joins by accepting (invitation_accept): a sign-up never makes anyone else a
    member, and nothing here depends on whether an address has an account or a group. Refused (SignupRefused,
    nothing written) for the problems of signup_problems: the hand-in is closed, the rows are outside the course's
    group sizes, the submitter is in a group of the course already, or another group of the course has the repo.
    `repo_url` was checked by repo_urls.check_url.
    """
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)  # numbers are handed out one at a time
        problems = signup_problems(course=course, repo_url=repo_url, members=members, submitter=submitter)
        if problems:
            raise SignupRefused(problems)
        number = (course.groups.aggregate(highest=Max("number"))["highest"] or 0) + 1
        group = Group.objects.create(course=course, number=number, name=name, repo_url=repo_url)
        me = _submitter_row(submitter, members)
        if me is not None:
            Membership.objects.create(
                user=submitter, group=group, study_number=me.study_number, github_username=me.github_username
            )
        invited = [_invitation_create(group, member, submitter) for member in members if member is not me]
    return Signup(group, me is not None, invited)


def invitation_find(token: str) -> Invitation | None:
    """The pending invitation of a link's token, or None (unknown, accepted already or expired)."""
    if not 20 <= len(token) <= 100:
        return None
    pending = Invitation.objects.pending().select_related("group__course")
    return pending.filter(token_hash=Invitation.hash_token(token)).first()


def invitation_account(invitation: Invitation) -> AbstractBaseUser | None:
    """The account of the invited address (named by it, else the one account with it as e-mail), or None.
    InvitationRefused when several accounts have it."""
    found, ambiguous = users_by_email({invitation.email})
    if ambiguous:
        raise InvitationRefused(INVITATION_SEVERAL.format(email=invitation.email))
    return found.get(invitation.email)


def invitation_new_account(invitation: Invitation) -> AbstractBaseUser:
    """The account accepting would make for an address without one (unsaved: for checking a password against it)."""
    first, last = split_name(invitation.name)
    return get_user_model()(username=invitation.email, email=invitation.email, first_name=first, last_name=last)


def invitation_accept(
    *, invitation: Invitation, user: AbstractBaseUser | None = None, password: str | None = None
) -> AbstractBaseUser:
    """The invited person joins the group, with the study number the sign-up gave (also when they were put in the
    group meanwhile without one); their account. One transaction: refused (InvitationRefused), nothing
    changes. Either `user` is logged in as the invited address's account, or `password` is chosen through the link
    for an address whose account has no password yet, or none (then the account is made, named by the address).

    Refused when the invitation is no longer pending, the person is in another group of the course by now (said to
    them only), or the group is full (members of the course's largest size already).
    """
    with transaction.atomic():
        # One sign-up or acceptance at a time per course, so that nobody ends up in two of its groups.
        course = Course.objects.select_for_update().get(pk=invitation.group.course_id)
        invitation = Invitation.objects.pending().select_for_update().filter(pk=invitation.pk).first()
        if invitation is None:
            raise InvitationRefused(INVITATION_GONE)
        account = invitation_account(invitation)
        if password is None:
            if user is None or account is None or account.pk != user.pk:
                raise InvitationRefused(INVITATION_LOG_IN.format(email=invitation.email))
        else:
            if account is not None and account.has_usable_password():
                raise InvitationRefused(INVITATION_LOG_IN.format(email=invitation.email))
            account = account or invitation_new_account(invitation)
            account.set_password(password)
            account.save()
        group = Group.objects.get(pk=invitation.group_id)
        taken = Membership.objects.filter(group__course=course, user=account).select_related("group").first()
        if taken is not None and taken.group_id != group.pk:
            raise InvitationRefused(
                INVITATION_TAKEN.format(number=taken.group.number, course=course.code, invited=group.number)
            )
        if taken is None:
            size = group.memberships.count()
            if size >= course.max_group_size:
                raise InvitationRefused(INVITATION_FULL.format(number=group.number, size=size, course=course.code))
            Membership.objects.create(
                user=account,
                group=group,
                study_number=invitation.study_number,
                github_username=invitation.github_username,
            )
        else:  # a member already, e.g. by a roster import: what the sign-up gave fills what is not known yet
            filled = [
                f for f in ("study_number", "github_username") if getattr(invitation, f) and not getattr(taken, f)
            ]
            for field in filled:
                setattr(taken, field, getattr(invitation, field))
            if filled:
                taken.save(update_fields=filled)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return account


def invitations_for(*, email: str) -> list[Invitation]:
    """The pending invitations of an address, e.g. to mail them again to someone who lost them."""
    pending = Invitation.objects.pending().select_related("group__course")
    return list(pending.filter(email=email.strip().lower()).order_by("pk"))


def invitation_renew(*, invitation: Invitation) -> str:
    """A new token for the invitation's link, to mail it again; the old link stops working."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = Invitation.hash_token(token)
    invitation.save(update_fields=["token_hash"])
    return token


def group_people(group: Group) -> tuple[list[AbstractBaseUser], list[Invitation]]:
    """A group's members (in the order they joined) and the people invited who have not accepted yet; two queries."""
    members = [m.user for m in group.memberships.select_related("user").order_by("pk")]
    return members, list(group.invitations.pending().order_by("email"))
