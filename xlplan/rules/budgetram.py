"""Budgetram and Nettoram: net = sum of parts, signs, the multi-year frame."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from xlplan import contract as c
from xlplan import figures
from xlplan.findings import Finding, finding
from xlplan.model import Planbok, Row, TableData, judged
from xlplan.rounding import Figure, Verdict, judge
from xlplan.rules.common import (
    compare_finding,
    consequence,
    diagnose,
    require_text,
    root_causes,
    totals_disagree,
)

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "nettofel",
    "teckenfel",
    "nettoram-avvikelse",
    "oforklarad-ramforandring",
)


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
    # a part column the table lacks is an error at its header (kolumn-saknas): a net that
    # differs from the parts that are there follows from it and is not a second error
    absent = [c.BUDGETRAM.column(k).header_for(planbok.info.budgetar)
              for k in c.NET_PARTS if not table.has(k)]
    roots = (f"{table.header_ref} (kolumnen {', '.join(absent)} saknas)" if absent else "")
    row_findings = [f for row in (*table.rows, *table.subtotals)
                    if (f := _net_finding(planbok, table, row, parts, roots))]
    yield from row_findings
    totals = table.totals
    if totals is None or row_findings:
        return
    if any(totals[k].blank for k in [*parts, "nettobudget"]):
        return  # a totals row without every total: nothing to compare
    if any(totals_disagree(table, k) for k in [*parts, "nettobudget"]):
        return  # already a summeringsfel
    if (f := _net_finding(planbok, table, totals, parts, roots)) is not None:
        yield f


def _net_finding(planbok: Planbok, table: TableData, row: Row, parts: list[str],
                 missing_roots: str = "") -> Finding | None:
    net = row["nettobudget"]
    values = [row[k] for k in parts]
    if not net.valid or not all(v.valid for v in values):
        return None
    expected = Figure.sum(v.figure for v in values)
    shown, wanted = judged(table, row, "nettobudget", expected)
    verdict = judge(shown, wanted)
    if verdict is Verdict.EQUAL:
        return None
    if missing_roots:
        return consequence(planbok, table, "Nettobudget", net.ref,
                           "summan av radens befintliga belopp", net.number, expected.value,
                           missing_roots)
    if verdict is Verdict.ROUNDING:
        return compare_finding(planbok, table, "Nettobudget mot radens belopp", net.ref,
                               shown, wanted, "nettofel")
    diff = net.number - expected.value
    hint = diagnose(net.number, expected.value, ((table.header(k), row[k].number) for k in parts),
                    "kolumnen")
    return finding(
        "nettofel", table.sheet, net.ref, expected=expected.value, actual=net.number,
        shown=planbok.fmt(c.BUDGETRAM, net.number),
        wanted=planbok.fmt(c.BUDGETRAM, expected.value),
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


def check_nettoram(planbok: Planbok) -> Iterator[Finding]:
    """Nettoram › Budgetram Y per budget type equals the Budgetram table's net, within
    rounding. A difference that goes away when the wrong row nets are corrected follows from
    those rows (reported there)."""
    ram = planbok.table(c.NETTORAM)
    budget = planbok.table(c.BUDGETRAM)
    if ram is None or budget is None or not ram.has("ram"):
        return
    nets = figures.nets_per_type(planbok)
    corrected = figures.nets_per_type(planbok, corrected=True)
    if nets is None or corrected is None:
        return
    roots = [r["nettobudget"].ref for r in budget.rows if figures.net_is_wrong(budget, r)]
    year = planbok.info.budgetar
    for row in ram.rows:
        kind = c.match_choice(row.text("budgettyp"), c.BUDGETTYPER)
        v = row["ram"]
        if kind is None or not v.valid or v.blank or not nets[kind].complete:
            continue
        what = f"Budgetram {year} för {kind}"
        if judge(v.figure, nets[kind].figure) is Verdict.EQUAL:
            continue
        mine = [r["nettobudget"].ref for r in budget.rows
                if figures.budget_type(r) == kind and r["nettobudget"].ref in roots]
        cause = root_causes(v.figure, nets[kind].figure, corrected[kind].figure, mine)
        if cause is not None:
            yield consequence(planbok, ram, what, v.ref, "Budgetram-tabellens netto",
                              v.number, nets[kind].value, cause)
            continue
        yield compare_finding(planbok, ram, what, v.ref, v.figure, nets[kind].figure,
                              "nettoram-avvikelse")


def check_frame_explained(planbok: Planbok) -> Iterator[Finding]:
    """What the frame received against Y-1 (Budgetram Y-1 − Budgetram Y: money in positive,
    as the contract sees ramförändringar) is explained by Ramförändringar for Y."""
    frame = figures.nettoram(planbok)
    explained = figures.explained(planbok)
    ram = planbok.table(c.NETTORAM)
    if frame is None or explained is None or ram is None:
        return
    if not frame.complete or not explained.complete:
        return
    received = frame.received
    if judge(explained.figure, received) is Verdict.EQUAL:
        return
    year = planbok.info.budgetar
    # an internal transfer that does not net to zero has its own finding; if it alone
    # explains the difference, this follows from it
    roots: list[str] = []
    imbalance = Figure(Decimal(0))
    for rows in figures.internal_transfers(planbok).values():
        values = [r["belopp"] for r in rows]
        net = Figure.sum(v.figure for v in values)
        if all(v.valid for v in values) and net.value != 0:
            roots += [v.ref for v in values]
            imbalance = imbalance + net
    cause = root_causes(explained.figure, received, received + imbalance, roots)
    if cause is not None:
        yield consequence(planbok, ram, "Ramförändringar", ram.header_ref,
                          "det ramen fått mot föregående år", explained.value, received.value,
                          cause)
        return

    def fmt(d: Decimal) -> str:
        return planbok.fmt(c.NETTORAM, d)

    if judge(explained.figure, received) is Verdict.ROUNDING:
        yield compare_finding(planbok, ram, "Ramförändringar mot ramens förändring",
                              ram.header_ref, explained.figure, received,
                              "oforklarad-ramforandring")
        return
    yield finding(
        "oforklarad-ramforandring", ram.sheet, ram.header_ref, expected=received.value,
        actual=explained.value, change=fmt(received.value), explained=fmt(explained.value),
        diff=fmt(received.value - explained.value),
        prev_year=(year - 1) if year else "föregående år",
    )


RULES = (check_net, check_signs, check_labels, check_nettoram, check_frame_explained)
