"""Who contributed: commits per git identity counted by the scrape (engine/contributors, scraping), mapped to members
at read time (selectors/contributions), against real git repos made in the test."""

from datetime import UTC, datetime

import pytest
from django.forms import modelform_factory

from reports_app.engine import contributors
from reports_app.engine.contributors import MAX_EMAIL, MAX_NAME
from reports_app.forms.accounts import GITHUB_USERNAME_INVALID
from reports_app.forms.admin import MembershipAdminForm
from reports_app.models import Group, Membership, Scrape
from reports_app.selectors.contributions import group_contributions
from reports_app.selectors.overview import GroupMember, course_overview
from reports_app.services.scrapes import group_scrape
from tests.helpers.repos import FILLED, JAN_10, JAN_20, make_repo

JAN_12 = "2025-01-12T09:00:00+00:00"
JAN_13 = "2025-01-13T23:30:00+00:00"
JAN_14 = "2025-01-14T08:00:00+00:00"
DEADLINE = datetime(2025, 1, 15, 12, tzinfo=UTC)

ALICE = ("Alice Berg", "alice@example.com")
BOB = ("Bob B", "12345+Bob-The-Builder@users.noreply.github.com")
CAROL = ("CarolC", "carol@laptop.local")
DAVE = ("Dave", "dave@example.com")
EVE = ("Eve", "eve@elsewhere.org")


@pytest.fixture(autouse=True)
def _file_urls(settings, tmp_path):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]


@pytest.fixture
def team(course, django_user_model, tmp_path) -> Group:
    """Group 5: alice (her account's e-mail, in another case), bob (a noreply address of his GitHub user name), carol
    (her GitHub user name as her git name), dave (one commit, after the deadline); eve is no member."""
    course.deadline = DEADLINE
    course.save()
    url = make_repo(
        tmp_path,
        "team",
        [
            (JAN_10, {"reports/README.md": FILLED}, ALICE),
            (JAN_12, {"src/a.py": b"1\n"}, ALICE),
            (JAN_12, {"src/b.py": b"2\n"}, BOB),
            (JAN_13, {"src/c.py": b"3\n"}, CAROL),
            (JAN_14, {"src/e.py": b"5\n"}, EVE),
            (JAN_20, {"src/d.py": b"4\n"}, DAVE),
        ],
    )
    group = Group.objects.create(course=course, number=5, repo_url=url)
    for username, email, github in [
        ("alice@example.com", "Alice@Example.COM", ""),
        ("bob", "bob@example.com", "bob-the-builder"),
        ("carol", "carol@example.com", "carolc"),
        ("dave@example.com", "dave@example.com", ""),
    ]:
        user = django_user_model.objects.create_user(username, email=email)
        Membership.objects.create(user=user, group=group, github_username=github)
    return group


def commits_by_member(group: Group) -> dict[str, int]:
    (row,) = course_overview(group.course, group_ids=[group.pk]).rows
    return {m.person.username: m.commits for m in row.contributions.members}


def test_a_head_scrape_counts_every_commit_by_author_and_gives_them_to_members(team):
    scrape = group_scrape(group=team, at_deadline=False)

    assert scrape.status == Scrape.Status.OK
    by_email = {c["email"]: c for c in Scrape.objects.get(pk=scrape.pk).contributors}
    assert by_email["alice@example.com"] == {
        "name": "Alice Berg",
        "email": "alice@example.com",
        "commits": 2,
        "first": "2025-01-10T12:00:00+00:00",
        "last": "2025-01-12T09:00:00+00:00",
        "days": 2,
    }
    assert {email: c["commits"] for email, c in by_email.items()} == {
        "alice@example.com": 2,
        BOB[1]: 1,
        CAROL[1]: 1,
        EVE[1]: 1,
        DAVE[1]: 1,
    }
    assert commits_by_member(team) == {"alice@example.com": 2, "bob": 1, "carol": 1, "dave@example.com": 1}
    (row,) = course_overview(team.course).rows
    assert [(i["name"], i["commits"]) for i in row.contributions.unmatched] == [("Eve", 1)]
    assert row.without_commits == []


def test_a_deadline_scrape_leaves_out_commits_after_the_graded_one_and_flags_who_has_none(team):
    scrape = group_scrape(group=team, at_deadline=True)

    assert scrape.commit_at == datetime.fromisoformat(JAN_14)
    assert DAVE[1] not in {c["email"] for c in scrape.contributors}
    assert commits_by_member(team) == {"alice@example.com": 2, "bob": 1, "carol": 1, "dave@example.com": 0}
    (row,) = course_overview(team.course).rows
    assert [m.username for m in row.without_commits] == ["dave@example.com"]


def test_members_are_matched_at_read_time_so_a_github_user_name_given_later_counts(team):
    group_scrape(group=team, at_deadline=True)
    Membership.objects.filter(user__username="carol").update(github_username="")
    assert commits_by_member(team)["carol"] == 0

    Membership.objects.filter(user__username="carol").update(github_username="CAROLC")
    assert commits_by_member(team)["carol"] == 1


def test_a_failed_scrape_flags_nobody(team):
    team.repo_url = team.repo_url.replace("team.git", "gone.git")
    team.save()
    scrape = group_scrape(group=team, at_deadline=False)

    assert scrape.status == Scrape.Status.UNREACHABLE
    (row,) = course_overview(team.course).rows
    assert row.contributions is None and row.without_commits == []


def test_hostile_names_and_emails_are_bounded_and_printable(course, tmp_path):
    huge = "N" * 10_000
    url = make_repo(
        tmp_path,
        "hostile",
        [
            (JAN_10, {"reports/README.md": FILLED}, (huge, "x" * 10_000 + "@example.com")),
            (JAN_12, {"a": b"1"}, ("Mallory\x1b[31m\x07 Red\x01", "m\x08@x.dk")),
        ],
    )
    group = Group.objects.create(course=course, number=9, repo_url=url)

    scrape = group_scrape(group=group, at_deadline=False)

    mallory, long = Scrape.objects.get(pk=scrape.pk).contributors  # one commit each, by name
    assert (mallory["name"], mallory["email"]) == ("Mallory\ufffd[31m\ufffd Red", "m\ufffd@x.dk")  # git drops the \x01
    assert (len(long["name"]), len(long["email"])) == (MAX_NAME, MAX_EMAIL)
    assert long["name"].endswith("…") and long["email"].endswith("…")


def test_the_history_read_is_bounded_by_the_bytes_of_gits_output(course, tmp_path, monkeypatch):
    url = make_repo(tmp_path, "long", [(JAN_10, {"reports/README.md": FILLED}, ALICE)] + [(JAN_12, {}, BOB)] * 5)
    group = Group.objects.create(course=course, number=9, repo_url=url)
    line = len(f"{'0' * 40}\0{1736672400}\0{1736672400}\0{BOB[0]}\0{BOB[1]}\n")
    monkeypatch.setattr(contributors, "MAX_LOG_BYTES", 2 * line + 5)  # two whole lines and a bit of the third

    scrape = group_scrape(group=group, at_deadline=False)

    assert scrape.status == Scrape.Status.OK
    assert [(c["email"], c["commits"]) for c in scrape.contributors] == [(BOB[1], 2)]  # the newest first
    assert Scrape.objects.get(pk=scrape.pk).history_cut


# --- the pure parts ---------------------------------------------------------------------------------------------------


def test_identities_past_the_cap_are_summed_as_others():
    line = "{sha}\0{at}\0{at}\0P{i}\0p{i}@x.dk\n"
    log = b"".join(line.format(sha="a" * 40, at=86400 * i, i=i).encode() * (10 - i) for i in range(5))
    read = contributors.history(log + b"b" * 40 + b"\0" + b"12\0cut", max_commits=100, max_bytes=10_000)

    entries = contributors.contributors(read.commits, max_identities=2)

    assert [(e["name"], e["commits"]) for e in entries] == [("P0", 10), ("P1", 9), ("", 8 + 7 + 6)]
    assert entries[2]["others"] == 3 and entries[2]["days"] == 3
    assert (entries[2]["first"], entries[2]["last"]) == ("1970-01-03T00:00:00+00:00", "1970-01-05T00:00:00+00:00")


@pytest.mark.parametrize(
    "identity, member",
    [
        ({"name": "x", "email": "ANN@x.dk"}, "ann"),  # the account's e-mail, any case
        ({"name": "x", "email": "ann-h@users.noreply.github.com"}, "ann"),  # a noreply address, no id
        ({"name": "x", "email": "7+Ann-H@users.noreply.github.com"}, "ann"),
        ({"name": "ANN-H", "email": "ann@laptop"}, "ann"),  # the GitHub user name as the git name
        ({"name": "x", "email": "BEN@x.dk"}, "ben@x.dk"),  # the user name when it is an e-mail
        ({"name": "x", "email": "7+someone@users.noreply.github.com"}, None),
        ({"name": "x", "email": "shared@x.dk"}, None),  # two members have it: nobody's
        ({"name": "", "email": "", "others": 3}, None),
    ],
)
def test_identities_are_matched_by_email_noreply_login_or_name(identity, member):
    people = [
        GroupMember("ann", "Ann", "ann@x.dk", github_username="Ann-H"),
        GroupMember("ben@x.dk", "Ben", ""),
        GroupMember("s1", "", "shared@x.dk"),
        GroupMember("s2", "", "SHARED@x.dk"),
    ]
    entry = identity | {"commits": 3, "first": "2025-01-10T12:00:00+00:00", "last": "2025-01-10T12:00:00+00:00"}

    found = group_contributions(people, [entry | {"days": 1}])

    assert {m.person.username for m in found.members if m.commits} == ({member} if member else set())
    assert len(found.unmatched) == (0 if member else 1)


@pytest.mark.parametrize("value, ok", [("octo-cat", True), ("", True), ("octo--cat", False), ("-octo", False)])
def test_the_admins_membership_form_follows_githubs_rule(group1, value, ok):
    membership = Membership.objects.filter(group=group1).first()
    data = {"user": membership.user_id, "study_number": "", "github_username": value}
    form_class = modelform_factory(Membership, form=MembershipAdminForm, fields=list(data))  # as the inline makes it

    form = form_class(data, instance=membership)

    assert form.is_valid() == ok
    assert ok or form.errors == {"github_username": [GITHUB_USERNAME_INVALID]}
