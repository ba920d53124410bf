"""Ramförändringar: an Omdisponering names a diarienummer and both nämnder. A transfer
between the nämnd's own områden has Från = Till = this nämnd, and its rows (one
diarienummer) net to zero inside the planbok, year by year."""

from __future__ import annotations

from collections.abc import Iterator

from xlplan import contract as c
from xlplan import figures
from xlplan.findings import Finding, finding
from xlplan.model import Planbok
from xlplan.rounding import Figure, Verdict, judge
from xlplan.text import short

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "avrundningsdifferens",
    "omdisponering-ofullstandig",
    "omdisponering-fel-namnd",
    "omdisponering-tecken",
    "ogiltigt-diarienummer",
    "omdisponering-intern-obalans",
)

AMOUNT_KEYS = figures.TRANSFER_KEYS


def check_transfers(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.RAMFORANDRINGAR)
    namnd = planbok.info.namnd
    if table is None:
        return
    for row in table.rows:
        diarie = row["diarienummer"]
        if not diarie.blank and not c.DIARIENUMMER.match(diarie.text.upper()):
            yield finding("ogiltigt-diarienummer", table.sheet, diarie.ref, value=short(diarie.text, 40))
        if not figures.is_transfer(row):
            continue
        missing = [(name, row[key]) for key, name in
                   (("diarienummer", "diarienummer"), ("fran", "Från"), ("till", "Till"))
                   if table.has(key) and row[key].blank]
        if missing:
            yield finding("omdisponering-ofullstandig", table.sheet, missing[0][1].ref,
                          row=row.row, missing=" och ".join(m[0] for m in missing))
            continue
        fran, till = row.text("fran").upper(), row.text("till").upper()
        if namnd is None:
            continue
        if namnd not in (fran, till):
            yield finding("omdisponering-fel-namnd", table.sheet, row["fran"].ref, row=row.row,
                          fran=fran, till=till, namnd=namnd)
            continue
        if fran == till:
            continue  # inside the nämnd: both directions; checked per diarienummer below
        outgoing = fran == namnd
        for key in AMOUNT_KEYS:
            v = row[key]
            if not table.has(key) or not v.valid or v.blank or v.number == 0:
                continue
            if (v.number > 0) == outgoing:
                yield finding(
                    "omdisponering-tecken", table.sheet, v.ref, row=row.row,
                    direction=f"från {namnd} till {till}" if outgoing else f"från {fran} till {namnd}",
                    value=planbok.fmt(c.RAMFORANDRINGAR, v.number),
                )


def check_internal_balance(planbok: Planbok) -> Iterator[Finding]:
    """The rows of one internal transfer (Från = Till = this nämnd) net to zero, per year,
    within rounding (one unit of the finest row's precision)."""
    table = planbok.table(c.RAMFORANDRINGAR)
    namnd = planbok.info.namnd
    if table is None or namnd is None:
        return
    for dnr, rows in figures.internal_transfers(planbok).items():
        for key in AMOUNT_KEYS:
            if not table.has(key):
                continue
            values = [r[key] for r in rows]
            if not all(v.valid for v in values):
                continue
            # money in (the receiving områden) against money out (the giving ones): two
            # figures that should be equal, each with its own precision
            incoming = Figure.sum(v.figure for v in values if v.number > 0)
            outgoing = -Figure.sum(v.figure for v in values if v.number < 0)
            net = incoming - outgoing
            verdict = judge(incoming, outgoing)
            if verdict is Verdict.EQUAL:
                continue
            cells = ", ".join(v.ref for v in values)
            shown = planbok.fmt(c.RAMFORANDRINGAR, net.value)
            column = table.header(key)
            if verdict is Verdict.ROUNDING:  # the sum is in no one cell: named by its cells
                yield finding("avrundningsdifferens", table.sheet, values[0].ref,
                              expected=net.value - net.value, actual=net.value, cell=cells,
                              shown=shown,
                              what=f"Omdisponeringen {dnr} inom {namnd}, summan av {column}",
                              wanted="0", diff=planbok.fmt(c.RAMFORANDRINGAR, abs(net.value)))
                continue
            yield finding("omdisponering-intern-obalans", table.sheet, values[0].ref,
                          expected=net.value - net.value, actual=net.value, diarienummer=dnr,
                          namnd=namnd, cells=cells, column=column, total=shown)


RULES = (check_transfers, check_internal_balance)
