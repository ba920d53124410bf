"""Properties (hypothesis): the validator never raises on arbitrary cells, and a region's
total is always the sum of its parts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlplan import contract as c
from xlplan.extract import extract
from xlplan.io.raw import CellKind, RawCell, RawWorkbook, assemble_table
from xlplan.region import InputFile
from xlplan.region_figures import region_figures
from xlplan.validation import validate_raw

YEAR = 2025

texts = st.text(max_size=12) | st.sampled_from(
    ["Ja", "Nej", "Tjänstemannabudget", "Omdisponering", "RS", "HSN", "1 754,2", "−4,2",
     "Mål 95 % 20 mkr", "=SUM(A1)", "#REF!", "", "  ", "\x00", "2025-03"])
numbers = st.one_of(
    st.integers(-10**9, 10**9).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.sampled_from(["1E+300", "-0", "0.30000000000000004", "1e-300"]),
)


@st.composite
def cells(draw: st.DrawFn) -> tuple[CellKind, str | None, str | None]:
    kind = draw(st.sampled_from(list(CellKind)))
    formula = draw(st.none() | st.sampled_from(["", "SUBTOTAL(109,X[Y])", "A1+B1"]))
    if kind is CellKind.NUMBER:
        return kind, draw(numbers), formula
    if kind is CellKind.TEXT:
        return kind, draw(texts), formula
    if kind is CellKind.BOOL:
        return kind, draw(st.sampled_from(["0", "1"])), formula
    if kind is CellKind.ERROR:
        return kind, draw(st.sampled_from(["#REF!", "#DIV/0!", "#N/A"])), formula
    if kind is CellKind.DATE:
        return kind, draw(st.sampled_from(["2025-01-01T00:00:00", "45000", "x"])), formula
    return kind, None, formula


def table(spec: c.Table, body: list[list[tuple[CellKind, str | None, str | None]]],
          totals: bool, first_row: int = 3, sheet: str = "Blad") -> object:
    headers = [col.header_for(YEAR) for col in spec.columns]
    width = len(headers)
    grid = {(first_row, 1 + j): RawCell(first_row, 1 + j, CellKind.TEXT, h)
            for j, h in enumerate(headers)}
    rows = [(r + [(CellKind.BLANK, None, None)] * width)[:width] for r in body]
    if totals:
        rows.append([(CellKind.TEXT, "Summa", None)] + [(CellKind.NUMBER, "0", None)] * (width - 1))
    for i, row in enumerate(rows):
        for j, (kind, value, formula) in enumerate(row):
            r = first_row + 1 + i
            grid[(r, 1 + j)] = RawCell(r, 1 + j, kind, value, formula)
    last = first_row + len(rows)
    return assemble_table(name=spec.name, sheet=sheet, sheet_hidden=False,
                          bounds=(first_row, 1, max(last, first_row), width), header_rows=1,
                          totals_rows=int(totals), column_names=tuple(headers), cells=grid,
                          hidden_rows=set(), merges=[])


def info_table(namnd: str = "HSN", enhet: str = "mkr") -> object:
    fields = {"Nämnd": namnd, "Budgetår": str(YEAR), "Belopp i": enhet}
    body = [[(CellKind.TEXT, k, None), (CellKind.TEXT, v, None)] for k, v in fields.items()]
    return table(c.INFO, body, totals=False, sheet="Info")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from([t for t in c.TABLES if t is not c.INFO]),
       body=st.lists(st.lists(cells(), max_size=12), max_size=6), totals=st.booleans())
def test_the_validator_never_raises_on_arbitrary_cells(spec: c.Table, body: list[list[tuple[
        CellKind, str | None, str | None]]], totals: bool) -> None:
    raw = RawWorkbook("x.xlsx", {"Info": info_table(), spec.name: table(spec, body, totals)},
                      ("Info", "Blad"))  # type: ignore[dict-item]
    report = validate_raw(raw)
    for f in report.findings:
        assert f.code and f.message and f.severity


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from([t for t in c.TABLES if t is not c.INFO]),
       body=st.lists(st.lists(cells(), max_size=12), max_size=6))
def test_an_arbitrary_info_table_never_makes_it_raise(spec: c.Table, body: list[list[tuple[
        CellKind, str | None, str | None]]]) -> None:
    raw = RawWorkbook("x.xlsx", {"Info": table(c.INFO, body, totals=False, sheet="Info"),
                                 spec.name: table(spec, body, True)}, ("Info", "Blad"))  # type: ignore[dict-item]
    validate_raw(raw)


amounts = st.decimals(min_value=Decimal(-100000), max_value=Decimal(100000), places=1,
                      allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(books=st.lists(st.tuples(st.sampled_from(["mkr", "tkr"]),
                                st.lists(st.lists(amounts, min_size=7, max_size=7), min_size=1,
                                         max_size=5),
                                st.none() | amounts),
                      min_size=1, max_size=6))
def test_a_region_total_is_the_sum_of_its_parts(
        books: list[tuple[str, list[list[Decimal]], Decimal | None]]) -> None:
    files = []
    expected_total = Decimal(0)
    financing_total: Decimal | None = None
    for i, (enhet, rows, financing) in enumerate(books):
        namnd = "N" + "ABCDEF"[i]
        body = []
        for j, parts in enumerate(rows):
            net = sum(parts, Decimal(0))
            body.append([(CellKind.TEXT, f"O{j}", None), (CellKind.TEXT, "Tjänstemannabudget",
                                                          None)]
                        + [(CellKind.NUMBER, format(p, "f"), None) for p in [*parts, net]])
            expected_total += net / 1000 if enhet == "tkr" else net
        tables = {"Info": info_table(namnd, enhet), "Budgetram": table(c.BUDGETRAM, body, False)}
        if financing is not None:
            tables["Finansiering"] = table(
                c.FINANSIERING, [[(CellKind.TEXT, "Skatteintäkter", None),
                                  (CellKind.NUMBER, format(financing, "f"), None)]], False)
            value = financing / 1000 if enhet == "tkr" else financing
            financing_total = (financing_total or Decimal(0)) + value
        report = validate_raw(RawWorkbook(f"{namnd}.xlsx", tables, ("Info", "Blad")))  # type: ignore[arg-type]
        ex = extract(report.planbok)
        item = InputFile(Path(f"{namnd}.xlsx"), "0", float(i), namnd, YEAR, report.errors,
                         report.warnings, used=True, extract=ex)
        files.append(item)
    region = region_figures(YEAR, files, {f.namnd: f for f in files if f.namnd})
    assert region.region_netto == sum(region.netto.values(), Decimal(0)) == expected_total
    assert region.finansiering == financing_total
    if financing_total is not None:
        assert region.resultat == financing_total + expected_total
