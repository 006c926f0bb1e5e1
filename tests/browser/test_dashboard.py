"""The staff dashboard in a real browser at 1366x900, on a course of 150 groups of 5 members named by their e-mail
and 31 questions: the table scrolls inside itself with its header row and group column stuck, every column can be
scrolled to, and each verdict's cell has the legend's colour."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Locator, Page, expect

from reports_app.models import Course, CourseStaff, Group, Membership, Question, StaffRole
from reports_app.selectors.overview import Verdict
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_for_group, report_import, report_markdown
from reports_app.services.templates import template_load

GROUPS, MEMBERS, QUESTIONS = 150, 5, 31
IMAGE_QUESTION = 3  # the one question asking for a screenshot


def template_text() -> str:
    """A template in the course's shape: a checklist, then QUESTIONS questions of 5-40 words (one with an image)."""
    lines = ["# Dashboard test report", "", "## Checklist", "", "### Week 1", "", "* [ ] Make a repository (M1)", ""]
    for n in range(1, QUESTIONS + 1):
        images = " + 1 screenshot" if n == IMAGE_QUESTION else ""
        lines += [f"### Question {n}", "", f"> **What happened in step {n} of the pipeline?**", ">"]
        lines += [f"> Recommended answer length: 5-40 words{images}.", ">", "> Answer:", ""]
        lines += [f"--- question {n} ---", ""]
    return "\n".join(lines)


def answer(group: Group, number: int, text: str) -> None:
    report = report_for_group(group)
    question = Question.objects.get(template=report.template, number=number)
    answer_save(report=report, question=question, text=text, base_version=0, user=None)


@pytest.fixture
def big_course(db, django_user_model) -> Course:
    """150 groups of 5 e-mail members (study numbers on the memberships). Group 1 has every verdict but S: P (Q1),
    W (Q2, too short), I (Q3, no screenshot), M (the rest); group 2's README is one the course checker stops on (S);
    the others have no report (M)."""
    template, _ = template_load(name="dashboard-test", source=template_text())
    course = Course.objects.create(code="BIG", template=template)
    groups = Group.objects.bulk_create(
        Group(course=course, number=n, name=f"Team {n}", repo_url=f"https://github.com/acme/team{n}")
        for n in range(1, GROUPS + 1)
    )
    users = django_user_model.objects.bulk_create(
        django_user_model(username=f"s24{n:03d}{k}@student.example.org", email=f"s24{n:03d}{k}@student.example.org")
        for n in range(1, GROUPS + 1)
        for k in range(1, MEMBERS + 1)
    )
    Membership.objects.bulk_create(
        Membership(user=user, group=groups[i // MEMBERS], study_number=user.username.partition("@")[0])
        for i, user in enumerate(users)
    )
    one, two = groups[0], groups[1]
    answer(one, 1, "We cleaned the raw data and stored it in a bucket.")
    answer(one, 2, "Too short.")
    answer(one, IMAGE_QUESTION, "We trained the model on the cleaned data every night.")
    stopping = report_markdown(one.report).replace("> Answer:", "> Reply:", 1)  # the course checker stops on it
    report_import(group=two, text=stopping, template=template, label="test")
    return course


@pytest.fixture
def dashboard(browser: Browser, live_server, big_course, django_user_model) -> Iterator[Page]:
    """The course's dashboard at 1366x900, for its instructor logged in (the session cookie of a test client)."""
    client = Client()
    staffer = django_user_model.objects.create_user("staffer", is_staff=True)
    CourseStaff.objects.create(course=big_course, user=staffer, role=StaffRole.INSTRUCTOR)
    client.force_login(staffer)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/courses/{big_course.pk}/dashboard/")
    expect(page.locator("table.dashboard tbody tr")).to_have_count(GROUPS)
    yield page
    context.close()


def box(locator: Locator) -> dict:
    found = locator.bounding_box()
    assert found is not None
    return found


def scroller(page: Page) -> Locator:
    return page.locator(".dashboard-scroll")


def test_the_table_scrolls_inside_the_window_so_its_sideways_scrollbar_is_in_reach(dashboard: Page):
    scroll = scroller(dashboard)
    sizes = scroll.evaluate("el => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]")
    assert sizes[0] > sizes[1] and sizes[2] > sizes[3]  # wider and taller than its box: it scrolls both ways
    assert box(scroll)["y"] + box(scroll)["height"] <= 900  # its bottom edge (and scrollbar) in the window
    assert dashboard.evaluate("() => document.documentElement.scrollHeight") <= 900  # the page itself does not scroll
    assert box(dashboard.locator("table.dashboard thead"))["x"] >= 0
    assert box(scroll)["width"] >= 1366 - 40  # the window's width, not a 1,140 px container's


def test_every_column_can_be_scrolled_to_and_the_group_column_stays(dashboard: Page):
    last_header = dashboard.get_by_role("columnheader", name="Flags")
    last_cell = dashboard.locator("#group-1 td.flags")
    expect(last_header).not_to_be_in_viewport()  # off to the right at first

    scroller(dashboard).evaluate("el => { el.scrollLeft = el.scrollWidth; }")

    expect(last_header).to_be_in_viewport()
    expect(last_cell).to_be_in_viewport()
    expect(dashboard.locator("#group-1 th")).to_be_in_viewport()  # the group column is stuck at the left
    assert box(dashboard.locator("#group-1 th"))["x"] == pytest.approx(box(scroller(dashboard))["x"], abs=2)


def test_the_header_row_stays_at_the_top_while_the_groups_scroll_under_it(dashboard: Page):
    header = dashboard.get_by_role("columnheader", name="Passed")
    top = box(header)["y"]

    scroller(dashboard).evaluate("el => { el.scrollTop = el.scrollHeight; }")

    expect(dashboard.locator(f"#group-{GROUPS}")).to_be_in_viewport()
    expect(dashboard.locator("#group-1")).not_to_be_in_viewport()
    assert box(header)["y"] == pytest.approx(top, abs=1)
    assert box(header)["y"] <= box(dashboard.locator(f"#group-{GROUPS}"))["y"]


def colour(locator: Locator) -> tuple[str, str]:
    """The computed (background, text) colours."""
    return tuple(locator.evaluate("el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"))


def test_each_verdicts_cell_has_its_legend_colour_and_letter(dashboard: Page):
    chips = {verdict: colour(dashboard.locator(f"#legend .verdict-{verdict.value}")) for verdict in Verdict}
    assert len(set(chips.values())) == len(Verdict)  # five colours, none the table's white
    assert ("rgb(255, 255, 255)", "rgb(33, 37, 41)") not in chips.values()

    cells = {
        Verdict.PASS: "#group-1 td.verdict >> nth=0",
        Verdict.WORDS: "#group-1 td.verdict >> nth=1",
        Verdict.IMAGES: f"#group-1 td.verdict >> nth={IMAGE_QUESTION - 1}",
        Verdict.MISSING: "#group-1 td.verdict >> nth=3",
        Verdict.STOPS: "#group-2 td.verdict >> nth=0",
    }
    for verdict, selector in cells.items():
        cell = dashboard.locator(selector)
        expect(cell).to_have_class(f"verdict verdict-{verdict.value}")
        expect(cell).to_have_text(verdict.letter)  # readable without its colour too
        assert colour(cell) == chips[verdict], verdict


def test_members_are_short_and_the_whole_list_opens_from_the_keyboard(dashboard: Page):
    summary = dashboard.locator("#group-7 td.members summary")
    expect(summary).to_have_text("s240071, s240072, s240073, s240074, s240075")
    expect(summary).to_have_attribute("title", "\n".join(f"s24007{k}@student.example.org · s24007{k}" for k in "12345"))
    everyone = dashboard.locator("#group-7 td.members li")
    expect(everyone.first).to_be_hidden()

    summary.focus()
    dashboard.keyboard.press("Enter")

    expect(everyone).to_have_count(MEMBERS)
    expect(everyone.first).to_be_visible()
    expect(everyone.first).to_have_text("s240071@student.example.org · s240071")
