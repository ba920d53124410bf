"""Swedish number text and exact Decimal arithmetic.

Excel stores IEEE doubles and shows at most 15 significant digits, so a cached
value like ``17.700000000000003`` means 17,7, and ``-40.5999999999999`` (a
double's noise) means −40,6. Every number read from a workbook
goes through :func:`from_excel` which keeps 15 significant digits; after that
all arithmetic is exact ``Decimal``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from xlplan.limits import MAX_MAGNITUDE

EXCEL_DIGITS = 15
_EXCEL_CONTEXT = Context(prec=EXCEL_DIGITS, rounding=ROUND_HALF_UP)
NOISE_DIGITS = 13
_NOISE_CONTEXT = Context(prec=NOISE_DIGITS, rounding=ROUND_HALF_UP)

MINUS = "\u2212"
NBSP = "\u00a0"  # thousands separator: numbers never wrap mid-figure

# Excel number formats, the one place for them: what a cell shows, never what it holds
MKR_FORMAT = "#,##0.0"  # mkr with one decimal, as the summary rounds them
TKR_FORMAT = "#,##0"  # whole tkr
SHARE_FORMAT = "0.0%"  # a fraction shown as per cent with one decimal
EXACT_FORMAT = "#,##0.0##"  # up to three decimals: the history's stored values


def unit_format(unit: str) -> str:
    """The Excel number format for amounts in ``unit`` ("mkr" or "tkr")."""
    return TKR_FORMAT if unit == "tkr" else MKR_FORMAT
_SPACES = " \u00a0\u202f\u2009"
_SV_NUMBER = re.compile(
    r"^(?P<sign>[-+\u2212\u2013]?)\s*"
    r"(?P<int>[0-9]{1,3}(?:[ \u00a0\u202f\u2009][0-9]{3})+|[0-9]+)"
    r"(?:[.,](?P<frac>[0-9]+))?$"
)


_SHORT_LITERAL = re.compile(r"-?[0-9]{1,10}(?:\.[0-9]{1,9})?")


def from_excel(value: float | int | str) -> Decimal:
    """Turn a number as Excel stores it into a Decimal with Excel's 15-digit precision."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= NOISE_DIGITS - 2 and _SHORT_LITERAL.fullmatch(text):
        # the common case, a short plain literal ("-1754.20"): what _plain makes of it,
        # straight from the text (no trailing fraction zeros, no exponent)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return Decimal(text)
    try:
        d = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - callers pass numbers
        raise ValueError(f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if len(text) <= NOISE_DIGITS - 2 and "E" not in text and "e" not in text:
        return _plain(d)  # too short to carry more digits than a planbok figure has
    if len(d.as_tuple().digits) > EXCEL_DIGITS:
        d = _EXCEL_CONTEXT.plus(d)
    if len(d.as_tuple().digits) > NOISE_DIGITS:
        # Binary floating point leaves noise in the last digits (-40.5999999999999 for
        # -2372.0 - -2331.4). When the value rounded to 13 digits has at most 11, the
        # tail was noise: the change is below 1e-12 of the value, far below one öre.
        snapped = _plain(_NOISE_CONTEXT.plus(d))
        if len(snapped.as_tuple().digits) <= NOISE_DIGITS - 2:
            return snapped
    return _plain(d)


def _plain(d: Decimal) -> Decimal:
    """Normalise without switching to exponent form for whole numbers (1E+3 -> 1000)."""
    n = d.normalize()
    exponent = n.as_tuple().exponent
    # whole numbers without exponent form, as far as Decimal's precision reaches (1E+300
    # stays as it is: an absurd amount, but not a crash)
    if isinstance(exponent, int) and exponent > 0 and n.adjusted() < 28:
        n = n.quantize(Decimal(1))
    return n


def parse_sv(text: str) -> Decimal | None:
    """Read a number typed the Swedish way (``1 754,2``, ``−4,2``); None if it is not one."""
    s = text.strip()
    m = _SV_NUMBER.match(s)
    if m is None:
        return None
    digits = m.group("int")
    for space in _SPACES:
        digits = digits.replace(space, "")
    frac = m.group("frac")
    literal = digits + ("." + frac if frac else "")
    value = Decimal(literal)
    if not value.is_zero() and value.adjusted() >= MAX_MAGNITUDE.adjusted():
        return None  # no amount is this large: not a number to use
    if m.group("sign") in ("-", MINUS, "\u2013"):
        value = -value
    return _plain(value) if value else Decimal(0)


def decimals_of(d: Decimal) -> int:
    """How many decimals a value carries (17.70 -> 1, 1000 -> 0)."""
    exponent = _plain(d).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _wide(d: Decimal, places: int) -> Context:
    """A context precise enough to quantize ``d`` to ``places`` decimals, however large."""
    return Context(prec=max(28, d.adjusted() + places + 3), rounding=ROUND_HALF_UP)


def round_half_up(d: Decimal, decimals: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-decimals), context=_wide(d, decimals))


def format_sv(d: Decimal, decimals: int | None = None, min_decimals: int = 0) -> str:
    """Format Swedish style: ``−1 754,2`` (no-break space, U+2212 minus).

    With ``decimals`` the value is rounded half up to that many; otherwise it is shown
    exactly, with at least ``min_decimals``. The work is linear in the digits shown, and a
    value beyond any amount (10^15 and up, or not finite) is shown in powers of ten, never
    digit by digit."""
    if not d.is_finite():
        return "inte ett tal" if d.is_nan() else (MINUS if d < 0 else "") + "oändligt"
    if not d.is_zero() and d.adjusted() >= MAX_MAGNITUDE.adjusted():
        return _absurd(d)
    # exactly unless ``decimals`` is given, but never beyond what Excel can hold
    places = decimals if decimals is not None else min(max(decimals_of(d), min_decimals),
                                                        EXCEL_DIGITS)
    d = round_half_up(d, places)
    negative = d < 0
    text = f"{abs(d):.{places}f}"
    whole, _, frac = text.partition(".")
    head = len(whole) % 3 or 3
    out = NBSP.join([whole[:head], *(whole[i:i + 3] for i in range(head, len(whole), 3))])
    if frac:
        out += "," + frac
    return (MINUS + out) if negative and d != 0 else out


def _absurd(d: Decimal) -> str:
    """``9,0·10^999999``: the size of a value no planbok can hold, in constant work."""
    sign, digits, _ = d.as_tuple()
    exponent = d.adjusted()
    mantissa = Decimal((sign, (*digits[:2], 0)[:2], -1))  # d / 10^exponent, cut to 1 decimal
    text = format_sv(mantissa, 1)
    return f"{text}·10^{exponent}"


def to_cell(d: Decimal | int) -> float:
    """The one place an amount becomes a float: a spreadsheet cell holds an IEEE double.
    Only for writing a figure into a workbook; no sum or check ever uses it."""
    return float(d)


def to_json(d: Decimal | None) -> str | None:
    """Amounts go to JSON as exact decimal strings ("-1758.5")."""
    if d is None:
        return None
    return format(_plain(d), "f")
