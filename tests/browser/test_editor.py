"""The answer editor in a real browser: drafts that survive a closed tab, an ended session and a stale CSRF token;
Ctrl+S that stays; the conflict's merge helpers; a whole report edited by keyboard alone on the report page."""

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import Page, expect

from reports_app.models import Answer, AnswerRevision, Draft, Question
from tests.helpers.pages import save


def editor_url(live_server, group, number: int = 3) -> str:
    return f"{live_server.url}/groups/{group.pk}/questions/{number}/"


def until(condition, seconds: float = 10.0):
    """Wait for a condition the browser brings about in the database (the beacon on closing a tab, say)."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)
    return result


def test_a_draft_survives_a_closed_tab_and_comes_back_in_another_browser(new_page, live_server, login, group1):
    page = new_page()
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    page.get_by_label("Answer to question 3").fill("Typed for an hour, never saved")
    page.close(run_before_unload=True)  # the tab is closed before any autosave: its beacon leaves the draft

    draft = until(lambda: Draft.objects.filter(author__username="alice").first())
    assert (draft.text, draft.base_version) == ("Typed for an hour, never saved", 0)
    assert not Answer.objects.filter(version__gt=0).exists()

    elsewhere = new_page()  # another browser: nothing in its storage, the server's draft alone
    login(elsewhere, live_server, "alice", "pw-alice")
    elsewhere.goto(editor_url(live_server, group1))
    expect(elsewhere.get_by_label("Answer to question 3")).to_have_value("Typed for an hour, never saved")
    expect(elsewhere.get_by_text("Restored your unsaved draft")).to_be_visible()

    elsewhere.get_by_label("Answer to question 3").press("Control+s")
    expect(elsewhere.locator(".save-status")).to_have_text("✓ Question 3 saved (version 1).")
    assert Answer.objects.get(question__number=3).text == "Typed for an hour, never saved"
    assert not Draft.objects.exists()


def test_text_typed_offline_is_kept_in_the_browser_and_restored(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    page.context.set_offline(True)
    textarea = page.get_by_label("Answer to question 3")
    textarea.fill("Written on a train without network")
    textarea.press("Control+s")
    expect(page.locator(".save-status")).to_contain_text("Not saved: The server could not be reached.")
    expect(textarea).to_have_value("Written on a train without network")

    page.context.set_offline(False)
    page.goto(editor_url(live_server, group1))  # the beacon could not leave either: the browser's copy comes back
    expect(page.get_by_label("Answer to question 3")).to_have_value("Written on a train without network")
    expect(page.get_by_text("Restored text typed in this browser")).to_be_visible()


def test_a_save_after_the_session_ended_logs_in_without_leaving_the_page(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    textarea = page.get_by_label("Answer to question 3")
    textarea.fill("Kept through an expired session")
    Session.objects.all().delete()  # the session expires on the server

    textarea.press("Control+s")
    dialog = page.get_by_role("dialog", name="Log in again to save")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Password").fill("pw-alice")
    dialog.get_by_role("button", name="Log in and save").click()

    expect(page.locator(".save-status")).to_have_text("✓ Question 3 saved (version 1).")
    expect(textarea).to_have_value("Kept through an expired session")
    assert Answer.objects.get(question__number=3).text == "Kept through an expired session"


def test_a_save_after_logging_in_again_in_another_tab_goes_through(new_page, live_server, login, group1):
    """The other tab's login rotated the CSRF token: the editor fetches a fresh one and sends again."""
    page = new_page()
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    textarea = page.get_by_label("Answer to question 3")
    textarea.fill("Kept through a CSRF failure")

    other = page.context.new_page()
    other.goto(f"{live_server.url}/groups/{group1.pk}/")
    other.get_by_role("button", name="Log out").click()
    login(other, live_server, "alice", "pw-alice")

    textarea.press("Control+s")
    expect(page.locator(".save-status")).to_have_text("✓ Question 3 saved (version 1).")
    assert Answer.objects.get(question__number=3).text == "Kept through a CSRF failure"


def test_a_save_after_the_deadline_keeps_the_text_to_copy(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    textarea = page.get_by_label("Answer to question 3")
    textarea.fill("Two minutes too late")
    group1.course.deadline = timezone.now() - timedelta(minutes=2)
    group1.course.save()

    textarea.press("Control+s")
    expect(page.locator(".save-status")).to_contain_text("The hand-in closed on")
    expect(textarea).to_have_value("Two minutes too late")
    expect(textarea).not_to_be_editable()
    assert not Answer.objects.exists()


def test_a_conflict_shows_what_differs_and_offers_starting_points(page: Page, live_server, login, group1):
    save(group1, 3, "The shared first line.")
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    textarea = page.get_by_label("Answer to question 3")
    textarea.fill("The shared first line. Alice adds this.")
    save(group1, 3, "The shared first line. Bob adds that.", username="bob")

    textarea.press("Control+s")
    conflict = page.locator(".conflict")
    expect(conflict.get_by_role("heading")).to_have_text("bob saved this answer while you were editing")
    expect(conflict.locator(".diff del")).to_have_text(["Bob", "that."])
    expect(conflict.locator(".diff ins")).to_have_text(["Alice", "this."])

    conflict.get_by_role("button", name="both (mine, then version 2)").click()
    expect(textarea).to_have_value("The shared first line. Alice adds this.\n\nThe shared first line. Bob adds that.")
    conflict.get_by_role("button", name="version 2", exact=True).click()
    expect(textarea).to_have_value("The shared first line. Bob adds that.")
    conflict.get_by_role("button", name="my text").click()
    textarea.press("End")
    textarea.type(" Merged.")
    textarea.press("Control+s")
    expect(page.locator(".save-status")).to_have_text("✓ Question 3 saved (version 3).")
    assert Answer.objects.get(question__number=3).text == "The shared first line. Alice adds this. Merged."
    assert AnswerRevision.objects.filter(kind="conflict").count() == 1


def test_a_whole_report_by_keyboard_alone(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{group1.pk}/")
    numbers = list(Question.objects.filter(template=group1.course.template).values_list("number", flat=True))
    page.locator("a[data-inline-edit]").first.focus()
    page.keyboard.press("Enter")
    for number in numbers:
        textarea = page.locator(f"#text-{number}")
        expect(textarea).to_be_focused()
        page.keyboard.type(f"Answer {number}, typed without a mouse.")
        page.keyboard.press("Alt+ArrowDown" if number != numbers[-1] else "Control+s")
    expect(
        page.locator(f"#text-{numbers[-1]}").locator("xpath=ancestor::*[@data-editor]").locator(".save-status")
    ).to_contain_text("saved")
    page.keyboard.press("Escape")
    expect(page.locator("[data-editor]")).to_have_count(0)
    expect(page.locator(f"#question-{numbers[-1]} a[data-inline-edit]")).to_be_focused()
    texts = dict(Answer.objects.filter(report__group=group1).values_list("question__number", "text"))
    assert texts == {n: f"Answer {n}, typed without a mouse." for n in numbers}
    expect(page.locator(f"#question-{numbers[0]} .answer")).to_have_text(f"Answer {numbers[0]}, typed without a mouse.")


def test_the_preview_follows_the_text_and_warns_like_the_checker(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    textarea = page.get_by_label("Answer to question 3")
    textarea.fill("Some *emphasis*")
    expect(page.locator("#preview-3 em")).to_have_text("emphasis")
    textarea.fill("First part\n\n## a heading inside")
    expect(page.locator("#preview-3 h2")).to_have_text("a heading inside")
    expect(page.locator(".warnings li").first).to_be_visible()
    assert not Answer.objects.exists()


def test_the_report_page_points_to_text_typed_here_and_not_saved(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    report = f"{live_server.url}/groups/{group1.pk}/"
    page.goto(report)
    page.get_by_role("link", name="Edit question 5", exact=True).click()
    page.context.set_offline(True)
    page.get_by_label("Answer to question 5 (markdown)").fill("Typed in place, then the network went")
    context = page.context
    page.close()  # offline: neither an autosave nor the closing tab's beacon reaches the server
    context.set_offline(False)
    assert not Draft.objects.exists()

    page = context.new_page()
    page.goto(report)
    expect(page.locator("#question-5 .local-draft-waiting")).to_contain_text("Text typed in this browser on")
    page.get_by_role("link", name="Edit question 5", exact=True).click()
    expect(page.get_by_label("Answer to question 5 (markdown)")).to_have_value("Typed in place, then the network went")
    page.keyboard.press("Control+s")
    expect(page.locator(".save-status")).to_have_text("✓ Question 5 saved (version 1).")
    page.reload()
    expect(page.locator(".local-draft-waiting")).to_have_count(0)


def test_screen_readers_hear_only_changes_of_verdict(page: Page, live_server, login, group1):
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    textarea = page.get_by_label("Answer to question 3 (markdown)")
    announce = page.locator("[data-editor] .announce")
    expect(page.locator("#counters-3")).not_to_have_attribute("aria-live", "polite")  # counts change on every key
    expect(announce).to_have_attribute("aria-live", "polite")

    textarea.press_sequentially("one two")
    expect(announce).to_have_text("Question 3 fails.")
    textarea.press_sequentially(" three")
    expect(announce).to_have_text("Question 3 fails.")  # the count changed, the verdict did not: nothing new
    textarea.fill("")
    expect(announce).to_have_text("Question 3 not answered.")


def test_the_conflict_page_without_the_script_offers_the_same_starting_points(new_page, live_server, login, group1):
    """A conflict shown by the server's page (a plain form post) gets the merge helpers once the script runs."""
    save(group1, 3, "Bob's text.", username="bob")
    page = new_page()
    login(page, live_server, "alice", "pw-alice")
    page.goto(editor_url(live_server, group1))
    page.evaluate(
        """() => {
        const form = document.querySelector('.answer-form');
        form.querySelector('[name=version]').value = '0';
        form.querySelector('[name=text]').value = "Alice's text.";
        HTMLFormElement.prototype.submit.call(form);
    }"""
    )
    conflict = page.locator("#conflict")
    expect(conflict).to_contain_text("bob saved version 1")
    conflict.get_by_role("button", name="both (mine, then version 1)").click()
    expect(page.get_by_label("Answer to question 3 (markdown)")).to_have_value("Alice's text.\n\nBob's text.")
