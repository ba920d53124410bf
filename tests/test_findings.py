"""Codes no other test met, each with a case worked by hand: a real workbook, the code at a
known cell, the message rendered from its parameters; and findings as data."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.books import INVESTERING_HEADER, PROGNOS_HEADER, T, info, write_book
from tests.support.plan import full_plan
from xlplan import validate
from xlplan.consolidation import consolidate
from xlplan.findings import Finding, Severity, finding
from xlplan.validation import Report


def codes(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def test_dubbel_kolumn_at_the_second_header(tmp_path: Path) -> None:
    # Prognos at A1 with "Budget" in B1 and again in C1: the second (C1) is the duplicate
    header = ["Område", "Budget", "Budget", "Utfall ackumulerat", "Helårsprognos", "Avvikelse"]
    t = T("Prognos", header, [["Division Medicin", -10, -10, -4, -10, 0]], at="A1", title=None)
    [f] = codes(validate(write_book(tmp_path / "b.xlsx", info(), t)), "dubbel-kolumn")
    assert (f.severity, f.sheet, f.cell) == (Severity.ERROR, "Prognos", "C1")
    assert f.parameters["header"] == "Budget" and f.parameters["table"] == "Prognos"
    assert f.message == ('Kolumnen "Budget" finns två gånger i tabellen Prognos; bara den '
                         "första används.")


def test_tom_tabell_at_the_header(tmp_path: Path) -> None:
    # a Prognos with its header and totals row but not one data row
    t = T("Prognos", PROGNOS_HEADER, [], totals=["Summa", 0, 0, 0, 0], at="A1", title=None)
    [f] = codes(validate(write_book(tmp_path / "b.xlsx", info(), t)), "tom-tabell")
    assert (f.severity, f.sheet, f.cell) == (Severity.INFO, "Prognos", "A1")
    assert f.message == "Tabellen Prognos har inga ifyllda rader."


def test_saknat_varde_where_a_row_with_amounts_has_no_label(tmp_path: Path) -> None:
    # row 2 (A2) has no Område but Budget −10, Utfall −4, Helårsprognos −10, Avvikelse 0;
    # row 3 is complete: −20 − (−20) = 0
    t = T("Prognos", PROGNOS_HEADER, [[None, -10, -4, -10, 0], ["B", -20, -8, -20, 0]],
          at="A1", title=None)
    [f] = codes(validate(write_book(tmp_path / "b.xlsx", info(), t)), "saknat-varde")
    assert (f.severity, f.sheet, f.cell) == (Severity.WARNING, "Prognos", "A2")
    assert f.parameters["row"] == 2 and f.parameters["column"] == "Område"
    assert f.message == "Raden 2 har belopp men Område (A2) är tom."


def test_investeringsram_saknas_when_the_namnd_holds_investments(tmp_path: Path) -> None:
    # HSN holds 9 000 tkr in 2025 and Info has no Investeringsram: pointed at the table
    t = T("Investeringar", INVESTERING_HEADER,
          [["Division Kirurgi", "Operationsbord", "Reinvestering", "Övrigt", "HSN", 2025, 9000,
            10]], totals=["Summa", None, None, None, None, None, 9000, None], at="A1",
          title=None)
    [f] = codes(validate(write_book(tmp_path / "b.xlsx", info(), t)), "investeringsram-saknas")
    assert (f.severity, f.sheet, f.cell) == (Severity.WARNING, "Investeringar", "A1")
    assert f.message == ("Det finns investeringar med budgetansvar HSN men Investeringsram "
                         "saknas i Info.")


def test_fil_oanvand_names_the_older_file_and_the_newer(tmp_path: Path) -> None:
    # two planböcker for HSN: gammal.xlsx saved a day before ny.xlsx, so ny.xlsx is used
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    old, new = full_plan(inbox, "gammal.xlsx"), full_plan(inbox, "ny.xlsx")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_086_400, 1_700_086_400))
    region = consolidate(inbox, tmp_path / "ut.xlsx").region
    [f] = [f for f in region.findings if f.code == "fil-oanvand"]
    assert (f.severity, f.file) == (Severity.WARNING, "gammal.xlsx")
    assert f.parameters == {"file": "gammal.xlsx", "reason": "dubblett: ny.xlsx är nyare för HSN",
                            "cell": None}
    assert f.message == "gammal.xlsx användes inte: dubblett: ny.xlsx är nyare för HSN"


def test_a_finding_keeps_its_parameters_cleaned_and_renders_them() -> None:
    # from a workbook: an escape sequence goes whole, a BEL becomes a space, in the
    # parameters and so in the message
    f = finding("tom-tabell", "Budget\x1b[2Jram", "B3", table="Tj\x1b[31mänst\x07")
    assert f.parameters["table"] == "Tjänst " and f.sheet == "Budgetram"
    assert f.message == "Tabellen Tjänst  har inga ifyllda rader."
    assert f.to_json()["parameters"] == {"table": "Tjänst ", "cell": "B3"}
