"""Files saved without formula results (openpyxl, pandas, web editors keep the template's
formulas but store no values): the template's own formulas are evaluated from their parts,
giving the same figures as a real spreadsheet engine; any other formula without a value is
an error at its cell, and consolidation never uses a figure it could not compute.

The demo's RS 2027 (mkr), worked by hand:
  nets Regiondirektör 2.0 + 10.5 − 35.2 − 20.4 − 0.5 − 8.1 = −51.7;
  Regionstaben 120.4 + 890.3 − 820.6 − 610.2 − 95.3 − 210.5 = −725.9;
  Vårdval 45.0 − 12.3 − 150.2 − 820.1 − 12.0 = −949.6; Politisk verksamhet (F) −31.5
  Financing 3739.0 + 1276.7 + 510.5 + 28.5 − 252.7 = 5302.0
Edited with openpyxl: Regionstaben's Personalkostnader −820.6 → −830.6, so Regionstaben
−735.9, Tjänstemannabudget −51.7 − 735.9 − 949.6 = −1737.2, total −1768.7, and with RS alone
the result is 5302.0 − 1768.7 = 3533.3.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from tests.support.books import BUDGETRAM_HEADER, FT, TJ, T, info, write_book
from tests.support.engine import recalculate
from xlplan import validate
from xlplan.consolidation import consolidate
from xlplan.demo import rs
from xlplan.region_json import region_to_json
from xlplan.settings import Settings
from xlplan.store import HistoryStore
from xlplan.summary.compute import summarize
from xlplan.template import write_planbok


def edited_with_openpyxl(tmp: Path) -> Path:
    """The demo RS planbok, one number changed and saved by openpyxl: every formula is kept,
    none has a value any more."""
    original = tmp / "mall" / "planbok-RS-2027.xlsx"
    original.parent.mkdir()
    write_planbok(original, rs())
    wb = openpyxl.load_workbook(original)
    ws = wb["Budgetram"]
    assert ws["B6"].value == "Tjänstemannabudget" and ws["E6"].value == -820.6  # Regionstaben
    ws["E6"] = -830.6
    edited = tmp / "planbok-RS-2027.xlsx"
    wb.save(edited)
    return edited


def summary_json(path: Path) -> dict[str, Any]:
    report = validate(path)
    return summarize(report.planbok, Settings(), errors=report.errors).to_json()


def test_without_results_the_figures_are_those_libreoffice_computes(tmp_path: Path) -> None:
    edited = edited_with_openpyxl(tmp_path)
    report = validate(edited)
    codes = {f.code for f in report.findings}
    assert "formel-beraknad" in codes and "formel-utan-varde" not in codes
    # the edit is real: Nettoram's −1727.2 no longer matches the net −1737.2 (an error), and
    # Prognos' Budget for Regionstaben −725.9 not its net −735.9 (a warning)
    assert [(f.code, f.cell) for f in report.findings if f.severity.value == "error"] == [
        ("nettoram-avvikelse", "C5")]
    ours = summary_json(edited)
    assert ours["budgetram"]["netto"] == {"Tjänstemannabudget": "-1737.2",
                                          "Förtroendemannabudget": "-31.5", "Totalt": "-1768.7"}
    engine = summary_json(recalculate(edited, tmp_path / "lo"))
    assert ours == engine


def test_consolidation_uses_the_evaluated_figures(tmp_path: Path) -> None:
    folder = tmp_path / "inkorg"
    folder.mkdir()
    edited_with_openpyxl(folder)
    region = consolidate(folder, tmp_path / "region.xlsx").region
    assert region.netto == {"RS": Decimal("-1768.7")}
    assert (region.finansiering, region.resultat) == (Decimal("5302.0"), Decimal("3533.3"))
    assert [f.used for f in region.files] == [True]


def bad_formula_book(path: Path, net: Any) -> Path:
    # RUN: Kultur 20 − 50 = −30 mkr, its Nettobudget as given
    return write_book(path, info("RUN", 2027), T("Budgetram", BUDGETRAM_HEADER, [
        ["Kultur", TJ, 20, None, -50, None, None, None, None, net]], at="A1", title=None))


def test_another_formula_without_a_value_is_an_error_at_its_cell(tmp_path: Path) -> None:
    report = validate(bad_formula_book(tmp_path / "b.xlsx", "=C2*2"))
    assert [f.cell for f in report.findings if f.code == "formel-utan-varde"] == ["J2"]
    # the template's formula in A1 form is evaluated: 20 − 50 = −30
    ok = validate(bad_formula_book(tmp_path / "ok.xlsx", "=SUM(C2:I2)"))
    assert "formel-utan-varde" not in {f.code for f in ok.findings}
    assert ok.planbok.tables["Budgetram"].rows[0]["nettobudget"].amount == Decimal(-30)


def test_consolidation_never_uses_a_figure_it_could_not_compute(tmp_path: Path) -> None:
    folder = tmp_path / "inkorg"
    folder.mkdir()
    edited_with_openpyxl(folder)
    bad_formula_book(folder / "run.xlsx", "=C2*2")
    db = f"sqlite:///{tmp_path / 'historik.db'}"
    region = consolidate(folder, tmp_path / "region.xlsx", database=db).region
    run = next(f for f in region.files if f.name == "run.xlsx")
    assert not run.used and "netto" in run.reason and "J2" in run.reason
    assert list(region.netto) == ["RS"] and region.inputs_with_errors
    assert any(f.code == "fil-oanvand" and "run.xlsx" in f.message for f in region.findings)
    store = HistoryStore(db)
    try:
        stored = store.figures_of(2027)
    finally:
        store.close()
    assert stored
    assert {key[0] for _, key, _ in stored} == {"RS"}  # nothing of RUN went to the history
    out = json.dumps(region_to_json(region), ensure_ascii=False)
    assert '"RUN"' not in json.dumps(region_to_json(region)["netto"])
    assert "run.xlsx" in out


NET_COLUMNS = {k: 3 + i for i, k in enumerate(
    ("externa_intakter", "interna_intakter", "personalkostnader", "lakemedel",
     "ovriga_externa_kostnader", "avskrivningar", "interna_kostnader"))}
NET_HEADERS = {k: h for k, h in zip(NET_COLUMNS, BUDGETRAM_HEADER[2:9], strict=True)}


def test_the_template_formulas_are_recognised_in_the_forms_tools_write() -> None:
    from xlplan.formulas import is_row_formula, is_totals_formula

    def net(f: str) -> bool:  # row 5, the seven amounts in C..I
        return is_row_formula("Budgetram", "nettobudget", f, 5, NET_COLUMNS, NET_HEADERS)

    assert net("=SUM(Budgetram[[#This Row],[Externa intäkter]:[Interna kostnader]])")
    # Excel's displayed shorthand: never stored, computed by no engine from a file
    assert not net("=SUM([@[Externa intäkter]:[Interna kostnader]])")
    assert net("=SUM($C$5:$I$5)") and net("=C5+D5+E5+F5+G5+H5+I5")
    assert not net("=SUM(C5:H5)")  # leaves out Interna kostnader
    assert not net("=SUM(C6:I6)")  # another row
    assert not net("=C5*2") and not net("=SUM(C5:I5)*1.1")
    assert not net("=A99999999+B1")  # not a reference this sheet can hold: no crash
    cols = {"budget": 2, "prognos": 4, "avvikelse": 5}
    heads = {"budget": "Budget", "prognos": "Helårsprognos", "avvikelse": "Avvikelse"}
    dev = [is_row_formula("Prognos", "avvikelse", f, 7, cols, heads) for f in (
        "=Prognos[[#This Row],[Helårsprognos]]-Prognos[[#This Row],[Budget]]",
        "=[@Helårsprognos]-[@Budget]", "=D7-B7", "=B7-D7")]
    assert dev == [True, False, True, False]
    total = [is_totals_formula(f, "budget", cols, heads, (5, 9)) for f in (
        "=SUBTOTAL(109,Prognos[Budget])", "=SUBTOTAL(109,B5:B9)", "=SUM(B5:B9)",
        "=SUBTOTAL(109,B5:B8)", "=SUBTOTAL(9,B5:B9)")]
    assert total == [True, True, False, False, False]


def test_hostile_formula_text_is_not_evaluated_and_costs_nothing() -> None:
    from xlplan.formulas import is_row_formula, is_totals_formula

    long = "=" + "a." * 4000 + "[x]"
    assert not is_row_formula("Budgetram", "nettobudget", long, 5, NET_COLUMNS, NET_HEADERS)
    assert not is_totals_formula("=SUBTOTAL(109," + "a." * 4000 + ")", "externa_intakter",
                                 NET_COLUMNS, NET_HEADERS, (5, 9))


AMOUNT_HEADERS = BUDGETRAM_HEADER[2:9]


def test_nettobudget_as_a_sum_of_the_seven_parts_in_any_form_is_evaluated(tmp_path: Path) -> None:
    # How Excel stores `=[@[Externa intäkter]]+…` (the [#This Row] form), the same in another
    # order, and a SUM over a comma list; openpyxl writes no cached values.
    # Worked by hand: A 20 + 1,5 − 50 − 3 − 4,2 − 1 − 0,3 = −37,0;
    # B 10 − 5 − 0,5 = 4,5; C 1 + 2 − 3 − 4 − 5 − 6 − 7 = −22
    this_row = "=" + "+".join(f"Budgetram[[#This Row],[{h}]]" for h in AMOUNT_HEADERS)
    reverse = "=" + "+".join(f"Budgetram[[#This Row],[{h}]]" for h in reversed(AMOUNT_HEADERS))
    book = write_book(tmp_path / "b.xlsx", info("RUN", 2027), T("Budgetram", BUDGETRAM_HEADER, [
        ["A", TJ, 20, 1.5, -50, -3, -4.2, -1, -0.3, this_row],
        ["B", TJ, 10, None, -5, None, None, None, -0.5, reverse],
        ["C", FT, 1, 2, -3, -4, -5, -6, -7, "=SUM(C4,D4,E4,F4,G4,H4,I4)"],
    ], at="A1", title=None))
    report = validate(book)
    assert "formel-utan-varde" not in {f.code for f in report.findings}
    ours = [r["nettobudget"].amount for r in report.planbok.tables["Budgetram"].rows]
    assert ours == [Decimal("-37.0"), Decimal("4.5"), Decimal(-22)]
    # LibreOffice computes the stored forms alike
    ws = openpyxl.load_workbook(recalculate(book, tmp_path / "lo"), data_only=True)["Budgetram"]
    assert [ws["J2"].value, ws["J3"].value, ws["J4"].value] == [-37, 4.5, -22]


def test_the_at_shorthand_in_a_file_is_no_template_formula(tmp_path: Path) -> None:
    # `[@Kolumn]` is how Excel shows [#This Row]; a tool that writes it into the file (openpyxl
    # as typed) leaves a formula no engine computes: LibreOffice gives an error value, and
    # xlplan says the formula has no value instead of computing it itself
    short = "=" + "+".join(f"[@[{h}]]" for h in AMOUNT_HEADERS)
    book = write_book(tmp_path / "b.xlsx", info("RUN", 2027), T("Budgetram", BUDGETRAM_HEADER, [
        ["A", TJ, 20, 1.5, -50, -3, -4.2, -1, -0.3, short],
        ["B", TJ, 10, None, -5, None, None, None, -0.5, "=SUM(C3:I3)"],
    ], at="A1", title=None))
    report = validate(book)
    assert [(f.code, f.cell) for f in report.findings if f.code == "formel-utan-varde"] == [
        ("formel-utan-varde", "J2")]
    assert report.errors >= 1
    ws = openpyxl.load_workbook(recalculate(book, tmp_path / "lo"), data_only=True)["Budgetram"]
    assert isinstance(ws["J2"].value, str) and ws["J2"].value.startswith("#")
    assert ws["J3"].value == 4.5


def test_only_an_exact_sum_of_the_seven_parts_of_the_row_is_the_template_formula() -> None:
    from xlplan.formulas import is_row_formula

    def net(f: str) -> bool:  # row 5, the seven amounts in C..I
        return is_row_formula("Budgetram", "nettobudget", f, 5, NET_COLUMNS, NET_HEADERS)

    assert net("=" + "+".join(f"Budgetram[[#This Row],[{h}]]" for h in AMOUNT_HEADERS))
    assert net("=" + "+".join(f"Budgetram[[#This Row],[{h}]]" for h in reversed(AMOUNT_HEADERS)))
    # the displayed shorthand is never a stored formula (see the module's docstring)
    assert not net("=" + "+".join(f"[@[{h}]]" for h in AMOUNT_HEADERS))
    assert not net("=[@Läkemedel]+[@[Externa intäkter]]+[@[Interna intäkter]]"
                   "+[@Personalkostnader]+[@[Övriga externa kostnader]]+[@Avskrivningar]"
                   "+[@[Interna kostnader]]")
    assert net("=SUM(C5,D5,E5,F5,G5,H5,I5)") and net("=SUM(I5,C5:E5,F5:H5)")
    assert net("=I5+H5+G5+F5+E5+D5+C5")
    assert net("=SUM(" + ",".join(f"Budgetram[[#This Row],[{h}]]" for h in AMOUNT_HEADERS) + ")")
    assert net("=SUM(Budgetram[[#This Row],[Externa intäkter]:[Läkemedel]],G5:I5)")
    assert not net("=SUM(Budgetram[@[Externa intäkter]:[Läkemedel]],G5:I5)")
    assert not net("=SUM(C5,D5,E5,F5,G5,H5)")  # six of seven
    assert not net("=SUM(C5,C5,D5,E5,F5,G5,H5,I5)")  # one part twice
    assert not net("=SUM(C5:I5,J5)")  # the net itself too
    assert not net("=SUM(C5,D5,E5,F5,G5,H5,I6)")  # a cell of another row
    assert not net("=C5+D5+E5+F5+G5+H5-I5")  # a difference, not a sum
    assert not net("=" + "+".join(f"Budgetram[[#This Row],[{h}]]" for h in AMOUNT_HEADERS[:6])
                   + "+Budgetram[[#This Row],[Område]]")
    assert not net("=SUM(C5:E5)+SUM(F5:I5)")  # not the forms recognised
