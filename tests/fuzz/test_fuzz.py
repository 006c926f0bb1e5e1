"""Fuzz targets for every piece of work on hostile input: template parse, report parse, check, render, roster read and
image decode. Each input of 100 kB or less must finish within a second and raise nothing but our own errors.

Inputs are built from the fragments that make parsers and regexes work hard (unclosed images and links, list and
quote markers, headings, `Answer:` markers), repeated up to 100 kB. The ordinary suite tries a few dozen per target;
`make fuzz` tries many more (the `fuzz` profile, FUZZ_EXAMPLES). Failing inputs hypothesis finds are kept in
tests/fuzz/corpus/ and replayed first on every run, and the hand-made hostile inputs of corpus.py always are.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from reports_app.engine import bounded, checks, figures, parsing, rendering, roster
from tests.helpers.images import progressive_jpeg

from .corpus import HOSTILE_TEXTS

DEMO_TEMPLATE = Path(__file__).resolve().parents[2] / "reports_app" / "demo" / "template.md"
MAX_BYTES = 100_000
SECONDS = 1.0

settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")),
    deadline=None,  # our own timer below, so that a slow input fails with its size and time
    database=DirectoryBasedExampleDatabase(Path(__file__).parent / "corpus"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
settings.register_profile("suite", parent=settings.get_profile("fuzz"), max_examples=25)
FUZZ = settings.get_profile("fuzz" if os.environ.get("FUZZ_EXAMPLES") else "suite")

FRAGMENTS = [
    "![", "](", "[", "]", "(", ")", "!", "\n", " ", "\t", "x", "word ", "1. ", "- ", "* ", "+ ", "> ", ">", "#",
    "## ", "### ", "###", "### Question 1\n", "### Week 1\n", "Answer:", "> Answer:", "> *Answer*:", "*", "_", "**",
    "`", "```\n", "~~", "<div>", "</div>", "<", "&", "|", "---\n", "    ", "\r\n", "\r", "\\", "<!--", "-->",
    "http://x", "[a]: b\n", "- [ ] ", "- [x] ", "Recommended answer length: 100-200 words", "1-2 images", "\x00",
    "\u00e9", "\u202e", "\ufeff", "](figures/a.png)",
]  # fmt: skip


def _repeat(parts: list[tuple[str, int]]) -> str:
    return "".join(fragment * count for fragment, count in parts)[:MAX_BYTES]


hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.integers(1, 5000)), min_size=1, max_size=12).map(_repeat),
)


def with_corpus(*more):
    """Every hand-made hostile text is tried first, on every run."""

    def decorate(test):
        for text in HOSTILE_TEXTS:
            test = example(text, *more)(test)
        return test

    return decorate


def within_a_second(work, *args):
    """Run `work(*args)` in this process; fail when it takes more than SECONDS of this process's CPU time (not wall
    time: other processes' load on the machine is not the input's doing)."""
    started = time.process_time()
    try:
        return work(*args)
    finally:
        _check_time(work, args, time.process_time() - started, "of CPU time")


def within_its_budget(work, *args):
    """Run `work(*args)`, which runs its work in a `bounded` worker process; fail when it takes longer than SECONDS of
    wall time, plus a little for a worker past its budget to be killed. An idle worker is made ready first, so that
    starting one (a fresh interpreter) is not counted: the budget is the work's."""
    bounded.run(len, "")
    started = time.perf_counter()
    try:
        return work(*args)
    finally:
        _check_time(work, args, time.perf_counter() - started - 0.5, "beyond the half second a kill may take")


def _check_time(work, args, elapsed: float, what: str) -> None:
    size = sum(len(a) for a in args if isinstance(a, str | bytes))
    assert elapsed < SECONDS, f"{work.__name__} took {elapsed:.2f} s {what} on {size} characters"


@pytest.fixture(scope="module")
def demo():
    return parsing.parse_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))


@FUZZ
@with_corpus()
@given(hostile_text)
def test_template_parse(text):
    with contextlib.suppress(parsing.TemplateError):
        within_a_second(parsing.parse_template, text)


@FUZZ
@with_corpus()
@given(hostile_text)
def test_report_parse_and_check(demo, text):
    rules = [checks.Rule(q.number, q.words, q.images) for q in demo.questions]

    def check(text: str) -> checks.CheckResult:
        return checks.check_text(text, rules, checks.CHECKERS["typer"], lambda: parsing.parse_report(text, demo))

    within_a_second(parsing.parse_report, text, demo)
    result = within_a_second(check, text)
    assert result.total == len(rules)


@FUZZ
@with_corpus()
@given(hostile_text)
def test_answer_warnings(text):
    def answer_warnings(text: str) -> list[str]:
        return checks.answer_warnings(text, is_last=False) + checks.answer_warnings(text, is_last=True, placeholder="x")

    warnings = within_a_second(answer_warnings, text)
    assert all(isinstance(w, str) and w for w in warnings)


@pytest.fixture(scope="module")
def a_second_each():
    """Renders and decodes get SECONDS each (the site's budget is larger: a real report needs a fraction of it)."""
    previous = bounded._default
    bounded.configure(bounded.Budget(seconds=SECONDS))
    yield
    bounded.configure(previous)


@FUZZ
@with_corpus()
@given(hostile_text)
def test_render(a_second_each, text):
    with contextlib.suppress(rendering.RenderError):
        within_its_budget(rendering.render_markdown, text)


@FUZZ
@with_corpus(";")
@given(hostile_text, st.sampled_from([",", ";", "\t"]))
def test_roster_read(text, separator):
    data = text.replace(",", separator).encode("utf-8", "surrogatepass")
    with contextlib.suppress(roster.RosterError):
        within_a_second(_parse_roster, data)


def _parse_roster(data: bytes) -> roster.Roster:
    return roster.parse_roster(data, min_size=1, max_size=5, allowed=["https://github.com/"])


def _image(kind: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, kind, **({"progressive": True} if kind == "JPEG" else {}))
    return buffer.getvalue()


IMAGES = [_image("PNG"), _image("JPEG")]


@st.composite
def damaged_images(draw) -> bytes:
    """A real PNG or JPEG with bytes flipped, cut short, or a slice repeated (e.g. thousands of JPEG scans)."""
    data = bytearray(draw(st.sampled_from(IMAGES)))
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        start = draw(st.integers(2, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 200)))
        data[start:start] = data[start:end] * draw(st.integers(1, 400))
    if draw(st.booleans()):
        del data[draw(st.integers(2, len(data))) :]
    return bytes(data[:MAX_BYTES])


@FUZZ
@example(progressive_jpeg(64, 48, 5000))  # thousands of scans: one more pass over every pixel each
@example(progressive_jpeg(6000, 6000, 300)[:MAX_BYTES])  # 36 megapixels, cut short
@given(damaged_images())
def test_image_decode(a_second_each, data):
    with contextlib.suppress(figures.FigureRejected):
        within_its_budget(_inspect, data)


def _inspect(data: bytes) -> figures.ImageInfo:
    return figures.inspect_image(data, max_bytes=5 * 1024 * 1024, max_pixels=40_000_000, max_scans=100)
