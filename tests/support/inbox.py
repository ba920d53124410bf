"""Consolidation of an inbox built here from literal rows.

Region 2025, hand-worked (mkr unless said):
  HSN  Division Medicin T: 80 + 40 − 900 − 300 − 100 − 10 − 60 = −1250; Nämnden F: −3 → −1253
  RS   Regionstaben     T: 20 + 70 − 300 − 150 − 20 − 10        = −390
  RUN  Kultur (tkr)     T: 5000 − 20000 − 10000 − 40000 tkr     = −65 000 tkr = −65
  region netto −1253 − 390 − 65 = −1708; Finansiering (RS) 1500 + 200 − 20 = 1680;
  resultat 1680 − 1708 = −28
  interna: income 40 + 70 = 110, costs −60 − 10 − 40 = −110: they cancel
  investments (tkr) by holder: HSN 3000; RS 2000 + 8500 (Röntgen, asked for by HSN) = 10 500,
  over RS's frame 10 000
  omdisponeringar: RS/482/2024 −4,5 at HSN and +4,5 at RS: ok; RS/500/2024 only at HSN
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tests.support.books import (
    BUDGETRAM_HEADER,
    FT,
    INVESTERING_HEADER,
    TJ,
    T,
    info,
    ramforandring_header,
    write_book,
)
from tests.support.cli import sha256

Y = 2025


def book(path: Path, namnd: str, budget_rows: list[list[Any]], *, year: int = Y,
         transfers: list[list[Any]] | None = None, investments: list[list[Any]] | None = None,
         financing: list[list[Any]] | None = None, **info_fields: Any) -> Path:
    tables = [info(namnd, year, **info_fields),
              T("Budgetram", BUDGETRAM_HEADER, budget_rows, sheet="Budgetram")]
    if transfers:
        tables.append(T("Ramforandringar", ramforandring_header(year), transfers,
                        sheet="Ramförändringar"))
    if investments:
        tables.append(T("Investeringar", INVESTERING_HEADER, investments, sheet="Investeringar"))
    if financing:
        tables.append(T("Finansiering", ["Post", f"Belopp {year}"], financing, sheet="Fin"))
    return write_book(path, *tables)


def hsn(path: Path, *, medicin_personal: float = -900.0, year: int = Y) -> Path:
    net = 80 + 40 + medicin_personal - 300 - 100 - 10 - 60
    return book(path, "HSN", [
        ["Division Medicin", TJ, 80.0, 40.0, medicin_personal, -300.0, -100.0, -10.0, -60.0, net],
        ["Nämnden", FT, None, None, -3.0, None, None, None, None, -3.0],
    ], year=year, transfers=[
        ["Omdisponering", "Samordning", "RS/482/2024", "HSN", "RS", -4.5, -4.5, -4.5],
        ["Omdisponering", "Bara här", "RS/500/2024", "HSN", "RS", -2.0, None, None],
    ], investments=[
        ["Medicin", "Röntgen", "Nyinvestering", "Medicinteknik", "RS", None, 8500, 8],
        ["Kirurgi", "Operationsbord", "Reinvestering", "Övrigt", "HSN", None, 3000, 10],
    ], Investeringsram=5000)


def rs(path: Path, *, staben_personal: float = -300.0, omrade: str = "Regionstaben") -> Path:
    net = 20 + 70 + staben_personal - 150 - 20 - 10
    return book(path, "RS", [[omrade, TJ, 20.0, 70.0, staben_personal, None, -150.0, -20.0, -10.0,
                              net]],
                transfers=[["Omdisponering", "Samordning", "RS/482/2024", "HSN", "RS", 4.5, 4.5,
                            4.5]],
                investments=[["IT", "Servrar", "Reinvestering", "IT", "RS", None, 2000, 5]],
                financing=[["Skatteintäkter", 1500.0], ["Generella statsbidrag", 200.0],
                           ["Finansiella kostnader", -20.0]],
                Investeringsram=10000)


def run_(path: Path) -> Path:
    return book(path, "RUN", [["Kultur", TJ, 5000, None, -20000, None, -10000, None, -40000,
                               -65000]], **{"Belopp i": "tkr"})


def inbox(tmp: Path) -> Path:
    folder = tmp / "inkorg"
    folder.mkdir()
    old = hsn(folder / "hsn-gammal.xlsx", medicin_personal=-800.0)
    os.utime(old, (time.time() - 86400, time.time() - 86400))
    hsn(folder / "hsn.xlsx")
    rs(folder / "rs.xlsx")
    run_(folder / "run.xlsx")
    (folder / "~$hsn.xlsx").write_bytes(b"lock")
    (folder / ".dold.xlsx").write_bytes(b"hidden")
    (folder / "trasig.xlsx").write_bytes(b"inte en arbetsbok")
    (folder / "anteckning.txt").write_text("ej planbok")
    return folder


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in folder.iterdir()}
