"""The template's own formulas, recognised by their text, so that a file saved without
results (by openpyxl, pandas, a web editor) can be read all the same.

Only three formulas are the template's: ``Nettobudget`` (the sum of the row's seven amount
columns), ``Avvikelse`` (Helårsprognos − Budget) and each totals cell's
``SUBTOTAL(109,[Column])``. They are recognised in the forms Excel, LibreOffice and the
template write them (structured references, with or without the table name, with
``[#This Row]``, or plain A1 references). ``[@…]`` is only how Excel *shows* ``[#This Row]``:
Excel never stores it, and neither Excel nor LibreOffice computes it from a file (LibreOffice
gives #N/A or #NAME?), so a file that holds it holds no template formula. ``Nettobudget``
is any formula that is exactly the sum of the row's seven amount columns, each once in any
order: summands joined by ``+``, or one ``SUM`` of ranges and/or a comma list. Nothing is
ever evaluated beyond these three; any other formula without a cached result stays an error
at its cell.
"""

from __future__ import annotations

import re

from xlplan import contract as c
from xlplan.io.raw import parse_range, parse_ref

_TABLE_PREFIX = re.compile(r"[^\W\d][\w.]*\[")
_THIS_ROW_SIMPLE = re.compile(r"\[@\[([^\[\]:]+)\]\]")
_SUBTOTAL_RANGE = re.compile(r"^subtotal\(109,([a-z]{1,3}\d{1,7}:[a-z]{1,3}\d{1,7})\)$")
_REF = re.compile(r"^[a-z]{1,3}\d{1,7}$")

NET = (c.BUDGETRAM.name, "nettobudget")
DEVIATION = (c.PROGNOS.name, "avvikelse")


MAX_LENGTH = 300  # the template's formulas are far shorter; longer text is never one


def normalise(formula: str) -> str:
    """Case, spaces, ``$``, ``_xlfn.``, escapes, table names and a leading ``+`` (``=+A1+A2``,
    a habit from other spreadsheets) removed; ``[#This Row],`` written as ``@``;
    ``[#Data],`` (the rows, what a column's name means in a formula) dropped."""
    s = "".join(formula.casefold().split()).lstrip("=")
    s = s.replace("$", "").replace("_xlfn.", "").replace("'", "")
    s = s.removeprefix("+")
    s = _TABLE_PREFIX.sub("[", s)
    s = s.replace("[[#thisrow],", "[@").replace("[#data],", "")
    return _THIS_ROW_SIMPLE.sub(r"[@\1]", s)


def _own_sheet(f: str, sheet: str | None) -> str:
    """``f`` with references to ``sheet`` itself (``Budgetram!C5``) written as plain ones."""
    if not sheet:
        return f
    return f.replace("".join(sheet.casefold().split()).replace("'", "") + "!", "")


def _header(text: str) -> str:
    return "".join(text.casefold().split()).replace("'", "")


def _cell(ref: str) -> tuple[int, int] | None:
    return parse_ref(ref) if _REF.match(ref) else None


_SUM_CALL = re.compile(r"^sum\(([^()]*)\)$")
_STRUCT_ONE = re.compile(r"^\[@([^\[\]:]+)\]$")
_STRUCT_SPAN = re.compile(r"^\[@\[([^\[\]:]+)\]:\[([^\[\]:]+)\]\]$")
_A1_SPAN = re.compile(r"^([a-z]{1,3}\d{1,7}):([a-z]{1,3}\d{1,7})$")


def _term_columns(term: str, row: int, by_header: dict[str, int]) -> list[int] | None:
    """The columns of data row ``row`` one summand stands for (a cell, a span of the row, a
    this-row structured reference or span), or None when it is anything else."""
    one = _STRUCT_ONE.match(term)
    if one:
        col = by_header.get(one.group(1))
        return None if col is None else [col]
    span = _STRUCT_SPAN.match(term)
    if span:
        a, b = by_header.get(span.group(1)), by_header.get(span.group(2))
        return None if a is None or b is None or a > b else list(range(a, b + 1))
    cell = _cell(term)
    if cell is not None:
        return [cell[1]] if cell[0] == row else None
    if _A1_SPAN.match(term):
        r1, c1, r2, c2 = parse_range(term)
        return list(range(c1, c2 + 1)) if r1 == r2 == row and c1 <= c2 else None
    return None


def _summed_columns(f: str, row: int, by_header: dict[str, int]) -> list[int] | None:
    """The sorted columns (with repeats) a normalised formula adds up, when it is nothing but a
    sum of this row's cells: ``a+b+…`` or ``sum(a,b:c,…)``; None otherwise."""
    m = _SUM_CALL.match(f)
    terms = m.group(1).split(",") if m else f.split("+")
    cols: list[int] = []
    for term in terms:
        got = _term_columns(term, row, by_header)
        if got is None:
            return None
        cols.extend(got)
    return sorted(cols)


def is_sum_call(formula: str) -> bool:
    """Is ``formula`` one SUM call (which skips text, unlike ``+``)?"""
    return len(formula) <= MAX_LENGTH and _SUM_CALL.match(normalise(formula)) is not None


def is_row_formula(table: str, key: str, formula: str, row: int,
                   columns: dict[str, int], headers: dict[str, str]) -> bool:
    """Is ``formula`` in data row ``row`` the template's formula for (table, key)?"""
    if len(formula) > MAX_LENGTH or "@" in formula:  # see the module's docstring
        return False
    f = normalise(formula)
    if (table, key) == NET:
        if not all(k in columns for k in c.NET_PARTS):
            return False
        wanted = sorted(columns[k] for k in c.NET_PARTS)
        by_header = {_header(headers[k]): columns[k] for k in c.NET_PARTS}
        return _summed_columns(f, row, by_header) == wanted
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
    if len(formula) > MAX_LENGTH or "@" in formula:
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


# -- formulas that only add up cells: their results are exact --------------------------------

_ADDING_CALL = re.compile(r"^(?:sum\(|subtotal\((?:9|109),)(?P<args>[^()]*)\)$")


def _adding_terms(f: str) -> list[str]:
    """The terms a normalised formula adds: one SUM/SUBTOTAL(9|109) call's arguments, or
    summands joined by ``+``; [] when it is anything else."""
    m = _ADDING_CALL.match(f)
    if m is not None:
        return m.group("args").split(",")
    if any(ch in f for ch in "()-*/^&<>=\"!"):
        return []
    return f.split("+")


def adds_own_column(formula: str, key: str, columns: dict[str, int], headers: dict[str, str],
                    body: tuple[int, int], sheet: str | None = None) -> bool:
    """Does the totals cell's ``formula`` only add up cells of column ``key``'s own data
    rows ``body`` on its own ``sheet`` (SUM, SUBTOTAL(9|109), ``+``; cells, ranges or the
    column by name), however many it leaves out? Its result is then exact arithmetic over
    typed cells."""
    if len(formula) > MAX_LENGTH or "@" in formula or key not in columns:
        return False
    terms = _adding_terms(_own_sheet(normalise(formula), sheet))
    col, name = columns[key], _header(headers[key])
    for term in terms:
        if term in (f"[{name}]", f"[[{name}]]"):
            continue
        if _REF.match(term):
            r, c_ = parse_ref(term)
            if c_ == col and body[0] <= r <= body[1]:
                continue
            return False
        if _A1_SPAN.match(term):
            r1, c1, r2, c2 = parse_range(term)
            if c1 == c2 == col and body[0] <= r1 <= r2 <= body[1]:
                continue
        return False
    return bool(terms)


_SUBTOTAL_9 = re.compile(r"^subtotal\(9,")


def adds_own_parts(formula: str, row: int, columns: dict[str, int],
                   headers: dict[str, str], sheet: str | None = None) -> bool:
    """Does a Nettobudget ``formula`` in data row ``row`` only add up the row's own amount
    parts on its own ``sheet`` (SUM, SUBTOTAL(9,…) or ``+``; any of them, each any number of
    times)? Its result is then exact arithmetic."""
    if len(formula) > MAX_LENGTH or "@" in formula:
        return False
    parts = [k for k in c.NET_PARTS if k in columns]
    by_header = {_header(headers[k]): columns[k] for k in parts}
    f = _SUBTOTAL_9.sub("sum(", _own_sheet(normalise(formula), sheet))
    summed = _summed_columns(f, row, by_header)
    return summed is not None and bool(summed) and set(summed) <= {columns[k] for k in parts}
