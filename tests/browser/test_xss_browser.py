"""The XSS matrix in a real browser: the hostile course of tests/views/test_xss.py, shown in chromium, runs nothing.

Every payload sets `window.__xss` (or would open a dialog) when it runs. A first test shows that the payloads do run
in this browser when put on a page raw, so that the others pass because our pages defuse them.
"""

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.helpers.hostile import ANSWER, TEXT, Hostile, make_hostile

# Resolves once every image of the page has loaded or failed, so that an image's onerror (registered before our
# listeners) has run. Playwright runs an evaluated function without eval in the page, which our CSP forbids: a string
# predicate of wait_for_function needs eval as soon as its first check fails.
ALL_IMAGES_SETTLED = """async () => {
    const pending = [...document.images].filter((image) => !image.complete);
    await Promise.all(pending.map((image) => new Promise((settled) => {
        image.addEventListener("load", settled, { once: true });
        image.addEventListener("error", settled, { once: true });
    })));
}"""


@pytest.fixture
def hostile(course, group1, group2) -> Hostile:
    return make_hostile(course, group1, group2)


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """The messages of every alert, confirm or prompt the page opens (each dismissed)."""
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    page.evaluate(ALL_IMAGES_SETTLED)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []


def test_the_payloads_do_run_when_put_on_a_page_raw(page, dialogs):
    page.set_content(f"<!DOCTYPE html><body>{TEXT}<p>x<img src=x onerror=alert(1)></p></body>")
    page.evaluate(ALL_IMAGES_SETTLED)  # the <script> ran while set_content waited for the page to load
    assert page.evaluate("window.__xss") == 1
    assert dialogs == ["alert: 1"]


def test_report_page(page, dialogs, live_server, login, hostile):
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{hostile.group.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"C1 group 1 · {TEXT}")
    expect(page.locator("#question-3 .answer")).to_contain_text("ANSWER-SHOWN")
    assert_nothing_ran(page, dialogs)


def test_preview_in_the_editor(page, dialogs, live_server, login, hostile):
    """The preview pane takes the server's HTML with innerHTML: a handler left in it would run."""
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{hostile.group.pk}/questions/3/")
    page.get_by_label("Answer to question 3 (markdown)").fill(f"PREVIEWED\n\n{ANSWER}")
    expect(page.locator("#preview-3")).to_contain_text("PREVIEWED")  # the live preview, as the server sent it
    assert_nothing_ran(page, dialogs)


def test_dashboard(page, dialogs, live_server, login, hostile, instructor):
    login(page, live_server, "instructor", "pw-instructor")
    page.goto(f"{live_server.url}/courses/{hostile.course.pk}/dashboard/")
    expect(page.locator("#group-1 th")).to_have_text(f"1 · {TEXT}")
    expect(page.locator("#group-1 .status span")).to_have_attribute("title", TEXT)
    assert_nothing_ran(page, dialogs)


def test_admin_group_list(page, dialogs, live_server, login, hostile, django_user_model):
    django_user_model.objects.create_superuser("root", password="pw-root")
    login(page, live_server, "root", "pw-root", path="/admin/login/")
    page.goto(f"{live_server.url}/admin/reports_app/group/")
    expect(page.locator("#result_list")).to_contain_text(TEXT)
    assert_nothing_ran(page, dialogs)
