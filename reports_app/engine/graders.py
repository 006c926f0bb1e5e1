"""Who grades which group: the `group,ta_email` CSV read into rows, and an even spread of groups over TAs. Pure
Python; the problems of a file are RosterError's (line, message), as for a roster.

>>> spread([3, 1, 2, 4, 5], ["tom", "ann"])
{1: 'tom', 2: 'ann', 3: 'tom', 4: 'ann', 5: 'tom'}
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .csvfiles import undefuse
from .roster import MAX_EMAIL, RosterError, _group_number, decode, delimiter, header_key, plausible_email

COLUMNS = {
    "group": "group",
    "group nb": "group",
    "group number": "group",
    "ta email": "email",
    "ta": "email",
    "email": "email",
    "grader": "email",
    "grader email": "email",
}
HEADER_EXPECTED = "the first line must name the two columns: group,ta_email"
NO_ROWS = "the file has a header but no rows below it"


@dataclass(frozen=True)
class Assignment:
    number: int  # the group's number
    email: str  # lowercased
    line: int


def _records(text: str) -> list[tuple[int, list[str]]]:
    """The file's non-empty records with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    records: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for record in reader:
            records.append((previous + 1, [undefuse(cell.strip()) for cell in record]))
            previous = reader.line_num
    except csv.Error as e:
        raise RosterError([(previous + 1, f"the CSV can't be read here ({e})")]) from None
    return [(line, cells) for line, cells in records if any(cells)]


def parse_graders(data: bytes) -> list[Assignment]:
    """The assignments of a `group,ta_email` file in file order; RosterError with every problem and its line."""
    assignments, problems = read_graders(data)
    if problems:
        raise RosterError(problems)
    return assignments


def read_graders(data: bytes) -> tuple[list[Assignment], list[tuple[int, str]]]:
    """The rows of a `group,ta_email` file that read well, and the problems of the others (line, message), so that a
    caller can add what it finds wrong with the good rows and report everything at once. RosterError when the file
    as a whole cannot be read (not text, empty, no header)."""
    records = _records(decode(data))
    if not records:
        raise RosterError([(1, "the file is empty")])
    (header_line, header), rows = records[0], records[1:]
    columns = [COLUMNS.get(header_key(cell)) for cell in header]
    if "group" not in columns or "email" not in columns:
        raise RosterError([(header_line, HEADER_EXPECTED)])
    if not rows:
        raise RosterError([(header_line, NO_ROWS)])
    at = {name: columns.index(name) for name in ("group", "email")}
    problems: list[tuple[int, str]] = []
    assignments: list[Assignment] = []
    seen: dict[tuple[int, str], int] = {}
    for line, cells in rows:
        cell = {name: cells[i] if i < len(cells) else "" for name, i in at.items()}
        number = _group_number(cell["group"])
        email = cell["email"].lower()
        if isinstance(number, str):
            problems.append((line, number))
        if not email:
            problems.append((line, "the TA's e-mail address is missing"))
        elif len(email) > MAX_EMAIL or not plausible_email(email):
            problems.append((line, f"{email[:60]!r} is not an e-mail address"))
        elif isinstance(number, int):
            if (number, email) in seen:
                problems.append((line, f"group {number} and {email} are on line {seen[number, email]} already"))
            else:
                seen[number, email] = line
                assignments.append(Assignment(number, email, line))
    return assignments, problems


def spread(groups: list[int], graders: list[str]) -> dict[int, str]:
    """Each group number to one grader, round robin over the groups in number order and the graders in the order
    given: balanced (counts differ by at most one), and the same groups and graders always give the same spread.
    Adding a grader spreads again from the start (by group number)."""
    if not graders:
        return {}
    return {number: graders[i % len(graders)] for i, number in enumerate(sorted(groups))}
