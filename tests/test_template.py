"""Templates: fresh books validate clean, the committed ones do not drift, and the formulas
we ship compute in a real spreadsheet engine what the validator expects."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.support.cli import sha256
from tests.support.engine import recalculate
from xlplan import contract as c
from xlplan import validate
from xlplan.errors import OutputError
from xlplan.template import PlanbokData, build_templates, new_planbok, write_planbok

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("namnd", ["HSN", "RS"])
def test_fresh_planbok_validates_without_errors_or_warnings(tmp_path: Path, namnd: str) -> None:
    path = tmp_path / "ny.xlsx"
    new_planbok(path, namnd, 2027, "Nämnden")
    report = validate(path)
    assert [f.code for f in report.findings if f.severity.value != "info"] == []
    assert set(report.planbok.tables) >= {"Budgetram", "Nettoram", "Atgardsplan", "Investeringar"}
    assert ("Finansiering" in report.planbok.tables) == (namnd == "RS")
    assert report.planbok.tables["Atgardsplan"].headers["effekt_2"] == "Effekt 2029"


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "ny.xlsx"
    path.write_bytes(b"keep")
    with pytest.raises(OutputError, match="finns redan"):
        new_planbok(path, "HSN", 2027)
    assert path.read_bytes() == b"keep"


def test_template_has_dropdowns_formats_and_frozen_headers(tmp_path: Path) -> None:
    path = tmp_path / "ny.xlsx"
    new_planbok(path, "HSN", 2027)
    wb = openpyxl.load_workbook(path)
    ws = wb["Budgetram"]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"Tjänstemannabudget,Förtroendemannabudget"' in lists
    assert ws.freeze_panes == "B5"
    assert ws["C5"].number_format == "#,##0.0"
    assert wb["Investeringar"]["G5"].number_format == "#,##0"
    assert "Instruktioner" in wb.sheetnames
    assert wb["Budgetram"]["J6"].value == "=SUBTOTAL(109,Budgetram[Nettobudget])"


def test_committed_templates_do_not_drift(tmp_path: Path) -> None:
    for fresh in build_templates(tmp_path):
        committed = ROOT / "workbooks" / fresh.name
        assert committed.exists(), f"workbooks/{fresh.name} saknas: kör xlplan-mallarna"
        assert sha256(committed) == sha256(fresh), (
            f"workbooks/{fresh.name} skiljer sig från generatorn; kör "
            "python -c 'from xlplan.template import build_templates; "
            "build_templates(__import__(\"pathlib\").Path(\"workbooks\"))'"
        )


def _fill_template_like_a_controller(tmp_path: Path, hidden_row: int | None = None) -> Path:
    """Our template with three labelled rows; the amounts typed in by openpyxl, which drops
    every cached formula value, so only a recalculation can give the formulas values."""
    data = PlanbokData("HSN", 2025)
    data.tables["Budgetram"] = [
        {"omrade": "Division Medicin", "budgettyp": "Tjänstemannabudget"},
        {"omrade": "Division Kirurgi", "budgettyp": "Tjänstemannabudget"},
        {"omrade": "Nämnden", "budgettyp": "Förtroendemannabudget"},
    ]
    data.tables["Prognos"] = [{"omrade": "Division Medicin"}, {"omrade": "Division Kirurgi"},
                              {"omrade": "Nämnden"}]
    template = tmp_path / "mall.xlsx"
    write_planbok(template, data)
    wb = openpyxl.load_workbook(template)
    ws = wb["Budgetram"]
    rows = {  # C..I: the seven amounts, rows 5–7
        5: [80.3, 45.6, -1150.2, -640.7, -380.1, -25.4, -260.9],
        6: [95.1, 60.2, -1040.6, -210.3, -410.8, -30.1, -217.7],
        7: [None, 0.6, -2.9, None, -0.8, None, None],
    }
    for r, values in rows.items():
        for j, v in enumerate(values):
            ws.cell(r, 3 + j, v)
    if hidden_row:
        ws.row_dimensions[hidden_row].hidden = True
    p = wb["Prognos"]
    p["B5"], p["C5"], p["D5"] = -2331.4, -610.2, -2372.0
    p["B6"], p["C6"], p["D6"] = -1754.2, -450.9, -1781.5
    p["B7"], p["C7"], p["D7"] = -3.1, -0.7, -3.1
    filled = tmp_path / "ifylld.xlsx"
    wb.save(filled)
    return filled


def test_shipped_formulas_compute_what_the_validator_expects(tmp_path: Path) -> None:
    filled = _fill_template_like_a_controller(tmp_path)
    before = validate(filled)  # no engine yet: xlplan evaluates the template's formulas
    assert {f.code for f in before.findings} >= {"formel-beraknad"}
    assert "formel-utan-varde" not in {f.code for f in before.findings}
    result = recalculate(filled, tmp_path / "lo")
    report = validate(result)
    assert [f.code for f in report.findings if f.severity.value != "info"] == []
    budget = report.planbok.tables["Budgetram"]
    # hand-computed nets (see tests/support/plan.py)
    assert [r["nettobudget"].amount for r in budget.rows] == [
        Decimal("-2331.4"), Decimal("-1754.2"), Decimal("-3.1")]
    assert budget.totals is not None
    assert budget.totals["nettobudget"].amount == Decimal("-4088.7")
    assert budget.totals["personalkostnader"].amount == Decimal("-2193.7")
    prognos = report.planbok.tables["Prognos"]
    assert prognos.rows[0]["avvikelse"].amount == Decimal("-40.6")
    assert {t.name for t in c.TABLES if t.name in report.planbok.tables} >= {"Budgetram",
                                                                           "Prognos"}


def test_engine_subtotal_skips_hidden_rows_and_the_validator_says_so(tmp_path: Path) -> None:
    filled = _fill_template_like_a_controller(tmp_path, hidden_row=7)
    report = validate(recalculate(filled, tmp_path / "lo"))
    sums = [f for f in report.findings if f.code == "summeringsfel"]
    # SUBTOTAL(109) in LibreOffice leaves out hidden row 7 (Nämnden): D8 shows 45.6+60.2
    assert ("D8", Decimal("106.4"), Decimal("105.8")) in [(f.cell, f.expected, f.actual)
                                                         for f in sums]
    assert all("dolda raderna 7" in f.message for f in sums)
    assert [f.cell for f in report.findings if f.code == "dolda-rader"] == ["A4"]


def test_the_start_sheets_name_their_workbook_and_where_the_result_goes(tmp_path: Path) -> None:
    from xlplan.template import new_region

    ROOT = Path(__file__).resolve().parent.parent
    region = tmp_path / "region.xlsm"
    new_region(region, 2027, region="Region Exempel")
    for path, title in ((ROOT / "workbooks" / "region-mall.xlsm", "Regionsammanställning 2027"),
                        (region, "Regionsammanställning Region Exempel 2027")):
        start = openpyxl.load_workbook(path)["Start"]
        assert start["A1"].value == title, path
        note = start["A2"].value
        assert "bladet Region" in note and "Utfil" in note, path
        assert "Kontroll" not in note and "Sammanfattning" not in note, path
    planbok = openpyxl.load_workbook(ROOT / "workbooks" / "planbok-mall.xlsm")["Start"]
    assert planbok["A1"].value == "Planbok 2027"  # no nämnd yet: one space, not two
    assert "Kontroll och Sammanfattning" in planbok["A2"].value


def test_every_formula_result_of_the_demo_books_is_what_libreoffice_computes(
        tmp_path: Path) -> None:
    # the results a generated planbok carries are what the formulas compute over the cells
    # as written, planted slips included (a totals cell once held the sum without the slip in
    # J7): every formula cell of every demo book against LibreOffice's own recalculation
    from xlplan.demo import write_demo

    write_demo(tmp_path / "demo")
    for book in sorted((tmp_path / "demo").glob("planbok-*.xlsx")):
        formulas = openpyxl.load_workbook(book)
        ours = openpyxl.load_workbook(book, data_only=True)
        theirs = openpyxl.load_workbook(recalculate(book, tmp_path / "lo" / book.stem),
                                        data_only=True)
        checked = 0
        for ws in formulas.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        mine = ours[ws.title][cell.coordinate].value
                        engine = theirs[ws.title][cell.coordinate].value
                        assert mine == pytest.approx(engine, abs=1e-9), (book.name, ws.title,
                                                                         cell.coordinate)
                        checked += 1
        assert checked >= 10, book.name
