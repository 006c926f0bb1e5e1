"""The fields of a page's forms as a browser, and a password manager, sees them: each <form>'s inputs with their
attributes, read with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

Field = tuple[str | None, str | None, str | None]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[dict[str, str | None]]] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append([])
            self._inside = True
        elif tag == "input" and self._inside:
            self.forms[-1].append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def password_form_fields(html: str) -> list[Field]:
    """(name, autocomplete, value) of each input but the hidden-typed ones (the CSRF token) of the one form of the page
    that asks for a password.

    >>> password_form_fields('<form><input type="hidden" name="t"><input name="u" autocomplete="username" value="a">'
    ...                      '<input type="password" name="p"></form><form><input name="q"></form>')
    [('u', 'username', 'a'), ('p', None, None)]
    """
    parser = _Forms()
    parser.feed(html)
    (form,) = [form for form in parser.forms if any(field.get("type") == "password" for field in form)]
    return [(f.get("name"), f.get("autocomplete"), f.get("value")) for f in form if f.get("type") != "hidden"]


def empty_inlines(*prefixes: str) -> dict[str, str]:
    """The management fields of admin inlines posted without rows, e.g. empty_inlines("memberships", "graders").

    >>> empty_inlines("staff")["staff-TOTAL_FORMS"]
    '0'
    """
    fields = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}
    return {f"{prefix}-{name}": value for prefix in prefixes for name, value in fields.items()}
