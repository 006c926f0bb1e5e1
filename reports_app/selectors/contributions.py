"""Who of a group committed: the git identities a scrape counted (Scrape.contributors, engine/contributors.py)
mapped to the group's members at read time, since members and their GitHub user names change after a scrape.

An identity is a member's when, in this order, the first rule that names exactly one member says so:

1. its e-mail is the member's account e-mail or user name (accounts are named by their e-mail), ignoring case;
2. it is a GitHub noreply address (`12345+login@users.noreply.github.com` or `login@users.noreply.github.com`)
   whose login is the member's GitHub user name (Membership.github_username), ignoring case;
3. its name is the member's GitHub user name, ignoring case: a last resort, for people who commit with their
   login as their git name and an e-mail the site does not know (a laptop's `user@host`).

An identity that no rule gives to exactly one member is listed as unmatched, as is the "others" entry (identities
past the cap, summed). A member's active days are the sum over their identities: at most that many distinct days.

When the scrape's history was cut (Scrape.history_cut: more than MAX_COMMITS commits, or MAX_LOG_BYTES of them), a
member without commits among those read may have older ones: they are "none among the newest 20,000", never
"0 commits", and not among `without_commits`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

NONE_AMONG_NEWEST = "none among the newest {count:,}"
HISTORY_CUT = "only the newest {count:,} commits were counted: the history is longer"
_NOREPLY = re.compile(r"(?:[0-9]+\+)?([a-z0-9-]{1,39})@users\.noreply\.github\.com", re.IGNORECASE)


class Person(Protocol):
    """A member as the matching sees them (selectors.overview.GroupMember is one)."""

    username: str
    email: str
    github_username: str


@dataclass(frozen=True)
class MemberCommits:
    person: Person
    commits: int = 0
    first: str = ""  # ISO time in UTC of the first commit, "" without commits
    last: str = ""
    days: int = 0  # active days (distinct UTC dates), summed over the member's identities


@dataclass(frozen=True)
class Contributions:
    members: tuple[MemberCommits, ...]  # in the order of the members given
    unmatched: tuple[dict, ...]  # Scrape.contributors entries no member was given
    cut: bool = False  # the history read stopped before its first commit (Scrape.history_cut)

    @property
    def counted(self) -> int:
        """The commits the scrape counted (MAX_COMMITS when the history was cut at that many)."""
        return sum(m.commits for m in self.members) + sum(i["commits"] for i in self.unmatched)

    @property
    def without_commits(self) -> list[Person]:
        """The members none of the commits is by; nobody when the history was cut (they may have older ones)."""
        return [] if self.cut else [m.person for m in self.members if not m.commits]

    def count_text(self, member: MemberCommits) -> str:
        """A member's commits as the CSV says them: '12', '0', or 'none among the newest 20,000' in a cut history."""
        return self.none_among_newest if self.cut and not member.commits else str(member.commits)

    @property
    def none_among_newest(self) -> str:
        """What a member without commits has in a cut history: 'none among the newest 20,000'."""
        return NONE_AMONG_NEWEST.format(count=self.counted)


def noreply_login(email: str) -> str | None:
    """The GitHub login of a noreply address, in lower case, else None.

    >>> noreply_login("123+Octo-Cat@users.noreply.github.com"), noreply_login("octo@example.com")
    ('octo-cat', None)
    """
    found = _NOREPLY.fullmatch(email.strip())
    return found.group(1).lower() if found else None


def _owner(identity: dict, people: Sequence[Person]) -> int | None:
    """The index in `people` of the member the identity is (module docstring), or None."""
    if identity.get("others"):
        return None
    email, name = identity.get("email", "").casefold(), identity.get("name", "").strip().casefold()
    login = noreply_login(email)
    rules = [
        lambda p: bool(email) and email in {p.email.casefold(), p.username.casefold()},
        lambda p: login is not None and login == p.github_username.casefold(),
        lambda p: bool(name) and name == p.github_username.casefold(),
    ]
    for rule in rules:
        found = [i for i, person in enumerate(people) if rule(person)]
        if len(found) == 1:
            return found[0]
        if found:
            return None  # names several members: nobody's
    return None


def group_contributions(people: Sequence[Person], contributors: list[dict], *, cut: bool = False) -> Contributions:
    """Each member's commits, first and last commit and active days, and the identities no member was given;
    `cut`: the history read stopped before its first commit."""
    tallies: list[list[dict]] = [[] for _ in people]
    unmatched = []
    for identity in contributors:
        owner = _owner(identity, people)
        if owner is None:
            unmatched.append(identity)
        else:
            tallies[owner].append(identity)
    members = tuple(
        MemberCommits(
            person,
            commits=sum(i["commits"] for i in mine),
            first=min((i["first"] for i in mine), default=""),
            last=max((i["last"] for i in mine), default=""),
            days=sum(i["days"] for i in mine),
        )
        for person, mine in zip(people, tallies, strict=True)
    )
    return Contributions(members, tuple(unmatched), cut)
