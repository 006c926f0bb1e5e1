"""csvfiles: the one CSV writer of the site. Each CSV the site makes has its own test beside its view or command
(test_dashboard.py, test_exporting.py, test_import_roster.py, test_roster.py); they use `assert_all_quoted`."""

import csv
import doctest
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports_app.engine import csvfiles
from reports_app.engine.csvfiles import csv_text, defuse, undefuse


def assert_all_quoted(text: str) -> list[list[str]]:
    """The rows of a CSV text whose every cell is quoted, as csvfiles writes them (fails otherwise)."""
    text = text.removeprefix(csvfiles.BOM)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    written = "".join(",".join('"' + cell.replace('"', '""') + '"' for cell in row) + "\r\n" for row in rows)
    assert text == written
    return rows


def spreadsheet_cells(text: str, delimiter: str) -> list[str]:
    """The cells a spreadsheet that separates by `delimiter` makes of a CSV text: as Excel does, every `"` turns
    quoting on or off, and a delimiter or line end splits only outside quotes."""
    cells, cell, quoted = [], "", False
    for char in text.removeprefix(csvfiles.BOM):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in (delimiter, "\n"):
            cells.append(cell)
            cell = ""
        elif quoted or char != "\r":
            cell += char
    return [*cells, cell]


def assert_nothing_runs(text: str) -> None:
    """No cell starts like a formula, whether the spreadsheet separates by `,` or by `;` (a Danish Excel)."""
    for delimiter in ",;":
        formulas = [cell for cell in spreadsheet_cells(text, delimiter) if cell.startswith(csvfiles.FORMULA_STARTS)]
        assert formulas == [], f"cells Excel would run with {delimiter!r} between cells"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("a=b", "a=b"),
        ("Otters;=1+1;", "Otters;=1+1;"),
        ("'=x", "'=x"),  # already text to Excel
        ("", ""),
        (3, 3),
        (-3, -3),  # numbers are numbers, not formulas
        (None, None),
    ],
)
def test_defuse(value, cell):
    assert defuse(value) == cell


def test_every_cell_is_quoted_so_a_semicolon_cannot_split_it():
    text = csv_text([["group", "name"], [1, "Otters;=1+1;"], [2, ""]], bom=True)

    assert text == '\ufeff"group","name"\r\n"1","Otters;=1+1;"\r\n"2",""\r\n'
    assert spreadsheet_cells(text, ";") == ["group,name", "1,Otters;=1+1;", "2,", ""]
    assert_nothing_runs(text)


def test_a_minimally_quoted_file_would_run_the_cell():  # why every cell is quoted
    text = "group,name\r\n1,Otters;=1+1;\r\n"
    assert "=1+1" in spreadsheet_cells(text, ";")
    with pytest.raises(AssertionError):
        assert_nothing_runs(text)


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_what_is_written_reads_back_the_same_once_undefused(cells):
    (row,) = assert_all_quoted(csv_text([cells]))
    assert [undefuse(cell) for cell in row] == cells
    assert_nothing_runs(csv_text([cells]))


def test_docstring_examples_hold():
    assert doctest.testmod(csvfiles).failed == 0
