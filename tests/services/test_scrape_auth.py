"""Private repos read with a token, servers that rate limit, and the cap on reads per host: against a real smart-HTTP
git server of the test's own (tests/helpers/git_http.py) on 127.0.0.1."""

from __future__ import annotations

import base64
import logging
import threading
from contextlib import suppress
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from course.settings import env_credentials
from reports_app import scraping, tasks
from reports_app.models import Group, Job, Scrape
from reports_app.services.scrapes import course_scrape, group_scrape
from tests.conftest import client_for
from tests.helpers.authorization import snapshot
from tests.helpers.git_http import git_http_server
from tests.helpers.repos import FILLED, JAN_10, make_repo, sha_of

TOKEN = "ghp_TestOnlyToken0123456789abcdefRIGHT"
WRONG = "ghp_TestOnlyToken0123456789abcdefWRONG"
USER = "x-access-token"


def basic(secret: str) -> str:
    return base64.b64encode(f"{USER}:{secret}".encode()).decode()


def secrets_in(text: str) -> list[str]:
    """Which of the two tokens (as typed, or in their Basic form) `text` holds."""
    return [s for secret in (TOKEN, WRONG) for s in (secret, basic(secret)) if s in text]


@pytest.fixture
def served(tmp_path) -> Path:
    """A folder of bare repos for the server: good/report.git and bad/report.git, both holding a filled report."""
    for folder in ("good", "bad"):
        make_repo(tmp_path / "served" / folder, "report", [(JAN_10, {"reports/README.md": FILLED})])
    return tmp_path / "served"


def on(group: Group, url: str) -> Group:
    group.repo_url = url
    group.save(update_fields=["repo_url"])
    return group


def test_a_private_repo_is_read_with_the_token_for_its_prefix(settings, served, group1):
    with git_http_server(served, auth=(USER, TOKEN)) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        # the longest prefix over the URL wins
        settings.SCRAPE_CREDENTIALS = [(server.url, WRONG), (f"{server.url}good", TOKEN)]
        scrape = group_scrape(group=on(group1, f"{server.url}good/report.git"), at_deadline=False)

    assert (scrape.status, scrape.message) == (Scrape.Status.OK, "")
    assert scrape.commit_sha == sha_of(f"file://{served}/good/report.git")
    assert server.authorizations and set(server.authorizations) == {f"Basic {basic(TOKEN)}"}


def test_a_wrong_token_says_authentication_failed_and_which_prefix_never_the_token(settings, served, group1):
    with git_http_server(served, auth=(USER, TOKEN)) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        settings.SCRAPE_CREDENTIALS = [(server.url, WRONG)]
        scrape = group_scrape(group=on(group1, f"{server.url}good/report.git"), at_deadline=False)

    assert scrape.status == Scrape.Status.AUTH_FAILED
    assert scrape.message == scraping.AUTH_FAILED.format(prefix=server.url)
    assert scrape.get_status_display() == "authentication failed"


def test_without_a_token_a_private_repo_is_unreachable_as_before(settings, served, group1):
    with git_http_server(served, auth=(USER, TOKEN)) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        settings.SCRAPE_CREDENTIALS = [("https://github.com/", TOKEN)]  # not for this server: never sent there
        scrape = group_scrape(group=on(group1, f"{server.url}good/report.git"), at_deadline=False)

    assert scrape.status == Scrape.Status.UNREACHABLE
    assert "does not exist or is private" in scrape.message
    assert server.authorizations == []


def test_plain_http_is_refused_off_this_machine(tmp_path):
    """Plain http is let through to 127.0.0.1 (the test's server) only; a credential in the URL stays refused."""
    assert "protocol.http.allow=always" in scraping._Git.for_url("http://127.0.0.1:9/x.git", tmp_path, 5).options
    assert "protocol.http.allow=always" not in scraping._Git.for_url("http://example.org/x.git", tmp_path, 5).options
    with pytest.raises(scraping.RepoRefused, match="user name or password"):
        scraping.check_url(f"http://{USER}:{TOKEN}@127.0.0.1:9/x.git", ["http://127.0.0.1:9/"])


class ProcessWatch:
    """Every command line on the machine (/proc/*/cmdline, what `ps -eo args` shows), sampled until stopped."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                with suppress(OSError):  # the process ended meanwhile
                    self.seen.add(cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
            self._stop.wait(0.005)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.timeout(120)
def test_the_tokens_appear_nowhere_processes_database_logs_or_job_page(
    settings, served, course, group1, group2, instructor, caplog
):
    caplog.set_level(logging.DEBUG)
    # the server takes its time, so that each git process lives long enough to be seen
    with git_http_server(served, auth=(USER, TOKEN), delay=0.2) as server, ProcessWatch() as processes:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        settings.SCRAPE_CREDENTIALS = [(f"{server.url}good/", TOKEN), (f"{server.url}bad/", WRONG)]
        on(group1, f"{server.url}good/report.git")
        on(group2, f"{server.url}bad/report.git")
        job = Job.objects.create(kind=Job.Kind.SCRAPE, course=course, created_by=instructor)
        tasks.job_run(job.pk)

    statuses = {s.group.number: (s.status, s.message) for s in Scrape.objects.filter(job=job)}
    assert statuses == {
        1: (Scrape.Status.OK, ""),
        2: (Scrape.Status.AUTH_FAILED, scraping.AUTH_FAILED.format(prefix=f"{server.url}bad/")),
    }
    git_processes = [args for args in processes.seen if args.startswith("git ") and server.url in args]
    assert git_processes, "no git process was seen while the repos were read"
    assert secrets_in("\n".join(processes.seen)) == []
    assert secrets_in(repr(snapshot())) == []
    assert secrets_in(caplog.text) == []
    page = client_for("instructor").get(reverse("job", args=[job.pk]))
    assert "authentication failed" in page.content.decode()
    assert secrets_in(page.content.decode()) == []


def test_what_git_says_is_scrubbed_of_the_credential(tmp_path):
    """Should git ever echo the header or the token (a trace, a server's message), what we keep does not hold it."""
    credential = scraping.Credential("https://git.example.org/", f"bob:{TOKEN}")
    git = scraping._Git(tmp_path, 5, allow_file=False, credential=credential)
    said = f"remote: bad token {TOKEN}\nfatal: header Authorization: Basic {credential.basic} refused"
    error = git._failure(said)
    assert TOKEN not in str(error) and credential.basic not in str(error)
    assert "[credential]" in str(error)
    assert TOKEN not in repr(credential)


@pytest.mark.parametrize(
    ("refusal", "retry_after"),
    [(429, 1), (403, None)],  # 403 with GitHub's rate-limit words, no Retry-After: waits 1 s then 2 s
)
def test_a_rate_limited_repo_is_read_after_backing_off(settings, served, group1, refusal, retry_after):
    with git_http_server(served, refuse_first=2, refusal=refusal, retry_after=retry_after) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        scrape = group_scrape(group=on(group1, f"{server.url}good/report.git"), at_deadline=False)

    assert (scrape.status, scrape.message) == (Scrape.Status.OK, "")
    assert server.refused == 2


def test_a_repo_rate_limited_at_every_try_gets_a_clear_status(settings, served, group1):
    with git_http_server(served, refuse_first=1000, retry_after=0) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        scrape = group_scrape(group=on(group1, f"{server.url}good/report.git"), at_deadline=False)

    assert scrape.status == Scrape.Status.UNREACHABLE
    assert scrape.message == scraping.RATE_LIMITED.format(status=429, tries=scraping.MAX_TRIES)
    assert server.requests == scraping.MAX_TRIES


def test_a_retry_after_past_the_timeout_is_not_waited_for(settings, served, group1):
    settings.SCRAPE_TIMEOUT = 30
    with git_http_server(served, refuse_first=1000, refusal=403, retry_after=3600) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        scrape = group_scrape(group=on(group1, f"{server.url}good/report.git"), at_deadline=False)

    assert scrape.status == Scrape.Status.UNREACHABLE
    assert scrape.message == scraping.RATE_LIMIT_WAIT.format(status=403, wait=3600, left=30)
    assert server.requests == 1


@pytest.mark.timeout(120)
def test_a_course_scrape_reads_at_most_per_host_repos_of_one_server_at_once(settings, tmp_path, course):
    for n in range(1, 7):
        make_repo(tmp_path / "served", f"g{n}", [(JAN_10, {"reports/README.md": FILLED})])
    settings.SCRAPE_PER_HOST = 2
    with git_http_server(tmp_path / "served", delay=0.1) as server:
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        groups = [Group.objects.create(course=course, number=n, repo_url=f"{server.url}g{n}.git") for n in range(1, 7)]
        scrapes = course_scrape(groups=groups, at_deadline=False, workers=6)

    assert [s.status for s in scrapes] == [Scrape.Status.OK] * 6
    assert server.most_at_once == 2


def test_credentials_come_from_the_variable_or_a_file_and_errors_never_show_a_token(monkeypatch, tmp_path):
    lines = f"# tokens\nhttps://github.com/ {TOKEN}\n\n  https://gitlab.example.org/acme  bob:{WRONG}\n"
    monkeypatch.setenv("SCRAPE_CREDENTIALS", lines)
    expected = [("https://github.com/", TOKEN), ("https://gitlab.example.org/acme", f"bob:{WRONG}")]
    assert env_credentials("SCRAPE_CREDENTIALS") == expected
    (tmp_path / "credentials").write_text(lines)
    monkeypatch.setenv("SCRAPE_CREDENTIALS", str(tmp_path / "credentials"))
    assert env_credentials("SCRAPE_CREDENTIALS") == expected

    for bad in (TOKEN, f"github.com {TOKEN}", f"https://github.com/ {TOKEN} extra"):
        monkeypatch.setenv("SCRAPE_CREDENTIALS", bad)
        with pytest.raises(ImproperlyConfigured) as error:
            env_credentials("SCRAPE_CREDENTIALS")
        assert TOKEN not in str(error.value), str(error.value)
