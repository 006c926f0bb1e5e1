"""The student pages' forms: an answer (with its version, for conflict detection), a restore, a figure upload."""

from django import forms
from django.conf import settings

from ..engine import figures, parsing
from ..services.figures import IfExists

MAX_ANSWER_CHARS = 100_000
MAX_VERSION = 2**31 - 1  # the largest Answer.version the database stores (PostgreSQL's integer)
VERSION_REFUSED = (
    "This page sent a version number the site never gives, so your text was not saved. It is below: copy it, "
    "reload the page and save again."
)
VERSION_REFUSED_RESTORE = "Not restored: the page sent a version number the site never gives. Reload it and try again."


ANSWER_MARKER_ERROR = (
    "'Answer:' cannot appear inside an answer: the course checker cuts the whole report at every 'Answer:', so the "
    "check of every question after this one would break. Write it another way, e.g. 'Answer -'."
)


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


class DraftForm(AnswerForm):
    """An autosaved draft: kept as typed, even text a save refuses (the editor says why it cannot be saved)."""

    def clean_text(self) -> str:
        return clean_answer_text(self.cleaned_data["text"])


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
    replace = forms.ChoiceField(
        label="If a figure of that name exists",
        required=False,
        choices=[
            ("", "ask me"),
            ("yes", "replace it (the old file stays in its history)"),
            ("new", "keep both: upload this one under a new name"),
        ],
        widget=forms.RadioSelect,
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

    def if_exists(self) -> IfExists:
        return {"yes": IfExists.REPLACE, "new": IfExists.NEW_NAME}.get(self.cleaned_data["replace"], IfExists.ASK)
