"""A question's score from its grade: the rubric items' points plus the adjustment, kept within 0..max.

>>> score([Decimal("2"), Decimal("-0.5")], Decimal("1"), Decimal("2"))
Decimal('2')
>>> score([Decimal("2"), Decimal("-0.5")], Decimal("1"), Decimal("2"), may_exceed=True)
Decimal('2.5')
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

ZERO = Decimal(0)


def score(
    item_points: Iterable[Decimal], adjustment: Decimal, max_points: Decimal | None, *, may_exceed: bool = False
) -> Decimal:
    """The sum of the applied items' points and the adjustment; unless `may_exceed`, at least 0 and at most
    `max_points` (a question without max points is bounded below only)."""
    total = sum(item_points, ZERO) + adjustment
    if may_exceed:
        return total
    total = max(total, ZERO)
    return total if max_points is None else min(total, max_points)


def points_text(value: Decimal) -> str:
    """Points as people write them: 2.50 -> '2.5', 10.00 -> '10', -1.00 -> '-1'.

    >>> points_text(Decimal("2.50")), points_text(Decimal("10.00")), points_text(Decimal("-1"))
    ('2.5', '10', '-1')
    """
    return f"{value.normalize():f}"
