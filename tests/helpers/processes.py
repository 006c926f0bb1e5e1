"""Helpers for tests that run the site in other processes (a `db_worker`, gunicorn) against the test database.

Such tests use `django_db(transaction=True)`, so that what they set up is committed and the other processes see it.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]  # the project folder
T = TypeVar("T")


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def database_url() -> str:
    """The URL of the test database (not the one in DATABASE_URL, whose name pytest-django prefixed with test_)."""
    db = connection.settings_dict
    if is_sqlite():
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def site_env(**extra: str) -> dict[str, str]:
    """The environment of a site process that shares this test's database, media folder and secret key."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "course.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": settings.SECRET_KEY,
        "SCRAPE_ALLOWED_URLS": ",".join(settings.SCRAPE_ALLOWED_URLS),
        "LOG_LEVEL": "WARNING",
    }
    return env | extra


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in a session of its own, so that `kill_all` reaches its children too (git, render processes)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill_all(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started: no clean-up code of ours runs, as when a machine dies."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = 60, log: Path | None = None, process=None
) -> object:
    """Poll `condition` until it gives something true; fail with `what` (and the log's end) after `timeout` s, or at
    once when `process` has exited."""
    give_up = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > give_up or (process is not None and process.poll() is not None):
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"gave up waiting for {what}\n{tail}")
        time.sleep(0.02)  # a poll interval, not a guess at how long something takes
    return result


@contextmanager
def sqlite_reader(until: Callable[[sqlite3.Connection], object] | None = None, timeout: float = 60) -> Iterator[None]:
    """Hold a read lock on the SQLite test database: other connections may write, but none can commit.

    With `until`, the lock is held from the first snapshot in which `until(reader)` is true: what it saw and the lock
    are one transaction, so nothing can have moved on between them (a worker racing through its last steps).
    """
    reader = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=20)  # past a commit
    give_up = time.monotonic() + timeout
    try:
        while True:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM django_migrations").fetchone()
            if until is None or until(reader):
                break
            reader.execute("ROLLBACK")
            if time.monotonic() > give_up:
                raise AssertionError("gave up waiting for the database to reach the state asked for")
            time.sleep(0.002)  # a poll interval, not a guess at how long something takes
        yield
    finally:
        reader.execute("ROLLBACK")
        reader.close()


def job_done_at_least(job_id: int, count: int) -> Callable[[sqlite3.Connection], bool]:
    """For `sqlite_reader(until=...)`: the job has recorded `count` groups done."""

    def reached(reader: sqlite3.Connection) -> bool:
        row = reader.execute("SELECT done FROM reports_app_job WHERE id = ?", (job_id,)).fetchone()
        return row is not None and row[0] >= count

    return reached


def sqlite_writing() -> bool:
    """True while another connection is inside a write transaction of the SQLite test database and has written in it
    (the rollback journal exists); under `sqlite_reader` it cannot commit, so it stays so."""
    if not Path(f"{connection.settings_dict['NAME']}-journal").exists():
        return False
    probe = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def postgres_lock_waits() -> list[str]:
    """The statements of the test database's sessions that wait for a lock (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees the same snapshot every time
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [row[0] for row in cursor.fetchall()]


def all_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Call each in a thread of its own, all released at the same moment; their results in order. Each thread's
    database connection is closed when its call ends."""
    start = threading.Barrier(len(calls))

    def call(function: Callable[[], T]) -> T:
        start.wait()
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(call, calls))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 4) -> Iterator[int]:
    """The site under gunicorn (sync workers, as in production) on a free loopback port, answering once this yields
    the port; stopped at the end."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "course.wsgi", "-b", f"127.0.0.1:{port}", "--workers", str(workers)]
    server = start(command, env | {"DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}, log)
    try:
        wait_for(lambda: _answers(port), "gunicorn to answer", log=log, process=server)
        yield port
    finally:
        kill_all(server)


def _answers(port: int) -> bool:
    try:
        return Browser(port).request("GET", "/accounts/login/")[0] == 200
    except OSError:
        return False


class Browser:
    """One person's cookies against a site on loopback; a new connection per request. Sends the CSRF header."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict[str, str], str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers |= {"Content-Type": "application/x-www-form-urlencoded"}
            headers |= {"X-CSRFToken": self.cookies.get("csrftoken", ""), "Referer": f"http://127.0.0.1:{self.port}/"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, dict(response.headers), page

    def log_in(self, username: str, password: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _, page = self.request("POST", "/accounts/login/", {"username": username, "password": password})
        assert status == 302, f"login of {username}: {status} {page[:300]}"


def without_database(code: str, *, debug: bool = True) -> subprocess.CompletedProcess:
    """Run `code` (after django.setup()) in a site whose database does not answer: a PostgreSQL on port 1, which
    refuses at once on this machine. Its last line of output is what the test reads."""
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "ALLOWED_HOSTS": "testserver"}
    env["DJANGO_SETTINGS_MODULE"] = "course.settings"
    if not debug:
        env |= {"DEBUG": "0", "SECRET_KEY": "test-" + "k" * 50}
    program = f"import django; django.setup(); {code}"
    return subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
