"""Ramförändringar: an Omdisponering names a diarienummer and both nämnder."""

from __future__ import annotations

from collections.abc import Iterator

from xlplan import contract as c
from xlplan.findings import Finding, finding
from xlplan.model import Planbok

AMOUNT_KEYS = ("belopp", "belopp_1", "belopp_2")


def is_transfer(text: str) -> bool:
    return c.match_choice(text, ("Omdisponering",)) is not None


def check_transfers(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.RAMFORANDRINGAR)
    namnd = planbok.info.namnd
    if table is None:
        return
    for row in table.rows:
        diarie = row["diarienummer"]
        if not diarie.blank and not c.DIARIENUMMER.match(diarie.text.upper()):
            yield finding("ogiltigt-diarienummer", table.sheet, diarie.ref, value=diarie.text[:40])
        if not is_transfer(row.text("typ")):
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
        if namnd not in (fran, till) or fran == till:
            yield finding("omdisponering-fel-namnd", table.sheet, row["fran"].ref, row=row.row,
                          fran=fran, till=till, namnd=namnd)
            continue
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


RULES = (check_transfers,)
