"""Every student page on a phone (390 x 844, touch): no sideways scrolling, 44 px touch targets, a visible focus.

The group is one a phone trips on: a long name without spaces, members named by e-mail-length addresses, answers with
long URLs, long code lines and a wide table, a figure with a long name and a history whose diff has long lines.
Screenshots of every page go to /tmp/phone/ (PHONE_SCREENSHOTS to change it), for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.template import loader
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, Page, Route, expect

from reports_app.models import Group, Invitation, Membership, Question
from reports_app.services.answers import AnswerConflict, answer_save
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group

from ..conftest import png_bytes

PHONE = {"width": 390, "height": 844}
TOUCH_TARGET = 44  # px, WCAG 2.5.5 (AAA) and Apple's guideline; 2.5.8 exempts links inside a sentence
SCREENSHOTS = Path(os.environ.get("PHONE_SCREENSHOTS", "/tmp/phone"))

MEMBER = "maximiliane.vandenberghe-oosterhuis@student.example-university.dk"
TEAMMATE = "christopher.abernathy-worthington@student.example-university.dk"
INVITED = "bartholomew.featherstonehaugh-cholmondeley@student.example-university.dk"
NEWCOMER = "anastasia.papadopoulou-konstantinidou@student.example-university.dk"
PASSWORD = "Phone-width-pages-417"
GROUP_NAME = "ReproduciblePipelinesAndContinuousDeploymentEnthusiasts"
REPO = "https://github.com/reproducible-pipelines-and-continuous-deployment/mlops-final-project-2025-group-42"
FIGURE = "training-and-validation-loss-of-the-final-augmented-model.png"
LONG_URL = "https://wandb.ai/reproducible-pipelines/mlops-final-project/runs/2025-01-14T10-22-31-augmentation-sweep"
CODE_LINE = (
    "    python -m mlops_project.train --config configs/experiments/augmentation_sweep_final.yaml "
    "--trainer.max_epochs=50 --data.num_workers=8 --seed=1234"
)
WIDE_TABLE = (
    "<table><tr><th>experiment_configuration_name</th><th>validation_accuracy</th><th>training_time_minutes</th>"
    "<th>peak_gpu_memory_gigabytes</th></tr><tr><td>baseline_without_augmentation</td><td>0.8123</td><td>42</td>"
    "<td>10.5</td></tr></table>"
)
ANSWER_V1 = (
    f"We track every run in Weights and Biases ({LONG_URL}) and pin the data with DVC. "
    + " ".join(f"word{i}" for i in range(40))
    + f"\n\nThe training command is:\n\n{CODE_LINE}\n\n{WIDE_TABLE}\n\n"
    f"Most tuning happened in `mlops_project.models.lightning_module.LightningClassifierWithAugmentation`.\n"
    f"![{FIGURE[:-4]}](figures/{FIGURE})\n"
)
ANSWER_V2 = ANSWER_V1.replace("--seed=1234", "--seed=4321 --trainer.precision=bf16-mixed").replace(
    "pin the data with DVC", "pin every version of the raw and processed data with DVC in a Google Cloud bucket"
)


@dataclass
class Phone:
    """The group a phone trips on, the session cookie of its member, and the links that need a token."""

    group: Group
    session: str
    invitation_path: str
    reset_path: str


@pytest.fixture
def phone_group(course) -> Phone:
    users = get_user_model().objects
    member = users.create_user(MEMBER, email=MEMBER, password=PASSWORD, first_name="Maximiliane")
    teammate = users.create_user(TEAMMATE, email=TEAMMATE, password=PASSWORD)
    group = Group.objects.create(course=course, number=42, name=GROUP_NAME, repo_url=REPO)
    for user in (member, teammate):
        Membership.objects.create(user=user, group=group)
    Invitation.objects.create(
        group=group, email=INVITED, name="Bartholomew", token_hash=Invitation.hash_token("x" * 40)
    )
    Invitation.objects.create(group=group, email=NEWCOMER, name="Anastasia", token_hash=Invitation.hash_token("y" * 40))
    report = report_for_group(group)
    figure_add(report=report, data=png_bytes(1600, 400), wanted_name=FIGURE, user=member)
    question = Question.objects.get(template=course.template, number=3)
    answer_save(report=report, question=question, text=ANSWER_V1, base_version=0, user=member)
    answer_save(report=report, question=question, text=ANSWER_V2, base_version=1, user=teammate)
    with pytest.raises(AnswerConflict):  # a lost conflict is kept in the history as a row of its own
        answer_save(report=report, question=question, text=ANSWER_V1 + "\nMore.", base_version=1, user=member)
    client = Client()
    client.force_login(member)
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    reset = f"/accounts/reset/{uid}/{default_token_generator.make_token(member)}/"
    return Phone(group, client.cookies["sessionid"].value, f"/invitations/{'y' * 40}/", reset)


@pytest.fixture
def phone(browser: Browser, live_server) -> Iterator[Callable[[str | None], Page]]:
    """`phone(session)`: a page in a touch phone's context, logged in with the session cookie when one is given."""
    contexts = []

    def make(session: str | None) -> Page:
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if session:
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _fulfil_with(template: str, context: dict, status: int) -> Callable[[Route], None]:
    """The 503 and 500 pages need a database that fails: the browser gets them, as Django renders them, instead."""
    body = loader.render_to_string(template, context)
    return lambda route: route.fulfill(status=status, body=body, content_type="text/html; charset=utf-8")


def _open(page: Page, live_server, phone_group: Phone, name: str) -> None:
    g = phone_group.group.pk
    paths = {
        "login": "/accounts/login/",
        "password-reset": "/accounts/password_reset/",
        "password-reset-done": "/accounts/password_reset/done/",
        "password-reset-confirm": phone_group.reset_path,
        "join": "/join/",
        "report": f"/groups/{g}/",
        "question": f"/groups/{g}/questions/3/",
        "history": f"/groups/{g}/questions/3/history/",
        "figures": f"/groups/{g}/figures/",
        "delete-figure": f"/groups/{g}/figures/{FIGURE}/delete/",
        "invitation": phone_group.invitation_path,
        "password-change": "/accounts/password_change/",
        "password-change-done": "/accounts/password_change/done/",
        "home": "/",
        "database-down": f"/groups/{g}/",
        "server-error": f"/groups/{g}/",
        "csrf-refused": f"/groups/{g}/questions/3/",
        "not-found": f"/groups/{g}/figures/no-such-figure.png/delete/",
    }
    if name == "database-down":
        page.route(live_server.url + paths[name], _fulfil_with("503.html", {"text": ANSWER_V2}, 503))
    if name == "server-error":
        page.route(live_server.url + paths[name], _fulfil_with("500.html", {}, 500))
    if name == "home":  # a member of one group is sent on to its report: the list is for members of several
        other = Group.objects.create(course=phone_group.group.course, number=43, name=GROUP_NAME + "Again")
        Membership.objects.create(user=get_user_model().objects.get(username=MEMBER), group=other)
    response = page.goto(live_server.url + paths[name])
    assert response is not None and response.status == STATUS.get(name, 200)
    if name == "csrf-refused":  # a save whose token went stale: the text comes back on our own 403 page
        page.evaluate(
            """(text) => {
                const form = Object.assign(document.createElement('form'), {method: 'post'});
                for (const [name, value] of [['csrfmiddlewaretoken', 'stale'], ['version', '2'], ['text', text]]) {
                    form.append(Object.assign(document.createElement('input'), {type: 'hidden', name, value}));
                }
                document.body.append(form);
                form.submit();
            }""",
            ANSWER_V2,
        )
        page.wait_for_selector("#csrf-refused")


ANONYMOUS_PAGES = ["login", "password-reset", "password-reset-done", "password-reset-confirm", "join"]
MEMBER_PAGES = [
    "report",
    "question",
    "history",
    "figures",
    "delete-figure",
    "invitation",
    "password-change",
    "password-change-done",
    "home",
    "database-down",
    "server-error",
    "csrf-refused",
    "not-found",
]
STATUS = {"database-down": 503, "server-error": 500, "not-found": 404}

# Interactive elements smaller than a finger, in <main> and the navbar, as [(description, width, height)].
# Exempt (WCAG 2.5.8): links inside a sentence (their parent has text of its own beside them) and everything in an
# answer or a question's prompt (the students' and the template's running text); hidden and disabled elements.
# A checkbox or radio button counts with its label, which takes the tap as well.
SMALL_TARGETS_JS = """(minimum) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const small = [];
  for (const element of document.querySelectorAll(`main :is(${selector}), nav.navbar :is(${selector})`)) {
    if (element.disabled || element.closest('.answer, .prompt-text, .prompt, [hidden]')) continue;
    if (!element.checkVisibility({visibilityProperty: true})) continue;
    if (element.matches('.visually-hidden, .visually-hidden-focusable')) continue;
    const parent = element.parentElement;
    const inSentence = element.tagName === 'A' && getComputedStyle(element).display === 'inline' &&
      [...parent.childNodes].some(node => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
    if (inSentence) continue;
    const boxes = [element.getBoundingClientRect()];
    if (['checkbox', 'radio'].includes(element.type)) {
      for (const label of element.labels) boxes.push(label.getBoundingClientRect());
    }
    const left = Math.min(...boxes.map(b => b.left)), right = Math.max(...boxes.map(b => b.right));
    const top = Math.min(...boxes.map(b => b.top)), bottom = Math.max(...boxes.map(b => b.bottom));
    const [width, height] = [Math.round(right - left), Math.round(bottom - top)];
    if (width < minimum || height < minimum) {
      const name = (element.innerText || element.value || element.name || element.id || '').trim().slice(0, 40);
      small.push([`${element.tagName.toLowerCase()} "${name}"`, width, height]);
    }
  }
  return small;
}"""


# What reaches past the right edge, for the message: elements, and text (a long word, URL or code line) by its parent.
OVERFLOWING_JS = """(limit) => {
  const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '');
  const found = new Set();
  for (const element of document.querySelectorAll('body *')) {
    if (element.getBoundingClientRect().right > limit + 0.5) found.add(describe(element));
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    range.selectNodeContents(walker.currentNode);
    const parent = walker.currentNode.parentElement;
    if (range.getBoundingClientRect().right > limit + 0.5) found.add('text in ' + describe(parent));
  }
  return [...found].slice(0, 12);
}"""


FOCUSED_JS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const name = (element.innerText || element.value || element.name || element.id || '').trim().slice(0, 30);
  const tag = element.tagName.toLowerCase();
  return [`${tag} "${name}"`, style.outlineStyle, parseFloat(style.outlineWidth), style.outlineColor];
}"""
MAX_TABS = 150


def _focus_rings(page: Page) -> list[tuple[str, str, float, str]]:
    """Tab through the page as a keyboard user does: (element, outline style, width in px, colour) at each stop."""
    rings: list[tuple[str, str, float, str]] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUSED_JS)
        if ring is None or (rings and tuple(ring) == rings[0]):
            break  # focus left the page or came round again
        rings.append(tuple(ring))
    return rings


def _luminance(colour: str) -> float:
    """Relative luminance (WCAG) of a computed colour such as `rgb(5, 44, 101)`."""
    channels = [int(part) / 255 for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _is_clear(ring: tuple[str, str, float, str]) -> bool:
    """A solid outline at least 2 px wide, opaque, with 3:1 contrast against the white page (WCAG 1.4.11)."""
    _, style, width, colour = ring
    opaque = colour.startswith("rgb(")  # rgba(...) is partly transparent
    return style == "solid" and width >= 2 and opaque and 1.05 / (_luminance(colour) + 0.05) >= 3


def _check_page(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The whole page at once, through a viewport as tall as the page: Playwright's full_page screenshot drops the touch
    # emulation, so it would show the page as a mouse user sees it.
    page.set_viewport_size({"width": PHONE["width"], "height": page.evaluate("document.documentElement.scrollHeight")})
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    page.set_viewport_size(PHONE)
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(
            f"scrolls sideways, {width} px wide; past the edge: {page.evaluate(OVERFLOWING_JS, PHONE['width'])}"
        )
    if small := page.evaluate(SMALL_TARGETS_JS, TOUCH_TARGET):
        problems.append(f"targets under {TOUCH_TARGET} px: {small}")
    if faint := [ring for ring in _focus_rings(page) if not _is_clear(ring)]:
        problems.append(f"focus hard to see on {faint}")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():  # the menu of a logged-in page: its links and the Log out button
        toggler.click()
        page.locator("#nav-menu.show").wait_for()
        if small := page.evaluate(SMALL_TARGETS_JS, TOUCH_TARGET):
            problems.append(f"targets under {TOUCH_TARGET} px in the menu: {small}")
    assert not problems, f"{name}: " + "\n".join(problems)


@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_a_page_before_logging_in_fits_a_phone(phone, live_server, phone_group, name):
    page = phone(None)

    _open(page, live_server, phone_group, name)

    _check_page(page, name)


@pytest.mark.parametrize("name", MEMBER_PAGES)
def test_a_members_page_fits_a_phone(phone, live_server, phone_group, name):
    page = phone(phone_group.session)

    _open(page, live_server, phone_group, name)

    _check_page(page, name)


def test_on_a_phone_each_version_is_a_card_that_stays_a_table_row_to_screen_readers(phone, live_server, phone_group):
    page = phone(phone_group.session)

    _open(page, live_server, phone_group, "history")

    expect(page.get_by_role("rowheader")).to_have_text(["v2 current", "not saved (on v1)", "v1"])
    expect(page.get_by_role("columnheader")).to_have_count(7)
    conflict = page.get_by_role("row").filter(has_text="not saved")
    expect(conflict.get_by_role("cell").first).to_have_accessible_name("Maximiliane")  # "By:" is not read twice
    expect(conflict.locator("td").first).to_have_css("display", "block")
