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
        """Questions that pass, question by question (by their headings where the course checker stops)."""
        return sum(q.passed for q in self.questions)

    @property
    def course_passed(self) -> int:
        """The pass count as the course checker gives it: 0 when it stops on the file (it passes nothing then).
        The one count every page, the dashboard and grades.csv show."""
        return 0 if self.course_error else self.passed

    @property
    def course_message(self) -> str:
        """What the course checker ends with on this file: its error, or its pass count line."""
        return self.course_error or TOTAL_MESSAGE.format(passed=self.passed, total=self.total)

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


# --- warnings: what makes the course checker stop on the report, or count an answer otherwise than it shows ---------

WARN_MARKER = (
    "'Answer:' cannot be saved in an answer: the course checker cuts the report at every 'Answer:', so it would not "
    "count the text of this answer before it. Write it another way, e.g. 'Answer -'."
)
WARN_LAST_HEADING = (
    "The course checker would stop on the whole report and check nothing: in the last answer, a '###' (a heading of "
    "level 3 or more, or any other '###') makes it find one answer more than the template has. Use a '##' heading "
    "or bold text instead."
)
WARN_CUT = (
    "The course checker stops reading this answer at its first '##' (a heading, or text such as 'C##'), so it does "
    "not count the {lost} after it."
)
WARN_IMAGE_ACROSS_LINES = (
    "An image whose description spans lines is shown but not counted by the course checker ({count} here): write "
    "each ![description](figures/name.png) on one line."
)
WARN_HTML_IMAGE = (
    "An image written as an <img> tag is shown but not counted by the course checker ({count} here): write "
    "![description](figures/name.png) instead."
)
WARN_REFERENCE_IMAGE = (
    "An image written as ![description][name] is not counted by the course checker ({count} here): write "
    "![description](figures/name.png) instead."
)
WARN_CODE_IMAGE = (
    "Image markdown between backticks shows as code, but the course checker counts it as an image ({count} here)."
)
WARN_COMMENT = "Text inside HTML comments (<!-- ... -->) is not shown, but the course checker counts it: {counted}."
WARN_PLACEHOLDER = (
    "This answer still holds the template's placeholder '{placeholder}', and the course checker counts its {counted}."
)


def answer_warnings(text: str, *, is_last: bool, placeholder: str = "") -> list[str]:
    """Why the course checker would stop on the report, or count this answer otherwise than the page shows it: one
    self-contained sentence each, for the editor and the report page. `is_last`: the template's last question.

    >>> [w[:62] for w in answer_warnings("kept\\n## Notes\\ntwo more", is_last=False)]
    ["The course checker stops reading this answer at its first '##'"]
    >>> answer_warnings("## Notes\\nfine in the last answer", is_last=True)
    []
    """
    warnings = []
    if ANSWER_MARKER in text:
        warnings.append(WARN_MARKER)
    if is_last and "###" in text:  # wherever it is: the checker appends the last piece twice, once cut at '###'
        warnings.append(WARN_LAST_HEADING)
    after = text.split(ANSWER_MARKER)[-1]  # the checker counts what follows the last marker
    if not is_last and "##" in after:
        kept = after.split("##", 1)[0]  # any '###' holds a '##': the course's two cuts end at the first '##'
        lost = _amounts(count_words(after) - count_words(kept), count_images(after) - count_images(kept))
        if lost:
            warnings.append(WARN_CUT.format(lost=lost))
    counted = _course_cut(text, is_last)
    for message, count in (
        (WARN_IMAGE_ACROSS_LINES, _images_across_lines(counted)),
        (WARN_HTML_IMAGE, len(_HTML_IMAGE.findall(counted))),
        (WARN_REFERENCE_IMAGE, _reference_images(counted)),
        (WARN_CODE_IMAGE, sum(count_images(counted[a:b]) for a, b in _code_spans(counted))),
    ):
        if count:
            warnings.append(message.format(count=count))
    comments = [counted[a:b] for a, b in _comment_spans(counted)]
    if in_comments := _amounts(sum(map(count_words, comments)), sum(map(count_images, comments))):
        warnings.append(WARN_COMMENT.format(counted=in_comments))
    if placeholder.strip() and placeholder.strip() in counted:
        warnings.append(
            WARN_PLACEHOLDER.format(placeholder=placeholder.strip(), counted=_amounts(count_words(placeholder), 0))
        )
    return warnings


_HTML_IMAGE = re.compile(r"<img[\s/>]", re.IGNORECASE)


def _amounts(words: int, images: int) -> str:
    """'3 words and 1 image', '1 word', '' for nothing."""
    parts = [f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in ((words, "word"), (images, "image")) if n > 0]
    return " and ".join(parts)


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end == -1 else end


def _images_across_lines(text: str) -> int:
    """Images like `![a\\nb](c)`: Python-Markdown shows them (a description may span lines within a paragraph), the
    course's pattern does not match them (its `.` stops at a newline). Each `find` starts past the last one's start."""
    count, no_close_until = 0, -1
    start = text.find("![")
    while start != -1:
        bracket = text.find("]", start + 2)
        if bracket == -1:
            break
        description = text[start + 2 : bracket]
        if text.startswith("(", bracket + 1) and "\n" in description and "\n\n" not in description:
            line_end = _line_end(text, bracket)
            if bracket >= no_close_until and text.find(")", bracket + 2, line_end) != -1:
                count += 1
            else:
                no_close_until = line_end
        start = text.find("![", bracket + 1)
    return count


def _reference_images(text: str) -> int:
    """`![a][r]` on one line: an image Python-Markdown shows when `[r]: url` is defined, never one the course counts."""
    count = 0
    start = text.find("![")
    while start != -1:
        line_end = _line_end(text, start)
        bracket = text.find("]", start + 2, line_end)
        if bracket == -1:
            start = text.find("![", line_end)
            continue
        if text.startswith("[", bracket + 1) and text.find("]", bracket + 2, line_end) != -1:
            count += 1
        start = text.find("![", bracket + 1)
    return count


def _comment_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each `<!-- ... -->`; an unclosed one is no comment."""
    spans = []
    start = text.find("<!--")
    while start != -1:
        end = text.find("-->", start + 4)
        if end == -1:
            break
        spans.append((start, end + 3))
        start = text.find("<!--", end + 3)
    return spans


_BACKTICKS = re.compile(r"`+")


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each code span: a run of backticks up to the next run of the same length, within a paragraph
    (as Python-Markdown reads them; without its fenced-code extension a ``` block is such a span too)."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    following: list[int | None] = [None] * len(runs)  # the index of the next run of the same length
    seen: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        following[i] = seen.get(length)
        seen[length] = i
    spans, i = [], 0
    while i < len(runs):
        j = following[i]
        if j is None or "\n\n" in text[runs[i][1] : runs[j][0]]:
            i += 1
            continue
        spans.append((runs[i][1], runs[j][0]))
        i = j + 1
    return spans
