"""``xlplan validate FILE --markera OUT.xlsx``: a copy of the planbok with the marks the
Validera button makes (red errors, yellow warnings, earlier marks cleared) and its Kontroll
sheet, for a controller without the buttons. The input is never written.

The marking plan is the button's own (xlplan.excel: old_marks, mark_colours, kontroll_rows,
number_formats); only its application differs: openpyxl on a copy instead of an xlwings Book.
The copy keeps the workbook's formulas but not their cached values (openpyxl cannot write
both), so it is marked for recalculation when opened; the macros and the buttons are not
copied (an .xlsx cannot hold them).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from xlplan.errors import OutputError, UnreadableWorkbook
from xlplan.validation import Report


def check_target(source: Path, out: Path) -> None:
    if out.suffix.lower() != ".xlsx":
        if out.name.lower() == ".xlsx":  # a dot file: Path(".xlsx") has no suffix, no name
            raise OutputError("Den markerade kopian behöver ett namn före .xlsx, t.ex. "
                              "planbok-markerad.xlsx.")
        raise OutputError(f"Den markerade kopian ska sluta på .xlsx (fick {out.name}).")
    same = out.exists() and source.exists() and out.resolve() == source.resolve()
    if same or out.absolute() == source.absolute():
        raise OutputError("Den markerade kopian får inte skriva över planboken själv; "
                          "välj ett annat filnamn.")
    if out.exists():
        raise OutputError(f"Filen {out} finns redan. Välj ett annat namn; xlplan skriver inte över.")


def write_marked_copy(source: Path, out: Path, report: Report) -> None:
    """Write ``source`` marked by ``report`` (validated from ``source``) to ``out``."""
    import openpyxl
    from openpyxl.styles import PatternFill

    from xlplan import excel
    from xlplan.template import XLWINGS_CONF

    check_target(source, out)
    try:
        wb = openpyxl.load_workbook(source, keep_vba=False, keep_links=False)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise UnreadableWorkbook(f"{source.name} kan inte kopieras med markeringar: {exc}.") from None
    if XLWINGS_CONF in wb.sheetnames:  # the buttons' settings: the copy has no buttons
        wb.remove(wb[XLWINGS_CONF])
    if _is_button_sheet(wb):  # "Tryck på en knapp" in a copy without buttons
        wb.remove(wb[START])
    names = set(wb.sheetnames)
    if excel.KONTROLL in names:
        kontroll = [list(r) for r in wb[excel.KONTROLL].iter_rows(values_only=True)]
        formats = excel.number_formats(report.planbok)
        for sheet, ref in excel.old_marks(kontroll):
            if sheet in names and excel.is_ref(ref):
                for cell in _cells(wb[sheet], ref):
                    _clear_formats(cell, formats.get((sheet, ref)))
    for (sheet, ref), colour in excel.mark_colours(report.findings, names).items():
        for cell in _cells(wb[sheet], ref):
            cell.fill = PatternFill(fill_type="solid", fgColor="FF" + bytes(colour).hex().upper())
    _write_kontroll(wb, excel.kontroll_rows(source.name, report))
    for ws in wb.worksheets:
        _page_setup(ws)
    wb.calculation.fullCalcOnLoad = True
    _save_new(wb, out)


START = "Start"


def _is_button_sheet(wb: Any) -> bool:
    """The templates' Start sheet (title, "Tryck på …", buttons): no table, nothing else."""
    from xlplan.template import PLANBOK_START_NOTE, REGION_START_NOTE

    if START not in wb.sheetnames:
        return False
    ws = wb[START]
    note = ws.cell(2, 1).value
    return not ws.tables and isinstance(note, str) and (
        note in (PLANBOK_START_NOTE, REGION_START_NOTE) or note.startswith("Tryck på "))


def _save_new(wb: Any, out: Path) -> None:
    """Save to ``out`` only if no file is there: written to a temp file beside it, then
    hard-linked into place. os.link fails if ``out`` exists, so a file made since the check
    is never replaced; a file system without hard links gets an exclusive create instead."""
    import os
    import tempfile

    from xlplan.errors import os_reason

    exists = OutputError(f"Filen {out} finns redan. Välj ett annat namn; xlplan skriver inte "
                         "över.")
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".xlsx", dir=folder)
    except OSError as exc:
        why = "där går det inte att skapa filer" if folder.is_dir() else os_reason(exc)
        raise OutputError(f"Kan inte skriva i mappen {folder} ({why}).") from None
    os.close(fd)
    tmp = Path(name)
    try:
        wb.save(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            os.link(tmp, out)
        except FileExistsError:
            raise exists from None
        except OSError:
            try:
                with open(out, "xb") as fh:
                    fh.write(tmp.read_bytes())
                    fh.flush()
                    os.fsync(fh.fileno())
            except FileExistsError:
                raise exists from None
            except OSError as exc:
                raise OutputError(f"{out.name} kunde inte skrivas ({os_reason(exc)}).") from None
    finally:
        tmp.unlink(missing_ok=True)


def _cells(ws: Any, ref: str) -> list[Any]:
    got = ws[ref]
    if not isinstance(got, tuple):
        return [got]
    return [c for row in got for c in (row if isinstance(row, tuple) else (row,))]


def _clear_formats(cell: Any, number_format: str | None) -> None:
    """What the button's Range.clear_formats does, then the template's number format back."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection

    cell.font, cell.border, cell.fill = Font(), Border(), PatternFill()
    cell.alignment, cell.protection = Alignment(), Protection()
    cell.number_format = number_format or "General"


def _write_kontroll(wb: Any, rows: list[list[Any]]) -> None:
    from xlplan import excel
    from xlplan.text import inert

    if excel.KONTROLL in wb.sheetnames:
        ws = wb[excel.KONTROLL]
        ws.delete_rows(1, ws.max_row)
    else:
        ws = wb.create_sheet(excel.KONTROLL)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c)
            cell.value = inert(value) if isinstance(value, str) else value
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text, whatever it starts with
    for col, width in zip("ABCDE", (12, 20, 16, 10, 90), strict=True):
        ws.column_dimensions[col].width = width


def _page_setup(ws: Any) -> None:
    """As the templates print (xlplan/template.py): A4 landscape, one page wide, a table's
    header row repeated on every page."""
    from openpyxl.utils.cell import range_boundaries

    from xlplan import excel

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    tables = list(ws.tables.values())
    if ws.title == excel.KONTROLL:
        ws.print_title_rows = "3:3"
    elif len(tables) == 1:
        row = range_boundaries(tables[0].ref)[1]
        ws.print_title_rows = f"{row}:{row}"
