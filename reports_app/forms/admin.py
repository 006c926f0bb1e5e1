"""The admin's forms: courses and groups (deadlines, repo URLs), loading and comparing templates and editing their
rules, importing a roster, and the admin's login."""

from datetime import datetime
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core import signing
from django.utils import formats, timezone

from ..engine import figures, parsing, roster
from ..models import Checker, Question, ReportTemplate
from ..services.templates import template_check_sizes
from .accounts import GITHUB_USERNAME_INVALID, LoginLimitMixin, clean_repo_url

DEADLINE_YEARS = (2000, 9000)
DEADLINE_OUT_OF_RANGE = f"Give a date between the years {DEADLINE_YEARS[0]} and {DEADLINE_YEARS[1]}."
RULE_TOO_LARGE = f"A rule may ask for at most {parsing.MAX_RULE_VALUE}."


def check_deadline(value: datetime | None) -> datetime | None:
    """A deadline or extension far enough from year 1 and 9999 that dates computed from it never overflow."""
    if value is not None and not DEADLINE_YEARS[0] <= value.year <= DEADLINE_YEARS[1]:
        raise forms.ValidationError(DEADLINE_OUT_OF_RANGE)
    return value


TEMPLATE_HELP = (
    "The version new reports start on. Reports started already stay on theirs until you move them: after saving, "
    "the page offers to, with a preview of where each answer goes."
)
EXTENSION_NOT_LATER = (
    "An extension must end after the course deadline ({deadline}): this one would shorten the group's time. "
    "Leave it empty to keep the course deadline."
)
EXTENSION_WITHOUT_DEADLINE = (
    "The course {course} has no deadline, so an extension would close this group's hand-in while every other group's "
    "stays open. Set the course's deadline first, or leave this empty."
)
DEADLINE_PAST_EXTENSIONS = (
    "The extension of {groups} ends on or before this deadline, so it would shorten that group's time. "
    "Move or clear the extension first (on the group's page)."
)
DEADLINE_CLEARED_WITH_EXTENSIONS = (
    "{groups} {have} an extension, which would then close the hand-in while every other group's stays open. "
    "Clear the extension first (on the group's page), or keep a deadline."
)


def with_time_zone(form: forms.ModelForm, *names: str) -> None:
    """Date fields say in which time zone they are read, e.g. "Deadline (Europe/Copenhagen)"."""
    zone = timezone.get_current_timezone_name()
    for name in names:
        if name in form.fields:
            form.fields[name].label = f"{form.fields[name].label} ({zone})"


def local(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def group_names(numbers: list[int]) -> str:
    """'group 3', 'groups 3 and 7', 'groups 3, 7 and 9'."""
    listed = [str(n) for n in numbers]
    words = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"group{'s' if len(listed) > 1 else ''} {words}"


class CourseAdminForm(forms.ModelForm):
    """The admin's course form (CourseAdmin gives the model and the fields). A deadline may not end a group's
    extension early: GroupAdminForm's rule, from the course's side."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with_time_zone(self, "deadline", "regrades_until")
        if "template" in self.fields:
            self.fields["template"].help_text = TEMPLATE_HELP

    def clean_deadline(self) -> datetime | None:
        deadline = check_deadline(self.cleaned_data["deadline"])
        if self.instance.pk is None:
            return deadline
        extended = self.instance.groups.exclude(extension=None).order_by("number")
        if deadline is None:
            numbers = list(extended.values_list("number", flat=True))
            if numbers:
                have = "has" if len(numbers) == 1 else "have"
                raise forms.ValidationError(
                    DEADLINE_CLEARED_WITH_EXTENSIONS.format(groups=group_names(numbers).capitalize(), have=have)
                )
            return deadline
        numbers = list(extended.filter(extension__lte=deadline).values_list("number", flat=True))
        if numbers:
            raise forms.ValidationError(DEADLINE_PAST_EXTENSIONS.format(groups=group_names(numbers)))
        return deadline


class MembershipAdminForm(forms.ModelForm):
    """A member on the admin's group page: a GitHub user name, when given, follows GitHub's rule."""

    def clean_github_username(self) -> str:
        value = self.cleaned_data["github_username"].strip()
        if value and not roster.valid_github_username(value):
            raise forms.ValidationError(GITHUB_USERNAME_INVALID)
        return value


class GroupAdminForm(forms.ModelForm):
    """The admin's group form (GroupAdmin gives the model and the fields): an empty repo URL is allowed (the group has
    none yet), any other must pass the rule; an extension ends after the course deadline (the only place one is set)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with_time_zone(self, "extension")

    def clean_repo_url(self) -> str:
        url = self.cleaned_data["repo_url"].strip()
        return clean_repo_url(url) if url else ""

    def clean_extension(self) -> datetime | None:
        return check_deadline(self.cleaned_data["extension"])

    def clean(self):
        cleaned = super().clean()
        extension = cleaned.get("extension")
        if "course" in self.fields:
            course = cleaned.get("course")  # None when the course field has its own error
        else:
            course = self.instance.course if self.instance.course_id else None
        if extension is None or course is None:
            return cleaned
        if course.deadline is None:
            self.add_error("extension", EXTENSION_WITHOUT_DEADLINE.format(course=course))
        elif extension <= course.deadline:
            self.add_error("extension", EXTENSION_NOT_LATER.format(deadline=local(course.deadline)))
        return cleaned


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


MOVE_TARGET_CHANGED = (
    "The course's template changed since this preview was shown, so nothing was moved. Here is the preview for the "
    "template it has now."
)


class MoveReportsForm(forms.Form):
    """Apply a move previewed on CourseAdmin.move_reports: the template the preview showed, which must still be the
    course's, so that what is applied is what was shown."""

    target = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, course_template_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.course_template_id = course_template_id

    def clean_target(self) -> int:
        if self.cleaned_data["target"] != self.course_template_id:
            raise forms.ValidationError(MOVE_TARGET_CHANGED)
        return self.cleaned_data["target"]


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


# --- the roster (CourseAdmin.import_roster) -----------------------------------------------------------------------

ROSTER_SALT = "reports_app.roster"
ROSTER_TAMPERED = "The roster sent back with Apply was altered, so nothing was imported. Upload the file again."


class RosterUploadForm(forms.Form):
    file = forms.FileField(label="Roster (CSV)", widget=forms.FileInput(attrs={"accept": ".csv,.txt"}))
    remove_missing = forms.BooleanField(
        required=False, label="Remove members who are not in the file (otherwise they are only listed)"
    )
    invite = forms.BooleanField(
        required=False,
        initial=True,
        label="Mail each new account an invitation with a link to choose its password",
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
    def sign(*, course_id: int, text: str, remove_missing: bool, invite: bool = False) -> str:
        payload = {"course": course_id, "text": text, "remove_missing": remove_missing, "invite": invite}
        return signing.dumps(payload, salt=ROSTER_SALT, compress=True)

    def clean_roster(self) -> dict:
        try:
            payload = signing.loads(self.cleaned_data["roster"], salt=ROSTER_SALT)
        except signing.BadSignature:
            raise forms.ValidationError(ROSTER_TAMPERED) from None
        if payload.get("course") != self.course_id:
            raise forms.ValidationError(ROSTER_TAMPERED)
        return payload


# --- graders (CourseAdmin.assign_graders) --------------------------------------------------------------------------

GRADERS_SALT = "reports_app.graders"
GRADERS_TAMPERED = "The assignment sent back with Apply was altered, so nothing was assigned. Start again."


class GradersUploadForm(forms.Form):
    file = forms.FileField(label="Graders (CSV: group,ta_email)", widget=forms.FileInput(attrs={"accept": ".csv,.txt"}))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > roster.MAX_BYTES:  # refuse before reading a huge upload into memory
            raise forms.ValidationError(
                f"The file is {figures.human_size(upload.size)}; "
                f"a list of graders may be at most {figures.human_size(roster.MAX_BYTES)}."
            )
        return upload.read()


class GradersApplyForm(forms.Form):
    """What the preview showed (a file's text, or a spread), signed with its course, posted back with Apply."""

    graders = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, course_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.course_id = course_id

    @staticmethod
    def sign(*, course_id: int, text: str = "", spread: bool = False) -> str:
        payload = {"course": course_id, "text": text, "spread": spread}
        return signing.dumps(payload, salt=GRADERS_SALT, compress=True)

    def clean_graders(self) -> dict:
        try:
            payload = signing.loads(self.cleaned_data["graders"], salt=GRADERS_SALT)
        except signing.BadSignature:
            raise forms.ValidationError(GRADERS_TAMPERED) from None
        if payload.get("course") != self.course_id:
            raise forms.ValidationError(GRADERS_TAMPERED)
        return {"text": payload.get("text", ""), "spread": bool(payload.get("spread"))}


class AdminLoginForm(LoginLimitMixin, AdminAuthenticationForm):
    """The admin's login form, counting in the same counters as the site's."""
