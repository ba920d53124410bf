"""Raw tables: what a workbook holds, cell by cell, before any typing.

Two sources produce these (an .xlsx/.xlsm file, and an xlwings Book); the
typed :class:`~xlplan.model.Planbok` is built from them the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from xlplan.limits import MAX_MAGNITUDE, MAX_NUMBER_CHARS


class CellKind(Enum):
    BLANK = "blank"
    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"
    ERROR = "error"
    DATE = "date"


class RawCell(NamedTuple):
    """One cell as read (a named tuple: thousands are made per workbook, and cheaply)."""

    row: int  # 1-based Excel row
    col: int  # 1-based Excel column
    kind: CellKind = CellKind.BLANK
    value: str | None = None  # number literal, text, "1"/"0" for bool, error text
    formula: str | None = None  # formula text; "" when a formula whose text is unknown

    @property
    def ref(self) -> str:
        return cell_ref(self.row, self.col)

    @property
    def has_formula(self) -> bool:
        return self.formula is not None

    @property
    def text(self) -> str:
        return self.value if self.kind is CellKind.TEXT and self.value else ""


@dataclass(frozen=True, slots=True)
class RawTable:
    name: str
    sheet: str
    sheet_hidden: bool
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    header_rows: int  # 0 or 1
    totals_rows: int  # 0 or 1
    column_names: tuple[str, ...]  # from the table definition
    headers: tuple[RawCell, ...]  # header cells (empty when header_rows == 0)
    body: tuple[tuple[RawCell, ...], ...]  # data rows, full width
    totals: tuple[RawCell, ...] | None
    hidden_rows: frozenset[int] = field(default_factory=frozenset)
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (r1, c1, r2, c2) inside the table

    @property
    def header_ref(self) -> str:
        return cell_ref(self.first_row, self.first_col)

    @property
    def ref(self) -> str:
        return f"{cell_ref(self.first_row, self.first_col)}:{cell_ref(self.last_row, self.last_col)}"


@dataclass(frozen=True, slots=True)
class RawWorkbook:
    name: str  # file name (or book name) for messages
    tables: dict[str, RawTable]  # by table name as written
    sheet_names: tuple[str, ...]
    # False: the source carries values only (an xlwings Book, or the file the server wrote
    # from one), so a cell without a formula says nothing about the template's formulas
    formulas_known: bool = True


NUMBER_ERROR = "#NUM!"  # Excel's own error for a number it cannot hold


def number_cell(row: int, col: int, literal: str, formula: str | None = None,
                kind: CellKind = CellKind.NUMBER) -> RawCell:
    """A stored number, or Excel's #NUM! error when it is not one Excel could hold: not a
    number at all (``abc``), not finite (``NaN``, ``INF``), or of absurd size
    (``1E+999999999``). So every number that reaches the model is finite and sane, and no sum
    of a workbook's cells can overflow."""
    usable = _usable_number(literal)
    if usable is None:
        return RawCell(row, col, CellKind.ERROR, NUMBER_ERROR, formula)
    return RawCell(row, col, kind, usable, formula)


TINY = -30  # a value below 10^-30 is zero: no figure has such a digit, and dividing by it
# would leave a double's range (a formula's float noise, ~10^-17, is kept as it is)


def _usable_number(literal: str) -> str | None:
    """The literal, "0" for a vanishing one, or None when it is no usable number."""
    if len(literal) > MAX_NUMBER_CHARS:
        return None
    try:
        d = Decimal(literal.strip())
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite() or (not d.is_zero() and d.adjusted() >= MAX_MAGNITUDE.adjusted()):
        return None
    return "0" if not d.is_zero() and d.adjusted() < TINY else literal


# The custom document property the server writes into a planbok it rebuilt from values.
VALUES_ONLY_PROPERTY = "xlplan-formler"
VALUES_ONLY_VALUE = "okända"

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def col_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@lru_cache(maxsize=4096)
def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def cell_ref(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"


def parse_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref.strip())
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), col_number(m.group(1))


def parse_range(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    r1, c1 = parse_ref(first)
    r2, c2 = parse_ref(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


_new_cell = tuple.__new__  # a RawCell without its generated __new__'s argument handling


def assemble_table(
    *,
    name: str,
    sheet: str,
    sheet_hidden: bool,
    bounds: tuple[int, int, int, int],
    header_rows: int,
    totals_rows: int,
    column_names: tuple[str, ...],
    cells: dict[tuple[int, int], RawCell],
    hidden_rows: set[int],
    merges: list[tuple[int, int, int, int]],
) -> RawTable:
    """Cut one table out of a sheet's cells (shared by every source)."""
    r1, c1, r2, c2 = bounds
    columns = range(c1, c2 + 1)
    get = cells.get
    blank = CellKind.BLANK

    def row_cells(r: int) -> tuple[RawCell, ...]:
        # a list comprehension and RawCell's tuple made directly: some 3 000 cells a planbok
        return tuple([get((r, c)) or _new_cell(RawCell, (r, c, blank, None, None))
                      for c in columns])

    header_rows = 1 if header_rows else 0
    totals_rows = 1 if totals_rows and r2 - r1 + 1 > header_rows else 0
    body_first = r1 + header_rows
    body_last = r2 - totals_rows
    return RawTable(
        name=name,
        sheet=sheet,
        sheet_hidden=sheet_hidden,
        first_row=r1,
        first_col=c1,
        last_row=r2,
        last_col=c2,
        header_rows=header_rows,
        totals_rows=totals_rows,
        column_names=column_names,
        headers=row_cells(r1) if header_rows else (),
        body=tuple(row_cells(r) for r in range(body_first, body_last + 1)),
        totals=row_cells(r2) if totals_rows else None,
        hidden_rows=frozenset(r for r in hidden_rows if body_first <= r <= body_last),
        merged=tuple(
            m for m in merges if m[0] <= r2 and m[2] >= r1 and m[1] <= c2 and m[3] >= c1
        ),
    )
