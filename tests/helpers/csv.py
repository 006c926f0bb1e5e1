"""What a spreadsheet would run: checks that every cell of a CSV is quoted and none starts like a formula."""

from __future__ import annotations

import csv
import io

from reports_app.engine import csvfiles


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
