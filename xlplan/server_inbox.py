"""Skicka through the server: the planbok Excel sent, saved as a file, mailed and filed.

An xlwings client sends values and table ranges, not the file, so the server writes the
planbok again as an .xlsx (every sheet's values, every table with its header and totals
row): the reader and the validator see what the controller saw. That file is validated
and mailed with the server's SMTP settings, and only when the mail server accepted it is
it filed into the server's inbox as ``NÄMND_BUDGETÅR_RAPPORTMÅNAD.xlsx`` (atomic). The file
it replaces is kept in the subfolder ``ersatta/``, which the consolidation's scan of the
inbox (one folder, no subfolders) does not read.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan.errors import OutputError, os_reason
from xlplan.io.raw import VALUES_ONLY_PROPERTY, VALUES_ONLY_VALUE, parse_range
from xlplan.io.xltext import write_text

if TYPE_CHECKING:
    from xlplan.mail import SendResult
    from xlplan.settings import Settings
    from xlplan.validation import Report

SUPERSEDED = "ersatta"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_filing = threading.Lock()  # one filing at a time: "previous" must mean the previous one


def inbox_name(namnd: str, budgetar: int | None, rapportmanad: str | None) -> str:
    """``HSN_2025_2025-03.xlsx``; every part made safe for a file name."""
    code = re.sub(r"[^0-9A-Za-zÅÄÖåäö]", "_", namnd.strip())[:20] or "okand"
    year = str(budgetar) if budgetar else "utan-ar"
    month = rapportmanad.strip() if rapportmanad and _MONTH.fullmatch(rapportmanad.strip()) \
        else "utan-manad"
    return f"{code}_{year}_{month}.xlsx"


def write_planbok(payload: dict[str, Any], target: Path) -> None:
    """The client's sheets as a real .xlsx: values from A1, and the tables (ListObjects)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(target), {"strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False})
    # values only: the reader must not take a value for a typed-over template formula
    wb.set_custom_property(VALUES_ONLY_PROPERTY, VALUES_ONLY_VALUE)
    try:
        for sheet in payload.get("sheets", []):
            ws = wb.add_worksheet(str(sheet["name"]))
            for table in sheet.get("tables") or []:
                _table(ws, table, sheet.get("values") or [])
            for r, row in enumerate(sheet.get("values") or []):
                for c, value in enumerate(row):
                    _write(ws, r, c, value)
    finally:
        wb.close()


def _table(ws: Any, table: dict[str, Any], values: list[list[Any]]) -> None:
    r1, c1, r2, c2 = parse_range(str(table["range_address"]).replace("$", ""))
    headers = bool(table.get("show_headers", True))
    header_values = values[r1 - 1] if headers and len(values) >= r1 else []
    columns = []
    for c in range(c1, c2 + 1):
        text = header_values[c - 1] if c - 1 < len(header_values) else ""
        columns.append({"header": str(text) if text not in (None, "") else f"Kolumn{c - c1 + 1}"})
    ws.add_table(r1 - 1, c1 - 1, r2 - 1, c2 - 1, {
        "name": str(table["name"]), "header_row": headers, "autofilter": False,
        "total_row": bool(table.get("show_totals", False)), "columns": columns,
        "style": "Table Style Medium 2"})


def _write(ws: Any, r: int, c: int, value: Any) -> None:
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif isinstance(value, str) and value != "":
        write_text(ws, r, c, value)


def _keep_previous(target: Path) -> None:
    """Keep the filed planbok that ``target`` is about to replace, in ``ersatta/``."""
    if not target.exists():
        return
    old = target.parent / SUPERSEDED
    old.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    kept = old / f"{target.stem}_ersatt_{stamp}{target.suffix}"
    try:
        os.link(target, kept)  # the filed one stays in place until it is replaced
    except OSError:
        shutil.copy2(target, kept)


def deliver(payload: dict[str, Any], namnd: str, who: str) -> Any:
    """The ``deliver`` step of :func:`xlplan.excel.skicka` on the server, for a planbok of
    the nämnd ``namnd`` sent with a token of ``who`` (a nämnd code or ``*``).

    The file is written into a hidden folder inside the inbox (the scan skips it), mailed
    from there under its real name, and renamed into the inbox (same file system: atomic)
    only after the mail server accepted it. A refusal or failure leaves the inbox as it was.
    """

    def run(book: Any, report: Report, settings: Settings) -> SendResult:
        from xlplan.io.xlsx import read_workbook
        from xlplan.mail import send
        from xlplan.owner import planbok_owner

        info = report.planbok.info
        if info.namnd != namnd:  # the authorised reading and the validated one are the same
            raise OutputError("Planbokens nämnd ändrades under körningen; inget skickades.")
        name = inbox_name(namnd, info.budgetar, info.rapportmanad)
        inbox = settings.server_inkorg
        try:
            inbox.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".xlplan-skicka-", dir=inbox))
        except OSError as exc:
            raise OutputError(f"Serverns inkorg kan inte skrivas ({os_reason(exc)}); inget "
                              "skickades.") from None
        try:
            path = tmp / name
            try:
                write_planbok(payload, path)
            except Exception as exc:  # a sheet or table name Excel would not have allowed
                raise OutputError(f"Planboken kunde inte sparas som fil på servern "
                                  f"({type(exc).__name__}).") from None
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
            if planbok_owner(read_workbook(path)) != namnd:  # the file as the mail reads it
                raise OutputError("Den sparade filens nämnd skiljer sig från arbetsbokens; "
                                  "inget skickades.")
            # validates the file again; raises: nothing filed. The audit log names the
            # filed path and whose token sent it (never the token).
            result = send(path, settings, audit_fields={"fil": str(inbox / name),
                                                        "nyckel_for": who})
            with _filing:
                _keep_previous(inbox / name)
                os.replace(path, inbox / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return result

    return run
