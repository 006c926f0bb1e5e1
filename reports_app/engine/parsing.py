"""Report templates and filled reports: markdown text -> frozen dataclasses. Pure Python, no Django.

A template is the course's `reports/README.md` as handed out: optional front matter, an introduction, a checklist of
`* [ ] item (M5)` lines under `### Week N` headings, then `## Section` headings and `### Question N` blocks, each a
quoted prompt ending in a `> Answer:` line followed by a placeholder.

Both templates and reports are cut into a *layout*: the literal text of the file with two kinds of holes, the answer
of each question (everything after its `Answer:` up to the next question or section heading) and the mark between
the brackets of each checklist item. Filling the holes of a layout with answers and marks gives the file back byte
for byte, so a report imported and exported again is unchanged, and a report written in the browser comes out in
exactly the course's format.
"""

from __future__ import annotations

import bisect
import re
from collections import deque
from dataclasses import dataclass

ANSWER_MARKER = "Answer:"
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n\n?", re.S)
QUESTION_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]*question[ \t]+(\d+)\b.*$", re.I)
# What an ATX heading line is (the marks, the title). The reference definition: `heading_groups` gives this pattern's
# groups without running it, because `(.*?)[ \t#]*$` is quadratic on a long line with runs of spaces in it.
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)(.*?)[ \t#]*$")
CHECKBOX = re.compile(r"^([ \t]*[*+-][ \t]+)\[([^\]\n]{0,3})\]")
MODULE_TAGS = re.compile(r"\(\s*(M\d+(?:\s*\+\s*M\d+)*)\s*\)\s*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)[^`]*$")
LOOSE_ANSWER = re.compile(r"^[>\s*_]*answer\b[\s*_]*(?::|$)", re.I)  # `> answer:`, `> **Answer**`, `> Answer :`

WORD_RANGE = re.compile(r"answer length:\**\s*(\d+)\s*-\s*(\d+)\s*words", re.I)
_COUNT = r"(\d+|an?|one|two|three|four|five)"
IMAGE_RANGE = re.compile(
    rf"(?:\+|\binsert|\bupload|\binclude|\badd)\s+{_COUNT}(?:\s*(?:-|to)\s*{_COUNT})?\s+(?:images?|screenshots?|figures?)\b",
    re.I,
)
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
MAX_RULE_VALUE = 100_000  # the most words or images a rule may ask for (a report has a few thousand words)
MAX_NUMBER_DIGITS = 9  # a number written with more digits is read as TOO_LARGE
TOO_LARGE = 10**MAX_NUMBER_DIGITS


class TemplateError(ValueError):
    """The text is not a usable report template; the message names the line."""


@dataclass(frozen=True)
class AnswerSlot:
    """Where the answer to question `number` goes; `prefix`/`suffix` are the blank space around it in the file."""

    number: int
    prefix: str = "\n\n"
    suffix: str = "\n\n"


@dataclass(frozen=True)
class MarkSlot:
    """The mark between the brackets of checklist item `index` (0-based, template order)."""

    index: int


Part = str | AnswerSlot | MarkSlot


@dataclass(frozen=True)
class QuestionSpec:
    number: int
    section: str
    prompt: str
    words: tuple[int, int] | None
    images: tuple[int, int] | None
    placeholder: str
    line: int


@dataclass(frozen=True)
class ChecklistItemSpec:
    index: int
    week: str
    text: str
    modules: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class ParsedTemplate:
    title: str
    front_matter: str
    sections: tuple[str, ...]
    questions: tuple[QuestionSpec, ...]
    checklist: tuple[ChecklistItemSpec, ...]
    layout: tuple[Part, ...]
    checker: str  # "click" (27-question era, 2022-2024) or "typer" (2024-12 on); see checks.CHECKERS

    def question(self, number: int) -> QuestionSpec:
        return self.questions[number - 1]


@dataclass(frozen=True)
class Problem:
    """A way a report deviates from its template, in plain words, with the 1-based line it starts on."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Unplaced:
    """Content of a report that belongs to no answer of the template (kept in the layout, listed for people)."""

    line: int
    text: str


@dataclass(frozen=True)
class ParsedReport:
    answers: dict[int, str]
    marks: dict[int, str]
    layout: tuple[Part, ...]
    problems: tuple[Problem, ...] = ()
    unplaced: tuple[Unplaced, ...] = ()

    @property
    def is_well_formed(self) -> bool:
        return not self.problems


# --- reading text ------------------------------------------------------------------------------------------------


def decode_text(data: bytes, *, what: str = "file") -> str:
    """Bytes of a markdown file -> text with LF line ends, or ValueError with a one-line reason.

    >>> decode_text(b"a\\r\\nb")
    'a\\nb'
    """
    if not data.strip():
        raise ValueError(f"the {what} is empty")
    if b"\x00" in data:
        raise ValueError(f"the {what} is binary, not a markdown text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(
            f"the {what} is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); save it as UTF-8"
        ) from None
    return normalize_newlines(text)


def read_number(digits: str) -> int:
    """Digits matched by `\\d+` -> their number, or TOO_LARGE for more digits than any question or rule has.

    (`int()` refuses more than 4,300 digits, and takes quadratic time below that.)

    >>> read_number("007"), read_number("9" * 5000) == TOO_LARGE
    (7, True)
    """
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= MAX_NUMBER_DIGITS else TOO_LARGE


def normalize_newlines(text: str) -> str:
    """What Python's text mode does when the course checker opens the file: CRLF and CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[str, str]:
    """('---\\n...\\n---\\n\\n', rest) for a file that starts with Jekyll front matter, else ('', text)."""
    m = FRONT_MATTER.match(text)
    return (m.group(0), text[m.end() :]) if m else ("", text)


# --- lines -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lines:
    text: str
    lines: list[str]
    starts: list[int]

    @classmethod
    def of(cls, text: str) -> _Lines:
        lines = text.split("\n")
        starts, pos = [], 0
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        return cls(text, lines, starts)

    def end_of(self, i: int) -> int:
        """Offset just past line i's newline (or the end of the text)."""
        return min(self.starts[i] + len(self.lines[i]) + 1, len(self.text))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def heading_groups(line: str) -> tuple[str, str] | None:
    """`HEADING.match(line).groups()` (None for no match), in linear time.

    >>> heading_groups("  ## Data handling ##"), heading_groups("#hashtag"), heading_groups("####### seven")
    (('##', 'Data handling'), None, None)
    """
    body = line.removesuffix("\n")  # `$` matches before a final newline; nothing in the pattern matches one
    if "\n" in body:
        return None
    marks = body.lstrip(" ")
    if len(body) - len(marks) > 3:
        return None
    rest = marks.lstrip("#")
    hashes = marks[: len(marks) - len(rest)]
    if not 1 <= len(hashes) <= 6 or rest[:1] not in ("", " ", "\t"):
        return None
    return hashes, rest.lstrip(" \t").rstrip(" \t#")


def line_heading(line: str) -> tuple[int, str] | None:
    groups = heading_groups(line)
    return (len(groups[0]), groups[1].strip()) if groups else None


def _block_end(block_ends: list[int], line: int, next_question: int) -> int:
    """The first of the (sorted) `block_ends` after `line` and before `next_question`, else `next_question`."""
    k = bisect.bisect_right(block_ends, line)
    return block_ends[k] if k < len(block_ends) and block_ends[k] < next_question else next_question


def _split_slot(raw: str) -> tuple[str, str, str]:
    """Answer region -> (prefix, answer text, suffix): blank lines around the text stay out of the answer.

    The prefix keeps the indentation of the first line (an indented code block stays one), and text written on the
    `Answer:` line itself stays on it.
    """
    body = raw.rstrip()
    suffix = raw[len(body) :]
    stripped = body.lstrip()
    lead = body[: len(body) - len(stripped)]
    cut = lead.rfind("\n") + 1 if "\n" in lead else len(lead)
    if not stripped:
        return raw, "", ""
    return body[:cut], body[cut:], suffix


def _checklist_items(doc: _Lines, end_line: int) -> list[tuple[int, str, str, int, int]]:
    """Checkbox items before line `end_line`: (line, week heading, text, mark start, mark end)."""
    items, week, in_fence = [], "", False
    i = 0
    while i < end_line:
        line = doc.lines[i]
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            i += 1
            continue
        heading = line_heading(line)
        if heading:
            week = heading[1]
        m = CHECKBOX.match(line)
        if not m:
            i += 1
            continue
        text = [line[m.end() :].strip()]
        j = i + 1
        while (
            j < end_line
            and doc.lines[j][:1] in (" ", "\t")
            and doc.lines[j].strip()
            and not CHECKBOX.match(doc.lines[j])
        ):
            text.append(doc.lines[j].strip())
            j += 1
        start = doc.starts[i] + m.start(2)
        items.append((i + 1, week, " ".join(text), start, start + len(m.group(2))))
        i = j
    return items


def _build_layout(text: str, holes: list[tuple[int, int, Part]]) -> tuple[Part, ...]:
    """The text with the spans [start, end) replaced by their slots; literal pieces in between."""
    parts: list[Part] = []
    pos = 0
    for start, end, slot in sorted(holes, key=lambda h: h[0]):
        if start > pos:
            parts.append(text[pos:start])
        parts.append(slot)
        pos = end
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


# --- templates ---------------------------------------------------------------------------------------------------


def _image_count(word: str) -> int:
    return read_number(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def read_constraints(prompt: str) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """Word and image ranges a prompt states, as the course checker of the same date enforces them.

    >>> read_constraints("> Recommended answer length: 200-300 words + 1 to 3 screenshots.")
    ((200, 300), (1, 3))
    >>> read_constraints("> **Include a figure that describes the overall architecture.**")
    (None, (1, 1))
    """
    words = WORD_RANGE.search(prompt)
    images = IMAGE_RANGE.search(prompt)
    word_range = (read_number(words.group(1)), read_number(words.group(2))) if words else None
    image_range = None
    if images:
        low = _image_count(images.group(1))
        high = _image_count(images.group(2)) if images.group(2) else low
        image_range = (low, high)
    return word_range, image_range


def detect_checker(text: str) -> str:
    """The course's 2022-2024 checker was a click script (27 answers, skips 43 characters); later ones use typer."""
    return "click" if re.search(r"pip install click\b", text) else "typer"


def _check_rules(number: int, line: int, **rules: tuple[int, int] | None) -> None:
    """TemplateError for a rule no answer could meet or the database could not store: above MAX_RULE_VALUE, or
    its minimum above its maximum."""
    for what, rule in rules.items():
        if rule and rule[1] > MAX_RULE_VALUE:
            raise TemplateError(
                f"line {line}: Question {number} asks for more than {MAX_RULE_VALUE} {what}; "
                f"a rule may ask for at most {MAX_RULE_VALUE}"
            )
        if rule and rule[0] > rule[1]:
            raise TemplateError(
                f"line {line}: Question {number} asks for {rule[0]}-{rule[1]} {what}: "
                "the minimum is more than the maximum"
            )


def parse_template(text: str) -> ParsedTemplate:
    """Template text -> ParsedTemplate, or TemplateError naming the line that makes it unusable."""
    text = normalize_newlines(text)
    front, _ = split_front_matter(text)
    doc = _Lines.of(text)
    in_fence = False
    headings: list[tuple[int, int, str]] = []  # (line index, level, title)
    questions_at: list[tuple[int, int]] = []  # (line index, number)
    for i, line in enumerate(doc.lines):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        q = QUESTION_HEADING.match(line)
        if q:
            questions_at.append((i, read_number(q.group(1))))
            continue
        h = line_heading(line)
        if h:
            headings.append((i, h[0], h[1]))
    if not questions_at:
        raise TemplateError("no '### Question N' headings: this is not a report template")
    seen: dict[int, int] = {}
    for expected, (i, number) in enumerate(questions_at, start=1):
        if number in seen:
            raise TemplateError(f"line {i + 1}: Question {number} appears twice (first on line {seen[number]})")
        if number != expected:
            raise TemplateError(
                f"line {i + 1}: Question {number} where Question {expected} should be: "
                "questions must be numbered 1, 2, 3, ... in order"
            )
        seen[number] = i + 1

    first_question = questions_at[0][0]
    for i, line in enumerate(doc.lines[:first_question]):
        if ANSWER_MARKER in line:
            raise TemplateError(f"line {i + 1}: 'Answer:' before the first question would be counted as an answer")

    title = next((t for i, level, t in headings if level == 1), "")
    block_ends = [i for i, level, _ in headings if level <= 2]
    block_titles = [t for _, level, t in headings if level <= 2]
    sections: dict[str, None] = {}  # an ordered set
    questions: list[QuestionSpec] = []
    holes: list[tuple[int, int, Part]] = []
    for k, (i, number) in enumerate(questions_at):
        next_question = questions_at[k + 1][0] if k + 1 < len(questions_at) else len(doc.lines)
        end = _block_end(block_ends, i, next_question)
        above = bisect.bisect_left(block_ends, i)  # the level-1/2 headings above the question
        section = block_titles[above - 1] if above else ""
        if section:
            sections[section] = None
        answer_lines = [j for j in range(i + 1, end) if ANSWER_MARKER in doc.lines[j]]
        if not answer_lines:
            raise TemplateError(f"line {i + 1}: Question {number} has no 'Answer:' line")
        if len(answer_lines) > 1:
            raise TemplateError(
                f"line {answer_lines[1] + 1}: Question {number} has a second 'Answer:'; "
                "the course checker would cut the answer there"
            )
        a = answer_lines[0]
        slot_start = doc.starts[a] + doc.lines[a].index(ANSWER_MARKER) + len(ANSWER_MARKER)
        slot_end = doc.starts[end] if end < len(doc.lines) else len(text)
        prefix, placeholder, suffix = _split_slot(text[slot_start:slot_end])
        prompt = "\n".join(doc.lines[i + 1 : a + 1])
        words, images = read_constraints(prompt)
        _check_rules(number, i + 1, words=words, images=images)
        questions.append(QuestionSpec(number, section, prompt, words, images, placeholder, i + 1))
        holes.append((slot_start, slot_end, AnswerSlot(number, prefix, suffix)))

    checklist = []
    for index, (line, week, item_text, start, end) in enumerate(_checklist_items(doc, first_question)):
        tags = MODULE_TAGS.search(item_text)
        modules = tuple(t.strip() for t in tags.group(1).split("+")) if tags else ()
        checklist.append(ChecklistItemSpec(index, week, item_text, modules, line))
        holes.append((start, end, MarkSlot(index)))
    return ParsedTemplate(
        title=title,
        front_matter=front,
        sections=tuple(sections),
        questions=tuple(questions),
        checklist=tuple(checklist),
        layout=_build_layout(text, holes),
        checker=detect_checker(text),
    )


# --- filled reports ----------------------------------------------------------------------------------------------


def excerpt(text: str, limit: int = 60) -> str:
    """`text` on one line, cut to `limit` characters with '...' (for messages that quote input)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def parse_report(text: str, template: ParsedTemplate) -> ParsedReport:
    """A filled report -> its answers, checklist marks and layout, judged against `template`.

    Nothing is dropped: text that is not an answer or a mark stays in the layout, so rendering the layout with the
    answers and marks gives `text` back exactly. Deviations from the template come back as `problems`; content that
    belongs to no answer (a duplicated question, a question without `Answer:`) also as `unplaced`.
    """
    text = normalize_newlines(text)
    doc = _Lines.of(text)
    section_titles = {_norm(s) for s in template.sections}
    n_questions = len(template.questions)
    problems: list[Problem] = []
    unplaced: list[Unplaced] = []

    question_lines: list[tuple[int, int]] = []
    block_ends: list[int] = []
    for i, line in enumerate(doc.lines):
        q = QUESTION_HEADING.match(line)
        if q:
            question_lines.append((i, read_number(q.group(1))))
            continue
        h = line_heading(line)
        if h and h[0] <= 2 and _norm(h[1]) in section_titles:
            block_ends.append(i)

    first_seen: dict[int, int] = {}
    holes: list[tuple[int, int, Part]] = []
    answers: dict[int, str] = {}
    previous = 0
    for k, (i, number) in enumerate(question_lines):
        next_question = question_lines[k + 1][0] if k + 1 < len(question_lines) else len(doc.lines)
        end = _block_end(block_ends, i, next_question)
        block_text = "\n".join(doc.lines[i:end])
        if not 1 <= number <= n_questions:
            problems.append(
                Problem(i + 1, f"Question {number} is not in the template (it has {n_questions} questions)")
            )
            unplaced.append(Unplaced(i + 1, block_text))
            continue
        if number in first_seen:
            problems.append(
                Problem(
                    i + 1,
                    f"Question {number} appears twice (first on line {first_seen[number]}); "
                    "the second copy is not an answer",
                )
            )
            unplaced.append(Unplaced(i + 1, block_text))
            continue
        first_seen[number] = i + 1
        if number < previous:
            problems.append(
                Problem(
                    i + 1,
                    f"Question {number} comes after Question {previous}; the course checker counts answers by position",
                )
            )
        previous = max(previous, number)
        answer_line = next((j for j in range(i + 1, end) if ANSWER_MARKER in doc.lines[j]), None)
        if answer_line is None:
            loose = next((j for j in range(i + 1, end) if LOOSE_ANSWER.match(doc.lines[j])), None)
            hint = (
                f" (line {loose + 1} has '{doc.lines[loose].strip()[:30]}', but it must read 'Answer:')"
                if loose is not None
                else ""
            )
            problems.append(
                Problem(
                    i + 1,
                    f"Question {number} has no 'Answer:' line{hint}; its text is kept but not counted as an answer",
                )
            )
            unplaced.append(Unplaced(i + 1, block_text))
            continue
        slot_start = doc.starts[answer_line] + doc.lines[answer_line].index(ANSWER_MARKER) + len(ANSWER_MARKER)
        slot_end = doc.starts[end] if end < len(doc.lines) else len(text)
        prefix, answer, suffix = _split_slot(text[slot_start:slot_end])
        answers[number] = answer
        holes.append((slot_start, slot_end, AnswerSlot(number, prefix, suffix)))
        spec = template.question(number)
        prompt = text[doc.starts[i + 1] : slot_start]  # up to `Answer:`; an answer written on that line is no prompt
        if _norm(prompt) != _norm(spec.prompt):
            first = next(j for j in range(i + 1, answer_line + 1) if doc.lines[j].strip())
            problems.append(Problem(first + 1, f"Question {number}: the question text differs from the template"))
        answer_start = answer_line + 1 + prefix.count("\n")  # the 1-based line the answer text starts on
        problems.extend(_answer_problems(number, answer, answer_start, is_last=number == n_questions))

    for number in range(1, n_questions + 1):
        if number not in first_seen:
            problems.append(Problem(0, f"Question {number} is missing (no '### Question {number}' heading)"))

    first_question = question_lines[0][0] if question_lines else len(doc.lines)
    marks: dict[int, str] = {}
    for item_index, mark, start, end in _match_checklist(doc, first_question, template, problems):
        marks[item_index] = mark
        holes.append((start, end, MarkSlot(item_index)))

    if question_lines and (last_end := _last_answer_tail(doc, question_lines[-1][0])):
        line, heading = last_end
        problems.append(
            Problem(
                line,
                f"'{heading}' after the last answer: the course checker counts everything after the last 'Answer:' "
                "as part of that answer",
            )
        )
    return ParsedReport(
        answers=answers,
        marks=marks,
        layout=_build_layout(text, holes),
        problems=tuple(problems),
        unplaced=tuple(unplaced),
    )


def _answer_problems(number: int, answer: str, line: int, *, is_last: bool) -> list[Problem]:
    """Things inside an answer that make the course checker count something other than what the student sees."""
    found = []
    for offset, text_line in enumerate(answer.split("\n")):
        if ANSWER_MARKER in text_line:
            found.append(
                Problem(
                    line + offset,
                    f"Question {number}: 'Answer:' inside the answer; the course checker only counts the text after it",
                )
            )
        elif not is_last and "###" in text_line:
            found.append(
                Problem(
                    line + offset,
                    f"Question {number}: '###' inside the answer; the course checker stops counting there",
                )
            )
        elif not is_last and "##" in text_line:
            found.append(
                Problem(
                    line + offset, f"Question {number}: '##' inside the answer; the course checker stops counting there"
                )
            )
    return found


def _last_answer_tail(doc: _Lines, last_question: int) -> tuple[int, str] | None:
    """The first level-1/2 heading after the last question's `Answer:` line, if any."""
    seen_answer = False
    for i in range(last_question + 1, len(doc.lines)):
        if not seen_answer:
            seen_answer = ANSWER_MARKER in doc.lines[i]
            continue
        h = line_heading(doc.lines[i])
        if h and h[0] <= 2:
            return i + 1, doc.lines[i].strip()
    return None


def _match_checklist(doc: _Lines, end_line: int, template: ParsedTemplate, problems: list[Problem]):
    """Pair the report's checklist items with the template's: by text first, then in order within a week."""
    found = _checklist_items(doc, end_line)
    # Queues in template order, so pairing costs the same for every item however many the template or report has.
    by_text: dict[str, deque[int]] = {}
    for item in template.checklist:
        by_text.setdefault(_norm(item.text), deque()).append(item.index)
    used: set[int] = set()
    pairs: dict[int, int] = {}
    for k, (_, _, item_text, _, _) in enumerate(found):
        candidates = by_text.get(_norm(item_text))
        if candidates:
            pairs[k] = candidates.popleft()
            used.add(pairs[k])
    free_by_week: dict[str, deque[ChecklistItemSpec]] = {}
    for item in template.checklist:
        if item.index not in used:
            free_by_week.setdefault(_norm(item.week), deque()).append(item)
    for k, (line, week, item_text, _, _) in enumerate(found):
        if k in pairs:
            continue
        same_week = free_by_week[_norm(week)].popleft() if free_by_week.get(_norm(week)) else None
        if same_week is not None:
            used.add(same_week.index)
            pairs[k] = same_week.index
            problems.append(
                Problem(
                    line, f"checklist item reworded: '{excerpt(item_text)}' (template: '{excerpt(same_week.text)}')"
                )
            )
        else:
            problems.append(Problem(line, f"checklist item not in the template: '{excerpt(item_text)}'"))
    for item in (item for item in template.checklist if item.index not in used):
        problems.append(Problem(0, f"checklist item missing: '{excerpt(item.text)}' ({item.week})"))
    for k, (_, _, _, start, end) in enumerate(found):
        if k in pairs:
            yield pairs[k], doc.text[start:end], start, end


# --- layouts -----------------------------------------------------------------------------------------------------


def render_layout(layout: tuple[Part, ...] | list[Part], answers: dict[int, str], marks: dict[int, str]) -> str:
    """Fill a layout's holes: the README markdown. Missing answers are empty, missing marks unticked."""
    out = []
    for part in layout:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, AnswerSlot):
            out.append(f"{part.prefix}{answers.get(part.number, '')}{part.suffix}")
        else:
            out.append(marks.get(part.index, " "))
    return "".join(out)


def layout_to_json(layout: tuple[Part, ...]) -> list:
    return [
        part
        if isinstance(part, str)
        else ["answer", part.number, part.prefix, part.suffix]
        if isinstance(part, AnswerSlot)
        else ["mark", part.index]
        for part in layout
    ]


def layout_from_json(data: list) -> tuple[Part, ...]:
    return tuple(
        part
        if isinstance(part, str)
        else AnswerSlot(part[1], part[2], part[3])
        if part[0] == "answer"
        else MarkSlot(part[1])
        for part in data
    )


def is_checked(mark: str) -> bool:
    """`[x]`, `[X]`, `[X ]`, `[ x]` ... are ticked; `[ ]` and `[]` are not."""
    return bool(mark.strip())


# --- which template a report follows ----------------------------------------------------------------------------
