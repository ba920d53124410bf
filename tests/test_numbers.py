from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.numbers import format_sv, from_excel, parse_sv, round_half_up


@pytest.mark.parametrize(
    ("text", "value"),
    [("1 754,2", "1754.2"), ("1\u00a0754,2", "1754.2"), ("1\u202f754,2", "1754.2"),
     ("1\u2009754,2", "1754.2"), ("\u22124,2", "-4.2"), ("-4,2", "-4.2"), ("-4.2", "-4.2"),
     ("12", "12"), ("  0,5 ", "0.5"), ("59 025", "59025"), ("1 730 900,75", "1730900.75")],
)
def test_parse_swedish(text: str, value: str) -> None:
    assert parse_sv(text) == Decimal(value)


@pytest.mark.parametrize("text", ["Mål 95 %", "12 34", "1,2,3", "", "−", "1 754,2 mkr", "abc",
                                  "1e5", "0x10", "١٢"])
def test_parse_rejects(text: str) -> None:
    assert parse_sv(text) is None


def test_from_excel_keeps_fifteen_digits() -> None:
    assert from_excel("17.700000000000003") == Decimal("17.7")
    assert from_excel("-4.2000000000000002") == Decimal("-4.2")
    assert from_excel("1E3") == Decimal(1000)
    assert str(from_excel("1E3")) == "1000"
    assert from_excel("123456789012.345") == Decimal("123456789012.345")


@pytest.mark.parametrize(
    ("literal", "shown"),
    # worked by hand: trailing fraction zeros go, a whole number keeps its zeros in plain
    # form (never 1.2E+3), leading zeros go
    [("120.50", "120.5"), ("120.0", "120"), ("1200", "1200"), ("1200.000", "1200"),
     ("007.250", "7.25"), ("0.000", "0"), ("-0.05", "-0.05"), ("-1754.2", "-1754.2"),
     ("12345678901", "12345678901"), ("1234567.891", "1234567.891")],
)
def test_from_excel_short_literals_in_plain_form(literal: str, shown: str) -> None:
    assert str(from_excel(literal)) == shown


def test_from_excel_removes_binary_noise_but_keeps_real_digits() -> None:
    assert from_excel("-40.5999999999999") == Decimal("-40.6")  # -2372.0 - -2331.4
    assert from_excel(0.1 + 0.2) == Decimal("0.3")
    assert from_excel("1754.20000000001") == Decimal("1754.2")
    assert from_excel("0.333333333333333") == Decimal("0.333333333333333")
    assert from_excel("12345678901.25") == Decimal("12345678901.25")
    assert from_excel("1234567.891") == Decimal("1234567.891")


def test_format_swedish() -> None:
    assert format_sv(Decimal("-1754.2")) == "\u22121\u00a0754,2"
    assert format_sv(Decimal("1234567.891"), 1) == "1\u00a0234\u00a0567,9"
    assert format_sv(Decimal("0.05"), 1) == "0,1"  # half up, not banker's
    assert format_sv(Decimal("-0.04"), 1) == "0,0"
    assert format_sv(Decimal("7"), min_decimals=1) == "7,0"


def test_round_half_up() -> None:
    assert round_half_up(Decimal("2.25"), 1) == Decimal("2.3")
    assert round_half_up(Decimal("-2.25"), 1) == Decimal("-2.3")


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=3,
                   allow_nan=False, allow_infinity=False))
def test_parser_round_trips_what_it_formats(d: Decimal) -> None:
    assert parse_sv(format_sv(d)) == d


@given(st.text(max_size=30))
def test_parser_never_raises(text: str) -> None:
    result = parse_sv(text)
    assert result is None or isinstance(result, Decimal)


@pytest.mark.parametrize("literal,kind,value", [
    ("17.7", "number", "17.7"),
    ("-2.8421709430404E-14", "number", "-2.8421709430404E-14"),  # a formula's float noise: kept
    ("1E-300", "number", "0"),  # vanishing: zero (a divisor this small would overflow a double)
    ("999999999999999", "number", "999999999999999"),  # 15 digits: the largest kept
    ("1E+15", "error", "#NUM!"),
    ("9E+999999", "error", "#NUM!"),
    ("NaN", "error", "#NUM!"),
    ("-INF", "error", "#NUM!"),
    ("abc", "error", "#NUM!"),
    ("1" * 65, "error", "#NUM!"),  # longer than any stored double
])
def test_a_stored_number_is_kept_only_if_usable(literal: str, kind: str, value: str) -> None:
    from xlplan.io.raw import number_cell

    cell = number_cell(4, 4, literal)
    assert (cell.kind.value, cell.value) == (kind, value)


def test_absurd_magnitudes_are_shown_as_powers_of_ten() -> None:
    # hand-worked: 9E+999999 is 9,0 times ten to the 999 999; printed digit by digit it
    # would be a million characters (and grouping them was quadratic)
    assert format_sv(Decimal("9E+999999")) == "9,0·10^999999"
    assert format_sv(Decimal("-1.23E+20"), 1) == "\u22121,2·10^20"
    assert format_sv(Decimal("1234567"), 1) == "1\u00a0234\u00a0567,0"
    assert parse_sv("1 000 000 000 000 000") is None  # 10^15 as text is no amount either
