"""diffing: what changed between two template versions, in plain words, and the line diff. No database."""

import difflib
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports_app.engine import diffing, parsing
from reports_app.engine.checks import Rule
from tests.conftest import DEMO_TEMPLATE, SHARED

BASE = """# Tiny template

## Checklist

### Week 1

* [ ] Plant the seeds (M1)
* [ ] Water the seeds (M1)

### Week 2

* [ ] Pick the fruit (M2)

## Garden

### Question 1

> **Which seeds did you plant?**
>
> Recommended answer length: 10-20 words.
>
> Answer:

--- question 1 fill here ---

### Question 2

> **Show the garden.**
>
> Recommended answer length: 50-100 words + 1 to 2 screenshots.
>
> Answer:

--- question 2 fill here ---

## Harvest

### Question 3

> **How much did you pick?**
>
> Answer:

--- question 3 fill here ---
"""


def parse(text: str) -> parsing.ParsedTemplate:
    return parsing.parse_template(text)


def diff_lines(old: str, new: str) -> list[str]:
    return diffing.template_diff(parse(old), parse(new)).lines()


def test_the_same_text_has_no_differences():
    diff = diffing.template_diff(parse(BASE), parse(BASE))
    assert not diff
    assert diff.lines() == []


def test_a_changed_word_rule_names_the_question_and_both_ranges():
    assert diff_lines(BASE, BASE.replace("10-20 words", "20-40 words")) == [
        "Question 1: question text 'Recommended answer length: 10-20 words.' -> "
        "'Recommended answer length: 20-40 words.'; words 10-20 -> 20-40"
    ]


def test_image_rule_and_placeholder_changes():
    new = BASE.replace("1 to 2 screenshots", "2 to 3 screenshots").replace(
        "--- question 2 fill here ---", "--- your answer ---"
    )
    assert diff_lines(BASE, new) == [
        "Question 2: question text 'Recommended answer length: 50-100 words + 1 to 2 screenshots.' -> "
        "'Recommended answer length: 50-100 words + 2 to 3 screenshots.'; images 1-2 -> 2-3; "
        "placeholder '--- question 2 fill here ---' -> '--- your answer ---'"
    ]


def test_a_rule_removed_reads_not_checked():
    new = BASE.replace("> Recommended answer length: 10-20 words.\n>\n", "")
    assert diff_lines(BASE, new)[0].endswith("; words 10-20 -> not checked")


def test_questions_added_and_removed_are_named_with_their_first_line():
    extra = "\n### Question 4\n\n> **What will you plant next year?**\n>\n> Answer:\n\n--- question 4 fill here ---\n"
    assert diff_lines(BASE, BASE + extra) == ["Question 4 added: What will you plant next year?"]
    assert diff_lines(BASE + extra, BASE) == ["Question 4 removed: What will you plant next year?"]


def test_a_question_moved_to_another_section():
    new = BASE.replace("## Harvest\n\n### Question 3", "### Question 3")
    assert diff_lines(BASE, new) == ["Section removed: 'Harvest'", "Question 3: section 'Harvest' -> 'Garden'"]


def test_a_renamed_section_is_one_rename_not_a_move_of_each_question():
    assert diff_lines(BASE, BASE.replace("## Garden", "## The garden")) == ["Section renamed: 'Garden' -> 'The garden'"]


def test_a_section_added_in_the_middle():
    new = BASE.replace("### Question 2", "## Photos\n\n### Question 2")
    assert diff_lines(BASE, new) == ["Section added: 'Photos'", "Question 2: section 'Garden' -> 'Photos'"]


def test_checklist_items_added_removed_reworded_and_moved():
    new = (
        BASE.replace("* [ ] Water the seeds (M1)\n", "")
        .replace("Plant the seeds (M1)", "Plant the seeds in rows (M1)")
        .replace("* [ ] Pick the fruit (M2)", "* [ ] Pick the fruit (M2)\n* [ ] Sell the fruit (M3)")
    )
    assert diff_lines(BASE, new) == [
        "Checklist item added (Week 2): Sell the fruit (M3)",
        "Checklist item removed (Week 1): Water the seeds (M1)",
        "Checklist item reworded (Week 1): 'Plant the seeds (M1)' -> 'Plant the seeds in rows (M1)'",
    ]
    moved = BASE.replace("* [ ] Water the seeds (M1)\n", "").replace(
        "* [ ] Pick the fruit (M2)", "* [ ] Pick the fruit (M2)\n* [ ] Water the seeds (M1)"
    )
    assert diff_lines(BASE, moved) == ["Checklist item moved: 'Water the seeds (M1)': week 'Week 1' -> 'Week 2'"]


def test_reordered_checklist_items_in_the_same_week_are_no_change():
    swapped = BASE.replace(
        "* [ ] Plant the seeds (M1)\n* [ ] Water the seeds (M1)",
        "* [ ] Water the seeds (M1)\n* [ ] Plant the seeds (M1)",
    )
    assert diff_lines(BASE, swapped) == []


def test_an_item_rewritten_beyond_recognition_is_a_removal_and_an_addition():
    new = BASE.replace("Pick the fruit (M2)", "Write a poem about vegetables")
    assert diff_lines(BASE, new) == [
        "Checklist item added (Week 2): Write a poem about vegetables",
        "Checklist item removed (Week 2): Pick the fruit (M2)",
    ]


def test_the_checker_difference_comes_first():
    new = BASE.replace("## Checklist\n", "```bash\npip install click markdown\n```\n\n## Checklist\n")
    assert diff_lines(BASE, new) == ["Checker: typer -> click"]


def test_with_stored_compares_the_rules_as_edited_not_as_written():
    parsed = parse(BASE)
    stored = diffing.with_stored(
        parsed, rules=[Rule(1, (10, 30), None), Rule(2, None, (1, 2)), Rule(3, (5, 9), (0, 1))], checker="click"
    )
    assert diffing.template_diff(parsed, stored).lines() == [
        "Checker: typer -> click",
        "Question 1: words 10-20 -> 10-30",
        "Question 2: words 50-100 -> not checked",
        "Question 3: words not checked -> 5-9; images not checked -> 0-1",
    ]
    assert stored.question(1).prompt == parsed.question(1).prompt


def test_line_diff_numbers_lines_and_collapses_unchanged_runs():
    old = "\n".join(f"line {n}" for n in range(1, 21))
    new = old.replace("line 10", "line ten")
    rows = diffing.line_diff(old, new, context=2)
    assert [(r.op, r.old, r.new, r.text) for r in rows] == [
        ("skip", None, None, "7 unchanged lines"),
        ("same", 8, 8, "line 8"),
        ("same", 9, 9, "line 9"),
        ("del", 10, None, "line 10"),
        ("add", None, 10, "line ten"),
        ("same", 11, 11, "line 11"),
        ("same", 12, 12, "line 12"),
        ("skip", None, None, "8 unchanged lines"),
    ]


def test_line_diff_of_identical_texts_is_empty():
    assert diffing.line_diff(BASE, BASE) == []


def test_line_diff_of_two_distant_changes_keeps_them_apart():
    old = "\n".join(f"line {n}" for n in range(1, 31))
    new = old.replace("line 2\n", "line two\n").replace("line 29", "line twenty-nine")
    ops = [r.op if r.op != "skip" else r.text for r in diffing.line_diff(old, new, context=1)]
    assert ops == ["same", "del", "add", "same", "24 unchanged lines", "same", "del", "add", "same"]


def test_the_demo_template_against_itself_with_one_more_question():
    text = DEMO_TEMPLATE.read_text(encoding="utf-8")
    extra = "\n### Question 11\n\n> **Anything else?**\n>\n> Answer:\n\n--- question 11 fill here ---\n"
    assert diff_lines(text, text + extra) == ["Question 11 added: Anything else?"]


SHARED_TEMPLATES = sorted(p for p in (SHARED / "templates").glob("*.md") if re.match(r"\d{4}-\d\d-\d\d_", p.name))


@pytest.mark.skipif(not SHARED_TEMPLATES, reason="../shared/templates (the course's template versions) is absent")
def test_every_consecutive_pair_of_course_templates_diffs():
    parsed = [(path.name, path.read_text(encoding="utf-8")) for path in SHARED_TEMPLATES]
    results = {}
    for (old_name, old), (new_name, new) in itertools.pairwise(parsed):
        diff = diffing.template_diff(parse(old), parse(new))
        rows = diffing.line_diff(old, new)
        assert rows, f"{old_name} and {new_name} are different files"
        assert sum(r.op == "add" for r in rows) >= 1 or sum(r.op == "del" for r in rows) >= 1
        results[new_name] = diff
    # The step from the 27-question era to the 31-question one: four questions more and the newer checker.
    growth = [
        diff for diff in results.values() if diff.checker == ("click", "typer") and len(diff.questions_added) == 4
    ]
    assert len(growth) == 1
    assert [q.number for q in growth[0].questions_added] == [28, 29, 30, 31]


# --- long inputs: difflib's results up to a size, bounded work beyond -------------------------------------------

SEQUENCES = st.lists(st.sampled_from("abc\n"), max_size=14).map("".join)


@settings(max_examples=1000, deadline=None)
@given(SEQUENCES, SEQUENCES)
def test_bounded_opcodes_are_difflibs_within_the_budget(a, b):
    assert diffing.bounded_opcodes(a, b) == (difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), False)


def apply(codes, a: str, b: str) -> str:
    return "".join(a[i1:i2] if op == "equal" else b[j1:j2] for op, i1, i2, j1, j2 in codes)


@settings(max_examples=1000, deadline=None)
@given(SEQUENCES, SEQUENCES, st.integers(min_value=0, max_value=4))
def test_bounded_opcodes_beyond_the_budget_still_turn_old_into_new(a, b, budget):
    codes, simplified = diffing.bounded_opcodes(a, b, max_items=budget)
    position = (0, 0)
    for op, i1, i2, j1, j2 in codes:
        assert (i1, j1) == position and (op == "equal") == (a[i1:i2] == b[j1:j2])
        position = (i2, j2)
    assert position == (len(a), len(b))
    assert apply(codes, a, b) == b
    assert simplified == any(op == "replace" and max(i2 - i1, j2 - j1) > budget for op, i1, i2, j1, j2 in codes)


@settings(max_examples=500, deadline=None)
@given(SEQUENCES, SEQUENCES, st.integers(min_value=0, max_value=3))
def test_grouped_opcodes_are_difflibs(a, b, context):
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    expected = list(matcher.get_grouped_opcodes(context))
    assert list(diffing.grouped_opcodes(matcher.get_opcodes(), context)) == expected


@pytest.mark.timeout(5)
def test_line_diff_of_two_long_different_sources_is_simplified_with_a_note():
    old = "title\n" + "\n>\n".join("ab"[n % 2] for n in range(50_000)) + "\nend"  # was quadratic in the lines
    new = "title\n" + "\n>\n".join("ba"[n % 3 % 2] for n in range(50_000)) + "\nend"
    rows = diffing.line_diff(old, new, context=1)
    assert rows[0] == diffing.DiffLine("note", None, None, diffing.LINE_DIFF_SIMPLIFIED)
    assert [r.op for r in rows[1:3]] == ["same", "del"] and rows[1].text == "title"
    assert sum(r.op == "del" for r in rows) + 2 == len(old.split("\n"))
    assert [r.op for r in rows[-2:]] == ["add", "same"] and rows[-1].text == "end"


@pytest.mark.timeout(5)
def test_line_diff_of_long_sources_with_one_change_is_exact():
    old = "\n".join(">" if n % 2 else "" for n in range(100_000))
    new = old[:1000] + "changed" + old[1000:]
    rows = diffing.line_diff(old, new, context=1)
    assert [r.op for r in rows] == ["skip", "same", "del", "add", "same", "skip"]
    assert rows[3].text == "changed>"


@pytest.mark.timeout(10)
def test_templates_with_thousands_of_changed_checklist_items_compare_in_bounded_time():
    def template(prefix: str) -> str:
        items = "".join(f"* [ ] {prefix} item number {k}\n" for k in range(3_000))  # was 9,000,000 likenesses
        return f"# T\n\n### Week 1\n\n{items}\n## Part\n\n### Question 1\n\n> Answer:\n\nx\n"

    diff = diffing.template_diff(parse(template("old")), parse(template("new")))
    assert (len(diff.checklist_removed), len(diff.checklist_added), diff.checklist_changed) == (3_000, 3_000, ())


def test_a_few_reworded_checklist_items_still_pair():
    old = BASE.replace("* [ ] Pick the fruit (M2)", "* [ ] Pick all of the fruit (M2)")
    assert diff_lines(BASE, old) == [
        "Checklist item reworded (Week 2): 'Pick the fruit (M2)' -> 'Pick all of the fruit (M2)'"
    ]
