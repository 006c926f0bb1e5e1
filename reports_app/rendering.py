"""Report -> README markdown, the standard hand-in HTML, and a self-contained, sanitized grading HTML document.

The standard hand-in is what the course renders: Python-Markdown's `markdown.markdown()` with no extensions, of the
README minus its front matter. It is *not* safe to show on our pages (students write raw HTML into answers); every
page and the grading document go through `sanitize()` instead.
"""

from __future__ import annotations

import base64
import html
import threading
from collections.abc import Mapping

import markdown
import nh3

from .parsing import split_front_matter

_local = threading.local()

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
GRADING_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}

GRADING_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; }
h1, h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
blockquote { margin: 0; padding: 0 1em; color: #59636e; border-left: .25em solid #d0d7de; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 85%; }
pre { background: #f6f8fa; padding: 1em; overflow: auto; border-radius: 6px; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: .3em .6em; }
"""


def standard_html(readme: str) -> str:
    """The course's hand-in HTML: `markdown.markdown()` of the README minus front matter, byte for byte."""
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = markdown.Markdown()
    return md.reset().convert(split_front_matter(readme)[1])


def image_type(data: bytes) -> str | None:
    """The MIME type of PNG or JPEG bytes, judged by content; None for anything else."""
    return next((mime for magic, mime in IMAGE_TYPES.items() if data.startswith(magic)), None)


def data_uri(data: bytes) -> str | None:
    mime = image_type(data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}" if mime else None


def figure_name(src: str) -> str | None:
    """`figures/x.png`, `./figures/x.png`, `reports/figures/x.png` -> `x.png`; None for anything else."""
    path = src.split("?", 1)[0].split("#", 1)[0].removeprefix("./")
    for prefix in ("reports/figures/", "figures/"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return path[len(prefix) :]
    return None


def sanitize(fragment: str, *, figure_src: Mapping[str, str] | None = None) -> str:
    """HTML from student markdown -> HTML safe to show: no script, style, event handler or javascript: URL.

    `figure_src` maps figure file names to the URL to show them by (a data: URI or one of our media URLs).
    """

    def rewrite(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src" and figure_src is not None:
            name = figure_name(value)
            if name is not None and name in figure_src:
                return figure_src[name]
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


def grading_html(readme: str, *, title: str, figures: Mapping[str, bytes]) -> str:
    """A whole HTML document for graders: sanitized, inline CSS, figures embedded as data: URIs, nothing fetched."""
    sources = {name: uri for name, data in figures.items() if (uri := data_uri(data))}
    body = sanitize(standard_html(readme), figure_src=sources)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{GRADING_CSP}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{GRADING_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
