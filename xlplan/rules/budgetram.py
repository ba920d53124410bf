"""Budgetram and Nettoram: net = sum of parts, signs, the multi-year frame."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from xlplan import contract as c
from xlplan.findings import Finding, finding
from xlplan.model import Planbok, Row, TableData
from xlplan.numbers import same_amount
from xlplan.rules.common import compare_across, diagnose, require_text, totals_disagree


def check_net(planbok: Planbok) -> Iterator[Finding]:
    """Nettobudget equals the sum of the row's seven amounts.

    The totals row is checked too, but only where the row nets and the column totals do
    not already explain a difference there (a sum of sums adds nothing to those findings);
    it matters when an unusable cell keeps a column total from being checked.
    """
    table = planbok.table(c.BUDGETRAM)
    if table is None or not table.has("nettobudget"):
        return
    parts = [k for k in c.NET_PARTS if table.has(k)]
    row_findings = [f for row in (*table.rows, *table.subtotals)
                    if (f := _net_finding(planbok, table, row, parts))]
    yield from row_findings
    totals = table.totals
    if totals is None or row_findings:
        return
    if any(totals[k].blank for k in [*parts, "nettobudget"]):
        return  # a totals row without every total: nothing to compare
    if any(totals_disagree(table, k) for k in [*parts, "nettobudget"]):
        return  # already a summeringsfel
    if (f := _net_finding(planbok, table, totals, parts)) is not None:
        yield f


def _net_finding(planbok: Planbok, table: TableData, row: Row, parts: list[str]) -> Finding | None:
    net = row["nettobudget"]
    values = [row[k] for k in parts]
    if not net.valid or not all(v.valid for v in values):
        return None
    expected = sum((v.number for v in values), Decimal(0))
    magnitude = sum((abs(v.number) for v in values), Decimal(0))
    if same_amount(net.number, expected, magnitude):
        return None
    diff = net.number - expected
    hint = diagnose(diff, ((table.header(k), row[k].number) for k in parts), "kolumnen")
    return finding(
        "nettofel", table.sheet, net.ref, expected=expected, actual=net.number,
        shown=planbok.fmt(c.BUDGETRAM, net.number), wanted=planbok.fmt(c.BUDGETRAM, expected),
        diff=planbok.fmt(c.BUDGETRAM, abs(diff)), hint=hint,
    )


def check_signs(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.BUDGETRAM)
    if table is None:
        return
    for row in table.rows:
        for key in c.INCOME_KEYS:
            v = row[key]
            if table.has(key) and v.valid and v.number < 0:
                yield finding("teckenfel", table.sheet, v.ref, column=table.header(key),
                              value=planbok.fmt(c.BUDGETRAM, v.number),
                              hint="Intäkter skrivs som positiva tal.")
        for key in c.COST_KEYS:
            v = row[key]
            if table.has(key) and v.valid and v.number > 0:
                yield finding("teckenfel", table.sheet, v.ref, column=table.header(key),
                              value=planbok.fmt(c.BUDGETRAM, v.number),
                              hint="Kostnader skrivs som negativa tal.")


def check_labels(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.BUDGETRAM)
    if table is not None:
        yield from require_text(table, "omrade")
        yield from require_text(table, "budgettyp")


def net_per_type(table: TableData) -> dict[str, Decimal] | None:
    """Budgetram net per budget type (a blank type counts as Tjänstemannabudget);
    None if a Nettobudget cell is unusable."""
    out = dict.fromkeys(c.BUDGETTYPER, Decimal(0))
    if not table.has("nettobudget"):
        return None
    for row in table.rows:
        net = row["nettobudget"]
        if not net.valid:
            return None
        kind = c.match_choice(row.text("budgettyp"), c.BUDGETTYPER) or c.TJANSTEMANNABUDGET
        out[kind] += net.number
    return out


def check_nettoram(planbok: Planbok) -> Iterator[Finding]:
    """Nettoram › Budgetram Y per budget type equals the Budgetram table's net."""
    ram = planbok.table(c.NETTORAM)
    budget = planbok.table(c.BUDGETRAM)
    if ram is None or budget is None or not ram.has("ram"):
        return
    nets = net_per_type(budget)
    if nets is None:
        return
    year = planbok.info.budgetar
    for row in ram.rows:
        kind = c.match_choice(row.text("budgettyp"), c.BUDGETTYPER)
        v = row["ram"]
        if kind is None or not v.valid or v.blank:
            continue
        yield from compare_across(
            planbok, ram, f"Budgetram {year} för {kind}", v.ref, v.number, nets[kind],
            "nettoram-avvikelse",
        )


def explained_change(planbok: Planbok) -> Decimal | None:
    """Sum of Ramförändringar › Belopp Y; None without the table or with unusable cells."""
    table = planbok.table(c.RAMFORANDRINGAR)
    if table is None or not table.has("belopp") or not table.rows:
        return None
    total = Decimal(0)
    for row in table.rows:
        if not row["belopp"].valid:
            return None
        total += row["belopp"].number
    return total


def frame_change(planbok: Planbok) -> tuple[Decimal, Decimal, Decimal] | None:
    """(frame Y-1, frame Y, change) summed over Nettoram's rows; None if unusable."""
    table = planbok.table(c.NETTORAM)
    if table is None or not (table.has("ram") and table.has("ram_fg")) or not table.rows:
        return None
    prev = Decimal(0)
    this = Decimal(0)
    for row in table.rows:
        if not (row["ram"].valid and row["ram_fg"].valid):
            return None
        prev += row["ram_fg"].number
        this += row["ram"].number
    return prev, this, this - prev


def check_frame_explained(planbok: Planbok) -> Iterator[Finding]:
    """The change of the net frame against Y-1 is explained by Ramförändringar for Y."""
    change = frame_change(planbok)
    explained = explained_change(planbok)
    ram = planbok.table(c.NETTORAM)
    if change is None or explained is None or ram is None:
        return
    diff = change[2] - explained
    tolerance = Decimal("0.05") if planbok.info.enhet == "mkr" else Decimal("0.5")
    if abs(diff) <= tolerance:
        return
    year = planbok.info.budgetar

    def fmt(d: Decimal) -> str:
        return planbok.fmt(c.NETTORAM, d)

    yield finding(
        "oforklarad-ramforandring", ram.sheet, ram.header_ref, expected=explained,
        actual=change[2], change=fmt(change[2]), explained=fmt(explained), diff=fmt(diff),
        prev_year=(year - 1) if year else "föregående år",
    )


RULES = (check_net, check_signs, check_labels, check_nettoram, check_frame_explained)
