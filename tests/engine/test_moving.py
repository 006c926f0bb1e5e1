"""moving: where a report's answers and ticks go on another template version. No database."""

import pytest

from reports_app.engine import diffing, moving, parsing
from reports_app.engine.checks import Rule


def question(number: int, ask: str, rule: str = "", example: str = "") -> str:
    lines = [f"### Question {number}", "", f"> **{ask}**", ">"]
    if rule:
        lines += [f"> Recommended answer length: {rule}.", ">"]
    if example:
        lines += ["> Example:", f"> *{example}*", ">"]
    return "\n".join([*lines, "> Answer:", "", f"--- question {number} fill here ---", "", ""])


def template(*questions: str, items: tuple[str, ...] = ("Sow the beans (M1)", "Water the beans (M1)")) -> str:
    checklist = "\n".join(f"* [ ] {item}" for item in items)
    return f"# Garden report\n\n## Checklist\n\n### Week 1\n\n{checklist}\n\n## Garden\n\n" + "".join(questions)


OLD = template(
    question(1, "Which beans did you sow?", "10-20 words"),
    question(2, "How often did you water them, and why that often?", "50-100 words"),
    question(3, "What ate your lettuce?", "20-40 words"),
    question(4, "Which tool broke first?", "10-30 words"),
)
# Question 1 the same; 2 reworded and moved to 3 with a new rule; a new question 2; 3 gone; 4 replaced by another.
NEW = template(
    question(1, "Which beans did you sow?", "10-20 words"),
    question(2, "Where in the garden did you sow them?", "10-20 words"),
    question(3, "How often did you water them, and why exactly that often?", "80-120 words"),
    question(4, "Who harvested the beans?", "10-30 words"),
    items=("Water the beans (M1)", "Harvest the beans (M2)"),
)


def plan(old: str = OLD, new: str = NEW) -> moving.Move:
    return moving.plan_move(parsing.parse_template(old), parsing.parse_template(new))


def test_answers_go_to_the_same_text_then_the_reworded_one_then_the_same_number():
    move = plan()

    assert [(p.old.number, p.new.number, p.how) for p in move.placed] == [
        (1, 1, moving.SAME_TEXT),
        (2, 3, moving.REWORDED_TEXT),
        (4, 4, moving.BY_NUMBER),
    ]
    assert move.numbers() == {1: 1, 2: 3, 4: 4}
    assert [q.number for q in move.no_place] == [3]
    assert [q.number for q in move.new_only] == [2]


def test_a_pair_is_flagged_when_its_text_or_its_rule_changed():
    flags = {p.old.number: p.flags for p in plan().placed}

    assert flags[1] == ()
    assert flags[2][0].startswith("question reworded (") and flags[2][0].endswith("% alike)")
    assert flags[2][1:] == ("words 50-100 -> 80-120",)
    assert flags[4] == ("another question: only the number is the same",)


def test_the_same_question_with_other_text_below_it_is_flagged():
    old = template(question(1, "Which beans did you sow?", example="Broad beans"))
    new = template(question(1, "Which beans did you sow?", example="Runner beans, because ..."))

    (placed,) = plan(old, new).placed

    assert (placed.how, placed.flags) == (moving.SAME_TEXT, ("the text below the question changed",))


def test_rules_are_compared_as_stored():
    """Staff edited question 1's rule after loading the new version: the preview flags it."""
    old = parsing.parse_template(OLD)
    new = diffing.with_stored(parsing.parse_template(OLD), rules=[Rule(1, (5, 10), (1, 2))], checker=old.checker)

    (first, *_) = moving.plan_move(old, new).placed

    assert first.flags == ("words 10-20 -> 5-10", "images not checked -> 1-2")


def test_ticks_go_to_the_item_with_the_same_text_only():
    move = plan()

    assert [(o.text, n.text) for o, n in move.items] == [("Water the beans (M1)", "Water the beans (M1)")]
    assert move.positions() == {1: 0}
    assert [item.text for item in move.items_no_place] == ["Sow the beans (M1)"]


def test_the_same_version_places_everything_where_it_was():
    move = plan(OLD, OLD)

    assert move.numbers() == {1: 1, 2: 2, 3: 3, 4: 4}
    assert all(p.flags == () for p in move.placed)
    assert (move.no_place, move.new_only, move.items_no_place) == ((), (), ())


def test_questions_moved_around_keep_their_answers():
    reversed_order = template(
        question(1, "Which tool broke first?", "10-30 words"),
        question(2, "What ate your lettuce?", "20-40 words"),
        question(3, "How often did you water them, and why that often?", "50-100 words"),
        question(4, "Which beans did you sow?", "10-20 words"),
    )

    assert plan(OLD, reversed_order).numbers() == {1: 4, 2: 3, 3: 2, 4: 1}


def test_repeated_texts_pair_in_their_order():
    old = template(question(1, "Same?"), question(2, "Same?"), items=("Dig", "Dig", "Rake"))
    new = template(question(1, "Other?"), question(2, "Same?"), question(3, "Same?"), items=("Rake", "Dig", "Dig"))

    move = plan(old, new)

    assert move.numbers() == {1: 2, 2: 3}
    assert move.positions() == {0: 1, 1: 2, 2: 0}


@pytest.mark.timeout(30)
def test_a_template_of_thousands_of_questions_is_planned_without_comparing_every_pair():
    """Past MAX_COMPARISONS left-over pairs, the reworded pass is skipped: the left-overs pair by number."""
    old = template(*(question(n, f"Old question number {n} about beans?") for n in range(1, 1001)))
    new = template(*(question(n, f"New question number {n} about beans?") for n in range(1, 1001)))

    move = plan(old, new)

    assert move.numbers() == {n: n for n in range(1, 1001)}
    assert {p.how for p in move.placed} == {moving.BY_NUMBER}


def test_the_full_question_text_keeps_every_paragraph():
    (q,) = parsing.parse_template(
        template(question(1, "Which beans, and\n> why?", "10-20 words", "We sow ..."))
    ).questions

    assert (
        diffing.prompt_text(q.prompt)
        == "Which beans, and why?\nRecommended answer length: 10-20 words.\nExample: We sow ..."
    )
