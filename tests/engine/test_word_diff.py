"""rendering.word_diff, as the history page shows it: word by word up to a size, bounded work and a note beyond."""

import difflib
import re

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from reports_app.engine import rendering
from reports_app.models import AnswerRevision
from tests.helpers.pages import save

TEXTS = st.text(alphabet="ab \n", max_size=20)


def plain_word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The word diff as it was before it was bounded: difflib on every token."""
    a, b = re.findall(r"\s+|[^\s]+", old), re.findall(r"\s+|[^\s]+", new)
    runs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("same", "".join(a[i1:i2])))
            continue
        runs += [("del", "".join(a[i1:i2]))] if i2 > i1 else []
        runs += [("add", "".join(b[j1:j2]))] if j2 > j1 else []
    return runs


def side(runs: list[tuple[str, str]], op: str) -> str:
    return "".join(text for kind, text in runs if kind in ("same", op))


@settings(max_examples=1000, deadline=None)
@given(TEXTS, TEXTS)
def test_texts_within_the_budget_diff_as_before(old, new):
    assert rendering.word_diff(old, new) == rendering.WordDiff(plain_word_diff(old, new), simplified=False)


@settings(max_examples=1000, deadline=None)
@given(TEXTS, TEXTS, st.integers(min_value=0, max_value=5))
def test_texts_beyond_the_budget_still_give_both_texts_back(old, new, budget):
    diff = rendering.word_diff(old, new, max_tokens=budget)
    assert (side(diff.runs, "del"), side(diff.runs, "add")) == (old, new)


LONG_OLD = " ".join("data model the a we test".split()[n % 6] for n in range(20_000))  # 100 kB with the spaces
LONG_NEW = " ".join("data model the a we test".split()[n * 7 % 5] for n in range(20_000))


@pytest.mark.timeout(5)
def test_two_long_different_texts_are_one_deletion_and_one_addition():
    diff = rendering.word_diff(LONG_OLD, LONG_NEW)  # difflib alone took minutes on these
    assert diff.simplified
    assert [op for op, _ in diff.runs] == ["same", "del", "add"]
    assert (side(diff.runs, "del"), side(diff.runs, "add")) == (LONG_OLD, LONG_NEW)


@pytest.mark.timeout(5)
def test_one_change_in_a_long_text_is_shown_word_by_word():
    new = LONG_OLD.replace("we test data", "we tested data", 1)
    diff = rendering.word_diff(LONG_OLD, new)
    assert not diff.simplified
    assert [(op, text) for op, text in diff.runs if op != "same"] == [("del", "test"), ("add", "tested")]


def url(group, number: int = 3) -> str:
    return reverse("answer-history", args=[group.pk, number])


@pytest.mark.timeout(20)
def test_history_of_two_long_different_versions_says_the_diff_is_simplified(alice, group1):
    save(group1, 3, LONG_OLD[:30_000])
    save(group1, 3, LONG_NEW[:30_000])
    response = alice.get(url(group1))
    assert response.status_code == 200
    assert rendering.WORD_DIFF_SIMPLIFIED in response.content.decode()


def test_history_of_short_versions_has_no_note(alice, group1):
    save(group1, 3, "the quick fox")
    save(group1, 3, "the slow fox")
    html = alice.get(url(group1)).content.decode()
    assert '<del class="diff-del">quick</del><ins class="diff-add">slow</ins>' in html
    assert rendering.WORD_DIFF_SIMPLIFIED not in html


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "1.5"])
def test_a_version_id_that_is_no_number_shows_the_latest_change(alice, group1, value):
    save(group1, 3, "one")
    save(group1, 3, "two")
    response = alice.get(url(group1), {"new": value, "old": value})
    assert response.status_code == 200
    assert '<del class="diff-del">one</del><ins class="diff-add">two</ins>' in response.content.decode()
    assert AnswerRevision.objects.count() == 2
