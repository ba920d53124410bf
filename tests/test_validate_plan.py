"""Whole-plan validation: a consistent plan has zero errors; the region's typical slips are
caught at their cells."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.support.books import T, write_book
from tests.support.cli import sha256
from tests.support.plan import budgetram, full_plan, plan_info
from xlplan import validate
from xlplan.findings import Finding


def codes(findings: tuple[Finding, ...], severity: str | None = None) -> list[str]:
    return [f.code for f in findings if severity is None or f.severity.value == severity]


def at(findings: tuple[Finding, ...], code: str) -> list[tuple[str | None, str | None]]:
    return [(f.sheet, f.cell) for f in findings if f.code == code]


def test_consistent_plan_has_no_errors_and_no_false_alarms(tmp: Path) -> None:
    report = validate(full_plan(tmp))
    assert codes(report.findings, "error") == []
    # outside builders type constants where the template has formulas: only that is said
    assert set(codes(report.findings, "warning")) == {"formel-overskriven"}
    assert report.errors == 0


def test_validation_leaves_the_input_byte_identical(tmp: Path) -> None:
    path = full_plan(tmp)
    before = sha256(path)
    validate(path)
    assert sha256(path) == before


def test_totals_row_missing_one_row(tmp: Path) -> None:
    # Personalkostnader total typed as if Nämnden (−2.9, Excel row 7) were left out.
    t = budgetram()
    t.totals = list(t.totals or [])
    t.totals[4] = -2190.8
    report = validate(full_plan(tmp, Budgetram=t))
    found = [f for f in report.findings if f.code == "summeringsfel"]
    assert [(f.sheet, f.cell) for f in found] == [("Budgetram", t.cell_of(-1, "Personalkostnader"))]
    assert found[0].expected == Decimal("-2193.7")
    assert found[0].actual == Decimal("-2190.8")
    assert "rad 7" in found[0].message and "saknas den i summan" in found[0].message
    assert "2,9" in found[0].message


def test_net_that_does_not_match_its_parts(tmp: Path) -> None:
    t = budgetram()
    rows = [list(r) for r in t.rows]
    rows[1][9] = -1745.2  # Division Kirurgi: the parts give −1754.2 (digits swapped)
    t.rows = rows
    report = validate(full_plan(tmp, Budgetram=t))
    found = [f for f in report.findings if f.code == "nettofel"]
    assert [(f.cell, f.expected, f.actual) for f in found] == [
        (t.cell_of(1, "Nettobudget"), Decimal("-1754.2"), Decimal("-1745.2"))
    ]
    assert "delbar med 9" in found[0].message
    # root cause first: the column total (−4088.7, right for the true nets), Nettoram's
    # Tjänstemannabudget (−4085.6 = −2331.4 − 1754.2) and Prognos' Budget for Kirurgi
    # (−1754.2) disagree with the typed net only because of it: one error, three notes
    # naming the root cell
    root = t.cell_of(1, "Nettobudget")
    assert at(report.findings, "summeringsfel") == []
    assert at(report.findings, "nettoram-avvikelse") == []
    follow = [f for f in report.findings if f.code == "foljdfel"]
    assert sorted((f.sheet, f.cell) for f in follow) == sorted([
        ("Budgetram", t.cell_of(-1, "Nettobudget")), ("Budgetram", "D13"), ("Prognos", "C5")])
    assert all(root in f.message and f.severity.value == "info" for f in follow)
    assert report.errors == 1


def test_target_typed_into_an_amount_cell(tmp: Path) -> None:
    from tests.support.plan import atgardsplan

    t = atgardsplan()
    rows = [list(r) for r in t.rows]
    rows[1][9] = "Mål 95 % 20 mkr"
    t.rows = rows
    report = validate(full_plan(tmp, Atgardsplan=t))
    assert at(report.findings, "ej-tal") == [("Åtgärdsplan", t.cell_of(1, "Effekt 2026"))]
    assert "Effekt 2026" in next(f.message for f in report.findings if f.code == "ej-tal")
    # the amount counts as missing, not as 0: no false total error for that column
    assert at(report.findings, "summeringsfel") == []


def test_tables_found_anywhere_with_titles_and_other_sheets(tmp: Path) -> None:
    path = write_book(
        tmp / "x.xlsx", plan_info(),
        T("Budgetram", budgetram().header, budgetram().rows, budgetram().totals,
          sheet="Min egen flik", at="F10", title="Budget enligt beslut"),
    )
    report = validate(path)
    assert report.errors == 0
    assert report.planbok.tables["Budgetram"].sheet == "Min egen flik"
    assert report.planbok.tables["Budgetram"].header_ref == "F10"
