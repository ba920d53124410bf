"""The rounding model of the contract (Clarifications, version 1): one place, every comparison.

Each typed amount carries its **precision**: the largest power of ten that divides it
(``-4.3`` → 0.1, ``-1754`` → 1, ``-1754000`` → 1000; a blank or zero has none). A sum of
typed amounts has the finest precision among its terms. Two figures that should be equal
are *equal within rounding* when they differ by at most **one unit of the coarser** of
their two precisions: then at most a warning; beyond it, an error. The rule does not
depend on the unit: it reads the same in mkr and tkr. One guard (:func:`one_unit`): a
non-zero figure whose precision rounds the other figure to 0 (``100000`` against ``3579``)
cannot be a rounding of it, so the pair is judged with the finer precision.

Besides rounding there is Excel's own slack: doubles carry 15 significant digits, so a sum
of many terms can differ from the exact Decimal sum in the 14th–15th digit. That is no
difference at all (:attr:`Verdict.EQUAL`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import lru_cache

EXCEL_DIGITS = 15
ZERO = Decimal(0)


class Verdict(Enum):
    EQUAL = "equal"  # the same figure (up to Excel's 15-digit noise)
    ROUNDING = "rounding"  # different, by at most one unit of the coarser precision
    DIFFERENT = "different"  # beyond rounding: an error where the check is an error


@lru_cache(maxsize=65536)
def precision(d: Decimal) -> Decimal | None:
    """The largest power of ten dividing ``d`` (its last significant place); None for 0."""
    if not d.is_finite() or d == 0:
        return None
    _, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return _POWERS.get(exponent + zeros) or Decimal(1).scaleb(exponent + zeros)


_POWERS = {e: Decimal(1).scaleb(e) for e in range(-20, 21)}


def finest(precisions: Iterable[Decimal | None]) -> Decimal | None:
    """A sum's precision: the finest among its terms' (terms without one do not count)."""
    known = [p for p in precisions if p is not None]
    return min(known) if known else None


def coarser(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    known = [p for p in (a, b) if p is not None]
    return max(known) if known else None


@dataclass(frozen=True, slots=True)
class Figure:
    """An exact amount with the precision it was typed to (None: no precision, i.e. zero or
    blank)."""

    value: Decimal
    precision: Decimal | None = None
    magnitude: Decimal = ZERO  # Σ|term|: how far Excel's double noise can reach

    @classmethod
    def typed(cls, value: Decimal) -> Figure:
        return cls(value, precision(value), abs(value))

    @classmethod
    def sum(cls, terms: Iterable[Figure]) -> Figure:
        value = magnitude = ZERO
        fine: Decimal | None = None  # the finest precision among the terms (the first of equals)
        for t in terms:
            value += t.value
            magnitude += t.magnitude
            p = t.precision
            if p is not None and (fine is None or p < fine):
                fine = p
        return cls(value, fine, magnitude)

    def __neg__(self) -> Figure:
        return Figure(-self.value, self.precision, self.magnitude)

    def __add__(self, other: Figure) -> Figure:
        return Figure.sum((self, other))

    def __sub__(self, other: Figure) -> Figure:
        return Figure.sum((self, -other))

    def scaled(self, factor: Decimal) -> Figure:
        """The same figure in another unit (tkr → mkr: factor 1/1000)."""
        p = None if self.precision is None else self.precision * factor
        return Figure(self.value * factor, p, self.magnitude * factor)


def noise_equal(a: Decimal, b: Decimal, magnitude: Decimal = ZERO) -> bool:
    """Equal up to what Excel's doubles can hold (a few units in the 15th digit of the
    largest of the two and the terms' magnitude)."""
    if a == b:
        return True
    scale = max(abs(a), abs(b), magnitude)
    tolerance = scale.scaleb(-(EXCEL_DIGITS - 2)) if scale else ZERO
    return abs(a - b) <= tolerance


def _rounds_to_zero(value: Decimal, unit: Decimal) -> bool:
    """Does ``value`` rounded half up to a multiple of ``unit`` give 0 (|value| < unit/2)?"""
    return 2 * abs(value) < unit


def one_unit(shown: Figure, expected: Figure) -> Decimal | None:
    """The rounding slack between two figures: one unit of the coarser precision, unless the
    coarser figure cannot be a rounding of the other at all.

    The guard: a non-zero figure typed to precision P can only be a rounding of the other
    figure if rounding the other (half up) to P does not give 0. When it does (P exceeds
    twice the other's magnitude: ``100000`` against ``3579``, ``10`` against ``4``), the
    coarser figure is no rounding of it and the pair is judged with the finer precision."""
    unit = coarser(shown.precision, expected.precision)
    if unit is None:
        return None
    for coarse, other in ((shown, expected), (expected, shown)):
        if (coarse.precision == unit and coarse.value != 0 and other.precision != unit
                and _rounds_to_zero(other.value, unit)):
            return other.precision
    return unit


def judge(shown: Figure, expected: Figure) -> Verdict:
    """How two figures that should be equal compare under the rounding model."""
    if noise_equal(shown.value, expected.value, max(shown.magnitude, expected.magnitude)):
        return Verdict.EQUAL
    unit = one_unit(shown, expected)
    if unit is not None and abs(shown.value - expected.value) <= unit:
        return Verdict.ROUNDING
    return Verdict.DIFFERENT
