"""csvfiles: the one CSV writer of the site. Each CSV the site makes has its own test beside its view or command
(test_dashboard.py, test_exporting.py, test_import_roster.py, test_roster.py); they use `assert_all_quoted`."""

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports_app.engine import csvfiles
from reports_app.engine.csvfiles import csv_text, defuse, undefuse
from tests.helpers.csv import assert_all_quoted, assert_nothing_runs, spreadsheet_cells


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
