"""A course's roster as CSV: which students are in which group, with which repo. Pure: bytes in, dataclasses out.

Two layouts are read, told apart by the header row:

- the course's sign-up sheet, one row per group: `group nb, student 1, ..., student 5, github_repo` (students as
  e-mail addresses, empty cells for smaller groups);
- a student list, one row per student: `group, study_number, name, email, repo`, optionally `github_username` (the
  member's GitHub user name, whose commits then count as theirs; a column named just `github` is the repo), the repo
  on every row of the group or on one of them. A row with a group number and no student declares the group alone.

Header names may differ in case, spaces and underscores. Cells may be separated by `;` (a Danish Excel) as well as
`,`; a UTF-8 byte order mark (Excel's "CSV UTF-8") is skipped. Line numbers are the file's: the header is line 1.
A `'` that csvfiles.defuse put in front of a formula start (`'=...`, `'-...`) is taken off, so that our own export
reads back unchanged.

>>> roster = parse_roster(b"Group nb,Student 1,Student 2,github_repo\\n7,a@x.dk,B@x.dk,https://github.com/a/b\\n",
...                       min_size=1, max_size=5, allowed=["https://github.com/"])
>>> [(g.number, [m.email for m in g.members], g.repo_url) for g in roster.groups]
[(7, ['a@x.dk', 'b@x.dk'], 'https://github.com/a/b')]
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .csvfiles import csv_text, undefuse
from .parsing import excerpt
from .repo_urls import RepoRefused, check_url

MAX_BYTES = 1024 * 1024  # a course of 500 students is ~40 kB
# The lengths of the fields the roster fills (User.username and first/last_name, Membership, Group).
MAX_EMAIL = 150
MAX_NAME = 150
MAX_STUDY_NUMBER = 20
MAX_REPO_URL = 500
MAX_GROUP_NUMBER = 2_147_483_647
MAX_GITHUB_USERNAME = 39
# GitHub's rule for user names: letters, digits and single hyphens, not at either end.
_GITHUB_USERNAME = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9])*\Z")
GITHUB_USERNAME_INVALID = (
    "{value!r} is not a GitHub user name: 1 to 39 letters, digits and single hyphens, not starting or ending with one"
)

LIST_HEADER = ("group", "study_number", "name", "email", "repo", "github_username")
EXPECTED = (
    "a sign-up sheet has the columns group nb, student 1, ..., student 5, github_repo; "
    "a student list has group, study_number, name, email, repo and optionally github_username"
)

# Normalised header cell -> column. "student <k>" columns are recognised by pattern.
COLUMNS = {
    "group": "group",
    "group nb": "group",
    "group no": "group",
    "group number": "group",
    "study number": "study_number",
    "student number": "study_number",
    "name": "name",
    "email": "email",
    "e mail": "email",
    "repo": "repo",
    "repo url": "repo",
    "repository": "repo",
    "github": "repo",
    "github repo": "repo",
    "github username": "github_username",
    "github user name": "github_username",
    "github user": "github_username",
    "github login": "github_username",
}
SHEET_COLUMNS = {"group", "repo"}  # and "student <k>"


@dataclass(frozen=True)
class Member:
    email: str  # lowercased
    name: str = ""
    study_number: str = ""
    line: int = 0
    github_username: str = ""  # "" when not given


@dataclass(frozen=True)
class RosterGroup:
    number: int
    repo_url: str  # "" when the file gives none: the group's repo stays as it is
    members: tuple[Member, ...]
    line: int  # where the group first appears


@dataclass(frozen=True)
class Roster:
    groups: tuple[RosterGroup, ...]  # by number
    layout: str  # "sheet" or "list"


class RosterError(ValueError):
    """Every problem of a file, as (line, message) in file order; str() gives one `line N: message` a line."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = sorted(problems, key=lambda problem: problem[0])
        super().__init__("\n".join(f"line {line}: {message}" for line, message in self.problems))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def decode(data: bytes) -> str:
    """The file's text without a byte order mark, or RosterError saying why it is not a UTF-8 text file."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.strip():
        raise RosterError([(1, "the file is empty")])
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise RosterError([(line, "the file is binary, not a CSV text file")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RosterError(
            [(line, f"the file is not UTF-8 text (byte 0x{data[e.start]:02x}); in Excel, save it as 'CSV UTF-8'")]
        ) from None


def delimiter(text: str) -> str:
    """`;` when the header line has more of them than commas (Excel in a Danish locale), else `,`."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def header_key(cell: str) -> str:
    """'  GitHub_Repo ' -> 'github repo'."""
    return " ".join(cell.replace("_", " ").replace("-", " ").split()).lower()


def _columns(header: list[str], line: int) -> tuple[str, list[str | None]]:
    """The layout and each column's meaning (None: a column without a header); RosterError for a header we can't
    read."""
    columns: list[str | None] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header, start=1):
        key = header_key(cell)
        student = re.fullmatch(r"student ?(\d+)", key)
        column = f"student {int(student.group(1))}" if student else COLUMNS.get(key)
        if not key:
            column = None
        elif column is None:
            problems.append(f"column {index}, {cell.strip()!r}, is not a column we know")
        elif column in seen:
            problems.append(f"column {index}, {cell.strip()!r}, repeats column {seen[column]}")
        else:
            seen[column] = index
        columns.append(column)
    students = {name for name in seen if name.startswith("student ")}
    others = set(seen) - students
    if not problems:
        if "group" not in others:
            problems.append("there is no group column")
        if not students and "email" not in others:
            problems.append("there is no student column (student 1... or email)")
        if students and others - SHEET_COLUMNS:
            problems.append(f"a file can't have both {', '.join(sorted(others - SHEET_COLUMNS))} and student columns")
    if problems:
        raise RosterError([(line, message) for message in [*problems, EXPECTED]])
    return ("sheet" if students else "list"), columns


def valid_github_username(value: str) -> bool:
    """GitHub's rule for user names.

    >>> [valid_github_username(v) for v in ("octo-cat", "a", "-a", "a-", "a--b", "a_b", "a" * 40)]
    [True, True, False, False, False, False, False]
    """
    return len(value) <= MAX_GITHUB_USERNAME and _GITHUB_USERNAME.match(value) is not None


def _group_number(cell: str) -> int | str:
    """The group number, or the problem with the cell."""
    cell = cell.strip()
    if not cell:
        return "the group number is missing"
    if not re.fullmatch(r"[0-9]+", cell):
        return f"the group number {excerpt(cell)!r} is not a number"
    if len(cell.lstrip("0")) > len(str(MAX_GROUP_NUMBER)):  # before int(): thousands of digits cost or raise
        return f"the group number {excerpt(cell)} is too large"
    number = int(cell)
    if number < 1:
        return "group numbers start at 1"
    if number > MAX_GROUP_NUMBER:
        return f"the group number {excerpt(cell)} is too large"
    return number


_EMAIL = re.compile(
    r"[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*"  # the local part: a dot-atom
    r"@(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+[A-Z]{2,63}\Z",  # a host name with a top-level domain
    re.IGNORECASE,
)


def plausible_email(cell: str) -> bool:
    """An address of the common form `local@host.tld` (the site passes Django's own validator instead).

    >>> plausible_email("a.b+c@dtu.dk"), plausible_email("a@b"), plausible_email("a b@x.dk")
    (True, False, False)
    """
    return _EMAIL.match(cell) is not None


def _email(cell: str, email_ok: Callable[[str], bool]) -> str | None:
    """The problem with an e-mail address, or None."""
    if len(cell) > MAX_EMAIL:
        return f"the e-mail address {cell[:40]}... is longer than {MAX_EMAIL} characters"
    if not email_ok(cell):
        return f"{cell!r} is not an e-mail address"
    return None


def _repo(cell: str, allowed: list[str]) -> tuple[str, str | None]:
    """(the repo URL as repo_urls.check_url gives it, None), or ("", the problem with it)."""
    if len(cell) > MAX_REPO_URL:
        return "", f"the repo URL is longer than {MAX_REPO_URL} characters"
    try:
        return check_url(cell, allowed), None
    except RepoRefused as refused:
        return "", str(refused)


@dataclass
class _Group:
    number: int
    line: int
    repo_url: str = ""
    repo_line: int = 0
    members: list[Member] = field(default_factory=list)


def parse_roster(
    data: bytes,
    *,
    min_size: int,
    max_size: int,
    allowed: list[str],
    email_ok: Callable[[str], bool] = plausible_email,
) -> Roster:
    """Read a roster file; RosterError carries every problem with its line when anything is wrong.

    `min_size`..`max_size` is how many students a group must have (a group named without students is let through:
    it only declares the group); `allowed` is the repo URL allow-list (settings.SCRAPE_ALLOWED_URLS); `email_ok`
    judges an e-mail address (the site passes Django's validator, the one its forms use).
    """
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    records: list[tuple[int, list[str]]] = []
    try:
        previous = 0
        for record in reader:
            records.append((previous + 1, record))
            previous = reader.line_num
    except csv.Error as e:
        raise RosterError([(previous + 1, f"the CSV can't be read here ({e})")]) from None
    records = [(line, cells) for line, cells in records if any(cell.strip() for cell in cells)]
    if not records:
        raise RosterError([(1, "the file is empty")])
    layout, columns = _columns(records[0][1], records[0][0])
    if len(records) == 1:
        raise RosterError([(records[0][0], "the file has a header but no rows below it")])

    problems: list[tuple[int, str]] = []
    groups: dict[int, _Group] = {}
    placed: dict[str, tuple[int, int]] = {}  # e-mail -> (group, line)
    for line, cells in records[1:]:
        row: dict[str, str] = {}
        for index, cell in enumerate(cells):
            column = columns[index] if index < len(columns) else None
            if column is not None:
                row[column] = undefuse(cell).strip()
            elif cell.strip():
                problems.append((line, f"column {index + 1} has a value ({cell.strip()!r}) but no header"))
        number = _group_number(row.get("group", ""))
        if isinstance(number, str):
            problems.append((line, number))
        repo, problem = _repo(row["repo"], allowed) if row.get("repo") else ("", None)
        if problem:
            problems.append((line, problem))
        members: list[Member] = []
        if layout == "sheet":
            cells_ = [row[column] for column in columns if column and column.startswith("student ") and row.get(column)]
            members = [Member(email=cell.lower(), line=line) for cell in cells_]
        elif row.get("email") or row.get("name") or row.get("study_number") or row.get("github_username"):
            name, github = " ".join(row.get("name", "").split()), row.get("github_username", "")
            members = [Member(row.get("email", "").lower(), name, row.get("study_number", ""), line, github)]
        for member in members:
            if not member.email:
                problems.append((line, "the e-mail address is missing"))
            elif problem := _email(member.email, email_ok):
                problems.append((line, problem))
            if len(member.name) > MAX_NAME:
                problems.append((line, f"the name is longer than {MAX_NAME} characters"))
            if len(member.study_number) > MAX_STUDY_NUMBER:
                problems.append((line, f"the study number is longer than {MAX_STUDY_NUMBER} characters"))
            if member.github_username and not valid_github_username(member.github_username):
                problems.append((line, GITHUB_USERNAME_INVALID.format(value=excerpt(member.github_username))))
        if isinstance(number, str):
            continue
        group = groups.get(number)
        if group is None:
            group = groups[number] = _Group(number, line)
        elif layout == "sheet":
            problems.append((line, f"group {number} is on line {group.line} already"))
        if repo:
            if group.repo_url and group.repo_url != repo:
                problems.append(
                    (line, f"group {number} has the repo {group.repo_url} on line {group.repo_line}, and {repo} here")
                )
            elif not group.repo_url:
                group.repo_url, group.repo_line = repo, line
        for member in members:
            if not member.email:
                continue
            if member.email in placed:
                other, other_line = placed[member.email]
                problems.append((line, f"{member.email} is in group {other} on line {other_line} already"))
                continue
            placed[member.email] = (number, line)
            group.members.append(member)

    for group in groups.values():
        size = len(group.members)
        if size and not min_size <= size <= max_size:
            problems.append(
                (
                    group.line,
                    f"group {group.number} has {_plural(size, 'student')}; a group has {min_size} to {max_size}",
                )
            )
    if problems:
        raise RosterError(problems)
    ordered = sorted(groups.values(), key=lambda group: group.number)
    return Roster(tuple(RosterGroup(g.number, g.repo_url, tuple(g.members), g.line) for g in ordered), layout)


def roster_csv(rows: list[list[str]], *, bom: bool = False) -> str:
    """A student list (header and rows) as CSV text, written by csvfiles (quoted, formulas defused)."""
    return csv_text([LIST_HEADER, *rows], bom=bom)


def split_name(name: str) -> tuple[str, str]:
    """'Anna Maria Holm' -> ('Anna Maria', 'Holm'): the last word is the last name."""
    first, _, last = " ".join(name.split()).rpartition(" ")
    return (first, last) if first else (last, "")


@dataclass
class RosterChanges:
    """What an import changed (or, on a dry run, would change)."""

    groups_created: list[int] = field(default_factory=list)
    repos_changed: list[tuple[int, str, str]] = field(default_factory=list)  # (group, old, new)
    users_created: list[str] = field(default_factory=list)
    members_added: list[tuple[int, str]] = field(default_factory=list)  # (group, e-mail)
    study_numbers_changed: list[tuple[int, str, str, str]] = field(default_factory=list)  # (group, e-mail, old, new)
    github_usernames_changed: list[tuple[int, str, str, str]] = field(default_factory=list)  # the same
    missing: list[tuple[int, str]] = field(default_factory=list)  # (group, e-mail or user name) not in the file
    removed: bool = False  # the missing members were removed

    @property
    def changed(self) -> bool:
        return bool(
            self.groups_created
            or self.repos_changed
            or self.users_created
            or self.members_added
            or self.study_numbers_changed
            or self.github_usernames_changed
            or (self.removed and self.missing)
        )

    def lines(self) -> list[str]:
        """One line per change, in the order: groups, repos, users, members, study numbers, missing members."""
        kept = "removed" if self.removed else "kept"
        return [
            *(f"new group {number}" for number in self.groups_created),
            *(f"group {n}: repo {old or '(none)'} -> {new}" for n, old, new in self.repos_changed),
            *(f"new user {email}" for email in self.users_created),
            *(f"group {number}: add {email}" for number, email in self.members_added),
            *(
                f"group {n}: study number of {email}: {old or '(none)'} -> {new}"
                for n, email, old, new in self.study_numbers_changed
            ),
            *(
                f"group {n}: GitHub user name of {email}: {old or '(none)'} -> {new}"
                for n, email, old, new in self.github_usernames_changed
            ),
            *(f"group {number}: {who} is not in the file ({kept})" for number, who in self.missing),
        ]

    def summary(self) -> str:
        """'2 groups created, 6 users created, 6 members added; 1 member in the site is not in the file (kept).'"""
        counts = [
            (len(self.groups_created), "group", "created"),
            (len(self.repos_changed), "repo URL", "changed"),
            (len(self.users_created), "user", "created"),
            (len(self.members_added), "member", "added"),
            (len(self.study_numbers_changed), "study number", "changed"),
            (len(self.github_usernames_changed), "GitHub user name", "changed"),
            (len(self.missing) if self.removed else 0, "member", "removed"),
        ]
        text = ", ".join(f"{_plural(count, word)} {verb}" for count, word, verb in counts if count)
        kept = 0 if self.removed else len(self.missing)
        if not text:
            text = "nothing to change" if kept else "nothing to change: the site matches the file"
        if kept:
            text += f"; {_plural(kept, 'member')} in the site {'is' if kept == 1 else 'are'} not in the file (kept)"
        return text[0].upper() + text[1:] + "."
