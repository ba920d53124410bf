"""The Sammanfattning: what a plan means, computed exactly from a typed planbok.

Pure functions; nothing here reads files. Unusable cells (already validation errors)
count as missing, and a summary built from a plan with errors says so.
Åtgärdsplan effects are per year, each measured against the base year: no figure here
adds the years together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlplan import contract as c
from xlplan import figures
from xlplan.errors import XlplanError
from xlplan.figures import budget_holder, investment_year
from xlplan.model import Planbok, Row
from xlplan.numbers import to_json
from xlplan.settings import Settings

ZERO = Decimal(0)
TKR_PLACES = Decimal("0.001")  # whole kronor in tkr

KIND_KEYS: dict[str, str] = {
    "externa_intakter": "Externa intäkter",
    "interna_intakter": "Interna intäkter",
    "personalkostnader": "Personalkostnader",
    "lakemedel": "Läkemedel",
    "ovriga_externa_kostnader": "Övriga externa kostnader",
    "avskrivningar": "Avskrivningar",
    "interna_kostnader": "Interna kostnader",
}


@dataclass
class BudgetramSummary:
    # None wherever a cell the figure needs could not be read (an error at that cell): a
    # missing amount is never shown as 0, and no total is shown without it
    netto: dict[str, Decimal | None]  # per budget type and "Totalt"
    per_omrade: list[tuple[str, str, Decimal | None]]  # (område, budgettyp, netto)
    per_slag: dict[str, Decimal | None]  # column totals by kind
    intakter: Decimal | None
    kostnader: Decimal | None  # negative


@dataclass
class NettoramSummary:
    # None wherever a cell the figure needs could not be read, as in BudgetramSummary
    budgetram_foregaende_ar: Decimal | None
    budgetram: Decimal | None
    forandring: Decimal | None  # Budgetram Y − Budgetram Y-1 (negative: the frame grew)
    forandring_andel: Decimal | None  # forandring / |ram_fg|, a fraction: 0.0123 is 1,2 %
    tillfort: Decimal | None  # Budgetram Y-1 − Budgetram Y: what the nämnd received (money in +)
    forklarad_av_ramforandringar: Decimal | None  # Ramförändringar for Y, seen from the nämnd
    oforklarad: Decimal | None  # tillfort − forklarad


@dataclass
class KostnadsutvecklingSummary:
    nettokostnadsutveckling: Decimal | None  # fraction, e.g. 0.012 = 1,2 %
    bruttokostnadsutveckling: Decimal | None
    mal_netto: Decimal
    mal_brutto: Decimal
    kalla: str  # where the previous year came from

    def within(self, value: Decimal | None, target: Decimal) -> bool | None:
        return None if value is None else value <= target


# From here on too, None wherever a cell the figure needs could not be read (an error at that
# cell, which consolidation refuses for the same reason): never shown as 0


@dataclass
class AtgardsplanSummary:
    years: list[int]
    effekt: dict[int, Decimal | None]
    per_typ: dict[str, dict[int, Decimal | None]]
    gap: Decimal | None
    tackningsgrad: dict[int, Decimal | None] | None
    kvarvarande_gap: dict[int, Decimal | None] | None
    antal_atgarder: int
    kvalitetssankande: int
    kvalitetssankande_riskbedomda: int
    overvaltring: int


@dataclass
class InvesteringarSummary:
    summa_tkr: Decimal | None
    per_budgetansvar_tkr: dict[str, Decimal | None]
    per_kategori_tkr: dict[str, Decimal | None]
    per_typ_tkr: dict[str, Decimal | None]
    egen_budget_budgetar_tkr: Decimal | None  # what this nämnd holds, in the budget year
    investeringsram_tkr: Decimal | None
    utrymme_tkr: Decimal | None
    # (objekt, holder, amount) held elsewhere
    hos_annan_namnd: list[tuple[str, str, Decimal | None]]
    # year -> avskrivning, internranta, summa
    driftkostnad_tkr: dict[int, dict[str, Decimal | None]]
    internranta: Decimal
    avskrivning_start: str


@dataclass
class PrognosSummary:
    rapportmanad: str | None
    # (område, budget, utfall, prognos, avvikelse)
    per_omrade: list[tuple[str, Decimal | None, Decimal | None, Decimal | None, Decimal | None]]
    totalt: tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]


@dataclass
class Summary:
    namnd: str | None
    namndnamn: str
    budgetar: int | None
    enhet: str
    valideringsfel: int
    budgetram: BudgetramSummary | None
    nettoram: NettoramSummary | None
    kostnadsutveckling: KostnadsutvecklingSummary | None
    atgardsplan: AtgardsplanSummary | None
    investeringar: InvesteringarSummary | None
    prognos: PrognosSummary | None
    anteckningar: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return summary_json(self)


# --- Budgetram ------------------------------------------------------------------------------


def _known(row: Row, key: str) -> Decimal | None:
    """The cell's amount; None when it cannot be read (an error at the cell, never 0)."""
    v = row[key]
    return v.number if v.valid else None


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """A sum that stays unknown once a term is."""
    return None if a is None or b is None else a + b


def _less(a: Decimal, b: Decimal | None) -> Decimal | None:
    return None if b is None else a - b


def _div(a: Decimal | None, b: Decimal) -> Decimal | None:
    return None if a is None else a / b


def _sum_known(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, or None when any term is missing (a total is incomplete without it)."""
    items = list(values)
    if any(v is None for v in items):
        return None
    return sum((v for v in items if v is not None), ZERO)


def budgetram_summary(planbok: Planbok) -> BudgetramSummary | None:
    table = planbok.table(c.BUDGETRAM)
    if table is None or not table.rows:  # a section without data is null, not zeros
        return None
    per_type = figures.nets_per_type(planbok) or {k: figures.EMPTY for k in c.BUDGETTYPER}
    netto: dict[str, Decimal | None] = {k: v.known for k, v in per_type.items()}
    netto["Totalt"] = _sum_known(netto.values())
    per_omrade = [(r.text("omrade"), figures.budget_type(r), figures.row_net(table, r).known)
                  for r in table.rows]
    kinds = {k: v for k, v in figures.per_kind(planbok).items() if table.has(k)}
    per_slag = {KIND_KEYS[k]: v.known for k, v in kinds.items()}
    intakter = _sum_known(kinds[k].known for k in c.INCOME_KEYS if k in kinds)
    kostnader = _sum_known(kinds[k].known for k in c.COST_KEYS if k in kinds)
    return BudgetramSummary(netto, per_omrade, per_slag, intakter, kostnader)


def nettoram_summary(planbok: Planbok) -> NettoramSummary | None:
    frame = figures.nettoram(planbok)
    if frame is None:
        return None
    prev, this = frame.previous.known, frame.current.known
    both = frame.complete  # the change and what was received need both frames
    change = frame.change.value if both else None
    received = frame.received.value if both else None
    share = (change / abs(prev)) if prev and change is not None else None
    listed = figures.explained(planbok)
    explained = None if listed is None or not listed.complete else listed.value
    return NettoramSummary(prev, this, change, share, received, explained,
                           None if explained is None or received is None
                           else received - explained)


def kostnadsutveckling_summary(planbok: Planbok, settings: Settings,
                               previous: Planbok | None = None) -> KostnadsutvecklingSummary | None:
    """Change against the previous year, costs as positive magnitudes.

    nettokostnadsutveckling = (net cost Y − net cost Y−1) / net cost Y−1, with net cost =
    −net budget, from Nettoram's two frames or from the previous year's planbok.
    bruttokostnadsutveckling = (gross cost Y − gross cost Y−1) / gross cost Y−1, gross cost =
    −(the five cost columns of Budgetram); it needs the previous year's planbok.
    """
    this = budgetram_summary(planbok)
    if this is None:
        return None
    netto: Decimal | None = None
    brutto: Decimal | None = None
    source = ""
    before = budgetram_summary(previous) if previous is not None else None
    if before is not None:
        source = f"föregående års planbok ({previous.source if previous else ''})"
        now_net, then_net = this.netto["Totalt"], before.netto["Totalt"]
        if now_net is not None and then_net:
            netto = (-now_net - -then_net) / abs(then_net)
        if this.kostnader is not None and before.kostnader:
            brutto = (-this.kostnader - -before.kostnader) / abs(before.kostnader)
    else:
        frame = nettoram_summary(planbok)
        if frame is not None and frame.budgetram_foregaende_ar and frame.budgetram is not None:
            source = "Nettoram (budgetram föregående år)"
            netto = (-frame.budgetram - -frame.budgetram_foregaende_ar) / abs(frame.budgetram_foregaende_ar)
    if netto is None and brutto is None:
        return None
    return KostnadsutvecklingSummary(netto, brutto, settings.mal_nettokostnadsutveckling,
                           settings.mal_bruttokostnadsutveckling, source)


# --- Åtgärdsplan ------------------------------------------------------------------------------

EFFECT_KEYS = figures.EFFECT_KEYS


def atgardsplan_summary(planbok: Planbok) -> AtgardsplanSummary | None:
    table = planbok.table(c.ATGARDSPLAN)
    per_year = figures.effects_per_year(planbok)
    if table is None or per_year is None:
        return None
    years = list(per_year)
    effekt = {y: t.known for y, t in per_year.items()}
    per_typ: dict[str, dict[int, Decimal | None]] = defaultdict(
        lambda: dict.fromkeys(years, ZERO))
    quality = assessed = shifting = 0
    for row in table.rows:
        kind = row.text("typ") or "Övrigt"
        for y, key in zip(years, EFFECT_KEYS, strict=True):
            # a blank year is no effect that year; an unreadable one leaves the sum unknown
            per_typ[kind][y] = _add(per_typ[kind][y], _known(row, key) if table.has(key)
                                    else None)
        if c.match_choice(row.text("kvalitetssankning"), ("Ja",)):
            quality += 1
            assessed += 1 if c.match_choice(row.text("riskbedomd"), ("Ja",)) else 0
        shifting += 1 if c.match_choice(row.text("overvaltring"), ("Ja",)) else 0
    gap = planbok.info.gap
    coverage = {y: _div(effekt[y], gap) for y in years} if gap else None
    remaining = ({y: _less(gap, effekt[y]) for y in years} if gap is not None else None)
    return AtgardsplanSummary(years, effekt, dict(per_typ), gap, coverage, remaining, len(table.rows),
                    quality, assessed, shifting)


# --- Investeringar ---------------------------------------------------------------------------


def depreciation_schedule(amount: Decimal, life: Decimal, invested: int, years: list[int],
                          rate: Decimal, start: str) -> dict[int, tuple[Decimal, Decimal]]:
    """(avskrivning, internränta) per year, in the amount's unit.

    Straight line: amount / life a year for ``life`` years from the start year (the
    investment year, or the year after with ``nasta_ar``). Internal interest: ``rate`` × the
    book value at the beginning of each year from the start year on.
    """
    first = invested + (1 if start == "nasta_ar" else 0)
    yearly = amount / life
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for y in years:
        done = y - first  # full years depreciated before y
        if done < 0 or done >= life:
            out[y] = (ZERO, ZERO)
            continue
        book = amount - yearly * done
        out[y] = (_tkr(yearly), _tkr(rate * book))
    return out


def _tkr(d: Decimal) -> Decimal:
    return d.quantize(TKR_PLACES, rounding=ROUND_HALF_UP)


def investeringar_summary(planbok: Planbok, settings: Settings) -> InvesteringarSummary | None:
    table = planbok.table(c.INVESTERINGAR)
    info = planbok.info
    if table is None or not table.rows:
        return None
    total = figures.column(table, "belopp").known if table.has("belopp") else ZERO
    holders = {h: t.known for h, t in figures.investments_per_holder(planbok).items()}
    categories: dict[str, Decimal | None] = defaultdict(lambda: ZERO)
    kinds: dict[str, Decimal | None] = defaultdict(lambda: ZERO)
    own = figures.own_in_year(planbok)
    own_this_year = ZERO if own is None else own.known
    elsewhere: list[tuple[str, str, Decimal | None]] = []
    years = [info.budgetar + i for i in range(3)] if info.budgetar else []
    running: dict[int, dict[str, Decimal | None]] = {
        y: {"avskrivning": ZERO, "internranta": ZERO, "summa": ZERO} for y in years}
    for row in table.rows:
        amount = _known(row, "belopp") if table.has("belopp") else ZERO
        holder = budget_holder(row, info.namnd) or "?"
        category = c.match_choice(row.text("kategori"), c.KATEGORIER) or "Ej angiven"
        categories[category] = _add(categories[category], amount)
        kind = c.match_choice(row.text("typ"), c.INVESTERINGSTYPER) or "Ej angiven"
        kinds[kind] = _add(kinds[kind], amount)
        year = investment_year(row, info.budgetar)
        if holder == info.namnd:
            life = row["avskrivningstid"].amount if row["avskrivningstid"].valid else None
            if amount is None:  # an object whose amount is unknown: its costs are too
                for y in years:
                    running[y] = dict.fromkeys(running[y])
            elif years and year is not None and life and life > 0:
                schedule = depreciation_schedule(amount, life, year, years, settings.internranta,
                                                 settings.avskrivning_start)
                for y, (dep, interest) in schedule.items():
                    cost = running[y]
                    cost["avskrivning"] = _add(cost["avskrivning"], dep)
                    cost["internranta"] = _add(cost["internranta"], interest)
                    cost["summa"] = _add(cost["summa"], dep + interest)
        else:
            elsewhere.append((row.text("objekt"), holder, amount))
    ram = info.investeringsram
    return InvesteringarSummary(
        total, holders, dict(categories), dict(kinds), own_this_year, ram,
        None if ram is None or own_this_year is None else ram - own_this_year, elsewhere,
        running, settings.internranta, settings.avskrivning_start,
    )


# --- Prognos -------------------------------------------------------------------------------


def prognos_summary(planbok: Planbok) -> PrognosSummary | None:
    table = planbok.table(c.PROGNOS)
    if table is None or not table.rows:
        return None
    rows = []
    for r in table.rows:
        budget, outcome, forecast = (_known(r, k) if table.has(k) else None
                                     for k in ("budget", "utfall", "prognos"))
        deviation = None if forecast is None or budget is None else forecast - budget
        rows.append((r.text("omrade"), budget, outcome, forecast, deviation))
    t = figures.prognos(planbok)
    assert t is not None
    totals = (t.budget.known, t.utfall.known, t.prognos.known, t.avvikelse.known)
    return PrognosSummary(planbok.info.rapportmanad, rows, totals)


def check_previous(planbok: Planbok, previous: Planbok) -> None:
    """``--foregaende`` must be the same nämnd's planbok for the year before; anything else
    would compare unrelated figures. Raises XlplanError (exit 2) with a Swedish sentence."""
    namnd, year = planbok.info.namnd, planbok.info.budgetar
    prev_namnd, prev_year = previous.info.namnd, previous.info.budgetar
    if namnd is None or year is None:
        raise XlplanError("Planboken saknar Nämnd eller Budgetår i Info, så den kan inte "
                          "jämföras med föregående år.")
    if prev_namnd != namnd or prev_year != year - 1:
        raise XlplanError(
            f"--foregaende ska vara {namnd}:s planbok för {year - 1}, men {previous.source} är "
            f"{prev_namnd or 'utan nämnd'} {prev_year or 'utan budgetår'}.")


def summarize(planbok: Planbok, settings: Settings, *, errors: int = 0,
              previous: Planbok | None = None) -> Summary:
    """Every figure of the Sammanfattning. ``errors``: the plan's validation errors."""
    notes = []
    if errors:
        notes.append(f"Planboken har {errors} valideringsfel; siffrorna bygger på de celler "
                     "som gick att läsa.")
    return Summary(
        namnd=planbok.info.namnd,
        namndnamn=planbok.info.namndnamn,
        budgetar=planbok.info.budgetar,
        enhet=planbok.info.enhet,
        valideringsfel=errors,
        budgetram=budgetram_summary(planbok),
        nettoram=nettoram_summary(planbok),
        kostnadsutveckling=kostnadsutveckling_summary(planbok, settings, previous),
        atgardsplan=atgardsplan_summary(planbok),
        investeringar=investeringar_summary(planbok, settings),
        prognos=prognos_summary(planbok),
        anteckningar=notes,
    )


# --- JSON --------------------------------------------------------------------------------------


def _j(d: Decimal | None) -> str | None:
    return to_json(d)


def _jmap(m: Mapping[Any, Decimal | None] | None) -> dict[str, str | None] | None:
    return None if m is None else {str(k): _j(v) for k, v in m.items()}


def summary_json(s: Summary) -> dict[str, Any]:
    b, f, k, a, i, p = (s.budgetram, s.nettoram, s.kostnadsutveckling, s.atgardsplan,
                        s.investeringar, s.prognos)
    return {
        "namnd": s.namnd,
        "namndnamn": s.namndnamn,
        "budgetar": s.budgetar,
        "enhet": s.enhet,
        "valideringsfel": s.valideringsfel,
        "budgetram": None if b is None else {
            "netto": _jmap(b.netto),
            "per_omrade": [{"omrade": o, "budgettyp": t, "netto": _j(n)}
                           for o, t, n in b.per_omrade],
            "per_slag": _jmap(b.per_slag),
            "intakter": _j(b.intakter),
            "kostnader": _j(b.kostnader),
        },
        "nettoram": None if f is None else {
            "budgetram_foregaende_ar": _j(f.budgetram_foregaende_ar), "budgetram": _j(f.budgetram),
            "forandring": _j(f.forandring), "forandring_andel": _j(f.forandring_andel),
            "tillfort": _j(f.tillfort),
            "forklarad_av_ramforandringar": _j(f.forklarad_av_ramforandringar),
            "oforklarad": _j(f.oforklarad),
        },
        "kostnadsutveckling": None if k is None else {
            "nettokostnadsutveckling": _j(k.nettokostnadsutveckling),
            "bruttokostnadsutveckling": _j(k.bruttokostnadsutveckling),
            "mal_netto": _j(k.mal_netto), "mal_brutto": _j(k.mal_brutto),
            "netto_inom_mal": k.within(k.nettokostnadsutveckling, k.mal_netto),
            "brutto_inom_mal": k.within(k.bruttokostnadsutveckling, k.mal_brutto),
            "kalla": k.kalla,
        },
        "atgardsplan": None if a is None else {
            "effekt": _jmap(a.effekt),
            "gap": _j(a.gap),
            "tackningsgrad": _jmap(a.tackningsgrad),
            "kvarvarande_gap": _jmap(a.kvarvarande_gap),
            "per_typ": {t: _jmap(v) for t, v in a.per_typ.items()},
            "antal_atgarder": a.antal_atgarder,
            "kvalitetssankande": a.kvalitetssankande,
            "kvalitetssankande_riskbedomda": a.kvalitetssankande_riskbedomda,
            "overvaltring": a.overvaltring,
        },
        "investeringar": None if i is None else {
            "summa_tkr": _j(i.summa_tkr),
            "per_budgetansvar_tkr": _jmap(i.per_budgetansvar_tkr),
            "per_kategori_tkr": _jmap(i.per_kategori_tkr),
            "per_typ_tkr": _jmap(i.per_typ_tkr),
            "egen_budget_budgetar_tkr": _j(i.egen_budget_budgetar_tkr),
            "investeringsram_tkr": _j(i.investeringsram_tkr),
            "utrymme_tkr": _j(i.utrymme_tkr),
            "hos_annan_namnd": [{"objekt": o, "budgetansvar": h, "belopp_tkr": _j(v)}
                                for o, h, v in i.hos_annan_namnd],
            "driftkostnad_tkr": {str(y): _jmap(v) for y, v in i.driftkostnad_tkr.items()},
            "internranta": _j(i.internranta),
            "avskrivning_start": i.avskrivning_start,
        },
        "prognos": None if p is None else {
            "rapportmanad": p.rapportmanad,
            "per_omrade": [{"omrade": o, "budget": _j(bu), "utfall": _j(u), "prognos": _j(pr),
                            "avvikelse": _j(av)} for o, bu, u, pr, av in p.per_omrade],
            "totalt": {"budget": _j(p.totalt[0]), "utfall": _j(p.totalt[1]),
                       "prognos": _j(p.totalt[2]), "avvikelse": _j(p.totalt[3])},
        },
        "anteckningar": s.anteckningar,
    }
