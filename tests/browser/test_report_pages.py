"""The student pages in a real browser: the live counters, preview, figures, conflicts, deadline and checklist.

Each test drives headless chromium against `live_server`, as a student would, and checks what the page shows and
what the database holds afterwards.
"""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from reports_app.engine import checks
from reports_app.forms.students import clean_answer_text
from reports_app.models import Answer, AnswerRevision, ChecklistMark, Question
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_for_group
from tests.helpers.pages import answer_box, open_editor

from ..conftest import png_bytes

FIRST_WEEK_1_ITEM = "Set up a git repository for the project (M5)"


def words(count: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(1, count + 1))


def passed_count(page: Page) -> int:
    """P of the report page's "passed P/10" summary."""
    text = page.locator("#passed").inner_text()
    match = re.fullmatch(r"passed (\d+)/10", text)
    assert match, text
    return int(match[1])


def test_student_types_an_answer_watches_the_counter_and_saves_it(page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")

    assert page.url == f"{live_server.url}/groups/{group1.pk}/"
    expect(page.get_by_role("heading", level=1)).to_contain_text("group 1")
    passed_before = passed_count(page)
    open_editor(page, 3)
    textarea = answer_box(page, 3)
    word_count, verdict = page.locator(".word-count"), page.locator(".verdict-now")
    expect(word_count).to_have_text("0")
    expect(verdict).to_have_text("○ not answered")

    textarea.press_sequentially("We chose")
    expect(word_count).to_have_text("2")
    textarea.press_sequentially(" the weather data")
    expect(word_count).to_have_text("5")
    textarea.fill(words(48))  # the next words are typed key by key again
    expect(word_count).to_have_text("48")
    textarea.press_sequentially(" w49")
    expect(word_count).to_have_text("49")
    expect(verdict).to_have_text("✗ fails")
    textarea.press_sequentially(" w50")
    expect(word_count).to_have_text("50")
    expect(verdict).to_have_text("✓ passes")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".save-status")).to_have_text("✓ Question 3 saved (version 1).")  # beside the editor
    expect(textarea).to_be_visible()  # which stays open
    card = page.locator("#question-3")
    expect(card.locator(".verdict")).to_contain_text("passes")
    expect(card.locator(".verdict")).to_contain_text("words 50 of 50-100")
    expect(page.locator("#passed")).to_have_text(f"passed {passed_before + 1}/10")
    answer = Answer.objects.get(report__group=group1, question__number=3)
    assert (answer.text, answer.version, answer.updated_by.username) == (words(50), 1, "alice")


def test_live_counters_agree_with_the_server_on_tricky_text(page, live_server, login, group1):
    # Every character Python's str.split() splits on but the line breaks (a textarea turns \r into \n).
    splitters = [chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) not in "\r\n"]
    text = (
        "alpha\u00a0beta\u2003gamma\x1cdelta\x85epsilon\ufeffzeta\n"
        + "".join(f"s{i}{c}" for i, c in enumerate(splitters))
        + "\n![a](b) ![c](d)![e](f) tail\n"
        "![split\n](x) more words\n"
        "\n## A heading\n\n"
        "not counted here ![g](h)"
    )
    login(page, live_server, "alice", "pw-alice")
    open_editor(page, 3)

    textarea = answer_box(page, 3)
    with page.expect_response(f"{live_server.url}/groups/{group1.pk}/questions/3/draft/") as preview_response:
        textarea.fill(text)  # the preview follows the text by itself

    assert textarea.input_value() == text  # the browser kept every character
    server = checks.check_alone(text, checks.Rule(3, (50, 100), None), is_last=False)
    assert (server.words, server.images) == (12 + len(splitters), 3)
    expect(page.locator(".word-count")).to_have_text(str(server.words))
    expect(page.locator(".image-count")).to_have_text(str(server.images))
    expect(page.locator(".verdict-now")).to_have_text("✗ fails")
    warnings = checks.answer_warnings(clean_answer_text(text), is_last=False)
    assert len(warnings) == 2  # the '##' cut, and the image written over two lines
    expect(page.locator("[data-editor] .warnings li")).to_have_text(warnings)

    assert preview_response.value.ok
    preview = page.locator("#preview-3")
    expect(preview.get_by_role("heading", name="A heading", level=2)).to_be_visible()
    expect(preview).to_contain_text("not counted here")
    expect(preview.locator("img")).to_have_count(5)  # ![split\n](x) is an image to markdown, not to the checker
    expect(textarea).to_have_value(text)  # the page stayed; nothing was saved
    assert not Answer.objects.exists()


def test_uploaded_figure_shows_in_the_preview_of_an_answer(page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.get_by_role("link", name="Figures (0)").click()

    page.get_by_label("Image (PNG or JPEG)").set_input_files(
        files=[{"name": "plot.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}]
    )
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("alert")).to_contain_text("![plot](figures/plot.png)")
    page.get_by_role("link", name=f"Group {group1.number}").click()
    expect(page.get_by_role("link", name="Figures (1)")).to_be_visible()
    open_editor(page, 4)
    answer_box(page, 4).press_sequentially("Rejected rows: ![plot](figures/plot.png)")
    expect(page.locator(".image-count")).to_have_text("1")

    image = page.locator("#preview-4 img")
    expect(image).to_have_attribute("src", f"/groups/{group1.pk}/figures/plot.png")
    expect(image).to_have_js_property("naturalWidth", 40)


def test_a_stale_save_shows_the_conflict_and_the_merge_is_saved(new_page, live_server, login, group1):
    answer_save(
        report=report_for_group(group1),
        question=Question.objects.get(template=group1.course.template, number=3),
        text="First draft.",
        base_version=0,
        user=None,
    )
    alice, bob = new_page(), new_page()
    for page, name in ((alice, "alice"), (bob, "bob")):
        login(page, live_server, name, f"pw-{name}")
        open_editor(page, 3)

    answer_box(alice, 3).clear()
    answer_box(alice, 3).press_sequentially("Alice wrote this.")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.locator(".save-status")).to_have_text("✓ Question 3 saved (version 2).")
    answer_box(bob, 3).clear()
    answer_box(bob, 3).press_sequentially("Bob wrote that.")
    bob.get_by_role("button", name="Save", exact=True).click()

    conflict = bob.locator("#conflict")
    expect(conflict).to_contain_text("alice saved this answer while you were editing")
    expect(conflict).to_contain_text("alice saved version 2")
    expect(answer_box(bob, 3)).to_have_value("Bob wrote that.")
    expect(bob.locator("#newer-text")).to_have_text("Alice wrote this.")
    answer_box(bob, 3).fill("Alice wrote this. Bob wrote that.")
    bob.get_by_role("button", name="Save", exact=True).click()
    expect(bob.locator(".save-status")).to_have_text("✓ Question 3 saved (version 3).")
    expect(conflict).to_have_count(0)
    bob.keyboard.press("Escape")
    bob.locator("#question-3").get_by_role("link", name="History").click()

    expect(bob.get_by_role("rowheader")).to_have_text(["v3 current", "v2", "not saved (on v1)", "v1"])
    expect(bob.get_by_role("row").filter(has_text="not saved (on v1)")).to_contain_text("bob")
    answer = Answer.objects.get(report__group=group1, question__number=3)
    assert (answer.text, answer.version, answer.updated_by.username) == ("Alice wrote this. Bob wrote that.", 3, "bob")
    revisions = answer.revisions.select_related("author")
    assert [(r.version, r.kind, r.author and r.author.username, r.text) for r in revisions] == [
        (3, AnswerRevision.Kind.SAVED, "bob", "Alice wrote this. Bob wrote that."),
        (2, AnswerRevision.Kind.SAVED, "alice", "Alice wrote this."),
        (1, AnswerRevision.Kind.CONFLICT, "bob", "Bob wrote that."),
        (1, AnswerRevision.Kind.SAVED, None, "First draft."),
    ]


def test_student_of_another_group_gets_404(page, live_server, login, group1, group2):
    login(page, live_server, "charlie", "pw-charlie")

    response = page.goto(f"{live_server.url}/groups/{group1.pk}/")

    assert response is not None and response.status == 404
    expect(page.get_by_text("group 1")).to_have_count(0)


def test_after_the_deadline_the_server_refuses_a_save_and_the_report_is_read_only(
    page, live_server, login, course, group1
):
    login(page, live_server, "alice", "pw-alice")
    open_editor(page, 3)  # while the hand-in is still open
    course.deadline = timezone.now() - timedelta(minutes=1)
    course.save()

    answer_box(page, 3).press_sequentially("Too late.")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".save-status")).to_contain_text(
        re.compile(
            r"^Not saved: The hand-in closed on .+; the report can no longer be changed\. Your text is still here"
        )
    )
    expect(answer_box(page, 3)).to_have_value("Too late.")  # nothing typed is lost
    expect(answer_box(page, 3)).not_to_be_editable()
    page.goto(f"{live_server.url}/groups/{group1.pk}/")
    expect(page.locator("#deadline")).to_contain_text(re.compile(r"The hand-in closed on .+; the report is read-only"))
    expect(page.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    expect(page.get_by_role("link", name="View question 3")).to_be_visible()
    expect(page.get_by_label(FIRST_WEEK_1_ITEM)).to_be_disabled()
    assert not Answer.objects.exists()


def test_ticking_a_checklist_item_saves_it_at_once(page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    box = page.get_by_label(FIRST_WEEK_1_ITEM)
    expect(page.get_by_role("button", name="Save checklist", include_hidden=True)).to_be_hidden()
    expect(box).not_to_be_checked()

    box.check()

    expect(page.locator("#checklist-status")).to_have_text("Saved.")
    page.reload()
    expect(page.get_by_label(FIRST_WEEK_1_ITEM)).to_be_checked()
    mark = ChecklistMark.objects.get(report__group=group1, item__text=FIRST_WEEK_1_ITEM)
    assert (mark.checked, mark.mark, mark.updated_by.username) == (True, "x", "alice")


def test_report_fits_a_phone_and_tab_leads_from_the_answer_to_save(page, live_server, login, group1):
    page.set_viewport_size({"width": 390, "height": 800})
    login(page, live_server, "alice", "pw-alice")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    open_editor(page, 3)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_focused()
