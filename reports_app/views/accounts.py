"""Accounts and sign-up: /join/ (a group signs itself up; everyone it names is invited by mail and joins by
accepting), invitations, logging in and password reset."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone

from .. import login_rate_limit
from ..forms.accounts import JoinForm, LoginForm, PasswordSetupForm
from ..models import Course, Invitation
from ..services.signup import (
    INVITATION_GONE,
    InvitationRefused,
    Signup,
    SignupRefused,
    course_for_join_code,
    group_signup,
    invitation_accept,
    invitation_account,
    invitation_find,
    invitation_new_account,
    invitation_renew,
    invitations_for,
    join_sizes,
    signup_problems,
)
from .access import form_refused, wants_json

logger = logging.getLogger(__name__)


# Self sign-up: a group that has its course's join code signs itself up; everyone it names is invited by mail, and
# joins by accepting (`invitation`). No answer says whether an address has an account or which group anyone is in.

JOIN_CODE_WRONG = "This join code is not valid. Check it with your course's teachers."
INVITATION_ACCEPTED = "You are now a member of group {number} of {course}."


def join(request: HttpRequest) -> HttpResponse:
    """Open to anyone (the code is the key); a logged-in user is filled in as the first member, and is the only one who
    becomes a member at once. Every sign-up whose code field is filled counts per client address, right code or
    wrong (login_rate_limit.py): past the limit the page answers 429 without checking the code. A form with mistakes
    is still checked against the course of its code, so that every problem is shown at once."""
    sizes = join_sizes()
    me = request.user
    initial = {"email_1": me.email, "name_1": me.get_full_name()} if me.is_authenticated else {}
    form = JoinForm(request.POST or None, max_members=sizes[1], initial=initial)
    if form.is_bound and (form.is_valid() or "code" in form.cleaned_data):
        now, address = timezone.now(), login_rate_limit.client_address(request)
        refusal = login_rate_limit.join_attempt_start(address=address, now=now)
        if refusal:
            form.add_error(None, refusal.message(now))
            response = render(request, "reports_app/join.html", {"form": form, "sizes": sizes}, status=429)
            response["Retry-After"] = str(refusal.seconds_left(now))
            return response
        course = course_for_join_code(form.cleaned_data["code"])
        if course is None:
            form.add_error("code", JOIN_CODE_WRONG)
        elif signup := _sign_up(form, course, me if me.is_authenticated else None):
            unmailed = [
                invitation.email
                for invitation, token in signup.invited
                if login_rate_limit.mail_allowed(recipient=invitation.email, address=address, now=now)
                and not _mail_invitation(request, invitation, token)
            ]
            invited = [invitation.email for invitation, _ in signup.invited]
            context = {"signup": signup, "group": signup.group, "invited": invited, "unmailed": unmailed}
            context["days"] = settings.INVITATION_DAYS
            return render(request, "reports_app/join.html", context)
    return render(request, "reports_app/join.html", {"form": form, "sizes": sizes})


def _sign_up(form: JoinForm, course: Course, submitter: AbstractBaseUser | None) -> Signup | None:
    """The group signed up by a valid form; or None, with every problem added to the form and nothing written (a
    form with mistakes is checked all the same, with what it has that is valid)."""
    if form.errors:
        problems = signup_problems(
            course=course,
            repo_url=form.cleaned_data.get("repo_url"),
            members=form.members(),
            count=form.entered_rows(),
            submitter=submitter,
        )
    else:
        try:
            return group_signup(
                course=course,
                name=form.cleaned_data["name"],
                repo_url=form.cleaned_data["repo_url"],
                members=form.members(),
                submitter=submitter,
            )
        except SignupRefused as refused:
            problems = refused.problems
    for about, message in problems:
        form.add_error(form.member_fields.get(about or "", about), message)
    return None


def _mail_invitation(request: HttpRequest, invitation: Invitation, token: str) -> bool:
    """Mail the invitation's link (the caller checked the mail limits); False when the mail server refused or could
    not be reached: the invitation stands, and "Forgot your password?" mails a new link later."""
    context = {
        "invitation": invitation,
        "group": invitation.group,
        "site_name": get_current_site(request).name,
        "link": request.build_absolute_uri(reverse("invitation", args=[token])),
    }
    subject = loader.render_to_string("reports_app/invitation_email_subject.txt", context)
    body = loader.render_to_string("reports_app/invitation_email.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [invitation.email])
    except (OSError, smtplib.SMTPException) as error:  # SMTPException is an OSError; named for the reader
        logger.warning("the invitation to %s could not be mailed: %s", invitation.email, error)
        return False
    return True


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link: GET shows what accepting does, POST accepts. The invited address's account accepts
    logged in; an address without an account, or whose account has no password yet, chooses its password here (the
    link reached its mailbox) and is logged in. Whatever refuses it is said here only, to whoever has the link."""
    found = invitation_find(token)
    if found is None:
        return render(request, "reports_app/invitation.html", {"refused": INVITATION_GONE}, status=404)
    context = {"invitation": found, "group": found.group}
    try:
        account = invitation_account(found)
    except InvitationRefused as refused:
        return render(request, "reports_app/invitation.html", context | {"refused": str(refused)}, status=409)
    logged_in = account is not None and account.pk == request.user.pk
    form = None
    if account is None or not (logged_in or account.has_usable_password()):
        form = SetPasswordForm(account or invitation_new_account(found), request.POST or None)
    elif not logged_in:
        return render(request, "reports_app/invitation.html", context | {"log_in": True})
    if request.method == "POST" and (form is None or form.is_valid()):
        password = form.cleaned_data["new_password1"] if form else None
        try:
            user = invitation_accept(invitation=found, user=request.user if logged_in else None, password=password)
        except InvitationRefused as refused:
            return render(request, "reports_app/invitation.html", context | {"refused": str(refused)}, status=409)
        if form is not None:
            auth_login(request, user)
            login_rate_limit.clear(username=user.get_username())
        messages.success(request, INVITATION_ACCEPTED.format(number=found.group.number, course=found.group.course.code))
        return redirect("home")
    return render(request, "reports_app/invitation.html", context | {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login page with LoginForm: a login refused for too many failures answers 429 and Retry-After."""

    form_class = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        if wants_json(self.request):  # the login an editor offers without leaving its page
            return JsonResponse({"authenticated": True, "csrf": get_token(self.request)})
        return response

    def form_invalid(self, form):
        response = form_refused(form) if wants_json(self.request) else super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "Forgot your password?", through PasswordSetupForm (accounts without a password yet get a link too);
    it also mails again the address's pending invitations, with new links. Every mail counts against the mail limits
    (login_rate_limit.mail_allowed), whether the address has an account or not; past them nothing is sent and the
    page answers the same, so it tells nothing about the address either way."""

    form_class = PasswordSetupForm

    def form_valid(self, form):
        email, address = form.cleaned_data["email"], login_rate_limit.client_address(self.request)
        if not login_rate_limit.mail_allowed(recipient=email, address=address):
            return redirect(self.get_success_url())
        for invitation in invitations_for(email=email):
            if login_rate_limit.mail_allowed(recipient=email, address=address):
                _mail_invitation(self.request, invitation, invitation_renew(invitation=invitation))
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's "choose a new password" page; the new password also lifts a lockout of the account's logins, as the
    lockout message promises."""

    def form_valid(self, form):
        response = super().form_valid(form)
        login_rate_limit.clear(username=form.user.get_username())
        return response
