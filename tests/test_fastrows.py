"""Detail rows rendered straight into xlsxwriter's stream (xlplan.io.fastrows) give the same
bytes as xlsxwriter's cell-by-cell writes."""

from __future__ import annotations

import time
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.support.inbox import TJ, book, inbox, rs
from tests.support.output import parts
from tests.support.plan import full_plan, plan_info
from xlplan.consolidation import consolidate


def test_the_fast_rows_are_xlsxwriters_bytes(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from xlplan.io import fastrows, region_writer

    monkeypatch.setattr(region_writer, "STREAM_FILES", 3)  # streamed: the fast path applies
    folder = inbox(tmp_path)
    # texts xlsxwriter escapes: leading space, markup, a literal _xHHHH_, a rich-text look-alike
    book(folder / "kn.xlsx", "KN", [
        [" Ledande mellanslag", TJ, 1, 0, 0, 0, 0, 0, 0, 1],
        ["A & B <c>", TJ, 2.5, 0, 0, 0, 0, 0, 0, 2.5],
        ["_x0041_ bokstavligt", TJ, 0.1, 0, 0, 0, 0, 0, 0, 0.1],
        ["<r>rik</r>", TJ, -1e-7, 0, 0, 0, 0, 0, 0, -1e-7],
        ["Stor", TJ, 123456789012.25, None, None, None, None, None, None, 123456789012.25],
    ])
    # a full planbok (with Prognos) under its own nämnd, for Förändringar's prognos table
    full_plan(folder, "pn.xlsx", Info=plan_info(Nämnd="PN"))
    calls: list[bool] = []
    original = fastrows.FastRows.append

    def counted(self: fastrows.FastRows, row: int, values: list[object]) -> bool:
        calls.append(result := original(self, row, values))
        return result

    monkeypatch.setattr(fastrows.FastRows, "append", counted)
    # a second run after RS changed fills Förändringar (both its tables stream). RS's two
    # versions are made once, so both paths read the very same bytes (a file written a second
    # later has another timestamp inside, so another sha256 in the Manifest)
    rs(tmp_path / "rs-before.xlsx")
    rs(tmp_path / "rs-after.xlsx", staben_personal=-310.0)

    def twice(name: str, db: str) -> None:
        (folder / "rs.xlsx").write_bytes((tmp_path / "rs-before.xlsx").read_bytes())
        consolidate(folder, tmp_path / f"{name}-1.xlsx", database=db, month="2025-05")
        (folder / "rs.xlsx").write_bytes((tmp_path / "rs-after.xlsx").read_bytes())
        consolidate(folder, tmp_path / f"{name}.xlsx", database=db, month="2025-05")

    twice("fast", f"sqlite:///{tmp_path / 'f.db'}")
    assert calls.count(True) >= 6 and False in calls  # both paths ran (the <r>…</r> row)
    monkeypatch.setattr(fastrows, "ENABLED", False)
    calls.clear()
    time.sleep(1.1)  # the slow run in another second: nothing time-bound may differ
    twice("slow", f"sqlite:///{tmp_path / 's.db'}")
    assert calls == []
    fast, slow = parts(tmp_path / "fast.xlsx"), parts(tmp_path / "slow.xlsx")
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name] == slow[name], name
    changes = openpyxl.load_workbook(tmp_path / "fast.xlsx")["Förändringar"]
    texts = {c for row in changes.iter_rows(values_only=True) for c in row}
    assert {"RS", "PN"} <= texts  # RS's changed figures; PN's prognos rows
    assert any(isinstance(t, str) and t.startswith("Prognos per nämnd och område") for t in texts)


TRICKY: list[object] = [
    " ledande", "efter ", "\u00a0hårt mellanslag", "rad\nbrytning", 'citat "x"', "A & B <c>",
    "_x0041_ bokstavligt", "\x01styrtecken", "<r>rik</r>", "x" * 20000, "", None, 5, -0.5,
    Decimal("0.1"), Decimal("-1E-7"), Decimal("123456789012.25"), Decimal("1E+20"), "\u2028",
    "tab\t", "Ünïcödé ✓ 𝄞",
]


def test_each_rendered_row_is_the_xml_xlsxwriter_writes_for_it(tmp_path: Path) -> None:
    """Row by row, tricky values in every column: FastRows (falling back where it must)
    against xlsxwriter's own writes, in two workbooks compared part by part."""
    import xlsxwriter

    from xlplan.io.fastrows import FastRows
    from xlplan.numbers import to_cell

    def write(path: Path, fast: bool) -> None:
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                             "strings_to_formulas": False,
                                             "strings_to_numbers": False,
                                             "strings_to_urls": False})
        money = wb.add_format({"num_format": "#,##0.0"})
        ws = wb.add_worksheet()
        formats = [None, money, None, money]
        rows = FastRows(ws, formats)
        for i, value in enumerate(TRICKY):
            row = [value, value, f"rad {i}", None if i % 3 else value]
            if fast and rows.append(i, row):
                continue
            for ci, v in enumerate(row):
                if isinstance(v, str) and v:
                    ws.write_string(i, ci, v, formats[ci])
                elif v is not None and not isinstance(v, str):
                    ws.write_number(i, ci, to_cell(v) if isinstance(v, Decimal) else v,
                                    formats[ci])
        wb.close()

    write(tmp_path / "fast.xlsx", True)
    write(tmp_path / "slow.xlsx", False)
    fast, slow = parts(tmp_path / "fast.xlsx"), parts(tmp_path / "slow.xlsx")
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name] == slow[name], name
    sheet = fast["xl/worksheets/sheet1.xml"].decode()
    assert '<t xml:space="preserve"> ledande</t>' in sheet and "_x0001_styrtecken" in sheet


def test_the_region_workbook_is_deflated_fast_and_xlsxwriter_left_as_it_was(
        tmp_path: Path) -> None:
    """xlplan.io.deflate: level 1 for the region workbook's parts (each part's compressed
    size is what zlib gives at level 1), and xlsxwriter's own ZipFile back afterwards."""
    import zlib

    import xlsxwriter.workbook

    folder = inbox(tmp_path)
    consolidate(folder, tmp_path / "ut.xlsx", cache=False)
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    with zipfile.ZipFile(tmp_path / "ut.xlsx") as zf:
        sheet = next(i for i in zf.infolist() if i.filename == "xl/worksheets/sheet2.xml")
        data = zf.read(sheet)
    for level, expected in ((1, True), (6, False)):
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        size = len(packer.compress(data) + packer.flush())
        assert (size == sheet.compress_size) is expected, level


def test_rows_copied_as_bytes_give_xlsxwriters_own_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xlplan.io.deflate copies each constant-memory sheet's rows into its part as bytes:
    every part is byte for byte the one xlsxwriter writes itself (several MB of rows, Swedish
    and four-byte characters, a sheet without rows, a table after the rows)."""
    import datetime as dt

    import xlsxwriter

    from xlplan.io.deflate import FastDeflateWorkbook

    def write(cls: type, path: Path) -> dict[str, bytes]:
        wb = cls(str(path), {"constant_memory": True})
        wb.set_properties({"created": dt.datetime(2026, 11, 25, 7, 0)})
        ws = wb.add_worksheet("Rader")
        ws.freeze_panes(1, 0)
        for r in range(40_000):
            ws.write_string(r, 0, f"Område {r} – åäö 🙂")
            ws.write_number(r, 1, r * 1.25)
        ws.autofilter(0, 0, 39_999, 1)
        wb.add_worksheet("Tom")
        wb.close()
        with zipfile.ZipFile(path) as zf:
            return {name: zf.read(name) for name in zf.namelist()}

    import io
    import shutil

    copied: list[type] = []  # zipfile copies too: into its own writer, not into a file
    copy = shutil.copyfileobj
    monkeypatch.setattr(shutil, "copyfileobj", lambda *a: copied.append(type(a[1])) or copy(*a))
    ours = write(FastDeflateWorkbook, tmp_path / "a.xlsx")
    assert copied.count(io.BufferedWriter) == 1  # the sheet with rows, copied as bytes
    theirs = write(xlsxwriter.Workbook, tmp_path / "b.xlsx")
    assert len(ours["xl/worksheets/sheet1.xml"]) > 2_000_000
    assert ours == theirs
