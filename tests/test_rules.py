"""One passing and one failing case per rule, each failing at a known cell."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.books import (
    BUDGETRAM_HEADER,
    FT,
    INVESTERING_HEADER,
    PROGNOS_HEADER,
    TJ,
    T,
    atgard_header,
    info,
    nettoram_header,
    ramforandring_header,
    write_book,
)
from xlplan import validate
from xlplan.findings import Finding
from xlplan.validation import Report


def run(tmp: Path, *tables: T, **info_fields: Any) -> Report:
    return validate(write_book(tmp / "b.xlsx", info("HSN", 2025, **info_fields), *tables))


def found(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def cells(report: Report, code: str) -> list[str | None]:
    return [f.cell for f in found(report, code)]


def one_row_budget(row: list[Any], totals: list[Any] | None = None) -> T:
    return T("Budgetram", BUDGETRAM_HEADER, [row], totals=totals, at="A1", title=None)


# --- totals ------------------------------------------------------------------------------


def test_totals_exact_despite_float_noise(tmp: Path) -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in a double: Excel's own total must not be flagged
    t = T("Prognos", PROGNOS_HEADER, [["A", 0.1, 0, 0.1, 0], ["B", 0.2, 0, 0.2, 0]],
          totals=["Summa", 0.1 + 0.2, 0, 0.30000000000000004, 0])
    assert found(run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]), t),
                 "summeringsfel") == []


def test_totals_in_tkr_at_the_rounding_boundary(tmp: Path) -> None:
    # rows 1234 + 2000 = 3234 tkr, typed to whole tkr: one unit is 1 tkr
    def total(value: float) -> Report:
        t = T("Investeringar", INVESTERING_HEADER,
              [["A", "Objekt 1", "Nyinvestering", "IT", "HSN", None, 1234, 5],
               ["B", "Objekt 2", "Reinvestering", "IT", "HSN", None, 2000, 5]],
              totals=["Summa", None, None, None, None, None, value, None], at="A1", title=None)
        return run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]), t,
                   Investeringsram=10000)

    assert cells(total(3234), "summeringsfel") == cells(total(3234), "avrundningsdifferens") == []
    r = total(3235)  # exactly one unit: within rounding, a warning
    assert cells(r, "avrundningsdifferens") == ["G4"] and r.errors == 0
    r = total(3236)  # two units: an error
    assert cells(r, "summeringsfel") == ["G4"]
    assert found(r, "summeringsfel")[0].expected == Decimal(3234)


def test_diagnosis_counted_twice_and_sign(tmp: Path) -> None:
    rows = [["A", 10.0, 0, 10.0, 0], ["B", -4.0, 0, -4.0, 0], ["C", 7.5, 0, 7.5, 0]]
    # true Budget total 13.5; 21.5 = 10 + 4 + 7.5 counts B with the wrong sign (diff 8 = 2 × 4)
    r = run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]),
            T("Prognos", PROGNOS_HEADER, rows, totals=["Summa", 21.5, 0, 13.5, 0]))
    assert "fel tecken" in found(r, "summeringsfel")[0].message
    # 17.5 = 10 + 7.5 leaves B out
    r = run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]),
            T("Prognos", PROGNOS_HEADER, rows, totals=["Summa", 17.5, 0, 13.5, 0]))
    assert "rad 5 – saknas den i summan" in found(r, "summeringsfel")[0].message
    # 21.0 counts C twice
    r = run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]),
            T("Prognos", PROGNOS_HEADER, rows, totals=["Summa", 21.0, 0, 13.5, 0]))
    assert "två gånger" in found(r, "summeringsfel")[0].message


def test_hidden_rows_left_out_by_subtotal_are_named(tmp: Path) -> None:
    rows = [["A", 10.0, 0, 10.0, 0], ["B", 5.0, 0, 5.0, 0], ["C", 1.0, 0, 1.0, 0]]
    # B (row 5) is hidden; Excel's SUBTOTAL(109) shows 11 where the data sum is 16
    r = run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]),
            T("Prognos", PROGNOS_HEADER, rows, totals=["Summa", 11.0, 0, 16.0, 0], hidden=[1],
              at="B3"))
    assert cells(r, "dolda-rader") == ["B3"]
    assert "5" in found(r, "dolda-rader")[0].message
    f = found(r, "summeringsfel")
    assert [x.cell for x in f] == ["C7"]
    assert "dolda raderna 5" in f[0].message


def test_table_without_totals_row_is_valid(tmp: Path) -> None:
    r = run(tmp, one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]))
    assert r.errors == 0
    assert cells(r, "totalrad-saknas") == ["A1"]


def test_last_row_labelled_summa_is_read_as_totals(tmp: Path) -> None:
    t = T("Budgetram", BUDGETRAM_HEADER, [["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1],
                                          ["Summa", None, 5, 0, 0, 0, 0, 0, 0, 5]],
          at="A1", title=None)
    r = run(tmp, t)
    assert cells(r, "summarad-som-datarad") == ["A3"]
    assert cells(r, "summeringsfel") == ["C3", "J3"]


# --- Budgetram ------------------------------------------------------------------------------


def test_net_ok_and_net_wrong_with_missing_column_diagnosis(tmp: Path) -> None:
    # 10.2 + 2.1 − 5.3 − 3.4 − 1.5 = 2.1
    ok = run(tmp, one_row_budget(["X", TJ, 10.2, 2.1, -5.3, 0, -3.4, -1.5, 0, 2.1]))
    assert found(ok, "nettofel") == []
    # Nettobudget 3.6 where the parts sum to 2.1: the −1.5 Avskrivningar is left out
    bad = run(tmp, one_row_budget(["X", TJ, 10.2, 2.1, -5.3, 0, -3.4, -1.5, 0, 3.6]))
    f = found(bad, "nettofel")
    assert [x.cell for x in f] == ["J2"]
    assert (f[0].expected, f[0].actual) == (Decimal("2.1"), Decimal("3.6"))
    assert "Avskrivningar" in f[0].message


def test_sign_flipped_gives_warning_not_error(tmp: Path) -> None:
    r = run(tmp, one_row_budget(["X", TJ, -10, 0, 5, 0, 0, 0, 0, -5]))
    assert cells(r, "teckenfel") == ["C2", "E2"]
    assert r.errors == 0


def test_budgettyp_values(tmp: Path) -> None:
    r = run(tmp, one_row_budget(["X", "Tjänstemanna", 1, 0, 0, 0, 0, 0, 0, 1]))
    assert cells(r, "ogiltigt-varde") == ["B2"]
    r = run(tmp, one_row_budget(["X", "  tjänstemannabudget ", 1, 0, 0, 0, 0, 0, 0, 1]))
    assert cells(r, "ogiltigt-varde") == []


def test_nettoram_against_budgetram_with_rounding(tmp: Path) -> None:
    budget = T("Budgetram", BUDGETRAM_HEADER, [["X", TJ, 10.04, 0, 0, 0, 0, 0, 0, 10.04],
                                               ["P", FT, 0, 0, -1, 0, 0, 0, 0, -1]],
               at="A1", title=None)

    def ram(tj: float) -> T:
        return T("Nettoram", nettoram_header(2025), [[TJ, 9, tj, 0, 0], [FT, -1, -1, 0, 0]],
                 at="A10", title=None)

    assert cells(run(tmp, budget, ram(10.04)), "nettoram-avvikelse") == []
    r = run(tmp, budget, ram(10.0))  # 10,0 rounds 10,04: within half a tenth
    assert cells(r, "avrundningsdifferens") == ["C11"] and r.errors == 0
    r = run(tmp, budget, ram(10.2))
    assert cells(r, "nettoram-avvikelse") == ["C11"]


def test_frame_change_explained_or_not(tmp: Path) -> None:
    # the frame goes from −100.3 to −110.3: the nämnd received −100.3 − (−110.3) = +10.0
    # (money in positive, as ramförändringar are written)
    budget = one_row_budget(["X", TJ, 0, 0, -110.3, 0, 0, 0, 0, -110.3])
    ram = T("Nettoram", nettoram_header(2025), [[TJ, -100.3, -110.3, 0, 0]], at="A10",
            title=None)

    def changes(amount: float) -> T:
        return T("Ramforandringar", ramforandring_header(2025),
                 [["Uppräkning", "Index", None, None, None, amount, None, None]],
                 at="A20", title=None)

    assert found(run(tmp, budget, ram, changes(10.0)), "oforklarad-ramforandring") == []
    r = run(tmp, budget, ram, changes(6.2))  # 10.0 − 6.2 = 3.8 unexplained
    f = found(r, "oforklarad-ramforandring")
    assert [x.cell for x in f] == ["A10"] and "3,8" in f[0].message
    # the frame's arithmetic change (−10.0) is not what it received: 20.0 unexplained
    f = found(run(tmp, budget, ram, changes(-10.0)), "oforklarad-ramforandring")
    assert [x.cell for x in f] == ["A10"] and "20,0" in f[0].message
    # 9.9 is one unit (0.1) off: within rounding
    r = run(tmp, budget, ram, changes(9.9))
    assert found(r, "oforklarad-ramforandring") == [] and cells(r, "avrundningsdifferens") == [
        "A10"]


# --- Åtgärdsplan -------------------------------------------------------------------------------


def atgard(*rows: list[Any], extra: list[str] | None = None) -> T:
    return T("Atgardsplan", atgard_header(2025) + (extra or []), list(rows), at="A1", title=None)


def test_shifting_and_risk(tmp: Path) -> None:
    base = one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1])
    ok = run(tmp, base, atgard(["P", "A", "K", None, None, "Nej", "Ja", "Ja", 1, 1, 1]))
    assert ok.errors == 0
    r = run(tmp, base, atgard(["P", "A", "K", None, None, "Ja", "Nej", None, 1, 1, 1],
                              ["P", "B", "K", None, None, "Nej", "Ja", "Nej", 1, 1, 1]))
    assert cells(r, "overvaltring") == ["F2"]
    assert cells(r, "ej-riskbedomd") == ["H3"]


def test_negative_effect_and_years_added_together(tmp: Path) -> None:
    base = one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1])
    r = run(tmp, base, atgard(["P", "A", "K", None, None, "Nej", "Nej", None, -2, 3, 4, 5],
                              ["P", "B", "K", None, None, "Nej", "Nej", None, 1, 1, None, 2],
                              extra=["Totalt 3 år"]))
    assert cells(r, "negativ-effekt") == ["I2"]
    assert cells(r, "effekter-summerade") == ["L1"]
    assert cells(r, "extra-kolumn") == ["L1"]


# --- Investeringar ------------------------------------------------------------------------------


def invest(*rows: list[Any]) -> T:
    return T("Investeringar", INVESTERING_HEADER, list(rows), at="A1", title=None)


def test_investment_frame_counts_only_own_budget_in_the_budget_year(tmp: Path) -> None:
    base = one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1])
    rows = [["A", "Eget", "Nyinvestering", "IT", "HSN", None, 600, 5],
            ["A", "Hos RS", "Nyinvestering", "Medicinteknik", "RS", None, 900, 5],
            ["A", "Nästa år", "Nyinvestering", "IT", None, 2026, 900, 5],
            ["A", "Utan ansvar", "Reinvestering", "Övrigt", None, 2025, 300, 5]]
    # own in 2025: 600 + 300 = 900
    assert found(run(tmp, base, invest(*rows), Investeringsram=900), "over-investeringsram") == []
    r = run(tmp, base, invest(*rows), Investeringsram=899)
    f = found(r, "over-investeringsram")
    assert (f[0].expected, f[0].actual) == (Decimal(899), Decimal(900))


def test_investment_values(tmp: Path) -> None:
    base = one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1])
    r = run(tmp, base, invest(["A", "O", "Ny", "Bilar", "hsn", 25, 100, 0],
                              ["A", "P", "Nyinvestering", "IT", "Region HSN", None, 100, None]),
            Investeringsram=1000)
    assert cells(r, "ogiltigt-varde") == ["C2", "D2", "E3"]
    assert cells(r, "ogiltigt-ar") == ["F2"]
    assert cells(r, "ogiltig-avskrivningstid") == ["H2"]
    assert cells(r, "avskrivningstid-saknas") == ["H3"]


# --- Ramförändringar ----------------------------------------------------------------------------


def transfers(*rows: list[Any]) -> T:
    return T("Ramforandringar", ramforandring_header(2025), list(rows), at="A1", title=None)


def test_transfer_rules(tmp: Path) -> None:
    base = one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1])
    ok = run(tmp, base, transfers(["Omdisponering", "Till RS", "RS/482/2024", "HSN", "RS",
                                   -4.5, -4.5, -4.5]))
    assert ok.errors == 0
    assert [f.code for f in ok.findings if f.code.startswith(("omdisp", "ogiltigt"))] == []
    r = run(tmp, base, transfers(
        ["Omdisponering", "Utan dnr", None, "HSN", "RS", -1, None, None],
        ["Omdisponering", "Fel nämnd", "RS/1/2024", "RUN", "RS", -1, None, None],
        ["Omdisponering", "Fel tecken", "RS/2/2024", "RS", "HSN", -1, None, None],
        ["Uppräkning", "Udda dnr", "dnr 12", None, None, -1, None, None],
    ))
    assert cells(r, "omdisponering-ofullstandig") == ["C2"]
    assert cells(r, "omdisponering-fel-namnd") == ["D3"]
    assert cells(r, "omdisponering-tecken") == ["F4"]
    assert cells(r, "ogiltigt-diarienummer") == ["C5"]


# --- Prognos ------------------------------------------------------------------------------------


def test_deviation(tmp: Path) -> None:
    base = one_row_budget(["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1])
    ok = run(tmp, base, T("Prognos", PROGNOS_HEADER, [["A", -100, -20, -104.5, -4.5]]))
    assert found(ok, "avvikelsefel") == []
    r = run(tmp, base, T("Prognos", PROGNOS_HEADER, [["A", -100, -20, -104.5, 4.5]], at="A1",
                         title=None))
    assert cells(r, "avvikelsefel") == ["E2"]
    assert found(r, "avvikelsefel")[0].expected == Decimal("-4.5")


# --- cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [("1 754,2", "tal-som-text"), ("\u22124,2", "tal-som-text"), ("1\u00a0754.2", "tal-som-text"),
     ("Mål 95 % 20 mkr", "ej-tal"), (True, "ej-tal"), ("#REF!", "felvarde"),
     ("#DIV/0!", "felvarde"), ("=C2+D2", "formel-utan-varde")],
)
def test_amount_cells(tmp: Path, value: Any, code: str) -> None:
    r = run(tmp, one_row_budget(["X", TJ, value, 0, 0, 0, 0, 0, 0, 1]))
    assert cells(r, code) == ["C2"]


def test_swedish_number_text_is_used(tmp: Path) -> None:
    r = run(tmp, one_row_budget(["X", TJ, "1 754,2", 0, 0, 0, 0, 0, 0, 1754.2]))
    assert found(r, "nettofel") == [] and r.errors == 0


def test_date_in_amount_cell(tmp: Path) -> None:
    import datetime as dt

    r = run(tmp, one_row_budget(["X", TJ, dt.date(2025, 1, 1), 0, 0, 0, 0, 0, 0, 1]))
    assert cells(r, "ej-tal") == ["C2"] and "datum" in found(r, "ej-tal")[0].message


def test_totals_row_net_checked_when_a_column_cannot_be(tmp: Path) -> None:
    # a #REF! in a row keeps the Externa intäkter total from being checked; the totals row
    # itself still has to add up: the net column total 6 = 5 + 1 is right, but the totals
    # row's parts give 14 + 0 − 5 = 9 (3 off: beyond one unit)
    t = T("Budgetram", BUDGETRAM_HEADER,
          [["X", TJ, "#REF!", 0, -5, 0, 0, 0, 0, 5], ["Y", TJ, 1, 0, 0, 0, 0, 0, 0, 1]],
          totals=["Summa", None, 14, 0, -5, 0, 0, 0, 0, 6], at="A1", title=None)
    r = run(tmp, t)  # the totals row's parts give 14 − 5 = 9, not 6
    assert cells(r, "felvarde") == ["C2"]
    assert cells(r, "nettofel") == ["J4"]


def test_one_wrong_total_is_one_error(tmp: Path) -> None:
    t = T("Budgetram", BUDGETRAM_HEADER,
          [["X", TJ, 10, 0, -5, 0, 0, 0, 0, 5], ["Y", TJ, 1, 0, 0, 0, 0, 0, 0, 1]],
          totals=["Summa", None, 15, 0, -5, 0, 0, 0, 0, 6], at="A1", title=None)
    r = run(tmp, t)  # 15 against 10 + 1 = 11
    assert [(f.code, f.cell) for f in r.findings if f.severity.value == "error"] == [
        ("summeringsfel", "C4")]


def test_subtotal_rows_inside_the_table_are_not_data(tmp: Path) -> None:
    # like the published plans: a "Summa tjänstemannabudget" row inside the table
    rows = [["A", TJ, 10, 0, -4, 0, 0, 0, 0, 6], ["B", TJ, 5, 0, -1, 0, 0, 0, 0, 4],
            ["Summa tjänstemannabudget", TJ, 15, 0, -5, 0, 0, 0, 0, 10],
            ["P", FT, 0, 0, -2, 0, 0, 0, 0, -2]]
    right = T("Budgetram", BUDGETRAM_HEADER, rows,
              totals=["Summa", None, 15, 0, -7, 0, 0, 0, 0, 8], at="A1", title=None)
    r = run(tmp, right)
    assert r.errors == 0 and cells(r, "delsumma-i-tabell") == ["A4"]
    assert r.planbok.tables["Budgetram"].rows[-1].text("omrade") == "P"
    # a total that counted the subtotal row too is named for what it is
    wrong = T("Budgetram", BUDGETRAM_HEADER, rows,
              totals=["Summa", None, 30, 0, -12, 0, 0, 0, 0, 18], at="A1", title=None)
    f = found(run(tmp, wrong), "summeringsfel")
    assert [x.cell for x in f] == ["C6", "E6", "J6"]
    assert "rad 4 – räknas den två gånger" in f[0].message


def test_a_misspelled_part_column_counts_once_not_again_at_every_net(tmp_path: Path) -> None:
    # `Personalkostnader` misspelled: the column is missing (an error at the header A1). The
    # nets −30 (20 − 50) and −5 (10 − 15) then differ from the parts that are left (20, 10),
    # but only because of that slip: foljdfel (info) at J2 and J3 naming A1, never nettofel
    header = [h if h != "Personalkostnader" else "Personalkostnder" for h in BUDGETRAM_HEADER]
    book = write_book(tmp_path / "b.xlsx", info("RUN", 2025), T("Budgetram", header, [
        ["A", TJ, 20, None, -50, None, None, None, None, -30],
        ["B", TJ, 10, None, -15, None, None, None, None, -5],
    ], at="A1", title=None))
    report = validate(book)
    assert "nettofel" not in {f.code for f in report.findings}
    assert [(f.code, f.cell) for f in report.findings if f.code == "kolumn-saknas"] == [
        ("kolumn-saknas", "A1")]
    consequences = [f for f in report.findings if f.code == "foljdfel"]
    assert [(f.cell, f.severity.value) for f in consequences] == [("J2", "info"), ("J3", "info")]
    assert all("A1" in f.message and "Personalkostnader" in f.message for f in consequences)
    assert report.errors == 1


def test_the_digit_swap_hint_only_for_a_real_swap() -> None:
    from xlplan.rules.common import diagnose, swapped

    assert swapped(Decimal("-1745.2"), Decimal("-1754.2"))  # 4 and 5 swapped
    assert swapped(Decimal("4231"), Decimal("1234"))  # not neighbours: still a swap
    assert swapped(Decimal("12.5"), Decimal("21.5")) and swapped(Decimal("1.2"), Decimal("2.1"))
    # differences divisible by 9 that are no swap (a tester met the first: a total typed 0)
    assert not swapped(Decimal(0), Decimal("167.4"))  # 1674 = 9 × 186
    assert not swapped(Decimal("100"), Decimal("10"))  # 90
    assert not swapped(Decimal("1754.2"), Decimal("-1754.2"))  # a sign
    assert not swapped(Decimal("1800"), Decimal("1854"))  # 54, two digits changed, not swapped
    assert "bytt plats" not in diagnose(Decimal(0), Decimal("167.4"), [("5", Decimal("100.1"))])
    assert "bytt plats" in diagnose(Decimal("-1745.2"), Decimal("-1754.2"),
                                    [("Personalkostnader", Decimal("-1040.6"))], "kolumnen")
