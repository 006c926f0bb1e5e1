"""Browser tests: Playwright (sync API) driving Debian's headless chromium against pytest-django's live_server.

    def test_staff_sees_the_admin(page, live_server, login, django_user_model):
        django_user_model.objects.create_user("staffer", password="pw-staffer", is_staff=True)
        login(page, live_server, "staffer", "pw-staffer", path="/admin/login/")

`page` is a fresh browser context per test (no shared cookies); `new_page()` opens another one, e.g. a second user.
Chromium is the system's (CHROMIUM, default /usr/bin/chromium; `make test` installs it): never `playwright install`.
"""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.signals import request_finished, request_started
from django.test.client import ClientHandler
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags chromium's own connections are refused by a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def _allow_orm_beside_event_loop() -> Iterator[None]:
    # Playwright's sync API keeps an asyncio loop running in the main thread, so Django would refuse ORM calls.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser(_allow_orm_beside_event_loop) -> Iterator[Browser]:
    """One chromium for all browser tests. Package scope, not session: the event loop must stop before other tests."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/ensure-chromium (make test does) or set CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _Requests:
    """Requests the live server is serving (Django's request_started/request_finished): a test's pages are closed and
    its server idle before the database is flushed.

    Only the live server's requests count: the test client's send request_started from ClientHandler, and
    request_finished (sender None) only once a streaming response is read to its end, which a test need not do."""

    def __init__(self) -> None:
        self.serving = 0
        self.changed = threading.Condition()
        request_started.connect(self.started, weak=False)
        request_finished.connect(self.finished, weak=False)

    @staticmethod
    def _served(sender) -> bool:
        return sender is not None and not issubclass(sender, ClientHandler)

    def started(self, sender, **kwargs) -> None:
        if self._served(sender):
            with self.changed:
                self.serving += 1

    def finished(self, sender, **kwargs) -> None:
        if self._served(sender):
            with self.changed:
                self.serving -= 1
                self.changed.notify_all()

    def wait_idle(self, seconds: float = 30) -> None:
        """Until every request the live server took has been answered; a test error past `seconds`."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.serving <= 0, seconds):
                serving, self.serving = self.serving, 0  # the next test starts from a clean count
                pytest.fail(f"the live server still served {serving} requests {seconds:g} s after the pages closed")


REQUESTS = _Requests()


@pytest.fixture
def new_page(browser: Browser, transactional_db) -> Iterator[Callable[[], Page]]:
    """A factory of pages, each in its own context (own cookies): two users at once. All closed after the test.

    Set up after the database (`transactional_db`, which the live server uses), so torn down before its flush: a page
    left open would go on sending (a draft's autosave, presence, the beacon a closing page sends) while the tables
    are emptied, and on PostgreSQL the flush then deadlocks with that request. Offline first: closing sends nothing.
    """
    contexts = []

    def make() -> Page:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.set_offline(True)
        context.close()
    REQUESTS.wait_idle()  # a request sent before the close (a draft of hostile text renders for a while) ends first


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


@pytest.fixture
def login() -> Callable[..., None]:
    """`login(page, live_server, username, password, path="/accounts/login/")`: fill the form, wait to leave it."""

    def log_in(
        page: Page, live_server: LiveServer, username: str, password: str, path: str = "/accounts/login/"
    ) -> None:
        page.goto(live_server.url + path)
        page.get_by_label("E-mail or user name").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: urlsplit(url).path != path)

    return log_in
