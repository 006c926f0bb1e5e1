"""The course checker reimplementation: how it cuts answers, counts, words its messages. Pure: no database."""

import pytest

from reports_app.engine.checks import (
    CHECKERS,
    NO_ANSWERS_ERROR,
    Rule,
    check_answer,
    check_text,
    count_images,
    count_words,
    course_answers,
    course_error,
)
from reports_app.engine.parsing import parse_report, parse_template
from tests.conftest import DEMO_TEMPLATE, read_fixture

TYPER = CHECKERS["typer"]
CLICK = CHECKERS["click"]
TYPER_COUNT_ERROR = "ValueError: Number of answers are different from the expected 10. Have you changed the template?"

FILLED_LINES = [
    "Question 4 failed check. Expected number of words to be between 100 and 200 but got 36",
    "Question 6 failed check. Expected number of words to be between 100 and 200 but got 33",
    "Question 6 failed check. Expected number of screenshots to be between 1 and 2 but got 3",
    "Question 10 failed check. Expected number of words to be between 100 and 200 but got 52",
    "Total number of questions passed: 7/10",
]


@pytest.fixture(scope="module")
def template():
    return parse_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rules(template):
    return [Rule(q.number, q.words, q.images) for q in template.questions]


def check_fixture(name, template, rules):
    text = read_fixture(name)
    return check_text(text, rules, CHECKERS[template.checker], lambda: parse_report(text, template))


# --- how the course cuts answers ---------------------------------------------------------------------------------


def test_answers_are_the_text_between_answer_marker_and_next_heading():
    text = "# T\n### Question 1\n> Answer:\n\none\n\n### Question 2\n> Answer:\n\ntwo\n"
    assert course_answers(text, TYPER) == ["one", "two"]


def test_bold_answer_marker_counts_as_a_marker():
    text = "### Question 1\n> **Answer:**\none\n### Question 2\n> Answer:\ntwo"
    assert course_answers(text, TYPER) == ["**\none", "two"]


def test_lowercase_or_spaced_answer_marker_is_not_a_marker():
    text = "### Question 1\n> answer:\none\n### Question 2\n> Answer :\ntwo\n### Question 3\n> Answer:\nthree"
    assert course_answers(text, TYPER) == ["three"]


def test_double_hash_inside_an_answer_cuts_it_there():
    text = (
        "### Question 1\n> Answer:\nkept\n## Details\nlost\n"
        "### Question 2\n> Answer:\nuses C## too\n"
        "### Question 3\n> Answer:\nx"
    )
    assert course_answers(text, TYPER) == ["kept", "uses C", "x"]


def test_triple_hash_inside_an_answer_cuts_it_and_keeps_the_count():
    text = "### Question 1\n> Answer:\nkept\n#### Sub\nlost\n### Question 2\n> Answer:\ntwo"
    assert course_answers(text, TYPER) == ["kept", "two"]


def test_inner_answer_marker_keeps_only_the_text_after_it():
    text = "### Question 1\n> Answer:\nbefore Answer: after\n### Question 2\n> Answer:\ntwo"
    assert course_answers(text, TYPER) == [" after", "two"]


def test_last_answer_runs_to_the_end_of_the_file_and_counts_trailing_sections():
    text = "### Question 1\n> Answer:\nlast words\n\n## Appendix\n\nmore words\n"
    answers = course_answers(text, TYPER)
    assert answers == ["last words\n\n## Appendix\n\nmore words"]
    assert count_words(answers[0]) == 6


def test_triple_hash_after_the_last_answer_adds_an_extra_answer():
    text = "### Question 1\n> Answer:\nlast\n### Notes\nmore\n"
    assert course_answers(text, TYPER) == ["last", "last\n### Notes\nmore"]
    assert course_error(text, 1, TYPER) == "ValueError: Number of answers are different from the expected 1. " + (
        "Have you changed the template?"
    )


def test_file_without_answer_marker_is_an_index_error_for_typer():
    text = "# T\n### Question 1\n> **Why?**\n\nno marker here\n"
    with pytest.raises(IndexError):
        course_answers(text, TYPER)
    assert course_error(text, 31, TYPER) == NO_ANSWERS_ERROR == "IndexError: list index out of range"
    assert course_error("", 31, TYPER) == NO_ANSWERS_ERROR


def test_file_without_answer_marker_is_a_count_error_for_click():
    text = "# T\n### Question 1\n> **Why?**\n\nno marker here\n"
    assert course_answers("", CLICK) == []
    assert course_error(text, 27, CLICK) == (
        "ValueError: Number of answers are different from the expected 27. Have you filled out every field?"
    )


def test_click_skips_43_characters_and_drops_the_first_cut():
    skipped = "Answer: this line is skipped by click ~~~~\n"
    assert len(skipped) == 43
    body = "# T\n### Question 1\n> Answer:\none\n### Question 2\n> Answer:\ntwo\n"
    assert course_answers(skipped + body, CLICK) == ["one", "two"]
    assert course_answers(skipped + body, TYPER) == [" this line is skipped by click ~~~~\n# T", "one", "two"]
    assert course_answers(body, CLICK) == []  # the skip reaches into "### Question 2": both answers are lost


def test_crlf_is_not_normalised_by_course_answers_callers_must_decode_first():
    assert course_answers("### Q\n> Answer:\r\none\r\n", TYPER) == ["\r\none\r"]


# --- counting ----------------------------------------------------------------------------------------------------


def test_words_are_str_split_tokens():
    assert count_words("") == 0
    assert count_words("two  words\tand\nmore") == 4
    assert count_words("**bold** `code` [link](http://x.y) <!-- c -->") == 6
    assert count_words("--- question 8 fill here ---") == 6
    assert count_words("![diagram](figures/overview.png)") == 1


def test_images_are_counted_on_one_line_only():
    assert count_images("![a](x.png) and ![b](y.png)") == 2
    assert count_images("![alt across\na newline](x.png)") == 0
    assert count_images("```\n![in a fence](x.png)\n```\n<!-- ![in a comment](y.png) -->") == 2


def test_linked_image_counts_once_and_glued_image_counts():
    assert count_images("[![a](b)](c)") == 1
    assert count_images("Wow![l](u)") == 1


def test_html_and_reference_style_images_are_not_counted():
    assert count_images('<img src="figures/x.png">') == 0
    assert count_images("![a][r]\n\n[r]: figures/x.png") == 0


# --- verdicts and messages ---------------------------------------------------------------------------------------


def test_word_message_is_the_course_checkers():
    result = check_answer(3, "a b", Rule(3, words=(5, 10)))
    assert result.messages == ("Question 3 failed check. Expected number of words to be between 5 and 10 but got 2",)
    assert not result.passed


def test_image_message_is_the_course_checkers():
    result = check_answer(7, "no image", Rule(7, images=(1, 2)))
    assert result.messages == (
        "Question 7 failed check. Expected number of screenshots to be between 1 and 2 but got 0",
    )


def test_words_are_checked_before_images_and_both_can_fail():
    result = check_answer(9, "![a](b) ![c](d)", Rule(9, words=(200, 400), images=(1, 1)))
    assert result.messages == (
        "Question 9 failed check. Expected number of words to be between 200 and 400 but got 2",
        "Question 9 failed check. Expected number of screenshots to be between 1 and 1 but got 2",
    )
    assert (result.words, result.images) == (2, 2)


def test_ranges_are_inclusive():
    rule = Rule(1, words=(2, 3))
    assert [check_answer(1, text, rule).passed for text in ("a", "a b", "a b c", "a b c d")] == [
        False,
        True,
        True,
        False,
    ]
    assert check_answer(8, "", Rule(8, words=(0, 200))).passed


def test_question_without_rule_passes_and_missing_answer_fails():
    assert check_answer(1, "", Rule(1)).passed
    missing = check_answer(4, None, Rule(4, words=(1, 2)))
    assert missing.messages == ("Question 4 failed check. No answer found",)
    assert not missing.passed


# --- whole reports -----------------------------------------------------------------------------------------------


def test_filled_report_gives_the_course_checkers_lines(template, rules):
    result = check_text(read_fixture("filled.md"), rules, CHECKERS[template.checker])
    assert result.course_error is None
    assert result.structure == ()
    assert result.lines() == FILLED_LINES
    assert (result.passed, result.total) == (7, 10)


def test_filled_report_counts_per_question(template, rules):
    result = check_text(read_fixture("filled.md"), rules, TYPER)
    assert [q.words for q in result.questions] == [1, 3, 69, 36, 221, 33, 20, 29, 200, 52]
    assert [q.images for q in result.questions] == [0, 0, 0, 0, 0, 3, 2, 0, 1, 0]
    assert [q.passed for q in result.questions] == [True, True, True, False, True, False, True, True, True, False]


def test_well_formed_report_is_checked_without_parsing(rules):
    def parse():
        raise AssertionError("parse must only be called for the fallback")

    assert check_text(read_fixture("filled.md"), rules, TYPER, parse).lines() == FILLED_LINES


def test_click_checker_gives_the_same_verdicts_after_43_characters_of_front_matter(rules):
    front_matter = "---\nlayout: default\ntitle: Demo report\n---\n"
    assert len(front_matter) == 43
    result = check_text(front_matter + read_fixture("filled.md"), rules, CLICK)
    assert result.course_error is None
    assert result.lines() == FILLED_LINES


@pytest.mark.parametrize("name", ["answer_on_marker_line.md", "checklist_changes.md", "edited_prompt.md"])
def test_deviations_outside_answers_do_not_change_the_verdicts(template, rules, name):
    result = check_fixture(name, template, rules)
    assert result.course_error is None
    assert result.lines() == FILLED_LINES


def test_heading_inside_answer_shortens_it_for_the_course_checker(template, rules):
    result = check_fixture("heading_in_answer.md", template, rules)
    assert result.course_error is None
    assert "Question 5 failed check. Expected number of words to be between 200 and 300 but got 77" in result.lines()
    assert result.lines()[-1] == "Total number of questions passed: 6/10"


def test_appendix_after_last_answer_counts_toward_the_last_answer(template, rules):
    result = check_fixture("text_after_last_answer.md", template, rules)
    assert result.course_error is None
    assert result.questions[9].words == 107
    assert result.lines() == [*FILLED_LINES[:3], "Total number of questions passed: 8/10"]


def test_missing_answer_line_falls_back_to_headings_and_reports_the_broken_question(template, rules):
    result = check_fixture("missing_answer_line.md", template, rules)
    assert result.course_error == TYPER_COUNT_ERROR
    assert result.structure == (
        f"The course checker stops on this file ({TYPER_COUNT_ERROR}): it cuts the file at every 'Answer:' and "
        "finds 9 answers where the template has 10.",
        "line 84: Question 4 has no 'Answer:' line; its text is kept but not counted as an answer",
    )
    assert result.lines() == [
        "Question 4 failed check. No answer found",
        *FILLED_LINES[1:4],
        "Total number of questions passed: 7/10",
    ]
    assert [q.words for q in result.questions] == [1, 3, 69, None, 221, 33, 20, 29, 200, 52]


def test_missing_answer_line_without_a_parser_finds_no_answers(rules):
    result = check_text(read_fixture("missing_answer_line.md"), rules, TYPER)
    assert result.course_error == TYPER_COUNT_ERROR
    assert result.passed == 0
    assert all(q.words is None for q in result.questions)


def test_duplicated_question_stops_the_course_checker_but_the_first_copy_is_checked(template, rules):
    result = check_fixture("duplicate_question.md", template, rules)
    assert result.course_error == TYPER_COUNT_ERROR
    assert "finds 11 answers where the template has 10" in result.structure[0]
    assert result.structure[1:] == (
        "line 146: Question 7 appears twice (first on line 136); the second copy is not an answer",
    )
    assert result.lines() == FILLED_LINES


def test_missing_question_heading_stops_the_course_checker(template, rules):
    result = check_fixture("missing_question.md", template, rules)
    assert result.course_error == TYPER_COUNT_ERROR
    assert "finds 9 answers where the template has 10" in result.structure[0]
    assert "Question 4 is missing (no '### Question 4' heading)" in result.structure
    assert result.questions[3].messages == ("Question 4 failed check. No answer found",)


def test_five_megabyte_report_is_checked(template, rules):
    from reports_app.engine.parsing import render_layout

    huge = "the pipeline moved another batch of rows\n" * 130_000
    answers = {q.number: q.placeholder for q in template.questions} | {5: huge}
    text = render_layout(template.layout, answers, {})
    assert len(text) > 5_000_000
    result = check_text(text, rules, TYPER, lambda: parse_report(text, template))
    assert result.course_error is None
    assert result.questions[4].messages == (
        "Question 5 failed check. Expected number of words to be between 200 and 300 but got 910000",
    )
