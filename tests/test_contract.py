"""The contract's own checks: tables, headers, years, Info."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from tests.support.books import BUDGETRAM_HEADER, TJ, T, atgard_header, info, write_book
from xlplan import validate
from xlplan.validation import Report

ROW = ["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]


def cells(report: Report, code: str) -> list[str | None]:
    return [f.cell for f in report.findings if f.code == code]


def book(tmp: Path, *tables: T) -> Report:
    return validate(write_book(tmp / "c.xlsx", *tables))


def budget(header: list[str] | None = None, row: list[Any] | None = None) -> T:
    return T("Budgetram", header or BUDGETRAM_HEADER, [row or ROW], at="C3")


def test_missing_tables(tmp: Path) -> None:
    r = book(tmp, T("Annat", ["A"], [["x"]]))
    assert sorted(f.message for f in r.findings if f.code == "tabell-saknas") == [
        "Tabellen Budgetram saknas. Lägg till den från mallen (Excel-tabell med namnet Budgetram).",
        "Tabellen Info saknas. Lägg till den från mallen (Excel-tabell med namnet Info).",
    ]


def test_missing_column_names_the_expected_header_at_the_table_header(tmp: Path) -> None:
    header = [h if h != "Läkemedel" else "Läkemedel (mkr)" for h in BUDGETRAM_HEADER]
    r = book(tmp, info(), budget(header))
    missing = [f for f in r.findings if f.code == "kolumn-saknas"]
    assert [(f.cell, f.severity.value) for f in missing] == [("C3", "error")]
    assert '"Läkemedel"' in missing[0].message
    assert cells(r, "extra-kolumn") == ["H3"]


def test_headers_match_loosely(tmp: Path) -> None:
    header = ["  område ", "BUDGETTYP", "Externa  intäkter", *BUDGETRAM_HEADER[3:]]
    header[6] = unicodedata.normalize("NFD", header[6])  # Övriga … decomposed
    r = book(tmp, info(), budget(header))
    assert r.errors == 0


def test_header_year_must_fit_budget_year(tmp: Path) -> None:
    r = book(tmp, info(year=2025), budget(),
             T("Atgardsplan", atgard_header(2024), [["P", "A", "K", None, None, "Nej", "Nej", None,
                                                     1, 1, 1]], at="A10"))
    assert cells(r, "fel-ar-i-rubrik") == ["I10"]  # Effekt 2024; 2025 and 2026 still fit
    assert "Effekt 2025, Effekt 2026 eller Effekt 2027" in next(
        f.message for f in r.findings if f.code == "fel-ar-i-rubrik")
    assert cells(r, "kolumn-saknas") == ["A10"]  # Effekt 2027 is missing


def test_extra_columns_right_of_the_table_are_info(tmp: Path) -> None:
    r = book(tmp, info(), budget([*BUDGETRAM_HEADER, "Kommentar"], [*ROW, "text"]))
    assert [(f.cell, f.severity.value) for f in r.findings if f.code == "extra-kolumn"] == [
        ("M3", "info")]
    assert r.errors == 0


def test_info_fields(tmp: Path) -> None:
    t = T("Info", ["Fält", "Värde"], [["Nämnd", "hsn"], ["Budgetår", "tjugofem"],
                                      ["Belopp i", "kkr"], ["Rapportmånad", "mars"],
                                      ["Diarienummer", "1528"], ["Mallversion", 2],
                                      ["Ekonomiskt gap", -500]], at="A1")
    r = book(tmp, t, budget())
    assert cells(r, "ogiltigt-info-varde") == ["B3", "B4", "B5"]
    assert cells(r, "info-varning") == ["B6", "B8"]
    assert cells(r, "okand-mallversion") == ["B7"]
    assert r.planbok.info.namnd == "HSN"
    assert r.planbok.info.gap == 500


def test_missing_info_fields(tmp: Path) -> None:
    r = book(tmp, T("Info", ["Fält", "Värde"], [["Nämndnamn", "X"]], at="A1"), budget())
    assert sorted(f.message.split(".")[0] for f in r.findings if f.code == "info-saknas") == [
        "Info saknar Budgetår", "Info saknar Nämnd"]


def test_rapportmanad_typed_as_a_date(tmp: Path) -> None:
    import datetime as dt

    r = book(tmp, info(Rapportmånad=dt.datetime(2025, 3, 1)), budget())
    assert r.planbok.info.rapportmanad == "2025-03"


def test_tkr_unit(tmp: Path) -> None:
    r = book(tmp, info(**{"Belopp i": "tkr"}), budget())
    assert r.planbok.info.enhet == "tkr"


def test_hidden_sheet_holding_a_contract_table(tmp: Path) -> None:
    import openpyxl

    path = write_book(tmp / "h.xlsx", info(), budget())
    wb = openpyxl.load_workbook(path)
    wb["Budgetram"].sheet_state = "veryHidden"
    wb.save(path)
    r = validate(path)
    assert cells(r, "dolt-blad") == ["C3"]
