"""Grading benchmark: the grading overview and the grading page's next/previous and autosave, server time.

    .venv/bin/python bench/grading.py [--groups 150] [--tas 10] [--runs 20] [--database sqlite|postgres]
    make bench-grading

Setup: bench/dashboard.py's course (N groups of 5 with real-length reports of the course template's questions, most
scraped), 10 TAs with the groups spread evenly over them (services.graders), max points on every question, 2-4
rubric items per question, and grades on about half the cells (each with 1-2 items, on the version graded; one in
thirty on an older one: "changed since graded"), a few open regrade requests. `--database postgres` runs on a
throwaway PostgreSQL cluster (.ci/with-postgres; Debian's postgresql, installed when missing), else SQLite in a
temporary folder.

Measured with Django's test client in this process (DEBUG off), the whole request: the overview for an instructor
(every group) and for a TA (their 15), the grading page GET of consecutive submissions on one question (what n/p do),
and the grading page's autosave POST (JSON). Median and p95 over `--runs`, after one warm-up; median CPU time too.
Targets from issue 15: the overview < 150 ms, next/previous < 50 ms. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WITH_POSTGRES = ROOT / ".ci" / "with-postgres"
JSON = "application/json"


def add_grading(course, n_tas: int, rng: random.Random):
    """TAs spread over the groups, points, rubric items, grades on about half the cells; returns the instructor and
    the TAs."""
    from django.contrib.auth import get_user_model

    from reports_app.models import CourseStaff, Grade, QuestionPoints, RegradeRequest, RubricItem, StaffRole
    from reports_app.selectors.graded import graded_revision_ids
    from reports_app.services.graders import graders_set, graders_spread_plan

    User = get_user_model()
    instructor = User.objects.create_user("bench-instructor", first_name="Ines", last_name="Structor")
    CourseStaff.objects.create(course=course, user=instructor, role=StaffRole.INSTRUCTOR)
    tas = [User.objects.create_user(f"bench-ta{k:02d}", first_name=f"TA {k}") for k in range(1, n_tas + 1)]
    CourseStaff.objects.bulk_create(CourseStaff(course=course, user=ta, role=StaffRole.TA) for ta in tas)
    graders_set(course=course, wanted=graders_spread_plan(course=course))
    numbers = sorted(course.template.questions.values_list("number", flat=True))
    QuestionPoints.objects.bulk_create(QuestionPoints(course=course, number=n, max_points=Decimal(10)) for n in numbers)
    items = {
        n: RubricItem.objects.bulk_create(
            RubricItem(
                course=course,
                number=n,
                text=f"Point {k} of question {n}",
                points=Decimal(rng.choice([2, 3, -1])),
                position=k,
            )
            for k in range(rng.randint(2, 4))
        )
        for n in numbers
    }
    graded = graded_revision_ids(course)
    grades, applied = [], []
    groups = list(course.groups.prefetch_related("graders"))
    for group in groups:
        grader = next(iter(group.graders.all())).user_id
        for n in numbers:
            if rng.random() < 0.5:
                revision = graded.get((group.pk, n))
                if revision and rng.random() < 1 / 30:
                    revision = None  # graded on another version: changed since
                grades.append(Grade(group=group, number=n, version=1, graded_by_id=grader, revision_id=revision))
    Grade.objects.bulk_create(grades)
    through = Grade.items.through
    for grade in Grade.objects.filter(group__course=course):
        applied += [
            through(grade_id=grade.pk, rubricitem_id=i.pk)
            for i in rng.sample(items[grade.number], 2)[: rng.randint(1, 2)]
        ]
    through.objects.bulk_create(applied)
    some = Grade.objects.filter(group__course=course).order_by("?")[:10]
    RegradeRequest.objects.bulk_create(
        RegradeRequest(grade=g, reason="Please look again", score_at_request=0) for g in some
    )
    return instructor, tas


def summary(name: str, wall: list[float], cpu: list[float], target: str = "") -> str:
    p95 = statistics.quantiles(wall, n=20, method="inclusive")[18] if len(wall) > 1 else wall[0]
    return (
        f"{name:34} median {statistics.median(wall):5.1f} ms (CPU {statistics.median(cpu):5.1f})  "
        f"p95 {p95:5.1f} ms  max {max(wall):5.1f} ms{target}"
    )


def measure(send, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU ms of `send(i)` for i in 1..runs, after `send(0)` as a warm-up."""
    send(0)
    wall, cpu = [], []
    for i in range(1, runs + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        send(i)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=150)
    ap.add_argument("--tas", type=int, default=10)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--question", type=int, default=5, help="the question graded by next/previous and autosave")
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    if args.database == "postgres" and not os.environ.get("DATABASE_URL", "").startswith(
        ("postgres://", "postgresql://")
    ):
        print("No PostgreSQL DATABASE_URL: running under .ci/with-postgres", file=sys.stderr, flush=True)
        os.execv(WITH_POSTGRES, [str(WITH_POSTGRES), sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])

    folder = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    from dashboard import make_course, setup_django

    setup_django(folder, args.database)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from reports_app.models import Grade, Group
    from reports_app.selectors.graded import graded_revision_ids
    from reports_app.selectors.submissions import course_codes

    start = time.perf_counter()
    course, template_name, n_questions = make_course(args.groups, None)
    instructor, tas = add_grading(course, args.tas, random.Random(15))
    print(
        f"setup ({connection.vendor}): {args.groups} groups x {n_questions} questions ({template_name}), "
        f"{args.tas} TAs, {Grade.objects.count()} grades, in {time.perf_counter() - start:.0f} s"
    )
    overview = reverse("grading", args=[course.pk])
    clients = {}
    for name, user in (("instructor", instructor), ("TA", tas[0])):
        clients[name] = Client()
        clients[name].force_login(user)

    def get(client: Client, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    lines = []
    from reports_app.selectors.grading_overview import grading_overview

    wall, cpu = measure(lambda i: grading_overview(course, instructor, hidden=False), args.runs)
    lines.append(summary("grading_overview selector alone", wall, cpu))
    for name, client in clients.items():
        with CaptureQueriesContext(connection) as queries:
            size = len(client.get(overview).content)
        print(f"overview for the {name}: {size / 1000:.0f} kB of HTML, {len(queries)} queries")
        wall, cpu = measure(lambda i, c=client: get(c, overview), args.runs)
        lines.append(summary(f"overview GET ({name})", wall, cpu, "  (target < 150 ms)"))

    client, number = clients["instructor"], args.question
    codes = course_codes(course)
    order = sorted(Group.objects.filter(course=course).values_list("pk", "number"), key=lambda g: g[1])
    pages = [reverse("grade", args=[course.pk, codes[pk], number]) for pk, _ in order]
    if client.get(pages[0]).status_code == 404:
        lines.append("grade page: not available")
    else:
        with CaptureQueriesContext(connection) as queries:
            size = len(client.get(pages[1]).content)
        print(f"grade page: {size / 1000:.0f} kB of HTML, {len(queries)} queries")
        wall, cpu = measure(lambda i: get(client, pages[i % len(pages)]), args.runs)
        lines.append(summary("grade GET, next/previous", wall, cpu, "  (target < 50 ms)"))

        # autosave: one submission's grade on the question, its items toggled each time, version chained
        group_id = order[0][0]
        items = list(course.rubric_items.filter(number=number).values_list("pk", flat=True))
        revision = graded_revision_ids(course, group_ids=[group_id]).get((group_id, number))
        grade = Grade.objects.filter(group_id=group_id, number=number).first()
        state = {"version": grade.version if grade else 0}

        def save(i: int) -> None:
            data = {
                "items": items[: 1 + i % len(items)],
                "adjustment": "0",
                "comment": f"Save {i}",
                "version": state["version"],
            }
            if revision:
                data["revision"] = revision
            response = client.post(pages[0], data, headers={"Accept": JSON})
            assert response.status_code == 200, (response.status_code, response.content[:300])
            state["version"] = response.json()["grade"]["version"]

        wall, cpu = measure(save, args.runs)
        lines.append(summary("grade autosave POST (JSON)", wall, cpu))
    print("\n".join(lines))
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
