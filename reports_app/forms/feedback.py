"""Feedback's forms: a regrade request's reason, a grader's answer to one, an instructor's release."""

from django import forms

from ..services.feedback import REASON_EMPTY, REASON_MAX, RESPONSE_EMPTY, reason_problem

CONFIRM_RELEASE = "Tick the box to confirm: every member of a group with a released grade gets an e-mail."
MAX_VERSION = 2**31 - 1


class RegradeRequestForm(forms.Form):
    reason = forms.CharField(
        label="Why should this grade change?",
        error_messages={"required": REASON_EMPTY},
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": REASON_MAX}),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].replace("\r\n", "\n")  # as the browser counted it for maxlength
        if problem := reason_problem(reason):
            raise forms.ValidationError(problem)
        return reason


class AnswerRegradeForm(forms.Form):
    response = forms.CharField(
        label="Response to the student", error_messages={"required": RESPONSE_EMPTY}, widget=forms.Textarea
    )
    adjustment = forms.CharField(label="New adjustment (empty: unchanged)", required=False, max_length=20)
    comment = forms.CharField(label="New comment (empty: unchanged)", required=False, widget=forms.Textarea)
    base_version = forms.IntegerField(min_value=0, max_value=MAX_VERSION, required=False, widget=forms.HiddenInput)


class ReleaseForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=MAX_VERSION, required=False)
    confirm = forms.BooleanField(
        label="I understand every member gets an e-mail", error_messages={"required": CONFIRM_RELEASE}
    )
