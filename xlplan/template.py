"""Write planböcker from the contract with xlsxwriter: blank templates, demo and test books.

Formulas get their cached values computed here (exactly, in Decimal), so a
generated book validates without being opened in Excel first. Text is always
written with ``write_string``: nothing from data can become a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlplan import contract as c
from xlplan.io.writer import atomic_path
from xlplan.io.xltext import subtotal_formula
from xlplan.numbers import MKR_FORMAT, TKR_FORMAT, to_cell

Cell = str | int | Decimal | None
RowData = Mapping[str, Cell]

FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
HEADER_ROW = 3  # zero-based row of table headers (Excel row 4); title in A1, unit in A2

_FORMULAS: dict[tuple[str, str], str] = {
    ("Budgetram", "nettobudget"):
        "SUM(Budgetram[[#This Row],[Externa intäkter]:[Interna kostnader]])",
    ("Prognos", "avvikelse"): "Prognos[[#This Row],[Helårsprognos]]-Prognos[[#This Row],[Budget]]",
}


@dataclass
class PlanbokData:
    """What goes into a generated planbok. Amounts are Decimal; formulas are computed."""

    namnd: str
    budgetar: int
    info: dict[str, Cell] = field(default_factory=dict)  # Info › Fält -> value (overrides)
    tables: dict[str, Sequence[RowData]] = field(default_factory=dict)
    # deliberate slips for demos and tests: (table, row index or -1 for totals, key) -> value
    typed: dict[tuple[str, int, str], Decimal] = field(default_factory=dict)
    include: tuple[str, ...] = ()  # optional tables to include even when empty


def blank(namnd: str, budgetar: int, namndnamn: str = "") -> PlanbokData:
    data = PlanbokData(namnd, budgetar, info={"Nämndnamn": namndnamn})
    data.tables["Nettoram"] = [{"budgettyp": t} for t in c.BUDGETTYPER]
    data.include = ("Nettoram", "Ramforandringar", "Atgardsplan", "Investeringar", "Prognos")
    if namnd == "RS":
        data.tables["Finansiering"] = [{"post": p} for p in c.FINANSIERINGSPOSTER]
        data.include += ("Finansiering",)
    return data


def info_values(data: PlanbokData) -> dict[str, Cell]:
    values: dict[str, Cell] = {
        "Nämnd": data.namnd,
        "Budgetår": data.budgetar,
        "Belopp i": "mkr",
        "Status": "Utkast",
        "Mallversion": c.CONTRACT_VERSION,
    }
    values.update(data.info)
    return values


def computed(spec: c.Table, key: str, row: RowData) -> Decimal:
    """The value a template formula computes for ``row``."""
    def amount(k: str) -> Decimal:
        v = row.get(k)
        return v if isinstance(v, Decimal) else Decimal(v) if isinstance(v, int) else Decimal(0)

    if spec is c.BUDGETRAM and key == "nettobudget":
        return sum((amount(k) for k in c.NET_PARTS), Decimal(0))
    if spec is c.PROGNOS and key == "avvikelse":
        return amount("prognos") - amount("budget")
    raise KeyError((spec.name, key))


def write_planbok(path: Path, data: PlanbokData, *, macros: Macros | None = None,
                  buttons: Sequence[tuple[str, str, str]] = ()) -> None:
    """Write ``data`` as a planbok at ``path`` (atomically). With ``macros`` (an .xlsm),
    ``buttons`` are (macro, caption, description) placed on a Start sheet."""
    import xlsxwriter

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                       "strings_to_numbers": False},
        )
        wb.set_properties({"title": f"Planbok {data.namnd} {data.budgetar}".strip(),
                           "created": FIXED_TIME, "author": "xlplan"})
        wb.set_calc_mode("auto")
        fmt = _Formats(wb)
        if macros is not None:
            macros.attach(wb)
            _start_sheet(wb, fmt, " ".join(f"Planbok {data.namnd} {data.budgetar}".split()),
                         PLANBOK_START_NOTE, buttons)
        _instructions(wb, fmt, data)
        _info_sheet(wb, fmt, data)
        for spec in c.TABLES:
            if spec is c.INFO:
                continue
            rows = list(data.tables.get(spec.name, ()))
            if spec.required or rows or spec.name in data.include:
                _table_sheet(wb, fmt, data, spec, rows)
        if macros is not None:
            macros.finish(wb, fmt)
        wb.close()


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.text = wb.add_format({"text_wrap": False})
        self.mkr = wb.add_format({"num_format": MKR_FORMAT})
        self.tkr = wb.add_format({"num_format": TKR_FORMAT})
        self.year = wb.add_format({"num_format": "0"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True})


PLANBOK_START_NOTE = "Tryck på en knapp. Resultatet visas på bladen Kontroll och Sammanfattning."
REGION_START_NOTE = ("Tryck på Konsolidera. Resultatet visas på bladet Region och i "
                     "Regionsammanställningen som skrivs till Utfil (bladet Info).")


def _start_sheet(wb: Any, fmt: _Formats, title: str, note: str,
                 buttons: Sequence[tuple[str, str, str]]) -> None:
    ws = wb.add_worksheet("Start")
    ws.write_string(0, 0, title, fmt.title)
    ws.write_string(1, 0, note, fmt.note)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 70)
    for i, (macro, caption, description) in enumerate(buttons):
        row = 3 + i * 3
        ws.insert_button(row, 0, {"macro": macro, "caption": caption, "width": 160, "height": 36})
        ws.write_string(row, 1, description, fmt.wrap)
    _page_setup(ws, None)


def _page_setup(ws: Any, header_row: int | None) -> None:
    """Print as a controller expects: A4 landscape, one page wide (as many pages tall as
    needed), the table's header row repeated on every page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if header_row is not None:
        ws.repeat_rows(header_row)


def header_width(header: str) -> float:
    """A column width (in characters) that shows ``header`` in bold with the table's filter
    button beside it."""
    return len(header) * 1.15 + 4


def _instructions(wb: Any, fmt: _Formats, data: PlanbokData) -> None:
    ws = wb.add_worksheet("Instruktioner")
    ws.set_column(0, 0, 110)
    lines = [
        (f"Planbok {data.namnd} {data.budgetar}".strip(), fmt.title),
        ("Så fyller du i planboken", fmt.bold),
        ("1. Fyll i bladet Info: nämnd, budgetår, diarienummer, investeringsram och "
         "ekonomiskt gap.", None),
        ("2. Skriv en rad per område i Budgetram. Intäkter positiva, kostnader negativa. "
         "Nettobudget räknas ut av formeln.", None),
        ("3. Åtgärdsplan: effekten för varje år mäts mot basårets ram – åren läggs inte ihop.",
         None),
        ("   Åtgärder får inte vältra över kostnader på andra. Sänker en åtgärd kvaliteten "
         "ska den vara riskbedömd.", None),
        ("4. Investeringar i tkr. Budgetansvar är den nämnd som har budget och avskrivning "
         "(medicinteknik och IT ligger ofta hos RS).", None),
        ("5. Skriv inte över formlerna i Nettobudget, Avvikelse och summaraderna.", None),
        ("6. Lägg till rader inne i tabellerna (Tab i sista raden), inte under dem.", None),
        ("", None),
        ("Kontrollera: kör xlplan validate FIL eller tryck Validera på bladet Start.", None),
        (f"Mallversion {c.CONTRACT_VERSION}. Belopp i mkr med en decimal om inte Info › "
         "Belopp i säger tkr.", fmt.note),
    ]
    for i, (text, f) in enumerate(lines):
        if text:
            ws.write_string(i, 0, text, f) if f is not None else ws.write_string(i, 0, text)
    _page_setup(ws, None)


def _info_sheet(wb: Any, fmt: _Formats, data: PlanbokData) -> None:
    ws = wb.add_worksheet(c.INFO.sheet)
    ws.write_string(0, 0, c.INFO.title, fmt.title)
    values = info_values(data)
    first = 2
    n = len(c.INFO_FIELDS)
    ws.add_table(first, 0, first + n, 1, {
        "name": c.INFO.name,
        "style": "Table Style Light 9",
        "columns": [{"header": col.header} for col in c.INFO.columns],
    })
    for i, (name, hint) in enumerate(c.INFO_FIELDS):
        r = first + 1 + i
        ws.write_string(r, 0, name)
        _write(ws, r, 1, values.get(name), fmt.text, fmt)
        ws.write_string(r, 2, hint, fmt.note)
    lookup = {name: first + 1 + i for i, (name, _) in enumerate(c.INFO_FIELDS)}
    ws.data_validation(lookup["Belopp i"], 1, lookup["Belopp i"], 1,
                       {"validate": "list", "source": list(c.ENHETER)})
    ws.data_validation(lookup["Status"], 1, lookup["Status"], 1,
                       {"validate": "list", "source": list(c.STATUSAR)})
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 60)
    ws.freeze_panes(first + 1, 0)
    _page_setup(ws, first)


def _write(ws: Any, r: int, col: int, value: Cell, text_fmt: Any, fmt: _Formats,
           num_fmt: Any = None) -> None:
    if value is None:
        if num_fmt is not None:
            ws.write_blank(r, col, None, num_fmt)
        return
    if isinstance(value, bool):
        ws.write_string(r, col, str(value), text_fmt)
    elif isinstance(value, int):
        ws.write_number(r, col, value, num_fmt or fmt.year)
    elif isinstance(value, Decimal):
        ws.write_number(r, col, to_cell(value), num_fmt)
    else:
        ws.write_string(r, col, value, text_fmt)


def _table_sheet(wb: Any, fmt: _Formats, data: PlanbokData, spec: c.Table,
                 rows: list[RowData]) -> None:
    ws = wb.add_worksheet(spec.sheet)
    unit = "tkr" if spec.amounts_in_tkr else str(info_values(data).get("Belopp i") or "mkr")
    num = fmt.tkr if unit == "tkr" else fmt.mkr
    ws.write_string(0, 0, f"{spec.title} – {data.namnd} {data.budgetar}".strip(), fmt.title)
    ws.write_string(1, 0, f"Belopp i {unit}.", fmt.note)
    body = rows or [{}]
    first = HEADER_ROW
    last = first + len(body) + 1  # header + rows + totals
    columns: list[dict[str, Any]] = []
    for i, col in enumerate(spec.columns):
        entry: dict[str, Any] = {"header": col.header_for(data.budgetar)}
        if col.kind is c.Kind.AMOUNT:
            entry["format"] = num
            total = _column_total(spec, col.key, body, data.typed)
            entry["total_function"] = "sum"
            entry["total_value"] = to_cell(data.typed.get((spec.name, -1, col.key), total))
        elif i == 0:
            entry["total_string"] = "Summa"
        if col.kind is c.Kind.NUMBER:
            entry["format"] = fmt.year
        if (spec.name, col.key) in _FORMULAS:
            entry["formula"] = "=" + _FORMULAS[(spec.name, col.key)]
        columns.append(entry)
    ws.add_table(first, 0, last, len(spec.columns) - 1, {
        "name": spec.name, "style": "Table Style Medium 2", "total_row": True, "columns": columns,
    })
    for r, row in enumerate(body):
        excel_row = first + 1 + r
        for ci, col in enumerate(spec.columns):
            slip = data.typed.get((spec.name, r, col.key))
            if (spec.name, col.key) in _FORMULAS:
                if slip is not None:
                    ws.write_number(excel_row, ci, to_cell(slip), num)
                else:
                    ws.write_formula(excel_row, ci, "=" + _FORMULAS[(spec.name, col.key)], num,
                                     to_cell(computed(spec, col.key, row)))
                continue
            value = row.get(col.key)
            _write(ws, excel_row, ci, value, fmt.text, fmt,
                   num if col.kind is c.Kind.AMOUNT else fmt.year)
    # Excel stores totals formulas qualified (Table[Column]); LibreOffice misreads the
    # unqualified form xlsxwriter writes, so the totals cells are written here.
    for ci, col in enumerate(spec.columns):
        if col.kind is not c.Kind.AMOUNT:
            continue
        slip = data.typed.get((spec.name, -1, col.key))
        if slip is not None:
            ws.write_number(last, ci, to_cell(slip), num)
        else:
            ws.write_formula(last, ci, subtotal_formula(spec.name, col.header_for(data.budgetar)),
                             num, to_cell(_column_total(spec, col.key, body, data.typed)))
    for ci, col in enumerate(spec.columns):
        col_format = num if col.kind is c.Kind.AMOUNT else None
        width = max(col.width, header_width(col.header_for(data.budgetar)))
        ws.set_column(ci, ci, width, col_format)
        if col.kind is c.Kind.CHOICE:
            ws.data_validation(first + 1, ci, last - 1, ci,
                               {"validate": "list", "source": list(col.choices),
                                "error_message": "Välj ett värde ur listan: "
                                                 + ", ".join(col.choices)})
    ws.freeze_panes(first + 1, 1)
    _page_setup(ws, first)


def _column_total(spec: c.Table, key: str, rows: Sequence[RowData],
                  typed: dict[tuple[str, int, str], Decimal]) -> Decimal:
    """What the totals cell's SUBTOTAL computes: the column's cells as written, a typed slip
    in a row included (the result Excel saves with the file)."""
    total = Decimal(0)
    for r, row in enumerate(rows):
        slip = typed.get((spec.name, r, key))
        if slip is not None:
            total += slip
        elif (spec.name, key) in _FORMULAS:
            total += computed(spec, key, row)
        else:
            v = row.get(key)
            if isinstance(v, Decimal | int) and not isinstance(v, bool):
                total += Decimal(v)
    return total


PLANBOK_BUTTONS = (
    ("Validera", "Validera", "Kontrollerar alla tabeller: fel blir röda, varningar gula och "
                             "allt listas på bladet Kontroll. Dina siffror ändras aldrig."),
    ("Berakna", "Beräkna", "Skriver bladet Sammanfattning: netto, åtgärdsplanens täckning, "
                           "investeringarnas driftkostnad, prognos."),
    ("Skicka", "Skicka", "Validerar och skickar den sparade filen till ekonomidirektören. "
                         "Finns det fel skickas inget."),
)
REGION_BUTTONS = (
    ("Konsolidera", "Konsolidera", "Läser alla planböcker i Inkorg, skriver Utfil och bladet "
                                   "Region."),
)


def _check_target(path: Path) -> None:
    from xlplan.errors import OutputError

    if path.exists():
        raise OutputError(f"Filen {path} finns redan. Välj ett annat namn; xlplan skriver inte över.")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise OutputError(f"Filnamnet {path.name} ska sluta på .xlsx eller .xlsm (med knappar).")


class Macros:
    """The VBA side of an .xlsm: the project file is attached when the workbook is begun and
    written when its sheets are known (one document module per sheet), with the hidden
    ``xlwings.conf`` sheet last."""

    def __init__(self, folder: Path, server: str = "") -> None:
        self.bin = folder / "vbaProject.bin"
        self.server = server

    def attach(self, wb: Any) -> None:
        self.bin.write_bytes(b"")  # xlsxwriter reads the file only when the workbook closes
        wb.add_vba_project(str(self.bin))

    def finish(self, wb: Any, fmt: _Formats) -> None:
        from xlplan.vba import build_vba_project

        _conf_sheet(wb, fmt, self.server)
        build_vba_project(self.bin, len(wb.worksheets()), server=bool(self.server))


XLWINGS_CONF = "xlwings.conf"


def conf_rows(server: str = "") -> list[tuple[str, str | bool]]:
    """The settings xlwings' VBA module reads from the workbook (sheet ``xlwings.conf``):
    what a controller's PC needs, nothing a user-level xlwings.conf should decide."""
    from xlplan import __version__

    rows: list[tuple[str, str | bool]] = [
        ("Interpreter_Win", "python"),
        ("Interpreter_Mac", "/usr/local/bin/python3"),
        ("ADD_WORKBOOK_TO_PYTHONPATH", False),
        ("Show Console", False),
        ("XLPLAN_VERSION", __version__),
    ]
    if server:
        rows.append(("XLPLAN_SERVER", server.rstrip("/")))
    return rows


def _conf_sheet(wb: Any, fmt: _Formats, server: str) -> None:
    ws = wb.add_worksheet(XLWINGS_CONF)
    rows = conf_rows(server)
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value)
        else:
            ws.write_string(r, 1, value)
    ws.write_string(len(rows) + 2, 0, "Inställningar för xlwings (knapparna). Skrivna av xlplan "
                                      "new; ändra bara om IT säger det.", fmt.note)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 40)
    _page_setup(ws, None)
    ws.hide()


def _with_macros(path: Path, write: Callable[[Macros | None], None], server: str = "") -> None:
    """Call ``write`` with the macros of an .xlsm target, None for .xlsx."""
    if path.suffix.lower() != ".xlsm":
        write(None)
        return
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write(Macros(Path(tmp), server))


def new_planbok(path: Path, namnd: str, budgetar: int, namndnamn: str = "", *,
                server: str = "") -> None:
    """``xlplan new``: a fresh planbok (.xlsm: with buttons); never overwrites a file.
    ``server``: the buttons call ``xlplan serve`` at this URL instead of a local Python."""
    _check_target(path)
    data = blank(namnd, budgetar, namndnamn)
    _with_macros(path, lambda macros: write_planbok(path, data, macros=macros,
                                                    buttons=PLANBOK_BUTTONS), server)


def new_region(path: Path, budgetar: int, *, region: str = "", inkorg: str = "inkorg",
               utfil: str = "Regionsammanstallning.xlsx", databas: str = "",
               server: str = "") -> None:
    """``xlplan new --region``: the ekonomidirektör's workbook with the Konsolidera button."""
    _check_target(path)
    _with_macros(path, lambda macros: write_region_book(
        path, budgetar, region=region, inkorg=inkorg, utfil=utfil, databas=databas,
        macros=macros), server)


def write_region_book(path: Path, budgetar: int, *, region: str, inkorg: str, utfil: str,
                      databas: str, macros: Macros | None) -> None:
    import xlsxwriter

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                            "strings_to_urls": False})
        wb.set_properties({"title": f"Regionsammanställning {budgetar}", "created": FIXED_TIME,
                           "author": "xlplan"})
        fmt = _Formats(wb)
        if macros is not None:
            macros.attach(wb)
            title = " ".join(f"Regionsammanställning {region} {budgetar}".split())
            _start_sheet(wb, fmt, title, REGION_START_NOTE, REGION_BUTTONS)
        ws = wb.add_worksheet("Info")
        ws.write_string(0, 0, f"Regionsammanställning {budgetar}", fmt.title)
        ws.write_string(1, 0, "Inkorg och Utfil relativt den här arbetsbokens mapp, eller "
                              "fullständiga sökvägar. Databas: tom = inställningen databas.",
                        fmt.note)
        values: dict[str, Cell] = {"Region": region, "Budgetår": budgetar, "Inkorg": inkorg,
                                   "Utfil": utfil, "Databas": databas}
        ws.add_table(2, 0, 2 + len(values), 1, {"name": "Info", "style": "Table Style Light 9",
                                               "columns": [{"header": "Fält"},
                                                           {"header": "Värde"}]})
        for i, (name, value) in enumerate(values.items()):
            ws.write_string(3 + i, 0, name)
            _write(ws, 3 + i, 1, value if value != "" else None, fmt.text, fmt)
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 60)
        _page_setup(ws, 2)
        if macros is not None:
            macros.finish(wb, fmt)
        wb.close()


TEMPLATE_YEAR = 2027


TEMPLATE_FILES = ("planbok-mall.xlsx", "planbok-mall.xlsm", "region-mall.xlsm")


def build_templates(folder: Path) -> list[Path]:
    """(Re)generate workbooks/; a test proves the committed files equal this output."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / name for name in TEMPLATE_FILES]
    for path in out:
        path.unlink(missing_ok=True)
    new_planbok(out[0], "", TEMPLATE_YEAR)
    new_planbok(out[1], "", TEMPLATE_YEAR)
    new_region(out[2], TEMPLATE_YEAR)
    return out
