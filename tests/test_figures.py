"""One definition per figure (xlplan/figures.py) for rules, summary, extract and Excel;
bad År; Prognos held against Budgetram; root cause first; --foregaende. Figures worked by
hand in the comments (the plan of tests/support/plan.py unless said)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.books import (
    BUDGETRAM_HEADER,
    INVESTERING_HEADER,
    PROGNOS_HEADER,
    TJ,
    T,
    info,
    write_book,
)
from tests.support.cli import xlplan
from tests.support.plan import full_plan, investeringar, plan_info, prognos
from xlplan import figures, validate
from xlplan.consolidation import consolidate
from xlplan.extract import extract
from xlplan.model import UnknownColumn
from xlplan.settings import Settings
from xlplan.summary.compute import summarize


def test_an_unknown_column_key_is_a_loud_programming_error(tmp_path: Path) -> None:
    report = validate(full_plan(tmp_path))
    row = report.planbok.tables["Budgetram"].rows[0]
    assert row["nettobudget"].amount == Decimal("-2331.4")
    with pytest.raises(UnknownColumn, match="netobudget"):
        row["netobudget"]  # the typo must fail, not read blank


def with_year(tmp: Path, year: Any, name: str = "hsn.xlsx") -> Path:
    t = investeringar()
    rows = [list(r) for r in t.rows]
    rows[2][5] = year  # Ombyggnad (HSN, 9500 tkr), Excel row 9, År in column H
    t.rows = rows
    return full_plan(tmp, name, Investeringar=t)


def test_the_same_held_figure_everywhere(tmp_path: Path) -> None:
    # HSN holds 9000 (År blank = 2025) + 9500 (2025) = 18 500 tkr in 2025; RS 8500
    report = validate(with_year(tmp_path, 2025))
    own = figures.own_in_year(report.planbok)
    assert own is not None and own.known == Decimal(18500)
    summary = summarize(report.planbok, Settings()).to_json()
    assert summary["investeringar"]["egen_budget_budgetar_tkr"] == "18500"
    ex = extract(report.planbok)
    assert ex is not None and ex.inv_held_year == {"HSN": Decimal(18500), "RS": Decimal(8500)}


def test_a_bad_year_is_an_error_at_its_cell_and_its_figure_is_not_used(tmp_path: Path) -> None:
    path = with_year(tmp_path, 2025.5)
    report = validate(path)
    # Investeringar at C6: header row 6, Ombyggnad is row 9; År is the 6th column: H
    assert [f.cell for f in report.findings if f.code == "ogiltigt-ar"] == ["H9"]
    own = figures.own_in_year(report.planbok)
    assert own is not None and own.known is None and own.missing == ("H9",)
    assert extract(report.planbok) is None  # consolidation does not use it
    folder = tmp_path / "in"
    folder.mkdir()
    with_year(folder, 2025.5)
    with_year(folder, 2025, "hsn-aldre.xlsx")  # an older, good file for the same nämnd
    import os
    import time

    os.utime(folder / "hsn-aldre.xlsx", (time.time() - 86400, time.time() - 86400))
    # the newest file is HSN's planbok: the older one is not used in its place, so nothing
    # in the inbox can be used, and the refusal names the cell
    from xlplan.errors import ConsolidationRefused

    with pytest.raises(ConsolidationRefused) as refused:
        consolidate(folder, tmp_path / "r.xlsx")
    assert "hsn.xlsx" in refused.value.message and "H9" in refused.value.message
    assert not (tmp_path / "r.xlsx").exists()


def test_prognos_covers_every_omrade_of_budgetram(tmp_path: Path) -> None:
    # Prognos with only Division Medicin: Kirurgi (Budgetram B6) and Nämnden (B7) lack rows;
    # an område Budgetram does not have is named too
    t = T("Prognos", PROGNOS_HEADER, [
        ["Division Medicin", -2331.4, -610.2, -2372.0, -40.6],
        ["Division Okänd", -1.0, 0, -1.0, 0],
    ], sheet="Prognos")
    report = validate(full_plan(tmp_path, Prognos=t))
    assert [(f.sheet, f.cell) for f in report.findings if f.code == "prognos-omrade-saknas"] == [
        ("Budgetram", "B6"), ("Budgetram", "B7")]
    assert [f.cell for f in report.findings if f.code == "prognos-okant-omrade"] == ["B5"]
    assert report.errors == 0


def test_a_prognos_budget_that_is_not_the_net_is_a_warning(tmp_path: Path) -> None:
    t = prognos()
    rows = [list(r) for r in t.rows]
    rows[0][1], rows[0][4] = -2361.4, -10.6  # Medicin: Budget 30 off its net −2331.4
    t.rows = rows
    t.totals = ["Summa", -4118.7, -1061.8, -4156.6, -37.9]  # −4088.7 − 30; −67.9 + 30
    report = validate(full_plan(tmp_path, Prognos=t))
    [f] = [f for f in report.findings if f.code == "prognos-budget-avvikelse"]
    assert (f.cell, f.expected, f.actual) == ("C4", Decimal("-2331.4"), Decimal("-2361.4"))
    assert f.severity.value == "warning" and report.errors == 0


def test_a_wrong_deviation_row_is_one_error_and_its_total_follows(tmp_path: Path) -> None:
    # Medicin's Avvikelse typed +40.6 (sign lost; −2372.0 − (−2331.4) = −40.6). The totals
    # row's −67.9 is right for the true rows: it only disagrees with the typed ones
    t = prognos()
    rows = [list(r) for r in t.rows]
    rows[0][4] = 40.6
    t.rows = rows
    report = validate(full_plan(tmp_path, Prognos=t))
    errors = [(f.code, f.cell) for f in report.findings if f.severity.value == "error"]
    assert errors == [("avvikelsefel", "F4")]
    [note] = [f for f in report.findings if f.code == "foljdfel"]
    assert note.cell == "F7" and "F4" in note.message and note.severity.value == "info"


def test_foregaende_must_be_the_same_namnd_the_year_before(tmp_path: Path) -> None:
    this = full_plan(tmp_path)

    def previous(namnd: str, year: int) -> Path:
        return write_book(tmp_path / f"{namnd}-{year}.xlsx", info(namnd, year),
                          T("Budgetram", BUDGETRAM_HEADER,
                            [["Allt", TJ, 306.9, 0, -4300.0, 0, 0, 0, 0, -3993.1]]))

    for namnd, year in (("RS", 2024), ("HSN", 2025), ("HSN", 2023)):
        result = xlplan("summary", str(this), "--foregaende", str(previous(namnd, year)))
        assert result.returncode == 2 and result.stdout == ""
        assert "ska vara HSN:s planbok för 2024" in result.stderr
        assert "Traceback" not in result.stderr
    ok = xlplan("summary", str(this), "-f", "json", "--foregaende", str(previous("HSN", 2024)))
    assert ok.returncode == 0, ok.stderr
    # net cost 4088.7 against 3993.1
    assert json.loads(ok.stdout)["kostnadsutveckling"]["nettokostnadsutveckling"] == str(
        Decimal("95.6") / Decimal("3993.1"))


def test_investments_of_a_nämnd_without_the_table_are_not_invented(tmp_path: Path) -> None:
    path = write_book(tmp_path / "x.xlsx", plan_info(), T("Budgetram", BUDGETRAM_HEADER, [
        ["A", TJ, 1, 0, -3, 0, 0, 0, 0, -2]]))
    report = validate(path)
    assert figures.own_in_year(report.planbok) is None
    assert figures.held_in_year(report.planbok) == {}
    t = T("Investeringar", INVESTERING_HEADER, [
        ["A", "O", "Nyinvestering", "IT", None, None, "tusen", 5]])
    report = validate(write_book(tmp_path / "y.xlsx", plan_info(), t))
    held = figures.held_in_year(report.planbok)
    assert held["HSN"].known is None and held["HSN"].missing == ("H4",)


def test_a_missing_amount_column_is_not_a_zero_for_consolidation(tmp_path: Path) -> None:
    # Budgetram without its Nettobudget column (an error at the header): the net is unknown,
    # so the planbok is not used; the table's has() refuses keys the contract lacks
    header = BUDGETRAM_HEADER[:-1]
    path = write_book(tmp_path / "x.xlsx", info("KTN", 2025), T("Budgetram", header, [
        ["Trafik", TJ, 10, 0, -30, 0, 0, 0, 0]], at="A1", title=None))
    report = validate(path)
    assert [f.cell for f in report.findings if f.code == "kolumn-saknas"] == ["A1"]
    assert extract(report.planbok) is None
    with pytest.raises(UnknownColumn):
        report.planbok.tables["Budgetram"].has("netobudget")
