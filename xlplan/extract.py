"""What consolidation keeps of one planbok: plain values in mkr (tkr for investments).

A whole Planbok is dropped as soon as its extract is made, so a large inbox is streamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xlplan import contract as c
from xlplan import figures
from xlplan.io.raw import CellKind
from xlplan.model import Planbok, TableData
from xlplan.rounding import Verdict

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
    precision_mkr: Decimal | None = None  # the rounding model: the precision it was typed to


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
    precision_mkr: dict[str, Decimal | None] = field(default_factory=dict)  # rounding model
    rows: dict[str, list[list[OutCell]]] = field(default_factory=dict)  # per contract table
    objects: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # history


Figure = tuple[str, str, str]  # kind, object, value: one figure of the history, as texts


def figure_texts(objects: dict[tuple[str, str], Decimal]) -> list[Figure]:
    """A planbok's figures (``Extract.objects``) as the history stores them: the value as an
    exact decimal text, the object cut to its column's 500 characters."""
    return [(kind, obj[:500], format(value, "f")) for (kind, obj), value in objects.items()]


def to_mkr(value: Decimal, enhet: str) -> Decimal:
    return value / THOUSAND if enhet == "tkr" else value


def _rows_out(table: TableData, enhet: str) -> list[list[OutCell]]:
    """Every data row's cells in the contract's column order (None for a column the table
    lacks): amounts in mkr (tkr where the table is in tkr), numbers, text."""
    as_typed = table.spec.amounts_in_tkr or enhet != "tkr"  # else tkr to mkr
    columns = [_column_out(table, col, as_typed) for col in table.spec.columns]
    return [list(cells) for cells in zip(*columns, strict=True)]


def _column_out(table: TableData, col: c.Column, as_typed: bool) -> list[OutCell]:
    """One column of :func:`_rows_out`, row by row."""
    if col.key not in table.columns:
        return [None] * len(table.rows)
    values = [r.values[col.key] for r in table.rows]
    if col.kind is c.Kind.AMOUNT:
        if as_typed:
            return [v.number if v.valid else None for v in values]
        return [v.number / THOUSAND if v.valid else None for v in values]
    if col.kind is c.Kind.NUMBER:
        return [v.amount if v.valid else None for v in values]
    return [(v.cell.value or "").strip() if v.cell.kind is CellKind.TEXT else (v.text or None)
            for v in values]  # text as Value.text has it


def extract(planbok: Planbok) -> Extract | None:
    """The extract, or None when a figure cannot be computed (see :func:`extract_or_reason`)."""
    return extract_or_reason(planbok)[0]


def _need(name: str, t: figures.Total | None, gaps: list[str]) -> Decimal | None:
    if t is None:
        return None
    if not t.complete:
        gaps.append(f"{name} ({', '.join(t.missing[:3])}{' …' if len(t.missing) > 3 else ''})")
    return t.known


def extract_or_reason(planbok: Planbok) -> tuple[Extract | None, str]:
    """What consolidation keeps of ``planbok``, or (None, why): consolidation never uses a
    figure it could not compute (a cell it needs is unusable), so such a planbok is not
    used at all, and nothing of it goes to the history."""
    info = planbok.info
    if info.namnd is None or info.budgetar is None:
        return None, "Info saknar Nämnd eller Budgetår"
    enhet = info.enhet
    gaps: list[str] = []
    per_type = figures.nets_per_type(planbok)
    if per_type is None:
        gaps.append("netto (Budgetram eller dess kolumn Nettobudget saknas)")
        per_type = {}
    netto_per_typ = {k: to_mkr(v, enhet) for k, t in per_type.items()
                     if (v := _need(f"netto {k}", t, gaps)) is not None}
    kinds = figures.per_kind(planbok)
    internal_in = _need("interna intäkter", kinds.get("interna_intakter"), gaps)
    internal_out = _need("interna kostnader", kinds.get("interna_kostnader"), gaps)
    financing = _need("finansiering", figures.financing(planbok), gaps)
    effects = figures.effects_per_year(planbok)
    effekt = ({y: _need(f"effekt {y}", t, gaps) for y, t in effects.items()}
              if effects is not None else None)
    fc = figures.prognos(planbok)
    prognos = None
    if fc is not None:
        parts = [_need(f"prognos {name}", t, gaps) for name, t in
                 (("budget", fc.budget), ("utfall", fc.utfall), ("helårsprognos", fc.prognos))]
        if all(p is not None for p in parts):
            budget, outcome, forecast = (to_mkr(p or ZERO, enhet) for p in parts)
            prognos = (budget, outcome, forecast, forecast - budget)
    per_holder = {h: _need(f"investeringar {h}", t, gaps)
                  for h, t in figures.investments_per_holder(planbok).items()}
    held = {h: _need(f"investeringar {h} {info.budgetar}", t, gaps)
            for h, t in figures.held_in_year(planbok).items()}
    for spec, amount_key in ((c.INVESTERINGAR, "belopp"), (c.RAMFORANDRINGAR, "belopp")):
        table = planbok.table(spec)
        if table is not None and table.rows and not table.has(amount_key):
            header = spec.column(amount_key).header_for(info.budgetar)
            gaps.append(f"{spec.name} ({table.header_ref}: kolumnen {header} saknas)")
    moves = figures.transfers(planbok)
    for t in moves:
        _need(f"omdisponering {t.diarienummer}", figures.total([t.amount]), gaps)
    if gaps:
        return None, ("siffror som inte gick att räkna ut (celler som inte går att läsa som tal): "
                      + "; ".join(gaps))
    ex = Extract(
        namnd=info.namnd, namndnamn=info.namndnamn, budgetar=info.budgetar, enhet=enhet,
        netto_mkr=sum(netto_per_typ.values(), ZERO), netto_per_typ_mkr=netto_per_typ,
        interna_intakter_mkr=to_mkr(internal_in or ZERO, enhet),
        interna_kostnader_mkr=to_mkr(internal_out or ZERO, enhet),
        finansiering_mkr=None if financing is None else to_mkr(financing, enhet),
        investeringsram_tkr=info.investeringsram,
        gap_mkr=to_mkr(info.gap, enhet) if info.gap is not None else None,
        effekt_mkr=(None if effekt is None else
                    {y: to_mkr(v or ZERO, enhet) for y, v in effekt.items()}),
        prognos_mkr=prognos,
        rapportmanad=info.rapportmanad,
        inv_per_holder={h: v or ZERO for h, v in per_holder.items()},
        inv_held_year={h: v or ZERO for h, v in held.items() if v},
    )
    for kind in ("interna_intakter", "interna_kostnader"):
        if kind in kinds:
            ex.precision_mkr[kind] = _mkr_precision(kinds[kind].figure.precision, enhet)
    for spec in c.TABLES:
        table = planbok.table(spec)
        if table is None or spec is c.INFO:
            continue
        ex.rows[spec.name] = _rows_out(table, enhet)
    budget_table = planbok.table(c.BUDGETRAM)
    if budget_table is not None and budget_table.has("nettobudget"):
        for r in budget_table.rows:
            if area := r.text("omrade"):
                key = ("omrade", area)
                ex.objects[key] = ex.objects.get(key, ZERO) + to_mkr(r["nettobudget"].number, enhet)
    measures_table = planbok.table(c.ATGARDSPLAN)
    if measures_table is not None and measures_table.has("effekt"):
        for r in measures_table.rows:
            name = r.text("atgard") or r.text("typ")
            if name:
                key = ("atgard", name)
                ex.objects[key] = ex.objects.get(key, ZERO) + to_mkr(r["effekt"].number, enhet)
    types, categories = _choices(c.INVESTERINGSTYPER), _choices(c.KATEGORIER)
    for r, holder, year in figures.placements(planbok):
        typ, kategori = r.text("typ"), r.text("kategori")
        item = Investment(r.text("objekt"), r.text("omrade"), types.get(c.norm(typ)) or typ,
                          categories.get(c.norm(kategori)) or kategori, holder, year,
                          r["belopp"].number)
        ex.investments.append(item)
        if item.objekt:
            key = ("investering", item.objekt)
            ex.objects[key] = ex.objects.get(key, ZERO) + item.belopp_tkr
    changes = planbok.table(c.RAMFORANDRINGAR)
    for t in moves:
        assert changes is not None
        ex.transfers.append(Transfer(
            t.diarienummer, t.fran, t.till, to_mkr(t.amount.number, enhet), changes.sheet,
            t.amount.ref, _mkr_precision(t.amount.figure.precision, enhet)))
    ex.objects[("netto", "Totalt")] = ex.netto_mkr
    _forecast_objects(planbok, ex)
    return ex, ""


def _choices(choices: tuple[str, ...]) -> dict[str, str]:
    """Each choice by its normalised text, the first of equals: ``get(c.norm(text))`` is
    ``c.match_choice(text, choices)``."""
    out: dict[str, str] = {}
    for choice in choices:
        out.setdefault(c.norm(choice), choice)
    return out


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


def _mkr_precision(p: Decimal | None, enhet: str) -> Decimal | None:
    return None if p is None else to_mkr(p, enhet)


def internal_items_cancel(extracts: list[Extract]) -> bool:
    """The region's internal income and internal costs cancel out, within rounding (income
    against −costs, each with the finest precision among the nämnders' figures)."""
    from xlplan.rounding import Figure, Verdict, finest, judge

    income = Figure(sum((e.interna_intakter_mkr for e in extracts), ZERO),
                    finest(e.precision_mkr.get("interna_intakter") for e in extracts))
    costs = Figure(-sum((e.interna_kostnader_mkr for e in extracts), ZERO),
                   finest(e.precision_mkr.get("interna_kostnader") for e in extracts))
    return judge(income, costs) is not Verdict.DIFFERENT


def transfers_balance(transfers: list[Transfer]) -> bool:
    """The sides of one omdisponering (across nämnder, or inside one): money in equals money
    out, within rounding (each side with its own precision, tkr converted to mkr)."""
    return transfers_verdict(transfers) is not Verdict.DIFFERENT


def transfers_verdict(transfers: list[Transfer]) -> Verdict:
    """Money in against money out of one omdisponering under the rounding model: equal,
    equal within rounding (a warning), or different."""
    from xlplan.rounding import Figure, judge

    def side(ts: list[Transfer]) -> Figure:
        return Figure.sum(Figure(abs(t.belopp_mkr), t.precision_mkr, abs(t.belopp_mkr))
                          for t in ts)

    incoming = side([t for t in transfers if t.belopp_mkr > 0])
    outgoing = side([t for t in transfers if t.belopp_mkr < 0])
    return judge(incoming, outgoing)
