"""A result of the template's own formula, cached in the file or evaluated by xlplan, is
exact arithmetic over typed cells: it is checked like any total, never skipped, and a
difference is never taken for rounding. Each case is worked by hand below and, where a
spreadsheet engine can say it, checked against LibreOffice's own recalculation.

Prognos (mkr), columns B Budget, C Utfall ackumulerat, D Helårsprognos, E Avvikelse:
  row 2 Vård        10   4  12   2
  row 3 Hälsa        5   2   4  −1   (hidden)
  row 4 Tandvård    20   8  23   3
  all rows          35  14  39   4
  SUBTOTAL(109,…)   30  12  35   5   (leaves hidden row 3 out)
Typed, 30 would have the precision of tens and 35 − 30 = 5 would "fit the rounding"; as the
template's SUBTOTAL it is a sum of 10, 20 and, left out, 5: an error, as large as row 3.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tests.support.books import PROGNOS_HEADER, T, info, write_book
from tests.support.engine import recalculate
from xlplan import validate
from xlplan.validation import Report

DEV = "=Prognos[[#This Row],[Helårsprognos]]-Prognos[[#This Row],[Budget]]"
SUBTOTALS = ["Summa", *(f"=SUBTOTAL(109,Prognos[{h}])" for h in PROGNOS_HEADER[1:])]


def codes(report: Report, *wanted: str) -> list[tuple[str, str | None]]:
    return [(f.code, f.cell) for f in report.findings if f.code in wanted]


def hidden_row_book(path: Path) -> Path:
    rows = [["Vård", 10, 4, 12, DEV], ["Hälsa", 5, 2, 4, DEV], ["Tandvård", 20, 8, 23, DEV]]
    return write_book(path, info("HSN", 2027), T("Prognos", PROGNOS_HEADER, rows,
                                                 totals=SUBTOTALS, hidden=[1], at="A1",
                                                 title=None))


def test_an_evaluated_subtotal_over_a_hidden_row_is_checked(tmp_path: Path) -> None:
    # openpyxl keeps the formulas and stores no results: xlplan evaluates them
    report = validate(hidden_row_book(tmp_path / "p.xlsx"))
    found = [f for f in report.findings if f.code == "summeringsfel"]
    assert [f.cell for f in found] == ["B5", "C5", "D5", "E5"]
    assert [(f.actual, f.expected) for f in found] == [
        (Decimal(30), Decimal(35)), (Decimal(12), Decimal(14)), (Decimal(35), Decimal(39)),
        (Decimal(5), Decimal(4))]
    assert all("de dolda raderna 3" in f.message for f in found)
    assert codes(report, "avrundningsdifferens") == []


def test_libreoffice_computes_the_same_totals_and_xlplan_judges_them_alike(
        tmp_path: Path) -> None:
    book = hidden_row_book(tmp_path / "p.xlsx")
    computed = recalculate(book, tmp_path / "lo")
    ws = openpyxl.load_workbook(computed, data_only=True)["Prognos"]
    assert [ws[f"{c}5"].value for c in "BCDE"] == [30, 12, 35, 5]  # as worked by hand
    # the same file with LibreOffice's cached results: the same verdicts, the same cells
    uncached, cached = validate(book), validate(computed)
    assert codes(cached, "summeringsfel", "avrundningsdifferens") == codes(
        uncached, "summeringsfel", "avrundningsdifferens") == [
        ("summeringsfel", c) for c in ("B5", "C5", "D5", "E5")]


def workbook(path: Path) -> Any:
    """An xlsxwriter workbook (results cached as Excel saves them) with HSN 2027's Info."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Info")
    ws.add_table(0, 0, 4, 1, {"name": "Info", "columns": [{"header": "Fält"}, {"header": "Värde"}],
                             "data": [["Nämnd", "HSN"], ["Budgetår", 2027], ["Belopp i", "mkr"],
                                      ["Mallversion", 1]]})
    return wb


def cached_book(path: Path, rows: list[list[Any]], totals: list[Any]) -> Path:
    """Prognos at A1 with results cached as the file says (a formula as (text, result)), as
    Excel leaves a file saved with manual calculation."""
    wb = workbook(path)
    ws = wb.add_worksheet("Prognos")
    ws.add_table(0, 0, len(rows) + 1, 4, {"name": "Prognos", "total_row": True,
                                         "columns": [{"header": h} for h in PROGNOS_HEADER]})
    for r, row in enumerate([*rows, totals], start=1):
        for c, v in enumerate(row):
            if isinstance(v, tuple):
                ws.write_formula(r, c, v[0], None, v[1])
            else:
                ws.write(r, c, v)
    wb.close()
    return path


def test_a_total_off_only_by_a_stale_row_result_follows_from_that_row(tmp_path: Path) -> None:
    # Vård: 27 − 10 = 17, but its Avvikelse still shows 7 (not recalculated); Tandvård
    # 23 − 20 = 3. The total's SUBTOTAL shows 20 = 17 + 3, the column shows 7 + 3 = 10.
    # Typed, 20 would be "tens" and 10 off would fit its rounding: as the template's result
    # it is exact, and the whole difference is E2's.
    rows = [["Vård", 10, 4, 27, (DEV, 7)], ["Tandvård", 20, 8, 23, (DEV, 3)]]
    totals = ["Summa", *((f, v) for f, v in zip(SUBTOTALS[1:], (30, 12, 50, 20), strict=True))]
    book = cached_book(tmp_path / "p.xlsx", rows, totals)
    report = validate(book)
    assert codes(report, "avvikelsefel", "foljdfel", "summeringsfel", "avrundningsdifferens") == [
        ("avvikelsefel", "E2"), ("foljdfel", "E4")]
    [root] = [f for f in report.findings if f.code == "avvikelsefel"]
    assert (root.actual, root.expected) == (Decimal(7), Decimal(17))
    assert "E2" in next(f for f in report.findings if f.code == "foljdfel").message
    # LibreOffice recalculates E2 to what xlplan said it should be, and then all is well
    computed = recalculate(book, tmp_path / "lo")
    assert openpyxl.load_workbook(computed, data_only=True)["Prognos"]["E2"].value == 17
    assert codes(validate(computed), "avvikelsefel", "foljdfel", "summeringsfel") == []


def rounded_row_book(path: Path, total: float) -> Path:
    """Prognos typed: Vård's Avvikelse 14 where 24,5 − 10,0 = 14,5; Tandvård 4,8 − 20,0 =
    −15,2; the totals row's Avvikelse ``total``."""
    rows = [["Vård", 10.0, 4, 24.5, 14], ["Tandvård", 20.0, 8, 4.8, -15.2]]
    return write_book(path, info("HSN", 2027), T(
        "Prognos", PROGNOS_HEADER, rows, totals=["Summa", 30.0, 12, 29.3, total], at="A1",
        title=None))


def test_a_total_off_only_by_a_rounded_row_follows_from_that_row(tmp_path: Path) -> None:
    # Typed: Vård 24,5 − 10,0 = 14,5 written as 14 (within rounding: a warning at E2);
    # Tandvård 4,8 − 20,0 = −15,2. The total −0,7 = 14,5 − 15,2 is right; the column shows
    # 14 − 15,2 = −1,2. The total is off only by E2's rounding: it follows from E2 (info),
    # not a second error.
    report = validate(rounded_row_book(tmp_path / "p.xlsx", -0.7))
    assert codes(report, "avvikelsefel", "avrundningsdifferens", "foljdfel", "summeringsfel") == [
        ("avrundningsdifferens", "E2"), ("foljdfel", "E4")]
    assert not [f for f in report.findings if f.cell in ("E2", "E4") and f.severity.value == "error"]


def test_a_total_whose_range_leaves_out_a_row_is_an_error_not_a_rounding(
        tmp_path: Path) -> None:
    # Budget rows 10, 20, 5 (B2:B4); the totals cell adds only B2:B3 and shows 30. Typed, 30
    # would be "tens" and 35 − 30 = 5 would fit its rounding; as a formula adding cells it is
    # exact, so the row it leaves out is an error (found by a tester), in each form
    for formula in ("=SUM(B2:B3)", "=SUBTOTAL(109,B2:B3)", "=B2+B3", "=SUM(B2,B3)"):
        rows = [["Vård", 10, 4, 12, (DEV, 2)], ["Hälsa", 20, 8, 23, (DEV, 3)],
                ["Tandvård", 5, 2, 4, (DEV, -1)]]
        totals = ["Summa", (formula, 30), *((f, v) for f, v in
                                             zip(SUBTOTALS[2:], (14, 39, 4), strict=True))]
        report = validate(cached_book(tmp_path / "p.xlsx", rows, totals))
        found = [f for f in report.findings if f.code in ("summeringsfel", "avrundningsdifferens")]
        assert [(f.code, f.cell, f.actual, f.expected) for f in found] == [
            ("summeringsfel", "B5", Decimal(30), Decimal(35))], formula
        assert "rad 4 – saknas den i summan?" in found[0].message
    # a total that rounds is still judged by the rounding model: 35 shown as 40 fits tens
    rows = [["Vård", 10, 4, 12, (DEV, 2)], ["Hälsa", 20, 8, 23, (DEV, 3)],
            ["Tandvård", 5, 2, 4, (DEV, -1)]]
    totals = ["Summa", ("=ROUND(SUM(B2:B4),-1)", 40),
              *((f, v) for f, v in zip(SUBTOTALS[2:], (14, 39, 4), strict=True))]
    report = validate(cached_book(tmp_path / "r.xlsx", rows, totals))
    assert codes(report, "summeringsfel", "avrundningsdifferens") == [
        ("avrundningsdifferens", "B5")]


@pytest.mark.parametrize("net", ["=SUM(C2:H2)", "=+C2+D2+E2+F2+G2+H2", "=SUBTOTAL(9,C2:H2)",
                                 "=SUM(Budgetram!C2:H2)"])
def test_a_net_that_leaves_out_a_part_is_an_error_not_a_rounding(tmp_path: Path,
                                                                 net: str) -> None:
    # a net whose SUM leaves out Interna kostnader (I2, −5), as Excel caches it: −40, which
    # typed would be "tens" with the 5 off inside its rounding; as a sum of cells it is exact,
    # so the part left out is a nettofel
    from tests.support.books import BUDGETRAM_HEADER, TJ

    wb = workbook(tmp_path / "b.xlsx")
    ws = wb.add_worksheet("Budgetram")
    ws.add_table(0, 0, 1, 9, {"name": "Budgetram",
                              "columns": [{"header": h} for h in BUDGETRAM_HEADER]})
    # 20 + 1,5 − 50 − 3 − 4,5 − 4 − 5 = −45,0; without I2 (−5): −40
    for c, v in enumerate(["A", TJ, 20, 1.5, -50, -3, -4.5, -4, -5]):
        ws.write(1, c, v)
    ws.write_formula(1, 9, net, None, -40)
    wb.close()
    report = validate(tmp_path / "b.xlsx")
    assert codes(report, "nettofel", "avrundningsdifferens") == [("nettofel", "J2")]
    [net] = [f for f in report.findings if f.code == "nettofel"]
    assert (net.actual, net.expected) == (Decimal(-40), Decimal("-45.0"))


def test_a_cached_sum_with_a_doubles_noise_is_its_exact_sum(tmp_path: Path) -> None:
    # Excel adds in binary doubles: 5 972 613,7 − 5 972 613,6 is saved as 0,1000000005587935.
    # The figure is the exact sum of the typed parts, 0,1, everywhere it is shown or stored
    # (a tester saw "0.100000000558794" in the summary and a false rounding warning)
    from tests.support.books import BUDGETRAM_HEADER, TJ
    from xlplan.extract import extract_or_reason
    from xlplan.settings import Settings
    from xlplan.summary.compute import summarize

    noisy = 5972613.7 + -5972613.6
    assert repr(noisy) != "0.1"  # what the file holds is not 0,1
    wb = workbook(tmp_path / "b.xlsx")
    ws = wb.add_worksheet("Budgetram")
    ws.add_table(0, 0, 1, 9, {"name": "Budgetram",
                              "columns": [{"header": h} for h in BUDGETRAM_HEADER]})
    for c, v in enumerate(["A", TJ, 5972613.7, None, -5972613.6]):
        if v is not None:
            ws.write(1, c, v)
    ws.write_formula(1, 9, "=SUM(Budgetram[[#This Row],[Externa intäkter]:[Interna kostnader]])",
                     None, noisy)
    wb.close()
    report = validate(tmp_path / "b.xlsx")
    [row] = report.planbok.tables["Budgetram"].rows
    assert row["nettobudget"].amount == Decimal("0.1")
    summary = summarize(report.planbok, Settings()).to_json()
    assert summary["budgetram"]["netto"]["Totalt"] == "0.1"  # type: ignore[index]
    extract, _ = extract_or_reason(report.planbok)
    assert extract is not None and extract.netto_mkr == Decimal("0.1")


def test_a_number_written_as_text_counts_in_a_formula_as_excel_counts_it(
        tmp_path: Path) -> None:
    # Budgetram (mkr), saved without results; C2 and C3 hold the texts "1 754,2" and
    # "2 000,5" (read as numbers, with a warning). SUM and SUBTOTAL skip text in Excel and
    # LibreOffice, so the net J2 is −1000 while its parts say 754,2, and the totals cell C4
    # is 0 while the column says 3 754,7: the same errors as once LibreOffice has recalculated
    # the file. J3 adds its parts with + over a text: a result no one can know, no value.
    from tests.support.books import BUDGETRAM_HEADER, TJ

    parts = "Budgetram[[#This Row],[Externa intäkter]:[Interna kostnader]]"  # the template's
    plus = "=" + "+".join(f"Budgetram[[#This Row],[{h}]]" for h in BUDGETRAM_HEADER[2:9])
    book = write_book(tmp_path / "t.xlsx", info("HSN", 2027), T(
        "Budgetram", BUDGETRAM_HEADER,
        [["A", TJ, "1 754,2", None, -1000, None, None, None, None, f"=SUM({parts})"],
         ["B", TJ, "2 000,5", None, -10, None, None, None, None, plus]],
        totals=["Summa", None, *(f"=SUBTOTAL(109,Budgetram[{h}])" for h in BUDGETRAM_HEADER[2:])],
        at="A1", title=None))
    ours = validate(book)
    errors = {(f.code, f.cell) for f in ours.findings if f.severity.value == "error"}
    assert {("nettofel", "J2"), ("summeringsfel", "C4")} <= errors
    assert ("formel-utan-varde", "J3") in errors  # + over text: no value
    [net] = [f for f in ours.findings if f.code == "nettofel"]
    assert (net.actual, net.expected) == (Decimal(-1000), Decimal("754.2"))
    computed = recalculate(book, tmp_path / "lo")
    ws = openpyxl.load_workbook(computed, data_only=True)["Budgetram"]
    assert (ws["J2"].value, ws["C4"].value) == (-1000, 0)  # LibreOffice: text skipped
    assert str(ws["J3"].value).startswith("#")  # and + over text an error value
    theirs = {(f.code, f.cell) for f in validate(computed).findings
              if f.severity.value == "error"}
    assert {("nettofel", "J2"), ("summeringsfel", "C4")} <= theirs
    assert ("felvarde", "J3") in theirs


def test_a_totals_own_rounding_is_still_said_when_a_row_is_the_root(tmp_path: Path) -> None:
    # as above, but the total is typed −0,6 where 14,5 − 15,2 = −0,7: the column's −1,2 is
    # off mostly by E2's rounding (info naming E2), and the 0,1 left is the total's own
    # rounding (a warning), not swallowed by the note
    report = validate(rounded_row_book(tmp_path / "p.xlsx", -0.6))
    assert sorted(codes(report, "avvikelsefel", "avrundningsdifferens", "foljdfel",
                        "summeringsfel")) == [
        ("avrundningsdifferens", "E2"), ("avrundningsdifferens", "E4"), ("foljdfel", "E4")]
    [own] = [f for f in report.findings if f.code == "avrundningsdifferens" and f.cell == "E4"]
    assert (own.actual, own.expected) == (Decimal("-0.6"), Decimal("-0.7"))


def test_a_rounded_row_makes_no_error_at_the_totals_rows_avvikelse(tmp_path: Path) -> None:
    # Vård: 36,2 − 37 = −0,8 typed as −1 (a rounding: a warning at E2); Tandvård's
    # Avvikelse is the template's, −90,5 − (−87) = −3,5. The totals row's Avvikelse is their
    # SUBTOTAL, −4,5, while its Helårsprognos − Budget is −4,3: off by E2's rounding only,
    # which is reported at E2 (found by a tester: it was an error at E4 too)
    rows = [["Vård", 37, 9, 36.2, -1], ["Tandvård", -87, -20, -90.5, (DEV, -3.5)]]
    totals = ["Summa", *((f, v) for f, v in zip(SUBTOTALS[1:], (-50, -11, -54.3, -4.5),
                                                strict=True))]
    report = validate(cached_book(tmp_path / "p.xlsx", rows, totals))
    assert codes(report, "avvikelsefel", "avrundningsdifferens", "summeringsfel") == [
        ("avrundningsdifferens", "E2")]
    assert [f.code for f in report.findings if f.severity.value == "error"] == [
        "tabell-saknas"]  # this book has no Budgetram: that is its only error


@pytest.mark.parametrize("total", [
    "=+B2+B3+B4", "=SUM(Prognos[[#Data],[Budget]])", "=SUM(Prognos!B2:B4)",
    "=Prognos!B2+Prognos!B3+Prognos!B4", "=SUBTOTAL(9,B2:B4)"])
def test_every_form_of_a_total_that_adds_its_column_is_exact(tmp_path: Path, total: str) -> None:
    # Budget rows 10, 20, 5 = 35; the total's cached result 40 (not recalculated): typed, 40
    # would be "tens" and 5 off would fit; a formula adding the column is exact, so an error
    rows = [["Vård", 10, 4, 12, (DEV, 2)], ["Hälsa", 20, 8, 23, (DEV, 3)],
            ["Tandvård", 5, 2, 4, (DEV, -1)]]
    totals = ["Summa", (total, 40), *((f, v) for f, v in zip(SUBTOTALS[2:], (14, 39, 4),
                                                             strict=True))]
    report = validate(cached_book(tmp_path / "p.xlsx", rows, totals))
    assert codes(report, "summeringsfel", "avrundningsdifferens") == [("summeringsfel", "B5")]


def budget_with_a_pulled_subtotal(path: Path, total: tuple[str, float]) -> Path:
    """Budgetram whose row B takes Personalkostnader from a detail sheet with a SUBTOTAL
    (−30 − 40 = −70), as controllers do; A: 100 − 50 = 50, B: 16 − 70 = −54."""
    from tests.support.books import BUDGETRAM_HEADER, TJ

    wb = workbook(path)
    ws = wb.add_worksheet("Budgetram")
    ws.add_table(0, 0, 3, 9, {"name": "Budgetram", "total_row": True,
                              "columns": [{"header": h} for h in BUDGETRAM_HEADER]})
    net = "=SUM(Budgetram[[#This Row],[Externa intäkter]:[Interna kostnader]])"
    for r, (name, income, staff, value) in enumerate(
            [("A", 100, -50, 50), ("B", 16, ("=SUBTOTAL(9,Personal!B2:B3)", -70), -54)], start=1):
        ws.write(r, 0, name)
        ws.write(r, 1, TJ)
        ws.write(r, 2, income)
        if isinstance(staff, tuple):
            ws.write_formula(r, 4, staff[0], None, staff[1])
        else:
            ws.write(r, 4, staff)
        ws.write_formula(r, 9, net, None, value)
    ws.write(3, 0, "Summa")
    ws.write_formula(3, 2, "=SUBTOTAL(109,Budgetram[Externa intäkter])", None, 116)
    ws.write_formula(3, 4, total[0], None, total[1])
    ws.write_formula(3, 9, "=SUBTOTAL(109,Budgetram[Nettobudget])", None, -4)
    detail = wb.add_worksheet("Personal")
    detail.write_column(1, 1, [-30, -40])
    wb.close()
    return path


def test_a_subtotal_brought_from_another_sheet_is_the_rows_amount(tmp_path: Path) -> None:
    # B's −70 is a real amount of the row: the column is −120. A SUM total of −120 is right
    # (a tester saw a false summeringsfel); Excel's SUBTOTAL(109) leaves any SUBTOTAL cell
    # out and shows −50, which leaves B's −70 out of the region's figure: an error
    from xlplan.settings import Settings
    from xlplan.summary.compute import summarize

    right = validate(budget_with_a_pulled_subtotal(tmp_path / "a.xlsx", ("=SUM(E2:E3)", -120)))
    assert codes(right, "summeringsfel", "avrundningsdifferens", "nettofel") == []
    slag = summarize(right.planbok, Settings()).to_json()["budgetram"]["per_slag"]  # type: ignore[index]
    assert slag["Personalkostnader"] == "-120"
    wrong = validate(budget_with_a_pulled_subtotal(
        tmp_path / "b.xlsx", ("=SUBTOTAL(109,Budgetram[Personalkostnader])", -50)))
    [f] = [f for f in wrong.findings if f.code == "summeringsfel"]
    assert (f.cell, f.actual, f.expected) == ("E4", Decimal(-50), Decimal(-120))
    # LibreOffice computes the same −50 for that total: the figure Excel would show
    ws = openpyxl.load_workbook(recalculate(tmp_path / "b.xlsx", tmp_path / "lo"),
                                data_only=True)["Budgetram"]
    assert ws["E4"].value == -50 and ws["E3"].value == -70
