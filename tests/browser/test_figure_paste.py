"""Figures by paste, drop and Insert button (figures.js) in a real browser, on the figures page's paste area and in
the answer editor: the image is uploaded and checked by the server, its snippet lands at the cursor on a line of its
own, and no failure takes a character out of the textarea.

A paste or a drop is a synthetic ClipboardEvent or DragEvent carrying a DataTransfer with a real image File, built in
the page from the bytes of a PNG made here: the same event a person's Ctrl+V or drop gives the page's script.
"""

import base64
import io
import re

from playwright.sync_api import Page, expect

from reports_app.models import Figure, FigureVersion
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group
from tests.helpers.images import noise_image

SEND = """([selector, data, name, type, kind]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const init = { bubbles: true, cancelable: true };
  const event = kind === "paste"
    ? new ClipboardEvent("paste", { ...init, clipboardData: transfer })
    : new DragEvent(kind, { ...init, dataTransfer: transfer });
  return document.querySelector(selector).dispatchEvent(event);
}"""
COUNT_INPUTS = """(selector) => {
  window.inputEvents = 0;
  document.querySelector(selector).addEventListener("input", () => (window.inputEvents += 1));
}"""
PASTE_AREA = "#figure-paste"


def png(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    noise_image(width, height).save(buffer, "PNG")
    return buffer.getvalue()


def send(page: Page, selector: str, data: bytes, name: str, kind: str, type: str = "image/png") -> bool:
    """Dispatch a paste, dragover or drop of one file at `selector`: False when the page's script took it over."""
    return page.evaluate(SEND, [selector, base64.b64encode(data).decode(), name, type, kind])


def open_figures(page: Page, live_server, login, group) -> None:
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{group.pk}/figures/")


def place_cursor(page: Page, selector: str, text: str, at: int) -> None:
    page.locator(selector).fill(text)
    page.evaluate("([s, at]) => document.querySelector(s).setSelectionRange(at, at)", [selector, at])


def test_a_pasted_image_is_uploaded_and_its_snippet_lands_at_the_cursor(page, live_server, login, group1):
    open_figures(page, live_server, login, group1)
    place_cursor(page, PASTE_AREA, "Intro text. More text.", 11)
    page.evaluate(COUNT_INPUTS, PASTE_AREA)
    data = png()

    taken_over = not send(page, PASTE_AREA, data, "image.png", "paste")

    area = page.locator(PASTE_AREA)
    snippet = r"!\[(pasted-\d{8}-\d{6})\]\(figures/\1\.png\)"
    expect(area).to_have_value(re.compile(rf"Intro text\.\n{snippet}\n More text\."))
    assert taken_over
    figure = Figure.objects.get(report__group=group1)
    assert re.fullmatch(r"pasted-\d{8}-\d{6}\.png", figure.name)
    assert figure.read_bytes() == data
    assert f"![{figure.name[:-4]}](figures/{figure.name})" in area.input_value()
    assert page.evaluate("window.inputEvents") >= 1  # the editor's counters, drafts and preview hear of it
    expect(page.locator("[data-figure-status]")).to_have_text(re.compile(rf"Uploaded {figure.name}\."))


def test_a_dropped_image_shows_the_drop_hint_and_is_uploaded(page, live_server, login, group1):
    open_figures(page, live_server, login, group1)
    place_cursor(page, PASTE_AREA, "Before\nAfter", 7)
    area = page.locator(PASTE_AREA)

    send(page, PASTE_AREA, png(), "loss.png", "dragover")
    expect(area).to_have_class(re.compile(r"\bfigure-drop-target\b"))
    send(page, PASTE_AREA, png(), "loss.png", "drop")

    expect(area).to_have_value("Before\n![loss](figures/loss.png)\nAfter")
    expect(area).not_to_have_class(re.compile(r"\bfigure-drop-target\b"))
    assert Figure.objects.get(report__group=group1).name == "loss.png"


def test_a_dropped_image_under_a_taken_name_asks_and_replaces(page, live_server, login, group1):
    figure_add(report=report_for_group(group1), data=png(4, 4), wanted_name="loss.png", user=None)
    open_figures(page, live_server, login, group1)
    questions = []

    def accept(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    send(page, PASTE_AREA, png(), "loss.png", "drop")

    expect(page.locator(PASTE_AREA)).to_have_value("![loss](figures/loss.png)\n")
    assert questions and questions[0].startswith("A figure named loss.png exists.")
    figure = Figure.objects.get(report__group=group1)
    assert (figure.name, figure.version, figure.read_bytes()) == ("loss.png", 2, png())
    assert FigureVersion.objects.get().file.read() == png(4, 4)


def test_a_dropped_image_under_a_taken_name_is_kept_beside_it_when_not_replacing(page, live_server, login, group1):
    figure_add(report=report_for_group(group1), data=png(4, 4), wanted_name="loss.png", user=None)
    open_figures(page, live_server, login, group1)
    page.on("dialog", lambda dialog: dialog.dismiss())

    send(page, PASTE_AREA, png(), "loss.png", "drop")

    expect(page.locator(PASTE_AREA)).to_have_value("![loss-2](figures/loss-2.png)\n")
    assert sorted(Figure.objects.values_list("name", flat=True)) == ["loss-2.png", "loss.png"]
    assert not FigureVersion.objects.exists()


def test_a_refused_image_says_why_and_leaves_the_text_as_it_was(page, live_server, login, group1):
    open_figures(page, live_server, login, group1)
    place_cursor(page, PASTE_AREA, "Every word stays.", 5)

    send(page, PASTE_AREA, b"\x89PNG\r\n\x1a\n" + b"not really " * 20, "broken.png", "drop")

    expect(page.locator("[data-figure-status]")).to_have_text(
        "broken.png was not uploaded. The file starts like an image but cannot be read to the end: it is damaged "
        "or incomplete."
    )
    expect(page.locator(PASTE_AREA)).to_have_value("Every word stays.")
    assert not Figure.objects.exists()


def test_a_dropped_file_that_is_no_image_is_not_sent_and_the_page_stays(page, live_server, login, group1):
    open_figures(page, live_server, login, group1)
    place_cursor(page, PASTE_AREA, "Every word stays.", 0)
    url = page.url

    taken_over = not send(page, PASTE_AREA, b"a,b\n1,2\n", "data.csv", "drop", type="text/csv")

    expect(page.locator("[data-figure-status]")).to_have_text(
        "data.csv is not an image, so it was not uploaded. Figures are PNG or JPEG images."
    )
    assert taken_over and page.url == url
    expect(page.locator(PASTE_AREA)).to_have_value("Every word stays.")


def test_the_insert_button_puts_the_snippet_at_the_cursor_and_undo_takes_it_out(page, live_server, login, group1):
    figure_add(report=report_for_group(group1), data=png(), wanted_name="runs.png", user=None)
    open_figures(page, live_server, login, group1)
    place_cursor(page, PASTE_AREA, "See:", 4)

    page.get_by_role("button", name="Insert figure runs.png").click()

    area = page.locator(PASTE_AREA)
    expect(area).to_have_value("See:\n![runs](figures/runs.png)\n")
    area.press("Control+z")
    expect(area).to_have_value("See:")


def test_in_the_answer_editor_a_paste_and_the_pickers_insert_land_in_the_answer(page, live_server, login, group1):
    figure_add(report=report_for_group(group1), data=png(), wanted_name="runs.png", user=None)
    login(page, live_server, "alice", "pw-alice")
    page.goto(f"{live_server.url}/groups/{group1.pk}/questions/3/")
    answer = page.locator("textarea[data-figure-upload]")
    answer.fill("Our pipeline:")

    page.get_by_role("button", name="Insert figure runs.png").click()
    expect(answer).to_have_value("Our pipeline:\n![runs](figures/runs.png)\n")
    send(page, "textarea[data-figure-upload]", png(5, 5), "image.png", "paste")

    expect(answer).to_have_value(re.compile(r"\n!\[runs\]\(figures/runs\.png\)\n!\[pasted-[\d-]+\]\(figures/pasted-"))
    pasted = Figure.objects.exclude(name="runs.png").get()
    expect(page.get_by_role("button", name=f"Insert figure {pasted.name}")).to_be_visible()  # the picker shows it
