"""The editor's live image counter in a real browser: the course's count on every text, in linear time.

report.js counts images without the course's pattern (which backtracks in cubic time on unclosed images): the
counter must agree with checks.count_images on tricky texts, and stay responsive on hostile ones.
"""

import random

import pytest
from playwright.sync_api import Page, expect

from reports_app.engine import checks
from reports_app.forms.students import clean_answer_text
from tests.helpers.pages import answer_box, open_editor

RULE = checks.Rule(3, (50, 100), None)


def server_warnings(text: str) -> list[str]:
    """The warnings the server sends with the live preview (images shown but not counted, among others)."""
    return checks.answer_warnings(clean_answer_text(text), is_last=False)


def tricky_texts() -> list[str]:
    written = [
        "![a](b)(c)",
        "![a](b ![c](d)",
        "![a]](b) ![[x]](y)",
        "![](",
        "![a\nb](c) ![d](e\n)",
        "]( ![a) ![b](c)",
        "![a](\n![b](c)",
        "![a] (b) ![c]x(d)",
    ]
    rng = random.Random(11)
    pieces = ["!", "[", "]", "(", ")", "\n", " ", "a", "![", "](", "![a](b)"]
    generated = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 16))) for _ in range(60)]
    return written + generated


def test_live_image_counter_agrees_with_the_course_on_tricky_texts(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    open_editor(page, 3)
    textarea = answer_box(page, 3)
    for text in tricky_texts():
        textarea.fill(text)
        expect(page.locator(".image-count")).to_have_text(str(checks.check_alone(text, RULE, is_last=False).images))
        expect(page.locator("[data-editor] .warnings li")).to_have_text(server_warnings(text))


@pytest.mark.parametrize(
    ("text", "images"),
    [
        ("![a](" * 4000, 0),  # the course's pattern froze the tab for half a minute on every key
        ("![" * 50000, 0),  # the shown-images pattern, for seconds
        ("![a](b)" * 5000 + "![a](" * 4000, 5000),
    ],
    ids=["unclosed images", "unclosed openers", "images then unclosed ones"],
)
def test_live_image_counter_stays_responsive_on_hostile_text(page: Page, live_server, login, group1, text, images):
    login(page, live_server, "alice", "pw-alice")
    open_editor(page, 3)
    answer_box(page, 3).fill(text)
    expect(page.locator(".image-count")).to_have_text(str(images), timeout=3000)
    assert checks.count_images(text) == images
