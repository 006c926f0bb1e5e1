"""Where a report's answers and ticks go when it moves to another version of its template. Pure Python.

Questions are paired by what they ask (the first paragraph of the prompt, see `asks`) in three passes: the same
question (wherever it moved), then one reworded (alike word by word as `diffing.REWORDED` says; the most alike, then
the nearest number first), then what is left by its number. A pair is flagged when its text or its word or image rule
changed, so that staff look before moving. An old question left without a pair has no
place: its answers stay, with their history, on the old version. Checklist items pair by text the same way (without
the pass by number: a tick means "we did this", not "we did item 7").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .diffing import REWORDED, likeness, prompt_text, rule_text
from .parsing import ChecklistItemSpec, ParsedTemplate, QuestionSpec

T = TypeVar("T")

SAME_TEXT = "same question"
REWORDED_TEXT = "reworded"
BY_NUMBER = "by number only"
KINDS = (SAME_TEXT, REWORDED_TEXT, BY_NUMBER)
# Pairs of left-over texts the reworded pass may compare (each comparison is bounded, see diffing.likeness); a real
# template change leaves a few dozen. Past this, the left-overs pair by number alone.
MAX_COMPARISONS = 40_000


@dataclass(frozen=True)
class Placed:
    """An old question and the new one its answer moves to."""

    old: QuestionSpec
    new: QuestionSpec
    how: str  # SAME_TEXT, REWORDED_TEXT or BY_NUMBER
    alike: float  # 1.0 for the same text

    @property
    def flags(self) -> tuple[str, ...]:
        """What changed that a moved answer may now fail: its text, its word or image rule."""
        flags = []
        if self.how == REWORDED_TEXT:
            flags.append(f"question reworded ({round(self.alike * 100)}% alike)")
        elif self.how == BY_NUMBER:
            flags.append("another question: only the number is the same")
        elif prompt_text(self.old.prompt) != prompt_text(self.new.prompt):
            flags.append("the text below the question changed")
        if self.old.words != self.new.words:
            flags.append(f"words {rule_text(self.old.words)} -> {rule_text(self.new.words)}")
        if self.old.images != self.new.images:
            flags.append(f"images {rule_text(self.old.images)} -> {rule_text(self.new.images)}")
        return tuple(flags)


@dataclass(frozen=True)
class Move:
    """Where everything of a report on `old` goes on `new`."""

    placed: tuple[Placed, ...]  # in the new version's order
    no_place: tuple[QuestionSpec, ...]  # old questions whose answers stay on the old version
    new_only: tuple[QuestionSpec, ...]  # new questions that start unanswered
    items: tuple[tuple[ChecklistItemSpec, ChecklistItemSpec], ...]  # (old item, new item) whose tick moves
    items_no_place: tuple[ChecklistItemSpec, ...]

    def numbers(self) -> dict[int, int]:
        """Old question number -> new question number."""
        return {p.old.number: p.new.number for p in self.placed}

    def positions(self) -> dict[int, int]:
        """Old checklist position -> new checklist position."""
        return {old.index: new.index for old, new in self.items}


def plan_move(old: ParsedTemplate, new: ParsedTemplate) -> Move:
    """Where a report's answers and ticks go from `old` to `new` (pass each through `diffing.with_stored` to compare
    the rules as stored).

    >>> from .parsing import parse_template
    >>> q = "### Question {n}\\n\\n> **{ask}**\\n>\\n> Answer:\\n\\n--- question {n} fill here ---\\n\\n"
    >>> a = parse_template("# T\\n\\n## S\\n\\n" + q.format(n=1, ask="Who are you?") + q.format(n=2, ask="Why?"))
    >>> b = parse_template("# T\\n\\n## S\\n\\n" + q.format(n=1, ask="Why?") + q.format(n=2, ask="Where?"))
    >>> [(p.old.number, p.new.number, p.how) for p in plan_move(a, b).placed]
    [(2, 1, 'same question')]
    >>> [q.number for q in plan_move(a, b).no_place], [q.number for q in plan_move(a, b).new_only]
    ([1], [2])
    """
    pairs = _pair(
        old.questions,
        new.questions,
        text=lambda q: asks(q.prompt),
        place=lambda q: q.number,
        by_number=True,
    )
    placed = tuple(sorted((Placed(o, n, how, alike) for o, n, how, alike in pairs), key=lambda p: p.new.number))
    taken_old = {p.old.number for p in placed}
    taken_new = {p.new.number for p in placed}
    items = _pair(old.checklist, new.checklist, text=lambda i: i.text, place=lambda i: i.index, by_number=False)
    moved_items = {o.index for o, _, _, _ in items}
    return Move(
        placed=placed,
        no_place=tuple(q for q in old.questions if q.number not in taken_old),
        new_only=tuple(q for q in new.questions if q.number not in taken_new),
        items=tuple(sorted(((o, n) for o, n, _, _ in items), key=lambda pair: pair[1].index)),
        items_no_place=tuple(i for i in old.checklist if i.index not in moved_items),
    )


def asks(prompt: str) -> str:
    """What a question asks: the first paragraph of its prompt (the rule and the example below it are much alike from
    one question to the next, so they would make any two questions look alike).

    >>> asks(">\\n> **Which beans, and\\n> why?**\\n>\\n> Recommended answer length: 10-20 words.\\n>\\n> Answer:")
    'Which beans, and why?'
    """
    return prompt_text(prompt).split("\n", 1)[0]


def _pair(
    old: Sequence[T], new: Sequence[T], *, text: Callable[[T], str], place: Callable[[T], int], by_number: bool
) -> list[tuple[T, T, str, float]]:
    """(old, new, how, alike) for every pair made by the passes of the module's docstring."""
    left_old, left_new = dict(enumerate(old)), dict(enumerate(new))
    old_text, new_text = [text(o) for o in old], [text(n) for n in new]
    pairs: list[tuple[T, T, str, float]] = []

    def take(i: int, j: int, how: str, alike: float) -> None:
        pairs.append((left_old.pop(i), left_new.pop(j), how, alike))

    same_text: dict[str, deque[int]] = {}
    for j, words in enumerate(new_text):
        same_text.setdefault(" ".join(words.casefold().split()), deque()).append(j)
    for i in list(left_old):  # the same text, wherever it moved (texts that repeat pair in their order)
        if free := same_text.get(" ".join(old_text[i].casefold().split())):
            take(i, free.popleft(), SAME_TEXT, 1.0)
    if len(left_old) * len(left_new) <= MAX_COMPARISONS:
        candidates = sorted(
            (-alike, abs(place(n) - place(o)), i, j)
            for i, o in left_old.items()
            for j, n in left_new.items()
            if (alike := likeness(old_text[i], new_text[j])) >= REWORDED
        )
        for minus_alike, _, i, j in candidates:
            if i in left_old and j in left_new:
                take(i, j, REWORDED_TEXT, -minus_alike)
    if by_number:
        new_at = {place(n): j for j, n in left_new.items()}
        for i, o in list(left_old.items()):
            if (j := new_at.get(place(o))) is not None:
                take(i, j, BY_NUMBER, likeness(old_text[i], new_text[j]))
    return pairs
