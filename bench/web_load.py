"""Web load benchmark: N students at once against gunicorn + PostgreSQL on loopback; prints latency and lost saves.

    make bench-web
    .venv/bin/python bench/web_load.py [--clients 50] [--duration 30] [--think 2] [--workers 5] [--threads 1]

Without a PostgreSQL DATABASE_URL (as `make bench-web` runs it) the script re-runs itself under .ci/with-postgres
on a free port: a throwaway cluster. With one, it uses that database and leaves its BENCH-<run> course there.
Target from the issue: p95 under 150 ms at 50 clients on the 2-core machine, 0 errors, 0 lost saves. Nothing here
asserts on time; the exit status is 1 only when an acknowledged save or tick is missing from the database.

Setup, through the ORM: a course on our demo template with a deadline a year away, one group per client with one
student and a report whose 10 answers are filled already (as in the last week before a deadline: the report page
then renders and checks a whole report). Each client gets a session made by Django's test `Client.force_login`
(SessionStore underneath), so the password hasher stays out of setup and measurement; it sends that `sessionid`
cookie, a `csrftoken` cookie and the matching `X-CSRFToken` header, as a browser's script would.

Server: `python -m gunicorn course.wsgi` on a free loopback port with DEBUG=0, ALLOWED_HOSTS=127.0.0.1,
CONN_MAX_AGE=60 and the same DATABASE_URL. `--threads 1` runs sync workers (one request at a time per process, a
new connection per request); more threads run gthread workers (keep-alive). The default, 2 x cores + 1 sync
workers, measured best on the 2-core machine: at 50 clients, think 2 s, p95 98 ms for 5 sync workers, 96 ms for
4, 132 ms for 7, 230-276 ms for gthread 2x4 and 3x4 (threads of one process take turns on the GIL); at think 0,
56 requests/s for 5 sync workers against 50-54 for gthread. Keep workers x threads under PostgreSQL's 100
connections.

Clients: one thread each, with its own connection (http.client, kept alive when the server allows) and cookies,
looping until the time is up: view the report page (60%), save an answer (25%), tick or untick a checklist item
(15%), pausing uniform(0.5, 1.5) x `--think` seconds between requests. A student reads and types between clicks
and saves after minutes of typing; load tests commonly assume 5-10 s between a person's requests. The default 2 s
is a pessimistic crowd: 50 clients send about 22 requests/s, as 100-200 people working at once would. Use
`--think 0.5` for a stress test and `--think 0` for the server's capacity (clients send back to back).

A client is the only writer of its group, so it knows every answer's version without reading a page: a save is
acknowledged when the server redirects to the report page (the client does not follow the redirect). Afterwards
every acknowledged text must be the answer's current text or one of its saved revisions, the last one current,
and every client's ticks must match the stored marks.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
WITH_POSTGRES = ROOT / ".ci" / "with-postgres"
DEMO_TEMPLATE = ROOT / "reports_app" / "demo" / "template.md"
HOST = "127.0.0.1"
MIX = {"view": 60, "save": 25, "tick": 15}
WORDS = "data model pipeline training we used the a container cloud test our and to of for with deploy metrics".split()
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Student:
    """What one client knows of its group: the versions it saved and the items it ticked."""

    group_id: int
    session: str
    words: dict[int, tuple[int, int]]  # question number -> word range of its answers
    versions: dict[int, int]  # question number -> current version
    positions: list[int]  # checklist positions it may tick
    ticked: set[int] = field(default_factory=set)
    unsure: set[int] = field(default_factory=set)  # positions whose tick failed: their state is unknown


@dataclass
class Result:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in MIX})
    errors: list[str] = field(default_factory=list)
    acknowledged: list[tuple[int, int, str]] = field(default_factory=list)  # (group, question, text)
    ticks: int = 0
    reconnects: int = 0


def answer_text(words: tuple[int, int], rng: random.Random, marker: str) -> str:
    """Filler within the question's word rule, first line unique, as the form stores it (LF, no trailing space)."""
    count = rng.randint(max(words[0], 1), words[1])
    body = [rng.choice(WORDS) for _ in range(count)]
    return "\n".join([marker] + [" ".join(body[i : i + 14]) for i in range(0, len(body), 14)])


def setup(clients: int, rng: random.Random) -> list[Student]:
    """A course on the demo template, one group, student and filled report per client; each student logged in."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from reports_app.models import Course, Group, Membership, Report
    from reports_app.services.answers import answer_save
    from reports_app.services.templates import template_load

    run = secrets.token_hex(3)
    template, _ = template_load(name="demo-v1", source=DEMO_TEMPLATE.read_text(encoding="utf-8"))
    questions = list(template.questions.all())
    words = {q.number: (q.min_words, q.max_words) if q.min_words is not None else (5, 60) for q in questions}
    positions = list(template.checklist.values_list("position", flat=True))
    students = []
    with transaction.atomic():
        course = Course.objects.create(
            code=f"BENCH-{run}",
            title="Load benchmark",
            template=template,
            deadline=timezone.now() + timedelta(days=365),
        )
        for number in range(1, clients + 1):
            user = get_user_model().objects.create_user(f"bench-{run}-{number}")  # no password: unusable
            group = Group.objects.create(course=course, number=number)
            Membership.objects.create(user=user, group=group)
            report = Report.objects.create(group=group, template=template)
            for question in questions:
                text = answer_text(words[question.number], rng, f"Filled before the run, question {question.number}.")
                answer_save(report=report, question=question, text=text, base_version=0, user=user)
            browser = Client()
            browser.force_login(user)
            session = browser.cookies[settings.SESSION_COOKIE_NAME].value
            students.append(Student(group.pk, session, words, dict.fromkeys(words, 1), list(positions)))
    return students


class Browser:
    """One student's keep-alive connection and cookies; `request` returns (status, headers, body)."""

    def __init__(self, port: int, session: str):
        from django.conf import settings

        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        csrf = secrets.token_hex(16)  # 32 letters and digits: a valid unmasked CSRF secret
        self.cookies = {settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: csrf}
        self.csrf = csrf
        self.reconnects = 0

    def request(self, method: str, path: str, form: dict | None = None, accept: str = "text/html"):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Accept": accept}
        body = None
        if form is not None:
            body = urlencode(form)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.csrf}
        for attempt in (1, 2):
            reused = self.conn.sock is not None
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection as we reused it: send again, once, as browsers do.
                # A save sent twice is harmless: the second finds its text current and redirects like the first.
                self.conn.close()
                if not reused or attempt == 2:
                    raise
                self.reconnects += 1
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, response.headers, data


def run_client(
    student: Student, port: int, start: threading.Barrier, stop_at: list[float], think: float, seed: int, out: Result
) -> None:
    rng = random.Random(seed)
    browser = Browser(port, student.session)
    report = f"/groups/{student.group_id}/"
    try:  # warm-up, not timed: also proves the session works
        status, headers, _ = browser.request("GET", report)
        if status != 200:
            out.errors.append(f"warm-up: GET {report} gave {status} {headers.get('Location', '')}")
    except (OSError, http.client.HTTPException) as exc:
        out.errors.append(f"warm-up: {type(exc).__name__}: {exc}")
    start.wait()
    time.sleep(rng.uniform(0, think))  # students don't click in step
    saves = 0
    while time.perf_counter() < stop_at[0]:
        kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if (kind == "save" and not student.versions) or (kind == "tick" and not student.positions):
            kind = "view"
        number = position = 0
        t = time.perf_counter()
        try:
            if kind == "view":
                status, headers, _ = browser.request("GET", report)
                error = None if status == 200 else f"view: {status}, expected 200"
            elif kind == "save":
                number = rng.choice(list(student.versions))
                saves += 1
                text = answer_text(student.words[number], rng, f"Save {saves} of group {student.group_id}.")
                form = {"text": text, "version": student.versions[number], "save": ""}
                status, headers, _ = browser.request("POST", f"{report}questions/{number}/", form)
                location = headers.get("Location", "")
                if status == 302 and location == f"{report}#question-{number}":
                    student.versions[number] += 1
                    out.acknowledged.append((student.group_id, number, text))
                    error = None
                else:
                    error = f"save: {status} {location}, expected 302 to the report"
            else:
                position = rng.choice(student.positions)
                checked = position not in student.ticked
                form = {"item": position} if checked else {"was": position}
                status, _, data = browser.request("POST", f"{report}checklist/", form, accept="application/json")
                if status == 200 and json.loads(data) == {"saved": {str(position): checked}}:
                    student.ticked ^= {position}
                    out.ticks += 1
                    error = None
                else:
                    error = f"tick: {status} {data[:80]!r}, expected 200 and the change"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{kind}: {type(exc).__name__}: {exc}"
            browser.conn.close()
        out.latencies[kind].append((time.perf_counter() - t) * 1000)
        if error:
            out.errors.append(error)
            # Whether a failed write was stored is unknown, and so is the version or mark it left: leave it be.
            if kind == "save":
                del student.versions[number]
            elif kind == "tick":
                student.positions.remove(position)
                student.unsure.add(position)
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    out.reconnects = browser.reconnects
    browser.conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, threads: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """gunicorn, answering once this returns (polled; raises with its log if it dies or stays silent for 60 s)."""
    worker_class = "gthread" if threads > 1 else "sync"
    command = [sys.executable, "-m", "gunicorn", "course.wsgi", "-b", f"{HOST}:{port}", "-k", worker_class]
    command += ["--workers", str(workers), "--threads", str(threads), "--keep-alive", "5", "--log-level", "warning"]
    with log.open("wb") as log_file:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    give_up = time.monotonic() + 60
    while True:
        if server.poll() is not None or time.monotonic() > give_up:
            stop_server(server)
            raise SystemExit(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.05)  # not listening yet


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def process_cpu(pid: int | None) -> dict[int, float]:
    """CPU seconds (user + system) of a process and of its children, by pid (from /proc)."""
    try:
        pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    except (OSError, TypeError):
        return {}
    seconds = {}
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        seconds[p] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return seconds


def postmaster_pid() -> int | None:
    """PostgreSQL's main process, whose children are the backends; None when its data directory is not readable."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            return int((Path(cursor.fetchone()[0]) / "postmaster.pid").read_text().split()[0])
    except Exception:
        return None


def cpu_snapshot(server: int, postmaster: int | None) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stat = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return {
        "busy": (sum(stat[:8]) - stat[3] - stat[4]) / CLK_TCK,  # every core, minus idle and iowait
        "gunicorn": process_cpu(server),
        "postgres": process_cpu(postmaster),
        "clients": usage.ru_utime + usage.ru_stime,
    }


def cpu_used(before: dict, after: dict, elapsed: float) -> dict[str, float]:
    """Cores busy on average over `elapsed`, by who used them; processes started meanwhile count from zero."""
    used = {}
    for name, value in after.items():
        if isinstance(value, dict):
            value = sum(t - before[name].get(p, 0.0) for p, t in value.items())
        else:
            value -= before[name]
        used[name] = value / elapsed
    used["other"] = used["busy"] - used["gunicorn"] - used["postgres"] - used["clients"]
    return used


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, int(-(-len(ordered) * p // 100)) - 1)] if ordered else float("nan")


def check_database(students: list[Student], results: list[Result]) -> tuple[int, int, int]:
    """(acknowledged saves not stored, answers whose last acknowledged save is not current, ticks not as stored)."""
    from reports_app.models import Answer, AnswerRevision, ChecklistMark

    groups = [s.group_id for s in students]
    current = {
        (g, n): text
        for g, n, text in Answer.objects.filter(report__group_id__in=groups).values_list(
            "report__group_id", "question__number", "text"
        )
    }
    stored = set(
        AnswerRevision.objects.filter(answer__report__group_id__in=groups, kind=AnswerRevision.Kind.SAVED).values_list(
            "answer__report__group_id", "answer__question__number", "text"
        )
    )
    lost, last = 0, {}
    for result in results:
        for group, number, text in result.acknowledged:
            lost += text != current.get((group, number)) and (group, number, text) not in stored
            last[group, number] = text
    not_current = sum(text != current.get(key) for key, text in last.items())
    marks = set(
        ChecklistMark.objects.filter(report__group_id__in=groups, checked=True).values_list(
            "report__group_id", "item__position"
        )
    )
    wrong_ticks = sum(
        len(
            {(s.group_id, p) for p in s.ticked - s.unsure}
            ^ {m for m in marks if m[0] == s.group_id and m[1] not in s.unsure}
        )
        for s in students
    )
    return lost, not_current, wrong_ticks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30, help="seconds of load")
    ap.add_argument("--think", type=float, default=2, help="mean pause between a client's requests, in seconds")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers)")
    ap.add_argument("--seed", type=int, default=2476)
    args = ap.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("No PostgreSQL DATABASE_URL: running under .ci/with-postgres", file=sys.stderr, flush=True)
        script = str(Path(__file__).resolve())
        os.environ.setdefault("PGPORT_TEST", str(free_port()))  # its default port may be another run's
        os.execv(WITH_POSTGRES, [str(WITH_POSTGRES), sys.executable, script, *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        return run(args, Path(tmp))


def run(args: argparse.Namespace, tmp: Path) -> int:
    server_env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),  # shared with the server: sessions are signed with it
        "ALLOWED_HOSTS": HOST,
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(tmp / "media"),
        "DJANGO_SETTINGS_MODULE": "course.settings",
    }
    os.environ.update(server_env)  # gunicorn inherits them
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    rng = random.Random(args.seed)
    t = time.perf_counter()
    call_command("migrate", "--noinput", verbosity=0)
    students = setup(args.clients, rng)
    setup_s = time.perf_counter() - t
    port = free_port()
    server = start_server(port, args.workers, args.threads, dict(os.environ), tmp / "gunicorn.log")
    try:
        results = [Result() for _ in students]
        start = threading.Barrier(len(students) + 1)
        stop_at = [float("inf")]  # set when every client is ready
        threads = [
            threading.Thread(
                target=run_client, args=(s, port, start, stop_at, args.think, args.seed + i, r), daemon=True
            )
            for i, (s, r) in enumerate(zip(students, results, strict=True))
        ]
        for thread in threads:
            thread.start()
        start.wait(timeout=300)  # every client has loaded its page once
        postmaster = postmaster_pid()
        before = cpu_snapshot(server.pid, postmaster)
        t0 = time.perf_counter()
        stop_at[0] = t0 + args.duration
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - t0
        after = cpu_snapshot(server.pid, postmaster)
    finally:
        stop_server(server)
    lost, not_current, wrong_ticks = check_database(students, results)

    pool = "sync workers" if args.threads == 1 else f"gthread workers x {args.threads} threads, keep-alive 5 s"
    print(
        f"gunicorn {args.workers} {pool}; DEBUG=0, CONN_MAX_AGE=60; "
        f"PostgreSQL {connection.pg_version // 10000} on {HOST}; {os.cpu_count()} cores"
    )
    print(
        f"{args.clients} clients for {args.duration:g} s, think {0.5 * args.think:g}-{1.5 * args.think:g} s, "
        f"mix {', '.join(f'{k} {v}%' for k, v in MIX.items())}; setup {setup_s:.1f} s"
    )
    latencies = {kind: [ms for r in results for ms in r.latencies[kind]] for kind in MIX}
    latencies["all"] = [ms for kind in MIX for ms in latencies[kind]]
    total = len(latencies["all"])
    print(f"requests {total} in {elapsed:.1f} s: {total / elapsed:.1f}/s")
    print(f"{'ms':6} {'count':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for kind, values in latencies.items():
        cells = " ".join(f"{percentile(values, p):7.1f}" for p in (50, 95, 99, 100))
        print(f"{kind:6} {len(values):6} {cells}")
    cpu = cpu_used(before, after, elapsed)
    print(
        f"cores busy on average {cpu['busy']:.2f} of {os.cpu_count()}: gunicorn {cpu['gunicorn']:.2f}, "
        f"postgres {cpu['postgres']:.2f}, clients {cpu['clients']:.2f}, other processes {cpu['other']:.2f}"
    )
    per_request = {name: cpu[name] * elapsed / max(total, 1) * 1000 for name in ("gunicorn", "postgres")}
    print(f"cpu per request: gunicorn {per_request['gunicorn']:.1f} ms, postgres {per_request['postgres']:.1f} ms")
    restarted = sorted(set(after["gunicorn"]) - set(before["gunicorn"]))
    errors = [e for r in results for e in r.errors]
    print(f"errors {len(errors)}" + (f"; gunicorn restarted workers {restarted}" if restarted else ""))
    for reason, count in Counter(errors).most_common(5):
        print(f"  {count} x {reason}")
    reconnects = sum(r.reconnects for r in results)
    if reconnects:
        print(f"keep-alive connections closed by the server and reopened: {reconnects}")
    acknowledged = sum(len(r.acknowledged) for r in results)
    print(f"acknowledged saves {acknowledged}, lost {lost}; last acknowledged save not current {not_current}")
    print(f"acknowledged ticks {sum(r.ticks for r in results)}, marks not as the clients left them {wrong_ticks}")
    print("target: p95 < 150 ms at 50 clients, 0 errors, 0 lost saves")
    return 1 if lost or not_current or wrong_ticks else 0


if __name__ == "__main__":
    sys.exit(main())
