"""checks.answer_warnings: every warning is true of the course checker run on a whole README holding the answer
(it really stops, or really counts otherwise than the HTML shows). Pure: no database."""

import pytest

from reports_app.engine import checks, rendering
from reports_app.engine.checks import (
    CHECKERS,
    WARN_LAST_HEADING,
    WARN_MARKER,
    CheckResult,
    Rule,
    answer_warnings,
    check_text,
    count_words,
)
from reports_app.engine.parsing import parse_report, parse_template, render_layout
from tests.conftest import DEMO_TEMPLATE

TEMPLATE = parse_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))
RULES = [Rule(q.number, q.words, q.images) for q in TEMPLATE.questions]
LAST = RULES[-1].number  # 10
PLAIN = "Our pipeline reads the raw files and writes a clean table."


def readme_with(number: int, text: str) -> str:
    """The demo template filled with plain answers, `text` as question `number`'s."""
    answers = {q.number: PLAIN for q in TEMPLATE.questions} | {number: text}
    return render_layout(TEMPLATE.layout, answers, {})


def course_check(number: int, text: str) -> CheckResult:
    readme = readme_with(number, text)
    return check_text(readme, RULES, CHECKERS[TEMPLATE.checker], lambda: parse_report(readme, TEMPLATE))


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def test_plain_answers_get_no_warning_and_are_counted_as_written():
    text = f"{words(60)}\n\n- a list\n- and **bold** text\n\n![runs](figures/runs.png)"
    assert answer_warnings(text, is_last=False) == answer_warnings(text, is_last=True) == []
    result = course_check(6, text)
    assert result.course_error is None
    assert (result.questions[5].words, result.questions[5].images) == (count_words(text), 1)


@pytest.mark.parametrize("heading", ["### Details", "#### Deeper still", "see C### for why"])
def test_a_triple_hash_in_the_last_answer_stops_the_course_checker_and_is_warned(heading):
    text = f"{words(120)}\n\n{heading}\n\n{words(20)}"

    assert answer_warnings(text, is_last=True) == [WARN_LAST_HEADING]
    result = course_check(LAST, text)
    assert result.course_error == checks.CHECKERS["typer"].count_error.format(n=len(RULES))
    assert result.course_passed == 0


def test_a_double_hash_heading_in_the_last_answer_is_fine():
    text = f"{words(120)}\n\n## Details\n\n{words(20)}"

    assert answer_warnings(text, is_last=True) == []
    result = course_check(LAST, text)
    assert result.course_error is None
    assert result.questions[-1].words == count_words(text)


@pytest.mark.parametrize("heading", ["## Results", "### Results", "#### Results"])
def test_a_heading_in_another_answer_cuts_it_and_the_warning_says_how_much(heading):
    text = f"{words(60)}\n\n{heading}\n\n{words(30)} ![plot](figures/plot.png)"

    assert answer_warnings(text, is_last=False) == [
        "The course checker stops reading this answer at its first '##' (a heading, or text such as 'C##'), so it "
        "does not count the 33 words and 1 image after it."
    ]
    result = course_check(3, text)
    assert result.course_error is None
    assert (result.questions[2].words, result.questions[2].images) == (count_words(text) - 33, 0)
    assert result.questions[2].passed  # 60 words of 50-100: it passes only because the rest is cut


def test_a_double_hash_inside_a_word_cuts_the_answer_too():
    text = f"We wrote it in C## and F#. {words(10)}"
    assert answer_warnings(text, is_last=False) == [
        "The course checker stops reading this answer at its first '##' (a heading, or text such as 'C##'), so it "
        "does not count the 12 words after it."
    ]
    assert course_check(4, text).questions[3].words == count_words(text) - 12


def test_a_double_hash_at_the_very_end_that_cuts_nothing_counted_is_not_warned():
    text = f"{words(5)}##"
    assert answer_warnings(text, is_last=False) == []
    assert course_check(4, text).questions[3].words == count_words(text)


def test_answer_marker_inside_an_answer_loses_the_text_before_it():
    text = "Skipped words before. Answer: kept after"
    assert answer_warnings(text, is_last=False)[0] == WARN_MARKER
    result = course_check(4, text)
    assert result.course_error is None
    assert result.questions[3].words == 2


def test_an_image_whose_description_spans_lines_is_shown_but_not_counted():
    text = f"{words(120)}\n\n![the run history\nof our pipeline](figures/runs.png)"

    assert answer_warnings(text, is_last=False) == [
        "An image whose description spans lines is shown but not counted by the course checker (1 here): write each "
        "![description](figures/name.png) on one line."
    ]
    assert course_check(6, text).questions[5].images == 0
    assert rendering.standard_html(text).count("<img ") == 1


def test_a_description_broken_by_a_blank_line_is_no_image_and_not_warned():
    text = "![the run history\n\nof our pipeline](figures/runs.png)"
    assert answer_warnings(text, is_last=False) == []
    assert "<img" not in rendering.standard_html(text)


def test_an_img_tag_is_shown_but_not_counted():
    text = f'{words(120)}\n\n<img src="figures/runs.png" alt="runs">'
    assert answer_warnings(text, is_last=False) == [
        "An image written as an <img> tag is shown but not counted by the course checker (1 here): write "
        "![description](figures/name.png) instead."
    ]
    assert course_check(6, text).questions[5].images == 0
    assert "<img " in rendering.standard_html(text)


def test_a_reference_style_image_is_shown_but_not_counted():
    text = f"{words(120)}\n\n![runs][history]\n\n[history]: figures/runs.png"
    assert answer_warnings(text, is_last=False) == [
        "An image written as ![description][name] is not counted by the course checker (1 here): write "
        "![description](figures/name.png) instead."
    ]
    assert course_check(6, text).questions[5].images == 0
    assert "<img " in rendering.standard_html(text)


@pytest.mark.parametrize("code", ["`![runs](figures/runs.png)`", "```\n![runs](figures/runs.png)\n```"])
def test_image_markdown_in_code_is_counted_though_it_shows_as_code(code):
    text = f"{words(120)}\n\nWrite {code} to show a figure."
    assert answer_warnings(text, is_last=False) == [
        "Image markdown between backticks shows as code, but the course checker counts it as an image (1 here)."
    ]
    assert course_check(6, text).questions[5].images == 1
    assert "<img" not in rendering.standard_html(text)


def test_text_in_html_comments_is_counted_though_not_shown():
    text = f"{words(45)}\n\n<!-- four hidden words here ![old](figures/old.png) -->"
    assert answer_warnings(text, is_last=False) == [
        "Text inside HTML comments (<!-- ... -->) is not shown, but the course checker counts it: 7 words and 1 image."
    ]
    result = course_check(3, text)
    assert (result.questions[2].words, result.questions[2].images) == (52, 1)
    assert result.questions[2].passed  # 45 words written: it passes only by the hidden ones
    assert "<!-- four hidden words here" in rendering.standard_html(text)  # a comment: the page shows none of it


def test_the_templates_placeholder_left_in_is_counted_as_words():
    placeholder = TEMPLATE.questions[2].placeholder  # '--- question 3 fill here ---'
    text = f"{words(46)}\n\n{placeholder}"
    assert answer_warnings(text, is_last=False, placeholder=placeholder) == [
        f"This answer still holds the template's placeholder '{placeholder}', and the course checker counts its 6 "
        "words."
    ]
    result = course_check(3, text)
    assert result.questions[2].words == 52 and result.questions[2].passed  # 46 written + 6 of the placeholder


def test_a_text_with_several_problems_gets_each_warning_once():
    text = "<!-- note --> <img src=x.png>\n## Cut here\nmore"
    found = answer_warnings(text, is_last=False)
    assert len(found) == len(set(found)) == 3


HOSTILE = [
    "![" * 50_000,
    "![a\n" * 25_000,
    "![a\nb](" * 15_000,
    "![a][" * 20_000,
    "<!--" * 25_000,
    "".join("`" * (i % 300 + 1) + "\n\n" for i in range(1_500)),
    "`" * 100_000,
    "## " * 33_000,
    "Answer:" * 14_000,
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]))
def test_hostile_answers_are_warned_about_in_linear_time(text):
    for is_last in (False, True):
        assert isinstance(answer_warnings(text, is_last=is_last, placeholder="--- question 3 fill here ---"), list)
