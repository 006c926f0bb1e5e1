"""Background work: scraping a course's repos, exporting it for grading and sending mails run in `manage.py db_worker`.

A Job row is the part people see: created by `job_start` (the admin, the dashboard), it holds the progress and the
outcome, and the task only carries its id. The management commands call the same services directly.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from . import exporting
from .models import Course, Group, Job, Scrape
from .services.deadline_scrapes import deadline_scrape_run
from .services.outbox import mails_send
from .services.scrapes import course_scrape

logger = logging.getLogger(__name__)


SCRAPE_BUSY = (
    "A scrape of {course} is {state} already (job #{pk}, started {when}): it is in the course's jobs. "
    "Start another once it is done."
)


class JobBusy(Exception):
    """The job (or a scrape of the same course) is queued or running still: starting it would run it twice."""


def job_start(*, kind: str, course: Course, user, options: dict | None = None) -> Job:
    """Record a job and queue it once the transaction commits (a worker must find the row it is given). A scrape
    while another scrape of the course is queued or running raises JobBusy: both would read every repo and import
    into the same reports (a stopped or stuck one does not count)."""
    with transaction.atomic():
        if kind == Job.Kind.SCRAPE:
            Course.objects.select_for_update().filter(pk=course.pk).first()  # two starts at once: the second waits
            scrapes = Job.objects.filter(course=course, kind=kind, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
            if busy := next((job for job in scrapes if job.active), None):
                when = timezone.localtime(busy.created_at).strftime("%H:%M")
                raise JobBusy(SCRAPE_BUSY.format(course=course, state=busy.state, pk=busy.pk, when=when))
        job = Job.objects.create(kind=kind, course=course, created_by=user, options=options or {})

        def enqueue() -> None:
            result = run_job.enqueue(job.pk)
            Job.objects.filter(pk=job.pk).update(task_id=str(result.id))

        transaction.on_commit(enqueue)
    return job


class JobAbandoned(Exception):
    """The job is no longer running (it was declared stopped or stuck, and perhaps run again): its worker stops."""


STOPPED_MESSAGE = (
    "Stopped: its worker gave no sign of life after {when} (it was killed, or lost the database). "
    "Groups finished before that are complete; run it again to do the rest."
)
STUCK_MESSAGE = (
    "Stuck: no progress {current} since {when}, though its worker was alive. "
    "Groups finished before that are complete; run it again to do the rest."
)


def job_rerun(job: Job, *, user) -> Job:
    """Start `job` anew, once it has failed, stopped or got stuck; a stopped or stuck one is marked failed first, so it
    shows as such (and its worker, if alive, stops at its next step). Groups a scrape imported already come out
    unchanged the second time."""
    state = job.state
    if state in (Job.Status.QUEUED, Job.Status.RUNNING):
        raise JobBusy(f"This job is {state} still; it can be run again once it has failed or stopped.")
    if job.status == Job.Status.RUNNING:
        # written only if it has not moved since it was judged (a stuck job's heartbeat goes on: not that)
        if state == "stuck":
            when = timezone.localtime(job.progress_at or job.started_at).strftime("%H:%M:%S")
            message = STUCK_MESSAGE.format(current=job.current or "at all", when=when)
            unmoved = {"progress_at": job.progress_at}
        else:
            when = timezone.localtime(job.heartbeat_at or job.started_at).strftime("%H:%M:%S")
            message, unmoved = STOPPED_MESSAGE.format(when=when), {"heartbeat_at": job.heartbeat_at}
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, **unmoved).update(
            status=Job.Status.FAILED, message=message, finished_at=timezone.now()
        )
    return job_start(kind=job.kind, course=job.course, user=user, options=job.options)


@task()
def run_job(job_id: int) -> None:
    job_run(job_id)


@task()
def run_deadline_scrape(scheduled_id: int) -> None:
    """A group's branch head read at its deadline (queued with `run_after`: services.deadline_scrapes)."""
    deadline_scrape_run(scheduled_id=scheduled_id)


@task()
def send_mails() -> None:
    """Send the outbox's due mails (queued by services.outbox.outbox_enqueue; `manage.py send_mails` does the same)."""
    mails_send()


def job_run(job_id: int) -> None:
    """Run a queued job to its end, storing progress as it goes; a job already taken by a worker is left alone.

    While it runs, a heartbeat marks it alive and every step records its progress (`progress_at`, `current`); the
    final status is written only over 'running', so a job that was declared stopped or stuck (and perhaps run again)
    meanwhile keeps that verdict, and its worker stops at its next step."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, progress_at=now
    )
    if not claimed:
        logger.warning("job %s is not queued any more; not running it twice", job_id)
        return
    job = Job.objects.select_related("course").get(pk=job_id)
    running = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING)
    try:
        with _heartbeat(job_id):
            message, file_name, problems = (_scrape if job.kind == Job.Kind.SCRAPE else _export)(job)
    except JobAbandoned:
        logger.warning("job %s was declared stopped or stuck meanwhile; its worker stops here", job_id)
        return
    except Exception as error:
        logger.exception("job %s failed", job_id)
        running.update(status=Job.Status.FAILED, message=f"{type(error).__name__}: {error}", finished_at=timezone.now())
        raise
    status = Job.Status.PROBLEMS if problems else Job.Status.DONE
    running.update(status=status, message=message, file=file_name, current="", finished_at=timezone.now())


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """Mark the job alive every JOB_HEARTBEAT_SECONDS from a thread (with its own connection), while the job runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    logger.warning("job %s: no heartbeat this time", job_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _progress(job: Job, **fields) -> None:
    """Record a step of `job` (its worker is alive, and it moved on); JobAbandoned when it is not running any more."""
    now = timezone.now()
    if not Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(heartbeat_at=now, progress_at=now, **fields):
        raise JobAbandoned(job.pk)


def job_groups(job: Job) -> list[Group]:
    """The groups a scrape job covers: the chosen ones, or every group of the course that has a repo URL."""
    groups = Group.objects.filter(course=job.course).select_related("course").order_by("number")
    chosen = job.options.get("groups")
    return list(groups.filter(pk__in=chosen) if chosen else groups.scrapable())


SCRAPE_PROBLEMS = (Scrape.Status.FAILED, Scrape.Status.TOO_LONG)  # what we could not do, not what a repo holds


def _scrape(job: Job) -> tuple[str, str, bool]:
    """The scrape job: its summary, no file, and whether some group could not be done."""
    groups = job_groups(job)
    Job.objects.filter(pk=job.pk).update(total=len(groups))
    scrapes = course_scrape(
        groups=groups,
        at_deadline=bool(job.options.get("at_deadline")),
        workers=settings.SCRAPE_WORKERS,
        job=job,
        progress=lambda scrape: _progress(job, done=F("done") + 1),
        working_on=lambda group: _progress(job, current=f"on group {group.number}"),
    )
    return scrape_summary(scrapes), "", any(scrape.status in SCRAPE_PROBLEMS for scrape in scrapes)


def scrape_summary(scrapes: list[Scrape]) -> str:
    """'3 groups: 2 ok, 1 repo unreachable'."""
    counts: dict[str, int] = {}
    for scrape in scrapes:
        label = scrape.get_status_display()
        counts[label] = counts.get(label, 0) + 1
    parts = ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{len(scrapes)} group{'' if len(scrapes) == 1 else 's'}" + (f": {parts}" if parts else "")


def _export(job: Job) -> tuple[str, str, bool]:
    """The export job: its summary, the zip's name in MEDIA_ROOT, and whether some group or file is not whole."""
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(folder)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"exports/{exporting.file_name_part(job.course.code)}-{stamp}-{uuid.uuid4().hex[:8]}.zip"
    summary = exporting.export_to_path(
        course=job.course,
        target=Path(settings.MEDIA_ROOT) / name,
        progress=lambda done, total: _progress(job, done=done, total=total, current=f"after {done} of {total} groups"),
    )
    return str(summary), name, bool(summary.unrendered or summary.problems)


def _remove_dead_partials(folder: Path) -> None:
    """Remove the half-written zips of exports whose worker died (a live export writes to its file all the time)."""
    too_old = time.time() - settings.JOB_STALLED_SECONDS
    for partial in folder.glob(".*.part"):
        try:
            if partial.stat().st_mtime < too_old:
                partial.unlink()
                logger.info("removed %s, left by an export that was stopped", partial.name)
        except FileNotFoundError:
            pass  # another export removed it meanwhile
