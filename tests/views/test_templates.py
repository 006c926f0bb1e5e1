"""Our templates themselves: Django's {# #} comment is one line only; a longer one is printed on the page as text."""

from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_comment_spans_lines(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        assert line.count("{#") == line.count("#}"), f"{path.name}:{number}: use {{% comment %}} for a long comment"
