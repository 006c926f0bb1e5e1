"""Background work: scraping a course's repos and exporting it for grading run in `manage.py db_worker`.

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

from . import exporting, services
from .models import Course, Group, Job, Scrape

logger = logging.getLogger(__name__)


def job_start(*, kind: str, course: Course, user, options: dict | None = None) -> Job:
    """Record a job and queue it once the transaction commits (a worker must find the row it is given)."""
    job = Job.objects.create(kind=kind, course=course, created_by=user, options=options or {})

    def enqueue() -> None:
        result = run_job.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)
    return job


class JobBusy(Exception):
    """The job is queued or running still: starting it again would run it twice."""


STOPPED_MESSAGE = (
    "Stopped: its worker gave no sign of life after {when} (it was killed, or lost the database). "
    "Groups finished before that are complete; run it again to do the rest."
)


def job_rerun(job: Job, *, user) -> Job:
    """Start `job` anew, once it has failed or stopped; a stopped one is marked failed first, so it shows as such.
    Groups a scrape imported already come out unchanged the second time."""
    if job.status == Job.Status.QUEUED or (job.status == Job.Status.RUNNING and not job.stalled()):
        raise JobBusy(f"This job is {job.status} still; it can be run again once it has failed or stopped.")
    if job.status == Job.Status.RUNNING:
        when = timezone.localtime(job.heartbeat_at or job.started_at).strftime("%H:%M:%S")
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
            status=Job.Status.FAILED, message=STOPPED_MESSAGE.format(when=when), finished_at=timezone.now()
        )
    return job_start(kind=job.kind, course=job.course, user=user, options=job.options)


@task()
def run_job(job_id: int) -> None:
    job_run(job_id)


def job_run(job_id: int) -> None:
    """Run a queued job to its end, storing progress as it goes; a job already taken by a worker is left alone.

    While it runs, a heartbeat marks it alive; the final status is written only over 'running', so a job that was
    declared stopped (and perhaps run again) meanwhile keeps that verdict."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.warning("job %s is not queued any more; not running it twice", job_id)
        return
    job = Job.objects.select_related("course").get(pk=job_id)
    running = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING)
    try:
        with _heartbeat(job_id):
            message, file_name = (_scrape if job.kind == Job.Kind.SCRAPE else _export)(job)
    except Exception as error:
        logger.exception("job %s failed", job_id)
        running.update(status=Job.Status.FAILED, message=f"{type(error).__name__}: {error}", finished_at=timezone.now())
        raise
    running.update(status=Job.Status.DONE, message=message, file=file_name, finished_at=timezone.now())


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


def _step(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(done=F("done") + 1, heartbeat_at=timezone.now())


def job_groups(job: Job) -> list[Group]:
    """The groups a scrape job covers: the chosen ones, or every group of the course that has a repo URL."""
    groups = Group.objects.filter(course=job.course).select_related("course").order_by("number")
    chosen = job.options.get("groups")
    return list(groups.filter(pk__in=chosen) if chosen else groups.exclude(repo_url=""))


def _scrape(job: Job) -> tuple[str, str]:
    groups = job_groups(job)
    Job.objects.filter(pk=job.pk).update(total=len(groups))
    scrapes = services.course_scrape(
        groups=groups,
        at_deadline=bool(job.options.get("at_deadline")),
        workers=settings.SCRAPE_WORKERS,
        job=job,
        progress=lambda scrape: _step(job),
    )
    return scrape_summary(scrapes), ""


def scrape_summary(scrapes: list[Scrape]) -> str:
    """'3 groups: 2 ok, 1 repo unreachable'."""
    counts: dict[str, int] = {}
    for scrape in scrapes:
        label = scrape.get_status_display()
        counts[label] = counts.get(label, 0) + 1
    parts = ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{len(scrapes)} group{'' if len(scrapes) == 1 else 's'}" + (f": {parts}" if parts else "")


def _export(job: Job) -> tuple[str, str]:
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(folder)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"exports/{job.course.code}-{stamp}-{uuid.uuid4().hex[:8]}.zip"
    summary = exporting.export_to_path(
        course=job.course,
        target=Path(settings.MEDIA_ROOT) / name,
        progress=lambda done, total: Job.objects.filter(pk=job.pk).update(
            done=done, total=total, heartbeat_at=timezone.now()
        ),
    )
    return str(summary), name


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
