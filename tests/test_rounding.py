"""The contract's rounding model (Clarifications): each typed amount's precision is the
largest power of ten dividing it; a sum has the finest precision of its terms; two figures
that should be equal are equal within rounding when they differ by at most one unit of the
coarser precision (a warning), beyond it they differ (an error). The same in mkr and tkr.

Every expectation below is worked by hand in its comment.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.books import (
    BUDGETRAM_HEADER,
    FT,
    INVESTERING_HEADER,
    PROGNOS_HEADER,
    TJ,
    T,
    info,
    nettoram_header,
    write_book,
)
from xlplan import validate
from xlplan.rounding import Figure, Verdict, finest, judge, precision
from xlplan.validation import Report


@pytest.mark.parametrize(("value", "unit"), [
    ("-4.3", "0.1"), ("-1754", "1"), ("-1754000", "1000"), ("1750", "10"), ("10.04", "0.01"),
    ("17.70", "0.1"), ("0.175", "0.001"), ("175", "1"),
])
def test_precision_is_the_largest_power_of_ten_dividing_the_amount(value: str, unit: str) -> None:
    assert precision(D(value)) == D(unit)


def test_zero_has_no_precision_and_a_sum_takes_the_finest() -> None:
    assert precision(D(0)) is None and precision(D("0.00")) is None
    assert finest([D("1"), None, D("0.1"), D("1000")]) == D("0.1")
    # 1754 (1) + 0.6 (0,1) + 0 (none) = 1754.6 with precision 0,1
    s = Figure.sum([Figure.typed(D(1754)), Figure.typed(D("0.6")), Figure.typed(D(0))])
    assert (s.value, s.precision) == (D("1754.6"), D("0.1"))


def _v(a: str, b: str) -> Verdict:
    return judge(Figure.typed(D(a)), Figure.typed(D(b)))


@pytest.mark.parametrize(("shown", "expected", "verdict"), [
    # mkr in tenths: one unit is 0,1
    ("-1730.8", "-1730.9", Verdict.ROUNDING),  # exactly one unit
    ("-1730.95", "-1730.9", Verdict.ROUNDING),  # 0,05: under one unit of the coarser (0,1)
    ("-1731.01", "-1730.9", Verdict.DIFFERENT),  # 0,11: just over one unit of 0,1
    ("-1730.7", "-1730.9", Verdict.DIFFERENT),  # two units
    ("-1731", "-1730.9", Verdict.ROUNDING),  # whole mkr against tenths: one unit is 1
    ("-1732", "-1730.9", Verdict.DIFFERENT),  # 1,1 > 1
    # the same plan in tkr: one unit is 100 tkr (tenths of mkr) or 1 000 tkr (whole mkr)
    ("-1730800", "-1730900", Verdict.ROUNDING),  # exactly one unit of 100
    ("-1730950", "-1730900", Verdict.ROUNDING),  # 50 under one unit of the coarser (100)
    ("-1731010", "-1730900", Verdict.DIFFERENT),  # 110: just over one unit of 100
    ("-1730700", "-1730900", Verdict.DIFFERENT),  # two units
    ("-1731000", "-1730900", Verdict.ROUNDING),  # whole mkr in tkr: one unit is 1 000
    ("-1732000", "-1730900", Verdict.DIFFERENT),  # 1 100 > 1 000
    # whole tkr: one krona-thousand off is one unit
    ("3235", "3234", Verdict.ROUNDING), ("3236", "3234", Verdict.DIFFERENT),
    ("3235.1", "3234", Verdict.DIFFERENT),  # coarser precision 1, 1,1 off
    ("3234", "3234", Verdict.EQUAL),
])
def test_boundaries(shown: str, expected: str, verdict: Verdict) -> None:
    assert _v(shown, expected) is verdict


def test_excel_noise_is_no_difference() -> None:
    # 0.1 + 0.2 in doubles; a sum of 8 000 in magnitude differing in the 15th digit
    assert _v("0.30000000000000004", "0.3") is Verdict.EQUAL
    assert judge(Figure(D("-4088.700000000001"), D("0.1"), D(8000)),
                 Figure.typed(D("-4088.7"))) is Verdict.EQUAL


# --- the same plan in mkr and in tkr gets the same verdicts ----------------------------------


def plan(tmp: Path, unit: str, ram_tj: Any, total_ext: Any) -> Report:
    """Budgetram: Staben T (ext 120.4, personal −851.3 → net −730.9), Politik F (−1000.0);
    in tkr every amount × 1000."""
    k = 1000 if unit == "tkr" else 1

    def a(x: str) -> float:
        return float(D(x) * k)

    budget = T("Budgetram", BUDGETRAM_HEADER, [
        ["Staben", TJ, a("120.4"), None, a("-851.3"), None, None, None, None, a("-730.9")],
        ["Politik", FT, None, None, a("-1000.0"), None, None, None, None, a("-1000.0")],
    ], totals=["Summa", None, total_ext, None, a("-1851.3"), None, None, None, None,
               a("-1730.9")], at="A1", title=None)
    ram = T("Nettoram", nettoram_header(2025), [[TJ, a("-700.0"), ram_tj, None, None],
                                                [FT, a("-1000.0"), a("-1000.0"), None, None]],
            at="A10", title=None)
    return validate(write_book(tmp / f"{unit}.xlsx", info("HSN", 2025, **{"Belopp i": unit}),
                               budget, ram))


def verdicts(r: Report) -> list[tuple[str, str | None]]:
    return sorted((f.code, f.cell) for f in r.findings
                  if f.code in ("avrundningsdifferens", "nettoram-avvikelse", "summeringsfel"))


@pytest.mark.parametrize(("ram_mkr", "ext_mkr", "expected"), [
    # Nettoram −730.8 against the net −730.9: one unit of 0,1; total 120.5 against 120.4: one
    ("-730.8", "120.5", [("avrundningsdifferens", "C11"), ("avrundningsdifferens", "C4")]),
    # −730.7 and 120.6: two units each
    ("-730.7", "120.6", [("nettoram-avvikelse", "C11"), ("summeringsfel", "C4")]),
    # −731 (typed whole: one unit 1) against −730.9; 120 (a multiple of ten: one unit 10)
    # against 120.4
    ("-731", "120", [("avrundningsdifferens", "C11"), ("avrundningsdifferens", "C4")]),
    # −732 and 122: 1.1 and 1.6 beyond one whole unit
    ("-732", "122", [("nettoram-avvikelse", "C11"), ("summeringsfel", "C4")]),
])
def test_the_same_plan_in_mkr_and_tkr_gets_the_same_verdict(
        tmp: Path, ram_mkr: str, ext_mkr: str, expected: list[tuple[str, str]]) -> None:
    in_mkr = plan(tmp, "mkr", float(D(ram_mkr)), float(D(ext_mkr)))
    in_tkr = plan(tmp, "tkr", float(D(ram_mkr) * 1000), float(D(ext_mkr) * 1000))
    assert verdicts(in_mkr) == verdicts(in_tkr) == sorted(expected)


def test_prognos_budget_against_budgetram_within_rounding(tmp: Path) -> None:
    budget = T("Budgetram", BUDGETRAM_HEADER, [
        ["Staben", TJ, 120.4, None, -851.3, None, None, None, None, -730.9],
        ["Politik", FT, None, None, -31.5, None, None, None, None, -31.5],
    ], at="A1", title=None)

    def prognos(staben: float) -> T:
        return T("Prognos", PROGNOS_HEADER, [["Staben", staben, -180.0, -735.0, -735.0 - staben],
                                             ["Politik", -31.5, -7.6, -31.5, 0]],
                 at="A10", title=None)

    def codes(r: Report) -> list[tuple[str, str | None]]:
        return [(f.code, f.cell) for f in r.findings if f.code.startswith(("prognos", "avrund"))]

    def run(staben: float) -> Report:
        return validate(write_book(tmp / "p.xlsx", info("HSN", 2025), budget, prognos(staben)))

    assert codes(run(-730.9)) == []
    assert codes(run(-731.0)) == [("avrundningsdifferens", "B11")]  # −731 whole: one unit 1
    assert codes(run(-731.2)) == [("prognos-budget-avvikelse", "B11")]  # 0,3: three tenths
    assert run(-731.2).errors == 0  # a warning, not an error


amounts = st.decimals(min_value=D("-99999.9"), max_value=D("99999.9"), places=1,
                      allow_nan=False, allow_infinity=False)


@given(amounts, amounts)
def test_the_verdict_does_not_depend_on_the_unit(a: D, b: D) -> None:
    # the same two figures kept in mkr and in tkr (× 1000) are judged alike, both ways round
    in_mkr = judge(Figure.typed(a), Figure.typed(b))
    in_tkr = judge(Figure.typed(a * 1000), Figure.typed(b * 1000))
    assert in_mkr is in_tkr is judge(Figure.typed(b), Figure.typed(a))


# --- the guard: a coarse figure that no rounding of the other could give --------------------


@pytest.mark.parametrize(("shown", "expected", "verdict"), [
    # 3579 rounded half up to 1 000 is 4 000: a typed 4000 may be its rounding (diff 421 ≤ 1 000)
    ("4000", "3579", Verdict.ROUNDING),
    # 3579 rounded to 10 000 is 0 (3579 < 5 000), so 10000 is no rounding of it: judged with
    # the finer precision 1, diff 6 421 > 1
    ("10000", "3579", Verdict.DIFFERENT),
    # 3579 rounded to 100 000 is 0: diff 96 421 > 1
    ("100000", "3579", Verdict.DIFFERENT),
    # 6 rounded to 10 is 10 (6 ≥ 5): diff 4 ≤ 10
    ("10", "6", Verdict.ROUNDING),
    # 4 rounded to 10 is 0 (4 < 5): judged with precision 1, diff 6 > 1
    ("10", "4", Verdict.DIFFERENT),
    # 5 rounded half up to 10 is 10: the boundary itself is still a rounding (diff 5 ≤ 10)
    ("10", "5", Verdict.ROUNDING),
    # the contract's own case: exactly one unit of 1 000 (27 000 rounded to 1 000 is itself)
    ("28000", "27000", Verdict.ROUNDING),
    # both ways round: the guard looks at whichever figure is the coarser
    ("3579", "100000", Verdict.DIFFERENT),
    # against nothing (a one-sided transfer, rows all blank): 0 rounds to 0, so 0,1 is no
    # rounding of it; 0 has no precision of its own, so the pair is judged exactly
    ("0.1", "0", Verdict.DIFFERENT), ("0", "1000", Verdict.DIFFERENT),
])
def test_a_coarse_figure_that_rounds_the_other_to_zero_is_no_rounding(
        shown: str, expected: str, verdict: Verdict) -> None:
    assert _v(shown, expected) is verdict


def test_investeringar_total_typed_far_too_coarse_is_an_error(tmp: Path) -> None:
    # rows 1234 + 2345 = 3 579 tkr; totals typed 100000 (diff 96 421) or 10000 (diff 6 421):
    # neither is a rounding of 3 579 (both round it to 0), so each is summeringsfel (error);
    # 4000 is 3 579 rounded to whole thousands: a warning only
    def run(total: int) -> Report:
        inv = T("Investeringar", INVESTERING_HEADER, [
            ["Staben", "Röntgen", "Nyinvestering", "Medicinteknik", "RS", 2025, 1234, 10],
            ["Staben", "Server", "Reinvestering", "IT", "RS", 2025, 2345, 5],
        ], totals=["Summa", None, None, None, None, None, total, None], at="A1", title=None)
        budget = T("Budgetram", BUDGETRAM_HEADER, [
            ["Staben", TJ, 120.4, None, -851.3, None, None, None, None, -730.9]],
            at="A10", title=None)
        return validate(write_book(tmp / f"i{total}.xlsx", info("RS", 2025), inv, budget))

    def codes(r: Report) -> list[tuple[str, str, str | None]]:
        return [(f.code, str(f.severity.value), f.cell) for f in r.findings
                if f.code in ("avrundningsdifferens", "summeringsfel")]

    assert codes(run(100000)) == [("summeringsfel", "error", "G4")]
    assert codes(run(10000)) == [("summeringsfel", "error", "G4")]
    assert codes(run(4000)) == [("avrundningsdifferens", "warning", "G4")]
