"""Word and image checks with the course checker's exact verdicts and messages. Pure Python, no Django.

The course's `report.py check` does not look at headings: it cuts the whole file at every `Answer:` and trims each
piece at the next `###`/`##` (see `course_answers`). When that gives the template's number of answers, our verdicts
are the course's, question by question, in its words. When it does not, the course checker stops with a
ValueError; we say so, then still check every question we can find by its heading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .parsing import ANSWER_MARKER, ParsedReport

# The course's own definition of an image (its report.py counts `len(re.findall(IMAGE_PATTERN, answer))`). Kept as
# the reference: `count_images` gives the same count without running it, because on unclosed image syntax such as
# "![a](" repeated this regex backtracks in cubic time (seconds for 10 kB, minutes for 40 kB).
IMAGE_PATTERN = re.compile(r"\!\[.*?\]\(.*?\)")
WORDS_MESSAGE = (
    "Question {number} failed check. Expected number of words to be between {low} and {high} but got {count}"
)
IMAGES_MESSAGE = (
    "Question {number} failed check. Expected number of screenshots to be between {low} and {high} but got {count}"
)
TOTAL_MESSAGE = "Total number of questions passed: {passed}/{total}"


@dataclass(frozen=True)
class Checker:
    """How one generation of the course's report.py reads a file."""

    key: str
    label: str
    skip_chars: int  # characters dropped from the start of the file before cutting
    drops_first_cut: bool  # v1: drop the first element after cutting; v2: drop the preamble piece before
    count_error: str


CHECKERS = {
    "click": Checker(
        "click",
        "2022-2024 checker (click, 27 answers)",
        skip_chars=43,
        drops_first_cut=True,
        count_error="ValueError: Number of answers are different from the expected {n}. "
        "Have you filled out every field?",
    ),
    "typer": Checker(
        "typer",
        "2024- checker (typer, 31 answers)",
        skip_chars=0,
        drops_first_cut=False,
        count_error="ValueError: Number of answers are different from the expected {n}. Have you changed the template?",
    ),
}
NO_ANSWERS_ERROR = "IndexError: list index out of range"


@dataclass(frozen=True)
class Rule:
    """What question `number` must hold: inclusive word and image ranges, None when not checked."""

    number: int
    words: tuple[int, int] | None = None
    images: tuple[int, int] | None = None


@dataclass(frozen=True)
class QuestionResult:
    number: int
    words: int | None  # None: no answer found for this question
    images: int | None
    rule: Rule
    messages: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.words is not None and not self.messages

    @property
    def words_ok(self) -> bool:
        return self.words is not None and _within(self.words, self.rule.words)

    @property
    def images_ok(self) -> bool:
        return self.images is not None and _within(self.images, self.rule.images)


@dataclass(frozen=True)
class CheckResult:
    questions: tuple[QuestionResult, ...]
    course_error: str | None = None  # what the course checker raised, e.g. "ValueError: Number of answers ..."
    structure: tuple[str, ...] = ()  # why, in plain words

    @property
    def passed(self) -> int:
        return sum(q.passed for q in self.questions)

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def messages(self) -> list[str]:
        return [m for q in self.questions for m in q.messages]

    def lines(self) -> list[str]:
        """What `check_report` prints: the messages in the course's order, then the pass count."""
        return [*self.messages, TOTAL_MESSAGE.format(passed=self.passed, total=self.total)]


class CourseCheckerError(Exception):
    """The course checker itself would stop with this error (for `--compat`)."""


def _within(count: int, bounds: tuple[int, int] | None) -> bool:
    return bounds is None or bounds[0] <= count <= bounds[1]


def count_words(text: str) -> int:
    return len(text.split())


def count_images(text: str) -> int:
    """`len(IMAGE_PATTERN.findall(text))`, in one pass over the text.

    A match of the course's pattern starting at an `![` exists exactly when, on the same line (`.` stops at a
    newline), some `](` follows it and a `)` follows the first such `](`; the match then ends at the first `)` after
    that `](`, and findall goes on from there. Without such a match, no `![` later on the same line has one either,
    so the scan goes on at the next line. Every `find` below starts where the previous one started or later, and
    none reads past the end of the line it is on, so the whole count reads the text a bounded number of times.

    >>> count_images("![a](b) ![c](d ![e](f) ![g](")  # `![a](b)`, then `![c](d ![e](f)`; `![g](` is open
    2
    """
    count = 0
    line_end = -1  # the end (a newline or the end of the text) of the line `start` is on
    start = text.find("![")
    while start != -1:
        if start > line_end:
            line_end = text.find("\n", start)
            if line_end == -1:
                line_end = len(text)
        link = text.find("](", start + 2, line_end)
        close = text.find(")", link + 2, line_end) if link != -1 else -1
        if close == -1:
            start = text.find("![", line_end + 1)  # no `![` left on this line starts a match
            continue
        count += 1
        start = text.find("![", close + 1)
    return count


def _cut(piece: str) -> str | None:
    """A piece between two `Answer:` markers -> the answer in it, or None when the course drops the piece."""
    if "###" not in piece:
        return None
    kept = piece.split("###", 1)[0]
    return kept.split("##", 1)[0]


def course_answers(text: str, checker: Checker) -> list[str]:
    """The answers exactly as the course's report.py cuts them out of a README (LF line ends).

    >>> course_answers("# T\\n### Q 1\\n> Answer:\\nyes\\n\\n### Q 2\\n> Answer: no ## x", CHECKERS["typer"])
    ['yes', ' no ## x']
    """
    pieces = text[checker.skip_chars :].split(ANSWER_MARKER)
    if not checker.drops_first_cut:
        pieces = pieces[1:]
    answers = [cut for cut in map(_cut, pieces) if cut is not None]
    answers.append(pieces[-1])  # IndexError without any `Answer:` in the typer era, as in the course
    if checker.drops_first_cut:
        answers = answers[1:]
    return [answer.strip("\n") for answer in answers]


def check_answer(number: int, answer: str | None, rule: Rule) -> QuestionResult:
    if answer is None:
        return QuestionResult(number, None, None, rule, (f"Question {number} failed check. No answer found",))
    words, images = count_words(answer), count_images(answer)
    messages = []
    if not _within(words, rule.words):
        messages.append(WORDS_MESSAGE.format(number=number, low=rule.words[0], high=rule.words[1], count=words))
    if not _within(images, rule.images):
        messages.append(IMAGES_MESSAGE.format(number=number, low=rule.images[0], high=rule.images[1], count=images))
    return QuestionResult(number, words, images, rule, tuple(messages))


def _course_cut_all(text: str, n_answers: int, checker: Checker) -> tuple[list[str], str | None]:
    """(answers, None) as the course cuts them, or ([...], the exception it raises) when it stops."""
    try:
        answers = course_answers(text, checker)
    except IndexError:
        return [], NO_ANSWERS_ERROR
    return answers, None if len(answers) == n_answers else checker.count_error.format(n=n_answers)


def course_error(text: str, n_answers: int, checker: Checker) -> str | None:
    """The exception the course checker raises on this text, or None when it checks it."""
    return _course_cut_all(text, n_answers, checker)[1]


def check_text(
    text: str, rules: Sequence[Rule], checker: Checker, parse: Callable[[], ParsedReport] | None = None
) -> CheckResult:
    """Check a README the way the course does; where the course checker would stop, check by headings instead.

    `parse` returns the report parsed against its template; it is called only for that fallback.
    """
    answers, error = _course_cut_all(text, len(rules), checker)
    if error is None:
        return CheckResult(tuple(check_answer(r.number, a, r) for r, a in zip(rules, answers, strict=True)))

    structure = [
        f"The course checker stops on this file ({error}): it cuts the file at every 'Answer:' and finds "
        f"{len(answers)} answers where the template has {len(rules)}."
    ]
    parsed = parse() if parse else None
    by_heading: Mapping[int, str] = parsed.answers if parsed else {}
    if parsed:
        structure.extend(str(p) for p in parsed.problems)
    last = len(rules)
    results = tuple(
        check_answer(
            r.number, None if r.number not in by_heading else _course_cut(by_heading[r.number], r.number == last), r
        )
        for r in rules
    )
    return CheckResult(results, course_error=error, structure=tuple(structure))


def _course_cut(answer: str, is_last: bool) -> str:
    """One answer found by its heading, trimmed the way the course would trim it in a well-formed file."""
    answer = answer.split(ANSWER_MARKER)[-1]
    if not is_last:
        answer = answer.split("###", 1)[0].split("##", 1)[0]
    return answer.strip("\n")


def check_alone(answer: str, rule: Rule, *, is_last: bool) -> QuestionResult:
    """One answer checked on its own, cut as the course cuts it inside a well-formed report (the editor's counts).

    >>> check_alone("two words\\n## not counted", Rule(1, words=(1, 5)), is_last=False).words
    2
    """
    return check_answer(rule.number, _course_cut(answer, is_last), rule)
