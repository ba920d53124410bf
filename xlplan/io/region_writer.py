"""The Regionsammanställning workbook (xlsxwriter), written atomically.

Every text that came from a workbook is written with ``write_text`` (xlplan.io.xltext): it
stays text, whatever it starts with. Amounts are in mkr except investments (tkr).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import tempfile
import typing
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlplan import __version__
from xlplan import contract as c
from xlplan.changes import KIND_LABELS, Baseline, Change, Key
from xlplan.extract import Investment
from xlplan.io.fastrows import FastRows
from xlplan.io.fastrows import usable as fast_usable
from xlplan.io.overview import page_setup, write_overview
from xlplan.io.region_rows import (
    CONTROLS,
    DETAIL,
    INVESTMENTS,
    Block,
    Layout,
    amounts,
    control_row,
    detail_rows,
    investment_row,
)
from xlplan.io.xltext import subtotal_formula, write_text
from xlplan.numbers import MKR_FORMAT, SHARE_FORMAT, TKR_FORMAT, to_cell
from xlplan.region import InputFile, Region

Cell = str | Decimal | int | float | None


class _Book:
    def __init__(self, wb: Any, streamed: bool) -> None:
        self.wb = wb
        self.streamed = streamed
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.mkr = wb.add_format({"num_format": MKR_FORMAT})
        self.tkr = wb.add_format({"num_format": TKR_FORMAT})
        self.pct = wb.add_format({"num_format": SHARE_FORMAT})
        self.bold = wb.add_format({"bold": True})
        self.red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.amber = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        if streamed:  # style indexes in a fixed order, whichever way rows are written (fastrows)
            for fmt in (self.title, self.note, self.mkr, self.tkr, self.pct, self.bold):
                fmt._get_xf_index()

    def table(self, ws: Any, first_row: int, name: str, headers: Sequence[str],
              rows: Iterable[Sequence[Cell]], formats: Sequence[Any] | None = None,
              widths: Sequence[int] | None = None) -> tuple[int, int]:
        """An Excel table at ``first_row`` (streamed: a header with an autofilter, since
        xlsxwriter has no tables in constant-memory mode); returns (first, last data row)."""
        for ci, width in enumerate(widths or [16] * len(headers)):
            ws.set_column(ci, ci, width)
        _room(ws, first_row + 1)  # the header and at least one row
        if self.streamed:
            for ci, header in enumerate(headers):
                write_text(ws, first_row, ci, header, self.bold)
            last = first_row
            fast = FastRows(ws, formats or [None] * len(headers)) if fast_usable(ws) else None
            for last, row in enumerate(rows, start=first_row + 1):
                _room(ws, last)
                if fast is not None and fast.append(last, row):
                    continue
                for ci, value in enumerate(row):
                    self.write(ws, last, ci, value, formats[ci] if formats else None)
            ws.autofilter(first_row, 0, max(last, first_row + 1), len(headers) - 1)
            return first_row + 1, max(last, first_row + 1)
        body = list(rows) or [[None] * len(headers)]
        last = first_row + len(body)
        _room(ws, last)
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
            write_text(ws, row, col, value, fmt)  # never a formula, whatever it starts with
        elif isinstance(value, bool):
            write_text(ws, row, col, "Ja" if value else "Nej", fmt)
        else:
            ws.write_number(row, col, to_cell(value) if isinstance(value, Decimal) else value, fmt)


STREAM_FILES = 100  # files; a larger inbox is written in constant memory (streamed): in
# memory, xlsxwriter holds ~1 MB a planbok (200 files: 200 MB)
INVESTMENT_WIDTHS = [14, 14, 18, 28, 32, 16, 14, 8, 14]
INVESTMENT_HEADERS = ["Budgetansvar", "Begärd av", "Not", "Område/Avdelning/Enhet", "Objekt",
                      "Investeringstyp", "Kategori", "År", "Belopp (tkr)"]


class SheetFull(Exception):
    """More rows than an Excel sheet holds (the run turns it into its refusal)."""

    def __init__(self, sheet: str) -> None:
        super().__init__(sheet)
        self.sheet = sheet


MAX_ROWS = 1_048_576  # rows on an Excel sheet; xlsxwriter drops a write beyond it silently


def _room(ws: Any, row: int) -> None:
    """Row ``row`` (0-based) must exist on the sheet: refuse, never lose rows."""
    if row >= MAX_ROWS:
        raise SheetFull(ws.name)


class _Growing:
    """A sheet whose table grows one file at a time (row order, so it also streams)."""

    def __init__(self, book: _Book, ws: Any, name: str, headers: Sequence[str],
                 formats: Sequence[Any], widths: Sequence[int], first_row: int = 3,
                 freeze_cols: int = 1) -> None:
        self.book, self.ws, self.name = book, ws, name
        self.sums: dict[int, Decimal] = {}  # column -> its total (amount columns)
        ws.freeze_panes(first_row + 1, freeze_cols)
        page_setup(ws, header_rows=(first_row, first_row))
        self.headers, self.formats = list(headers), list(formats)
        self.first_row = first_row
        self.next = first_row + 1
        for ci, width in enumerate(widths):
            ws.set_column(ci, ci, width)
        self.fast: FastRows | None = None
        if book.streamed:  # the header row must come before the rows
            for ci, header in enumerate(headers):
                write_text(ws, first_row, ci, header, book.bold)
            self.fast = FastRows(ws, formats) if fast_usable(ws) else None

    def append(self, row: Sequence[Cell]) -> None:
        _room(self.ws, self.next)
        written = self.fast is not None and self.fast.append(self.next, row)
        if not written:
            for ci, value in enumerate(row):
                self.book.write(self.ws, self.next, ci, value, self.formats[ci])
        amounts([f is not None for f in self.formats], row, self.sums)
        self.next += 1

    def styles(self) -> tuple[str, ...] | None:
        """The columns' style attributes for rows rendered elsewhere
        (:mod:`xlplan.io.region_rows`); None: this sheet's rows go through xlsxwriter."""
        styles = None if self.fast is None else self.fast.styles()
        return None if styles is None else tuple(styles)

    def extend(self, block: Block) -> None:
        """One file's rows, rendered by a worker: ready XML straight into the stream, the
        rows it could not render through :meth:`append`."""
        rows = block.rows
        if block.values == 0:  # all rendered (nearly always): one write, no scan
            self._rendered(typing.cast(list[str], rows), block)
        else:
            for is_text, run in itertools.groupby(rows, key=lambda row: isinstance(row, str)):
                if is_text:
                    self._rendered(typing.cast(list[str], list(run)), block)
                else:
                    for row in run:
                        self.append(typing.cast(list[Cell], row))
        for ci, total in block.sums.items():
            self.sums[ci] = self.sums.get(ci, Decimal(0)) + total

    def _rendered(self, texts: list[str], block: Block) -> None:
        if not texts:
            return
        _room(self.ws, self.next + len(texts) - 1)
        if self.fast is None or not self.fast.block(self.next, texts, block.first_col,
                                                    block.last_col):
            raise SheetFull(self.ws.name)
        self.next += len(texts)

    def close(self, totals: bool = True) -> int:
        """Make it a table (an autofilter when streamed) with a totals row under the amount
        columns; returns the last row used."""
        last = max(self.next - 1, self.first_row + 1)
        amounts = [ci for ci, f in enumerate(self.formats) if f is not None]
        totals = totals and bool(amounts)
        if self.book.streamed:
            self.ws.autofilter(self.first_row, 0, last, len(self.headers) - 1)
            if totals:
                from xlsxwriter.utility import xl_range

                last += 1
                _room(self.ws, last)
                write_text(self.ws, last, 0, "Summa", self.book.bold)
                for ci in amounts:
                    self.ws.write_formula(last, ci, "=SUBTOTAL(109,"
                                          f"{xl_range(self.first_row + 1, ci, last - 1, ci)})",
                                          self.formats[ci], to_cell(self.sums.get(ci, Decimal(0))))
            return last
        columns: list[dict[str, Any]] = [{"header": h} for h in self.headers]
        if totals:
            last += 1
            columns[0]["total_string"] = "Summa"
            for ci in amounts:
                columns[ci].update({"total_function": "sum", "format": self.formats[ci],
                                    "total_value": to_cell(self.sums.get(ci, Decimal(0)))})
        _room(self.ws, last)
        self.ws.add_table(self.first_row, 0, last, len(self.headers) - 1, {
            "name": self.name, "style": "Table Style Medium 2", "columns": columns,
            "total_row": totals})
        if totals:  # the totals cells as Excel stores them (see subtotal_formula)
            for ci in amounts:
                self.ws.write_formula(last, ci, subtotal_formula(self.name, self.headers[ci]),
                                      self.formats[ci], to_cell(self.sums.get(ci, Decimal(0))))
        return last


class RegionWriter:
    """Writes the Regionsammanställning while the inbox is read: each file's rows go into the
    detail sheets as the file arrives, so writing overlaps reading and nothing piles up in
    memory; :meth:`finish` adds what needs the whole region. Files must arrive newest first:
    the first file for a nämnd is the one used."""

    def __init__(self, path: Path, streamed: bool, region_name: str = "") -> None:
        from xlplan.io.deflate import FastDeflateWorkbook

        self.region_name = region_name
        # xlsxwriter's own temp files (a streamed sheet's rows) in a folder of ours, removed
        # however the run ends: a full disk or Ctrl-C left them in the temp folder
        self.tmpdir = tempfile.TemporaryDirectory(prefix="xlplan-ark-")
        self.wb = FastDeflateWorkbook(str(path), {"strings_to_formulas": False,
                                                  "strings_to_urls": False,
                                                  "strings_to_numbers": False,
                                                  "constant_memory": streamed,
                                                  "tmpdir": self.tmpdir.name})
        self.book = _Book(self.wb, streamed)
        add = self.wb.add_worksheet
        self.overview = add("Översikt")
        self.detail_ws = {spec.name: add(spec.sheet) for spec in DETAIL}
        self.investments_ws = add("Investeringar")
        self.transfers_ws, self.controls_ws = add("Omdisponeringar"), add("Kontroll")
        self.changes_ws, self.trend_ws, self.manifest_ws = (add("Förändringar"), add("Trend"),
                                                             add("Manifest"))
        self.year: int | None = None
        self.used: dict[str, Path] = {}  # nämnd -> file (the run checks it against its choice)
        self.replaced: set[str] = set()  # nämnder whose newest file cannot be used
        self.detail: dict[str, _Growing] = {}
        self.pending_investments: list[tuple[str, Investment]] = []
        self.rendered_for: Layout | None = None  # the layout handed to the workers
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
            [None] * 8 + [b.tkr], INVESTMENT_WIDTHS)

    def _titled(self, ws: Any, title: str, note: str, name: str, headers: Sequence[str],
                formats: Sequence[Any], widths: Sequence[int]) -> _Growing:
        write_text(ws, 0, 0, title, self.book.title)
        write_text(ws, 1, 0, note, self.book.note)
        return _Growing(self.book, ws, name, headers, formats, widths)

    def _detail_formats(self, spec: c.Table) -> list[Any]:
        return [None, *[self.book.mkr if col.kind is c.Kind.AMOUNT else None
                        for col in spec.columns]]

    def _start(self, year: int) -> None:
        self.year = year
        for spec in DETAIL:
            self.detail[spec.name] = self._titled(
                self.detail_ws[spec.name], f"{spec.title} – alla nämnder {year}",
                "Belopp i mkr (omräknat från tkr där nämnden skriver i tkr).", spec.name,
                ["Nämnd", *[col.header_for(year) for col in spec.columns]],
                self._detail_formats(spec), [10, *[col.width for col in spec.columns]])

    def layout(self) -> Layout | None:
        """How the workers may render each file's rows for this workbook
        (:func:`xlplan.io.region_rows.render_file`); None: rows come as values."""
        if not self.book.streamed:
            return None  # tables, and investments sorted at the end: written from values
        sheets = {spec.name: FastRows(self.detail_ws[spec.name], self._detail_formats(spec))
                  for spec in DETAIL}
        sheets[INVESTMENTS] = FastRows(self.investments_ws, self.investments.formats)
        sheets[CONTROLS] = FastRows(self.controls_ws, self.controls.formats)
        styles: dict[str, tuple[str, ...]] = {}
        for key, fast in sheets.items():
            found = fast.styles() if fast_usable(fast.ws) else None
            if found is None:
                return None
            styles[key] = tuple(found)
        self.rendered_for = Layout(styles)
        return self.rendered_for

    def add(self, item: InputFile) -> None:
        """One file as it arrives: its rows and findings, if it is the nämnd's newest."""
        e = item.extract
        blocks = (item.rendered.blocks if item.rendered is not None
                  and item.rendered.layout == self.rendered_for else None)
        if e is None:  # not used (unreadable, or a figure missing): its findings say why
            if item.namnd is None or (item.namnd not in self.used
                                      and item.namnd not in self.replaced):
                self._controls(item, blocks)
                if item.namnd is not None:  # the nämnd's newest: no older file in its place
                    self.replaced.add(item.namnd)
            return
        if self.year is None:
            self._start(e.budgetar)
        if e.budgetar != self.year or e.namnd in self.used or e.namnd in self.replaced:
            return  # another year (the run is refused), or an older file for the nämnd
        self.used[e.namnd] = item.path  # the path: two names may read alike once cleaned
        if blocks is not None:
            for spec in DETAIL:
                self.detail[spec.name].extend(blocks[spec.name])
            self.investments.extend(blocks[INVESTMENTS])
        else:
            for spec in DETAIL:
                for row in detail_rows(e, spec.name):
                    self.detail[spec.name].append(row)
            for investment in e.investments:
                if self.book.streamed:
                    self.investments.append(investment_row(e.namnd, investment))
                else:  # small enough to sort by budget holder at the end
                    self.pending_investments.append((e.namnd, investment))
        self._controls(item, blocks)

    def _controls(self, item: InputFile, blocks: dict[str, Block] | None) -> None:
        if blocks is not None:
            self.controls.extend(blocks[CONTROLS])
            return
        for f in item.findings:
            self.controls.append(control_row(item.name, f))

    def finish(self, region: Region, changes: list[Change] | None, history_note: str = "",
               trend: list[tuple[str, str, Decimal]] | None = None,
               baseline: Baseline | None = None,
               figures: dict[Key, Decimal] | None = None,
               prognos: Iterable[list[Cell]] | None = None) -> None:
        """``prognos``: Förändringar's prognos rows, when the history streams them
        (xlplan.history_stream); else they are made from ``baseline`` and ``figures``."""
        b = self.book
        write_overview(b, self.overview, region, self.region_name)
        for growing in self.detail.values():
            growing.close()
        for asked_by, item in sorted(self.pending_investments,
                                     key=lambda x: (x[1].budgetansvar or x[0], x[0])):
            self.investments.append(investment_row(asked_by, item))
        last = self.investments.close()
        ws = self.investments_ws
        write_text(ws, last + 2, 0, "Mot investeringsramen (budgetåret)", b.bold)
        first, end = b.table(ws, last + 3, "Investeringsramar",
                ["Budgetansvar", "Investeringar", "Investeringsram", "Utrymme"],
                [[h, held, frame, (frame - held) if frame is not None else None]
                 for h, (held, frame) in region.egen_ram_tkr.items()],
                [None, b.tkr, b.tkr, b.tkr], INVESTMENT_WIDTHS[:4])  # the sheet's widths
        ws.conditional_format(first, 3, end, 3, {"type": "cell", "criteria": "<", "value": 0,
                                                 "format": b.red})  # negative room
        _transfers(b, self.transfers_ws, region)
        for f in region.findings:
            self.controls.append([f.file, f.severity.swedish, f.code, f.sheet, f.cell, f.message])
        last = self.controls.close()
        for word, fmt in (("Fel", b.red), ("Varning", b.amber)):  # errors and warnings apart
            self.controls_ws.conditional_format(4, 1, last, 1, {
                "type": "cell", "criteria": "==", "value": f'"{word}"', "format": fmt})
        _changes(b, self.changes_ws, region, changes, history_note, baseline, figures or {},
                 prognos)
        _trend(b, self.trend_ws, region, trend or [])
        _manifest(b, self.manifest_ws, region)
        try:
            self.wb.close()
        finally:
            self._clean()

    def abort(self) -> None:
        """Give up (the temp file is removed by the caller)."""
        with contextlib.suppress(Exception):
            self.wb.close()
        self._clean()

    def _clean(self) -> None:
        with contextlib.suppress(OSError):
            self.tmpdir.cleanup()


def _titles(b: _Book, ws: Any, title: str, note: str = "") -> None:
    write_text(ws, 0, 0, title, b.title)
    if note:
        write_text(ws, 1, 0, note, b.note)


def _transfers(b: _Book, ws: Any, region: Region) -> None:
    _titles(b, ws, "Omdisponeringar mellan nämnder",
            "Samma diarienummer ska bokas hos båda nämnderna med lika belopp och motsatt tecken.")
    page_setup(ws, header_rows=(3, 3))
    ws.freeze_panes(4, 0)
    rows: list[list[Cell]] = [
        [t.diarienummer, n, file, tr.fran, tr.till, tr.belopp_mkr, f"{tr.sheet}!{tr.cell}", t.status]
        for t in region.transfers for n, file, tr in t.sides]
    b.table(ws, 3, "Omdisponeringar", ["Diarienummer", "Nämnd", "Fil", "Från", "Till",
                                        "Belopp (mkr)", "Cell", "Status"], rows,
            [None] * 5 + [b.mkr, None, None], [16, 10, 30, 8, 8, 14, 20, 18])


CHANGES_WIDTHS = [10, 30, 36, 16, 16, 16, 16, 16]  # both tables on Förändringar: one grid


def _changes(b: _Book, ws: Any, region: Region, changes: list[Change] | None, note: str,
             baseline: Baseline | None, figures: dict[Key, Decimal],
             prognos: Iterable[list[Cell]] | None = None) -> None:
    """What changed against the previous month, then every nämnd's and område's prognos
    against that month (the figure the ekonomidirektör follows most)."""
    month = region.rapportmanad or "denna körning"
    against = baseline.label if baseline is not None else "föregående månad"
    _titles(b, ws, f"Förändringar {month} mot {against}",
            note or "Per nämnd och objekt: nettobudget, områden, prognos, åtgärder, investeringar.")
    page_setup(ws, header_rows=(3, 3))
    ws.freeze_panes(4, 1)
    if changes is None:
        write_text(ws, 3, 0, note or "Ingen tidigare sammanställning för budgetåret.")
        return
    if not changes:
        write_text(ws, 3, 0, f"Inga förändringar mot {against}.", b.bold)
        last = 3
    else:
        rows: list[list[Cell]] = [[ch.namnd, KIND_LABELS.get(ch.kind, ch.kind), ch.objekt,
                                   ch.what, ch.before, ch.after, ch.diff] for ch in changes]
        _, last = b.table(ws, 3, "Forandringar", ["Nämnd", "Slag", "Objekt", "Förändring",
                                                  "Före", "Efter", "Skillnad"], rows,
                          [None] * 4 + [b.mkr] * 3, CHANGES_WIDTHS)
    if prognos is None:
        before = baseline.figures if baseline is not None else {}
        keys = sorted({(n, o) for (n, k, o) in (*figures, *before) if k == "prognos"},
                      key=lambda key: (key[0], key[1] != "Totalt", key[1]))
        prognos = ([n, o, *[d.get((n, kind, o)) for kind in ("budget", "prognos", "avvikelse")
                            for d in (before, figures)]] for n, o in keys)
    rows_left = iter(prognos)
    head = next(rows_left, None)
    if head is None:
        return
    write_text(ws, last + 2, 0, f"Prognos per nämnd och område: {month} mot {against} (mkr)",
                    b.bold)
    prow = itertools.chain([head], rows_left)
    first, end = b.table(ws, last + 3, "ForandringarPrognos",
                         ["Nämnd", "Område", "Budget före", "Budget", "Helårsprognos före",
                          "Helårsprognos", "Avvikelse före", "Avvikelse"], prow,
                         [None, None] + [b.mkr] * 6, CHANGES_WIDTHS)
    for col in (6, 7):  # avvikelse: negative (worse than budget) red
        ws.conditional_format(first, col, end, col, {"type": "cell", "criteria": "<",
                                                     "value": 0, "format": b.red})


def _trend(b: _Book, ws: Any, region: Region, trend: list[tuple[str, str, Decimal]]) -> None:
    """Net per nämnd, month by month (from the history), this run's month last."""
    _titles(b, ws, f"Nettobudget per nämnd, månad för månad {region.budgetar} (mkr)",
            "Från historiken: den senaste körningen för varje rapportmånad.")
    months = sorted(dict.fromkeys(when for when, _, _ in trend))
    values = {(when, n): v for when, n, v in trend}
    namnder = sorted({n for _, n, _ in trend})
    rows = [[n, *[values.get((when, n)) for when in months]] for n in namnder]
    b.table(ws, 3, "Trend", ["Nämnd", *months], rows, [None, *[b.mkr] * len(months)],
            [10, *[12] * len(months)])
    ws.freeze_panes(4, 1)
    page_setup(ws, header_rows=(3, 3))


def _manifest(b: _Book, ws: Any, region: Region) -> None:
    _titles(b, ws, "Manifest: vilka filer sammanställningen bygger på")
    page_setup(ws)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for r, (label, value) in enumerate((("xlplan", __version__),
                                        ("Kontraktsversion", str(c.CONTRACT_VERSION)),
                                        ("Skapad (UTC)", stamp),
                                        ("Budgetår", str(region.budgetar)),
                                        ("Rapportmånad", region.rapportmanad or "saknas")),
                                       start=2):
        write_text(ws, r, 0, label, b.bold)
        write_text(ws, r, 1, value)
    b.table(ws, 8, "Manifest", ["Fil", "Nämnd", "SHA-256", "Använd", "Orsak"],
            [[f.name, f.namnd, f.sha256, f.used, f.reason] for f in region.files],
            widths=[30, 10, 68, 8, 60])
