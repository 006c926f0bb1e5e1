"""Accounts and sign-up: /join/ (its repo URL by the one rule), password reset for accounts without a password
yet, and the login, counted against the login limits."""

import unicodedata

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from .. import login_rate_limit
from ..engine import roster
from ..engine.repo_urls import RepoRefused, check_url


def clean_repo_url(value: str) -> str:
    """A repo URL typed into a form, as repo_urls.check_url gives it (the one rule for repo URLs, also applied by the
    roster import and the scrape); a ValidationError with check_url's reason as a sentence otherwise."""
    try:
        return check_url(value, settings.SCRAPE_ALLOWED_URLS)
    except RepoRefused as refused:
        reason = str(refused)
        raise forms.ValidationError(f"{reason[0].upper()}{reason[1:]}.") from None


JOIN_EMAIL_MISSING = "Enter this member's e-mail address."
JOIN_NAME_MISSING = "Enter this member's name."
JOIN_STUDY_NUMBER_MISSING = "Enter this member's study number."
JOIN_TWICE = "{value} is entered twice."
GITHUB_USERNAME_INVALID = (
    "A GitHub user name has 1 to 39 letters, digits and single hyphens, and does not start or end with a hyphen."
)
MEMBER_FIELDS = ("email", "name", "study_number", "github_username")


class JoinForm(forms.Form):
    """A group signs itself up. Members are rows of `email_<i>`, `name_<i>`, `study_number_<i>` and an optional
    `github_username_<i>`, as many as the largest group may have; empty rows are skipped, and a row with anything in
    it needs the first three. The course, found
    by the code, decides how many it needs (signup_problems)."""

    code = forms.CharField(label="Join code", max_length=100, help_text="Your course's teachers give it to you.")
    name = forms.CharField(label="Group name (optional)", required=False, max_length=200)
    repo_url = forms.CharField(
        label="Repository URL", max_length=roster.MAX_REPO_URL, help_text="e.g. https://github.com/owner/name"
    )

    def __init__(self, *args, max_members: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_members = max_members
        self.member_fields: dict[str, str] = {}  # e-mail -> its field, filled by clean()
        for i in range(1, max_members + 1):
            self.fields[f"email_{i}"] = forms.EmailField(
                label=f"Member {i}: e-mail", required=False, max_length=roster.MAX_EMAIL
            )
            self.fields[f"name_{i}"] = forms.CharField(
                label=f"Member {i}: name", required=False, max_length=roster.MAX_NAME
            )
            self.fields[f"study_number_{i}"] = forms.CharField(
                label=f"Member {i}: study number", required=False, max_length=roster.MAX_STUDY_NUMBER
            )
            self.fields[f"github_username_{i}"] = forms.CharField(
                label=f"Member {i}: GitHub user name (optional)",
                required=False,
                max_length=roster.MAX_GITHUB_USERNAME,
                help_text="Their commits then count as theirs." if i == 1 else "",
                error_messages={"max_length": GITHUB_USERNAME_INVALID},
            )

    def clean_repo_url(self) -> str:
        return clean_repo_url(self.cleaned_data["repo_url"])

    def clean(self):
        cleaned = super().clean()
        self.member_fields = {}
        study_numbers: set[str] = set()
        for i in range(1, self.max_members + 1):
            if any(f"{field}_{i}" in self.errors for field in MEMBER_FIELDS):
                continue
            email = cleaned.get(f"email_{i}", "").lower()
            name = cleaned[f"name_{i}"] = " ".join(cleaned.get(f"name_{i}", "").split())
            study_number = cleaned[f"study_number_{i}"] = cleaned.get(f"study_number_{i}", "").strip()
            github = cleaned[f"github_username_{i}"] = cleaned.get(f"github_username_{i}", "").strip()
            if not (email or name or study_number or github):
                continue
            if github and not roster.valid_github_username(github):
                self.add_error(f"github_username_{i}", GITHUB_USERNAME_INVALID)
            for field, value, missing in (
                ("email", email, JOIN_EMAIL_MISSING),
                ("name", name, JOIN_NAME_MISSING),
                ("study_number", study_number, JOIN_STUDY_NUMBER_MISSING),
            ):
                if not value:
                    self.add_error(f"{field}_{i}", missing)
            if study_number and study_number.lower() in study_numbers:
                self.add_error(f"study_number_{i}", JOIN_TWICE.format(value=study_number))
            study_numbers.add(study_number.lower())
            if email in self.member_fields:
                self.add_error(f"email_{i}", JOIN_TWICE.format(value=email))
            elif email:
                self.member_fields[email] = f"email_{i}"
        return cleaned

    def entered_rows(self) -> int:
        """How many member rows have anything in them, valid or not: the group's size as the form gives it."""
        return sum(
            any(str(self.data.get(self.add_prefix(f"{field}_{i}"), "")).strip() for field in MEMBER_FIELDS)
            for i in range(1, self.max_members + 1)
        )

    def members(self) -> list[roster.Member]:
        """The member rows whose e-mail address is valid and not entered twice (every row, on a valid form)."""
        return [
            roster.Member(
                email=email,
                name=self.cleaned_data.get(field.replace("email_", "name_"), ""),
                study_number=self.cleaned_data.get(field.replace("email_", "study_number_"), ""),
                github_username=self.cleaned_data.get(field.replace("email_", "github_username_"), ""),
            )
            for email, field in self.member_fields.items()
        ]

    def member_rows(self) -> list[tuple[forms.BoundField, ...]]:
        return [tuple(self[f"{field}_{i}"] for field in MEMBER_FIELDS) for i in range(1, self.max_members + 1)]


class PasswordSetupForm(PasswordResetForm):
    """Django's password reset, which also reaches accounts without a usable password yet (made by a roster import or
    a sign-up): their owners choose their first password with the same link. Django's own form skips them."""

    def get_users(self, email: str):
        model = get_user_model()
        field = model.get_email_field_name()
        users = model._default_manager.filter(**{f"{field}__iexact": email, "is_active": True})
        wanted = unicodedata.normalize("NFKC", email).casefold()
        return (user for user in users if unicodedata.normalize("NFKC", getattr(user, field)).casefold() == wanted)


LOGIN_USERNAME_LABEL = "E-mail or user name"


class LoginLimitMixin:
    """For a login form: refuse for a while after too many failed logins (login_rate_limit.py). A refused attempt
    checks no password; `retry_after` then holds the seconds until the lockout ends. The user name field says that
    an e-mail address works too (reports_app.auth)."""

    retry_after: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = LOGIN_USERNAME_LABEL

    def get_invalid_login_error(self) -> ValidationError:
        """Django's message, naming the field as the form does: "Please enter a correct e-mail or user name..."."""
        params = {"username": LOGIN_USERNAME_LABEL.lower()}
        return ValidationError(self.error_messages["invalid_login"], code="invalid_login", params=params)

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            now = timezone.now()
            address = login_rate_limit.client_address(self.request)
            refusal = login_rate_limit.attempt_start(username=username, address=address, now=now)
            if refusal:
                self.retry_after = refusal.seconds_left(now)
                raise ValidationError(refusal.message(now), code="too_many_failures")
        return super().clean()

    def confirm_login_allowed(self, user):
        """Called once the password is right."""
        login_rate_limit.attempt_succeeded(
            username=self.cleaned_data["username"], address=login_rate_limit.client_address(self.request)
        )
        super().confirm_login_allowed(user)


class LoginForm(LoginLimitMixin, AuthenticationForm):
    pass
