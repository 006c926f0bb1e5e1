"""Inputs built to stall or crash: markdown nested too deep or too slow to render, and a course whose every
field holds markup that would run if a page showed it raw."""

from __future__ import annotations

from dataclasses import dataclass

from reports_app.models import AnswerRevision, Course, Group, Job, Question, Report, ReportTemplate, Scrape
from reports_app.services.answers import answer_save
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group
from reports_app.services.templates import template_load
from tests.conftest import DEMO_TEMPLATE, png_bytes

NESTED = "1. " * 500 + "deep"  # 1.5 kB: Python-Markdown recurses once per level and raises RecursionError


BRACKETS = "[" * 30_000  # Python-Markdown's inline patterns take minutes on unbalanced brackets (30 kB: ~150 s)


A_LIST = "Steps we took:\n\n1. load the data\n2. train\n    - twice\n\n> quoted *note*\n"


JS = "window.__xss=1"


# Plain text (names, titles, messages): breaks out of an attribute or element if it is not escaped.
TEXT = f"\"'><script>{JS}</script><img src=x onerror={JS}><svg onload={JS}>"


SHORT = f'"><svg onload={JS}>'  # for fields of 64 characters


# An answer: raw HTML and markdown link tricks, each of which Python-Markdown passes through to the HTML.
ANSWER_LINES = [
    "ANSWER-SHOWN",
    f"<script>{JS}</script>",
    f"<img src=x onerror={JS}>",
    f'<img src="x" onerror="{JS}">',
    f"<svg onload={JS}>",
    f'<p><svg onload="{JS}"></svg></p>',
    f'<div title="x" onmouseover="{JS}" style="position:fixed;inset:0">cover</div>',
    f"[plain](javascript:{JS})",
    f"![image](javascript:{JS})",
    f'<a href="javascript:{JS}">raw link</a>',
    f'<iframe src="javascript:{JS}"></iframe>',
    f'<iframe srcdoc="<script>{JS}</script>"></iframe>',
    "<style>body { display: none }</style>",
    f"[tab](jav&#x09;ascript:{JS})",
    f"[entity](&#106;avascript:{JS})",
    f"<javascript:{JS}>",
    "[reference][evil]",
    f'"><script>{JS}</script>',
    f"</textarea><script>{JS}</script>",
    f'![figure](figures/x"onerror="{JS}.png)',
    "",
    f"[evil]: javascript:{JS}",
]


ANSWER = "\n\n".join(ANSWER_LINES)


CSV_NAME = '=HYPERLINK("http://evil.example","click")'


CSV_EMAIL = "-2+3@example.com"


def hostile_template_source() -> str:
    """Our demo template with the payloads in a section title, a checklist item and the prompt of Question 3."""
    source = DEMO_TEMPLATE.read_text(encoding="utf-8")
    injected = {
        "## Data handling\n": f"## Data handling {TEXT}\n",
        "* [ ] Set up a git repository for the project (M5)\n": f"* [ ] Set up a git repository {TEXT} (M5)\n",
        "> **Which data source did you choose, and why is it a good fit for a pipeline project?**\n": (
            "> **Which data source did you choose, and why is it a good fit for a pipeline project?**\n"
            + "".join(f"> {line}\n" if line else ">\n" for line in ["PROMPT-SHOWN", *ANSWER_LINES[1:]])
        ),
    }
    for old, new in injected.items():
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


@dataclass
class Hostile:
    course: Course
    group: Group
    report: Report
    template: ReportTemplate
    scrape: Scrape
    job: Job


def make_hostile(course: Course, group: Group, other: Group | None = None) -> Hostile:
    """Payloads in every field of the course, the group, its members, its report, a figure, a scrape and a job."""
    template, _ = template_load(name="hostile", source=hostile_template_source())
    course.template, course.title = template, TEXT
    course.save(update_fields=["template", "title"])
    group.name, group.repo_url = TEXT, f"https://github.com/acme/{TEXT}"
    group.save(update_fields=["name", "repo_url"])
    for membership in group.memberships.select_related("user"):
        user = membership.user
        user.first_name, user.last_name, user.email = TEXT, TEXT, f"{SHORT}@example.com"
        user.save(update_fields=["first_name", "last_name", "email"])
    report = report_for_group(group)
    user = group.memberships.first().user
    question = Question.objects.get(template=template, number=3)
    first = answer_save(report=report, question=question, text=ANSWER, base_version=0, user=user)
    answer_save(report=report, question=question, text=f"{ANSWER}\n\nEDITED", base_version=1, user=user)
    answer_save(
        report=report, question=Question.objects.get(template=template, number=1), text=TEXT, base_version=0, user=user
    )
    AnswerRevision.objects.filter(answer=first).update(source=TEXT[:200])
    Report.objects.filter(pk=report.pk).update(source=ANSWER, source_label=TEXT, problems=[[3, TEXT]], unplaced=[TEXT])
    figure_add(report=report, data=png_bytes(), wanted_name=f"{TEXT}.png", user=user)
    job = Job.objects.create(kind=Job.Kind.SCRAPE, course=course, status=Job.Status.FAILED, message=TEXT)
    scrape = Scrape.objects.create(
        group=group,
        job=job,
        repo_url=group.repo_url,
        status=Scrape.Status.PROBLEMS,
        message=TEXT,
        problems=[[3, TEXT]],
        skipped=[[f"reports/figures/{TEXT}", TEXT]],
        commit_sha=SHORT,
        fetched_at="2026-01-21T10:00:00Z",
        commit_at="2026-01-21T09:00:00Z",
    )
    group.last_scrape = scrape
    group.save(update_fields=["last_scrape"])
    if other is not None:  # spreadsheet formulas for the CSV files
        other.name = CSV_NAME
        other.save(update_fields=["name"])
        for membership in other.memberships.select_related("user"):
            membership.user.email = CSV_EMAIL
            membership.user.save(update_fields=["email"])
    report.refresh_from_db()
    return Hostile(course, group, report, template, scrape, job)
