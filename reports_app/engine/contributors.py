"""Who committed to a repo, from commit metadata only: per git author identity (name, e-mail), the number of
commits, the first and last commit and the active days. Pure: git's output in, JSON-ready dicts out.

The input is one walk of the history, `git rev-list --no-commit-header --format=HISTORY_FORMAT` (one line per
commit, newest first: its id, committer time, author time, author name and e-mail, NUL-separated), read by
`history`; `contributors` counts its commits per identity, and the walk's commits are the ones the site has seen.
Everything in it is the repo's, so hostile: names and e-mails are length-capped and control characters replaced,
unreadable lines are skipped, and at most `max_identities` identities are kept, the rest summed as one "others"
entry. Times are author times (when the work was done, as GitHub's contribution graphs count them), in UTC.

>>> log = b"%s\\0%d\\0%d\\0Alice\\0a@x.dk\\n" % (b"a" * 40, 1736596800, 1736510400)
>>> [(c["name"], c["commits"], c["last"]) for c in contributors(history(log, max_commits=9, max_bytes=999).commits)]
[('Alice', 1, '2025-01-10T12:00:00+00:00')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

HISTORY_FORMAT = "%H%x00%ct%x00%at%x00%an%x00%ae"  # git's %an and %ae cannot hold a newline (a header line each)
MAX_COMMITS = 20_000  # read of a repo's history, newest first
MAX_LOG_BYTES = 4 * 1024 * 1024  # of git's output: ~60,000 commits of ordinary names; fewer of hostile ones
MAX_IDENTITIES = 200
MAX_NAME = 100
MAX_EMAIL = 254  # the longest e-mail address SMTP allows
_LATEST = 253_402_300_799  # 9999-12-31 23:59:59 UTC: git accepts any time, datetime does not


@dataclass
class _Tally:
    commits: int = 0
    first: int = _LATEST
    last: int = 0
    days: set[date] = field(default_factory=set)

    def add(self, timestamp: int, days: set[date] | None = None) -> None:
        self.first, self.last = min(self.first, timestamp), max(self.last, timestamp)
        self.days |= days if days is not None else {datetime.fromtimestamp(timestamp, UTC).date()}

    def entry(self, name: str, email: str) -> dict:
        first, last = (datetime.fromtimestamp(t, UTC).isoformat() for t in (self.first, self.last))
        days = len(self.days)
        return {"name": name, "email": email, "commits": self.commits, "first": first, "last": last, "days": days}


def clean(value: bytes, limit: int) -> str:
    """A name or e-mail from a repo as text we can show: UTF-8 (bad bytes replaced), control and other unprintable
    characters as U+FFFD, spaces collapsed, at most `limit` characters (cut with an ellipsis).

    >>> clean(b"  Eve\\x1b[31m  Red ", 100), clean(b"x" * 9, 5)
    ('Eve\\ufffd[31m Red', 'xxxx…')
    """
    text = " ".join(value.decode("utf-8", "replace").split())
    text = "".join(c if c.isprintable() else "\ufffd" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Commit:
    sha: str
    committed: int  # committer time (seconds since 1970, UTC): what a deadline is compared with
    authored: int  # author time: when the work was done
    name: str  # the author's, cleaned (`clean`)
    email: str


@dataclass(frozen=True)
class History:
    """What one walk of the history read: its commits, newest first; `head` (id, committer time) of the commit it
    started from, None when it read no commit (an empty repo); `cut` when it stopped before the first commit."""

    commits: list[Commit]
    head: tuple[str, int] | None
    cut: bool


def _time(value: bytes) -> int | None:
    """A time git printed, clamped to what datetime holds; None when it is not one (a cut line)."""
    if not value.lstrip(b"-").isdigit() or len(value) > 20:
        return None
    return min(max(int(value), 0), _LATEST)


def _sha(value: bytes) -> str | None:
    return value.decode() if len(value) in (40, 64) and all(c in b"0123456789abcdef" for c in value) else None


def history(log: bytes, *, max_commits: int, max_bytes: int) -> History:
    r"""Read the first `max_bytes` bytes of a walk's output (module docstring), asked for `max_commits` + 1 commits
    and at most `max_bytes` + 1 bytes: it is `cut` when it holds more than `max_commits` lines or more than
    `max_bytes` bytes (git was stopped there). Only whole lines count (a cut last line is dropped), and lines that
    do not parse are skipped; the head is read from the first line's id and time even when the rest of it is cut.

    >>> line = b"%s\0%d\0%d\0Eve\0e@x.dk\n"
    >>> read = history(line % (b"a" * 40, 20, 10) + line % (b"b" * 40, 5, 5), max_commits=1, max_bytes=999)
    >>> read.head, read.cut, [(c.sha[:3], c.committed, c.authored, c.name) for c in read.commits]
    (('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 20), True, [('aaa', 20, 10, 'Eve')])
    """
    read = log[:max_bytes]
    lines = read.split(b"\n")[:-1]  # whole lines only: the last piece is "" or a cut line
    first = read.split(b"\n", 1)[0].split(b"\0", 2)  # the id and time are whole when a NUL follows them
    sha, committed = (_sha(first[0]), _time(first[1])) if len(first) == 3 else (None, None)
    head = (sha, committed) if sha is not None and committed is not None else None
    commits = [commit for line in lines[:max_commits] if (commit := _commit(line)) is not None]
    return History(commits, head, cut=len(log) > max_bytes or len(lines) > max_commits)


def _commit(line: bytes) -> Commit | None:
    """One line of the walk, None when its id or committer time does not parse. An author line git cannot read (a
    commit made by hand, with a NUL in the name, prints an empty time, name and e-mail) still counts the commit: at
    its committer time, by an identity without name. More parts than five keep the e-mail last."""
    parts = line.split(b"\0")
    if len(parts) < 5:
        return None
    sha, committed, authored = _sha(parts[0]), _time(parts[1]), _time(parts[2])
    if sha is None or committed is None:
        return None
    authored = committed if authored is None else authored
    return Commit(sha, committed, authored, clean(b"\0".join(parts[3:-1]), MAX_NAME), clean(parts[-1], MAX_EMAIL))


def contributors(commits: Iterable[Commit], *, max_identities: int = MAX_IDENTITIES) -> list[dict]:
    """Per author identity of `commits`, most commits first: {name, email, commits, first, last, days}, `first`
    and `last` ISO times in UTC, `days` the distinct UTC dates with a commit. Identities past `max_identities` are
    summed in one last entry {"name": "", "email": "", "others": <how many identities>, ...}."""
    tallies: dict[tuple[str, str], _Tally] = {}
    for commit in commits:
        tally = tallies.setdefault((commit.name, commit.email), _Tally())
        tally.commits += 1
        tally.add(commit.authored)
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].commits, item[0]))
    entries = [tally.entry(name, email) for (name, email), tally in ranked[:max_identities]]
    rest = [tally for _, tally in ranked[max_identities:]]
    if rest:
        others = _Tally(commits=sum(t.commits for t in rest))
        for tally in rest:
            others.add(tally.first, tally.days)
            others.add(tally.last, set())
        entries.append(others.entry("", "") | {"others": len(rest)})
    return entries
