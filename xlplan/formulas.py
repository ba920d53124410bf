"""The template's own formulas, recognised by their text, so that a file saved without
results (by openpyxl, pandas, a web editor) can be read all the same.

Only three formulas are the template's: ``Nettobudget`` (the sum of the row's seven amount
columns), ``Avvikelse`` (Helårsprognos − Budget) and each totals cell's
``SUBTOTAL(109,[Column])``. They are recognised in the forms Excel, LibreOffice and the
template write them (structured references, with or without the table name, ``[@…]`` or
``[#This Row]``, or plain A1 references). Nothing is ever evaluated beyond these three;
any other formula without a cached result stays an error at its cell.
"""

from __future__ import annotations

import re

from xlplan import contract as c
from xlplan.io.raw import parse_range, parse_ref

_TABLE_PREFIX = re.compile(r"[^\W\d][\w.]*\[")
_THIS_ROW_SIMPLE = re.compile(r"\[@\[([^\[\]:]+)\]\]")
_SUM_RANGE = re.compile(r"^sum\(([a-z]{1,3}\d{1,7}:[a-z]{1,3}\d{1,7})\)$")
_SUBTOTAL_RANGE = re.compile(r"^subtotal\(109,([a-z]{1,3}\d{1,7}:[a-z]{1,3}\d{1,7})\)$")
_REF = re.compile(r"^[a-z]{1,3}\d{1,7}$")

NET = (c.BUDGETRAM.name, "nettobudget")
DEVIATION = (c.PROGNOS.name, "avvikelse")


MAX_LENGTH = 300  # the template's formulas are far shorter; longer text is never one


def normalise(formula: str) -> str:
    """Case, spaces, ``$``, ``_xlfn.``, escapes and table names removed; ``[#This Row],``
    written as ``@``."""
    s = "".join(formula.casefold().split()).lstrip("=")
    s = s.replace("$", "").replace("_xlfn.", "").replace("'", "")
    s = _TABLE_PREFIX.sub("[", s)
    s = s.replace("[[#thisrow],", "[@")
    return _THIS_ROW_SIMPLE.sub(r"[@\1]", s)


def _header(text: str) -> str:
    return "".join(text.casefold().split()).replace("'", "")


def _cell(ref: str) -> tuple[int, int] | None:
    return parse_ref(ref) if _REF.match(ref) else None


def is_row_formula(table: str, key: str, formula: str, row: int,
                   columns: dict[str, int], headers: dict[str, str]) -> bool:
    """Is ``formula`` in data row ``row`` the template's formula for (table, key)?"""
    if len(formula) > MAX_LENGTH:
        return False
    f = normalise(formula)
    if (table, key) == NET:
        parts = [k for k in c.NET_PARTS if k in columns]
        if len(parts) != len(c.NET_PARTS):
            return False
        wanted_cols = {columns[k] for k in parts}
        ordered = sorted(parts, key=lambda k: columns[k])
        contiguous = max(wanted_cols) - min(wanted_cols) + 1 == len(wanted_cols)
        first, last = _header(headers[ordered[0]]), _header(headers[ordered[-1]])
        if contiguous and f == f"sum([@[{first}]:[{last}]])":
            return True
        m = _SUM_RANGE.match(f)
        if m:
            r1, c1, r2, c2 = parse_range(m.group(1))
            return r1 == r2 == row and set(range(c1, c2 + 1)) == wanted_cols
        terms = f.split("+")
        cells = [_cell(t) for t in terms]
        return (len(terms) == len(wanted_cols) and all(x is not None for x in cells)
                and {x for x in cells if x is not None} == {(row, col) for col in wanted_cols})
    if (table, key) == DEVIATION:
        if not all(k in columns for k in ("prognos", "budget")):
            return False
        forecast, budget = _header(headers["prognos"]), _header(headers["budget"])
        if f in (f"[@{forecast}]-[@{budget}]", f"[@[{forecast}]]-[@[{budget}]]"):
            return True
        left, sep, right = f.partition("-")
        return bool(sep) and _cell(left) == (row, columns["prognos"]) and _cell(right) == (
            row, columns["budget"])
    return False


def is_totals_formula(formula: str, key: str, columns: dict[str, int], headers: dict[str, str],
                      body: tuple[int, int]) -> bool:
    """Is ``formula`` the template's ``SUBTOTAL(109,[Column])`` for column ``key``, whose
    data rows are ``body`` (first, last)?"""
    if len(formula) > MAX_LENGTH:
        return False
    f = normalise(formula)
    if f in (f"subtotal(109,[{_header(headers[key])}])",
             f"subtotal(109,[[{_header(headers[key])}]])"):
        return True
    m = _SUBTOTAL_RANGE.match(f)
    if m is None:
        return False
    r1, c1, r2, c2 = parse_range(m.group(1))
    return c1 == c2 == columns[key] and (r1, r2) == body
