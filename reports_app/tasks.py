"""Background work: scraping a course's repos and exporting it for grading run in `manage.py db_worker`.

A Job row is the part people see: created by `job_start` (the admin, the dashboard), it holds the progress and the
outcome, and the task only carries its id. The management commands call the same services directly.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
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


@task()
def run_job(job_id: int) -> None:
    job_run(job_id)


def job_run(job_id: int) -> None:
    """Run a queued job to its end, storing progress as it goes; a job already taken by a worker is left alone."""
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.warning("job %s is not queued any more; not running it twice", job_id)
        return
    job = Job.objects.select_related("course").get(pk=job_id)
    try:
        message, file_name = (_scrape if job.kind == Job.Kind.SCRAPE else _export)(job)
    except Exception as error:
        logger.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, message=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.DONE, message=message, file=file_name, finished_at=timezone.now()
    )


def _step(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(done=F("done") + 1)


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
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"exports/{job.course.code}-{stamp}-{uuid.uuid4().hex[:8]}.zip"
    summary = exporting.export_to_path(
        course=job.course,
        target=Path(settings.MEDIA_ROOT) / name,
        progress=lambda done, total: Job.objects.filter(pk=job.pk).update(done=done, total=total),
    )
    return str(summary), name
