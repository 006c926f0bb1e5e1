"""What staff see of courses as a whole: each course with its counts (the staff home page), and a course's recent
jobs (the dashboard, the course's jobs page). Fixed queries, whatever the number of courses, groups and jobs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..engine import checks
from ..models import Answer, ChecklistMark, Course, Group, Job, Question, ReportTemplate
from ..services.checking import check_markdown

JOBS_ON_DASHBOARD = 3
JOBS_ON_PAGE = 25


@dataclass(frozen=True)
class CourseCounts:
    """A course on the staff home page. Each count is of groups; the page says what each one means."""

    course: Course
    groups: int = 0
    passing: int = 0  # the course checker passes every question of the README (pass count N/N, as on the dashboard)
    not_answered: int = 0  # at least one question with nothing written, or the template's placeholder (or no report)
    never_scraped: int = 0  # a repo URL, and no scrape yet
    late: int = 0  # the commit last scraped is dated after the group's deadline
    active_jobs: int = 0  # scrapes and exports queued, or running and neither stopped nor stuck


# What the counts read of a group, its report and its last scrape: loading the other JSON fields and texts took a
# fifth of the page's time.
COUNTED_FIELDS = ("course_id", "number", "repo_url", "extension", "course__deadline", "report__template_id")
COUNTED_FIELDS += ("report__layout", "last_scrape__commit_at")


def _active_jobs(now: datetime) -> Q:
    """Jobs of a course that are queued, or running and neither stopped nor stuck (`Job.active`), as a filter."""
    alive = now - timedelta(seconds=settings.JOB_STALLED_SECONDS)
    moving = now - timedelta(seconds=settings.JOB_GROUP_SECONDS + settings.JOB_HEARTBEAT_SECONDS)
    beat = Q(jobs__heartbeat_at__gte=alive) | Q(jobs__heartbeat_at__isnull=True, jobs__started_at__gte=alive)
    step = Q(jobs__progress_at__gte=moving) | Q(jobs__progress_at__isnull=True, jobs__started_at__gte=moving)
    return Q(jobs__status=Job.Status.QUEUED) | (Q(jobs__status=Job.Status.RUNNING) & beat & step)


def course_counts(user) -> list[CourseCounts]:
    """The courses `user` has a role in (`role` annotated), the newest deadline first, with the counts of the groups
    they see (a TA's: the groups assigned to them): six queries for any number of courses and groups.

    "Passing" is the dashboard's pass count: each README is rebuilt from its answers and checked with its template's
    stored rules (cached by content, as the dashboard does), and a file the course checker stops on passes nothing.
    """
    courses = list(
        Course.objects.staffed_by(user)
        .with_role(user)
        .annotate(active_jobs=Count("jobs", filter=_active_jobs(timezone.now())))
        .order_by(F("deadline").desc(nulls_first=True), "code")
    )  # 1
    visible = Group.objects.filter(course__in=courses).visible_to(user)
    groups = list(
        visible.select_related("course", "last_scrape", "report").only(*COUNTED_FIELDS).order_by("course_id", "number")
    )  # 2
    reports = [g.report for g in groups if getattr(g, "report", None) is not None]
    templates = ReportTemplate.objects.in_bulk({r.template_id for r in reports})  # 3
    rules: dict[int, list[checks.Rule]] = defaultdict(list)
    placeholders: dict[int, dict[int, str]] = defaultdict(dict)
    for question in Question.objects.filter(template_id__in=templates).order_by("template_id", "number"):  # 4
        rules[question.template_id].append(question.rule())
        placeholders[question.template_id][question.number] = question.placeholder.strip()
    in_courses = {"report__group__in": visible.values("pk")}
    answers: dict[int, dict[int, str]] = defaultdict(dict)
    for report_id, number, text in (
        Answer.objects.on_own_template().filter(**in_courses).values_list("report_id", "question__number", "text")
    ):  # 5
        answers[report_id][number] = text
    marks: dict[int, dict[int, str]] = defaultdict(dict)
    for report_id, position, mark in (
        ChecklistMark.objects.on_own_template().filter(**in_courses).values_list("report_id", "item__position", "mark")
    ):  # 6
        marks[report_id][position] = mark

    counts = {course.pk: defaultdict(int) for course in courses}
    for group in groups:
        count = counts[group.course_id]
        count["groups"] += 1
        scrape = group.last_scrape
        count["never_scraped"] += bool(group.repo_url.strip()) and scrape is None
        count["late"] += scrape is not None and scrape.late_for(group.deadline)
        report = getattr(group, "report", None)
        if report is None:
            count["not_answered"] += 1
            continue
        report.template = templates[report.template_id]
        texts = answers[report.pk]
        left = placeholders[report.template_id]
        if any(not texts.get(n, "").strip() or texts[n].strip() == left[n] for n in left):
            count["not_answered"] += 1
        result = check_markdown(report.readme(texts, marks[report.pk]), report.template, rules[report.template_id])
        count["passing"] += result.total > 0 and result.course_passed == result.total
    return [CourseCounts(course, active_jobs=course.active_jobs, **counts[course.pk]) for course in courses]


def recent_jobs(course: Course, limit: int) -> list[Job]:
    """The course's `limit` most recent jobs, newest first, with who started them: one query."""
    return list(Job.objects.filter(course=course).select_related("created_by").order_by("-id")[:limit])


@dataclass(frozen=True)
class Hub:
    """A course's jobs panel: its recent jobs, and what a scrape of the whole course would read."""

    jobs: list[Job]  # newest first
    with_repo: int  # groups a scrape of the whole course reads
    without_repo: int  # groups it leaves out: they have no repo URL
    planned_at: datetime | None = None  # the next head scrape planned at a group's deadline (deadline_scrapes_plan)


def course_hub(course: Course, limit: int) -> Hub:
    """The course's `limit` most recent jobs, how many groups a scrape reads and the next head scrape planned at a
    group's deadline (one whose deadline moved since does not count): two queries."""
    planned = Q(
        scheduled_scrapes__done_at=None,
        scheduled_scrapes__due_at__gt=timezone.now(),
        scheduled_scrapes__due_at=Coalesce(F("extension"), F("course__deadline")),
    )
    counts = course.groups.aggregate(  # distinct: a group counts once, whatever its planned scrapes
        groups=Count("pk", distinct=True),
        with_repo=Count("pk", filter=~Q(repo_url=""), distinct=True),
        planned_at=Min("scheduled_scrapes__due_at", filter=planned),
    )
    without_repo = counts["groups"] - counts["with_repo"]
    return Hub(recent_jobs(course, limit), counts["with_repo"], without_repo, counts["planned_at"])
