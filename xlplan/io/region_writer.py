"""The Regionsammanställning workbook (xlsxwriter), written atomically.

Every text that came from a workbook is written with ``write_string``: it stays text,
whatever it starts with. Amounts are in mkr except investments (tkr).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlplan import __version__
from xlplan import contract as c
from xlplan.consolidation import InputFile, Region
from xlplan.extract import Investment
from xlplan.numbers import to_cell
from xlplan.store import KIND_LABELS, Change

Cell = str | Decimal | int | float | None


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
            ws.write_number(row, col, to_cell(value) if isinstance(value, Decimal) else value, fmt)


STREAM_FILES = 100  # files; a larger inbox is written in constant memory (streamed): in
# memory, xlsxwriter holds ~1 MB a planbok (200 files: 200 MB)
DETAIL = tuple(t for t in c.TABLES if t not in (c.INFO, c.INVESTERINGAR))
INVESTMENT_HEADERS = ["Budgetansvar", "Begärd av", "Not", "Område/Avdelning/Enhet", "Objekt",
                      "Investeringstyp", "Kategori", "År", "Belopp (tkr)"]


class _Growing:
    """A sheet whose table grows one file at a time (row order, so it also streams)."""

    def __init__(self, book: _Book, ws: Any, name: str, headers: Sequence[str],
                 formats: Sequence[Any], widths: Sequence[int], first_row: int = 3) -> None:
        self.book, self.ws, self.name = book, ws, name
        self.headers, self.formats = list(headers), list(formats)
        self.first_row = first_row
        self.next = first_row + 1
        for ci, width in enumerate(widths):
            ws.set_column(ci, ci, width)
        if book.streamed:  # the header row must come before the rows
            for ci, header in enumerate(headers):
                ws.write_string(first_row, ci, header, book.bold)

    def append(self, row: Sequence[Cell]) -> None:
        for ci, value in enumerate(row):
            self.book.write(self.ws, self.next, ci, value, self.formats[ci])
        self.next += 1

    def close(self) -> int:
        """Make it a table (an autofilter when streamed); returns the last row used."""
        last = max(self.next - 1, self.first_row + 1)
        if self.book.streamed:
            self.ws.autofilter(self.first_row, 0, last, len(self.headers) - 1)
        else:
            self.ws.add_table(self.first_row, 0, last, len(self.headers) - 1, {
                "name": self.name, "style": "Table Style Medium 2",
                "columns": [{"header": h} for h in self.headers]})
        return last


class RegionWriter:
    """Writes the Regionsammanställning while the inbox is read: each file's rows go into the
    detail sheets as the file arrives, so writing overlaps reading and nothing piles up in
    memory; :meth:`finish` adds what needs the whole region. Files must arrive newest first:
    the first file for a nämnd is the one used."""

    def __init__(self, path: Path, streamed: bool) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                                  "strings_to_urls": False,
                                                  "strings_to_numbers": False,
                                                  "constant_memory": streamed})
        self.book = _Book(self.wb, streamed)
        add = self.wb.add_worksheet
        self.overview = add("Översikt")
        self.detail_ws = {spec.name: add(spec.sheet) for spec in DETAIL}
        self.investments_ws = add("Investeringar")
        self.transfers_ws, self.controls_ws = add("Omdisponeringar"), add("Kontroll")
        self.changes_ws, self.trend_ws, self.manifest_ws = (add("Förändringar"), add("Trend"),
                                                             add("Manifest"))
        self.year: int | None = None
        self.used: dict[str, str] = {}  # nämnd -> file
        self.detail: dict[str, _Growing] = {}
        self.pending_investments: list[tuple[str, Investment]] = []
        b = self.book
        self.controls = self._titled(self.controls_ws, "Kontroll: alla fynd",
                                     "Fynd från varje planbok och från kontrollerna mellan "
                                     "nämnderna.", "Kontroll",
                                     ["Fil", "Allvarlighet", "Kod", "Blad", "Cell", "Meddelande"],
                                     [None] * 6, [30, 12, 24, 18, 8, 100])
        self.investments = self._titled(
            self.investments_ws, "Investeringar per budgetansvar (tkr)",
            "Ett objekt som en nämnd begär och en annan har budget för räknas hos den som har "
            "budgetansvaret.", "InvesteringarRegion", INVESTMENT_HEADERS,
            [None] * 8 + [b.tkr], [14, 12, 18, 28, 32, 16, 14, 8, 14])

    def _titled(self, ws: Any, title: str, note: str, name: str, headers: Sequence[str],
                formats: Sequence[Any], widths: Sequence[int]) -> _Growing:
        ws.write_string(0, 0, title, self.book.title)
        ws.write_string(1, 0, note, self.book.note)
        return _Growing(self.book, ws, name, headers, formats, widths)

    def _start(self, year: int) -> None:
        self.year = year
        b = self.book
        for spec in DETAIL:
            self.detail[spec.name] = self._titled(
                self.detail_ws[spec.name], f"{spec.title} – alla nämnder {year}",
                "Belopp i mkr (omräknat från tkr där nämnden skriver i tkr).", spec.name,
                ["Nämnd", *[col.header_for(year) for col in spec.columns]],
                [None, *[b.mkr if col.kind is c.Kind.AMOUNT else None for col in spec.columns]],
                [10, *[col.width for col in spec.columns]])

    def add(self, item: InputFile) -> None:
        """One file as it arrives: its rows and findings, if it is the nämnd's newest."""
        e = item.extract
        if e is None:
            return
        if self.year is None:
            self._start(e.budgetar)
        if e.budgetar != self.year or e.namnd in self.used:
            return  # another year (the run is refused), or an older file for the nämnd
        self.used[e.namnd] = item.name
        for spec in DETAIL:
            for row in e.rows.get(spec.name, []):
                self.detail[spec.name].append([e.namnd, *row])
        for investment in e.investments:
            if self.book.streamed:
                self._investment(e.namnd, investment)
            else:  # small enough to sort by budget holder at the end
                self.pending_investments.append((e.namnd, investment))
        for f in item.findings:
            self.controls.append([item.name, f.severity.swedish, f.code, f.sheet, f.cell,
                                  f.message])

    def _investment(self, asked_by: str, item: Investment) -> None:
        holder = item.budgetansvar or asked_by
        self.investments.append([holder, asked_by,
                                 f"begärd av {asked_by}" if holder != asked_by else "",
                                 item.omrade, item.objekt, item.typ, item.kategori, item.ar,
                                 item.belopp_tkr])

    def finish(self, region: Region, changes: list[Change] | None, history_note: str = "",
               trend: list[tuple[str, str, Decimal]] | None = None) -> None:
        if self.used != {n: f.name for n, f in ((f.namnd, f) for f in region.files if f.used)}:
            from xlplan.errors import ConsolidationRefused

            raise ConsolidationRefused("Inkorgen ändrades medan den lästes. Kör igen.")
        b = self.book
        _overview(b, self.overview, region)
        for growing in self.detail.values():
            growing.close()
        for asked_by, item in sorted(self.pending_investments,
                                     key=lambda x: (x[1].budgetansvar or x[0], x[0])):
            self._investment(asked_by, item)
        last = self.investments.close()
        ws = self.investments_ws
        ws.write_string(last + 2, 0, "Mot investeringsramen (budgetåret)", b.bold)
        b.table(ws, last + 3, "Investeringsramar",
                ["Budgetansvar", "Investeringar", "Investeringsram", "Utrymme"],
                [[h, held, frame, (frame - held) if frame is not None else None]
                 for h, (held, frame) in region.egen_ram_tkr.items()],
                [None, b.tkr, b.tkr, b.tkr])
        _transfers(b, self.transfers_ws, region)
        for file, f in region.findings:
            self.controls.append([file, f.severity.swedish, f.code, f.sheet, f.cell, f.message])
        self.controls.close()
        _changes(b, self.changes_ws, region, changes, history_note)
        _trend(b, self.trend_ws, region, trend or [])
        _manifest(b, self.manifest_ws, region)
        self.wb.close()

    def abort(self) -> None:
        """Give up (the temp file is removed by the caller)."""
        with contextlib.suppress(Exception):
            self.wb.close()


def _titles(b: _Book, ws: Any, title: str, note: str = "") -> None:
    ws.write_string(0, 0, title, b.title)
    if note:
        ws.write_string(1, 0, note, b.note)


def _overview(b: _Book, ws: Any, region: Region) -> None:
    _titles(b, ws, f"Regionsammanställning {region.budgetar}",
            "Belopp i mkr. Netto = nämndens nettobudget (alla budgettyper).")
    years = [region.budgetar + i for i in range(3)]
    rows: list[list[Cell]] = []
    for n, e in region.used.items():
        # each year's effect against the base year's frame: never added together
        effects = [e.effekt_mkr.get(y) if e.effekt_mkr else None for y in years]
        coverage = [v / e.gap_mkr if v is not None and e.gap_mkr else None for v in effects]
        p = e.prognos_mkr
        rows.append([n, e.namndnamn, e.netto_mkr, e.gap_mkr, *effects, *coverage,
                     p[0] if p else None, p[2] if p else None, p[3] if p else None])
    first, last = b.table(ws, 3, "Namnder", [
        "Nämnd", "Namn", "Netto", "Gap", *[f"Åtgärder {y}" for y in years],
        *[f"Täckningsgrad {y}" for y in years], "Prognos: budget", "Helårsprognos",
        "Avvikelse"], rows,
        [None, None, b.mkr, b.mkr, b.mkr, b.mkr, b.mkr, b.pct, b.pct, b.pct, b.mkr, b.mkr, b.mkr],
        [10, 30, 14, 12, 14, 14, 14, 16, 16, 16, 16, 14, 12])
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
            widths=[30, 10, 10, 8, 10, 60])
    if region.used:
        chart = b.wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Netto (mkr)", "categories": ["Översikt", first, 0, last, 0],
                          "values": ["Översikt", first, 2, last, 2]})
        chart.set_title({"name": "Nettobudget per nämnd"})
        chart.set_legend({"none": True})
        ws.insert_chart(3, 14, chart)
        if any(e.prognos_mkr for e in region.used.values()):
            chart2 = b.wb.add_chart({"type": "column"})
            for col, name in ((10, "Budget"), (11, "Helårsprognos")):
                chart2.add_series({"name": name, "categories": ["Översikt", first, 0, last, 0],
                                   "values": ["Översikt", first, col, last, col]})
            chart2.set_title({"name": "Prognos mot budget (mkr)"})
            ws.insert_chart(20, 14, chart2)


def _transfers(b: _Book, ws: Any, region: Region) -> None:
    _titles(b, ws, "Omdisponeringar mellan nämnder",
            "Samma diarienummer ska bokas hos båda nämnderna med lika belopp och motsatt tecken.")
    rows: list[list[Cell]] = [
        [t.diarienummer, n, file, tr.fran, tr.till, tr.belopp_mkr, f"{tr.sheet}!{tr.cell}", t.status]
        for t in region.transfers for n, file, tr in t.sides]
    b.table(ws, 3, "Omdisponeringar", ["Diarienummer", "Nämnd", "Fil", "Från", "Till",
                                        "Belopp (mkr)", "Cell", "Status"], rows,
            [None] * 5 + [b.mkr, None, None], [16, 10, 30, 8, 8, 14, 20, 18])


def _changes(b: _Book, ws: Any, region: Region, changes: list[Change] | None,
             note: str) -> None:
    _titles(b, ws, "Förändringar sedan förra sammanställningen",
            note or "Per nämnd och objekt: nettobudget, områden, åtgärder, investeringar.")
    if changes is None:
        ws.write_string(3, 0, note or "Ingen tidigare sammanställning för budgetåret.")
        return
    rows: list[list[Cell]] = [[ch.namnd, KIND_LABELS.get(ch.kind, ch.kind), ch.objekt, ch.what,
                               ch.before, ch.after, ch.diff] for ch in changes]
    b.table(ws, 3, "Forandringar", ["Nämnd", "Slag", "Objekt", "Förändring", "Före", "Efter",
                                     "Skillnad"], rows, [None] * 4 + [b.mkr] * 3,
            [10, 30, 36, 12, 14, 14, 14])


def _trend(b: _Book, ws: Any, region: Region, trend: list[tuple[str, str, Decimal]]) -> None:
    """Net per nämnd, run by run (from the history), this run last."""
    _titles(b, ws, f"Nettobudget per nämnd, körning för körning {region.budgetar} (mkr)",
            "Från historiken; utan historik visas bara denna körning.")
    runs = list(dict.fromkeys(when for when, _, _ in trend))
    values = {(when, n): v for when, n, v in trend}
    namnder = sorted({n for _, n, _ in trend})
    rows = [[n, *[values.get((when, n)) for when in runs]] for n in namnder]
    b.table(ws, 3, "Trend", ["Nämnd", *runs], rows, [None, *[b.mkr] * len(runs)],
            [10, *[22] * len(runs)])


def _manifest(b: _Book, ws: Any, region: Region) -> None:
    _titles(b, ws, "Manifest: vilka filer sammanställningen bygger på")
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
