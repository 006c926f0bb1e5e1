"""Submission codes for anonymous grading: 'Submission 7F3K' instead of a group's number.

A code is derived from a secret and the group's id (an HMAC), so it is stable, says nothing about the group's
number, and needs no storage. Four characters of Crockford's base 32 (no I, L, O, U: nothing to misread); when two
groups of a course draw the same four, the one with the larger id takes more characters of its HMAC (rare: about 1%
of courses of 150 groups), so codes stay unique within a course.

>>> codes = submission_codes(b"secret", [1, 2, 3])
>>> sorted(len(code) for code in codes.values())
[4, 4, 4]
>>> codes == submission_codes(b"secret", [3, 2, 1])
True
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
LENGTH = 4


def _digits(secret: bytes, group_id: int) -> str:
    digest = hmac.new(secret, f"submission:{group_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    digits = []
    for _ in range(24):
        number, rest = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[rest])
    return "".join(digits)


def submission_codes(secret: bytes, group_ids: Iterable[int]) -> dict[int, str]:
    """{group id: code} for the groups of one course, unique among them."""
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for group_id in sorted(set(group_ids)):
        digits = _digits(secret, group_id)
        length = LENGTH
        while digits[:length] in taken:
            length += 1
        codes[group_id] = digits[:length]
        taken.add(digits[:length])
    return codes


def normal_code(text: str) -> str:
    """A code as typed (lower case, with O for 0, I or L for 1) in its canonical form."""
    return text.strip().upper().translate(str.maketrans("OIL", "011"))
