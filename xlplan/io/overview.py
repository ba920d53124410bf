"""The `Översikt` sheet of the Regionsammanställning: what the ekonomidirektör reads first.

Each block is its own table with its own header row, stacked top to bottom on one grid:
column A holds codes (Nämnd, Budgetansvar), column B text (Namn, Post, Fil), the columns
from C numbers. So no column is sized for one block at another's expense, and the sheet is
written in row order (which a streamed workbook needs). Charts stand beside their tables.
The sheet prints on one landscape page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlplan.io.xltext import subtotal_formula, write_text
from xlplan.numbers import MKR_FORMAT, TKR_FORMAT, to_cell
from xlplan.region import Region

Cell = str | Decimal | int | float | None
SHEET = "Översikt"
WIDTHS = [13, 30, 13, 13, 13, 13, 13, 13, 13, 2]  # A code, B text, C.. numbers, J gap
CHART_COL = 10  # K: charts stand beside the tables (A:E; the åtgärdsplan A:I)
CHART_W, CHART_H = 560, 250  # pixels
ROW_PX = 20
RED, GREEN, AMBER = ("#FFC7CE", "#9C0006"), ("#C6EFCE", "#006100"), ("#FFEB9C", "#9C5700")
ZERO = Decimal(0)


@dataclass
class Block:
    header: int  # row of the header
    first: int  # first data row
    last: int  # last data row (the totals row is last + 1 when there is one)
    cols: int
    end: int  # the last row used (totals included)


class Overview:
    def __init__(self, book: Any, ws: Any) -> None:
        self.b, self.ws, self.wb = book, ws, book.wb
        self.row = 0
        self.chart_row = 0  # the first row free for the next chart
        self.last_col = len(WIDTHS) - 1
        self.red = self.wb.add_format({"bg_color": RED[0], "font_color": RED[1]})
        self.green = self.wb.add_format({"bg_color": GREEN[0], "font_color": GREEN[1]})
        self.amber = self.wb.add_format({"bg_color": AMBER[0], "font_color": AMBER[1]})
        self.block_title = self.wb.add_format({"bold": True, "font_size": 12,
                                               "font_color": "#1F3864"})
        self.header = self.wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1,
                                          "text_wrap": True, "valign": "bottom"})
        self.total_mkr = self.wb.add_format({"bold": True, "num_format": MKR_FORMAT, "top": 1})
        self.total_tkr = self.wb.add_format({"bold": True, "num_format": TKR_FORMAT, "top": 1})
        self.total_text = self.wb.add_format({"bold": True, "top": 1})
        self.status = self.wb.add_format({"indent": 1})
        for ci, width in enumerate(WIDTHS):
            ws.set_column(ci, ci, width)

    # --- building blocks -----------------------------------------------------------------

    def title(self, text: str, note: str) -> None:
        write_text(self.ws, 0, 0, text, self.b.title)
        write_text(self.ws, 1, 0, note, self.b.note)
        self.row = 3

    def block(self, name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]],
              formats: Sequence[Any], first_col: int = 0,
              totals: Sequence[Cell] | None = None) -> Block:
        """A titled table at the next free row; ``totals`` is the totals row (labels and
        values; the values are also the cached results of its SUBTOTAL formulas)."""
        ws, b = self.ws, self.b
        write_text(ws, self.row, 0, title, self.block_title)
        header = self.row + 1
        ws.set_row(header, 30)  # two lines: headers wrap in their column, never spill over
        body = list(rows) or [[None] * len(headers)]
        first, last = header + 1, header + len(body)
        end = last + (1 if totals is not None else 0)
        c0, c1 = first_col, first_col + len(headers) - 1
        if b.streamed:  # no tables in constant-memory mode: a styled header and rows
            for ci, h in enumerate(headers):
                write_text(ws, header, c0 + ci, h, self.header)
            for r, row in enumerate(body):
                for ci, value in enumerate(row):
                    b.write(ws, first + r, c0 + ci, value, formats[ci])
            if totals is not None:
                for ci, value in enumerate(totals):
                    self._total_cell(end, c0 + ci, value, formats[ci], first, last)
        else:
            columns: list[dict[str, Any]] = []
            for ci, h in enumerate(headers):
                column: dict[str, Any] = {"header": h, "header_format": self.header}
                if totals is not None:
                    value = totals[ci]
                    if isinstance(value, str):
                        column["total_string"] = value
                    elif value is not None:
                        column["total_function"] = "sum"
                        column["total_value"] = (to_cell(value) if isinstance(value, Decimal | int)
                                                 else value)
                        column["format"] = formats[ci]
                columns.append(column)
            ws.add_table(header, c0, end, c1, {"name": name, "style": "Table Style Light 9",
                                                "columns": columns,
                                                "total_row": totals is not None,
                                                "autofilter": False})
            for ci, column in enumerate(columns):  # as Excel stores them (subtotal_formula)
                if "total_function" in column:
                    ws.write_formula(end, c0 + ci, subtotal_formula(name, headers[ci]),
                                     formats[ci], column["total_value"])
            for r, row in enumerate(body):
                for ci, value in enumerate(row):
                    b.write(ws, first + r, c0 + ci, value, formats[ci])
        self.row = end + 2
        return Block(header, first, last, len(headers), end)

    def _total_cell(self, row: int, col: int, value: Cell, fmt: Any, first: int, last: int) -> None:
        from xlsxwriter.utility import xl_range

        if isinstance(value, str):
            write_text(self.ws, row, col, value, self.total_text)
        elif value is not None:
            total_fmt = self.total_tkr if fmt is self.b.tkr else self.total_mkr
            self.ws.write_formula(row, col, f"=SUBTOTAL(109,{xl_range(first, col, last, col)})",
                                  total_fmt,
                                  to_cell(value) if isinstance(value, Decimal | int) else value)

    def chart(self, kind: str, at_row: int, title: str, series: Sequence[tuple[str, int]],
              block: Block, unit: str, *, categories_col: int = 0, legend: bool = True,
              colours: Sequence[str] = ("#4472C4", "#ED7D31"),
              signs: Sequence[Decimal] | None = None, labels: bool = True) -> None:
        """A chart of ``block``'s rows beside the tables, with its unit on the value axis and
        Swedish number format (a space for thousands, shown so by Swedish Excel)."""
        chart = self.wb.add_chart({"type": kind})
        for (name, col), colour in zip(series, colours, strict=False):
            options: dict[str, Any] = {
                "name": name, "categories": [SHEET, block.first, categories_col, block.last,
                                             categories_col],
                "values": [SHEET, block.first, col, block.last, col],
                "fill": {"color": colour}, "border": {"none": True}}
            if labels:
                options["data_labels"] = {"value": True, "num_format": MKR_FORMAT}
            if signs is not None:  # worse than budget red, better green, point by point
                options["points"] = [{"fill": {"color": "#C00000" if v < 0 else "#548235"},
                                      "border": {"none": True}} for v in signs]
            chart.add_series(options)
        chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
        value_axis = {"name": unit, "num_format": TKR_FORMAT, "major_gridlines": {
            "visible": True, "line": {"color": "#D9D9D9"}}}
        if kind == "bar":
            chart.set_x_axis(value_axis)
            # the first nämnd on top, as in the table; names left of the bars, also when
            # the values are negative
            chart.set_y_axis({"reverse": True, "label_position": "low"})
        else:
            chart.set_y_axis(value_axis)
        chart.set_legend({"position": "bottom"} if legend else {"none": True})
        chart.set_size({"width": CHART_W, "height": CHART_H})
        row = max(at_row, self.chart_row)
        self.ws.insert_chart(row, CHART_COL, chart, {"x_offset": 8, "y_offset": 4,
                                                     "object_position": 1})
        self.chart_row = row + CHART_H // ROW_PX + 2

    def less_than(self, rng: tuple[int, int, int, int], fmt: Any, value: float = 0) -> None:
        self.ws.conditional_format(*rng, {"type": "cell", "criteria": "<", "value": value,
                                          "format": fmt})

    def greater_than(self, rng: tuple[int, int, int, int], fmt: Any, value: float = 0) -> None:
        self.ws.conditional_format(*rng, {"type": "cell", "criteria": ">", "value": value,
                                          "format": fmt})

    def finish(self) -> None:
        """Frozen title, one landscape page."""
        ws = self.ws
        last = max(self.row, self.chart_row) - 1
        ws.freeze_panes(3, 0)
        ws.print_area(0, 0, last, CHART_COL + 8)
        page_setup(ws, one_page=True)


def page_setup(ws: Any, *, one_page: bool = False, header_rows: tuple[int, int] | None = None
               ) -> None:
    """A4 landscape, as wide as one page (``one_page``: the whole sheet on one page), the
    header repeated on every page, the sheet's name and page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.fit_to_pages(1, 1 if one_page else 0)
    ws.hide_gridlines(0 if not one_page else 2)
    ws.set_footer("&L&A&RSida &P av &N")
    if header_rows is not None:
        ws.repeat_rows(*header_rows)


def write_overview(book: Any, ws: Any, region: Region, region_name: str = "") -> None:
    o = Overview(book, ws)
    b = book
    month = region.rapportmanad or "saknas"
    name = f"{region_name} – " if region_name else ""
    o.title(f"{name}Regionsammanställning budgetår {region.budgetar} – rapportmånad {month}",
            "Belopp i mkr, investeringar i tkr. Röd: över ram, negativt utrymme, prognos sämre än "
            "budget, fel. Grön: bättre än budget. Gul: varningar.")
    used = region.used

    # 1. Nämnder: net budget
    nets = o.block("OversiktNamnder", "Nettobudget per nämnd (mkr)",
                   ["Nämnd", "Namn", "Nettobudget"],
                   [[n, e.namndnamn, e.netto_mkr] for n, e in used.items()],
                   [None, None, b.mkr], totals=["Regionen", None, region.region_netto])
    if used:
        o.chart("bar", nets.header, "Nettobudget per nämnd", [("Nettobudget (mkr)", 2)], nets,
                "mkr", legend=False)

    # 2. Region figures (B:C, under the nämnder: the same widths)
    figures: list[list[Cell]] = [
        ["Regionens netto", region.region_netto],
        ["Finansiering", region.finansiering if region.finansiering is not None
         else "saknas (ingen Finansiering)"],
        ["Resultat (finansiering + netto)", region.resultat],
        ["Interna intäkter", region.interna[0]],
        ["Interna kostnader", region.interna[1]],
        ["Interna poster, obalans", region.interna[2]],
    ]
    res = o.block("OversiktResultat", "Regionens resultat (mkr)", ["Post", "Belopp"], figures,
                  [None, b.mkr], first_col=1)
    o.less_than((res.first + 2, 2, res.first + 2, 2), o.red)  # a negative result
    o.greater_than((res.first + 2, 2, res.first + 2, 2), o.green)

    # 3. Prognos against budget
    forecast = {n: e.prognos_mkr for n, e in used.items() if e.prognos_mkr}
    if forecast:
        tot = [sum((p[i] for p in forecast.values()), ZERO) for i in (0, 2, 3)]
        prog = o.block("OversiktPrognos", f"Prognos mot budget, rapportmånad {month} (mkr)",
                       ["Nämnd", "Namn", "Budget", "Helårsprognos", "Avvikelse"],
                       [[n, used[n].namndnamn, p[0], p[2], p[3]] for n, p in forecast.items()],
                       [None, None, b.mkr, b.mkr, b.mkr],
                       totals=["Regionen", None, tot[0], tot[1], tot[2]])
        span = (prog.first, 4, prog.end, 4)
        o.less_than(span, o.red)  # prognos worse than budget (net: more cost)
        o.greater_than(span, o.green)
        # the prognos cell too, against its budget: one rule for the column, its formula
        # written for the first row and relative to it (as Excel's own rules over a range)
        top = prog.first + 1
        o.ws.conditional_format(prog.first, 3, prog.end, 3, {
            "type": "formula", "criteria": f"=$D{top}<$C{top}", "format": o.red})
        o.ws.conditional_format(prog.first, 3, prog.end, 3, {
            "type": "formula", "criteria": f"=$D{top}>$C{top}", "format": o.green})
        o.chart("bar", prog.header, "Budget och helårsprognos", [("Budget", 2),
                                                                 ("Helårsprognos", 3)], prog, "mkr",
                labels=False)  # two bars a nämnd: the values are in the table beside
        deviations = [p[3] for p in forecast.values()]
        o.chart("bar", prog.header, "Avvikelse: helårsprognos − budget", [("Avvikelse (mkr)", 4)],
                prog, "mkr", legend=False, signs=deviations)

    # 4. Investments against frames (tkr)
    if region.egen_ram_tkr:
        rows: list[list[Cell]] = []
        for holder, (held, frame) in region.egen_ram_tkr.items():
            rows.append([holder, used[holder].namndnamn if holder in used else "", held, frame,
                         (frame - held) if frame is not None else None])
        held_total = sum((h for h, _ in region.egen_ram_tkr.values()), ZERO)
        frames = [f for _, f in region.egen_ram_tkr.values()]
        # the region's frame is the holders' frames added up, when every holder has one
        frame_total = None if None in frames else sum((f for f in frames if f is not None), ZERO)
        inv = o.block("OversiktInvesteringar", f"Investeringar mot ram {region.budgetar} (tkr)",
                      ["Budgetansvar", "Namn", "Investeringar", "Ram", "Utrymme"],
                      rows, [None, None, b.tkr, b.tkr, b.tkr],
                      totals=["Regionen", None, held_total, frame_total,
                              None if frame_total is None else frame_total - held_total])
        o.less_than((inv.first, 4, inv.last, 4), o.red)  # negative room
        top = inv.first + 1  # over the frame
        o.ws.conditional_format(inv.first, 2, inv.last, 2, {
            "type": "formula", "criteria": f"=AND(ISNUMBER($D{top}),$C{top}>$D{top})",
            "format": o.red})

    # 5. Åtgärdsplan coverage (A:I): each year against the base year's gap, never added up
    years = [region.budgetar + i for i in range(3)]
    plans = {n: e for n, e in used.items() if e.effekt_mkr is not None}
    if plans:
        prow: list[list[Cell]] = []
        for n, e in plans.items():
            effects = [e.effekt_mkr.get(y) if e.effekt_mkr else None for y in years]
            cover = [v / e.gap_mkr if v is not None and e.gap_mkr else None for v in effects]
            prow.append([n, e.namndnamn, e.gap_mkr, *effects, *cover])
        plan = o.block("OversiktAtgardsplan", "Åtgärdsplan: effekt och täckningsgrad per år (mkr)",
                       ["Nämnd", "Namn", "Ekonomiskt gap", *[f"Effekt {y}" for y in years],
                        *[f"Täckning {y}" for y in years]], prow,
                       [None, None, b.mkr, b.mkr, b.mkr, b.mkr, b.pct, b.pct, b.pct])
        o.less_than((plan.first, 6, plan.last, 8), o.amber, 1)
        o.ws.conditional_format(plan.first, 6, plan.last, 8, {
            "type": "cell", "criteria": ">=", "value": 1, "format": o.green})

    # 6. Input files: errors red, warnings yellow, unused grey
    files = o.block("OversiktFiler", "Filer i inkorgen",
                    ["Nämnd", "Fil", "Fel", "Varningar", "Status"],
                    # a file never read has no counts of findings (blank, not 0)
                    [[f.namnd, f.name, *((f.errors, f.warnings) if f.checked else (None, None)),
                      _status(f.used, not f.checked)] for f in region.files],
                    [None, None, None, None, o.status],
                    totals=["Summa", f"{len(region.files)} filer",
                            sum(f.errors for f in region.files),
                            sum(f.warnings for f in region.files), None])
    o.greater_than((files.first, 2, files.end, 2), o.red)
    o.greater_than((files.first, 3, files.end, 3), o.amber)
    top = files.first + 1
    o.ws.conditional_format(files.first, 4, files.last, 4, {
        "type": "formula", "format": o.red, "criteria": f'=AND($E{top}<>"",$E{top}<>"används")'})
    o.finish()


def _status(used: bool, unreadable: bool) -> str:
    """Short, so it stays in its column; the reason is on Kontroll and Manifest."""
    if used:
        return "används"
    return "oläsbar" if unreadable else "ej använd"
