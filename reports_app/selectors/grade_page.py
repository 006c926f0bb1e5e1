"""One grading page: a submission's answer to one question as graded, the course checker's verdict on it, the
rubric and the grade, what changed since it was graded, its history, and the way to the next submission or
question. A constant number of queries, however many groups, questions, items or log entries there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils.http import urlencode

from ..engine import checks, diffing, rendering
from ..engine.people import person_name
from ..models import (
    Figure,
    Grade,
    GradeLog,
    Group,
    Question,
    QuestionPoints,
    RegradeRequest,
    Report,
    RubricItem,
)
from ..services.grading import grade_score
from .graded import GradedAnswer, graded_answer
from .grading import zoned_time
from .submissions import GradingAccess, Submission, submissions

ORDERS = ("question", "group")  # grade all submissions' question 5 in a row (the default), or a submission at a time
KEYS = "123456789"  # the rubric's first nine items are toggled by these keys

FROM_SCRAPE = "version {version}: the repo at {sha}, the last commit dated before the deadline (scraped {at})"
ON_TIME = "version {version}: the repo at {sha}, the branch head the site read at the deadline ({at})"
BEFORE_DEADLINE = "version {version}, saved {at}{by}: the last before the deadline ({deadline})"
CURRENT = "version {version}, saved {at}{by}: the current text (no deadline set)"
NOT_ANSWERED = "not answered by the deadline"


@dataclass(frozen=True)
class RubricRow:
    item: RubricItem
    key: str  # "1".."9", or "" past the ninth
    applied: bool
    applied_in: int | None  # how many grades apply it: shown to instructors, who edit the rubric (None for TAs)


@dataclass(frozen=True)
class Navigation:
    position: int  # of this submission among the user's, from 1
    count: int
    previous_submission: str | None  # URLs (n/p: the same question, j/k: the same submission)
    next_submission: str | None
    previous_question: str | None
    next_question: str | None
    next_ungraded: str | None  # in the page's order
    questions: tuple[tuple[int, bool], ...]  # the graded questions: (number, whether this submission's is graded)
    overview: str


@dataclass(frozen=True)
class GradePage:
    access: GradingAccess
    number: int
    question: Question | None  # None: not in the group's template
    title: str  # the prompt's first line
    rules: str  # "words 100-200 · images 1-2"
    max_points: Decimal | None  # None: the question is not graded
    graded: GradedAnswer
    basis: str  # which text is graded, in words
    answer_html: str
    check: checks.QuestionResult | None
    rubric: list[RubricRow]
    grade: Grade | None  # None: not graded yet (version 0 when saved)
    score: Decimal | None
    changed: rendering.WordDiff | None  # the graded text then -> now, when it changed since the grade
    log: list[GradeLog]
    regrades: list[RegradeRequest]
    navigation: Navigation
    order: str
    edits_rubric: bool  # the user instructs the course: the page offers to edit the question's rubric

    @property
    def submission(self) -> Submission:
        return self.access.submission

    @property
    def version(self) -> int:
        return self.grade.version if self.grade else 0


def grade_url(course_id: int, code: str, number: int, order: str) -> str:
    url = reverse("grade", args=[course_id, code, number])
    return url + ("?" + urlencode({"by": order}) if order != ORDERS[0] else "")


def _basis(graded: GradedAnswer, hidden: bool) -> str:
    revision = graded.revision
    if revision is None:
        return NOT_ANSWERED
    by = "" if hidden or revision.author is None else f" by {person_name(revision.author)}"
    at = zoned_time(revision.created_at)
    if graded.scrape is not None:
        words = ON_TIME if graded.scrape.on_time else FROM_SCRAPE
        return words.format(
            version=revision.version, sha=graded.scrape.commit_sha[:10], at=zoned_time(graded.scrape.fetched_at)
        )
    if graded.until is not None:
        return BEFORE_DEADLINE.format(version=revision.version, at=at, by=by, deadline=zoned_time(graded.until))
    return CURRENT.format(version=revision.version, at=at, by=by)


def _navigation(access: GradingAccess, number: int, numbers: tuple[int, ...], user, order: str) -> Navigation:
    """Where n/p, j/k and "next ungraded" lead (two queries: the user's groups, the grades saved on them)."""
    course = access.course
    groups = list(Group.objects.visible_to(user).filter(course=course).only("pk", "number", "name", "course_id"))
    rows = submissions(groups, access.codes, hidden=access.submission.hidden)
    graded = set(Grade.objects.filter(group__in=groups, version__gt=0).values_list("group_id", "number"))
    here = next(i for i, s in enumerate(rows) if s.group.pk == access.group.pk)
    at = numbers.index(number) if number in numbers else -1

    def url(submission: Submission, n: int) -> str:
        return grade_url(course.pk, submission.code, n, order)

    # every cell after this one in the page's order, around to the one before it
    if order == "question":
        start = max(at, 0)
        cells = ((s, n) for n in numbers[start:] + numbers[:start] for s in rows)
    else:
        cells = ((s, n) for s in rows[here:] + rows[:here] for n in numbers)
    ungraded = next(
        (url(s, n) for s, n in cells if (s.group.pk, n) not in graded and (s.group.pk, n) != (access.group.pk, number)),
        None,
    )
    return Navigation(
        position=here + 1,
        count=len(rows),
        previous_submission=url(rows[here - 1], number) if here > 0 else None,
        next_submission=url(rows[here + 1], number) if here + 1 < len(rows) else None,
        previous_question=url(rows[here], numbers[at - 1]) if at > 0 else None,
        next_question=url(rows[here], numbers[at + 1]) if 0 <= at < len(numbers) - 1 else None,
        next_ungraded=ungraded,
        questions=tuple((n, (access.group.pk, n) in graded) for n in numbers),
        overview=reverse("grading", args=[course.pk]),
    )


def grade_page(access: GradingAccess, number: int, user, order: str = "question") -> GradePage:
    course, group, hidden = access.course, access.group, access.submission.hidden
    order = order if order in ORDERS else ORDERS[0]
    report = Report.objects.filter(group=group).only("pk", "template_id").first()
    template_id = report.template_id if report else course.template_id
    question = Question.objects.filter(template_id=template_id, number=number).first()
    points = dict(QuestionPoints.objects.filter(course=course).values_list("number", "max_points"))
    numbers = tuple(sorted(n for n, top in points.items() if top is not None))
    graded = graded_answer(group, number)
    figures = set(Figure.objects.filter(report=report).values_list("name", flat=True)) if report else set()
    code = access.submission.code

    def figure_url(name: str) -> str | None:
        return reverse("grading-figure", args=[course.pk, code, name]) if name in figures else None

    try:
        html = rendering.answer_html(graded.text, figure_url=figure_url)
    except rendering.RenderError as error:
        html = rendering.unrendered_html(graded.text, str(error), what="This answer")
    check = None
    if question is not None:
        is_last = not Question.objects.filter(template_id=template_id, number__gt=number).exists()
        check = checks.check_alone(graded.text, question.rule(), is_last=is_last)
    grade = (
        Grade.objects.filter(group=group, number=number)
        .select_related("graded_by", "revision")
        .prefetch_related("items", Prefetch("log", GradeLog.objects.select_related("user").order_by("-at", "-pk")))
        .first()
    )
    applied = {item.pk for item in grade.items.all()} if grade else set()
    edits_rubric = course.viewer_instructs
    items = RubricItem.objects.filter(course=course, number=number)
    if edits_rubric:  # the same one query, counting the grades that apply each item
        items = items.annotate(applied_in=Count("grades"))
    rubric = [
        RubricRow(item, KEYS[i] if i < len(KEYS) else "", item.pk in applied, getattr(item, "applied_in", None))
        for i, item in enumerate(items)
    ]
    score = grade_score(grade, course, points.get(number)) if grade is not None and grade.version else None
    changed = None
    if grade is not None and grade.version and grade.revision_id != (graded.revision.pk if graded.revision else None):
        changed = rendering.word_diff(grade.revision.text if grade.revision else "", graded.text)
    regrades = (
        list(RegradeRequest.objects.filter(grade=grade).select_related("requested_by", "answered_by")) if grade else []
    )
    return GradePage(
        access=access,
        number=number,
        question=question,
        title=diffing.first_line(question.prompt) if question else "",
        rules=_rules(question),
        max_points=points.get(number),
        graded=graded,
        basis=_basis(graded, hidden),
        answer_html=html,
        check=check,
        rubric=rubric,
        grade=grade,
        score=score,
        changed=changed,
        log=list(grade.log.all()) if grade else [],
        regrades=regrades,
        navigation=_navigation(access, number, numbers, user, order),
        order=order,
        edits_rubric=edits_rubric,
    )


def _rules(question: Question | None) -> str:
    if question is None:
        return ""
    rule = question.rule()
    text = f"words {diffing.rule_text(rule.words)}"
    return text + (f" · images {diffing.rule_text(rule.images)}" if rule.images else "")
