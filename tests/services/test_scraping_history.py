"""The history a scrape reads (scraping.fetch_reports, engine/contributors): one `git rev-list` walk gives the head
commit, the commits seen and who committed; a walk that stops at MAX_COMMITS or MAX_LOG_BYTES says so. Real git
repos made in the test."""

import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports_app import scraping
from reports_app.engine import contributors
from tests.helpers.repos import FILLED, JAN_10, git, make_repo, sha_of
from tests.services.test_scraping import fetch

ALICE = ("Alice", "alice@example.org")
BOB = ("Bob", "bob@example.org")
CAROL = ("Carol", "carol@example.org")


def bare_of(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def merged_repo(root: Path) -> str:
    """Alice's first commit, Bob's branch of two commits beside Carol's on main, and Alice's merge of the branch at
    HEAD, dated before every commit it merges (dates are whatever the committer says)."""
    work = root / "merged-work"
    work.mkdir()
    git("init", "-q", cwd=work)

    def commit(name: str, date: str, author: tuple[str, str]) -> None:
        (work / name).write_text(name)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", name, cwd=work, date=date, author=author)

    (work / "reports").mkdir()
    (work / "reports/README.md").write_bytes(FILLED)
    commit("start", JAN_10, ALICE)
    git("checkout", "-q", "-b", "feature", cwd=work)
    commit("b1", "2025-01-11T10:00:00+00:00", BOB)
    commit("b2", "2025-01-12T10:00:00+00:00", BOB)
    git("checkout", "-q", "main", cwd=work)
    commit("c1", "2025-01-13T10:00:00+00:00", CAROL)
    git("merge", "-q", "--no-ff", "-m", "merge", "feature", cwd=work, date="2025-01-09T10:00:00+00:00", author=ALICE)
    bare = root / "merged.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    git("config", "uploadpack.allowFilter", "true", cwd=bare)
    return f"file://{bare}"


@pytest.fixture
def walks(monkeypatch) -> list[str]:
    """The git commands fetch_reports runs (their first word), recorded as they go through to git."""
    seen: list[str] = []
    run, head = scraping._Git._run, scraping._Git.head

    def recorded_run(self, *args, **kwargs):
        seen.append(args[0])
        return run(self, *args, **kwargs)

    def recorded_head(self, *args, **kwargs):
        seen.append(args[0])
        return head(self, *args, **kwargs)

    monkeypatch.setattr(scraping._Git, "_run", recorded_run)
    monkeypatch.setattr(scraping._Git, "head", recorded_head)
    return seen


def test_one_walk_gives_the_commit_its_commits_and_who_committed_as_git_counts_them(tmp_path, walks):
    url = merged_repo(tmp_path)
    listed = git("rev-list", "--no-commit-header", "--format=%H %ct", "HEAD", cwd=bare_of(url)).splitlines()
    by_author = git("shortlog", "-sne", "HEAD", cwd=bare_of(url)).splitlines()

    fetched = fetch(url, tmp_path)

    assert walks.count("rev-list") == 1
    assert fetched.commit_sha == sha_of(url)
    assert fetched.commit_at == datetime(2025, 1, 9, 10, tzinfo=UTC)  # the merge, older than what it merges
    assert [f"{sha} {int(at.timestamp())}" for sha, at in fetched.commits] == listed
    expected = {line.split("<")[1].rstrip(">"): int(line.split()[0]) for line in by_author}
    assert (
        {c["email"]: c["commits"] for c in fetched.contributors}
        == expected
        == {
            ALICE[1]: 2,
            BOB[1]: 2,
            CAROL[1]: 1,
        }
    )
    assert not fetched.history_cut


def test_a_deadline_scrape_finds_its_commit_then_walks_from_it(tmp_path, walks):
    dates = [JAN_10, "2025-01-12T12:00:00+00:00", "2025-01-20T12:00:00+00:00"]
    history = [(date, {"reports/README.md": FILLED}, who) for date, who in zip(dates, [ALICE, BOB, CAROL], strict=True)]
    url = make_repo(tmp_path, "deadline", history)

    fetched = fetch(url, tmp_path, before=datetime(2025, 1, 15, tzinfo=UTC))

    assert walks.count("rev-list") == 2  # the commit at the deadline, then one walk
    assert (fetched.commit_sha, fetched.commit_at) == (sha_of(url, "HEAD~1"), datetime(2025, 1, 12, 12, tzinfo=UTC))
    assert [sha for sha, _ in fetched.commits] == [sha_of(url, "HEAD~1"), sha_of(url, "HEAD~2")]
    assert {c["email"]: c["commits"] for c in fetched.contributors} == {ALICE[1]: 1, BOB[1]: 1}
    assert not fetched.history_cut


def test_the_head_is_the_walks_first_commit_when_dates_go_backwards(tmp_path):
    dates = ["2025-01-20T12:00:00+00:00", "2025-01-25T12:00:00+00:00", JAN_10]  # the newest commit is the oldest
    url = make_repo(tmp_path, "backwards", [(date, {"reports/README.md": FILLED}) for date in dates])

    fetched = fetch(url, tmp_path)

    assert fetched.commit_sha == sha_of(url) == fetched.commits[0][0]
    assert fetched.commit_at == datetime(2025, 1, 10, 12, tzinfo=UTC)
    assert [sha for sha, _ in fetched.commits] == [sha_of(url), sha_of(url, "HEAD~1"), sha_of(url, "HEAD~2")]


@pytest.mark.parametrize("count, cut", [(5, False), (6, True)])
def test_a_history_longer_than_max_commits_is_cut_and_says_so(tmp_path, monkeypatch, count, cut):
    monkeypatch.setattr(contributors, "MAX_COMMITS", 5)
    history = [(JAN_10, {"reports/README.md": FILLED}, BOB)] + [(JAN_10, {}, ALICE)] * (count - 1)
    url = make_repo(tmp_path, "long", history)

    fetched = fetch(url, tmp_path)

    assert fetched.history_cut == cut
    assert len(fetched.commits) == 5 and fetched.commits[0][0] == sha_of(url)
    assert {c["email"]: c["commits"] for c in fetched.contributors} == (
        {ALICE[1]: 5} if cut else {ALICE[1]: 4, BOB[1]: 1}
    )


@pytest.mark.parametrize("short, cut", [(0, False), (1, True)])
def test_a_history_beyond_max_log_bytes_is_cut_and_says_so(tmp_path, monkeypatch, short, cut):
    url = make_repo(tmp_path, "bytes", [(JAN_10, {"reports/README.md": FILLED}, BOB)] + [(JAN_10, {}, ALICE)] * 2)
    format_ = f"--format={contributors.HISTORY_FORMAT}"
    whole = subprocess.run(
        ["git", "--git-dir", str(bare_of(url)), "rev-list", "--no-commit-header", format_, "HEAD"],
        capture_output=True,
        check=True,
    ).stdout
    monkeypatch.setattr(contributors, "MAX_LOG_BYTES", len(whole) - short)

    fetched = fetch(url, tmp_path)

    assert fetched.history_cut == cut
    assert len(fetched.commits) == (2 if cut else 3)  # a line cut short is not read
    assert fetched.commit_sha == sha_of(url)


def test_a_hand_made_commit_whose_author_git_cannot_read_is_still_the_head_and_counted(tmp_path):
    url = make_repo(tmp_path, "hostile", [(JAN_10, {"reports/README.md": FILLED}, ALICE)])
    bare, parent = bare_of(url), sha_of(url)
    tree = git("rev-parse", "HEAD^{tree}", cwd=bare)
    raw = (
        f"tree {tree}\nparent {parent}\nauthor Ev\0e <e@x.dk> 1736600000 +0000\n"
        "committer C <c@x.dk> 1736700000 +0000\n\nby hand\n"
    ).encode()
    made = (
        subprocess.run(
            ["git", "--git-dir", str(bare), "hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
            input=raw,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    git("update-ref", "refs/heads/main", made, cwd=bare)

    fetched = fetch(url, tmp_path)

    assert fetched.commit_sha == made
    assert fetched.commit_at == datetime.fromtimestamp(1736700000, UTC)
    assert [sha for sha, _ in fetched.commits] == [made, parent]
    assert sum(c["commits"] for c in fetched.contributors) == 2
    assert Counter(c["email"] for c in fetched.contributors) == Counter([ALICE[1], ""])
