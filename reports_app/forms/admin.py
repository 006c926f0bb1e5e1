import unicodedata
from datetime import datetime
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import login_rate_limit
from .engine import figures, parsing, roster
from .engine.repo_urls import RepoRefused, check_url
from .models import Checker, Question, ReportTemplate, Scrape
from .services.templates import template_check_sizes

MAX_ANSWER_CHARS = 100_000
MAX_VERSION = 2**31 - 1  # the largest Answer.version the database stores (PostgreSQL's integer)
VERSION_REFUSED = (
    "This page sent a version number the site never gives, so your text was not saved. It is below: copy it, "
    "reload the page and save again."
)
VERSION_REFUSED_RESTORE = "Not restored: the page sent a version number the site never gives. Reload it and try again."
DEADLINE_YEARS = (2000, 9000)
DEADLINE_OUT_OF_RANGE = f"Give a date between the years {DEADLINE_YEARS[0]} and {DEADLINE_YEARS[1]}."
RULE_TOO_LARGE = f"A rule may ask for at most {parsing.MAX_RULE_VALUE}."
ANSWER_MARKER_ERROR = (
    "'Answer:' cannot appear inside an answer: the course checker cuts the whole report at every 'Answer:', so the "
    "check of every question after this one would break. Write it another way, e.g. 'Answer -'."
)


def clean_repo_url(value: str) -> str:
    """A repo URL typed into a form, as repo_urls.check_url gives it (the one rule for repo URLs, also applied by the
    roster import and the scrape); a ValidationError with check_url's reason as a sentence otherwise."""
    try:
        return check_url(value, settings.SCRAPE_ALLOWED_URLS)
    except RepoRefused as refused:
        reason = str(refused)
        raise forms.ValidationError(f"{reason[0].upper()}{reason[1:]}.") from None


def check_deadline(value: datetime | None) -> datetime | None:
    """A deadline or extension far enough from year 1 and 9999 that dates computed from it never overflow."""
    if value is not None and not DEADLINE_YEARS[0] <= value.year <= DEADLINE_YEARS[1]:
        raise forms.ValidationError(DEADLINE_OUT_OF_RANGE)
    return value


class CourseAdminForm(forms.ModelForm):
    """The admin's course form (CourseAdmin gives the model and the fields)."""

    def clean_deadline(self) -> datetime | None:
        return check_deadline(self.cleaned_data["deadline"])


class GroupAdminForm(forms.ModelForm):
    """The admin's group form (GroupAdmin gives the model and the fields): an empty repo URL is allowed (the group has
    none yet), any other must pass the rule."""

    def clean_repo_url(self) -> str:
        url = self.cleaned_data["repo_url"].strip()
        return clean_repo_url(url) if url else ""

    def clean_extension(self) -> datetime | None:
        return check_deadline(self.cleaned_data["extension"])


def clean_answer_text(text: str) -> str:
    """Browser text -> the answer as stored: LF line ends, no blank lines around it."""
    return parsing.normalize_newlines(text).strip("\n").rstrip()


class AnswerForm(forms.Form):
    text = forms.CharField(
        label="Answer (markdown)",
        required=False,
        strip=False,
        max_length=MAX_ANSWER_CHARS,
        widget=forms.Textarea(attrs={"rows": 16, "class": "answer-text", "spellcheck": "true"}),
    )
    version = forms.IntegerField(min_value=0, max_value=MAX_VERSION, widget=forms.HiddenInput)

    def clean_text(self) -> str:
        text = clean_answer_text(self.cleaned_data["text"])
        if parsing.ANSWER_MARKER in text:
            raise forms.ValidationError(ANSWER_MARKER_ERROR)
        return text

    def clean(self):
        cleaned = super().clean()
        if self.errors.pop("version", None):  # a hidden field's own error is never shown: say it above the editor
            self.add_error(None, VERSION_REFUSED)
        return cleaned


class RestoreForm(forms.Form):
    """The version a history page showed when Restore was pressed."""

    version = forms.IntegerField(min_value=0, max_value=MAX_VERSION)


class FigureForm(forms.Form):
    file = forms.FileField(label="Image (PNG or JPEG)", widget=forms.FileInput(attrs={"accept": ".png,.jpg,.jpeg"}))
    name = forms.CharField(
        label="File name (optional)",
        required=False,
        max_length=figures.MAX_NAME_LENGTH,
        help_text="Letters, digits, - and _; the uploaded file's name when empty.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.FIGURE_MAX_BYTES:  # refuse before reading a huge upload into memory
            raise forms.ValidationError(
                f"The file is {figures.human_size(upload.size)}; "
                f"a figure may be at most {figures.human_size(settings.FIGURE_MAX_BYTES)}."
            )
        return upload  # its content is judged by figure_add

    def wanted_name(self) -> str:
        return self.cleaned_data["name"] or self.cleaned_data["file"].name


# --- admin: loading a template (ReportTemplateAdmin.load_view) and editing its rules (QuestionInline) -------------

TEMPLATE_TOKEN_SALT = "reports_app.load-template"
TEMPLATE_TOKEN_MAX_AGE = 24 * 3600  # seconds a preview may wait before its Save
TEMPLATE_TOKEN_REFUSED = (
    "The template text sent back with Save was altered or is more than a day old, so it was not loaded. "
    "Upload the file again."
)


class TemplateLoadForm(forms.Form):
    """Step 1 posts the file; the preview posts its text back in `source`, signed, so what is saved is what was shown.

    `cleaned_data` then holds `text`, `filename`, `parsed` (the ParsedTemplate) and `name` (the file name without
    `.md` when left empty).
    """

    file = forms.FileField(
        label="Template file (.md)", required=False, widget=forms.ClearableFileInput(attrs={"accept": ".md"})
    )
    source = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(
        max_length=100, required=False, help_text="A name for this version; empty: the file name without .md."
    )
    checker = forms.ChoiceField(
        choices=[("", "detect from the file"), *Checker.choices],
        required=False,
        help_text="Which generation of the course's check script applies.",
    )
    compare_to = forms.ModelChoiceField(
        queryset=ReportTemplate.objects.order_by("-id"), required=False, empty_label="(none)", label="Compare with"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and upload.size > settings.REPORT_MAX_BYTES:  # refuse before reading a huge upload into memory
            raise forms.ValidationError(
                f"The file is {figures.human_size(upload.size)}; "
                f"a template may be at most {figures.human_size(settings.REPORT_MAX_BYTES)}."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        upload, token = cleaned.get("file"), cleaned.get("source")
        if "file" in self.errors:
            return cleaned
        if upload:
            try:
                text = parsing.decode_text(upload.read(), what="file")
            except ValueError as e:
                raise forms.ValidationError({"file": f"Not loaded: {e}."}) from None
            filename = upload.name
        elif token:
            try:
                payload = signing.loads(token, salt=TEMPLATE_TOKEN_SALT, max_age=TEMPLATE_TOKEN_MAX_AGE)
            except signing.BadSignature:
                raise forms.ValidationError(TEMPLATE_TOKEN_REFUSED) from None
            text, filename = payload["text"], payload["filename"]
        else:
            raise forms.ValidationError({"file": "Choose the template's markdown file."})
        try:
            cleaned["parsed"] = parsing.parse_template(text)
            template_check_sizes(cleaned["parsed"], text)
        except parsing.TemplateError as e:
            raise forms.ValidationError(f"{filename} is not a usable report template: {e}") from None
        cleaned["text"], cleaned["filename"] = text, filename
        cleaned["name"] = cleaned.get("name") or PurePath(filename).name.removesuffix(".md")[:100]
        return cleaned

    def token(self) -> str:
        """The text and file name, signed, for the preview to post back with Save."""
        payload = {"text": self.cleaned_data["text"], "filename": self.cleaned_data["filename"]}
        return signing.dumps(payload, salt=TEMPLATE_TOKEN_SALT, compress=True)


class TemplateCompareForm(forms.Form):
    old = forms.ModelChoiceField(queryset=ReportTemplate.objects.order_by("id"), label="Old version")
    new = forms.ModelChoiceField(queryset=ReportTemplate.objects.order_by("id"), label="New version")


def _rule_field() -> forms.IntegerField:
    return forms.IntegerField(
        required=False, min_value=0, max_value=parsing.MAX_RULE_VALUE, error_messages={"max_value": RULE_TOO_LARGE}
    )


class QuestionRulesForm(forms.ModelForm):
    """A question's word and image ranges: both ends or neither (not checked), the minimum at most the maximum, none
    above parsing.MAX_RULE_VALUE (as a loaded template's)."""

    min_words = _rule_field()
    max_words = _rule_field()
    min_images = _rule_field()
    max_images = _rule_field()

    class Meta:
        model = Question
        fields = ["min_words", "max_words", "min_images", "max_images"]

    def clean(self):
        cleaned = super().clean()
        for what in ("words", "images"):
            low, high = f"min_{what}", f"max_{what}"
            if low in self.errors or high in self.errors:
                continue
            if (cleaned.get(low) is None) != (cleaned.get(high) is None):
                self.add_error(
                    low if cleaned.get(low) is None else high,
                    f"Give both a minimum and a maximum number of {what}, or neither (then {what} are not checked).",
                )
            elif cleaned.get(low) is not None and cleaned[low] > cleaned[high]:
                self.add_error(
                    low, f"The minimum number of {what} ({cleaned[low]}) is more than the maximum ({cleaned[high]})."
                )
        return cleaned


# --- the staff dashboard's sort and filters, read from the query string --------------------------------------------

DASHBOARD_SORTS = [
    ("group", "group number"),
    ("-group", "group number, descending"),
    ("passed", "questions passed, fewest first"),
    ("-passed", "questions passed, most first"),
    ("commit", "last commit, oldest first"),
    ("-commit", "last commit, newest first"),
    ("status", "scrape status"),
    ("-status", "scrape status, descending"),
]


class DashboardForm(forms.Form):
    """The dashboard's GET parameters. A bad value is named on the page and only that filter is left off."""

    q = forms.CharField(required=False, max_length=100, label="Group or member")
    status = forms.ChoiceField(
        required=False, choices=[("", "any"), *Scrape.Status.choices, ("none", "not scraped")], label="Scrape status"
    )
    failing = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Failing question",
        error_messages={"invalid_choice": "There is no question %(value)s in this course's template."},
    )
    late = forms.BooleanField(required=False, label="Late only")
    never_scraped = forms.BooleanField(required=False, label="Never scraped only")
    sort = forms.ChoiceField(required=False, choices=DASHBOARD_SORTS, label="Sort by")

    def __init__(self, *args, numbers: tuple[int, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["failing"].choices = [("", "any"), *((n, f"Question {n}") for n in numbers)]

    def selection(self) -> dict:
        """Keyword arguments for `CourseOverview.select`, from the fields that are valid."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "sort": data.get("sort") or "group",
            "status": data.get("status") or "",
            "failing": data.get("failing"),
            "late": data.get("late", False),
            "never_scraped": data.get("never_scraped", False),
            "search": data.get("q") or "",
        }


# --- the roster (CourseAdmin.import_roster) and self sign-up (views.join) -----------------------------------------

ROSTER_SALT = "reports_app.roster"
ROSTER_TAMPERED = "The roster sent back with Apply was altered, so nothing was imported. Upload the file again."
JOIN_EMAIL_MISSING = "Enter this member's e-mail address."
JOIN_NAME_MISSING = "Enter this member's name."


class RosterUploadForm(forms.Form):
    file = forms.FileField(label="Roster (CSV)", widget=forms.FileInput(attrs={"accept": ".csv,.txt"}))
    remove_missing = forms.BooleanField(
        required=False, label="Remove members who are not in the file (otherwise they are only listed)"
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > roster.MAX_BYTES:  # refuse before reading a huge upload into memory
            raise forms.ValidationError(
                f"The file is {figures.human_size(upload.size)}; "
                f"a roster may be at most {figures.human_size(roster.MAX_BYTES)}."
            )
        return upload.read()


class RosterApplyForm(forms.Form):
    """The previewed file posted back with Apply, signed together with its course and options, so that Apply imports
    exactly what the preview showed, into that course. `cleaned_data["roster"]` is the payload of `sign`."""

    roster = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, course_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.course_id = course_id

    @staticmethod
    def sign(*, course_id: int, text: str, remove_missing: bool) -> str:
        payload = {"course": course_id, "text": text, "remove_missing": remove_missing}
        return signing.dumps(payload, salt=ROSTER_SALT, compress=True)

    def clean_roster(self) -> dict:
        try:
            payload = signing.loads(self.cleaned_data["roster"], salt=ROSTER_SALT)
        except signing.BadSignature:
            raise forms.ValidationError(ROSTER_TAMPERED) from None
        if payload.get("course") != self.course_id:
            raise forms.ValidationError(ROSTER_TAMPERED)
        return payload


class JoinForm(forms.Form):
    """A group signs itself up. Members are rows of `email_<i>` and `name_<i>`, as many as the largest group may
    have; empty rows are skipped. The course, found by the code, decides how many it needs (group_signup)."""

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

    def clean_repo_url(self) -> str:
        return clean_repo_url(self.cleaned_data["repo_url"])

    def clean(self):
        cleaned = super().clean()
        self.member_fields = {}
        for i in range(1, self.max_members + 1):
            if f"email_{i}" in self.errors or f"name_{i}" in self.errors:
                continue
            email = cleaned.get(f"email_{i}", "").lower()
            name = " ".join(cleaned.get(f"name_{i}", "").split())
            cleaned[f"name_{i}"] = name
            if not email:
                if name:
                    self.add_error(f"email_{i}", JOIN_EMAIL_MISSING)
            elif email in self.member_fields:
                self.add_error(f"email_{i}", f"{email} is entered twice.")
            else:
                self.member_fields[email] = f"email_{i}"
                if not name:
                    self.add_error(f"name_{i}", JOIN_NAME_MISSING)
        return cleaned

    def members(self) -> list[roster.Member]:
        return [
            roster.Member(email=email, name=self.cleaned_data[field.replace("email_", "name_")])
            for email, field in self.member_fields.items()
        ]

    def member_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"email_{i}"], self[f"name_{i}"]) for i in range(1, self.max_members + 1)]


class PasswordSetupForm(PasswordResetForm):
    """Django's password reset, which also reaches accounts without a usable password yet (made by a roster import or
    a sign-up): their owners choose their first password with the same link. Django's own form skips them."""

    def get_users(self, email: str):
        model = get_user_model()
        field = model.get_email_field_name()
        users = model._default_manager.filter(**{f"{field}__iexact": email, "is_active": True})
        wanted = unicodedata.normalize("NFKC", email).casefold()
        return (user for user in users if unicodedata.normalize("NFKC", getattr(user, field)).casefold() == wanted)


class LoginLimitMixin:
    """For a login form: refuse for a while after too many failed logins (login_rate_limit.py). A refused attempt
    checks no password; `retry_after` then holds the seconds until the lockout ends."""

    retry_after: int | None = None

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


class AdminLoginForm(LoginLimitMixin, AdminAuthenticationForm):
    """The admin's login form, counting in the same counters as the site's."""
