"""What consolidation keeps of one planbok: plain values in mkr (tkr for investments).

A whole Planbok is dropped as soon as its extract is made, so a large inbox is streamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xlplan import contract as c
from xlplan.compute import budget_summary, measures_summary
from xlplan.io.raw import CellKind
from xlplan.model import Planbok, Row, TableData
from xlplan.rules.investeringar import budget_holder, investment_year
from xlplan.rules.ramforandringar import is_transfer

ZERO = Decimal(0)
THOUSAND = Decimal(1000)
OutCell = str | Decimal | int | None


@dataclass(frozen=True, slots=True)
class Transfer:
    diarienummer: str
    fran: str
    till: str
    belopp_mkr: Decimal
    sheet: str
    cell: str


@dataclass(frozen=True, slots=True)
class Investment:
    objekt: str
    omrade: str
    typ: str
    kategori: str
    budgetansvar: str
    ar: int | None
    belopp_tkr: Decimal


@dataclass
class Extract:
    namnd: str
    namndnamn: str
    budgetar: int
    enhet: str
    netto_mkr: Decimal
    netto_per_typ_mkr: dict[str, Decimal]
    interna_intakter_mkr: Decimal
    interna_kostnader_mkr: Decimal
    finansiering_mkr: Decimal | None
    investeringsram_tkr: Decimal | None
    gap_mkr: Decimal | None
    effekt_mkr: dict[int, Decimal] | None
    prognos_mkr: tuple[Decimal, Decimal, Decimal, Decimal] | None  # budget, utfall, prognos, avv.
    rapportmanad: str | None = None
    investments: list[Investment] = field(default_factory=list)
    inv_per_holder: dict[str, Decimal] = field(default_factory=dict)  # tkr, all years
    inv_held_year: dict[str, Decimal] = field(default_factory=dict)  # tkr, the budget year
    transfers: list[Transfer] = field(default_factory=list)
    rows: dict[str, list[list[OutCell]]] = field(default_factory=dict)  # per contract table
    objects: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # history


def to_mkr(value: Decimal, enhet: str) -> Decimal:
    return value / THOUSAND if enhet == "tkr" else value


def _out(row: Row, table: TableData, key: str, enhet: str) -> OutCell:
    col = table.spec.column(key)
    v = row[key]
    if col.kind is c.Kind.AMOUNT:
        if not v.valid:
            return None
        return v.number if table.spec.amounts_in_tkr else to_mkr(v.number, enhet)
    if col.kind is c.Kind.NUMBER:
        return v.amount if v.valid else None
    if v.cell.kind is CellKind.TEXT:
        return v.text
    return v.text or None


def extract(planbok: Planbok) -> Extract | None:
    info = planbok.info
    if info.namnd is None or info.budgetar is None:
        return None
    enhet = info.enhet
    budget = budget_summary(planbok)
    netto_per_typ = {k: to_mkr(v, enhet) for k, v in (budget.netto.items() if budget else [])
                     if k != "Totalt"}
    per_slag = budget.per_slag if budget else {}
    measures = measures_summary(planbok)
    ex = Extract(
        namnd=info.namnd, namndnamn=info.namndnamn, budgetar=info.budgetar, enhet=enhet,
        netto_mkr=sum(netto_per_typ.values(), ZERO), netto_per_typ_mkr=netto_per_typ,
        interna_intakter_mkr=to_mkr(per_slag.get("Interna intäkter", ZERO), enhet),
        interna_kostnader_mkr=to_mkr(per_slag.get("Interna kostnader", ZERO), enhet),
        finansiering_mkr=_financing(planbok),
        investeringsram_tkr=info.investeringsram,
        gap_mkr=to_mkr(info.gap, enhet) if info.gap is not None else None,
        effekt_mkr={y: to_mkr(v, enhet) for y, v in measures.effekt.items()} if measures else None,
        prognos_mkr=_forecast(planbok),
        rapportmanad=info.rapportmanad,
    )
    for spec in c.TABLES:
        table = planbok.table(spec)
        if table is None or spec is c.INFO:
            continue
        ex.rows[spec.name] = [[_out(r, table, col.key, enhet) if col.key in table.columns else None
                               for col in spec.columns] for r in table.rows]
    budget_table = planbok.table(c.BUDGETRAM)
    if budget_table is not None:
        for r in budget_table.rows:
            if r["nettobudget"].valid and r.text("omrade"):
                key = ("omrade", r.text("omrade"))
                ex.objects[key] = ex.objects.get(key, ZERO) + to_mkr(r["nettobudget"].number, enhet)
    measures_table = planbok.table(c.ATGARDSPLAN)
    if measures_table is not None and measures_table.has("effekt"):
        for r in measures_table.rows:
            name = r.text("atgard") or r.text("typ")
            if name and r["effekt"].valid:
                key = ("atgard", name)
                ex.objects[key] = ex.objects.get(key, ZERO) + to_mkr(r["effekt"].number, enhet)
    invest = planbok.table(c.INVESTERINGAR)
    if invest is not None:
        for r in invest.rows:
            amount = r["belopp"].number if r["belopp"].valid else ZERO
            item = Investment(r.text("objekt"), r.text("omrade"),
                              c.match_choice(r.text("typ"), c.INVESTERINGSTYPER) or r.text("typ"),
                              c.match_choice(r.text("kategori"), c.KATEGORIER) or r.text("kategori"),
                              budget_holder(r, info.namnd), investment_year(r, info.budgetar), amount)
            ex.investments.append(item)
            holder = item.budgetansvar or info.namnd
            ex.inv_per_holder[holder] = ex.inv_per_holder.get(holder, ZERO) + amount
            if (item.ar or info.budgetar) == info.budgetar:
                ex.inv_held_year[holder] = ex.inv_held_year.get(holder, ZERO) + amount
            if item.objekt:
                key = ("investering", item.objekt)
                ex.objects[key] = ex.objects.get(key, ZERO) + amount
    changes = planbok.table(c.RAMFORANDRINGAR)
    if changes is not None:
        for r in changes.rows:
            if is_transfer(r.text("typ")) and r.text("diarienummer") and r["belopp"].valid:
                ex.transfers.append(Transfer(
                    r.text("diarienummer").upper(), r.text("fran").upper(), r.text("till").upper(),
                    to_mkr(r["belopp"].number, enhet), changes.sheet, r["belopp"].ref))
    ex.objects[("netto", "Totalt")] = ex.netto_mkr
    _forecast_objects(planbok, ex)
    return ex


def _forecast_objects(planbok: Planbok, ex: Extract) -> None:
    """Budget, Helårsprognos and Avvikelse per område and in total, for the history."""
    table = planbok.table(c.PROGNOS)
    if table is None or not table.rows or ex.prognos_mkr is None:
        return
    for r in table.rows:
        name = r.text("omrade")
        if not name or not (r["budget"].valid and r["prognos"].valid):
            continue
        budget, forecast = (to_mkr(r[k].number, ex.enhet) for k in ("budget", "prognos"))
        for kind, value in (("budget", budget), ("prognos", forecast),
                            ("avvikelse", forecast - budget)):
            ex.objects[(kind, name)] = ex.objects.get((kind, name), ZERO) + value
    budget, _, forecast, deviation = ex.prognos_mkr
    for kind, value in (("budget", budget), ("prognos", forecast), ("avvikelse", deviation)):
        ex.objects[(kind, "Totalt")] = value


def _financing(planbok: Planbok) -> Decimal | None:
    table = planbok.table(c.FINANSIERING)
    if table is None or not table.rows:
        return None
    return to_mkr(sum((r["belopp"].number for r in table.rows if r["belopp"].valid), ZERO),
                  planbok.info.enhet)


def _forecast(planbok: Planbok) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    table = planbok.table(c.PROGNOS)
    if table is None or not table.rows:
        return None
    enhet = planbok.info.enhet
    sums = [ZERO, ZERO, ZERO]
    for r in table.rows:
        for i, key in enumerate(("budget", "utfall", "prognos")):
            if r[key].valid:
                sums[i] += r[key].number
    budget, outcome, forecast = (to_mkr(v, enhet) for v in sums)
    return budget, outcome, forecast, forecast - budget
