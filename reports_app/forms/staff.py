"""The staff dashboard's sort and filters, and the grading overview's filters, read from the query string."""

from django import forms

from ..models import Scrape

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


FILTER_CLASSES = {
    forms.CheckboxInput: "form-check-input",
    forms.Select: "form-select form-select-sm",
    forms.TextInput: "form-control form-control-sm",
}


class DashboardForm(forms.Form):
    """The dashboard's GET parameters. A bad value is named on the page and only that filter is left off."""

    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "group, name, e-mail or study number", "type": "search"}),
    )
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
    unanswered = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Not answered question",
        error_messages={"invalid_choice": "There is no question %(value)s in this course's template."},
    )
    late = forms.BooleanField(required=False, label="Late only")
    never_scraped = forms.BooleanField(required=False, label="Never scraped only")
    seen_late = forms.BooleanField(required=False, label="Dated before, seen after")
    no_commits = forms.BooleanField(required=False, label="A member with no commits")
    # set by the column headers' links, and kept when the filters are sent
    sort = forms.ChoiceField(required=False, choices=DASHBOARD_SORTS, label="Sort by", widget=forms.HiddenInput)

    def __init__(self, *args, numbers: tuple[int, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        questions = [("", "any"), *((n, f"Question {n}") for n in numbers)]
        self.fields["failing"].choices = self.fields["unanswered"].choices = questions
        for field in self.fields.values():  # one row of small fields (dashboard.html renders them; crispy is slow)
            for kind, classes in FILTER_CLASSES.items():
                if isinstance(field.widget, kind):
                    field.widget.attrs["class"] = classes

    def selection(self) -> dict:
        """Keyword arguments for `CourseOverview.select`, from the fields that are valid."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "sort": data.get("sort") or "group",
            "status": data.get("status") or "",
            "failing": data.get("failing"),
            "unanswered": data.get("unanswered"),
            "late": data.get("late", False),
            "never_scraped": data.get("never_scraped", False),
            "seen_late": data.get("seen_late", False),
            "no_commits": data.get("no_commits", False),
            "search": data.get("q") or "",
        }


# --- a grade, as the grading page sends it (autosave as JSON, or its Save button without JavaScript) ---------------

COMMENT_MAX = 20_000


class GradeForm(forms.Form):
    """A grade's fields; `items` are the question's rubric items (others are refused by name), `version` the grade's
    version the grader started from (0: not graded yet), `revision` the answer version they saw (empty: none)."""

    items = forms.ModelMultipleChoiceField(queryset=None, required=False)
    adjustment = forms.CharField(required=False, max_length=20, empty_value="0")
    comment = forms.CharField(required=False, max_length=COMMENT_MAX, strip=False)
    version = forms.IntegerField(min_value=0)
    revision = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, rubric, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = rubric
        self.fields["items"].error_messages["invalid_choice"] = "%(value)s is not an item of this question's rubric."


class GradingFilterForm(forms.Form):
    """The grading overview's filters (GET); each a checkbox, so no value is wrong."""

    mine = forms.BooleanField(required=False, label="Assigned to me")
    ungraded = forms.BooleanField(required=False, label="With an ungraded question")
    flagged = forms.BooleanField(required=False, label="Flagged (changed since graded, or a regrade request)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = FILTER_CLASSES[forms.CheckboxInput]

    def selection(self) -> dict[str, bool]:
        """Keyword arguments for `GradingOverview.select`."""
        self.is_valid()
        return {name: self.cleaned_data.get(name, False) for name in self.fields}
