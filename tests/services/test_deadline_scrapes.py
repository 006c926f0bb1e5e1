"""The deadline as the server saw it: head scrapes planned at each group's deadline and run by a real `db_worker`,
when the site first saw each commit, the commit graded, and the flag where a commit's date and the site's clock
disagree. Real git repos made in the test; commit dates forged as students could."""

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.formats import date_format
from django_tasks_db.models import DBTaskResult

from reports_app import exporting
from reports_app.models import CommitSeen, Course, Group, ScheduledScrape, Scrape
from reports_app.selectors.graded import graded_answer, graded_revision_ids
from reports_app.selectors.overview import FLAG_SEEN_LATE, course_overview
from reports_app.services.deadline_scrapes import deadline_scrape_run, deadline_scrapes_plan
from reports_app.services.scrapes import group_scrape
from tests.helpers.repos import JAN_10, JAN_20, git, make_repo, sha_of, with_answer

IN_A_WEEK = timedelta(days=7)


@pytest.fixture(autouse=True)
def _file_urls(settings, tmp_path):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]


def run_worker() -> None:
    """What `manage.py db_worker` does in production, here until no task is ready (as tests/services/test_job.py)."""
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def push(tmp_path: Path, name: str, date: str, answer: str) -> str:
    """A commit of question 2's answer on top of make_repo's repo `name`, its dates set to `date` (as a student may
    forge them with GIT_COMMITTER_DATE), pushed; its sha."""
    work = tmp_path / f"{name}-work"
    (work / "reports" / "README.md").write_bytes(with_answer(answer))
    git("commit", "-q", "-am", f"work of {date}", cwd=work, date=date)
    git("push", "-q", str(tmp_path / f"{name}.git"), "HEAD:main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


@pytest.fixture
def three_groups(course, tmp_path) -> list[Group]:
    """Groups 1-3 with repos, a week before the course deadline; group 2 has a two-day extension. Group 4 has no
    repo URL."""
    course.deadline = timezone.now() + IN_A_WEEK
    course.save()
    groups = []
    for number in (1, 2, 3):
        url = make_repo(tmp_path, f"g{number}", [(JAN_10, {"reports/README.md": with_answer("as first pushed")})])
        extension = course.deadline + timedelta(days=2) if number == 2 else None
        groups.append(Group.objects.create(course=course, number=number, repo_url=url, extension=extension))
    Group.objects.create(course=course, number=4)
    return groups


def plans(course: Course) -> set[tuple[int, object]]:
    return set(ScheduledScrape.objects.filter(group__course=course).values_list("group__number", "due_at"))


def test_each_group_with_a_repo_is_planned_at_its_deadline_with_a_task_run_then(
    three_groups, course, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        plan = deadline_scrapes_plan(course=course)

    extension = three_groups[1].extension
    assert plans(course) == {(1, course.deadline), (2, extension), (3, course.deadline)}  # group 4: no repo
    assert [s.group.number for s in plan.due] == [1, 2, 3] and plan.queued == 3
    for scheduled in ScheduledScrape.objects.all():
        task = DBTaskResult.objects.get(id=scheduled.task_id)
        assert (task.run_after, task.args_kwargs["args"], task.status) == (scheduled.due_at, [scheduled.pk], "READY")
        assert task.task_path == "reports_app.tasks.run_deadline_scrape"


def test_planning_again_changes_nothing(three_groups, course, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deadline_scrapes_plan(course=course)
    tasks = set(ScheduledScrape.objects.values_list("pk", "task_id"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        plan = deadline_scrapes_plan(course=course)

    assert (plan.queued, callbacks) == (0, [])
    assert set(ScheduledScrape.objects.values_list("pk", "task_id")) == tasks
    assert DBTaskResult.objects.count() == 3


def test_a_plan_whose_task_was_never_queued_is_queued_by_the_next(
    three_groups, course, django_capture_on_commit_callbacks
):
    deadline_scrapes_plan(course=course)  # its transaction never committed: no task queued
    assert set(ScheduledScrape.objects.values_list("task_id", flat=True)) == {""}

    with django_capture_on_commit_callbacks(execute=True):
        plan = deadline_scrapes_plan(course=course)

    assert plan.queued == 3 and DBTaskResult.objects.count() == 3
    assert "" not in set(ScheduledScrape.objects.values_list("task_id", flat=True))


def test_a_moved_deadline_is_planned_again_and_an_extension_keeps_its_plan(
    three_groups, course, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deadline_scrapes_plan(course=course)
    old, extension = course.deadline, three_groups[1].extension
    course.deadline = old + timedelta(days=1)
    course.save()

    with django_capture_on_commit_callbacks(execute=True):
        plan = deadline_scrapes_plan(course=course)

    assert {(s.group.number, s.due_at) for s in plan.due} == {
        (1, course.deadline),
        (2, extension),
        (3, course.deadline),
    }
    assert plan.queued == 2  # groups 1 and 3; the old plans stay, and do nothing when they run
    assert plans(course) == {(1, old), (3, old), (1, course.deadline), (2, extension), (3, course.deadline)}


def test_deadlines_past_are_not_planned(three_groups, course):
    course.deadline = timezone.now() - timedelta(minutes=1)
    course.save()

    plan = deadline_scrapes_plan(course=course)

    assert plans(course) == {(2, three_groups[1].extension)}  # the extension is still to come
    assert [s.group.number for s in plan.due] == [2]


def test_the_command_plans_every_course_and_says_what(three_groups, course, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("plan_deadline_scrapes", "--course", "C1", stdout=out)

    when = timezone.localtime(course.deadline).strftime("%Y-%m-%d %H:%M")
    assert f"C1 group 1: head scrape at {when}" in out.getvalue()
    assert "C1: 3 head scrapes planned, 3 newly queued" in out.getvalue()
    assert len(plans(course)) == 3 and DBTaskResult.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_the_worker_reads_the_head_at_the_deadline_and_not_before(three_groups, course):
    deadline_scrapes_plan(course=course)  # committed at once: the tasks are queued
    run_worker()
    assert not Scrape.objects.exists()  # not due yet: the worker leaves them
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"READY"}

    first = ScheduledScrape.objects.get(group=three_groups[0])
    DBTaskResult.objects.filter(id=first.task_id).update(run_after=timezone.now() - timedelta(seconds=1))  # due now
    run_worker()

    first.refresh_from_db()
    scrape = Scrape.objects.get()
    assert (scrape.group, scrape.on_time, scrape.at_deadline, scrape.status) == (three_groups[0], True, False, "ok")
    assert scrape.commit_sha == sha_of(three_groups[0].repo_url)
    assert first.scrape == scrape and first.done_at is not None
    assert DBTaskResult.objects.get(id=first.task_id).status == "SUCCESSFUL"
    assert ScheduledScrape.objects.filter(done_at=None).count() == 2  # the others wait for their time


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_a_task_whose_deadline_moved_does_nothing(three_groups, course):
    deadline_scrapes_plan(course=course)
    stale = ScheduledScrape.objects.get(group=three_groups[0])
    course.deadline += timedelta(days=1)
    course.save()
    deadline_scrapes_plan(course=course)

    DBTaskResult.objects.filter(id=stale.task_id).update(run_after=timezone.now() - timedelta(seconds=1))
    run_worker()

    stale.refresh_from_db()
    assert not Scrape.objects.exists() and stale.done_at is None
    assert DBTaskResult.objects.get(id=stale.task_id).status == "SUCCESSFUL"  # ran, and did nothing
    assert ScheduledScrape.objects.get(group=three_groups[0], due_at=course.deadline).done_at is None


def test_a_plan_run_twice_scrapes_once(three_groups, course):
    deadline_scrapes_plan(course=course)
    scheduled = ScheduledScrape.objects.get(group=three_groups[0])

    assert deadline_scrape_run(scheduled_id=scheduled.pk) is not None
    assert deadline_scrape_run(scheduled_id=scheduled.pk) is None
    assert Scrape.objects.count() == 1


def test_the_site_records_when_it_first_saw_each_commit_once(course, tmp_path):
    course.deadline = timezone.now() + IN_A_WEEK
    course.save()
    url = make_repo(tmp_path, "g1", [(JAN_10, {"reports/README.md": with_answer("first")})])
    group = Group.objects.create(course=course, number=1, repo_url=url)
    first = group_scrape(group=group, at_deadline=False)
    group_scrape(group=group, at_deadline=False)  # the same head again

    seen = CommitSeen.objects.get()
    assert (seen.sha, seen.committed_at, seen.first_seen_at) == (first.commit_sha, first.commit_at, first.fetched_at)

    second = push(tmp_path, "g1", JAN_20, "second")
    group_scrape(group=group, at_deadline=False)
    assert list(CommitSeen.objects.order_by("first_seen_at").values_list("sha", flat=True)) == [seen.sha, second]


@pytest.fixture
def one_repo(course, tmp_path) -> Group:
    """Group 1 whose repo holds one commit of January 2025; the course deadline far ahead."""
    course.deadline = timezone.now() + IN_A_WEEK
    course.save()
    url = make_repo(tmp_path, "g1", [(JAN_10, {"reports/README.md": with_answer("seen in time")})])
    return Group.objects.create(course=course, number=1, repo_url=url)


def deadline_now(course: Course) -> None:
    """The deadline passes: from now on, whatever the site sees for the first time, it saw after the deadline."""
    course.deadline = timezone.now()
    course.save()


def scrape_on_time(group: Group) -> Scrape:
    """What the worker does at the group's deadline (the test's deadline has just passed)."""
    group.refresh_from_db()
    scheduled = ScheduledScrape.objects.create(group=group, due_at=group.deadline)
    scrape = deadline_scrape_run(scheduled_id=scheduled.pk)
    assert scrape is not None and scrape.on_time
    return scrape


def grades_csv(course: Course) -> list[dict[str, str]]:
    out = io.BytesIO()
    exporting.course_export(course=course, out=out, workers=1)
    with zipfile.ZipFile(out) as archive:
        text = archive.read("grades.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_graded_commit_is_the_one_the_server_saw_at_the_deadline_though_a_later_one_is_backdated(
    one_repo, course, tmp_path
):
    deadline_now(course)
    on_time = scrape_on_time(one_repo)
    push(tmp_path, "g1", JAN_20, "backdated after the deadline")  # dated January 2025, long before the deadline
    by_date = group_scrape(group=one_repo, at_deadline=True)
    assert by_date.commit_sha != on_time.commit_sha  # by its date, the late commit would be the hand-in

    graded = graded_answer(one_repo, 2)
    assert (graded.scrape, graded.text) == (on_time, "seen in time")
    revision = graded_revision_ids(course)[(one_repo.pk, 2)]
    assert revision == graded.revision.pk
    row = course_overview(course).rows[0]
    assert not row.seen_late  # the commit graded was read at the deadline
    assert grades_csv(course)[0][exporting.SEEN_LATE_COLUMN] == "no"


def test_a_course_without_an_on_time_scrape_grades_the_commit_by_its_date(one_repo, course):
    group_scrape(group=one_repo, at_deadline=False)  # seen before the deadline
    deadline_now(course)
    by_date = group_scrape(group=one_repo, at_deadline=True)

    graded = graded_answer(one_repo, 2)
    assert (graded.scrape, graded.text) == (by_date, "seen in time")
    assert course_overview(course).rows[0].flags == []  # seen before the deadline: nothing to flag


def test_a_backdated_commit_first_seen_after_the_deadline_is_flagged(one_repo, course, tmp_path, staff):
    group_scrape(group=one_repo, at_deadline=False)  # the first commit, seen in time
    deadline_now(course)
    late = push(tmp_path, "g1", JAN_20, "backdated after the deadline")
    by_date = group_scrape(group=one_repo, at_deadline=True)
    assert by_date.commit_sha == late and graded_answer(one_repo, 2).text == "backdated after the deadline"

    row = course_overview(course).rows[0]
    assert row.seen_late and FLAG_SEEN_LATE in row.flags
    assert grades_csv(course)[0][exporting.SEEN_LATE_COLUMN] == "yes"
    Group.objects.create(course=course, number=2)
    page = staff.get(f"/courses/{course.pk}/dashboard/", {"seen_late": "on"})
    assert [row.group.number for row in page.context["rows"]] == [1]
    assert 'title="The commit graded is dated before the group' in page.content.decode()


def test_the_dashboard_says_when_the_next_head_scrape_is_planned(three_groups, course, staff):
    deadline_scrapes_plan(course=course)

    page = staff.get(f"/courses/{course.pk}/dashboard/")

    when = date_format(timezone.localtime(course.deadline), "DATETIME_FORMAT")  # group 2's extension comes later
    assert f"Head scrape planned at\n    {when}:" in page.content.decode()


def test_every_commit_of_the_history_read_is_seen_not_only_the_head(course, tmp_path):
    """Two commits pushed at once: the older was never a branch head, and still counts as seen by the first scrape;
    a scrape at the deadline by commit date, which reads it later, does not make it seen later."""
    course.deadline = timezone.now() + IN_A_WEEK
    course.save()
    url = make_repo(
        tmp_path,
        "g1",
        [(JAN_10, {"reports/README.md": with_answer("first")}), (JAN_20, {"reports/README.md": with_answer("then")})],
    )
    group = Group.objects.create(course=course, number=1, repo_url=url)
    head = group_scrape(group=group, at_deadline=False)
    shas = [sha_of(url), sha_of(url, "HEAD~1")]

    seen = dict(CommitSeen.objects.values_list("sha", "first_seen_at"))
    assert set(seen) == set(shas) and len(shas) == 2
    assert set(seen.values()) == {head.fetched_at}
    course.deadline = datetime(2025, 1, 15, tzinfo=UTC)  # between the two commits (JAN_10, JAN_20)
    course.save()
    older = group_scrape(group=group, at_deadline=True)
    assert older.commit_sha == shas[1] and CommitSeen.objects.get(sha=shas[1]).first_seen_at == head.fetched_at


def test_a_planned_scrape_run_long_after_its_deadline_is_not_graded_as_on_time(one_repo, settings):
    """The worker was down at the deadline: what the head is an hour later says nothing of what it was then."""
    settings.DEADLINE_SCRAPE_GRACE_SECONDS = 600
    course = one_repo.course
    course.deadline = timezone.now() - timedelta(hours=1)
    course.save()
    scheduled = ScheduledScrape.objects.create(group=one_repo, due_at=course.deadline)

    scrape = deadline_scrape_run(scheduled_id=scheduled.pk)

    assert scrape is not None and not scrape.on_time and not Scrape.objects.get(pk=scrape.pk).on_time
    scheduled.refresh_from_db()
    assert scheduled.done_at is not None and scheduled.scrape == scrape  # done: its task will not run it again
    assert graded_answer(one_repo, 1).scrape is None  # graded by the answers at the deadline, not by this head
