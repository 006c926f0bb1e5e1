"""A worker killed in the middle of a scrape or an export (SIGKILL: no clean-up of ours runs) leaves no half-imported
report and no half zip; its job shows as stopped once its heartbeat is gone, and running it again finishes the work.

The kill is made to land inside a transaction, not between two: on PostgreSQL the test holds a row lock that the
import of group 3 needs for its last statement, and kills the worker while that statement waits; on SQLite it holds a
read lock, which lets the worker write but not commit, and kills the worker while it waits to commit.
"""

import os
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from reports_app import tasks
from reports_app.models import Answer, AnswerRevision, Figure, Group, Job, Membership, Report, Scrape
from reports_app.services.answers import answer_save
from reports_app.services.figures import figure_add, figure_orphans
from reports_app.services.reports import report_for_group, report_import, report_markdown
from tests.conftest import png_bytes, read_fixture
from tests.helpers.processes import (
    is_sqlite,
    job_done_at_least,
    kill_all,
    postgres_lock_waits,
    site_env,
    sqlite_reader,
    sqlite_writing,
    start,
    wait_for,
)
from tests.helpers.repos import JAN_10, make_repo

pytestmark = pytest.mark.django_db(transaction=True)
FILLED = read_fixture("filled.md")
WORKER_ENV = {"SCRAPE_WORKERS": "1", "JOB_HEARTBEAT_SECONDS": "1", "JOB_STALLED_SECONDS": "2"}


@pytest.fixture(autouse=True)
def _fast_heartbeat(settings, tmp_path):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    settings.JOB_HEARTBEAT_SECONDS, settings.JOB_STALLED_SECONDS = 1, 2


@pytest.fixture
def start_worker(tmp_path):
    """Start `manage.py db_worker` in its own process: (process, log); killed at the end of the test if need be."""
    started = []

    def start_one():
        log = tmp_path / "worker.log"
        started.append(
            start(
                [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"],
                site_env(**WORKER_ENV),
                log,
            )
        )
        return started[-1], log

    yield start_one
    for process in started:
        kill_all(process)


def state(group: Group) -> tuple:
    """Everything an import may change in a group: answers, revisions, figures, its last scrape."""
    group.refresh_from_db()
    return (
        sorted(Answer.objects.filter(report__group=group).values_list("question__number", "version", "text")),
        sorted(AnswerRevision.objects.filter(answer__report__group=group).values_list("version", "kind", "text")),
        sorted(Figure.objects.filter(report__group=group).values_list("name", "sha256")),
        group.last_scrape_id,
        Scrape.objects.filter(group=group).count(),
    )


def assert_whole(group: Group) -> None:
    """The group's scrape went through: the report is the repo's, its figure stored and readable."""
    report = Report.objects.get(group=group)
    assert group.last_scrape.status == Scrape.Status.OK
    assert report_markdown(report) == FILLED
    [figure] = report.figures.all()
    assert figure.file.read() == png_bytes(color=f"#0000{group.number:02x}")


@pytest.fixture
def groups(course, instructor, tmp_path, django_user_model):
    """Five groups whose repos hold the filled report and a figure; group 3 has an answer saved on the web."""
    made = []
    for number in range(1, 6):
        files = {"reports/README.md": FILLED.encode(), "reports/figures/f.png": png_bytes(color=f"#0000{number:02x}")}
        url = make_repo(tmp_path, f"group{number}", [(JAN_10, files)])
        made.append(Group.objects.create(course=course, number=number, repo_url=url))
    student = django_user_model.objects.create_user("dana")
    Membership.objects.create(user=student, group=made[2])
    report = report_for_group(made[2])
    question = course.template.questions.get(number=1)
    answer_save(report=report, question=question, text="Typed on the web.", base_version=0, user=student)
    return made


def test_a_worker_killed_inside_an_import_leaves_that_group_untouched_and_the_job_runs_again(
    groups, course, instructor, staff, start_worker
):
    before = {group.pk: state(group) for group in groups}
    job = tasks.job_start(kind=Job.Kind.SCRAPE, course=course, user=instructor)  # queued at once: autocommit
    if is_sqlite():
        worker, log = start_worker()
        with sqlite_reader(until=job_done_at_least(job.pk, 2)):  # two groups imported
            wait_for(sqlite_writing, "the worker to write in a transaction", log=log, process=worker)
            kill_all(worker)
    else:
        with transaction.atomic():
            Group.objects.select_for_update().get(pk=groups[2].pk)
            worker, log = start_worker()
            [waiting] = wait_for(postgres_lock_waits, "group 3's import to wait for the lock", log=log, process=worker)
            # The last statement of the import's transaction: answers, revisions, figure and scrape are written already.
            assert waiting.startswith('UPDATE "reports_app_group" SET "last_scrape_id"')
            kill_all(worker)

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    whole = [group for group in groups if state(group)[3] is not None]
    assert job.done == len(whole) and (is_sqlite() or [g.number for g in whole] == [1, 2])
    for group in groups:
        if group in whole:
            assert_whole(group)
        else:
            assert state(group) == before[group.pk], f"group {group.number} was changed by a killed import"
    assert all(figure.file.storage.exists(figure.file.name) for figure in Figure.objects.all())
    # The killed import had written its figure's file: no figure refers to it. The clean-up lists only files older
    # than it is told (a save in progress may be writing the newest), and removes them with --delete.
    orphans = figure_orphans(older_than=timedelta(0))
    if not is_sqlite():
        assert [path.parent.name for path in orphans] == [str(Report.objects.get(group=groups[2]).pk)]
    assert figure_orphans(older_than=timedelta(minutes=60)) == []
    call_command("clean_media", "--delete", "--older-than", "0", stdout=StringIO(), stderr=StringIO())
    assert figure_orphans(older_than=timedelta(0)) == [] and not any(path.exists() for path in orphans)

    # The job page tells what happened once the heartbeat is missed, and offers to run it again.
    wait_for(lambda: Job.objects.get(pk=job.pk).stalled(), "the job to count as stopped")
    page = staff.get(reverse("job", args=[job.pk])).content.decode()
    assert "no sign of life since" in page and "Run it again" in page
    response = staff.post(reverse("rerun-job", args=[job.pk]))
    again = Job.objects.latest("id")
    assert response.url == reverse("job", args=[again.pk])
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    job.refresh_from_db()
    again.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message.startswith("Stopped: its worker gave no sign of life")
    assert (again.status, again.done, again.total) == (Job.Status.DONE, 5, 5)
    for group in groups:
        group.refresh_from_db()
        assert_whole(group)
        assert group.last_scrape.unchanged == (group in whole)  # imported by the killed run already: nothing new
    web = AnswerRevision.objects.filter(answer__report__group=groups[2], answer__question__number=1)
    sha = again.scrapes.get(group=groups[2]).commit_sha
    assert list(web.order_by("version").values_list("source", flat=True)) == ["web", f"repo@{sha}"]


def test_a_worker_killed_during_an_export_leaves_no_zip_and_the_job_runs_again(
    course, instructor, staff, settings, start_worker
):
    """The export is held half-way on purpose: group 45's figure file is a named pipe, whose read waits for a writer.
    Groups are read 20 at a time, one chunk ahead of the one written, so it writes groups 1-20 and then waits,
    while its heartbeat goes on; the worker is killed in one of those heartbeat writes."""
    for number in range(1, 51):
        group = Group.objects.create(course=course, number=number)
        report_import(group=group, text=FILLED, template=course.template, label="seed")
    report = Report.objects.get(group__number=45)
    held = figure_add(report=report, data=png_bytes(), wanted_name="held", user=None).figure
    held_path = Path(held.file.path)
    held_path.unlink()
    os.mkfifo(held_path)
    job = tasks.job_start(kind=Job.Kind.EXPORT, course=course, user=instructor)
    exports = Path(settings.MEDIA_ROOT) / "exports"
    worker, log = start_worker()
    wait_for(lambda: Job.objects.get(pk=job.pk).done == 20, "the export to wait at group 45", log=log, process=worker)
    if is_sqlite():
        with sqlite_reader():
            wait_for(sqlite_writing, "the worker to write in a transaction", log=log, process=worker)
            kill_all(worker)
    else:
        with transaction.atomic():
            Job.objects.select_for_update().get(pk=job.pk)  # its next heartbeat waits for this lock
            wait_for(postgres_lock_waits, "the export's next heartbeat", log=log, process=worker)
            kill_all(worker)
    held_path.unlink()
    held_path.write_bytes(png_bytes())  # the figure as it was: the run again reads it

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.done == 20 and not job.file
    [partial] = exports.iterdir()
    assert partial.name.startswith(".") and partial.name.endswith(".part")  # never under a name people download
    assert staff.get(reverse("download-job", args=[job.pk])).status_code == 404

    def stopped() -> bool:  # and its partial old enough to count as dead (a live export writes to it all the time)
        return Job.objects.get(pk=job.pk).stalled() and partial.stat().st_mtime < time.time() - 2

    wait_for(stopped, "the job to stop")
    staff.post(reverse("rerun-job", args=[job.pk]))
    again = Job.objects.latest("id")
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    again.refresh_from_db()
    assert (again.status, again.done, again.total) == (Job.Status.DONE, 50, 50)
    assert [p.name for p in exports.iterdir()] == [Path(again.file.name).name]  # the dead one's partial is gone
    download = staff.get(reverse("download-job", args=[again.pk]))
    assert download.status_code == 200
