"""Reading what graders get: the header of a grading page, and the entries of a zip with their modes; saving a grade
as a grader would."""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Header:
    """The header box of a grading page, as text: its first line, one line per person, the commit and the course
    checker's line, and per question chip (class, title, text)."""

    title: str = ""
    people: list[str] = field(default_factory=list)
    commit: str = ""
    checker: str = ""
    chips: list[tuple[str, str, str]] = field(default_factory=list)
    legend: str = ""


class _HeaderParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.header = Header()
        self.inside = False  # within the header's <section>
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.term = ""

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "section" and attributes.get("id") == "grading-header":
            self.inside = True
        if self.inside and tag in ("p", "li", "dt", "dd"):
            self.stack.append((tag, attributes))
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "section":
            self.inside = False
            return
        if not self.stack or self.stack[-1][0] != tag:
            return
        _, attributes = self.stack.pop()
        text = " ".join("".join(self.text).split())
        header = self.header
        if tag == "dt":
            self.term = text
        elif tag == "li" and "class" in attributes:
            header.chips.append((attributes["class"], attributes.get("title", ""), text))
        elif tag == "li" and self.term == "Members":
            header.people.append(text)
        elif tag == "dd" and self.term == "Commit":
            header.commit = text
        elif tag == "dd" and self.term == "Course checker":
            header.checker = text
        elif tag == "p" and not header.title:
            header.title = text
        elif tag == "p":
            header.legend = text

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text.append(data)


def grading_header(document: str) -> Header:
    """The header of a grading page; fails unless it comes before the report (the first <h1> of the README)."""
    assert document.index('<section class="grading-header"') < document.index("<h1")
    parser = _HeaderParser()
    parser.feed(document)
    return parser.header


def zip_modes(data: bytes) -> dict[str, str]:
    """Each entry of a zip by name, with the mode it extracts with, e.g. '-rw-r--r--' or 'drwxr-xr-x'."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: stat.filemode(info.external_attr >> 16) for info in archive.infolist()}


def save_grade(group, number: int, user, items=(), adjustment="0", comment="", base_version: int = 0):
    """services.grading.grade_save with the fields tests leave alone at their defaults."""
    from reports_app.services.grading import grade_save

    return grade_save(
        group=group,
        number=number,
        items=items,
        adjustment=adjustment,
        comment=comment,
        base_version=base_version,
        user=user,
    )
