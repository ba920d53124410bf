"""The typed planbok: contract tables with each value tied to its cell.

:func:`build_planbok` turns raw tables (from a file or an xlwings Book) into a
:class:`Planbok` and the findings that typing produces (missing columns, text
in amount cells, ...). It never raises for bad data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from xlplan import contract as c
from xlplan import formulas
from xlplan.findings import Finding, finding, or_list
from xlplan.io.raw import CellKind, RawCell, RawTable, RawWorkbook, col_letters
from xlplan.numbers import format_sv, from_excel, parse_sv
from xlplan.rounding import ZERO, Figure, noise_equal
from xlplan.text import short

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "tabell-saknas",
    "kolumn-saknas",
    "dubbel-kolumn",
    "fel-ar-i-rubrik",
    "extra-kolumn",
    "info-saknas",
    "ogiltigt-info-varde",
    "info-varning",
    "okand-mallversion",
    "dolt-blad",
    "tom-tabell",
    "totalrad-saknas",
    "summarad-som-datarad",
    "tal-som-text",
    "ej-tal",
    "felvarde",
    "formel-utan-varde",
    "sammanslagna-celler",
    "delsumma-i-tabell",
    "dolda-rader",
    "formel-beraknad",
)

_HEADER_YEAR = re.compile(r"^(.*\S)\s+([0-9]{4})$")
_TOTAL_LABEL = re.compile(r"^(summa|totalt?)\b", re.IGNORECASE)
NO_FIGURE = Figure.typed(ZERO)  # a blank's figure: 0, no precision


class Value(NamedTuple):
    """One cell of a contract column, typed by the column's kind (a named tuple: one per
    cell of every table, so made cheaply)."""

    cell: RawCell
    amount: Decimal | None = None  # AMOUNT/NUMBER columns: the number, None if blank or unusable
    valid: bool = True  # False: the cell holds something that is not a number (already a finding)
    derived: Figure | None = None  # the amount with its precision (an evaluated template
    # formula: its parts' precision); None for blank and unusable cells

    @property
    def ref(self) -> str:
        return self.cell.ref

    @property
    def text(self) -> str:
        """Text content, trimmed; numbers as written."""
        cell = self.cell
        if cell.kind is CellKind.TEXT:
            return (cell.value or "").strip()
        if cell.kind is CellKind.NUMBER and cell.value is not None:
            return format(from_excel(cell.value), "f")
        return ""

    @property
    def blank(self) -> bool:
        """Nothing in the cell: no value, and no template formula evaluated in its place (an
        evaluated formula is checked as a cached result would be)."""
        kind = self.cell.kind
        return (kind is CellKind.BLANK and self.derived is None) or (
            kind is CellKind.TEXT and not (self.cell.value or "").strip()
        )

    @property
    def number(self) -> Decimal:
        """The amount, blank as 0 (callers check ``valid`` first)."""
        return self.amount if self.amount is not None else ZERO

    @property
    def figure(self) -> Figure:
        """The amount with its precision (an evaluated formula has its parts' precision)."""
        if self.derived is not None:
            return self.derived
        return NO_FIGURE if self.amount is None else Figure.typed(self.amount)

    @property
    def excluded_from_subtotal(self) -> bool:
        """Excel's SUBTOTAL skips cells that are themselves SUBTOTAL results."""
        formula = self.cell.formula
        return bool(formula) and "SUBTOTAL" in (formula or "").upper()


_BLANK = Value(RawCell(0, 0))


class UnknownColumn(KeyError):
    """A programming error: a column key that the contract does not have for this table."""


@dataclass(frozen=True, slots=True)
class Row:
    row: int  # Excel row number
    values: dict[str, Value]
    hidden: bool = False
    spec: c.Table | None = None  # the table the row belongs to: its keys are the only keys

    def __getitem__(self, key: str) -> Value:
        try:
            return self.values[key]
        except KeyError:  # a column the table lacks: blank (the row has every other)
            pass
        if self.spec is not None and not self.spec.has_key(key):
            raise UnknownColumn(f"{self.spec.name} has no column key {key!r}")
        return _BLANK

    def text(self, key: str) -> str:
        value = self.values.get(key)
        return (value if value is not None else self[key]).text


@dataclass(frozen=True, slots=True)
class TableData:
    spec: c.Table
    sheet: str
    header_ref: str
    columns: dict[str, int]  # contract key -> Excel column number
    headers: dict[str, str]  # contract key -> header text as written
    rows: tuple[Row, ...]  # data rows that hold anything
    totals: Row | None
    subtotals: tuple[Row, ...]  # rows labelled Summa…/Totalt inside the body: not data
    extras: dict[str, tuple[int, tuple[RawCell, ...]]]  # extra column header -> (col, body cells)
    hidden_rows: tuple[int, ...]
    raw: RawTable
    # figures computed from the (never changed) table, kept for the next rule that asks
    memo: dict[object, object] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)

    def has(self, key: str) -> bool:
        """Is the contract column ``key`` in this table? An unknown key is a programming
        error (UnknownColumn), never a silent False."""
        if key not in self.columns and not self.spec.has_key(key):
            raise UnknownColumn(f"{self.spec.name} has no column key {key!r}")
        return key in self.columns

    def header(self, key: str) -> str:
        return self.headers.get(key, self.spec.column(key).header)


def exact_result(table: TableData, row: Row, key: str) -> bool:
    """Does ``row``'s ``key`` hold the result of a formula that only adds up typed cells, cached
    in the file or evaluated here: a Nettobudget adding the row's own amounts, an Avvikelse
    that is the template's ``Helårsprognos − Budget``, a totals cell adding its own column's
    rows (the template's ``SUBTOTAL(109,…)``, or a SUM or range that leaves rows out)?

    Such a result is exact arithmetic: it differs from what the check adds up only when it
    adds up other cells (a hidden row, a subtotal row, a row left out of its range) or was not
    recalculated after a part changed, never by rounding. So it is judged without the
    rounding slack (:func:`exactly`): a ``SUBTOTAL`` showing 10 over rows of 10,0 and a hidden
    5,0 is not "typed to tens"."""
    v = row[key]
    cell = v.cell
    formula = cell.formula
    if not formula or v.amount is None:
        return False
    if cell.kind is CellKind.BLANK:
        return v.derived is not None  # evaluated here: only the template's formula is
    if cell.kind is not CellKind.NUMBER:
        return False
    if row is table.totals:
        raw = table.raw
        if raw.totals is None:  # a last row labelled Summa read as the totals row
            return False
        body = (raw.first_row + raw.header_rows, raw.last_row - raw.totals_rows)
        return (formulas.is_totals_formula(formula, key, table.columns, table.headers, body)
                or formulas.adds_own_column(formula, key, table.columns, table.headers, body,
                                            table.sheet))
    if key == "nettobudget":
        return formulas.adds_own_parts(formula, row.row, table.columns, table.headers,
                                       table.sheet)
    return formulas.is_row_formula(table.spec.name, key, formula, row.row, table.columns,
                                   table.headers)


def exactly(figure: Figure) -> Figure:
    """``figure`` without its precision: judged against another figure without one, two
    figures are equal (up to Excel's double noise) or different, never within rounding."""
    return Figure(figure.value, None, figure.magnitude)


def judged(table: TableData, row: Row, key: str, expected: Figure) -> tuple[Figure, Figure]:
    """The pair to judge data row ``row``'s Nettobudget or Avvikelse by against ``expected``,
    the parts its template formula adds up: exactly for an exact result
    (:func:`exact_result`), else by the rounding model. (The totals row's cells add up
    their own column, not these parts: always by the rounding model here.)"""
    shown = row[key].figure
    # equal is equal whatever the precisions (the common case: no formula text to read)
    if (not noise_equal(shown.value, expected.value, max(shown.magnitude, expected.magnitude))
            and row is not table.totals and exact_result(table, row, key)):
        return exactly(shown), exactly(expected)
    return shown, expected


@dataclass(frozen=True, slots=True)
class InfoField:
    value: Value
    sheet: str


@dataclass(frozen=True, slots=True)
class Info:
    namnd: str | None = None
    namndnamn: str = ""
    budgetar: int | None = None
    diarienummer: str = ""
    enhet: str = "mkr"
    investeringsram: Decimal | None = None
    gap: Decimal | None = None
    rapportmanad: str | None = None
    kontaktperson: str = ""
    epost: str = ""
    status: str = ""
    mallversion: str = ""
    fields: dict[str, InfoField] = field(default_factory=dict)
    repeated: frozenset[str] = frozenset()  # normalised field names written on more than one row

    def where(self, name: str) -> tuple[str | None, str | None]:
        f = self.fields.get(c.norm(name))
        return (f.sheet, f.value.ref) if f else (None, None)


@dataclass(frozen=True, slots=True)
class Planbok:
    source: str
    info: Info
    tables: dict[str, TableData]  # by contract table name
    sheet_order: tuple[str, ...] = ()
    formulas_known: bool = True  # False: values only (an xlwings Book): no formula checks
    # figures computed from the (never changed) planbok, kept for the next rule that asks
    memo: dict[object, object] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)

    def table(self, spec: c.Table) -> TableData | None:
        return self.tables.get(spec.name)

    def unit(self, spec: c.Table) -> str:
        return "tkr" if spec.amounts_in_tkr else self.info.enhet

    def fmt(self, spec: c.Table, amount: Decimal) -> str:
        return format_sv(amount, min_decimals=0 if self.unit(spec) == "tkr" else 1)


def build_planbok(raw: RawWorkbook) -> tuple[Planbok, list[Finding]]:
    findings: list[Finding] = []
    by_spec: dict[str, RawTable] = {}
    for name, table in raw.tables.items():
        spec = c.table_by_name(name)
        if spec is not None and spec.name not in by_spec:
            by_spec[spec.name] = table

    info_raw = by_spec.get(c.INFO.name)
    if info_raw is None:
        findings.append(finding("tabell-saknas", None, None, table=c.INFO.name))
        info = Info()
    else:
        info = _read_info(info_raw, findings)

    tables: dict[str, TableData] = {}
    for spec in c.TABLES:
        if spec is c.INFO:
            continue
        found = by_spec.get(spec.name)
        if found is None:
            if spec.required:
                findings.append(finding("tabell-saknas", None, None, table=spec.name))
            continue
        tables[spec.name] = _read_table(spec, found, info, findings)
    return Planbok(raw.name, info, tables, raw.sheet_names, raw.formulas_known), findings


# -- tables ---------------------------------------------------------------------------


def _header_texts(raw: RawTable) -> list[tuple[int, str, str]]:
    """(column number, header text, header cell ref) for every table column."""
    out = []
    for i, col in enumerate(range(raw.first_col, raw.last_col + 1)):
        text = ""
        if raw.headers:
            cell = raw.headers[i]
            text = (cell.value or "") if cell.kind in (CellKind.TEXT, CellKind.NUMBER) else ""
        if not text.strip() and i < len(raw.column_names):
            text = raw.column_names[i]
        out.append((col, text.strip(), f"{col_letters(col)}{raw.first_row}"))
    return out


def _map_columns(
    spec: c.Table, raw: RawTable, year: int | None, findings: list[Finding]
) -> tuple[dict[str, int], dict[str, str], dict[str, int]]:
    fixed = {c.norm(col.header): col for col in spec.columns if col.year_offset is None}
    by_prefix: dict[str, list[c.Column]] = {}
    for col in spec.columns:
        if col.year_offset is not None:
            by_prefix.setdefault(c.norm(col.prefix), []).append(col)
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    extras: dict[str, int] = {}
    for col_no, text, ref in _header_texts(raw):
        n = c.norm(text)
        target: c.Column | None = fixed.get(n)
        if target is None:
            m = _HEADER_YEAR.match(n)
            candidates = by_prefix.get(m.group(1)) if m else None
            if m and candidates:
                if year is None:
                    continue  # reported once as a missing Budgetår
                found_year = int(m.group(2))
                target = next(
                    (col for col in candidates if year + (col.year_offset or 0) == found_year), None
                )
                if target is None:
                    findings.append(finding(
                        "fel-ar-i-rubrik", raw.sheet, ref, header=text, year=year,
                        expected_headers=or_list([col.header_for(year) for col in candidates]),
                    ))
                    continue
        if target is None:
            if text:
                extras[text] = col_no
                findings.append(finding("extra-kolumn", raw.sheet, ref, header=text))
            continue
        if target.key in columns:
            findings.append(finding("dubbel-kolumn", raw.sheet, ref, header=text, table=spec.name))
            continue
        columns[target.key] = col_no
        headers[target.key] = text
    for col in spec.columns:
        if col.key not in columns and not (col.year_offset is not None and year is None):
            findings.append(finding(
                "kolumn-saknas", raw.sheet, raw.header_ref, table=spec.name,
                header=col.header_for(year),
            ))
    return columns, headers, extras


def _read_table(
    spec: c.Table, raw: RawTable, info: Info, findings: list[Finding]
) -> TableData:
    columns, headers, extra_cols = _map_columns(spec, raw, info.budgetar, findings)
    if raw.sheet_hidden:
        findings.append(finding("dolt-blad", raw.sheet, raw.header_ref, table=spec.name,
                                sheet_name=raw.sheet))
    body = list(raw.body)
    totals_cells = raw.totals
    if spec.totals and totals_cells is None and body:
        label = _row_label(body[-1])
        if _TOTAL_LABEL.match(label):
            totals_cells = body.pop()
            findings.append(finding("summarad-som-datarad", raw.sheet, totals_cells[0].ref,
                                    table=spec.name, label=label))
    if spec.totals and totals_cells is None:
        findings.append(finding("totalrad-saknas", raw.sheet, raw.header_ref, table=spec.name))

    offset = raw.first_col
    sheet = raw.sheet
    # per column, once: (key, index in the row, header, typed as a number, template formula)
    plan = [(key, col - offset, headers[key], spec.column(key).kind in _NUMERIC,
             spec.column(key).formula) for key, col in columns.items()]
    rows: list[Row] = []
    subtotals: list[Row] = []
    pending: list[tuple[Row, str]] = []  # template formulas without a cached value
    for cells in body:
        if not cells or (_is_empty(cells[0]) and all(_is_empty(cell) for cell in cells[1:])):
            continue  # nothing in the row (a label in its first cell: the common case)
        values: dict[str, Value] = {}
        unevaluated: list[str] = []
        noisy: list[str] = []
        for key, index, header, numeric, formula in plan:
            cell = cells[index]
            if formula and cell.kind is CellKind.BLANK and cell.formula is not None:
                values[key] = Value(cell, None, False)
                unevaluated.append(key)
            elif numeric and cell.kind is CellKind.NUMBER:  # read_number's common case
                number, figure = _number(cell.value or "0")
                values[key] = _new_value(Value, (cell, number, True, figure))
                if formula and cell.formula is not None and len(cell.value or "") >= _NOISY:
                    noisy.append(key)
            elif numeric:
                values[key] = read_number(cell, header, sheet, findings)
            else:
                values[key] = _new_value(Value, (cell, None, True, None))  # Value(cell)
        row_no = cells[0].row
        row = Row(row_no, values, row_no in raw.hidden_rows, spec)
        if unevaluated:
            pending += [(row, key) for key in unevaluated]
        for key in noisy:
            _settle_noise(row, key)
        is_subtotal = spec.totals and bool(_TOTAL_LABEL.match(_row_label(cells)))
        (subtotals if is_subtotal else rows).append(row)
    if subtotals:
        findings.append(finding(
            "delsumma-i-tabell", raw.sheet, f"{col_letters(raw.first_col)}{subtotals[0].row}",
            table=spec.name, rows=", ".join(str(r.row) for r in subtotals)))
    evaluated = _evaluate_rows(spec, pending, columns, headers, raw.sheet, findings)
    totals: Row | None = None
    if spec.totals and totals_cells is not None:
        values = {}
        for key, index, header, _, _ in plan:
            if spec.column(key).kind is not c.Kind.AMOUNT:
                continue
            cell = totals_cells[index]
            if _unevaluated(cell):
                values[key] = Value(cell, None, False)
            else:
                values[key] = read_number(cell, header, sheet, findings)
        totals = Row(totals_cells[0].row, values, False, spec)
        body_rows = (body[0][0].row, body[-1][0].row) if body else (0, 0)
        evaluated += _evaluate_totals(spec, totals, [*rows, *subtotals], columns, headers,
                                      body_rows, raw.sheet, findings)
    if evaluated:
        findings.append(finding("formel-beraknad", raw.sheet, evaluated[0], table=spec.name,
                                count=len(evaluated), cells=_cell_list(evaluated)))
    if not rows and spec.totals:
        findings.append(finding("tom-tabell", raw.sheet, raw.header_ref, table=spec.name))

    hidden = tuple(sorted(r.row for r in rows if r.hidden))
    if hidden:
        findings.append(finding("dolda-rader", raw.sheet, raw.header_ref, table=spec.name,
                                rows=", ".join(str(r) for r in hidden)))
    amount_cols = {columns[k] for k in spec.amount_keys if k in columns}
    for r1, c1, r2, c2 in raw.merged:
        if (c2 > c1 or r2 > r1) and any(c1 <= col <= c2 for col in amount_cols):
            findings.append(finding(
                "sammanslagna-celler", raw.sheet, f"{col_letters(c1)}{r1}", table=spec.name,
                range=f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}",
            ))
    extras = {h: (col, tuple(cells[col - offset] for cells in body)) for h, col in extra_cols.items()}
    return TableData(spec, raw.sheet, raw.header_ref, columns, headers, tuple(rows), totals,
                     tuple(subtotals), extras, hidden, raw)


_NOISY = 16  # characters: a formula result this long may carry a double's rounding noise


def _settle_noise(row: Row, key: str) -> None:
    """A formula's cached result that is its parts' exact sum but for a double's noise
    (Excel saves ``0.100000000558794`` for 5 972 613,7 − 5 972 613,6): the exact sum, so no
    figure, message or stored value carries the noise. Anything else is kept as written."""
    parts = ([row.values.get(k) for k in c.NET_PARTS] if key == "nettobudget"
             else [row.values.get("prognos"), row.values.get("budget")])
    if any(p is None or not p.valid for p in parts):
        return
    figures = [p.figure for p in parts if p is not None]
    expected = (Figure.sum(figures) if key == "nettobudget" else figures[0] - figures[1])
    value = row.values[key]
    if value.amount is not None and value.amount != expected.value and noise_equal(
            value.amount, expected.value, expected.magnitude):
        row.values[key] = Value(value.cell, expected.value, True, expected)


def _unevaluated(cell: RawCell) -> bool:
    return cell.kind is CellKind.BLANK and cell.has_formula


def _cell_list(refs: list[str]) -> str:
    return ", ".join(refs[:5]) + (" …" if len(refs) > 5 else "")


def _evaluate_rows(spec: c.Table, pending: list[tuple[Row, str]], columns: dict[str, int],
                   headers: dict[str, str], sheet: str, findings: list[Finding]) -> list[str]:
    """Nettobudget and Avvikelse without a cached value, computed from their parts when the
    formula is the template's; returns the cells evaluated. Another formula stays an error;
    the template's formula over an unusable part stays missing (the part has its finding).

    A part that is a number written as text counts as Excel counts it: not at all in a SUM
    (Excel's and LibreOffice's SUM skip text), and in ``+`` or ``−`` it makes the result
    one xlplan cannot know (LibreOffice gives #VALUE!, Excel depends on its language), so that
    formula is left without a value, as any other."""
    done: list[str] = []
    for row, key in pending:
        value = row.values[key]
        formula = value.cell.formula or ""
        if not formulas.is_row_formula(spec.name, key, formula, row.row, columns, headers):
            findings.append(finding("formel-utan-varde", sheet, value.ref, column=headers[key]))
            continue
        parts = ([row[k] for k in c.NET_PARTS] if key == "nettobudget"
                 else [row["prognos"], row["budget"]])
        if not all(p.valid for p in parts):
            continue
        if any(p.cell.kind is CellKind.TEXT for p in parts):
            if not formulas.is_sum_call(formula):
                findings.append(finding("formel-utan-varde", sheet, value.ref,
                                        column=headers[key]))
                continue
            parts = [p for p in parts if p.cell.kind is not CellKind.TEXT]
        figure = (Figure.sum(p.figure for p in parts) if key == "nettobudget"
                  else parts[0].figure - parts[1].figure)
        row.values[key] = Value(value.cell, figure.value, True, figure)
        done.append(value.ref)
    return done


def _evaluate_totals(spec: c.Table, totals: Row, rows: list[Row], columns: dict[str, int],
                     headers: dict[str, str], body: tuple[int, int], sheet: str,
                     findings: list[Finding]) -> list[str]:
    """Totals cells ``SUBTOTAL(109,[Column])`` without a cached value: the sum of the
    visible rows, as Excel computes it (hidden rows and SUBTOTAL cells left out)."""
    done: list[str] = []
    for key, value in list(totals.values.items()):
        if not _unevaluated(value.cell):
            continue
        formula = value.cell.formula or ""
        if not formulas.is_totals_formula(formula, key, columns, headers, body):
            findings.append(finding("formel-utan-varde", sheet, value.ref, column=headers[key]))
            continue
        terms = [r[key] for r in sorted(rows, key=lambda r: r.row)
                 if not r.hidden and not r[key].excluded_from_subtotal]
        if not all(t.valid for t in terms):
            continue
        # a number written as text is skipped, as SUBTOTAL skips it in Excel and LibreOffice
        figure = Figure.sum(t.figure for t in terms if t.cell.kind is not CellKind.TEXT)
        totals.values[key] = Value(value.cell, figure.value, True, figure)
        done.append(value.ref)
    return done


def _row_label(cells: tuple[RawCell, ...]) -> str:
    for cell in cells:
        if cell.kind is CellKind.TEXT and (cell.value or "").strip():
            return (cell.value or "").strip()
    return ""


def _is_empty(cell: RawCell) -> bool:
    if cell.kind is CellKind.BLANK:
        return True
    if cell.kind is CellKind.TEXT:
        return not (cell.value or "").strip()
    # a template formula showing 0 is not user data
    return cell.has_formula and cell.kind is CellKind.NUMBER and from_excel(cell.value or "0") == 0


_NUMERIC = (c.Kind.AMOUNT, c.Kind.NUMBER)
_new_value = tuple.__new__  # Value(...) without its argument handling: for the per-cell loop


@lru_cache(maxsize=8192)  # ~0.6 kB an entry; 85 % hits on the benchmark inbox
def _number(literal: str) -> tuple[Decimal, Figure]:
    """A number cell's literal as an exact amount and its figure (the same literal recurs:
    typed once)."""
    number = from_excel(literal)
    return number, Figure.typed(number)


def read_number(cell: RawCell, column: str, sheet: str, findings: list[Finding]) -> Value:
    """Type one cell as a number, recording what is wrong with it."""
    kind = cell.kind
    if kind is CellKind.NUMBER:
        number, figure = _number(cell.value or "0")
        return Value(cell, number, True, figure)
    if kind is CellKind.BLANK:
        if cell.has_formula:
            findings.append(finding("formel-utan-varde", sheet, cell.ref, column=column))
            return Value(cell, None, valid=False)
        return Value(cell)
    if kind is CellKind.TEXT:
        text = (cell.value or "").strip()
        if not text:
            return Value(cell)
        parsed = parse_sv(text)
        if parsed is not None:
            findings.append(finding("tal-som-text", sheet, cell.ref, column=column, text=text,
                                    value=format_sv(parsed)))
            return Value(cell, parsed)
        if text.startswith("#"):
            findings.append(finding("felvarde", sheet, cell.ref, column=column, text=text))
        else:
            findings.append(finding("ej-tal", sheet, cell.ref, column=column,
                                    what=f"texten \"{short(text)}\""))
        return Value(cell, None, valid=False)
    if kind is CellKind.ERROR:
        findings.append(finding("felvarde", sheet, cell.ref, column=column, text=cell.value or "#?"))
        return Value(cell, None, valid=False)
    what = "ett sanningsvärde (SANT/FALSKT)" if kind is CellKind.BOOL else "ett datum"
    findings.append(finding("ej-tal", sheet, cell.ref, column=column, what=what))
    return Value(cell, None, valid=False)


# -- Info -----------------------------------------------------------------------------------


def _read_info(raw: RawTable, findings: list[Finding]) -> Info:
    texts = _header_texts(raw)
    col_falt = next((col for col, t, _ in texts if c.norm(t) == c.norm("Fält")), raw.first_col)
    col_varde = next((col for col, t, _ in texts if c.norm(t) == c.norm("Värde")),
                     raw.first_col + 1)
    for col, name in ((col_falt, "Fält"), (col_varde, "Värde")):
        if not any(cc == col and c.norm(t) == c.norm(name) for cc, t, _ in texts):
            findings.append(finding("kolumn-saknas", raw.sheet, raw.header_ref, table="Info",
                                    header=name))
    fields: dict[str, InfoField] = {}
    repeated: set[str] = set()
    offset = raw.first_col
    for cells in raw.body:
        if col_varde - offset >= len(cells):
            break
        name = _row_label((cells[col_falt - offset],))
        if name:
            key = c.norm(name)
            if key in fields:
                repeated.add(key)
            fields.setdefault(key, InfoField(Value(cells[col_varde - offset]), raw.sheet))
    return replace(_interpret_info(fields, findings), repeated=frozenset(repeated))


def namnd_code(text: str) -> str | None:
    """A nämnd code as the validator reads it (NFKC, trimmed, upper case), or None."""
    candidate = unicodedata.normalize("NFKC", text).strip().upper()
    return candidate if c.NAMND_CODE.match(candidate) else None


def _interpret_info(fields: dict[str, InfoField], findings: list[Finding]) -> Info:
    def get(name: str) -> InfoField | None:
        return fields.get(c.norm(name))

    def text(name: str) -> str:
        f = get(name)
        return f.value.text if f else ""

    def bad(code: str, name: str, hint: str, value: str | None = None) -> None:
        f = get(name)
        sheet, ref = (f.sheet, f.value.ref) if f else (None, None)
        if code == "info-saknas":
            findings.append(finding(code, sheet, ref, field=name, hint=hint))
        else:
            findings.append(finding(code, sheet, ref, field=name, hint=hint,
                                    value=short(value if value is not None else text(name))))

    namnd: str | None = None
    raw_namnd = text("Nämnd")
    if not raw_namnd:
        bad("info-saknas", "Nämnd", "Skriv nämndens kod, t.ex. HSN.")
    else:
        namnd = namnd_code(raw_namnd)
        if namnd is None:
            bad("ogiltigt-info-varde", "Nämnd", "Ange nämndens kod med versaler, t.ex. HSN eller RS.")

    budgetar: int | None = None
    ar_field = get("Budgetår")
    if ar_field is None or ar_field.value.blank:
        bad("info-saknas", "Budgetår", "Skriv budgetåret med fyra siffror, t.ex. 2025.")
    else:
        budgetar = _year(ar_field.value)
        if budgetar is None:
            bad("ogiltigt-info-varde", "Budgetår", "Skriv budgetåret med fyra siffror, t.ex. 2025.")

    enhet = "mkr"
    if text("Belopp i"):
        matched = c.match_choice(text("Belopp i"), c.ENHETER)
        if matched is None:
            bad("ogiltigt-info-varde", "Belopp i", "Skriv mkr eller tkr. Beloppen läses som mkr.")
        else:
            enhet = matched

    def amount(name: str) -> Decimal | None:
        f = get(name)
        if f is None or f.value.blank:
            return None
        local: list[Finding] = []
        v = read_number(f.value.cell, name, f.sheet, local)
        if not v.valid:
            bad("ogiltigt-info-varde", name, "Skriv ett tal.")
            return None
        findings.extend(local)
        return v.amount

    ram = amount("Investeringsram")
    if ram is not None and ram < 0:
        bad("ogiltigt-info-varde", "Investeringsram", "Investeringsramen skrivs som ett positivt tal.")
        ram = None
    gap = amount("Ekonomiskt gap")
    if gap is not None and gap < 0:
        bad("info-varning", "Ekonomiskt gap",
            "Gapet skrivs som ett positivt tal; det läses som " + format_sv(-gap) + ".")
        gap = -gap

    rm = get("Rapportmånad")
    manad = _month(rm)
    if rm is not None and not rm.value.blank and manad is None:
        bad("ogiltigt-info-varde", "Rapportmånad", "Skriv månaden som ÅÅÅÅ-MM, t.ex. 2025-03.")

    diarie = text("Diarienummer")
    if diarie and not c.DIARIENUMMER.match(diarie.upper()):
        bad("info-varning", "Diarienummer", "Mönstret är KOD/NUMMER/ÅR, t.ex. HSN/1528/2024.")
    epost = text("E-post")
    if epost and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", epost):
        bad("info-varning", "E-post", "Det ser inte ut som en e-postadress.")
    status = text("Status")
    if status:
        matched_status = c.match_choice(status, c.STATUSAR)
        if matched_status is None:
            bad("info-varning", "Status", "Skriv Utkast eller Klar.")
        status = matched_status or status
    version = text("Mallversion")
    if version and version.removesuffix(".0") != str(c.CONTRACT_VERSION):
        f = get("Mallversion")
        findings.append(finding("okand-mallversion", f.sheet if f else None,
                                f.value.ref if f else None, value=short(version),
                                wanted=str(c.CONTRACT_VERSION)))
    return Info(
        namnd=namnd,
        namndnamn=text("Nämndnamn"),
        budgetar=budgetar,
        diarienummer=diarie,
        enhet=enhet,
        investeringsram=ram,
        gap=gap,
        rapportmanad=manad,
        kontaktperson=text("Kontaktperson"),
        epost=epost,
        status=status,
        mallversion=version,
        fields=fields,
    )


def _year(value: Value) -> int | None:
    cell = value.cell
    if cell.kind is CellKind.NUMBER:
        d = from_excel(cell.value or "0")
        n = int(d) if d == d.to_integral_value() else None
    elif cell.kind is CellKind.TEXT:
        t = value.text
        n = int(t) if re.fullmatch(r"\d{4}", t) else None
    else:
        n = None
    return n if n is not None and 1900 <= n <= 2200 else None


def _month(f: InfoField | None) -> str | None:
    if f is None or f.value.blank:
        return None
    cell = f.value.cell
    if cell.kind in (CellKind.DATE, CellKind.NUMBER) and cell.value:
        try:  # Excel turns "2025-03" into a date: serial days since 1899-12-30
            d = date(1899, 12, 30) + timedelta(days=int(float(cell.value)))
        except (ValueError, OverflowError):
            d = None
        if cell.kind is CellKind.DATE and d is None and re.match(r"^\d{4}-\d{2}", cell.value):
            return cell.value[:7]
        return f"{d.year:04d}-{d.month:02d}" if d else None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", f.value.text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None

