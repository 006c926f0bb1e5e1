"""The editor's live image counter in a real browser: the course's count on every text, in linear time.

report.js counts images without the course's pattern (which backtracks in cubic time on unclosed images): the
counter must agree with checks.count_images on tricky texts, and stay responsive on hostile ones.
"""

import random
import re

import pytest
from playwright.sync_api import Page, expect

from reports_app.engine import checks
from tests.helpers.pages import open_editor

SHOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")  # what markdown shows as an image, even across lines
RULE = checks.Rule(3, (50, 100), None)


def uncounted_note(text: str) -> list[str]:
    """The editor's warning for images markdown shows and the course checker does not count."""
    answer = checks.check_alone(text, RULE, is_last=False)
    uncounted = len(SHOWN_IMAGE.findall(text.strip("\n"))) - answer.images
    if uncounted <= 0:
        return []
    shown = f"{uncounted} image{'s are' if uncounted > 1 else ' is'} shown but not counted by the course checker"
    return [f"{shown}: write each image's markdown on one line."]


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
    textarea = page.get_by_label("Answer (markdown)")
    for text in tricky_texts():
        textarea.fill(text)
        expect(page.locator("#image-count")).to_have_text(str(checks.check_alone(text, RULE, is_last=False).images))
        expect(page.locator("#warnings li")).to_have_text(uncounted_note(text))


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
    page.get_by_label("Answer (markdown)").fill(text)
    expect(page.locator("#image-count")).to_have_text(str(images), timeout=3000)
    assert checks.count_images(text) == images
