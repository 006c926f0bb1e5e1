"""selectors.courses: each course with its counts (the staff home page), and a course's jobs panel."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from reports_app.models import Course, Group, Job, Scrape
from reports_app.selectors.courses import course_counts, course_hub
from reports_app.selectors.overview import course_overview
from tests.helpers.pages import save

DEADLINE = datetime(2026, 1, 20, 23, 59, tzinfo=UTC)
# The demo template's rules: question -> (words, images); questions 1 and 2 have none.
RULES = {3: (60, 0), 4: (150, 0), 5: (250, 0), 6: (150, 1), 7: (0, 1), 8: (10, 0), 9: (300, 1), 10: (150, 0)}


@pytest.fixture
def root(django_user_model):
    """A superuser: course_counts counts every course and group for them."""
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-root")


def answer(words: int, images: int) -> str:
    return " ".join(f"w{i}" for i in range(words)) + "".join(f"\n\n![fig](figures/f{i}.png)" for i in range(images))


def answer_all(group, username: str) -> None:
    """Every question of the demo template answered within its rules: the course checker passes all of them."""
    save(group, 1, "ours", username=username)
    save(group, 2, "s123456", username=username)
    for number, (words, images) in RULES.items():
        save(group, number, answer(words, images), username=username)


def scraped(group, commit_at) -> None:
    group.last_scrape = Scrape.objects.create(
        group=group,
        repo_url=group.repo_url,
        status="ok",
        commit_sha="ab" * 20,
        commit_at=commit_at,
        fetched_at=commit_at,
    )
    group.save()


def test_each_count_is_of_groups_as_the_page_defines_it(root, course, group1, group2, django_user_model):
    answer_all(group1, "alice")  # passes every question; scraped late
    group1.repo_url = "https://github.com/acme/one"
    group1.save()
    scraped(group1, DEADLINE + timedelta(hours=2))
    save(group2, 3, answer(60, 0), username="charlie")  # one answer: not passing, questions not answered
    group2.repo_url = "https://github.com/acme/two"
    group2.save()  # never scraped
    Group.objects.create(course=course, number=3, repo_url="")  # no report, no repo: not answered only
    extended = Group.objects.create(course=course, number=4, extension=DEADLINE + timedelta(days=1))
    extended.repo_url = "https://github.com/acme/four"
    scraped(extended, DEADLINE + timedelta(hours=2))  # before its own deadline: not late
    course.deadline = DEADLINE
    course.save()

    (counts,) = course_counts(root)

    assert (counts.course, counts.groups, counts.passing, counts.not_answered) == (course, 4, 1, 3)
    assert (counts.never_scraped, counts.late, counts.active_jobs) == (1, 1, 0)


def test_passing_is_the_dashboards_pass_count_of_every_question(root, course, group1, group2):
    answer_all(group1, "alice")
    answer_all(group2, "charlie")
    save(group2, 4, "too short now", username="charlie")

    (counts,) = course_counts(root)

    rows = course_overview(course).rows
    assert [row.passed == row.total for row in rows] == [True, False]
    assert counts.passing == 1 and counts.not_answered == 0


def test_a_placeholder_left_in_is_not_answered(root, course, group1):
    answer_all(group1, "alice")
    save(group1, 8, "--- question 8 fill here ---", username="alice")  # the checker passes it (0-200 words)

    (counts,) = course_counts(root)

    assert (counts.passing, counts.not_answered) == (1, 1)


def test_courses_are_counted_apart_the_newest_first(root, course, group1, demo_template):
    course.deadline = DEADLINE
    course.save()
    older = Course.objects.create(code="A0", template=demo_template, deadline=DEADLINE - timedelta(days=365))
    Group.objects.create(course=older, number=1)
    Group.objects.create(course=older, number=2)
    being_set_up = Course.objects.create(code="Z9", template=demo_template)  # no deadline yet

    counts = course_counts(root)

    assert [(c.course, c.groups) for c in counts] == [(being_set_up, 0), (course, 1), (older, 2)]


def test_a_stopped_or_stuck_job_is_not_counted_as_in_progress(root, course, settings):
    settings.JOB_STALLED_SECONDS, settings.JOB_GROUP_SECONDS, settings.JOB_HEARTBEAT_SECONDS = 60, 300, 10
    now = timezone.now()
    Job.objects.create(kind="export", course=course)  # queued
    Job.objects.create(kind="scrape", course=course, status="running", started_at=now, heartbeat_at=now)
    old = now - timedelta(seconds=61)
    Job.objects.create(kind="scrape", course=course, status="running", started_at=old, heartbeat_at=old)  # stopped
    stuck = now - timedelta(seconds=311)
    Job.objects.create(
        kind="scrape", course=course, status="running", started_at=stuck, heartbeat_at=now, progress_at=stuck
    )
    Job.objects.create(kind="export", course=course, status="done")

    (counts,) = course_counts(root)

    assert counts.active_jobs == 2
    assert [job.active for job in Job.objects.order_by("id")] == [True, True, False, False, False]


def test_the_hub_counts_the_groups_a_scrape_reads(course, group1, group2):
    group1.repo_url = "https://github.com/acme/one"
    group1.save()
    jobs = [Job.objects.create(kind="export", course=course) for _ in range(7)]

    hub = course_hub(course, 5)

    assert (hub.with_repo, hub.without_repo) == (1, 1)
    assert hub.jobs == jobs[::-1][:5]  # newest first
