"""count_images counts what the course's IMAGE_PATTERN finds, on every input, without running the pattern (which
backtracks in cubic time on unclosed image syntax). Pure: no database."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reports_app.engine.checks import CHECKERS, IMAGE_PATTERN, Rule, check_alone, check_text, count_images

# Every character the pattern looks at, and two it does not.
ALPHABET = "![]()\n ab"


def course_count(text: str) -> int:
    return len(IMAGE_PATTERN.findall(text))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
@example("![a](b)(c)")
@example("![a](b ![c](d)")
def test_count_is_the_course_patterns_on_short_random_texts(text):
    assert count_images(text) == course_count(text)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["![", "](", "![a](b)", "]", "(", ")", "\n", "x", " "]), max_size=25).map("".join))
def test_count_is_the_course_patterns_on_random_image_fragments(text):
    assert count_images(text) == course_count(text)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("![a](b)", 1),
        ("![](", 0),
        ("![]()", 1),
        ("![a](b)(c)", 1),  # the match ends at the first `)`
        ("![a](b))", 1),
        ("![[nested]](b)", 1),
        ("![a]](b)", 1),
        ("![a] (b)", 0),  # `](` must touch
        ("![a]x(b)", 0),
        ("]( ![a)", 0),  # `](` before the `![`
        ("![a)](b", 0),  # `)` only before the `](`
        ("![a](b ![c](d)", 1),  # one match swallows the second opener
        ("![a](b) ![c](d)", 2),
        ("![a\nb](c)", 0),  # no newline inside the brackets
        ("![a](b\nc)", 0),  # nor inside the link
        ("![a](\n![b](c)", 1),  # the next line starts afresh
        ("![a](b ![c]\n(d)", 0),
        ("!![a](b)", 1),
        ("! [a](b)", 0),
        ("![a](b)![c](d)![e](f)", 3),
        ("![a](![b](c))", 1),
    ],
)
def test_hand_written_cases_count_as_the_course_does(text, count):
    assert course_count(text) == count
    assert count_images(text) == count


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    ("unit", "times", "tail", "count"),
    [
        ("![a](", 20000, "", lambda n: 0),  # unclosed: the pattern takes hours on this
        ("![", 50000, "", lambda n: 0),
        ("![a]", 30000, "", lambda n: 0),
        ("![a](", 20000, ")", lambda n: 1),  # one match, from the first `![` to the `)`
        ("![a](b)", 20000, "", lambda n: n),
        ("![a](\n", 20000, "", lambda n: 0),
    ],
)
def test_hostile_image_syntax_is_counted_in_linear_time(unit, times, tail, count):
    assert course_count(unit * 20 + tail) == count(20)  # the pattern agrees on a short text of the same shape
    assert count_images(unit * times + tail) == count(times)


@pytest.mark.timeout(10)
def test_checking_a_report_with_unclosed_images_in_its_answers_finishes():
    answer = "![a](" * 8000  # 40 kB: the course's pattern never finished on this
    text = "".join(f"### Question {n}\n> Answer:\n{answer}\n\n" for n in (1, 2))
    result = check_text(text, [Rule(1, images=(1, 2)), Rule(2, images=(0, 0))], CHECKERS["typer"])
    assert [q.images for q in result.questions] == [0, 0]
    assert result.passed == 1
    assert check_alone(answer + ")", Rule(1, images=(1, 1)), is_last=True).images == 1
