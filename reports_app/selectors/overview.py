"""The staff dashboard and the export for grading: every group of a course with its check, in six queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from ..engine import checks
from ..models import (
    Answer,
    ChecklistMark,
    Course,
    Group,
    Invitation,
    Membership,
    Question,
    Report,
    ReportTemplate,
    Scrape,
)
from ..services.checking import check_markdown
from .contributions import Contributions, group_contributions
from .graded import with_seen_late


class Verdict(StrEnum):
    """A question's verdict on the dashboard and in the export."""

    PASS = "pass"
    WORDS = "words"  # fails its word range
    IMAGES = "images"  # words fine, fails its image range
    MISSING = "missing"  # not answered: nothing written, the template's placeholder, or no report at all
    STOPS = "stops"  # the course checker stops on the whole file, so no question passes

    @property
    def letter(self) -> str:
        """A dashboard cell and the CSV files: P, W, I, M or S (a cell's colour says the same, its title says why)."""
        return self.value[0].upper()


@dataclass(frozen=True)
class QuestionVerdict:
    number: int
    verdict: Verdict
    detail: str  # the course checker's messages, or what passed, in words
    passes: bool = False  # the course checker passes it (never when it stops on the file): what `passed` counts
    answered: bool = False  # something other than the template's placeholder is written


def question_verdict(result: checks.QuestionResult, answered: bool = True) -> Verdict:
    """The verdict of one question in a file the course checker reads to the end.

    An answer not written (or still the placeholder) is missing, even where the checker passes it (no minimum): it
    still counts in the pass count, which is the checker's. One with nothing counted is missing rather than too short.
    """
    if not answered:
        return Verdict.MISSING
    if result.passed:
        return Verdict.PASS
    if result.words is None or (result.words == 0 and result.images == 0):
        return Verdict.MISSING
    return Verdict.IMAGES if result.words_ok else Verdict.WORDS


def _counts(result: checks.QuestionResult) -> str:
    text = f"words {result.words}"
    if result.rule.words:
        text += f" of {result.rule.words[0]}-{result.rule.words[1]}"
    if result.rule.images:
        text += f", images {result.images} of {result.rule.images[0]}-{result.rule.images[1]}"
    return text


NOT_ANSWERED = "Question {number} is not answered; the course checker passes it: {counts}"
PLACEHOLDER_LEFT = "Question {number} still holds the template's placeholder. {checker}"


# The verdicts made from each check result: check_markdown gives the same result object for a README it checked
# before, so a view of 150 unchanged READMEs does not make 4,650 verdicts again. Keyed by the result's id, and the
# entry holds the result, so that no other object can take that id while the entry lives.
_made: dict[tuple, tuple[checks.CheckResult, tuple[QuestionVerdict, ...]]] = {}
MADE_MAX = 4096


def _question_verdicts(
    result: checks.CheckResult, numbers: tuple[int, ...], answered: set[int], placeholders: set[int]
) -> tuple[QuestionVerdict, ...]:
    """A verdict per column; `answered`: the numbers with something written, `placeholders`: those holding only the
    template's placeholder (not answered either)."""
    key = (id(result), numbers, frozenset(answered), frozenset(placeholders))
    made = _made.get(key)
    if made is not None and made[0] is result:
        return made[1]
    verdicts = _make_verdicts(result, numbers, answered, placeholders)
    if len(_made) >= MADE_MAX:
        _made.clear()
    _made[key] = (result, verdicts)
    return verdicts


def _make_verdicts(
    result: checks.CheckResult, numbers: tuple[int, ...], answered: set[int], placeholders: set[int]
) -> tuple[QuestionVerdict, ...]:
    by_number = {q.number: q for q in result.questions}
    verdicts = []
    for number in numbers:
        q = by_number.get(number)
        is_answered = number in answered and number not in placeholders
        if q is None:
            verdicts.append(QuestionVerdict(number, Verdict.MISSING, f"Question {number} is not in this template"))
            continue
        if result.course_error:
            found = " ".join(q.messages) or f"question {number} passes by its heading ({_counts(q)})"
            detail = f"The course checker stops on this file. {found}"
        elif q.passed:
            detail = f"Question {number} passes: {_counts(q)}"
            if number not in answered:
                detail = NOT_ANSWERED.format(number=number, counts=_counts(q))
        else:
            detail = " ".join(q.messages)
        if number in placeholders and not result.course_error:
            detail = PLACEHOLDER_LEFT.format(number=number, checker=detail)
        verdict = Verdict.STOPS if result.course_error else question_verdict(q, is_answered)
        verdicts.append(QuestionVerdict(number, verdict, detail, q.passed and not result.course_error, is_answered))
    return tuple(verdicts)


@dataclass(frozen=True)
class GroupMember:
    username: str
    name: str  # first and last name, empty when not known
    email: str
    study_number: str = ""  # as the roster or the sign-up gave it (Membership.study_number)
    github_username: str = ""  # Membership.github_username: their commits count as theirs (selectors.contributions)

    @property
    def label(self) -> str:
        """Short, for a crowded table: the first name, else the e-mail's (or user name's) part before the @."""
        return self.name.split()[0] if self.name else (self.email or self.username).partition("@")[0]

    @property
    def whole(self) -> str:
        """Everything known: 'Alice Berg <alice@example.org> · s240011'."""
        contact = self.email or self.username
        return " · ".join(filter(None, [f"{self.name} <{contact}>" if self.name else contact, self.study_number]))


FLAG_STOPS = "course checker stops"
FLAG_SEEN_LATE = "dated before, seen after"


@dataclass(frozen=True, eq=False)
class GroupOverview:
    """One group of a course as staff see it: members, the check of its README as it is now, its last scrape."""

    group: Group
    members: tuple[GroupMember, ...]  # in the order they joined
    report: Report | None  # None: the group never opened or imported a report
    readme: str | None  # the README.md as it stands (None without a report)
    result: checks.CheckResult | None
    verdicts: tuple[QuestionVerdict, ...]  # one per column of the overview
    passed: int  # questions passed; 0 when the course checker stops on the file (CheckResult.course_passed)
    total: int  # questions of the report's template
    no_report: bool  # no report, or not one answer written
    answered: int = 0  # questions with something written other than the template's placeholder
    invited: tuple[GroupMember, ...] = ()  # invited, not joined yet (pending); read only when asked for

    @property
    def scrape(self) -> Scrape | None:
        return self.group.last_scrape

    @property
    def commit_at(self) -> datetime | None:
        return self.scrape.commit_at if self.scrape else None

    @property
    def late(self) -> bool:
        """The commit last scraped is dated after the group's deadline (its extension, else the course's)."""
        return self.scrape is not None and self.scrape.late_for(self.group.deadline)

    @property
    def seen_late(self) -> bool:
        """The commit graded is dated before the group's deadline, but the site first saw it after (selectors.graded):
        its date may be forged."""
        return bool(getattr(self.group, "seen_late", False))

    @property
    def never_scraped(self) -> bool:
        return bool(self.group.repo_url.strip()) and self.scrape is None

    @property
    def empty_repo(self) -> bool:
        return self.scrape is not None and self.scrape.status == Scrape.Status.EMPTY

    @property
    def stops(self) -> str | None:
        """Why the course checker stops on this file, or None when it reads it to the end."""
        return " ".join(self.result.structure) if self.result and self.result.course_error else None

    @property
    def flags(self) -> list[str]:
        return [
            label
            for label, on in (
                ("no report", self.no_report),
                (FLAG_STOPS, bool(self.stops)),
                ("never scraped", self.never_scraped),
                ("empty repo", self.empty_repo),
                (FLAG_SEEN_LATE, self.seen_late),
            )
            if on
        ]

    @cached_property
    def contributions(self) -> Contributions | None:
        """The members' commits up to the commit last scraped; None when that scrape counted none (it failed, or
        it predates the counting): nobody is then said to have no commits."""
        if self.scrape is None or not self.scrape.contributors:
            return None
        return group_contributions(self.members, self.scrape.contributors, cut=self.scrape.history_cut)

    @property
    def without_commits(self) -> list[GroupMember]:
        """The members none of the commits up to the one last scraped is by; nobody when that history was cut
        (selectors.contributions)."""
        return self.contributions.without_commits if self.contributions else []

    def verdict(self, number: int) -> Verdict:
        return next((v.verdict for v in self.verdicts if v.number == number), Verdict.MISSING)

    def passes(self, number: int) -> bool:
        """The course checker passes question `number` (what the pass count counts)."""
        return any(v.passes for v in self.verdicts if v.number == number)

    def answers(self, number: int) -> bool:
        """Question `number` has something written other than the template's placeholder."""
        return any(v.answered for v in self.verdicts if v.number == number)

    def member_names(self) -> list[str]:
        return [m.name or m.username for m in self.members]

    def member_emails(self) -> list[str]:
        """E-mail addresses, or the user name of a member who has none (so nobody drops out of a grade sheet)."""
        return [m.email or m.username for m in self.members]

    def matches(self, text: str) -> bool:
        """Part of the group's name, or of a member's (or invited person's) name, user name, e-mail or study number."""
        text = text.strip().casefold()
        people = (*self.members, *self.invited)
        haystack = [self.group.name, *(f"{m.username}\n{m.name}\n{m.email}\n{m.study_number}" for m in people)]
        return any(text in value.casefold() for value in haystack)

    def slim(self) -> GroupOverview:
        """The row without its README and report, to keep for an index once the group's files are written."""
        return replace(self, report=None, readme=None)


def _group_number(search: str) -> int | None:
    """The group number a search names ("12", "group 12"), or None."""
    text = search.strip().casefold().removeprefix("group").strip()
    return int(text) if text.isdecimal() else None


SCRAPE_ORDER = {status: i for i, status in enumerate(Scrape.Status.values)}
OVERVIEW_SORTS = {
    "group": lambda row: row.group.number,
    "passed": lambda row: row.passed,
    "commit": lambda row: row.commit_at,
    "status": lambda row: SCRAPE_ORDER[row.scrape.status] if row.scrape else None,
}


@dataclass(frozen=True)
class CourseOverview:
    course: Course
    numbers: tuple[int, ...]  # the question columns
    rows: list[GroupOverview]

    def select(
        self,
        *,
        sort: str = "group",
        status: str = "",
        failing: int | None = None,
        unanswered: int | None = None,
        late: bool = False,
        never_scraped: bool = False,
        seen_late: bool = False,
        no_commits: bool = False,
        search: str = "",
    ) -> list[GroupOverview]:
        """The rows that pass every filter given, sorted by `sort` ("passed", or "-passed" for descending).

        `status` is a scrape status or "none" (no scrape yet); `failing` keeps groups whose question `failing` the
        course checker does not pass; `unanswered` those that have not answered question `unanswered`; `search`
        those it names: "12" or "group 12" the group numbered 12 when there is one (not every study number with a 12
        in it), else anything GroupOverview.matches. Rows without a value to sort by (never scraped, no commit) come
        last either way.
        """
        number = _group_number(search)
        by_number = number is not None and any(row.group.number == number for row in self.rows)
        rows = [
            row
            for row in self.rows
            if (not status or (row.scrape.status if row.scrape else "none") == status)
            and (failing is None or not row.passes(failing))
            and (unanswered is None or not row.answers(unanswered))
            and (not late or row.late)
            and (not never_scraped or row.never_scraped)
            and (not seen_late or row.seen_late)
            and (not no_commits or bool(row.without_commits))
            and (not search.strip() or (row.group.number == number if by_number else row.matches(search)))
        ]
        key = OVERVIEW_SORTS[sort.removeprefix("-")]
        rows.sort(key=lambda row: row.group.number)
        known = [row for row in rows if key(row) is not None]
        return sorted(known, key=key, reverse=sort.startswith("-")) + [row for row in rows if key(row) is None]


def course_overview(course: Course, *, group_ids: Iterable[int] | None = None, invited: bool = False) -> CourseOverview:
    """Every group of the course (or those in `group_ids`) with members, check, last scrape and flags: six queries,
    and a seventh for the people invited to each group who have not joined yet when `invited`.

    Each README is rebuilt from the template (or imported layout) with the current answers and marks, then checked
    like the course does with its template's stored rules. A file the course checker stops on fails every question.
    The columns are the question numbers of the course's template and of every report's template.
    """
    groups = course.groups.select_related("last_scrape", "report").defer("report__source", "report__source_bytes")
    groups = with_seen_late(groups.order_by("number"))  # the flag "dated before, seen after", in the same query
    if group_ids is not None:
        groups = groups.filter(pk__in=list(group_ids))
    groups = list(groups)  # 1
    reports = {g.pk: g.report for g in groups if getattr(g, "report", None) is not None}
    template_ids = {r.template_id for r in reports.values()} | ({course.template_id} if course.template_id else set())
    templates = ReportTemplate.objects.in_bulk(template_ids)  # 2
    rules: dict[int, list[checks.Rule]] = {pk: [] for pk in templates}
    placeholders: dict[int, dict[int, str]] = {pk: {} for pk in templates}
    for question in Question.objects.filter(template_id__in=template_ids).order_by("template_id", "number"):  # 3
        rules[question.template_id].append(question.rule())
        placeholders[question.template_id][question.number] = question.placeholder.strip()
    numbers = tuple(sorted({rule.number for template_rules in rules.values() for rule in template_rules}))

    in_course: dict = {"group__course": course} | ({"group__in": groups} if group_ids is not None else {})
    members: dict[int, list[GroupMember]] = {g.pk: [] for g in groups}
    memberships = Membership.objects.filter(**in_course).order_by("id")
    fields = ("user__username", "user__first_name", "user__last_name", "user__email", "study_number", "github_username")
    for group_id, username, first, last, email, study_number, github in memberships.values_list(  # 4
        "group_id", *fields
    ):
        members[group_id].append(GroupMember(username, f"{first} {last}".strip(), email, study_number, github))
    pending: dict[int, list[GroupMember]] = {g.pk: [] for g in groups}
    if invited:
        invitations = Invitation.objects.pending().filter(**in_course).order_by("email")
        for group_id, name, email in invitations.values_list("group_id", "name", "email"):  # 7
            pending[group_id].append(GroupMember(email, name, email))
    in_course = {f"report__{k}": v for k, v in in_course.items()}
    answers: dict[int, dict[int, str]] = {pk: {} for pk in (r.pk for r in reports.values())}
    for report_id, number, text in (
        Answer.objects.on_own_template().filter(**in_course).values_list("report_id", "question__number", "text")  # 5
    ):
        answers[report_id][number] = text
    marks: dict[int, dict[int, str]] = {pk: {} for pk in answers}
    for report_id, position, mark in (
        ChecklistMark.objects.on_own_template().filter(**in_course).values_list("report_id", "item__position", "mark")
    ):  # 6
        marks[report_id][position] = mark

    missing = tuple(QuestionVerdict(n, Verdict.MISSING, "No report yet") for n in numbers)
    rows = []
    for group in groups:
        report = reports.get(group.pk)
        if report is None:
            rows.append(
                GroupOverview(
                    group=group,
                    members=tuple(members[group.pk]),
                    report=None,
                    readme=None,
                    result=None,
                    verdicts=missing,
                    passed=0,
                    total=len(numbers),
                    no_report=True,
                    invited=tuple(pending[group.pk]),
                )
            )
            continue
        report.template = templates[report.template_id]
        readme = report.readme(answers[report.pk], marks[report.pk])
        result = check_markdown(readme, report.template, rules[report.template_id])
        written = {n for n, text in answers[report.pk].items() if text.strip()}
        left = {n for n in written if answers[report.pk][n].strip() == placeholders[report.template_id].get(n)}
        rows.append(
            GroupOverview(
                group=group,
                members=tuple(members[group.pk]),
                report=report,
                readme=readme,
                result=result,
                verdicts=_question_verdicts(result, numbers, written, left),
                passed=result.course_passed,
                total=result.total,
                answered=len(written - left),
                no_report=not any(text.strip() for text in answers[report.pk].values()),
                invited=tuple(pending[group.pk]),
            )
        )
    return CourseOverview(course, numbers, rows)
