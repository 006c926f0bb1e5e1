"""The dashboard's commits per member: the counts of the last scrape (Scrape.contributors) given to members at read
time, members without commits in red and in a filter, unmatched identities on hover, and the CSV columns."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from reports_app import exporting
from reports_app.engine import contributors
from reports_app.models import Group, Membership, Scrape
from reports_app.selectors.grade_exports import course_points
from reports_app.selectors.overview import course_overview
from reports_app.services.scrapes import group_scrape
from reports_app.templatetags.dashboard import NOT_COUNTED
from tests.helpers.repos import FILLED, JAN_10, make_repo
from tests.views.test_dashboard import read_csv, rows_of

FIRST, LAST = "2025-01-10T12:00:00+00:00", "2025-01-14T08:00:00+00:00"


def identity(name: str, email: str, commits: int) -> dict:
    return {"name": name, "email": email, "commits": commits, "first": FIRST, "last": LAST, "days": 2}


def scrape(group: Group, contributors: list[dict]) -> Scrape:
    done = Scrape.objects.create(
        group=group,
        repo_url="https://github.com/acme/x",
        status=Scrape.Status.OK,
        commit_sha="a1b2c3d",
        commit_at=datetime(2025, 1, 14, tzinfo=UTC),
        fetched_at=datetime(2025, 1, 15, tzinfo=UTC),
        contributors=contributors,
    )
    group.last_scrape = done
    group.save(update_fields=["last_scrape"])
    return done


@pytest.fixture
def counted(group1, group2):
    """Group 1: alice committed (by e-mail), bob did not, Eve is no member; group 2: charlie by his GitHub noreply."""
    get_user_model().objects.filter(username="alice").update(email="alice@example.org")
    Membership.objects.filter(user__username="charlie").update(github_username="charlie-c")
    scrape(group1, [identity("Alice", "ALICE@example.org", 7), identity("Eve", "eve@elsewhere.org", 2)])
    scrape(group2, [identity("C", "99+Charlie-C@users.noreply.github.com", 3)])
    return group1.course


def url(course, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("dashboard", args=[course.pk]) + (f"?{query}" if query else "")


def test_each_members_commits_show_with_none_in_red_and_the_unmatched_on_hover(staff, counted):
    response = staff.get(url(counted))
    html = response.content.decode().replace("&lt;", "<").replace("&gt;", ">").replace("&#x27;", "'")

    assert 'alice 7, bob <span class="text-danger fw-semibold zero-commits">0 commits</span>' in html
    assert "+1 unmatched" in html
    assert "<li>not a member's: Eve <eve@elsewhere.org>: 2 commits</li>" in html
    assert "<li>alice@example.org: 7 commits on 2 days, the last on 2025-01-14</li>" in html
    assert "charlie 3</summary>" in html


def test_the_filter_keeps_groups_with_a_member_without_commits(staff, counted):
    assert rows_of(staff.get(url(counted))) == [1, 2]
    assert rows_of(staff.get(url(counted, no_commits="on"))) == [1]


def test_a_group_whose_scrape_counted_nothing_flags_nobody(staff, group1):
    scrape(group1, [])

    response = staff.get(url(group1.course, no_commits="on"))

    assert rows_of(response) == []
    assertNotContains(staff.get(url(group1.course)), "0 commits")
    assertContains(staff.get(url(group1.course)), NOT_COUNTED)


def test_the_csv_has_the_members_without_commits_and_everyones_commits(staff, counted):
    header, one, two = read_csv(staff.get(reverse("dashboard-csv", args=[counted.pk])))
    row = dict(zip(header, one, strict=True))

    assert (row["members without commits"], row["commits"]) == ("bob", "alice@example.org 7; bob 0")
    assert dict(zip(header, two, strict=True))["members without commits"] == ""


def test_the_commits_add_no_query_per_group(staff, counted, django_user_model):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(url(counted)).status_code == 200
        return len(captured)

    before = queries()
    for number in range(3, 9):
        group = Group.objects.create(course=counted, number=number)
        user = django_user_model.objects.create_user(f"s{number}", email=f"s{number}@x.dk")
        Membership.objects.create(user=user, group=group, github_username=f"s{number}")
        scrape(group, [identity(f"s{number}", f"s{number}@laptop", 1)])

    assert queries() == before


@pytest.fixture
def cut(group1, group2, tmp_path, settings, monkeypatch):
    """Real scrapes with MAX_COMMITS at 5: group 1's history is longer (bob made only its first commit, alice the 5
    newest), group 2's is short and charlie made none of it."""
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    monkeypatch.setattr(contributors, "MAX_COMMITS", 5)
    for name in ("alice", "bob", "charlie"):
        get_user_model().objects.filter(username=name).update(email=f"{name}@example.org")
    alice, bob, eve = ("Alice", "alice@example.org"), ("Bob", "bob@example.org"), ("Eve", "eve@example.org")
    histories = {
        group1: [(JAN_10, {"reports/README.md": FILLED}, bob)] + [(JAN_10, {}, alice)] * 5,
        group2: [(JAN_10, {"reports/README.md": FILLED}, eve)],
    }
    for group, history in histories.items():
        group.repo_url = make_repo(tmp_path, f"group{group.number}", history)
        group.save(update_fields=["repo_url"])
        assert group_scrape(group=group, at_deadline=False).status == Scrape.Status.OK
    return group1.course


def test_a_member_without_commits_in_a_cut_history_is_none_among_the_newest_not_0_commits(staff, cut, group1):
    group1.refresh_from_db()
    assert group1.last_scrape.history_cut

    html = staff.get(url(cut)).content.decode()

    assert 'bob <span class="text-body-secondary none-among-newest">none among the newest 5</span>' in html
    assert "<li>bob@example.org: none among the newest 5</li>" in html
    assert "<li>only the newest 5 commits were counted: the history is longer</li>" in html
    assert 'charlie <span class="text-danger fw-semibold zero-commits">0 commits</span>' in html  # a short history
    assert html.count("zero-commits") == 1


def test_a_cut_history_keeps_its_group_out_of_the_filter_and_the_members_without_commits(staff, cut):
    assert rows_of(staff.get(url(cut, no_commits="on"))) == [2]

    header, one, two = read_csv(staff.get(reverse("dashboard-csv", args=[cut.pk])))
    one, two = dict(zip(header, one, strict=True)), dict(zip(header, two, strict=True))
    assert (one["members without commits"], two["members without commits"]) == ("", "charlie@example.org")
    assert one["commits"] == "alice@example.org 5; bob@example.org none among the newest 5"
    assert two["commits"] == "charlie@example.org 0"

    overview = course_overview(cut)
    header, *rows = exporting.grades_rows(overview.numbers, overview.rows, course_points(cut))
    column = header.index(exporting.WITHOUT_COMMITS_COLUMN)
    assert [row[column] for row in rows] == ["", "charlie@example.org"]
