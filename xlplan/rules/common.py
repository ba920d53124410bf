"""Checks shared by every table: totals rows, template formulas, closed value sets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from xlplan import contract as c
from xlplan import figures
from xlplan.findings import Finding, finding, or_list
from xlplan.model import Planbok, Row, TableData, Value, exact_result, exactly, judged
from xlplan.numbers import decimals_of
from xlplan.rounding import Figure, Verdict, judge
from xlplan.text import short

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "ogiltigt-varde",
    "saknat-varde",
    "summeringsfel",
    "formel-overskriven",
    "avrundningsdifferens",
    "foljdfel",
)


def totals_disagree(table: TableData, key: str) -> bool:
    """True when the totals cell of ``key`` is known to differ from its column's sum (an
    error or a rounding warning is already reported there)."""
    if table.totals is None or key not in table.columns:
        return False
    cell = table.totals[key]
    summed = figures.column(table, key)
    if not summed.complete or not cell.valid or cell.blank:
        return False
    return judge(cell.figure, summed.figure) is not Verdict.EQUAL


def formula_expected(table: TableData, row: Row, key: str) -> Figure | None:
    """What a template formula column (Nettobudget, Avvikelse) should hold in ``row``."""
    if key == "nettobudget":
        return figures.net_from_parts(row)
    if key == "avvikelse":
        forecast, budget = row["prognos"], row["budget"]
        if not (forecast.valid and budget.valid):
            return None
        return forecast.figure - budget.figure
    return None


def wrong_formula_rows(table: TableData, key: str) -> list[tuple[Row, Figure]]:
    """Rows whose formula column's value differs from its parts, beyond rounding or within it
    (each its own error or warning), with the value it should have."""
    out: list[tuple[Row, Figure]] = []
    if not table.spec.column(key).formula:
        return out
    for row in table.rows:
        v = row[key]
        expected = formula_expected(table, row, key)
        if v.valid and expected is not None and judge(
                *judged(table, row, key, expected)) is not Verdict.EQUAL:
            out.append((row, expected))
    return out


def root_causes(shown: Figure, expected: Figure, corrected: Figure,
                roots: list[str]) -> str | None:
    """The cells the difference between ``shown`` and ``expected`` follows from, when
    ``corrected`` (``expected`` with those cells corrected) removes it: an error that
    correcting them brings within rounding, or a difference within rounding that correcting
    them removes altogether."""
    if not roots:
        return None
    after = judge(shown, corrected)
    if after is Verdict.EQUAL or (after is Verdict.ROUNDING
                                  and judge(shown, expected) is Verdict.DIFFERENT):
        return ", ".join(roots)
    return None


def swapped(shown: Decimal, wanted: Decimal) -> bool:
    """Is ``shown`` ``wanted`` with two of its digits swapped (same sign, same digits but
    for those two)? The difference is then a multiple of 9, but far from every multiple of 9
    is a swap (0 against 167,4 is none)."""
    if shown == wanted or shown == 0 or wanted == 0 or (shown < 0) != (wanted < 0):
        return False
    places = max(decimals_of(shown), decimals_of(wanted), 0)
    a, b = (str(int(abs(x).scaleb(places))) for x in (shown, wanted))
    if len(a) != len(b):
        return False
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(differ) == 2 and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]]


def diagnose(
    shown: Decimal,
    wanted: Decimal,
    parts: Iterable[tuple[str, Decimal]],
    fmt: str = "rad",
    hidden: tuple[str, Decimal] | None = None,
) -> str:
    """Explain the difference between ``shown`` and what it should be, ``wanted``, the way a
    controller would look for it."""
    diff = shown - wanted
    if diff == 0:
        return ""
    if hidden is not None and hidden[1] != 0 and hidden[1] == -diff:
        return (f" Skillnaden är lika stor som de dolda raderna {hidden[0]}: "
                "SUBTOTAL räknar inte med dolda rader.")
    items = [(name, amount) for name, amount in parts if amount != 0]
    for name, amount in items:
        if amount == -diff:
            return f" Skillnaden är lika stor som {fmt} {name} – saknas den i summan?"
    for name, amount in items:
        if amount == diff:
            return f" Skillnaden är lika stor som {fmt} {name} – räknas den två gånger?"
    for name, amount in items:
        if 2 * amount == -diff or 2 * amount == diff:
            return f" Skillnaden är dubbla {fmt} {name} – har den fel tecken i summan?"
    if swapped(shown, wanted):
        return " Skillnaden är delbar med 9 – har två siffror bytt plats?"
    return ""


def check_totals(planbok: Planbok, table: TableData) -> Iterator[Finding]:
    """Every totals-row amount equals the sum of its column's rows, within rounding. A
    total that is wrong only because a row's formula value is wrong follows from that row."""
    if table.totals is None:
        return
    for key in table.spec.amount_keys:
        if key not in table.columns:
            continue
        total_value = table.totals[key]
        if not total_value.valid or total_value.blank:
            continue
        summed = figures.column(table, key)
        if not summed.complete:
            continue
        if judge(total_value.figure, summed.figure) is Verdict.EQUAL:
            continue  # equal whatever the precisions: no formula text to read
        header = table.header(key)
        exact = exact_result(table, table.totals, key)
        shown, wanted = ((exactly(total_value.figure), exactly(summed.figure)) if exact
                         else (total_value.figure, summed.figure))
        verdict = judge(shown, wanted)
        expected, actual = summed.value, total_value.number
        # a row whose formula value is off (its own finding) comes first, before rounding:
        # a total off only because of it follows from it, and each slip counts once
        wrong = wrong_formula_rows(table, key)
        if wrong:
            fixed = {id(r): e for r, e in wrong}
            corrected = Figure.sum(fixed.get(id(r), r[key].figure) for r in table.rows
                                   if not figures.inner_subtotal(table, key, r[key]))
            corrected = exactly(corrected) if exact else corrected
            roots = root_causes(shown, wanted, corrected, [r[key].ref for r, _ in wrong])
            if roots is not None:
                yield consequence(planbok, table, f"Summan av {header}", total_value.ref,
                                  "raderna ovanför", actual, expected, roots)
                if judge(shown, corrected) is Verdict.ROUNDING:  # what is left is the total's
                    yield compare_finding(planbok, table, f"Summan av {header} mot raderna "
                                          "rättade", total_value.ref, shown, corrected,
                                          "summeringsfel")
                continue
        if verdict is Verdict.ROUNDING:
            yield compare_finding(planbok, table, f"Summan av {header}", total_value.ref,
                                  shown, wanted, "summeringsfel")
            continue
        diff = actual - expected
        hidden_rows = [r for r in table.rows if r.hidden]
        hidden = (
            (", ".join(str(r.row) for r in hidden_rows), sum((r[key].number for r in hidden_rows),
                                                            Decimal(0)))
            if hidden_rows else None
        )
        parts = [*table.rows, *table.subtotals]
        hint = diagnose(actual, expected,
                        ((str(r.row), r[key].number) for r in parts if r[key].valid), "rad",
                        hidden)
        yield finding(
            "summeringsfel", table.sheet, total_value.ref, expected=expected, actual=actual,
            **_amounts(planbok, table, expected, actual, diff), hint=hint,
        )


def consequence(planbok: Planbok, table: TableData, what: str, cell: str, against: str,
                actual: Decimal, expected: Decimal, roots: str) -> Finding:
    """A figure that is wrong only because of another cell's error (info, naming it)."""
    return finding("foljdfel", table.sheet, cell, expected=expected, actual=actual, what=what,
                   against=against, roots=roots, shown=planbok.fmt(table.spec, actual),
                   wanted=planbok.fmt(table.spec, expected))


def _amounts(planbok: Planbok, table: TableData, expected: Decimal, actual: Decimal,
             diff: Decimal) -> dict[str, str]:
    return {
        "shown": planbok.fmt(table.spec, actual),
        "wanted": planbok.fmt(table.spec, expected),
        "diff": planbok.fmt(table.spec, abs(diff)),
    }


def check_formulas_kept(table: TableData) -> Iterator[Finding]:
    """Where the template holds a formula and the file a typed number: one warning per
    formula column, and one for the whole totals row."""
    groups: list[tuple[str, list[Value]]] = [
        (table.header(col.key), [r[col.key] for r in table.rows])
        for col in table.spec.columns if col.formula and col.key in table.columns
    ]
    if table.totals is not None:
        totals = table.totals
        groups.append((f"Summaraden i {table.spec.name}",
                       [totals[k] for k in table.spec.amount_keys if k in table.columns]))
    for column, values in groups:
        typed = [v for v in values if not v.cell.has_formula and not v.blank and v.valid]
        if not typed:
            continue
        cells = ", ".join(v.ref for v in typed[:5]) + (" …" if len(typed) > 5 else "")
        yield finding("formel-overskriven", table.sheet, typed[0].ref, column=column,
                      count=len(typed), cells=cells)


def check_choices(table: TableData) -> Iterator[Finding]:
    for col in table.spec.columns:
        if col.kind is not c.Kind.CHOICE or col.key not in table.columns:
            continue
        allowed = {c.norm(choice) for choice in col.choices}  # as match_choice compares
        for row in table.rows:
            v = row.values[col.key]
            if v.blank or c.norm(v.text) in allowed:
                continue
            yield finding("ogiltigt-varde", table.sheet, v.ref, column=table.header(col.key),
                          value=short(v.text, 60), allowed=or_list(col.choices))


def has_amounts(table: TableData, row: Row) -> bool:
    return any(row[k].amount for k in table.spec.amount_keys if k in table.columns)


def require_text(table: TableData, key: str) -> Iterator[Finding]:
    """A row with amounts needs its label (Område, Objekt, ...)."""
    if key not in table.columns:
        return
    for row in table.rows:
        if row[key].blank and has_amounts(table, row):
            yield finding("saknat-varde", table.sheet, row[key].ref, row=row.row,
                          column=table.header(key))


def compare_finding(planbok: Planbok, table: TableData, what: str, cell: str, shown: Figure,
                    expected: Figure, error_code: str, **fields: Any) -> Finding:
    """The finding for two figures that should be equal and are not: within rounding (one
    unit of the coarser precision) a warning, ``avrundningsdifferens``; beyond it
    ``error_code``. Callers have ruled out :attr:`Verdict.EQUAL`."""
    verdict = judge(shown, expected)
    amounts = _amounts(planbok, table, expected.value, shown.value, shown.value - expected.value)
    if verdict is Verdict.ROUNDING:
        return finding("avrundningsdifferens", table.sheet, cell, expected=expected.value,
                       actual=shown.value, what=what, **amounts)
    return finding(error_code, table.sheet, cell, expected=expected.value, actual=shown.value,
                   what=what, **{**amounts, **fields})


def run_generic(planbok: Planbok) -> Iterator[Finding]:
    for table in planbok.tables.values():
        yield from check_totals(planbok, table)
        if planbok.formulas_known:  # a Book's values say nothing about its formulas
            yield from check_formulas_kept(table)
        yield from check_choices(table)
