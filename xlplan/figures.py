"""Every figure of a planbok, defined once: the rules, the summary (summary/compute.py), the
consolidation extract (extract.py) and the Excel handlers all read them from here.

A figure is a :class:`Total`: the exact sum of the cells that could be read, the
precision those cells were typed to (the rounding model, :mod:`xlplan.rounding`), and the
cells that could not be read. ``known`` is None as soon as one cell is missing: a check or
a consolidation never uses a figure it could not compute; the summary shows ``value`` (the
readable cells) and says that the plan has errors.

Column keys are the contract's (:mod:`xlplan.contract`); an unknown key raises
:class:`~xlplan.model.UnknownColumn` (a programming error, never a silent blank).
Åtgärdsplan effects are per year: nothing here adds the years together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar, cast

from xlplan import contract as c
from xlplan import formulas
from xlplan.model import Planbok, Row, TableData, Value, judged
from xlplan.rounding import Figure, Verdict, judge

ZERO = Decimal(0)
EFFECT_KEYS = ("effekt", "effekt_1", "effekt_2")
TRANSFER_KEYS = ("belopp", "belopp_1", "belopp_2")


@dataclass(frozen=True, slots=True)
class Total:
    figure: Figure
    missing: tuple[str, ...] = ()  # cells that could not be read (each already a finding)

    @property
    def value(self) -> Decimal:
        """The sum of the readable cells (for the summary, which says it has errors)."""
        return self.figure.value

    @property
    def known(self) -> Decimal | None:
        """The figure, or None when a cell it needs could not be read."""
        return None if self.missing else self.figure.value

    @property
    def complete(self) -> bool:
        return not self.missing


EMPTY = Total(Figure(ZERO))

T = TypeVar("T")


def _memo(store: dict[object, object], key: object, compute: Callable[[], T]) -> T:
    """``compute()``, once per planbok or table (``store`` is its memo): several rules and
    the extract ask for the same figure, and the model never changes once built."""
    if key in store:
        return cast(T, store[key])
    value = compute()
    store[key] = value
    return value


def total(values: Iterable[Value]) -> Total:
    """The sum of ``values``; unusable cells are listed as missing, blanks count 0."""
    usable: list[Figure] = []
    missing: list[str] = []
    for v in values:
        if v.valid:
            usable.append(v.derived if v.derived is not None else v.figure)
        else:
            missing.append(v.ref)
    return Total(Figure.sum(usable), tuple(missing))


def combine(totals: Iterable[Total]) -> Total:
    items = list(totals)
    return Total(Figure.sum(t.figure for t in items), tuple(m for t in items for m in t.missing))


def column(table: TableData, key: str) -> Total:
    """A column's sum over the data rows: every row's amount, but a cell that is itself a
    subtotal of rows of this column (a SUBTOTAL over them, which Excel's SUBTOTAL(109) leaves
    out too) is not counted twice. A SUBTOTAL that brings a sum from elsewhere (another
    sheet) is the row's amount and counts."""
    table.spec.column(key)  # an unknown key fails here, loudly
    return _memo(table.memo, ("column", key), lambda: _column(table, key))


def _column(table: TableData, key: str) -> Total:
    return total(r[key] for r in table.rows if not inner_subtotal(table, key, r[key]))


def inner_subtotal(table: TableData, key: str, value: Value) -> bool:
    """Is ``value`` a SUBTOTAL of rows of its own column in this table (not data)?"""
    formula = value.cell.formula
    if not formula or not value.excluded_from_subtotal:
        return False
    raw = table.raw
    body = (raw.first_row + raw.header_rows, raw.last_row - raw.totals_rows)
    return formulas.adds_own_column(formula, key, table.columns, table.headers, body,
                                    table.sheet)


def column_or_missing(table: TableData, key: str) -> Total:
    """A column's sum; a column the table lacks (an error at its header) is missing."""
    if table.has(key):
        return column(table, key)
    return Total(Figure(ZERO), (table.header_ref,))


# --- Budgetram --------------------------------------------------------------------------------


def budget_type(row: Row) -> str:
    """A blank (or unknown) Budgettyp counts as Tjänstemannabudget."""
    return c.match_choice(row.text("budgettyp"), c.BUDGETTYPER) or c.TJANSTEMANNABUDGET


def net_from_parts(row: Row) -> Figure | None:
    """What the row's Nettobudget should be: the sum of its seven amounts (None if a part
    is unusable)."""
    parts = [row[k] for k in c.NET_PARTS]
    if not all(p.valid for p in parts):
        return None
    return Figure.sum(p.figure for p in parts)


def net_is_wrong(table: TableData, row: Row) -> bool:
    """The row's Nettobudget differs from its parts, beyond rounding (a nettofel) or within
    it (an avrundningsdifferens): a figure built on it that is off only by as much follows
    from it."""
    return _memo(table.memo, ("net_is_wrong", row.row), lambda: _net_is_wrong(table, row))


def _net_is_wrong(table: TableData, row: Row) -> bool:
    net = row["nettobudget"]
    if not table.has("nettobudget") or not net.valid:
        return False
    expected = net_from_parts(row)
    return expected is not None and judge(
        *judged(table, row, "nettobudget", expected)) is not Verdict.EQUAL


def row_net(table: TableData, row: Row, corrected: bool = False) -> Total:
    """A row's net as the file holds it; ``corrected``: a wrong net replaced by the sum of
    its parts (to tell a total that is wrong by itself from one that follows a wrong row).

    A part that cannot be read (text, an error value) leaves the net unknown even when the
    net cell holds a number: Excel's own SUM counts such a cell as 0, so a saved result
    over it is exactly the figure that must never be used (the part is listed as missing)."""
    if corrected and net_is_wrong(table, row):
        expected = net_from_parts(row)
        assert expected is not None
        return Total(expected)
    net = total([row["nettobudget"]])
    unread = _unread_parts(table).get(row.row)
    return Total(net.figure, net.missing + unread) if unread else net


def _unread_parts(table: TableData) -> dict[int, tuple[str, ...]]:
    """The rows with a Nettobudget part that cannot be read: row number -> those cells
    (once per table; most tables have none)."""
    def find() -> dict[int, tuple[str, ...]]:
        keys = [k for k in c.NET_PARTS if table.has(k)]
        out: dict[int, tuple[str, ...]] = {}
        for row in table.rows:
            values = row.values
            if all(v.valid for k in keys if (v := values.get(k)) is not None):
                continue
            out[row.row] = tuple(row[k].ref for k in keys if not row[k].valid)
        return out

    return _memo(table.memo, "unread_parts", find)


def nets_per_type(planbok: Planbok, corrected: bool = False) -> dict[str, Total] | None:
    """Σ Nettobudget per budget type; None without the table or its Nettobudget column."""
    nets = _memo(planbok.memo, ("nets_per_type", corrected),
                 lambda: _nets_per_type(planbok, corrected))
    return None if nets is None else dict(nets)


def _nets_per_type(planbok: Planbok, corrected: bool) -> dict[str, Total] | None:
    table = planbok.table(c.BUDGETRAM)
    if table is None or not table.has("nettobudget"):
        return None
    groups: dict[str, list[Total]] = {kind: [] for kind in c.BUDGETTYPER}
    for row in table.rows:
        groups[budget_type(row)].append(row_net(table, row, corrected))
    return {kind: combine(items) for kind, items in groups.items()}


@dataclass(frozen=True, slots=True)
class Area:
    label: str  # Område as written (first row)
    ref: str  # its Område cell
    net: Total
    corrected: Total  # with every wrong Nettobudget replaced by its parts' sum
    wrong: tuple[str, ...] = ()  # the Nettobudget cells that are wrong (each a nettofel)


def nets_per_area(planbok: Planbok) -> dict[str, Area]:
    """Σ Nettobudget per Område (by its normalised name), in table order."""
    return dict(_memo(planbok.memo, "nets_per_area", lambda: _nets_per_area(planbok)))


def _nets_per_area(planbok: Planbok) -> dict[str, Area]:
    table = planbok.table(c.BUDGETRAM)
    if table is None or not table.has("nettobudget") or not table.has("omrade"):
        return {}
    groups: dict[str, list[Row]] = {}
    for row in table.rows:
        label = row.text("omrade")
        if label:
            groups.setdefault(c.norm(label), []).append(row)
    out: dict[str, Area] = {}
    for key, rows in groups.items():
        wrong = [r["nettobudget"].ref for r in rows if net_is_wrong(table, r)]
        net = combine(row_net(table, r) for r in rows)
        # with no wrong row, the corrected sum is the same sum, term by term
        corrected = combine(row_net(table, r, corrected=True) for r in rows) if wrong else net
        out[key] = Area(rows[0].text("omrade"), rows[0]["omrade"].ref, net, corrected,
                        tuple(wrong))
    return out


def per_kind(planbok: Planbok) -> dict[str, Total]:
    """Each Budgetram amount column's sum over the rows (by contract key)."""
    table = planbok.table(c.BUDGETRAM)
    if table is None:
        return {}
    return {k: column_or_missing(table, k) for k in c.NET_PARTS}


# --- Nettoram and Ramförändringar ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NettoramFigures:
    previous: Total  # Σ Budgetram Y-1
    current: Total  # Σ Budgetram Y

    @property
    def change(self) -> Figure:
        """The frame's arithmetic change, Y − (Y-1) (negative: the frame grew)."""
        return self.current.figure - self.previous.figure

    @property
    def received(self) -> Figure:
        """What the nämnd received, seen from the nämnd (money in positive): net frames are
        negative, so this is Budgetram Y-1 − Budgetram Y (−1 730,9 → −1 758,5: +27,6)."""
        return self.previous.figure - self.current.figure

    @property
    def complete(self) -> bool:
        return self.previous.complete and self.current.complete


def nettoram(planbok: Planbok) -> NettoramFigures | None:
    table = planbok.table(c.NETTORAM)
    if table is None or not (table.has("ram") and table.has("ram_fg")) or not table.rows:
        return None
    return NettoramFigures(column(table, "ram_fg"), column(table, "ram"))


def explained(planbok: Planbok) -> Total | None:
    """Σ Ramförändringar › Belopp Y: what the listed changes give the nämnd."""
    table = planbok.table(c.RAMFORANDRINGAR)
    if table is None or not table.has("belopp") or not table.rows:
        return None
    return column(table, "belopp")


def is_transfer(row: Row) -> bool:
    return c.match_choice(row.text("typ"), ("Omdisponering",)) is not None


def diarienummer(row: Row) -> str:
    return row.text("diarienummer").upper()


@dataclass(frozen=True, slots=True)
class TransferRow:
    """An Omdisponering row of Ramförändringar."""

    diarienummer: str
    fran: str
    till: str
    amount: Value  # Belopp Y
    row: Row


def transfers(planbok: Planbok) -> list[TransferRow]:
    """The Omdisponering rows with a diarienummer."""
    table = planbok.table(c.RAMFORANDRINGAR)
    if table is None:
        return []
    return [TransferRow(diarienummer(r), r.text("fran").upper(), r.text("till").upper(),
                     r["belopp"], r)
            for r in table.rows if is_transfer(r) and diarienummer(r)]


def internal_transfers(planbok: Planbok) -> dict[str, list[Row]]:
    """Transfers inside the nämnd (Från = Till = this nämnd), by diarienummer."""
    namnd = planbok.info.namnd
    out: dict[str, list[Row]] = {}
    for t in transfers(planbok):
        if namnd is not None and t.fran == t.till == namnd:
            out.setdefault(t.diarienummer, []).append(t.row)
    return out


# --- Åtgärdsplan ---------------------------------------------------------------------------------


def effect_years(planbok: Planbok) -> list[int]:
    year = planbok.info.budgetar
    return [] if year is None else [year, year + 1, year + 2]


def effects_per_year(planbok: Planbok) -> dict[int, Total] | None:
    """Σ Effekt per year, each measured against the base year (never added across years);
    a blank year is no effect that year."""
    table = planbok.table(c.ATGARDSPLAN)
    years = effect_years(planbok)
    if table is None or not table.rows or not years:
        return None
    return {y: column_or_missing(table, key) for y, key in zip(years, EFFECT_KEYS, strict=True)}


# --- Investeringar -------------------------------------------------------------------------------


def budget_holder(row: Row, namnd: str | None) -> str:
    """The nämnd that holds the budget; blank means this nämnd."""
    return row.text("budgetansvar").upper() or (namnd or "")


def year_usable(row: Row) -> bool:
    """False when År holds something that is not a year (already an error at its cell)."""
    v = row["ar"]
    if v.blank:
        return True
    n = v.amount
    return v.valid and n is not None and n == n.to_integral_value() and 1900 <= n <= 2200


def investment_year(row: Row, budgetar: int | None) -> int | None:
    """The investment's year: blank = the budget year; None when År is not a year."""
    v = row["ar"]
    if v.blank:
        return budgetar
    if not year_usable(row):
        return None
    return budgetar if v.amount is None else int(v.amount)


def placements(planbok: Planbok) -> tuple[tuple[Row, str, int | None], ...]:
    """Each Investeringar row with its budget holder and its year (None: År is not a year)."""
    return _memo(planbok.memo, "placements", lambda: _placements(planbok))


def _placements(planbok: Planbok) -> tuple[tuple[Row, str, int | None], ...]:
    table = planbok.table(c.INVESTERINGAR)
    if table is None:
        return ()
    info = planbok.info
    return tuple((row, budget_holder(row, info.namnd), investment_year(row, info.budgetar))
                 for row in table.rows)


def investments_per_holder(planbok: Planbok) -> dict[str, Total]:
    """Σ Belopp (tkr) per Budgetansvar, all years."""
    return dict(_memo(planbok.memo, "investments_per_holder",
                      lambda: _investments_per_holder(planbok)))


def _investments_per_holder(planbok: Planbok) -> dict[str, Total]:
    table = planbok.table(c.INVESTERINGAR)
    if table is None or not table.has("belopp"):
        return {}
    groups: dict[str, list[Value]] = {}
    for row, holder, _ in placements(planbok):
        groups.setdefault(holder or "?", []).append(row["belopp"])
    return {holder: total(values) for holder, values in groups.items()}


def held_in_year(planbok: Planbok, year: int | None = None) -> dict[str, Total]:
    """Σ Belopp (tkr) per Budgetansvar for investments in ``year`` (default: the budget
    year). An object whose År is not a year cannot be placed in a year: its holder's figure
    is incomplete (the År cell is named as missing)."""
    wanted = planbok.info.budgetar if year is None else year
    return dict(_memo(planbok.memo, ("held_in_year", wanted),
                      lambda: _held_in_year(planbok, wanted)))


def _held_in_year(planbok: Planbok, wanted: int | None) -> dict[str, Total]:
    table = planbok.table(c.INVESTERINGAR)
    if table is None or not table.has("belopp") or wanted is None:
        return {}
    amounts: dict[str, list[Value]] = {}
    unplaced: dict[str, list[str]] = {}
    for row, held_by, ar in placements(planbok):
        holder = held_by or "?"
        if ar is None:
            unplaced.setdefault(holder, []).append(row["ar"].ref)
            amounts.setdefault(holder, [])
        elif ar == wanted:
            amounts.setdefault(holder, []).append(row["belopp"])
    out = {}
    for holder, values in amounts.items():
        t = total(values)
        out[holder] = Total(t.figure, t.missing + tuple(unplaced.get(holder, ())))
    return out


def own_in_year(planbok: Planbok, year: int | None = None) -> Total | None:
    """What this nämnd holds the budget for in ``year`` (default the budget year)."""
    namnd = planbok.info.namnd
    table = planbok.table(c.INVESTERINGAR)
    if namnd is None or table is None or not table.has("belopp"):
        return None
    return held_in_year(planbok, year).get(namnd, EMPTY)


# --- Prognos and Finansiering ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrognosFigures:
    budget: Total
    utfall: Total
    prognos: Total

    @property
    def avvikelse(self) -> Total:
        """Helårsprognos − Budget (costs negative: positive is better than budget)."""
        return Total(self.prognos.figure - self.budget.figure,
                     self.prognos.missing + self.budget.missing)


def prognos(planbok: Planbok) -> PrognosFigures | None:
    table = planbok.table(c.PROGNOS)
    if table is None or not table.rows:
        return None
    return PrognosFigures(*(column_or_missing(table, k) for k in ("budget", "utfall", "prognos")))


def financing(planbok: Planbok) -> Total | None:
    table = planbok.table(c.FINANSIERING)
    if table is None or not table.rows:
        return None
    return column_or_missing(table, "belopp")
