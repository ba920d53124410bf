"""Prognos: Avvikelse = Helårsprognos − Budget, per row and in the totals row."""

from __future__ import annotations

from collections.abc import Iterator

from xlplan import contract as c
from xlplan.findings import Finding, finding
from xlplan.model import Planbok
from xlplan.numbers import same_amount
from xlplan.rules.common import require_text


def check_deviation(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.PROGNOS)
    if table is None or not all(table.has(k) for k in ("budget", "prognos", "avvikelse")):
        return
    rows = list(table.rows) + ([table.totals] if table.totals is not None else [])
    for row in rows:
        budget, forecast, dev = row["budget"], row["prognos"], row["avvikelse"]
        if not (budget.valid and forecast.valid and dev.valid):
            continue
        if row is table.totals and (budget.blank or forecast.blank or dev.blank):
            continue
        expected = forecast.number - budget.number
        if same_amount(dev.number, expected, abs(forecast.number) + abs(budget.number)):
            continue
        yield finding(
            "avvikelsefel", table.sheet, dev.ref, expected=expected, actual=dev.number,
            shown=planbok.fmt(c.PROGNOS, dev.number), wanted=planbok.fmt(c.PROGNOS, expected),
            diff=planbok.fmt(c.PROGNOS, abs(dev.number - expected)),
        )


def check_labels(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.PROGNOS)
    if table is not None:
        yield from require_text(table, "omrade")


RULES = (check_deviation, check_labels)
