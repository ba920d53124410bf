"""Random cell contents, written by xlsxwriter and by openpyxl: the fast reader and the
reference reader give the same workbook, and a text comes back as written (cleaned as xlplan
cleans every text). And random sheet XML in every shape: where the fast scan reads a sheet,
it reads what the reference reader reads."""

from __future__ import annotations

import io
import math
import tempfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.table import Table

from tests.support.readers import outcome
from tests.support.sheetfuzz import random_bounds, random_sheet
from xlplan.io.raw import CellKind, RawWorkbook
from xlplan.io.sheetscan import scan_sheet
from xlplan.io.sheetxml import SheetData, SheetReader
from xlplan.limits import Limits
from xlplan.text import clean

# text with what XML and OOXML escape: &, <, >, quotes, white space at either end, line
# ends, control characters (written as _xHHHH_), literal _x000D_ escapes, any Unicode
_TEXT = st.lists(
    st.one_of(st.sampled_from([*"&<>\"' \t\r\n_x0D;#", "_x000D_", "&amp;", "Å"]),
              st.characters(blacklist_categories=["Cs"])),
    min_size=1, max_size=10,
).map("".join)
_NUMBER = st.one_of(st.integers(-10**12, 10**12),
                    st.decimals(-10**9, 10**9, places=3, allow_nan=False, allow_infinity=False))
_FORMULA = st.tuples(st.sampled_from(["=A2+1", '=IF(A2>0,"a&b","<c>")', "=SUM(B2:B3)&\"_x000D_\""]),
                     st.one_of(_NUMBER, _TEXT))
_CELL = st.one_of(_TEXT, _NUMBER, _FORMULA, st.none())


def _xlsxwriter_book(path: Path, rows: list[list[object]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Blad1")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, tuple):
                cached = value[1]
                ws.write_formula(r, c, value[0], None,
                                 float(cached) if isinstance(cached, int | Decimal) else cached)
            elif isinstance(value, str):
                ws.write_string(r, c, value)
            elif isinstance(value, int | Decimal):
                ws.write_number(r, c, float(value))
    ws.add_table(0, 0, len(rows), 2, {"name": "Tabell1",
                                      "columns": [{"header": h} for h in ("K1", "K2", "K3")]})
    wb.close()


def _openpyxl_book(path: Path, rows: list[list[object]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Blad1"
    ws.append(["K1", "K2", "K3"])
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c)
            if isinstance(value, tuple):
                cell.value = value[0]  # openpyxl stores no cached value
            elif isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("?", value)
                cell.data_type = "s"  # a text, even one that starts with =
            elif isinstance(value, int | Decimal):
                cell.value = float(value)
    ws.add_table(Table(displayName="Tabell1", ref=f"A1:C{len(rows) + 1}"))
    wb.save(path)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=4),
       writer=st.sampled_from(["xlsxwriter", "openpyxl"]))
def test_both_readers_agree_on_what_the_writers_write(rows: list[list[object]], writer: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "slump.xlsx")
        if writer == "xlsxwriter":
            _xlsxwriter_book(path, rows)
        else:
            _openpyxl_book(path, rows)
            rows = [[ILLEGAL_CHARACTERS_RE.sub("?", v) if isinstance(v, str) else v for v in row]
                    for row in rows]
        fast = outcome(path, scan=True)
        assert fast == outcome(path, scan=False)
        if fast[0] == "refused":  # a writer that wrote a control character raw (xlsxwriter
            return  # does, in a formula's cached text): damaged XML, refused alike
        assert isinstance(fast[1], RawWorkbook)
        body = fast[1].tables["Tabell1"].body
        # the table ends at the sheet's last written row (trailing empty rows hold no cell)
        filled_rows = [i for i, row in enumerate(rows) if any(v is not None for v in row)]
        rows = rows[: filled_rows[-1] + 1] if filled_rows else []
        for row, cells in zip(rows, body, strict=True):
            for value, cell in zip(row, cells, strict=True):
                if isinstance(value, str):
                    assert cell.kind is CellKind.TEXT
                    if "_x" not in value:  # a literal escape is read as the escape it is
                        assert cell.value == clean(value)
                elif isinstance(value, tuple):
                    assert cell.formula == value[0][1:]
                elif value is not None:
                    assert cell.kind is CellKind.NUMBER
                    # as the writer wrote the double (xlsxwriter with 16 digits)
                    assert math.isclose(float(cell.value or "nan"), float(value),  # type: ignore[arg-type]
                                        rel_tol=1e-15, abs_tol=1e-300)
                else:
                    assert cell.kind is CellKind.BLANK


def _sheet_outcome(data: SheetData) -> tuple[object, ...]:
    """What a sheet read gives the workbook reader: the shared-string cells are made later,
    from string_refs, so the placeholders the reference leaves for them are no part of it."""
    return ({k: v for k, v in data.cells.items() if k not in data.string_refs}, data.string_refs,
            data.hidden_rows, data.merges, data.max_row, data.max_col)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_sheet_scan_reads_what_the_reference_reads(seed: int) -> None:
    # the seed draws a sheet in the shapes of tests/support/sheetfuzz.py, and tight limits
    data, bounds = random_sheet(seed), random_bounds(seed)
    limits = Limits(sheet_cells=12, text_chars=8)
    try:
        fast = scan_sheet(data, bounds, frozenset({1}), limits, "f")
    except Exception:
        return  # handed over: the workbook reader then reads the part with the reference
    reference = SheetReader(bounds, frozenset({1}), limits, "f").read(io.BytesIO(data))
    assert _sheet_outcome(fast) == _sheet_outcome(reference), f"seed {seed}"
