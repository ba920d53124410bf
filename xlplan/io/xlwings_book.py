"""Raw tables from an xlwings Book: the second source of a Planbok, beside the file.

Works on any xlwings Book: a desktop Book (COM/AppleScript) or the remote Book xlwings
builds from the JSON an Excel client sends. A Book gives values only (no formulas, no hidden
rows), so the formula checks that need a file do not run here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from xlplan.io.raw import (
    CellKind,
    RawCell,
    RawTable,
    RawWorkbook,
    assemble_table,
    number_cell,
    parse_range,
)
from xlplan.text import clean


def read_book(book: Any) -> RawWorkbook:
    tables: dict[str, RawTable] = {}
    names = []
    for sheet in book.sheets:
        names.append(sheet.name)
        for table in sheet.tables:
            bounds = parse_range(table.range.address)
            values = sheet.range(table.range.address).options(ndim=2).value or []
            r1, c1, _, _ = bounds
            cells = {(r1 + i, c1 + j): raw_cell(r1 + i, c1 + j, v)
                     for i, row in enumerate(values) for j, v in enumerate(row)}
            header_rows = 1 if _flag(table, "show_headers", True) else 0
            totals_rows = 1 if _flag(table, "show_totals", False) else 0
            columns = tuple(str(v) if v is not None else "" for v in (values[0] if values else []))
            tables[table.name] = assemble_table(
                name=table.name, sheet=sheet.name, sheet_hidden=False, bounds=bounds,
                header_rows=header_rows, totals_rows=totals_rows,
                column_names=columns if header_rows else (), cells=cells,
                hidden_rows=set(), merges=[])
    return RawWorkbook(book.name, tables, tuple(names), formulas_known=False)


def _flag(table: Any, name: str, default: bool) -> bool:
    try:
        return bool(getattr(table, name))
    except Exception:  # an engine without the property
        return default


def raw_cell(row: int, col: int, value: Any) -> RawCell:
    """One value as an xlwings engine hands it over."""
    if value is None or value == "":
        return RawCell(row, col)
    if isinstance(value, bool):
        return RawCell(row, col, CellKind.BOOL, "1" if value else "0")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return RawCell(row, col, CellKind.ERROR, "#NUM!")
        return number_cell(row, col, repr(value))
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return RawCell(row, col, CellKind.DATE, value.isoformat())
    return RawCell(row, col, CellKind.TEXT, clean(str(value)))
