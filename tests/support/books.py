"""Build real .xlsx planböcker from literal rows with openpyxl, as outside checks do:
constants in every cell, tables wherever the test puts them, a title above."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.worksheet.table import Table

TJ, FT = "Tjänstemannabudget", "Förtroendemannabudget"  # the two budget types

BUDGETRAM_HEADER = [
    "Område", "Budgettyp", "Externa intäkter", "Interna intäkter", "Personalkostnader",
    "Läkemedel", "Övriga externa kostnader", "Avskrivningar", "Interna kostnader", "Nettobudget",
]


def atgard_header(year: int) -> list[str]:
    return ["Typ av åtgärd", "Åtgärd", "Konsekvens", "Mål", "Status", "Övervältring",
            "Kvalitetssänkning", "Riskbedömd", f"Effekt {year}", f"Effekt {year + 1}",
            f"Effekt {year + 2}"]


def nettoram_header(year: int) -> list[str]:
    return ["Budgettyp", f"Budgetram {year - 1}", f"Budgetram {year}", f"Plan {year + 1}",
            f"Plan {year + 2}"]


def ramforandring_header(year: int) -> list[str]:
    return ["Typ", "Beskrivning", "Diarienummer", "Från", "Till", f"Belopp {year}",
            f"Belopp {year + 1}", f"Belopp {year + 2}"]


INVESTERING_HEADER = ["Område/Avdelning/Enhet", "Objekt", "Investeringstyp", "Kategori",
                      "Budgetansvar", "År", "Belopp (tkr)", "Avskrivningstid (år)"]
PROGNOS_HEADER = ["Område", "Budget", "Utfall ackumulerat", "Helårsprognos", "Avvikelse"]


@dataclass
class T:
    """One Excel table: its name, header, literal rows and optional totals row."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    totals: Sequence[Any] | None = None
    sheet: str | None = None
    at: str = "B3"
    hidden: Sequence[int] = field(default_factory=tuple)  # indexes into rows
    title: str | None = "Tabell"

    def cell_of(self, row_index: int, column: str) -> str:
        """A1 address of data row ``row_index`` (0-based; -1 = totals) in ``column``."""
        col_letters, first_row = coordinate_from_string(self.at)
        col = column_index_from_string(col_letters) + list(self.header).index(column)
        row = first_row + 1 + (len(self.rows) if row_index == -1 else row_index)
        return f"{get_column_letter(col)}{row}"


def info(namnd: str = "HSN", year: int = 2025, **more: Any) -> T:
    fields: dict[str, Any] = {"Nämnd": namnd, "Budgetår": year, "Belopp i": "mkr",
                              "Mallversion": 1}
    fields.update({k.replace("_", " "): v for k, v in more.items()})
    return T("Info", ["Fält", "Värde"], [[k, v] for k, v in fields.items()], sheet="Info",
             at="A3")


def write_book(path: Path, *tables: T) -> Path:
    wb = openpyxl.Workbook()
    default = wb.active
    for t in tables:
        sheet_name = t.sheet or t.name
        ws = wb[sheet_name] if sheet_name in wb.sheetnames else wb.create_sheet(sheet_name)
        col_letters, first_row = coordinate_from_string(t.at)
        first_col = column_index_from_string(col_letters)
        if t.title and first_row > 1:
            ws.cell(first_row - 2 if first_row > 2 else 1, first_col, t.title)
        for j, h in enumerate(t.header):
            ws.cell(first_row, first_col + j, h)
        for i, row in enumerate(t.rows):
            for j, v in enumerate(row):
                ws.cell(first_row + 1 + i, first_col + j, v)
            if i in t.hidden:
                ws.row_dimensions[first_row + 1 + i].hidden = True
        last_row = first_row + len(t.rows)
        if t.totals is not None:
            last_row += 1
            for j, v in enumerate(t.totals):
                ws.cell(last_row, first_col + j, v)
        ref = (f"{get_column_letter(first_col)}{first_row}:"
               f"{get_column_letter(first_col + len(t.header) - 1)}{last_row}")
        table = Table(displayName=t.name, ref=ref)
        if t.totals is not None:
            table.totalsRowCount = 1
        ws.add_table(table)
    if default is not None and default.title == "Sheet" and len(wb.sheetnames) > 1:
        wb.remove(default)
    wb.save(path)
    return path


def br(omrade: str, typ: str, *amounts: float | int | str | None) -> list[Any]:
    """A Budgetram row: seven amounts then Nettobudget."""
    return [omrade, typ, *amounts]


def rc(ref: str) -> tuple[int, int]:
    """(row, column) of an A1 reference, 1-based."""
    col, row = coordinate_from_string(ref)
    return row, column_index_from_string(col)
