"""Investeringar (tkr): allowed values, years, depreciation periods, the frame."""

from __future__ import annotations

from collections.abc import Iterator

from xlplan import contract as c
from xlplan import figures
from xlplan.findings import Finding, finding
from xlplan.model import Planbok
from xlplan.numbers import format_sv
from xlplan.rules.common import require_text
from xlplan.text import short

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "ogiltigt-varde",
    "over-investeringsram",
    "investeringsram-saknas",
    "ogiltig-avskrivningstid",
    "avskrivningstid-saknas",
    "ogiltigt-ar",
)


def check_values(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.INVESTERINGAR)
    if table is None:
        return
    yield from require_text(table, "objekt")
    has_holder, has_year = table.has("budgetansvar"), table.has("ar")
    has_life = table.has("avskrivningstid")
    for row, _, placed_in in figures.placements(planbok):
        holder = row["budgetansvar"]
        if has_holder and not holder.blank and not c.NAMND_CODE.match(holder.text.upper()):
            yield finding("ogiltigt-varde", table.sheet, holder.ref, column="Budgetansvar",
                          value=short(holder.text, 60), allowed="en nämndkod som RS eller HSN")
        year = row["ar"]
        # text in År is already an ej-tal error; a number that is not a year is one here
        # (a filled-in År has no year exactly when it is not figures.year_usable)
        if has_year and placed_in is None and year.valid and not year.blank:
            yield finding("ogiltigt-ar", table.sheet, year.ref, value=short(year.text, 20))
        life = row["avskrivningstid"]
        if has_life and life.valid and not row["belopp"].blank:
            if life.blank:
                yield finding("avskrivningstid-saknas", table.sheet, life.ref)
            elif life.amount is None or life.amount <= 0:
                yield finding("ogiltig-avskrivningstid", table.sheet, life.ref,
                              value=short(life.text, 20))


def check_frame(planbok: Planbok) -> Iterator[Finding]:
    table = planbok.table(c.INVESTERINGAR)
    info = planbok.info
    if table is None or info.namnd is None or info.budgetar is None:
        return
    held = figures.own_in_year(planbok)
    own = None if held is None else held.known
    if own is None or own == 0:
        return  # nothing held, or an År/Belopp that cannot be read (an error at its cell)
    if info.investeringsram is None:
        sheet, ref = info.where("Investeringsram")
        yield finding("investeringsram-saknas", sheet or table.sheet, ref or table.header_ref,
                      namnd=info.namnd)
        return
    if own > info.investeringsram:
        sheet, ref = info.where("Investeringsram")
        yield finding(
            "over-investeringsram", table.sheet,
            table.totals["belopp"].ref if table.totals is not None else table.header_ref,
            expected=info.investeringsram, actual=own, year=info.budgetar, namnd=info.namnd,
            shown=format_sv(own), wanted=format_sv(info.investeringsram),
            diff=format_sv(own - info.investeringsram),
        )


RULES = (check_values, check_frame)
