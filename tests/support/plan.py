"""A consistent HSN 2025 plan, every figure worked out by hand (mkr unless said).

Budgetram
  Division Medicin  T:  80.3 + 45.6 − 1150.2 − 640.7 − 380.1 − 25.4 − 260.9 = −2331.4
  Division Kirurgi  T:  95.1 + 60.2 − 1040.6 − 210.3 − 410.8 − 30.1 − 217.7 = −1754.2
  Nämnden           F:   0   +  0.6 −    2.9 −   0   −   0.8 −  0   −   0   =    −3.1
  totals: 175.4 | 106.4 | −2193.7 | −851.0 | −791.7 | −55.5 | −478.6 | −4088.7
Nettoram: T 2025 = −2331.4 − 1754.2 = −4085.6, F = −3.1; received against 2024 (money in
  positive, Budgetram 2024 − Budgetram 2025) (−3993.1) − (−4088.7) = +95.6
  = Ramförändringar 2025: +91.1 (uppräkning in) − 4.5 (omdisponering out to RS) + 9.0
Åtgärdsplan totals per year: 120+40+25 = 185; 180+0+25 = 205; 200+60+25 = 285
Investeringar (tkr): 9000 + 8500 + 9500 = 27 000; HSN holds 9000 + 9500 = 18 500 ≤ 20 000
Prognos (one row per Budgetram område, Budget = its net): Avvikelse −2372.0 − (−2331.4) = −40.6;
  −1781.5 − (−1754.2) = −27.3; Nämnden −3.1 − (−3.1) = 0; totals Budget −4088.7,
  Utfall −610.2 − 450.9 − 0.7 = −1061.8, Helårsprognos −4156.6, Avvikelse −67.9
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.books import (
    BUDGETRAM_HEADER,
    FT,
    INVESTERING_HEADER,
    PROGNOS_HEADER,
    TJ,
    T,
    atgard_header,
    info,
    nettoram_header,
    ramforandring_header,
    write_book,
)

Y = 2025


def budgetram(**changes: Any) -> T:
    return T(
        "Budgetram", BUDGETRAM_HEADER,
        [
            ["Division Medicin", TJ, 80.3, 45.6, -1150.2, -640.7, -380.1, -25.4, -260.9, -2331.4],
            ["Division Kirurgi", TJ, 95.1, 60.2, -1040.6, -210.3, -410.8, -30.1, -217.7, -1754.2],
            ["Nämnden", FT, None, 0.6, -2.9, None, -0.8, None, None, -3.1],
        ],
        totals=["Summa", None, 175.4, 106.4, -2193.7, -851.0, -791.7, -55.5, -478.6, -4088.7],
        sheet="Budgetram", at="B4", **changes,
    )


def nettoram() -> T:
    return T("Nettoram", nettoram_header(Y), [
        [TJ, -3990.0, -4085.6, -4100.0, -4120.0],
        [FT, -3.1, -3.1, -3.1, -3.1],
    ], totals=["Summa", -3993.1, -4088.7, -4103.1, -4123.1], sheet="Budgetram", at="B12")


def ramforandringar() -> T:
    return T("Ramforandringar", ramforandring_header(Y), [
        ["Uppräkning", "LPIK", None, None, None, 91.1, 91.1, 91.1],
        ["Omdisponering", "Samordning till RS", "RS/482/2024", "HSN", "RS", -4.5, -4.5, -4.5],
        ["Riktat statsbidrag", "Kömiljard", None, None, None, 9.0, None, None],
    ], totals=["Summa", None, None, None, None, 95.6, 86.6, 86.6], sheet="Ramförändringar")


def atgardsplan() -> T:
    return T("Atgardsplan", atgard_header(Y), [
        ["Personalkostnader", "Minskad hyrpersonal", "Stabilare bemanning",
         "95 % egenanställd personal", "Pågår", "Nej", "Nej", None, 120.0, 180.0, 200.0],
        ["Övriga kostnader/intäkter", "Samordnade inköp", "Färre artiklar", None, "Planerad",
         "Nej", "Nej", None, 40.0, None, 60.0],
        ["Kompetensförsörjning", "Färre vårdplatser", "Längre väntan", None, "Planerad", "Nej",
         "Ja", "Ja", 25.0, 25.0, 25.0],
    ], totals=["Summa", None, None, None, None, None, None, None, 185.0, 205.0, 285.0],
        sheet="Åtgärdsplan", at="A1", title=None)


def investeringar() -> T:
    return T("Investeringar", INVESTERING_HEADER, [
        ["Division Kirurgi", "Operationsbord", "Reinvestering", "Övrigt", "HSN", None, 9000, 10],
        ["Division Medicin", "Röntgen", "Nyinvestering", "Medicinteknik", "RS", 2025, 8500, 8],
        ["Division nära vård", "Ombyggnad", "Nyinvestering", "Fastighet", "HSN", 2025, 9500, 20],
    ], totals=["Summa", None, None, None, None, None, 27000, None], sheet="Investeringar",
        at="C6")


def prognos() -> T:
    return T("Prognos", PROGNOS_HEADER, [
        ["Division Medicin", -2331.4, -610.2, -2372.0, -40.6],
        ["Division Kirurgi", -1754.2, -450.9, -1781.5, -27.3],
        ["Nämnden", -3.1, -0.7, -3.1, 0.0],
    ], totals=["Summa", -4088.7, -1061.8, -4156.6, -67.9], sheet="Prognos")


def plan_info(**more: Any) -> T:
    fields: dict[str, Any] = {"Investeringsram": 20000, "Ekonomiskt_gap": 520,
                              "Diarienummer": "HSN/1528/2024", "Rapportmånad": "2025-03"}
    fields.update(more)
    return info("HSN", Y, **fields)


def full_plan(tmp: Path, name: str = "hsn.xlsx", **replace: T) -> Path:
    parts = {
        "Info": plan_info(), "Budgetram": budgetram(), "Nettoram": nettoram(),
        "Ramforandringar": ramforandringar(), "Atgardsplan": atgardsplan(),
        "Investeringar": investeringar(), "Prognos": prognos(),
    }
    parts.update(replace)
    return write_book(tmp / name, *parts.values())


def wrong_total(tmp: Path) -> Path:
    """The full plan with one wrong total: Budgetram D8."""
    t = budgetram()
    t.totals = list(t.totals or [])
    t.totals[2] = 175.9  # D8: the rows give 175.4 (0,5 off: beyond rounding)
    return full_plan(tmp, Budgetram=t)
