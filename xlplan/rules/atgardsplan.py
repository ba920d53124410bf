"""Åtgärdsplan: no cost shifting, risk-assessed quality cuts, positive effects.

Each Effekt year is measured against the base year's frame; nothing here (or
anywhere) adds the years together.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from xlplan import contract as c
from xlplan.findings import Finding, finding
from xlplan.io.raw import CellKind, RawCell, cell_ref
from xlplan.model import Planbok
from xlplan.numbers import from_excel, parse_sv
from xlplan.rounding import Figure, Verdict, judge
from xlplan.text import short

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "overvaltring",
    "ej-riskbedomd",
    "negativ-effekt",
    "effekter-summerade",
)

EFFECT_KEYS = ("effekt", "effekt_1", "effekt_2")


def _ja(text: str) -> bool:
    return c.match_choice(text, ("Ja",)) is not None


def check_shifting_and_risk(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.ATGARDSPLAN)
    if table is None:
        return
    for row in table.rows:
        name = short(row.text("atgard") or row.text("typ") or f"rad {row.row}", 60)
        if table.has("overvaltring") and _ja(row.text("overvaltring")):
            yield finding("overvaltring", table.sheet, row["overvaltring"].ref, row=row.row,
                          name=name)
        if (table.has("kvalitetssankning") and _ja(row.text("kvalitetssankning"))
                and not _ja(row.text("riskbedomd"))):
            ref = row["riskbedomd"].ref if table.has("riskbedomd") else row["kvalitetssankning"].ref
            yield finding("ej-riskbedomd", table.sheet, ref, row=row.row, name=name)


def check_effect_signs(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.ATGARDSPLAN)
    if table is None:
        return
    for row in table.rows:
        for key in EFFECT_KEYS:
            v = row[key]
            if table.has(key) and v.valid and v.number < 0:
                yield finding("negativ-effekt", table.sheet, v.ref, column=table.header(key),
                              value=planbok.fmt(c.ATGARDSPLAN, v.number))


def check_years_not_added(planbok: Planbok) -> Iterator[Finding]:
    """An extra column that adds the effect years together misreads the plan."""
    table = planbok.table(c.ATGARDSPLAN)
    if table is None or not all(table.has(k) for k in EFFECT_KEYS):
        return
    rows_by_excel_row = {r.row: r for r in table.rows}
    for header, (col, cells) in table.extras.items():
        matches = 0
        multi_year = False
        consistent = True
        for cell in cells:
            row = rows_by_excel_row.get(cell.row)
            if row is None:
                continue
            value = _number(cell)
            if value is None:
                continue
            effects = [row[k].number for k in EFFECT_KEYS]
            added = Figure.sum(row[k].figure for k in EFFECT_KEYS)
            if judge(Figure.typed(value), added) is Verdict.DIFFERENT:
                consistent = False
                break
            matches += 1
            multi_year = multi_year or sum(1 for e in effects if e) > 1
        if consistent and matches and multi_year:
            yield finding("effekter-summerade", table.sheet, cell_ref(table.raw.first_row, col),
                          header=header)


def _number(cell: RawCell) -> Decimal | None:
    if cell.kind is CellKind.NUMBER and cell.value:
        return from_excel(cell.value)
    if cell.kind is CellKind.TEXT and cell.value:
        return parse_sv(cell.value)
    return None


RULES = (check_shifting_and_risk, check_effect_signs, check_years_not_added)
