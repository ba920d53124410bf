"""The Regionsammanställning as the ekonomidirektör sees it: rendered by LibreOffice to PDF,
read back with openpyxl. Built from the demo's three planböcker (RS, HSN, RUN)."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
from openpyxl.utils import range_boundaries

from tests.support.engine import recalculate
from xlplan.consolidation import consolidate
from xlplan.demo import YEAR, hsn, write_demo
from xlplan.template import write_planbok


def region_workbook(tmp: Path) -> Path:
    """The demo's inbox with HSN's planted slips left out: a planbok whose figures cannot
    all be computed (the demo's text in an effect cell) is not used in the consolidation, and
    the Översikt should show all three nämnder."""
    inbox = tmp / "inkorg"
    write_demo(inbox)
    hsn_path = inbox / f"planbok-HSN-{YEAR}.xlsx"
    hsn_path.unlink()
    write_planbok(hsn_path, hsn(slips=False))
    out = tmp / "region.xlsx"
    consolidate(inbox, out, region_name="Region Exempel")
    return out


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]


def test_oversikt_prints_on_one_landscape_page(tmp_path: Path) -> None:
    out = region_workbook(tmp_path)
    only = tmp_path / "oversikt.xlsx"  # the Översikt alone, to count its pages
    wb = openpyxl.load_workbook(out)
    assert all(ws.page_setup.orientation == "landscape" for ws in wb.worksheets)
    assert all(ws.page_setup.paperSize == 9 for ws in wb.worksheets)  # A4, every sheet
    pdf = recalculate(out, tmp_path / "pdf", fmt="pdf")
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    # the footer names the sheet and says "Sida 1 av N": page 1 is all of Översikt
    assert "Översikt" in text and "Sida 1 av" in text
    assert "Region Exempel – Regionsammanställning budgetår 2027 – rapportmånad 2027-03" in text
    # and alone it is one page
    for name in wb.sheetnames[1:]:
        del wb[name]
    wb.save(only)
    assert pdf_pages(recalculate(only, tmp_path / "pdf1", fmt="pdf")) == 1
    assert pdf_pages(pdf) < 39  # the whole workbook: no longer one page per few columns


def test_every_value_stands_under_its_own_blocks_header(tmp_path: Path) -> None:
    out = region_workbook(tmp_path)
    ws = openpyxl.load_workbook(out)["Översikt"]
    blocks = {t.displayName: range_boundaries(t.ref) for t in ws.tables.values()}
    assert set(blocks) == {"OversiktNamnder", "OversiktResultat", "OversiktPrognos",
                           "OversiktInvesteringar", "OversiktAtgardsplan", "OversiktFiler"}
    # no two blocks share a cell
    cells = {name: {(r, c) for r in range(b[1], b[3] + 1) for c in range(b[0], b[2] + 1)}
             for name, b in blocks.items()}
    names = list(cells)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not cells[a] & cells[b], (a, b)
    # every value below the title lies in a block, or is the title line just above one
    titles = {(b[1] - 1, 1) for b in blocks.values()}
    owner = {cell: name for name, cs in cells.items() for cell in cs}
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if cell.value is None:
                continue
            key = (cell.row, cell.column)
            assert key in owner or key in titles, f"{cell.coordinate}={cell.value!r} outside a block"
            if key in owner:  # the nearest header above it is its own block's
                top = blocks[owner[key]][1]
                assert all((r, cell.column) not in owner or owner[(r, cell.column)] == owner[key]
                           for r in range(top, cell.row)), cell.coordinate
    # hand-worked from the demo's HSN Prognos rows: budget −312,9 − 2 331,4 − 1 754,2 − 1 583,1
    # − 3,1 = −5 984,7; prognos −310,0 − 2 372,0 − 1 781,5 − 1 600,4 − 3,1 = −6 067,0;
    # avvikelse −6 067,0 − (−5 984,7) = −82,3
    p = blocks["OversiktPrognos"]
    rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in range(3, 6)]
            for r in range(p[1] + 1, p[3] + 1)}
    assert [round(v, 1) for v in rows["HSN"]] == [-5984.7, -6067.0, -82.3]
    assert ws.freeze_panes == "A4"
    assert len(ws._charts) == 3  # net, budget and prognos, deviation


def test_conditional_formats_tell_worse_better_errors_and_warnings_apart(tmp_path: Path) -> None:
    out = region_workbook(tmp_path)
    wb = openpyxl.load_workbook(out)
    ws = wb["Översikt"]
    rules = [(str(rng.sqref), rule.operator, rule.formula, rule.dxf.fill.bgColor.rgb)
             for rng in ws.conditional_formatting for rule in rng.rules]
    red, green, amber = "FFFFC7CE", "FFC6EFCE", "FFFFEB9C"
    p = range_boundaries(ws.tables["OversiktPrognos"].ref)
    deviation = f"E{p[1] + 1}:E{p[3]}"
    assert (deviation, "lessThan", ["0"], red) in rules
    assert (deviation, "greaterThan", ["0"], green) in rules
    i = range_boundaries(ws.tables["OversiktInvesteringar"].ref)
    assert (f"E{i[1] + 1}:E{i[3] - 1}", "lessThan", ["0"], red) in rules  # negative room
    f = range_boundaries(ws.tables["OversiktFiler"].ref)
    assert (f"C{f[1] + 1}:C{f[3]}", "greaterThan", ["0"], red) in rules  # errors
    assert (f"D{f[1] + 1}:D{f[3]}", "greaterThan", ["0"], amber) in rules  # warnings
    control = [(rule.formula, rule.dxf.fill.bgColor.rgb)
               for rng in wb["Kontroll"].conditional_formatting for rule in rng.rules]
    assert (['"Fel"'], red) in control and (['"Varning"'], amber) in control


class _Cells(HTMLParser):
    """The cells of LibreOffice's HTML export, a list per sheet row: (text, background).
    Columns are counted from A; a spanning cell (the charts, right of the tables) comes
    after the columns these tests read."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str | None]]] = []
        self.cell: list[str] | None = None
        self.background: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell, self.background = [], dict(attrs).get("bgcolor")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append(("".join(self.cell).strip(), self.background))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_row_rules_colour_each_row_by_its_own_values_in_libreoffice(tmp_path: Path) -> None:
    """One rule a column (its formula relative to the first row), as LibreOffice applies
    it: the background each cell gets in LibreOffice's HTML export of the Översikt."""
    out = region_workbook(tmp_path)
    wb = openpyxl.load_workbook(out)
    for name in wb.sheetnames[1:]:
        del wb[name]
    wb.save(tmp_path / "oversikt.xlsx")
    parser = _Cells()
    parser.feed(recalculate(tmp_path / "oversikt.xlsx", tmp_path / "html", fmt="html")
                .read_text(encoding="utf-8"))
    ws = wb["Översikt"]
    red = "#FFC7CE"

    def column(table: str, col: int) -> dict[str, str | None]:
        top, bottom = range_boundaries(ws.tables[table].ref)[1::2]
        return {parser.rows[r - 1][0][0]: parser.rows[r - 1][col - 1][1]
                for r in range(top + 1, bottom + 1)}

    # Helårsprognos against Budget (by hand, from the demo): HSN −6 067,0 < −5 984,7 and
    # RS −1 758,8 < −1 758,7, both worse than budget: red
    prognos = column("OversiktPrognos", 4)
    assert prognos["HSN"] == red and prognos["RS"] == red
    # Investeringar over Ram: RS 28 200 > 25 000 red; HSN 18 500 and RUN 1 500 within theirs
    investments = column("OversiktInvesteringar", 3)
    assert (investments["HSN"], investments["RS"], investments["RUN"]) == (None, red, None)
    # every file is used: no status is red
    assert set(column("OversiktFiler", 5).values()) <= {None}


def test_detail_sheets_have_totals_rows_frozen_headers_and_print_titles(tmp_path: Path) -> None:
    out = region_workbook(tmp_path)
    wb = openpyxl.load_workbook(out)
    ws = wb["Budgetram"]
    table = ws.tables["Budgetram"]
    assert table.totalsRowCount == 1
    last = range_boundaries(table.ref)[3]
    assert ws.cell(last, 1).value == "Summa"
    assert str(ws.cell(last, 10).value).startswith("=SUBTOTAL(109,")
    assert ws.freeze_panes == "B5" and ws.print_title_rows == "$4:$4"
    recalculated = openpyxl.load_workbook(recalculate(out, tmp_path / "calc"), data_only=True)
    # hand-worked from the demo: the three nämnder's Nettobudget, all rows, in mkr
    body = [ws.cell(r, 11).value for r in range(5, last)]
    assert round(recalculated["Budgetram"].cell(last, 11).value, 6) == round(sum(body), 6)


def test_the_investments_regionen_row_has_the_frames_and_the_room(tmp_path: Path) -> None:
    out = region_workbook(tmp_path)
    ref = openpyxl.load_workbook(out)["Översikt"].tables["OversiktInvesteringar"].ref
    _, _, _, last = range_boundaries(ref)
    # the totals are SUBTOTAL formulas: their values as a spreadsheet engine computes them
    ws = openpyxl.load_workbook(recalculate(out, tmp_path / "calc"), data_only=True)["Översikt"]
    # by hand from xlplan/demo.py (HSN without slips): held RS 4 500 + 12 000 + 3 200 + 8 500
    # (HSN's Röntgenutrustning, held by RS) = 28 200, HSN 9 000 + 9 500 = 18 500, RUN 1 500:
    # 48 200 tkr; frames RS 25 000 + HSN 25 000 + RUN 2 000 = 52 000; room 3 800
    assert [ws.cell(last, c).value for c in range(1, 6)] == ["Regionen", None, 48200, 52000, 3800]


def test_kontroll_lists_the_findings_of_a_file_that_was_not_used(tmp_path: Path) -> None:
    # the demo's HSN is not used (its effect 2028 in J9 is text, so that figure cannot be
    # computed); the ekonomidirektör still needs each of its cells to send back, not only
    # "not used": its planted slips are on the Kontroll sheet, HSN's J9 among them
    inbox = tmp_path / "inkorg"
    write_demo(inbox)
    out = tmp_path / "region.xlsx"
    consolidate(inbox, out)
    ws = openpyxl.load_workbook(out)["Kontroll"]
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] == f"planbok-HSN-{YEAR}.xlsx"]
    assert ("ej-tal", "Åtgärdsplan", "J9") in {(r[2], r[3], r[4]) for r in rows}
    assert sum(r[1] == "Fel" for r in rows) == 6  # the six planted slips, each once
