"""What changed between two template versions: questions, rules, checklist and sections in plain words, and a line
diff of the two sources. Pure Python, no Django.

Questions are matched by number, because the course checker counts answers by position: "Question 12" of the old
version and "Question 12" of the new one are held to whatever rule each version gives it. To compare the rules staff
have edited since loading rather than the ones the text states, pass the template through `with_stored` first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from .checks import Rule
from .parsing import ANSWER_MARKER, ChecklistItemSpec, ParsedTemplate, QuestionSpec


@dataclass(frozen=True)
class Change:
    """One property of a question or checklist item, before and after, as people read it."""

    what: str  # "question text", "section", "words", "images", "placeholder", "week", "text"
    old: str
    new: str

    def __str__(self) -> str:
        if self.what in ("words", "images"):
            return f"{self.what} {self.old} -> {self.new}"
        return f"{self.what} '{excerpt(self.old)}' -> '{excerpt(self.new)}'"


@dataclass(frozen=True)
class QuestionChange:
    number: int
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class ChecklistChange:
    old: ChecklistItemSpec
    new: ChecklistItemSpec
    changes: tuple[Change, ...]

    def __str__(self) -> str:
        moved = f"week '{self.old.week}' -> '{self.new.week}'"
        if _flat(self.old.text) == _flat(self.new.text):
            return f"Checklist item moved: '{excerpt(self.old.text)}': {moved}"
        reworded = (
            f"Checklist item reworded ({self.old.week}): '{excerpt(self.old.text)}' -> '{excerpt(self.new.text)}'"
        )
        return reworded + (f"; {moved}" if self.old.week != self.new.week else "")


@dataclass(frozen=True)
class TemplateDiff:
    questions_added: tuple[QuestionSpec, ...] = ()
    questions_removed: tuple[QuestionSpec, ...] = ()
    questions_changed: tuple[QuestionChange, ...] = ()
    checklist_added: tuple[ChecklistItemSpec, ...] = ()
    checklist_removed: tuple[ChecklistItemSpec, ...] = ()
    checklist_changed: tuple[ChecklistChange, ...] = ()
    sections_added: tuple[str, ...] = ()
    sections_removed: tuple[str, ...] = ()
    sections_renamed: tuple[tuple[str, str], ...] = ()
    checker: tuple[str, str] | None = None  # (old, new) when the course checker differs

    def __bool__(self) -> bool:
        return bool(self.lines())

    def lines(self) -> list[str]:
        """Every difference as a sentence, sections first, then questions in number order, then the checklist.

        >>> TemplateDiff(sections_renamed=(("Setup", "Set-up"),), checker=("click", "typer")).lines()
        ['Checker: click -> typer', "Section renamed: 'Setup' -> 'Set-up'"]
        """
        out = [f"Checker: {self.checker[0]} -> {self.checker[1]}"] if self.checker else []
        out += [f"Section added: '{title}'" for title in self.sections_added]
        out += [f"Section removed: '{title}'" for title in self.sections_removed]
        out += [f"Section renamed: '{old}' -> '{new}'" for old, new in self.sections_renamed]
        by_number: list[tuple[int, str]] = [
            (q.number, f"Question {q.number} added: {first_line(q.prompt)}") for q in self.questions_added
        ]
        by_number += [
            (q.number, f"Question {q.number} removed: {first_line(q.prompt)}") for q in self.questions_removed
        ]
        by_number += [
            (c.number, f"Question {c.number}: " + "; ".join(str(change) for change in c.changes))
            for c in self.questions_changed
        ]
        out += [line for _, line in sorted(by_number, key=lambda pair: pair[0])]
        out += [f"Checklist item added ({i.week}): {i.text}" for i in self.checklist_added]
        out += [f"Checklist item removed ({i.week}): {i.text}" for i in self.checklist_removed]
        out += [str(c) for c in self.checklist_changed]
        return out


def first_line(prompt: str) -> str:
    """The first line of a prompt with its quote and emphasis marks taken off.

    >>> first_line(">\\n> **Which group number did you get?**\\n>\\n> Answer:")
    'Which group number did you get?'
    """
    for line in prompt.split("\n"):
        text = line.strip().lstrip(">").strip().strip("*_").strip()
        if text:
            return text
    return ""


def prompt_text(prompt: str) -> str:
    """A prompt in full as plain text: its paragraphs without quote and emphasis marks, one per line (a line break
    inside a paragraph is a space, as markdown reads it), and without the `Answer:` line every question ends with.

    >>> prompt_text(">\\n> **Which data, and\\n> why?**\\n>\\n> Example:\\n> *We chose ...*\\n>\\n> Answer:")
    'Which data, and why?\\nExample: We chose ...'
    """
    lines = [first_line(line) for line in prompt.strip().split("\n")]
    if lines and lines[-1] == ANSWER_MARKER:
        lines.pop()
    paragraphs = " \n".join(lines).split("\n \n")
    return "\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def excerpt(text: str, limit: int = 100) -> str:
    """The text on one line, cut at `limit` characters.

    >>> excerpt("a  long\\ntext", limit=8)
    'a lon...'
    """
    flat = _flat(text)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def rule_text(rule: tuple[int, int] | None) -> str:
    """A word or image range as people read it.

    >>> rule_text((100, 200)), rule_text(None)
    ('100-200', 'not checked')
    """
    return f"{rule[0]}-{rule[1]}" if rule else "not checked"


def number_ranges(numbers: Iterable[int]) -> str:
    """Question numbers as people write them.

    >>> number_ranges([1, 2, 3, 5, 7, 8])
    '1-3, 5, 7-8'
    """
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


def with_stored(parsed: ParsedTemplate, *, rules: Iterable[Rule], checker: str) -> ParsedTemplate:
    """The parsed template with the word and image rules and the checker as stored (staff may have edited them)."""
    by_number = {rule.number: rule for rule in rules}
    questions = tuple(
        replace(q, words=by_number[q.number].words, images=by_number[q.number].images) if q.number in by_number else q
        for q in parsed.questions
    )
    return replace(parsed, questions=questions, checker=checker)


def template_diff(old: ParsedTemplate, new: ParsedTemplate) -> TemplateDiff:
    """What changed from `old` to `new`. An empty diff is falsy."""
    added, removed, renamed = _sections(old.sections, new.sections)
    return TemplateDiff(
        questions_added=new.questions[len(old.questions) :],
        questions_removed=old.questions[len(new.questions) :],
        questions_changed=tuple(
            QuestionChange(o.number, changes)
            for o, n in zip(old.questions, new.questions, strict=False)
            if (changes := _question_changes(o, n, dict(renamed)))
        ),
        **_checklist(old.checklist, new.checklist),
        sections_added=added,
        sections_removed=removed,
        sections_renamed=renamed,
        checker=(old.checker, new.checker) if old.checker != new.checker else None,
    )


Opcode = tuple[str, int, int, int, int]
# Items (lines, words) per side that difflib compares one by one: its time grows with the product of both sides when
# many items repeat (blank lines, `>` lines, common words), about 0.3 s at 2,000 each.
DIFF_MAX_ITEMS = 2_000


def bounded_opcodes(a: Sequence, b: Sequence, *, max_items: int = DIFF_MAX_ITEMS) -> tuple[list[Opcode], bool]:
    """(difflib's opcodes from `a` to `b`, simplified): the opcodes are difflib's own when neither side is longer
    than `max_items`.

    Longer sides: the start and the end both share are "equal", and only the middle between them goes to difflib;
    when that middle is still too long on both sides, it is one "replace" and `simplified` is True. The work is then
    linear in the sides plus difflib's on at most `max_items` items a side.

    >>> bounded_opcodes("abcd", "axyd", max_items=1)
    ([('equal', 0, 1, 0, 1), ('replace', 1, 3, 1, 3), ('equal', 3, 4, 3, 4)], True)
    """
    if max(len(a), len(b)) <= max_items:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), False
    shortest = min(len(a), len(b))
    head = 0
    while head < shortest and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    a_end, b_end = len(a) - tail, len(b) - tail
    simplified = a_end > head and b_end > head and max(a_end - head, b_end - head) > max_items
    if simplified:
        middle: list[Opcode] = [("replace", head, a_end, head, b_end)]
    else:
        matcher = difflib.SequenceMatcher(None, a[head:a_end], b[head:b_end], autojunk=False)
        middle = [(op, i1 + head, i2 + head, j1 + head, j2 + head) for op, i1, i2, j1, j2 in matcher.get_opcodes()]
    start: list[Opcode] = [("equal", 0, head, 0, head)] if head else []
    end: list[Opcode] = [("equal", a_end, len(a), b_end, len(b))] if tail else []
    return start + middle + end, simplified


def grouped_opcodes(codes: list[Opcode], context: int) -> Iterator[list[Opcode]]:
    """`difflib.SequenceMatcher.get_grouped_opcodes(context)`, from opcodes already made (difflib's algorithm)."""
    codes = list(codes) or [("equal", 0, 1, 0, 1)]
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


_WORD = re.compile(r"\w+")
REWORDED = 0.6  # how alike (difflib ratio) two checklist items must be to count as one item reworded
# Word pairs that pairing reworded checklist items may compare: (words of the items removed) x (words of the items
# added). A real template change is under 1,000,000; beyond this every changed item is listed as removed and added.
REWORDED_MAX_WORK = 2_000_000


def likeness(old: str, new: str) -> float:
    """How alike two texts are word by word (difflib ratio, 1.0: the same words), ignoring case and punctuation."""
    a, b = _WORD.findall(old.casefold()), _WORD.findall(new.casefold())
    matcher = difflib.SequenceMatcher(None, a, b, False)
    if matcher.quick_ratio() < REWORDED:
        return 0.0
    if max(len(a), len(b)) <= DIFF_MAX_ITEMS:
        return matcher.ratio()
    same = sum(i2 - i1 for op, i1, i2, _, _ in bounded_opcodes(a, b)[0] if op == "equal")
    return 2.0 * same / (len(a) + len(b))


def _words(items: Iterable[ChecklistItemSpec]) -> int:
    return sum(max(1, len(_WORD.findall(item.text))) for item in items)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _sections(old: tuple[str, ...], new: tuple[str, ...]):
    """(added, removed, renamed): titles kept in order match; a title replaced by another at its place is renamed."""
    added: list[str] = []
    removed: list[str] = []
    renamed: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in bounded_opcodes(old, new)[0]:
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        renamed += zip(old[i1 : i1 + pairs], new[j1 : j1 + pairs], strict=True)
        removed += old[i1 + pairs : i2]
        added += new[j1 + pairs : j2]
    return tuple(added), tuple(removed), tuple(renamed)


def _question_changes(old: QuestionSpec, new: QuestionSpec, renamed: dict[str, str]) -> tuple[Change, ...]:
    changes = []
    if _flat(old.prompt) != _flat(new.prompt):
        changes.append(Change("question text", *_first_difference(old.prompt, new.prompt)))
    if renamed.get(old.section, old.section) != new.section:
        changes.append(Change("section", old.section, new.section))
    if old.words != new.words:
        changes.append(Change("words", rule_text(old.words), rule_text(new.words)))
    if old.images != new.images:
        changes.append(Change("images", rule_text(old.images), rule_text(new.images)))
    if _flat(old.placeholder) != _flat(new.placeholder):
        changes.append(Change("placeholder", old.placeholder, new.placeholder))
    return tuple(changes)


def _first_difference(old: str, new: str) -> tuple[str, str]:
    """The first line of each prompt that differs from the other's, emphasis off, to say what changed."""
    a = [_shown(line) for line in old.split("\n") if line.strip()]
    b = [_shown(line) for line in new.split("\n") if line.strip()]
    for op, i1, _, j1, _ in bounded_opcodes(a, b)[0]:
        if op != "equal":
            return (a[i1] if op != "insert" else ""), (b[j1] if op != "delete" else "")
    return _flat(old), _flat(new)  # only blank lines differ


def _shown(line: str) -> str:
    return first_line(line) or line.strip()


def _checklist(old: tuple[ChecklistItemSpec, ...], new: tuple[ChecklistItemSpec, ...]) -> dict:
    """Items matched by text first (wherever they moved), then reworded ones by likeness and position."""
    a = [_flat(item.text) for item in old]
    b = [_flat(item.text) for item in new]
    removed: list[ChecklistItemSpec] = []
    added: list[ChecklistItemSpec] = []
    pairs: list[tuple[ChecklistItemSpec, ChecklistItemSpec]] = []
    for op, i1, i2, j1, j2 in bounded_opcodes(a, b)[0]:
        if op == "equal":
            pairs += zip(old[i1:i2], new[j1:j2], strict=True)
        else:
            removed += old[i1:i2]
            added += new[j1:j2]
    # The same text elsewhere (e.g. moved to another week) is a match, not a removal and an addition; then an item
    # reworded (a module tag added, a typo fixed) pairs with the most similar one left, the nearest on a tie.
    compare = _words(removed) * _words(added) <= REWORDED_MAX_WORK
    candidates = sorted(
        (-alike, abs(o.index - n.index), k, m)
        for k, o in enumerate(removed if compare else ())
        for m, n in enumerate(added)
        if (alike := likeness(o.text, n.text)) >= REWORDED
    )
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    for _, _, k, m in candidates:
        if k not in taken_old and m not in taken_new:
            taken_old.add(k)
            taken_new.add(m)
            pairs.append((removed[k], added[m]))
    removed = [item for k, item in enumerate(removed) if k not in taken_old]
    added = [item for m, item in enumerate(added) if m not in taken_new]
    changed = []
    for o, n in sorted(pairs, key=lambda pair: pair[0].index):
        changes = []
        if o.week != n.week:
            changes.append(Change("week", o.week, n.week))
        if _flat(o.text) != _flat(n.text):
            changes.append(Change("text", o.text, n.text))
        if changes:
            changed.append(ChecklistChange(o, n, tuple(changes)))
    return {"checklist_added": tuple(added), "checklist_removed": tuple(removed), "checklist_changed": tuple(changed)}


LINE_DIFF_SIMPLIFIED = "Diff simplified: the sources are too long to compare line by line."


@dataclass(frozen=True)
class DiffLine:
    """One row of a line diff: op is "same", "del", "add", "skip" (a run of unchanged lines left out) or "note"."""

    op: str
    old: int | None  # 1-based line number in the old text (None for an added line or a skip)
    new: int | None
    text: str  # for a skip: how many lines, e.g. "12 unchanged lines"; for a note: LINE_DIFF_SIMPLIFIED


def line_diff(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """Lines of `new` against `old` with `context` unchanged lines around each change; longer runs become a skip.

    Sources too long to compare line by line (see `bounded_opcodes`) start with a "note" row saying so.

    >>> [(d.op, d.text) for d in line_diff("a\\nb\\nc\\nd\\ne", "a\\nb\\nc\\nd\\nE", context=1)]
    [('skip', '3 unchanged lines'), ('same', 'd'), ('del', 'e'), ('add', 'E')]
    """
    a, b = old.split("\n"), new.split("\n")
    if a == b:
        return []
    codes, simplified = bounded_opcodes(a, b)
    rows: list[DiffLine] = [DiffLine("note", None, None, LINE_DIFF_SIMPLIFIED)] if simplified else []
    shown_to = 0  # lines of `a` before this index are shown or skipped already
    for group in grouped_opcodes(codes, context):
        if group[0][1] > shown_to:
            rows.append(_skip(group[0][1] - shown_to))
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                rows += [
                    DiffLine("same", i + 1, j + 1, a[i]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            rows += [DiffLine("del", i + 1, None, a[i]) for i in range(i1, i2)]
            rows += [DiffLine("add", None, j + 1, b[j]) for j in range(j1, j2)]
        shown_to = group[-1][2]
    if shown_to < len(a):
        rows.append(_skip(len(a) - shown_to))
    return rows


def _skip(count: int) -> DiffLine:
    return DiffLine("skip", None, None, f"{count} unchanged line{'s' if count != 1 else ''}")
