"""Who committed to a repo, from commit metadata only: per git author identity (name, e-mail), the number of
commits, the first and last commit and the active days. Pure: git's output in, JSON-ready dicts out.

The input is `git rev-list --format=LOG_FORMAT` (one line per commit: author time, name, e-mail, NUL-separated).
Everything in it is the repo's, so hostile: names and e-mails are length-capped and control characters replaced,
unreadable lines are skipped, and at most `max_identities` identities are kept, the rest summed as one "others"
entry. Times are author times (when the work was done, as GitHub's contribution graphs count them), in UTC.

>>> log = b"1736510400\\x00Alice\\x00a@x.dk\\n1736596800\\x00Alice\\x00a@x.dk\\n1736510400\\x00Bob\\x00b@x.dk\\n"
>>> [(c["name"], c["commits"], c["days"], c["last"]) for c in contributors(log)]
[('Alice', 2, 2, '2025-01-11T12:00:00+00:00'), ('Bob', 1, 1, '2025-01-10T12:00:00+00:00')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

LOG_FORMAT = "%at%x00%an%x00%ae"
COMMITS_FORMAT = "%H %ct"  # for `commit_times`
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


def contributors(log: bytes, *, max_identities: int = MAX_IDENTITIES) -> list[dict]:
    """Per identity of `log` (see the module), most commits first: {name, email, commits, first, last, days}, `first`
    and `last` ISO times in UTC, `days` the distinct UTC dates with a commit. Identities past `max_identities` are
    summed in one last entry {"name": "", "email": "", "others": <how many identities>, ...}."""
    tallies: dict[tuple[str, str], _Tally] = {}
    for line in log.split(b"\n"):
        parts = line.split(b"\0")
        if len(parts) < 3 or not parts[0].strip().lstrip(b"-").isdigit() or len(parts[0]) > 20:
            continue  # a cut last line, or not ours
        timestamp = min(max(int(parts[0]), 0), _LATEST)
        key = (clean(b"\0".join(parts[1:-1]), MAX_NAME), clean(parts[-1], MAX_EMAIL))
        tally = tallies.setdefault(key, _Tally())
        tally.commits += 1
        tally.add(timestamp)
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


def commit_times(log: bytes) -> list[tuple[str, int]]:
    """(sha, committer time) of each line of `git log --format=COMMITS_FORMAT`, in its order; lines that are not
    a full object id and a time (a cut last line) are skipped. Times outside what datetime holds are clamped.

    >>> commit_times(b"%s 1736510400\\n%s 17365" % (b"a" * 40, b"b" * 12))
    [('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1736510400)]
    """
    found = []
    for line in log.split(b"\n"):
        sha, _, timestamp = line.partition(b" ")
        if len(sha) in (40, 64) and all(c in b"0123456789abcdef" for c in sha) and timestamp.isdigit():
            found.append((sha.decode(), min(int(timestamp[:20]), _LATEST)))
    return found
