from __future__ import annotations

import pytest

from xlplan.text import inert, printable, short


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_starts_are_made_inert(text: str) -> None:
    assert inert(text) == "'" + text


@pytest.mark.parametrize("text", ["Summa", "1 754,2", "Mål = 95 %", "", "−4,2"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert inert(text) == text


def test_printable_and_short() -> None:
    assert printable("a\x00b\x07c\td") == "a b c d"
    assert short("x" * 50, 10) == "x" * 9 + "…"
