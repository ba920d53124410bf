"""Prognos: Avvikelse = Helårsprognos − Budget, per row and in the totals row; and the
Prognos held against Budgetram (every område has a row, its Budget is its net)."""

from __future__ import annotations

from collections.abc import Iterator

from xlplan import contract as c
from xlplan import figures
from xlplan.findings import Finding, finding
from xlplan.model import Planbok, judged
from xlplan.rounding import Verdict, judge
from xlplan.rules.common import (
    compare_finding,
    consequence,
    formula_expected,
    require_text,
    root_causes,
    totals_disagree,
)

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "avvikelsefel",
    "prognos-omrade-saknas",
    "prognos-okant-omrade",
    "prognos-budget-avvikelse",
)


def check_deviation(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.PROGNOS)
    if table is None or not all(table.has(k) for k in ("budget", "prognos", "avvikelse")):
        return
    rows = list(table.rows) + ([table.totals] if table.totals is not None else [])
    rows_off = False  # a data row's Avvikelse off (an error or a rounding, each reported)
    for row in rows:
        budget, forecast, dev = row["budget"], row["prognos"], row["avvikelse"]
        if not (budget.valid and forecast.valid and dev.valid):
            continue
        if row is table.totals and (
            rows_off or budget.blank or forecast.blank or dev.blank
            or any(totals_disagree(table, k) for k in ("budget", "prognos", "avvikelse"))
        ):
            # a wrong column total is reported there already, and the totals row's
            # Avvikelse is the sum of the rows' own: off by what they are off (each slip once)
            continue
        expected = formula_expected(table, row, "avvikelse")
        if expected is None:
            continue
        shown, wanted = judged(table, row, "avvikelse", expected)
        verdict = judge(shown, wanted)
        if verdict is Verdict.EQUAL:
            continue
        rows_off = True
        if verdict is Verdict.ROUNDING:
            yield compare_finding(planbok, table, "Avvikelse mot Helårsprognos − Budget",
                                  dev.ref, shown, wanted, "avvikelsefel")
            continue
        yield finding(
            "avvikelsefel", table.sheet, dev.ref, expected=expected.value, actual=dev.number,
            shown=planbok.fmt(c.PROGNOS, dev.number),
            wanted=planbok.fmt(c.PROGNOS, expected.value),
            diff=planbok.fmt(c.PROGNOS, abs(dev.number - expected.value)),
        )


def check_labels(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.PROGNOS)
    if table is not None:
        yield from require_text(table, "omrade")


def check_against_budgetram(planbok: Planbok) -> Iterator[Finding]:
    """Each Budgetram område has a Prognos row, and its Prognos › Budget equals the
    område's Budgetram net within rounding (warnings). A difference that goes away when a
    wrong Nettobudget is corrected follows from that cell."""
    table = planbok.table(c.PROGNOS)
    budget = planbok.table(c.BUDGETRAM)
    if table is None or budget is None or not table.rows or not table.has("omrade"):
        return
    areas = figures.nets_per_area(planbok)
    if not areas:
        return
    seen: set[str] = set()
    for row in table.rows:
        label = row.text("omrade")
        if not label:
            continue
        key = c.norm(label)
        seen.add(key)
        area = areas.get(key)
        if area is None:
            yield finding("prognos-okant-omrade", table.sheet, row["omrade"].ref, omrade=label)
            continue
        v = row["budget"]
        if not table.has("budget") or not v.valid or v.blank or not area.net.complete:
            continue
        if judge(v.figure, area.net.figure) is Verdict.EQUAL:
            continue
        cause = root_causes(v.figure, area.net.figure, area.corrected.figure,
                            list(area.wrong))
        if cause is not None:
            yield consequence(planbok, table, f"Budget för {label}", v.ref,
                              "områdets netto i Budgetram", v.number, area.net.value, cause)
            continue
        yield compare_finding(planbok, table, f"Budget för {label} mot Budgetram", v.ref,
                              v.figure, area.net.figure, "prognos-budget-avvikelse",
                              omrade=label)
    for key, area in areas.items():
        if key not in seen:
            yield finding("prognos-omrade-saknas", budget.sheet, area.ref, omrade=area.label)


RULES = (check_deviation, check_labels, check_against_budgetram)
