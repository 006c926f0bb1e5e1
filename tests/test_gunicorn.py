"""The site as production runs it, gunicorn with several worker processes: students saving one answer at the same
moment, and a database that restarts under load. A save is acknowledged when the server redirects to the report;
an acknowledged save must never be lost, and a refused one must be given back to its author."""

import functools
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import escape

from reports_app.models import Answer, AnswerRevision, Group, Membership
from tests.helpers.processes import ROOT, Browser, all_at_once, free_port, gunicorn, site_env, wait_for

VERSION = re.compile(r'name="version" value="(\d+)"')


def version_on(page: str) -> int:
    return int(VERSION.search(page).group(1))


@pytest.mark.django_db(transaction=True)
def test_five_students_saving_one_answer_at_once_through_four_processes_lose_nothing(course, settings, tmp_path):
    settings.SECRET_KEY = "test-" + secrets.token_urlsafe(40)  # the server's too: sessions are checked with it
    group = Group.objects.create(course=course, number=1)
    url = f"/groups/{group.pk}/questions/1/"
    sessions = {}
    for n in range(1, 6):
        user = get_user_model().objects.create_user(f"student{n}")
        Membership.objects.create(user=user, group=group)
        client = Client()
        client.force_login(user)
        sessions[user.username] = client.cookies[settings.SESSION_COOKIE_NAME].value

    acknowledged, conflicts = [], []  # (version it replaced, text), in the order the server answered
    with gunicorn(site_env(SECRET_KEY=settings.SECRET_KEY), tmp_path / "gunicorn.log", workers=4) as port:
        browsers = {name: Browser(port) for name in sessions}
        for name, browser in browsers.items():
            browser.cookies[settings.SESSION_COOKIE_NAME] = sessions[name]
        for round in range(1, 5):
            # Everyone opens the editor on the same version, then all press Save at once.
            versions = {version_on(browser.request("GET", url)[2]) for browser in browsers.values()}
            assert len(versions) == 1
            [base] = versions
            texts = {name: f"Round {round}: the text of {name}." for name in browsers}
            answers = all_at_once(
                [
                    functools.partial(browser.request, "POST", url, {"text": texts[name], "version": base, "save": ""})
                    for name, browser in browsers.items()
                ]
            )
            for text, (status, headers, page) in zip(texts.values(), answers, strict=True):
                if status == 302:
                    assert headers["Location"] == f"/groups/{group.pk}/#question-1"
                    acknowledged.append((base, text))
                else:  # the editor again, with the newer version beside the student's own text, to merge
                    assert status == 200 and 'id="conflict"' in page, (status, page[:300])
                    assert f"{escape(text)}</textarea>" in page
                    conflicts.append((base, text))
            assert [b for b, _ in acknowledged].count(base) == 1  # exactly one of them saved over `base`

    answer = Answer.objects.get(report__group=group, question__number=1)
    saved = list(answer.revisions.filter(kind=AnswerRevision.Kind.SAVED).order_by("version"))
    assert [(r.version - 1, r.text) for r in saved] == acknowledged  # every acknowledged save, once, in order
    attempts = answer.revisions.filter(kind=AnswerRevision.Kind.CONFLICT).values_list("version", "text")
    assert sorted(attempts) == sorted(conflicts)  # every refused save is kept for its author
    assert (answer.version, answer.text) == (4, acknowledged[-1][1]) and len(conflicts) == 16


# --- a database restart under load ------------------------------------------------------------------------------


class Postgres:
    """A throwaway PostgreSQL cluster on a free loopback port, which the test stops and starts (Debian's server)."""

    def __init__(self):
        found = subprocess.run([ROOT / ".ci" / "ensure-postgres"], capture_output=True, text=True)  # as make test does
        assert found.returncode == 0, found.stderr
        self.bin = Path(found.stdout.strip())
        self.data = Path(tempfile.mkdtemp(prefix="pg-restart-"))  # not under pytest's folder: postgres must enter it
        self.port = free_port()
        self.as_owner = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.data, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def pg(self, program: str, *args) -> None:
        subprocess.run([*self.as_owner, self.bin / program, *map(str, args)], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self.pg("pg_ctl", "-D", self.data, "-l", self.data / "log", "-w", "-o", options, "start")

    def crash(self) -> None:
        """Stop at once, as a killed server or a lost machine would: no checkpoint, recovery on the next start."""
        self.pg("pg_ctl", "-D", self.data, "-m", "immediate", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_owner, self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture
def postgres():
    cluster = Postgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


class Student(threading.Thread):
    """Saves its own answer again and again: open the editor, read the version, save a new text."""

    def __init__(self, port: int, username: str, stop: threading.Event):
        super().__init__(name=username)
        self.browser, self.username, self.stop = Browser(port), username, stop
        self.acknowledged: list[str] = []  # texts the server redirected for: saved
        self.unsure: list[str] = []  # texts sent when the database was down: given back, perhaps saved
        self.unavailable = 0  # 503 answers, each with the sentence that says why
        self.wrong: list[str] = []  # anything else: a failure of the test

    def log_in(self) -> None:
        self.browser.log_in(self.username, f"{self.username}-demo")
        home = self.browser.request("GET", "/")[1]["Location"]  # a student of one group lands on its report
        number = {"alice": 1, "bob": 2, "charlie": 1, "dana": 2, "erik": 1, "frida": 2, "gustav": 3}[self.username]
        self.url = f"{home}questions/{number}/"

    def run(self) -> None:
        try:
            self.save_until_stopped()
        except Exception as error:  # reported by the test, which would otherwise only wait in vain
            self.wrong.append(f"{type(error).__name__}: {error}")
            raise

    def save_until_stopped(self) -> None:
        url = self.url
        n = 0
        while not self.stop.is_set():
            status, _, page = self.browser.request("GET", url)
            if status != 200:
                self.note(status, page)
                continue
            n += 1
            text = f"Save {n} of {self.username}."
            status, _, page = self.browser.request("POST", url, {"text": text, "version": version_on(page), "save": ""})
            if status == 302:
                self.acknowledged.append(text)
            elif self.note(status, page):
                assert f"{text}</textarea>" in page  # given back to copy
                self.unsure.append(text)

    def note(self, status: int, page: str) -> bool:
        if status == 503 and "The site cannot reach its database right now" in page:
            self.unavailable += 1
            return True
        self.wrong.append(f"{status}: {page[:200]}")
        return False


def test_a_database_crash_under_load_loses_no_acknowledged_save(postgres, tmp_path):
    env = site_env(DATABASE_URL=postgres.url, MEDIA_ROOT=str(tmp_path / "media"), CONN_MAX_AGE="60")
    env["SECRET_KEY"] = "test-" + secrets.token_urlsafe(40)
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    stop = threading.Event()
    with gunicorn(env, tmp_path / "gunicorn.log", workers=3) as port:
        names = ("alice", "bob", "charlie", "dana", "erik", "frida", "gustav")
        students = [Student(port, name, stop) for name in names]
        for student in students:
            student.log_in()
        for student in students:
            student.start()
        try:
            wait_for(lambda: sum(len(s.acknowledged) for s in students) >= 20, "20 saves before the crash")
            postgres.crash()
            wait_for(lambda: sum(s.unavailable for s in students) >= 3, "students to meet the database down")
            postgres.start()
            after = [len(s.acknowledged) for s in students]
            wait_for(
                lambda: all(len(s.acknowledged) >= a + 3 for s, a in zip(students, after, strict=True)),
                "3 saves of every student after the restart",
            )
        finally:
            stop.set()
            for student in students:
                student.join()

    assert [s.wrong for s in students] == [[]] * len(students)  # only 302, or 503 with the reason and the text
    with psycopg.connect(postgres.url) as db:
        rows = db.execute(
            "SELECT u.username, r.version, r.text FROM reports_app_answerrevision r "
            "JOIN auth_user u ON u.id = r.author_id WHERE r.kind = 'saved' ORDER BY r.version"
        ).fetchall()
        current = dict(
            db.execute(
                "SELECT u.username, a.text FROM reports_app_answer a JOIN auth_user u ON u.id = a.updated_by_id"
            ).fetchall()
        )
    for student in students:
        stored = [text for username, _, text in rows if username == student.username]
        assert set(student.acknowledged) <= set(stored), f"{student.username} lost an acknowledged save"
        assert set(stored) <= set(student.acknowledged) | set(student.unsure)  # nothing stored that was not sent
        last = stored.index(student.acknowledged[-1])
        assert current[student.username] == stored[-1] and set(stored[last + 1 :]) <= set(student.unsure)
    assert sum(s.unavailable for s in students) >= 3 and all(s.acknowledged for s in students)
