"""Real xlwings remote Books from real .xlsx files: the JSON an Excel (VBA) client sends."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


def _addr(c1: int, r1: int, c2: int, r2: int) -> str:
    return f"${get_column_letter(c1)}${r1}:${get_column_letter(c2)}${r2}"


def _value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return v


def payload(path: Path, name: str | None = None, extra_sheets: dict[str, list[list[Any]]] | None
            = None) -> dict[str, Any]:
    """Sheets with their values from A1 and their tables with range addresses, as xlwings'
    VBA client builds them (cached values: what Excel shows)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        values = [[_value(ws.cell(r, c).value) for c in range(1, ws.max_column + 1)]
                  for r in range(1, ws.max_row + 1)]
        tables = []
        for t in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(t.ref)
            header = bool(t.headerRowCount if t.headerRowCount is not None else 1)
            totals = bool(t.totalsRowCount)
            tables.append({
                "name": t.displayName, "range_address": _addr(c1, r1, c2, r2),
                "header_row_range_address": _addr(c1, r1, c2, r1) if header else None,
                "data_body_range_address": _addr(c1, r1 + int(header), c2, r2 - int(totals)),
                "total_row_range_address": _addr(c1, r2, c2, r2) if totals else None,
                "show_headers": header, "show_totals": totals, "show_autofilter": True,
                "table_style": "TableStyleMedium2",
            })
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": tables})
    for title, values in (extra_sheets or {}).items():
        sheets.append({"name": title, "values": values, "pictures": [], "tables": []})
    return {"client": "VBA", "version": "0.37.8",
            "book": {"name": name or str(path), "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": sheets}


def remote_book(path: Path, **kwargs: Any) -> Any:
    import xlwings as xw

    return xw.Book(json=payload(path, **kwargs))


def actions(book: Any) -> list[dict[str, Any]]:
    return list(book.json()["actions"])


def cell_of(action: dict[str, Any]) -> tuple[int, int]:
    """1-based (row, col) of an action's first cell."""
    return action["start_row"] + 1, action["start_column"] + 1
