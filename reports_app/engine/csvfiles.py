"""Every CSV the site writes goes through `write_csv`, so that a spreadsheet opens it as data and never runs a cell.

Staff open these files in Excel, and the cells hold what students typed (names, e-mail addresses, group names):

- every cell is quoted, so that a `;` in a name can't split it into cells where Excel separates by `;` (a Danish
  locale), which would let `Otters;=1+1;` put a formula in a cell of its own;
- text that starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which Excel
  shows as text. `undefuse` takes it off again, so that the roster import reads its own export back unchanged.

>>> csv_text([["group", "name"], [7, "=1+1"], [8, "Otters;=1+1;"]])
'"group","name"\\r\\n"7","\\'=1+1"\\r\\n"8","Otters;=1+1;"\\r\\n'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it (names like Søren)


class TextOut(Protocol):
    def write(self, text: str, /) -> object: ...


def defuse(value: object) -> object:
    """Text that starts like a formula, with a leading `'`; anything else as it is.

    >>> defuse("=SUM(A1)"), defuse("-x"), defuse("a=b"), defuse(-3)
    ("'=SUM(A1)", "'-x", 'a=b', -3)
    """
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def undefuse(cell: str) -> str:
    """A cell as it was before `defuse`: a `'` in front of a formula start is taken off.

    >>> undefuse("'=SUM(A1)"), undefuse("'Connor"), undefuse("=x")
    ('=SUM(A1)', "'Connor", '=x')
    """
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def write_csv(out: TextOut, rows: Iterable[Sequence[object]], *, bom: bool = False) -> None:
    """Rows as CSV into a text stream (a file, an HttpResponse): every cell quoted and defused, CRLF line ends."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([defuse(value) for value in row])


def csv_text(rows: Iterable[Sequence[object]], *, bom: bool = False) -> str:
    """`write_csv` into a string."""
    buffer = io.StringIO()
    write_csv(buffer, rows, bom=bom)
    return buffer.getvalue()
