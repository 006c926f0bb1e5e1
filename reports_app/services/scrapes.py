"""Scraping group repos. The fetches run in threads (git does the waiting, in subprocesses; Pillow checks figures
without holding the GIL) and touch no database; every write happens in the calling thread, one transaction a group.
Whatever goes wrong with one group is that group's status; the other groups go on."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .. import scraping
from ..engine import figures, parsing, rendering
from ..models import (
    CommitSeen,
    Figure,
    Group,
    Job,
    Report,
    Scrape,
)
from .figures import figure_inspect, figure_store
from .reports import report_import

logger = logging.getLogger(__name__)

_SCRAPE_STATUS = {
    scraping.RepoRefused: Scrape.Status.REFUSED,
    scraping.RepoUnreachable: Scrape.Status.UNREACHABLE,
    scraping.RepoEmpty: Scrape.Status.EMPTY,
    scraping.RepoAuthFailed: Scrape.Status.AUTH_FAILED,
    scraping.RepoRateLimited: Scrape.Status.UNREACHABLE,
}
READ_FAILED = "the repo could not be read: {why}"
IMPORT_FAILED = "the report could not be imported: {why}"
READ_TOO_LONG = "reading the repo took longer than {seconds} s (setting JOB_GROUP_SECONDS); it was given up"
IMPORT_TOO_LONG = (
    "importing the report took longer than {seconds} s (setting JOB_GROUP_SECONDS); nothing of it was kept"
)


class ImportTooLong(Exception):
    """A group's import ran past its budget; its transaction is rolled back."""


def failure_reason(error: BaseException) -> str:
    """An exception as one line for people, at most 300 characters.

    >>> failure_reason(RecursionError("maximum recursion depth exceeded")), failure_reason(KeyError(7))
    ('it is nested too deeply to read', 'KeyError: 7')
    """
    if isinstance(error, rendering.RenderError):
        why = f"it cannot be rendered ({error})"
    elif isinstance(error, RecursionError):
        why = "it is nested too deeply to read"
    elif isinstance(error, MemoryError):
        why = "it needs more memory than there is"
    elif isinstance(error, DatabaseError):
        why = f"the database refused it ({error})"
    else:
        why = f"{type(error).__name__}: {error}"
    return " ".join(why.split())[:300]


@dataclass(frozen=True)
class RepoRead:
    """What `repo_fetch` read of a repo: the commit and its files, the figures checked to be images we keep."""

    fetched: scraping.Fetched
    # name in reports/figures/ -> (bytes, what they are; None for bytes stored already, not decoded again)
    images: dict[str, tuple[bytes, figures.ImageInfo | None]]
    skipped: list[tuple[str, str]]  # (path, reason) of the files not taken, figures that are not images included


def repo_fetch(*, url: str, before: datetime | None, known: Collection[str] = ()) -> RepoRead | scraping.RepoError:
    """What a repo's reports/ holds at its head (or at the last commit before `before`), or why it could not be read.

    Runs git in a fresh temporary folder, removed afterwards, and decodes every figure but those whose sha256 is in
    `known` (stored already: checked when stored, so a scrape decodes each figure once); no database access, so it
    may run in any thread.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="scrape-") as workdir:
            fetched = scraping.fetch_reports(
                url,
                allowed=settings.SCRAPE_ALLOWED_URLS,
                before=before,
                workdir=Path(workdir),
                timeout=settings.SCRAPE_TIMEOUT,
                max_bytes=settings.SCRAPE_MAX_BYTES,
                max_report_bytes=settings.REPORT_MAX_BYTES,
                max_figure_bytes=settings.FIGURE_MAX_BYTES,
                max_figures=settings.SCRAPE_MAX_FIGURES,
                credentials=settings.SCRAPE_CREDENTIALS,
            )
    except scraping.RepoError as e:
        return e
    images, skipped = {}, list(fetched.skipped)
    for name, data in sorted(fetched.figures.items()):
        if hashlib.sha256(data).hexdigest() in known:
            images[name] = (data, None)
            continue
        try:
            info = figure_inspect(data)  # the repo's bytes are kept as they are: the hand-in is the repo's
        except figures.FigureRejected as e:
            skipped.append((f"{scraping.FIGURES}{name}", str(e)))
        else:
            images[name] = (data, info)
    return RepoRead(fetched, images, skipped)


def _scrape_before(group: Group, at_deadline: bool) -> datetime | None:
    """The date a scrape reads the repo at (None: its head); ValueError when the scrape cannot be done at all."""
    if group.course.template_id is None and not Report.objects.filter(group=group).exists():
        raise ValueError(f"course {group.course.code} has no report template; load one first")
    if not at_deadline:
        return None
    if group.deadline is None:
        raise ValueError(f"group {group.number} has no deadline (neither the course nor the group has one)")
    return group.deadline


def group_scrape(
    *,
    group: Group,
    at_deadline: bool,
    job: Job | None = None,
    fetched: RepoRead | scraping.RepoError | BaseException | None = None,
    seconds: float | None = None,
) -> Scrape:
    """Read the group's repo (or take what `repo_fetch` read already) and import its report and figures.

    The Scrape records what came of it and becomes `group.last_scrape`, in the same transaction as the import, so a
    scrape that dies half-way leaves nothing half-imported. Answers that changed get versions labelled
    `repo@<sha>`; web edits stay in history. A commit imported already creates nothing new (`unchanged`).

    Nothing that goes wrong with this group's report raises: an exception (`fetched` may be the one its read raised)
    becomes the status "cannot import" with the reason, and an import that takes longer than `seconds` (default
    JOB_GROUP_SECONDS) is rolled back as "took too long". Only ValueError (the scrape cannot be done at all, before
    anything is read) and a database that fails again while the failure is recorded are raised.
    """
    before = _scrape_before(group, at_deadline)
    seconds = settings.JOB_GROUP_SECONDS if seconds is None else seconds
    if fetched is None:
        try:
            fetched = repo_fetch(url=group.repo_url, before=before)
        except Exception as error:
            fetched = error
    scrape = Scrape(group=group, job=job, repo_url=group.repo_url, at_deadline=at_deadline, fetched_at=timezone.now())
    if isinstance(fetched, BaseException) and not isinstance(fetched, scraping.RepoError):
        logger.error("group %s: reading its repo failed", group.pk, exc_info=fetched)
        return _scrape_record(scrape, Scrape.Status.FAILED, READ_FAILED.format(why=failure_reason(fetched)))
    deadline = time.monotonic() + seconds
    try:
        with transaction.atomic():
            _lock_timeout(seconds)
            if isinstance(fetched, scraping.RepoError):
                scrape.status, scrape.message = _SCRAPE_STATUS[type(fetched)], str(fetched)
            else:
                _scrape_import(scrape, fetched)
                # when the import ended: the versions it made are "at or before" its scrape (selectors.graded)
                scrape.fetched_at = timezone.now()
            if time.monotonic() > deadline:
                raise ImportTooLong
            scrape.save()
            _commit_seen(scrape, [] if isinstance(fetched, scraping.RepoError) else fetched.fetched.commits)
            group.last_scrape = scrape
            group.save(update_fields=["last_scrape"])
    except Exception as error:
        failed = Scrape(group=group, job=job, repo_url=group.repo_url, at_deadline=at_deadline)
        failed.fetched_at, failed.commit_sha, failed.commit_at = scrape.fetched_at, scrape.commit_sha, scrape.commit_at
        failed.skipped, failed.contributors = scrape.skipped, scrape.contributors
        failed.history_cut = scrape.history_cut
        if isinstance(error, ImportTooLong) or time.monotonic() > deadline:
            return _scrape_record(failed, Scrape.Status.TOO_LONG, IMPORT_TOO_LONG.format(seconds=f"{seconds:g}"))
        logger.error("group %s: importing its report failed", group.pk, exc_info=error)
        return _scrape_record(failed, Scrape.Status.FAILED, IMPORT_FAILED.format(why=failure_reason(error)))
    return scrape


def _scrape_record(scrape: Scrape, status: str, message: str) -> Scrape:
    """Save a scrape that imported nothing, with its status and why, as the group's last scrape."""
    scrape.status, scrape.message = status, message
    with transaction.atomic():
        scrape.save()
        scrape.group.last_scrape = scrape
        scrape.group.save(update_fields=["last_scrape"])
    return scrape


def _commit_seen(scrape: Scrape, commits: Collection[tuple[str, datetime]] = ()) -> None:
    """Record when the site first saw the commit the scrape read and every commit of the history it read (`commits`:
    sha, committer date): the server's clock, which a forged commit date cannot move (selectors.graded flags the two
    disagreeing). A commit seen before keeps its time. Two queries: the group's commits seen, the new ones."""
    found = dict(commits)
    if scrape.commit_sha and scrape.commit_at is not None:
        found[scrape.commit_sha] = scrape.commit_at
    if not found:
        return
    known = set(CommitSeen.objects.filter(group=scrape.group).values_list("sha", flat=True))
    new = [
        CommitSeen(group=scrape.group, sha=sha, committed_at=at, first_seen_at=scrape.fetched_at)
        for sha, at in found.items()
        if sha not in known
    ]
    CommitSeen.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)


def _lock_timeout(seconds: float) -> None:
    """On PostgreSQL, a row lock this transaction waits for longer than `seconds` raises (SQLite gives up after its
    own timeout): a transaction left open by a stuck worker must not hold up every scrape of the group after it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}")


def _scrape_import(scrape: Scrape, read: RepoRead) -> None:
    """Import what was read into the scrape's group and fill in the scrape (not saved yet)."""
    fetched = read.fetched
    scrape.commit_sha, scrape.commit_at = fetched.commit_sha, fetched.commit_at
    scrape.readme_blob = fetched.readme_blob
    scrape.contributors, scrape.history_cut = fetched.contributors, fetched.history_cut
    scrape.skipped = [list(s) for s in read.skipped]
    text, why = None, dict(fetched.skipped).get(scraping.README)
    if fetched.readme is not None:
        try:
            text = parsing.decode_text(fetched.readme, what="report")
        except ValueError as e:
            why = str(e)
    if text is None:
        scrape.status = Scrape.Status.NO_REPORT
        scrape.message = f"reports/README.md was not read: {why}" if why else "the commit has no reports/README.md"
        return
    label = f"repo@{fetched.commit_sha}"
    # Locked, so that two scrapes of one group (a job run again while its stopped worker comes back) take turns.
    report = Report.objects.select_related("template").select_for_update(of=("self",)).filter(group=scrape.group)
    report = report.first()
    notes = []
    if report is not None and report.source_label == label:
        scrape.unchanged, problems = True, report.problems  # imported already: nothing new, not even a figure
        if report.source_blob != fetched.readme_blob:  # imported before the committed bytes were kept
            Report.objects.filter(pk=report.pk).update(source_bytes=fetched.readme, source_blob=fetched.readme_blob)
    else:
        template = report.template if report is not None else scrape.group.course.template
        result = report_import(
            group=scrape.group,
            text=text,
            template=template,
            label=label,
            raw=fetched.readme,
            blob=fetched.readme_blob,
        )
        scrape.changed, problems = result.changed, [[p.line, p.message] for p in result.problems]
        scrape.skipped += [list(s) for s in _scrape_figures(result.report, read.images)]
    scrape.problems = problems
    scrape.status = Scrape.Status.PROBLEMS if problems else Scrape.Status.OK
    if problems:
        places = "1 place" if len(problems) == 1 else f"{len(problems)} places"
        notes.insert(0, f"the report deviates from its template in {places}")
    scrape.message = "; ".join(notes)


FIGURES_FULL = "the report has {count} figures already, the most a scrape fills it up to (setting SCRAPE_MAX_FIGURES)"
FIGURE_CASE_CLASH = "the report has a figure {other} already, a name that differs only in upper and lower case"


def _scrape_figures(report: Report, images: dict[str, tuple[bytes, figures.ImageInfo | None]]) -> list[tuple[str, str]]:
    """Store the repo's figures under their names: new ones added, changed ones replaced, others kept as they are.

    A new figure is left out (and returned with the reason) when the report holds SCRAPE_MAX_FIGURES figures
    already (figures gone from the repo stay), or one whose name differs from it only in case."""
    stored = {f.name: f for f in report.figures.all()}
    names = {figures.name_key(name): name for name in stored}
    skipped = []
    for name, (data, info) in images.items():
        figure = stored.get(name)
        if figure is None:
            if (other := names.get(figures.name_key(name))) is not None:
                skipped.append((f"{scraping.FIGURES}{name}", FIGURE_CASE_CLASH.format(other=other)))
                continue
            if len(stored) >= settings.SCRAPE_MAX_FIGURES:
                skipped.append((f"{scraping.FIGURES}{name}", FIGURES_FULL.format(count=len(stored))))
                continue
        digest = hashlib.sha256(data).hexdigest()
        if figure is None or figure.sha256 != digest:
            if info is None:  # stored already, under another name or in another report: not decoded by the fetch
                try:
                    info = figure_inspect(data)
                except figures.FigureRejected as e:
                    skipped.append((f"{scraping.FIGURES}{name}", str(e)))
                    continue
            figure = figure_store(
                report=report, name=name, data=data, info=info, digest=digest, user=None, figure=figure
            )
            stored[name], names[figures.name_key(name)] = figure, name
    return skipped


def course_scrape(
    *,
    groups: Iterable[Group],
    at_deadline: bool,
    workers: int,
    job: Job | None = None,
    progress: Callable[[Scrape], None] | None = None,
    working_on: Callable[[Group], None] | None = None,
    seconds: float | None = None,
    per_host: int | None = None,
) -> list[Scrape]:
    """Scrape every group: `workers` fetches at a time in threads, at most `per_host` (default SCRAPE_PER_HOST) of
    them from one host (a server's rate limits count per client); each group's import, in this thread, as soon as its
    fetch is done (`working_on(group)` as it begins), then `progress(scrape)`. Returns the scrapes in group order.

    Each group's read and its import may each take `seconds` (default JOB_GROUP_SECONDS): a read still running then
    is given up ("took too long"; its thread ends with git's own timeout, unheeded), as is an import (rolled back).
    ValueError, before anything is fetched, when a group cannot be scraped at all (no template, no deadline). At most
    2 x `workers` fetched repos wait in memory for their import.
    """
    groups = list(groups)
    seconds = settings.JOB_GROUP_SECONDS if seconds is None else seconds
    workers = max(1, workers)
    per_host = max(1, settings.SCRAPE_PER_HOST if per_host is None else per_host)
    plans = [(group, _scrape_before(group, at_deadline)) for group in reversed(groups)]
    # the figures stored already, which no fetch decodes again
    known = frozenset(Figure.objects.filter(report__group__in=[g.pk for g in groups]).values_list("sha256", flat=True))
    finished: queue.Queue[tuple[_Fetch, RepoRead | scraping.RepoError | BaseException]] = queue.Queue()
    running: dict[int, _Fetch] = {}  # by group pk: reading, not given up
    fetched: list[tuple[Group, RepoRead | scraping.RepoError | BaseException]] = []  # waiting for their import
    scrapes: dict[int, Scrape] = {}

    def record(scrape: Scrape) -> None:
        scrapes[scrape.group.pk] = scrape
        if progress is not None:
            progress(scrape)

    def take(read: _Fetch, result: RepoRead | scraping.RepoError | BaseException) -> None:
        """A read that ended joins the imports to do, unless it was given up already."""
        if running.pop(read.group.pk, None) is read:
            fetched.append((read.group, result))

    while plans or running or fetched:
        while plans and len(running) < workers and len(running) + len(fetched) < 2 * workers:
            if (at := _next_plan(plans, running.values(), per_host)) is None:
                break  # every host left to read has `per_host` reads running
            read = _Fetch(*plans.pop(at), known, finished)
            running[read.group.pk] = read
        while not finished.empty():  # every read that is done (only this thread takes from the queue)
            take(*finished.get_nowait())
        for read in [read for read in running.values() if read.started + seconds < time.monotonic()]:
            del running[read.group.pk]
            scrape = Scrape(group=read.group, job=job, repo_url=read.group.repo_url, at_deadline=at_deadline)
            scrape.fetched_at = timezone.now()
            record(_scrape_record(scrape, Scrape.Status.TOO_LONG, READ_TOO_LONG.format(seconds=f"{seconds:g}")))
        if fetched:
            group, result = fetched.pop(0)
            if working_on is not None:
                working_on(group)
            record(group_scrape(group=group, at_deadline=at_deadline, job=job, fetched=result, seconds=seconds))
        elif running:  # nothing to import: wait for a read to end, or for the first one to run out of time
            first = min(read.started for read in running.values())
            with contextlib.suppress(queue.Empty):
                take(*finished.get(timeout=max(0.0, first + seconds - time.monotonic()) + 0.01))
    return [scrapes[group.pk] for group in groups]


def _host(url: str) -> str | None:
    """The host a repo URL is read from, for the cap per host; None for a folder on this machine (file://).

    >>> _host("https://GitHub.com/acme/x"), _host("file:///srv/x.git")
    ('github.com', None)
    """
    parts = urlsplit(url.strip())
    return None if parts.scheme == "file" else parts.netloc.lower()


def _next_plan(plans: list[tuple[Group, datetime | None]], running: Iterable[_Fetch], per_host: int) -> int | None:
    """The index in `plans` of the next group to read (they are taken from the end) whose host has fewer than
    `per_host` reads running; None when there is none."""
    busy = Counter(_host(read.group.repo_url) for read in running)
    for at in range(len(plans) - 1, -1, -1):
        host = _host(plans[at][0].repo_url)
        if host is None or busy[host] < per_host:
            return at
    return None


class _Fetch:
    """`repo_fetch` of one group in a daemon thread of its own, which puts (itself, what it read) on `finished`.

    A thread of its own, not a pool's: one given up may go on (until git's timeout), and must not hold up the rest.
    What it raised is what it read, so that it becomes the group's status.
    """

    def __init__(self, group: Group, before: datetime | None, known: Collection[str], finished: queue.Queue) -> None:
        self.group, self.started = group, time.monotonic()
        args = (group.repo_url, before, known, finished)
        threading.Thread(target=self._run, args=args, name=f"scrape-{group.number}", daemon=True).start()

    def _run(self, url: str, before: datetime | None, known: Collection[str], finished: queue.Queue) -> None:
        try:
            result: RepoRead | scraping.RepoError | BaseException = repo_fetch(url=url, before=before, known=known)
        except Exception as error:
            result = error
        finished.put((self, result))
