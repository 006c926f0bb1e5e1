"""Standard hand-in HTML, sanitizing and the self-contained grading document. Pure: no database."""

import base64
import io

import markdown
import pytest
from PIL import Image

from reports_app.engine import rendering
from reports_app.engine.rendering import RenderError, figure_name, grading_html, image_type, sanitize, standard_html
from tests.conftest import read_fixture
from tests.helpers.hostile import A_LIST, BRACKETS, NESTED

FRONT_MATTER = "---\nlayout: default\ntitle: Demo report\n---\n\n"


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- standard hand-in HTML ---------------------------------------------------------------------------------------


def test_standard_html_is_python_markdown_of_the_report():
    text = read_fixture("filled.md")
    assert standard_html(text) == markdown.markdown(text)


def test_standard_html_leaves_out_the_front_matter():
    text = read_fixture("filled.md")
    assert standard_html(FRONT_MATTER + text) == markdown.markdown(text)


def test_standard_html_does_not_carry_link_references_from_one_report_to_the_next():
    assert standard_html("[ref]: https://example.com\n\nsee [it][ref]\n") == (
        '<p>see <a href="https://example.com">it</a></p>'
    )
    assert standard_html("see [it][ref]\n") == "<p>see [it][ref]</p>"


def test_standard_html_keeps_raw_html_like_the_course_renderer():
    assert "<script>alert(1)</script>" in standard_html("text\n\n<script>alert(1)</script>\n")


# --- sanitizing --------------------------------------------------------------------------------------------------


def test_sanitize_drops_script_elements_and_their_content():
    assert sanitize("<p>a<script>alert(1)</script>b</p>") == "<p>ab</p>"


def test_sanitize_drops_event_handlers():
    assert sanitize('<img src="figures/a.png" onerror="alert(1)">') == '<img src="figures/a.png">'


def test_sanitize_drops_javascript_links_and_images():
    cleaned = sanitize('<a href="javascript:alert(1)">x</a><img src="javascript:alert(2)">')
    assert "javascript" not in cleaned
    assert cleaned == '<a rel="noopener noreferrer nofollow">x</a><img>'


def test_sanitize_drops_iframes_and_style_elements():
    cleaned = sanitize('<iframe src="https://example.com"></iframe><style>p { color: red }</style><p>kept</p>')
    assert cleaned == "<p>kept</p>"


def test_sanitize_drops_data_uris_written_by_students():
    assert sanitize('<img src="data:image/svg+xml;base64,PHN2Zz4=">') == "<img>"


def test_sanitize_keeps_ordinary_markdown_output():
    fragment = '<h2>T</h2><p><strong>b</strong> <a href="https://example.com">l</a></p><ul><li>i</li></ul>'
    assert sanitize(fragment) == fragment.replace(
        '<a href="https://example.com">', '<a href="https://example.com" rel="noopener noreferrer nofollow">'
    )


# --- figures -----------------------------------------------------------------------------------------------------


def test_figure_names_are_read_from_the_usual_paths():
    assert figure_name("figures/overview.png") == "overview.png"
    assert figure_name("./figures/overview.png") == "overview.png"
    assert figure_name("reports/figures/overview.png?raw=true") == "overview.png"
    assert figure_name("figures/sub/overview.png") is None
    assert figure_name("https://example.com/figures/overview.png") is None


def test_image_type_is_judged_by_content():
    assert image_type(tiny_png()) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert image_type(b"GIF89a\x01\x00\x01\x00") is None
    assert image_type(b"<html></html>") is None


# --- the grading document ----------------------------------------------------------------------------------------


def test_grading_html_embeds_a_png_figure_as_a_data_uri():
    png = tiny_png()
    document = grading_html(read_fixture("filled.md"), title="Group 7", figures={"overview.png": png})
    expected = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    assert f'<img alt="diagram" src="{expected}">' in document
    assert document.startswith("<!DOCTYPE html>\n")
    assert "<title>Group 7</title>" in document


def test_grading_html_leaves_a_missing_figure_unembedded():
    document = grading_html(read_fixture("filled.md"), title="Group 7", figures={"overview.png": tiny_png()})
    assert '<img alt="runs" src="figures/history.png">' in document
    assert document.count("data:image/png;base64,") == 1


def test_grading_html_does_not_embed_bytes_that_are_not_png_or_jpeg():
    figures = {"history.png": b"GIF89a\x01\x00\x01\x00", "run_detail.png": b"<html><script>alert(1)</script></html>"}
    document = grading_html(read_fixture("filled.md"), title="Group 7", figures=figures)
    assert "base64," not in document
    assert '<img alt="runs" src="figures/history.png">' in document
    assert '<img alt="one run" src="figures/run_detail.png">' in document


def test_grading_html_contains_no_script_from_the_report_or_the_title():
    report = read_fixture("filled.md") + '\n<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n'
    document = grading_html(report, title="<script>alert(3)</script>", figures={})
    assert "<script" not in document
    assert "onerror" not in document
    assert "<title>&lt;script&gt;alert(3)&lt;/script&gt;</title>" in document


def test_grading_html_forbids_fetching_anything():
    document = grading_html("# T\n", title="T", figures={})
    assert "default-src 'none'; img-src data:" in document


def test_the_grading_header_comes_first_and_escapes_every_value():
    hostile = "<script>alert(1)</script>"
    header = rendering.GradingHeader(
        course="C1",
        group=f"Group 7 · {hostile}",
        members=((f"{hostile} <a@example.org>", hostile), ("bo@example.org", "")),
        invited=((hostile, ""),),
        commit=hostile,
        commit_time="2026-01-21 01:04 CET",
        no_commit="never scraped",
        deadline="2026-01-21 00:59 CET",
        late=True,
        passed=1,
        answered=2,
        total=3,
        stops="",
        verdicts=(rendering.HeaderVerdict(1, "pass", "P", "passes", f'"{hostile}'),),
    )
    document = grading_html("# Report\n\nText.\n", title="T", figures={}, header=header)

    assert "<script" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;a@example.org&gt; · &lt;script&gt;" in document
    assert '<li class="verdict-pass" title="&quot;&lt;script&gt;alert(1)&lt;/script&gt;">Q1 P</li>' in document
    assert '<strong class="late">late: after the deadline, 2026-01-21 00:59 CET</strong>' in document
    assert document.index('id="grading-header"') < document.index("<h1>Report</h1>")
    assert 'id="grading-header"' not in grading_html("# Report\n", title="T", figures={})


# --- text that cannot be rendered ----------------------------------------------------------------------------------


def test_a_recursion_error_in_process_leaves_no_state_behind_for_the_next_text():
    with pytest.raises(RecursionError):
        rendering.markdown_html(NESTED)
    assert rendering.markdown_html(A_LIST) == markdown.markdown(A_LIST)


def test_a_recursion_error_in_the_worker_says_how_deep_and_the_next_render_is_whole(short_budget):
    with pytest.raises(RenderError, match=r"^nested 500 levels deep$"):
        rendering.render_markdown(NESTED)
    assert rendering.render_markdown(A_LIST) == markdown.markdown(A_LIST)
    assert rendering.markdown_html(A_LIST) == markdown.markdown(A_LIST)


@pytest.mark.timeout(30)
def test_a_render_past_the_budget_is_given_up_and_the_next_render_is_whole(short_budget):
    with pytest.raises(RenderError, match=r"^the renderer took longer than 1 s$"):
        rendering.render_markdown(BRACKETS)
    assert rendering.render_markdown(A_LIST) == markdown.markdown(A_LIST)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", [NESTED, BRACKETS], ids=["nested", "brackets"])
def test_the_hand_in_html_is_python_markdowns_output_or_an_error_never_a_substitute(short_budget, text):
    with pytest.raises(RenderError):
        standard_html("# Report\n\n" + text)
    with pytest.raises(RenderError):
        grading_html("# Report\n\n" + text, title="T", figures={})
    with pytest.raises(RenderError):
        rendering.answer_html(text, figure_url=lambda name: None)


def test_unrendered_html_shows_why_and_the_text_escaped():
    html = rendering.unrendered_html("<b>1. 1.</b> & more", "nested 2 levels deep", what="Question 6")
    assert "Question 6 cannot be rendered: nested 2 levels deep. It is shown as typed." in html
    assert "&lt;b&gt;1. 1.&lt;/b&gt; &amp; more" in html and "<b>" not in html


def test_a_prompt_that_cannot_be_rendered_is_shown_as_typed(short_budget):
    html = rendering.prompt_html("> **Which group?**\n>\n> " + "1. " * 500 + "\n>\n> Answer:")
    assert "This prompt cannot be rendered: nested 501 levels deep." in html
    assert "&gt; **Which group?**" in html and "Answer:" not in html
