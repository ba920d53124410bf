"""The Regionsammanställning workbook (xlsxwriter), written atomically.

Every text that came from a workbook is written with ``write_string``: it stays text,
whatever it starts with. Amounts are in mkr except investments (tkr).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlplan import __version__
from xlplan import contract as c
from xlplan.consolidation import Region
from xlplan.extract import Investment
from xlplan.io.writer import atomic_path
from xlplan.store import KIND_LABELS, Change

Cell = str | Decimal | int | float | None


BIG_ROWS = 100_000  # detail rows; above this the workbook is streamed (constant memory)


class _Book:
    def __init__(self, wb: Any, streamed: bool) -> None:
        self.wb = wb
        self.streamed = streamed
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.mkr = wb.add_format({"num_format": "#,##0.0"})
        self.tkr = wb.add_format({"num_format": "#,##0"})
        self.pct = wb.add_format({"num_format": "0.0%"})
        self.bold = wb.add_format({"bold": True})

    def sheet(self, name: str, title: str, note: str = "") -> Any:
        ws = self.wb.add_worksheet(name)
        ws.write_string(0, 0, title, self.title)
        if note:
            ws.write_string(1, 0, note, self.note)
        return ws

    def table(self, ws: Any, first_row: int, name: str, headers: Sequence[str],
              rows: Iterable[Sequence[Cell]], formats: Sequence[Any] | None = None,
              widths: Sequence[int] | None = None) -> tuple[int, int]:
        """An Excel table at ``first_row`` (streamed: a header with an autofilter, since
        xlsxwriter has no tables in constant-memory mode); returns (first, last data row)."""
        for ci, width in enumerate(widths or [16] * len(headers)):
            ws.set_column(ci, ci, width)
        if self.streamed:
            for ci, header in enumerate(headers):
                ws.write_string(first_row, ci, header, self.bold)
            last = first_row
            for last, row in enumerate(rows, start=first_row + 1):
                for ci, value in enumerate(row):
                    self.write(ws, last, ci, value, formats[ci] if formats else None)
            ws.autofilter(first_row, 0, max(last, first_row + 1), len(headers) - 1)
            return first_row + 1, max(last, first_row + 1)
        body = list(rows) or [[None] * len(headers)]
        last = first_row + len(body)
        ws.add_table(first_row, 0, last, len(headers) - 1, {
            "name": name, "style": "Table Style Medium 2",
            "columns": [{"header": h} for h in headers],
        })
        for r, row in enumerate(body):
            for ci, value in enumerate(row):
                self.write(ws, first_row + 1 + r, ci, value, formats[ci] if formats else None)
        return first_row + 1, last

    @staticmethod
    def write(ws: Any, row: int, col: int, value: Cell, fmt: Any = None) -> None:
        if value is None or value == "":
            return  # an empty cell needs no record (a format alone shows nothing)
        if isinstance(value, str):
            ws.write_string(row, col, value, fmt)  # never a formula, whatever it starts with
        elif isinstance(value, bool):
            ws.write_string(row, col, "Ja" if value else "Nej", fmt)
        else:
            ws.write_number(row, col, float(value), fmt)  # the cell is a double


def write_region(path: Path, region: Region, changes: list[Change] | None,
                 history_note: str = "", trend: list[tuple[str, str, Decimal]] | None = None
                 ) -> None:
    import xlsxwriter

    spooled = sum(region.spool.counts.values()) if region.spool is not None else 0
    streamed = spooled > BIG_ROWS
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                            "strings_to_urls": False,
                                            "strings_to_numbers": False,
                                            "constant_memory": streamed})
        book = _Book(wb, streamed)
        _overview(book, region)
        _tables(book, region)
        _investments(book, region)
        _transfers(book, region)
        _controls(book, region)
        _changes(book, region, changes, history_note)
        _trend(book, region, trend or [])
        _manifest(book, region)
        wb.close()


def _overview(b: _Book, region: Region) -> None:
    ws = b.sheet("Översikt", f"Regionsammanställning {region.budgetar}",
                 "Belopp i mkr. Netto = nämndens nettobudget (alla budgettyper).")
    rows: list[list[Cell]] = []
    for n, e in region.used.items():
        effect = e.effekt_mkr.get(region.budgetar) if e.effekt_mkr else None
        coverage = effect / e.gap_mkr if effect is not None and e.gap_mkr else None
        p = e.prognos_mkr
        rows.append([n, e.namndnamn, e.netto_mkr, effect, e.gap_mkr, coverage,
                     p[0] if p else None, p[2] if p else None, p[3] if p else None])
    first, last = b.table(ws, 3, "Namnder", [
        "Nämnd", "Namn", "Netto", f"Åtgärder {region.budgetar}", "Gap", "Täckningsgrad",
        "Prognos: budget", "Helårsprognos", "Avvikelse"], rows,
        [None, None, b.mkr, b.mkr, b.mkr, b.pct, b.mkr, b.mkr, b.mkr],
        [10, 30, 14, 14, 12, 14, 16, 14, 12])
    r = last + 2
    figures: list[tuple[str, Cell]] = [
        ("Regionens netto", region.region_netto),
        ("Finansiering", region.finansiering),
        ("Resultat (finansiering + netto)", region.resultat),
        ("Interna intäkter", region.interna[0]),
        ("Interna kostnader", region.interna[1]),
        ("Interna poster, obalans", region.interna[2]),
    ]
    for label, value in figures:
        ws.write_string(r, 0, label, b.bold)
        b.write(ws, r, 2, value if value is not None else "saknas (ingen Finansiering)", b.mkr)
        r += 1
    r += 1
    ws.write_string(r, 0, "Filer i inkorgen", b.bold)
    b.table(ws, r + 1, "Filer", ["Fil", "Nämnd", "Använd", "Fel", "Varningar", "Orsak"],
            [[f.name, f.namnd, f.used, f.errors, f.warnings, f.reason] for f in region.files],
            widths=[10, 30, 14, 14, 12, 60])
    if region.used:
        chart = b.wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Netto (mkr)", "categories": ["Översikt", first, 0, last, 0],
                          "values": ["Översikt", first, 2, last, 2]})
        chart.set_title({"name": "Nettobudget per nämnd"})
        chart.set_legend({"none": True})
        ws.insert_chart(3, 10, chart)
        if any(e.prognos_mkr for e in region.used.values()):
            chart2 = b.wb.add_chart({"type": "column"})
            for col, name in ((6, "Budget"), (7, "Helårsprognos")):
                chart2.add_series({"name": name, "categories": ["Översikt", first, 0, last, 0],
                                   "values": ["Översikt", first, col, last, col]})
            chart2.set_title({"name": "Prognos mot budget (mkr)"})
            ws.insert_chart(20, 10, chart2)


def _tables(b: _Book, region: Region) -> None:
    for spec in c.TABLES:
        if spec in (c.INFO, c.INVESTERINGAR):
            continue
        if not any(True for _ in region.rows(spec.name)):
            continue
        rows = ([n, *row] for n, row in region.rows(spec.name))
        headers = ["Nämnd", *[col.header_for(region.budgetar) for col in spec.columns]]
        formats = [None, *[b.mkr if col.kind is c.Kind.AMOUNT else None for col in spec.columns]]
        ws = b.sheet(spec.sheet, f"{spec.title} – alla nämnder {region.budgetar}",
                     "Belopp i mkr (omräknat från tkr där nämnden skriver i tkr).")
        b.table(ws, 3, spec.name, headers, rows, formats,
                [10, *[col.width for col in spec.columns]])


def _investments(b: _Book, region: Region) -> None:
    ws = b.sheet("Investeringar", f"Investeringar per budgetansvar {region.budgetar} (tkr)",
                 "Ett objekt som en nämnd begär och en annan har budget för räknas hos den "
                 "som har budgetansvaret.")
    items: Iterable[tuple[str, Investment]] = region.rows("investeringar")
    if not b.streamed:  # by budget holder; a streamed workbook keeps file order (autofilter)
        items = sorted(items, key=lambda x: (x[1].budgetansvar or x[0], x[0]))
    rows = ([item.budgetansvar or asked_by, asked_by,
             f"begärd av {asked_by}" if (item.budgetansvar or asked_by) != asked_by else "",
             item.omrade, item.objekt, item.typ, item.kategori, item.ar, item.belopp_tkr]
            for asked_by, item in items)
    _, last = b.table(ws, 3, "InvesteringarRegion", [
        "Budgetansvar", "Begärd av", "Not", "Område/Avdelning/Enhet", "Objekt", "Investeringstyp",
        "Kategori", "År", "Belopp (tkr)"], rows,
        [None] * 7 + [None, b.tkr], [14, 12, 18, 28, 32, 16, 14, 8, 14])
    r = last + 2
    ws.write_string(r, 0, "Mot investeringsramen (budgetåret)", b.bold)
    b.table(ws, r + 1, "Investeringsramar", ["Budgetansvar", "Investeringar", "Investeringsram",
                                              "Utrymme"],
            [[h, held, frame, (frame - held) if frame is not None else None]
             for h, (held, frame) in region.egen_ram_tkr.items()], [None, b.tkr, b.tkr, b.tkr])


def _transfers(b: _Book, region: Region) -> None:
    ws = b.sheet("Omdisponeringar", "Omdisponeringar mellan nämnder",
                 "Samma diarienummer ska bokas hos båda nämnderna med lika belopp och motsatt tecken.")
    rows: list[list[Cell]] = [
        [t.diarienummer, n, file, tr.fran, tr.till, tr.belopp_mkr, f"{tr.sheet}!{tr.cell}", t.status]
        for t in region.transfers for n, file, tr in t.sides]
    b.table(ws, 3, "Omdisponeringar", ["Diarienummer", "Nämnd", "Fil", "Från", "Till",
                                        "Belopp (mkr)", "Cell", "Status"], rows,
            [None] * 5 + [b.mkr, None, None], [16, 10, 30, 8, 8, 14, 20, 18])


def _controls(b: _Book, region: Region) -> None:
    ws = b.sheet("Kontroll", "Kontroll: alla fynd",
                 "Fynd från varje planbok och från kontrollerna mellan nämnderna.")
    rows: list[list[Cell]] = [
        [file, f.severity.swedish, f.code, f.sheet, f.cell, f.message]
        for file, f in region.findings]
    for item in region.files:
        rows.extend([item.name, f.severity.swedish, f.code, f.sheet, f.cell, f.message]
                    for f in item.findings if item.used)
    b.table(ws, 3, "Kontroll", ["Fil", "Allvarlighet", "Kod", "Blad", "Cell", "Meddelande"], rows,
            widths=[30, 12, 24, 18, 8, 100])


def _changes(b: _Book, region: Region, changes: list[Change] | None, note: str) -> None:
    ws = b.sheet("Förändringar", "Förändringar sedan förra sammanställningen",
                 note or "Per nämnd och objekt: nettobudget, områden, åtgärder, investeringar.")
    if changes is None:
        ws.write_string(3, 0, note or "Ingen tidigare sammanställning för budgetåret.")
        return
    rows: list[list[Cell]] = [[ch.namnd, KIND_LABELS.get(ch.kind, ch.kind), ch.objekt, ch.what,
                               ch.before, ch.after, ch.diff] for ch in changes]
    b.table(ws, 3, "Forandringar", ["Nämnd", "Slag", "Objekt", "Förändring", "Före", "Efter",
                                     "Skillnad"], rows, [None] * 4 + [b.mkr] * 3,
            [10, 30, 36, 12, 14, 14, 14])


def _trend(b: _Book, region: Region, trend: list[tuple[str, str, Decimal]]) -> None:
    """Net per nämnd, run by run (from the history), this run last."""
    ws = b.sheet("Trend", f"Nettobudget per nämnd, körning för körning {region.budgetar} (mkr)",
                 "Från historiken; utan historik visas bara denna körning.")
    runs = list(dict.fromkeys(when for when, _, _ in trend))
    values = {(when, n): v for when, n, v in trend}
    namnder = sorted({n for _, n, _ in trend})
    rows = [[n, *[values.get((when, n)) for when in runs]] for n in namnder]
    b.table(ws, 3, "Trend", ["Nämnd", *runs], rows, [None, *[b.mkr] * len(runs)],
            [10, *[22] * len(runs)])


def _manifest(b: _Book, region: Region) -> None:
    ws = b.sheet("Manifest", "Manifest: vilka filer sammanställningen bygger på")
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for r, (label, value) in enumerate((("xlplan", __version__),
                                        ("Kontraktsversion", str(c.CONTRACT_VERSION)),
                                        ("Skapad (UTC)", stamp),
                                        ("Budgetår", str(region.budgetar))), start=2):
        ws.write_string(r, 0, label, b.bold)
        ws.write_string(r, 1, value)
    b.table(ws, 7, "Manifest", ["Fil", "Nämnd", "SHA-256", "Använd", "Orsak"],
            [[f.name, f.namnd, f.sha256, f.used, f.reason] for f in region.files],
            widths=[30, 10, 68, 8, 60])
