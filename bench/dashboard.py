"""Staff dashboard benchmark: a course of N groups with full reports; prints the server time of the page and its CSV.

    .venv/bin/python bench/dashboard.py [--groups 150] [--runs 7] [--starts 3] [--template FILE]

Setup, on a fresh SQLite database in a temporary folder: the template (default: the newest course template in
../shared when present, else a 31-question one generated in our own words), a course with a deadline, N groups of
5 members named by their e-mail as a roster import makes them (one in eight with one of them invited instead), each
with a report imported from bench/engine.py's `make_report` (~44 kB for 31 questions) and, for
most, a last scrape whose commit is dated around the deadline. Every page is checked live: the README of each group
is rebuilt from its answers and checked the way the course does.

Measured with Django's test client (DEBUG off): the first view in `--starts` freshly started processes, each
having served only the health check, or the health check and the login page (FIRST_PAGES); its templates and every
README's check are cold. Then, in this process, the whole request (session, queries, the checks,
the template) for the page and for its CSV, and `course_overview` alone: median and max over `--runs`, after one
warm-up; the median CPU time too, which a machine busy with other work changes less than wall time.
Targets from issue 14, for 150 groups x 31 questions: the page's median under 100 ms, a first view under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = 5  # per group, as the course's sign-up sheet allows


def setup_django(folder: Path, database: str = "sqlite") -> None:
    """Django with a media folder in `folder`, DEBUG off as in production, on a fresh SQLite database in `folder`
    (`database` "sqlite") or on the PostgreSQL of DATABASE_URL."""
    if database == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = "bench-only-" + "x" * 40
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def generated_template(n_questions: int = 31) -> str:
    """A template in our own words with the course's shape: a checklist by week, sections, word and image rules."""
    lines = ["# Benchmark report template", "", "Fill in every answer below.", "", "## Checklist", ""]
    for week in range(1, 4):
        lines += [f"### Week {week}", ""]
        lines += [f"* [ ] Benchmark task {week}.{k} of the pipeline (M{week * 10 + k})" for k in range(1, 9)]
        lines.append("")
    for n in range(1, n_questions + 1):
        if n % 6 == 1:
            lines += [f"## Part {n // 6 + 1}", ""]
        low = 50 * (n % 4 + 1)
        images = " + 1 to 2 screenshots" if n % 5 == 0 else ""
        lines += [
            f"### Question {n}",
            "",
            f"> **How does step {n} of your pipeline work, and why did you build it that way?**",
            ">",
            f"> Recommended answer length: {low}-{low * 2} words{images}.",
            ">",
            "> Answer:",
            "",
            f"--- question {n} fill here ---",
            "",
        ]
    return "\n".join(lines)


def template_source(path: Path | None) -> tuple[str, str]:
    """(name, text) of the template to use: FILE, else the newest course template in ../shared, else our own."""
    from engine import SHARED_TEMPLATES

    newest = sorted(SHARED_TEMPLATES.glob("2*.md"))[-1:] if path is None else [path]
    if newest:
        return newest[0].name, newest[0].read_text(encoding="utf-8")
    return "generated (no ../shared)", generated_template()


def make_course(n_groups: int, template_path: Path | None, *, figures: list[bytes] | None = None):
    """The benchmark course: N groups of MEMBERS e-mail accounts (one in eight has one of them invited, not joined),
    reports, scrapes and (when given) 2-3 of `figures` each."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from engine import make_report

    from reports_app.models import Course, Group, Invitation, Membership, Scrape
    from reports_app.services.figures import IfExists, figure_add
    from reports_app.services.reports import report_import
    from reports_app.services.templates import template_load

    call_command("migrate", "--noinput", verbosity=0)
    template_name, source = template_source(template_path)
    template, _ = template_load(name="bench", source=source)
    deadline = timezone.now() + timedelta(days=30)  # open, so that figures can be added
    course = Course.objects.create(code="BENCH", title="Benchmark", template=template)
    rng = random.Random(2476)
    parsed = template.parsed()
    User = get_user_model()
    # as a roster import makes them: accounts named by their e-mail, no names, a study number on the membership
    users = User.objects.bulk_create(
        User(username=f"{study}@student.example.org", email=f"{study}@student.example.org")
        for study in (f"s24{n:03d}{k}" for n in range(1, n_groups + 1) for k in range(1, MEMBERS + 1))
    )
    for n in range(1, n_groups + 1):
        group = Group.objects.create(course=course, number=n, name=f"Team {n}", repo_url=f"https://github.com/g{n}/r")
        members = users[(n - 1) * MEMBERS : n * MEMBERS]
        if n % 8 == 0:  # one in eight has a member invited who has not joined yet
            *members, invited = members
            Invitation.objects.create(group=group, email=invited.email, token_hash=f"{n:064x}")
        Membership.objects.bulk_create(
            Membership(user=u, group=group, study_number=u.username.partition("@")[0]) for u in members
        )
        result = report_import(group=group, text=make_report(parsed, rng), template=template, label="bench")
        for data in rng.sample(figures, rng.choice([2, 3])) if figures else []:
            name = f"fig{n}.png"
            figure_add(report=result.report, data=data, wanted_name=name, user=None, if_exists=IfExists.NEW_NAME)
        if n % 10 != 0:  # every tenth group has never been scraped
            status = Scrape.Status.OK if n % 7 else Scrape.Status.EMPTY
            scrape = Scrape.objects.create(
                group=group,
                repo_url=group.repo_url,
                status=status,
                commit_sha=f"{n:040x}",
                commit_at=deadline + timedelta(hours=rng.randint(-72, 3)),
                fetched_at=deadline,
            )
            Group.objects.filter(pk=group.pk).update(last_scrape=scrape)
    course.deadline = deadline
    course.save()
    return course, template_name, len(parsed.questions)


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each run (CPU time says the same on a machine busy with other work)."""
    fn()  # warm-up: templates compiled, parsed template cached
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


STAFF = "bench-staff"


# What a just-started process has served before the dashboard: the container's health check (middleware and URLs
# loaded); then, as a person arriving sees it, the login page (the template engine and its tag libraries loaded).
FIRST_PAGES = {"health check": ["/healthz"], "login page": ["/healthz", "/accounts/login/"]}


def first_view(folder: Path, after: str) -> None:
    """In a process just started on `folder`'s database, having served FIRST_PAGES[after]: the time of the
    dashboard's first GET (its templates compiled, every README checked), printed as wall and CPU ms."""
    setup_django(folder)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from reports_app.models import Course

    client = Client()
    client.force_login(get_user_model().objects.get(username=STAFF))
    path = reverse("dashboard", args=[Course.objects.get(code="BENCH").pk])
    for page in FIRST_PAGES[after]:
        assert client.get(page).status_code == 200, page
    start, start_cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    print(f"{(time.perf_counter() - start) * 1000:.1f} {(time.process_time() - start_cpu) * 1000:.1f}")


def first_views(folder: Path, after: str, starts: int) -> tuple[list[float], list[float]]:
    """first_view's wall and CPU ms in `starts` fresh processes, one after the other."""
    command = [sys.executable, __file__, "--first-view", str(folder), after]
    runs = [subprocess.run(command, check=True, capture_output=True, text=True).stdout.split() for _ in range(starts)]
    return [float(wall) for wall, _ in runs], [float(cpu) for _, cpu in runs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=150)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--starts", type=int, default=3, help="fresh processes timing their first view")
    ap.add_argument("--template", type=Path, default=None)
    ap.add_argument("--first-view", nargs=2, help=argparse.SUPPRESS)  # FOLDER AFTER: a child of first_views
    args = ap.parse_args()
    if args.first_view:
        first_view(Path(args.first_view[0]), args.first_view[1])
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    setup_django(folder)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from reports_app.selectors.overview import course_overview

    start = time.perf_counter()
    course, template_name, n_questions = make_course(args.groups, args.template)
    print(
        f"setup: {args.groups} groups of {MEMBERS} x {n_questions} questions ({template_name}) "
        f"in {time.perf_counter() - start:.0f} s"
    )
    from reports_app.models import CourseStaff, StaffRole

    staff = get_user_model().objects.create_user(STAFF, is_staff=True)
    CourseStaff.objects.create(course=course, user=staff, role=StaffRole.INSTRUCTOR)
    print("first view in a fresh process (its templates compiled, every README checked), after the process served")
    for after in FIRST_PAGES:
        wall, cpu = first_views(folder, after, args.starts)
        print(
            f"  {after:23} median {statistics.median(wall):4.0f} ms (CPU {statistics.median(cpu):4.0f} ms)  "
            f"max {max(wall):4.0f} ms over {len(wall)} starts  (target < 200 ms)"
        )
    client = Client()
    client.force_login(staff)
    page, csv = reverse("dashboard", args=[course.pk]), reverse("dashboard-csv", args=[course.pk])

    def get(path: str) -> int:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    with CaptureQueriesContext(connection) as queries:
        size = get(page)
    print(f"page: {size / 1000:.0f} kB of HTML, {len(queries)} queries")
    for name, fn, target in (
        ("course_overview", lambda: course_overview(course), ""),
        ("page GET", lambda: get(page), "  (target < 100 ms)"),
        ("page GET sorted+filtered", lambda: get(page + "?sort=-passed&failing=7&q=s24007"), ""),
        ("CSV GET", lambda: get(csv), ""),
    ):
        wall, cpu = timed(fn, args.runs)
        print(
            f"{name:25} median {statistics.median(wall):4.0f} ms (CPU {statistics.median(cpu):4.0f} ms)  "
            f"max {max(wall):4.0f} ms{target}"
        )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
