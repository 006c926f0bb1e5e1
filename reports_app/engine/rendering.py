"""Report -> README markdown, the standard hand-in HTML, and a self-contained, sanitized grading HTML document.

The standard hand-in is what the course renders: Python-Markdown's `markdown.markdown()` with no extensions, of the
README minus its front matter. It is *not* safe to show on our pages (students write raw HTML into answers); every
page and the grading document go through `sanitize()` instead.
"""

from __future__ import annotations

import base64
import functools
import html
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import markdown
import nh3

from . import bounded, diffing
from .figures import figure_name, image_type
from .parsing import ANSWER_MARKER, split_front_matter

_local = threading.local()

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
GRADING_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

GRADING_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; }
h1, h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
blockquote { margin: 0; padding: 0 1em; color: #59636e; border-left: .25em solid #d0d7de; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 85%; }
pre { background: #f6f8fa; padding: 1em; overflow: auto; border-radius: 6px; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: .3em .6em; }
.grading-header { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem 1rem; margin-bottom: 2rem;
                  background: #f6f8fa; font-size: 15px; }
.grading-header dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
.grading-header dt { font-weight: 600; } .grading-header dd { margin: 0; }
.grading-header ul { margin: 0; padding-left: 1.2rem; }
.late { color: #9a2600; font-weight: 600; } .muted { color: #59636e; }
ol.verdicts { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; padding: 0; margin: .3rem 0; }
ol.verdicts li { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 85%; padding: 0 .35em;
                 border-radius: 3px; }
.verdict-pass { background: #d1e7dd; color: #0a3622; } .verdict-words { background: #f8d7da; color: #58151c; }
.verdict-images { background: #fff3cd; color: #664d03; } .verdict-missing { background: #e9ecef; color: #495057; }
.verdict-stops { background: #842029; color: #fff; }
.grading-header p [class^="verdict-"] { padding: 0 .35em; border-radius: 3px; }
"""


@dataclass(frozen=True)
class HeaderVerdict:
    """One question's verdict as the grading header shows it (plain text; the caller decides the words)."""

    number: int
    kind: str  # pass, words, images, missing or stops: the dashboard's verdicts, which give the colour
    letter: str  # P, W, I, M or S
    label: str  # the verdict in words, e.g. "not answered"
    detail: str  # the course checker's message


@dataclass(frozen=True)
class GradingHeader:
    """What a grader reads above the report: who, which commit, and the course checker's verdicts.

    Plain text throughout (times already in the site's time zone, with its name); every value is escaped here.
    """

    course: str  # "C1 · Course one"
    group: str  # "Group 7 · Otters"
    members: tuple[tuple[str, str], ...]  # (who, study number or "")
    invited: tuple[tuple[str, str], ...]  # (who, study number or "") of the people invited who have not joined yet
    commit: str  # the sha of the last scrape's commit, "" when there is none
    commit_time: str  # "2026-01-21 01:04 CET"
    no_commit: str  # what to say without a commit, e.g. "never scraped"
    deadline: str  # the group's deadline, "" when there is none
    late: bool  # the commit is dated after the deadline
    passed: int  # the course checker's count (0 when it stops on the file)
    answered: int
    total: int
    stops: str  # why the course checker stops on the file, "" when it reads it to the end
    verdicts: tuple[HeaderVerdict, ...]


def grading_header_html(header: GradingHeader) -> str:
    """The box above the report on a grading page: group, members, commit, and a chip per question (its letter
    and colour, titled with the checker's message), the letters explained, the messages in a closed <details>."""
    e = html.escape

    def muted(text: str) -> str:
        return f'<span class="muted">{e(text)}</span>'

    people = [f"<li>{e(who)} · {e(number) or muted('no study number')}</li>" for who, number in header.members]
    people += [
        f"<li>{e(who)} · {e(number) or muted('no study number')} · {muted('invited, has not joined')}</li>"
        for who, number in header.invited
    ]
    commit = (
        f"<code>{e(header.commit)}</code> committed {e(header.commit_time)}"
        if header.commit
        else muted(header.no_commit)
    )
    if header.late:
        commit += f' <strong class="late">late: after the deadline, {e(header.deadline)}</strong>'
    elif header.deadline:
        commit += " " + muted(f"(deadline {header.deadline})")
    checker = f"passed {header.passed}/{header.total} · answered {header.answered}/{header.total}"
    if header.stops:
        checker += f' <strong class="late">It stops on this file: {e(header.stops)}</strong>'
    chips = "".join(
        f'<li class="verdict-{e(v.kind)}" title="{e(v.detail)}">Q{v.number} {e(v.letter)}</li>' for v in header.verdicts
    )
    legend = {(v.kind, v.letter): v.label for v in header.verdicts}  # the letters there are, in order of appearance
    explained = " · ".join(f'<span class="verdict-{e(k)}">{e(x)}</span> {e(label)}' for (k, x), label in legend.items())
    messages = "".join(
        f"<tr><th>Q{v.number}</th><td>{e(v.letter)} {e(v.label)}</td><td>{e(v.detail)}</td></tr>"
        for v in header.verdicts
    )
    return (
        '<section class="grading-header" id="grading-header">\n'
        f"<p><strong>{e(header.group)}</strong> · {e(header.course)}</p>\n<dl>\n"
        f"<dt>Members</dt><dd><ul>{''.join(people) or '<li>none</li>'}</ul></dd>\n"
        f"<dt>Commit</dt><dd>{commit}</dd>\n"
        f"<dt>Course checker</dt><dd>{checker}</dd>\n</dl>\n"
        f'<ol class="verdicts">{chips}</ol>\n<p class="muted">{explained}</p>\n'
        "<details><summary>The course checker's message on each question</summary>\n"
        f"<table>{messages}</table>\n</details>\n</section>\n"
    )


class RenderError(Exception):
    """Markdown that cannot be rendered within its budget; str() says why, for people ("nested 500 levels deep")."""


def markdown_html(text: str) -> str:
    """`markdown.markdown(text)` in this process, with no budget: call `render_markdown` for anyone's text.

    One Markdown instance per thread is reused (building one costs more than a page); after any exception it is
    dropped, because `reset()` does not clear the state a failed parse leaves in it (its list nesting, say).
    """
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = markdown.Markdown()
    try:
        return md.reset().convert(text)
    except BaseException:
        _local.md = None
        raise


def render_markdown(text: str) -> str:
    """`markdown.markdown(text)` under the time, memory and recursion budget of `bounded`; RenderError past it."""
    try:
        return bounded.run(markdown_html, text)
    except bounded.OverBudget as error:
        raise RenderError(f"the renderer {error}") from None
    except bounded.Failed as error:
        if error.kind == "RecursionError":
            raise RenderError(f"nested {nesting_depth(text)} levels deep") from None
        raise RenderError(f"the renderer failed ({error.kind})") from None


_NESTING = re.compile(r"[ \t]*(?:>|[*+-][ \t]|\d{1,9}[.)][ \t])")


def nesting_depth(text: str) -> int:
    """How deep lists and quotes nest at most: the markers opening one line, e.g. `1. 1. - > x` is 4 (for messages).

    >>> nesting_depth("plain\\n1. 1. - > deep\\n> > quoted")
    4
    """
    deepest = 0
    for line in text.split("\n"):
        depth, at = 0, 0
        while match := _NESTING.match(line, at):
            depth, at = depth + 1, match.end()
        deepest = max(deepest, depth)
    return deepest


def standard_html(readme: str) -> str:
    """The course's hand-in HTML: `markdown.markdown()` of the README minus front matter, byte for byte.

    RenderError when it cannot be made within the budget: never anything but Python-Markdown's own output.
    """
    return render_markdown(split_front_matter(readme)[1])


def unrendered_html(text: str, why: str, *, what: str = "This text") -> str:
    """What our pages show instead of markdown that cannot be rendered: why, then the text itself, escaped."""
    return (
        f'<div class="alert alert-warning render-error" role="alert">{html.escape(what)} cannot be rendered: '
        f'{html.escape(why)}. It is shown as typed.</div>\n<pre class="unrendered">{html.escape(text)}</pre>'
    )


def answer_html(text: str, *, figure_url: Callable[[str], str | None]) -> str:
    """One answer as our pages show it: rendered like the hand-in, sanitized, figures shown from `figure_url(name)`.

    Raises RenderError (the caller says which question, and may fall back to `unrendered_html`).
    """
    return sanitize(render_markdown(text), figure_src=figure_url)


@functools.lru_cache(maxsize=1024)
def prompt_html(prompt: str) -> str:
    """A question's prompt from the template, without its `Answer:` line, as safe HTML (rendered once per process).

    A prompt that cannot be rendered is shown as typed, with why; that is cached too, so that a hostile template
    costs one budget per process, not one per page view.
    """
    text = _prompt_text(prompt)
    try:
        return sanitize(render_markdown(text))
    except RenderError as error:
        return unrendered_html(text, str(error), what="This prompt")


def _prompt_text(prompt: str) -> str:
    lines = prompt.strip("\n").split("\n")
    if lines and ANSWER_MARKER in lines[-1]:
        lines.pop()
    while lines and lines[-1].strip() in {"", ">"}:
        lines.pop()
    return "\n".join(lines)


def data_uri(data: bytes) -> str | None:
    mime = image_type(data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}" if mime else None


def sanitize(fragment: str, *, figure_src: Callable[[str], str | None] | None = None) -> str:
    """HTML from student markdown -> HTML safe to show: no script, style, event handler or javascript: URL.

    `figure_src(name)` gives the URL to show figure `name` by (a data: URI or one of our URLs), None to leave it.
    """

    def rewrite(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src" and figure_src is not None:
            name = figure_name(value)
            if name is not None and (url := figure_src(name)) is not None:
                return url
        return value

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        attribute_filter=rewrite,
        link_rel="noopener noreferrer nofollow",
    )


def grading_html(
    readme: str,
    *,
    title: str,
    figures: Mapping[str, bytes],
    standard: str | None = None,
    header: GradingHeader | None = None,
) -> str:
    """A whole HTML document for graders: sanitized, inline CSS, figures embedded as data: URIs, nothing fetched;
    `header` (who, which commit, the verdicts) above the report.

    `standard` is `standard_html(readme)` when the caller has it already (rendering is most of the cost).
    """
    sources = {name: uri for name, data in figures.items() if (uri := data_uri(data))}
    body = sanitize(standard_html(readme) if standard is None else standard, figure_src=sources.get)
    if header is not None:
        body = grading_header_html(header) + body
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{GRADING_CSP}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{GRADING_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def hand_in_pages(
    readme: str, title: str, figures: Mapping[str, bytes], header: GradingHeader | None = None
) -> tuple[str, str]:
    """The standard and the grading HTML of a README, its markdown rendered once for both."""
    standard = standard_html(readme)
    return standard, grading_html(readme, title=title, figures=figures, standard=standard, header=header)


_TOKENS = re.compile(r"\s+|[^\s]+")
WORD_DIFF_MAX_TOKENS = diffing.DIFF_MAX_ITEMS  # words and the spaces between them, per side
WORD_DIFF_SIMPLIFIED = "Diff simplified: the texts are too long to compare word by word."


@dataclass(frozen=True)
class WordDiff:
    runs: list[tuple[str, str]]  # (op, text); op is "same", "del" or "add"
    simplified: bool = False  # the changed middle was too long: it is one "del" and one "add"


def word_diff(old: str, new: str, *, max_tokens: int = WORD_DIFF_MAX_TOKENS) -> WordDiff:
    """(op, text) runs that turn `old` into `new`, word by word; op is "same", "del" or "add".

    Texts of more than `max_tokens` tokens are compared as `diffing.bounded_opcodes` says: the start and the end
    both share, and the middle word by word while it is short enough, else as one deletion and one addition (then
    the result is `simplified`).

    >>> word_diff("the quick fox", "the slow fox").runs
    [('same', 'the '), ('del', 'quick'), ('add', 'slow'), ('same', ' fox')]
    >>> word_diff("a b c d", "a x y d", max_tokens=2)
    WordDiff(runs=[('same', 'a '), ('del', 'b c'), ('add', 'x y'), ('same', ' d')], simplified=True)
    """
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    codes, simplified = diffing.bounded_opcodes(a, b, max_items=max_tokens)
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in codes:
        if op == "equal":
            runs.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("add", "".join(b[j1:j2])))
    return WordDiff(runs, simplified)
