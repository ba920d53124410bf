"""Fictional planböcker for `xlplan demo`, the benchmarks and the tests.

Three nämnder of a fictional region: RS and RUN are consistent; HSN carries
the kinds of slips the region's published plans have (a total that misses a
row, a net with two digits swapped, a cost shifted to others, a target typed
into an amount cell, investments over the frame).
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from xlplan.template import Cell, PlanbokData, write_planbok

YEAR = 2027
T, F = "Tjänstemannabudget", "Förtroendemannabudget"


def _br(omrade: str, typ: str, *amounts: str) -> dict[str, Cell]:
    keys = ("externa_intakter", "interna_intakter", "personalkostnader", "lakemedel",
            "ovriga_externa_kostnader", "avskrivningar", "interna_kostnader")
    row: dict[str, Cell] = {"omrade": omrade, "budgettyp": typ}
    row.update({k: D(a) for k, a in zip(keys, amounts, strict=True) if a})
    return row


def rs(year: int = YEAR) -> PlanbokData:
    data = PlanbokData("RS", year, info={
        "Nämndnamn": "Regionstyrelsen", "Diarienummer": f"RS/595/{year - 1}",
        "Investeringsram": D(25000), "Ekonomiskt gap": D("12.0"),
        "Rapportmånad": f"{year}-03", "Kontaktperson": "Anna Ek", "E-post": "anna.ek@region.example",
        "Status": "Klar",
    })
    data.tables["Budgetram"] = [
        _br("Regiondirektör", T, "2.0", "10.5", "-35.2", "", "-20.4", "-0.5", "-8.1"),
        _br("Regionstaben", T, "120.4", "890.3", "-820.6", "", "-610.2", "-95.3", "-210.5"),
        _br("Vårdval", T, "45.0", "", "-12.3", "-150.2", "-820.1", "", "-12.0"),
        _br("Politisk verksamhet", F, "", "0.5", "-28.4", "", "-3.2", "", "-0.4"),
    ]
    data.tables["Nettoram"] = [
        {"budgettyp": T, "ram_fg": D("-1699.4"), "ram": D("-1727.2"), "plan_1": D("-1731.0"),
         "plan_2": D("-1668.0")},
        {"budgettyp": F, "ram_fg": D("-31.5"), "ram": D("-31.5"), "plan_1": D("-31.2"),
         "plan_2": D("-31.5")},
    ]
    data.tables["Ramforandringar"] = [
        {"typ": "Uppräkning", "beskrivning": "Kostnadsbudget +2,1 % (LPIK)", "belopp": D("26.3"),
         "belopp_1": D("26.3"), "belopp_2": D("26.3")},
        {"typ": "Omdisponering", "beskrivning": "Regional samordning från HSN",
         "diarienummer": f"RS/482/{year - 1}", "fran": "HSN", "till": "RS", "belopp": D("4.5"),
         "belopp_1": D("4.5"), "belopp_2": D("4.5")},
        {"typ": "Besparing", "beskrivning": "Effektivisering administration", "belopp": D("-3.0"),
         "belopp_1": D("-3.0"), "belopp_2": D("-3.0")},
    ]
    data.tables["Atgardsplan"] = [
        {"typ": "Personalkostnader", "atgard": "Minskad inhyrd personal",
         "konsekvens": "Fler egenanställda", "mal": "95 % egenanställd personal",
         "status": "Pågår", "overvaltring": "Nej", "kvalitetssankning": "Nej",
         "effekt": D("5.0"), "effekt_1": D("8.0"), "effekt_2": D("8.0")},
        {"typ": "Övriga kostnader/intäkter", "atgard": "Färre förhyrda lokaler",
         "konsekvens": "Samlokalisering", "status": "Planerad", "overvaltring": "Nej",
         "kvalitetssankning": "Nej", "effekt_1": D("3.0"), "effekt_2": D("4.5")},
    ]
    data.tables["Investeringar"] = [
        {"omrade": "Regionstaben/IT", "objekt": "Nätverksutrustning", "typ": "Reinvestering",
         "kategori": "IT", "budgetansvar": "RS", "belopp": D(4500), "avskrivningstid": 5},
        {"omrade": "Regionstaben/Fastighet", "objekt": "Anpassning kanslihus",
         "typ": "Nyinvestering", "kategori": "Fastighet", "budgetansvar": "RS",
         "belopp": D(12000), "avskrivningstid": 20},
        {"omrade": "Regionstaben/IT", "objekt": "Servrar", "typ": "Reinvestering",
         "kategori": "IT", "budgetansvar": "RS", "belopp": D(3200), "avskrivningstid": 5},
    ]
    data.tables["Prognos"] = [
        {"omrade": "Regiondirektör", "budget": D("-51.7"), "utfall": D("-13.1"),
         "prognos": D("-52.0")},
        {"omrade": "Regionstaben", "budget": D("-725.9"), "utfall": D("-178.4"),
         "prognos": D("-720.3")},
        {"omrade": "Vårdval", "budget": D("-949.6"), "utfall": D("-240.2"), "prognos": D("-955.0")},
        {"omrade": "Politisk verksamhet", "budget": D("-31.5"), "utfall": D("-7.6"),
         "prognos": D("-31.5")},
    ]
    data.tables["Finansiering"] = [
        {"post": "Skatteintäkter", "belopp": D("3739.0")},
        {"post": "Generella statsbidrag", "belopp": D("1276.7")},
        {"post": "Läkemedelsbidrag", "belopp": D("510.5")},
        {"post": "Finansiella intäkter", "belopp": D("28.5")},
        {"post": "Finansiella kostnader", "belopp": D("-252.7")},
    ]
    return data


def hsn(year: int = YEAR, *, slips: bool = True) -> PlanbokData:
    data = PlanbokData("HSN", year, info={
        "Nämndnamn": "Hälso- och sjukvårdsnämnden", "Diarienummer": f"HSN/1528/{year - 1}",
        "Investeringsram": D(25000), "Ekonomiskt gap": D("520.0"),
        "Rapportmånad": f"{year}-03", "Kontaktperson": "Per Lind",
        "E-post": "per.lind@region.example", "Status": "Utkast",
    })
    data.tables["Budgetram"] = [
        _br("Hälso- och sjukvårdsdirektör", T, "15.2", "40.1", "-120.5", "-5.0", "-210.4", "-2.1",
            "-30.2"),
        _br("Division Medicin", T, "80.3", "45.6", "-1150.2", "-640.7", "-380.1", "-25.4",
            "-260.9"),
        _br("Division Kirurgi", T, "95.1", "60.2", "-1040.6", "-210.3", "-410.8", "-30.1",
            "-217.7"),
        _br("Division nära vård", T, "120.4", "30.5", "-980.3", "-310.2", "-290.6", "-12.8",
            "-140.1"),
        _br("Nämndens verksamhet", F, "", "0.6", "-2.9", "", "-0.8", "", ""),
    ]
    data.tables["Nettoram"] = [
        {"budgettyp": T, "ram_fg": D("-5813.3"), "ram": D("-5981.6"), "plan_1": D("-5950.0"),
         "plan_2": D("-5990.0")},
        {"budgettyp": F, "ram_fg": D("-3.1"), "ram": D("-3.1"), "plan_1": D("-3.1"),
         "plan_2": D("-3.1")},
    ]
    data.tables["Ramforandringar"] = [
        {"typ": "Uppräkning", "beskrivning": "LPIK exkl. läkemedel", "belopp": D("96.2")},
        {"typ": "Omdisponering", "beskrivning": "Regional samordning till RS",
         "diarienummer": f"RS/482/{year - 1}", "fran": "HSN", "till": "RS", "belopp": D("-4.5"),
         "belopp_1": D("-4.5"), "belopp_2": D("-4.5")},
        {"typ": "Riktat statsbidrag", "beskrivning": "Kömiljard", "belopp": D("9.0")},
        {"typ": "Inprioritering", "beskrivning": "Ökade läkemedelskostnader",
         "belopp": D("67.6")},
    ]
    data.tables["Atgardsplan"] = [
        {"typ": "Personalkostnader", "atgard": "Minskad hyrpersonal",
         "konsekvens": "Stabilare bemanning", "mal": "95 % egenanställd personal",
         "status": "Pågår", "overvaltring": "Nej", "kvalitetssankning": "Nej",
         "effekt": D("120.0"), "effekt_1": D("180.0"), "effekt_2": D("200.0")},
        {"typ": "Övriga kostnader/intäkter", "atgard": "Samordnade inköp av förbrukning",
         "konsekvens": "Färre artiklar", "status": "Planerad", "overvaltring": "Nej",
         "kvalitetssankning": "Nej", "effekt": D("40.0"), "effekt_1": D("60.0")},
        {"typ": "Kompetensförsörjning", "atgard": "Färre vårdplatser i sommar",
         "konsekvens": "Längre väntetider", "status": "Planerad", "overvaltring": "Nej",
         "kvalitetssankning": "Ja", "riskbedomd": "Ja", "effekt": D("25.0"),
         "effekt_1": D("25.0"), "effekt_2": D("25.0")},
    ]
    data.tables["Investeringar"] = [
        {"omrade": "Division Kirurgi", "objekt": "Operationsbord", "typ": "Reinvestering",
         "kategori": "Övrigt", "budgetansvar": "HSN", "belopp": D(9000), "avskrivningstid": 10},
        {"omrade": "Division Medicin", "objekt": "Röntgenutrustning", "typ": "Nyinvestering",
         "kategori": "Medicinteknik", "budgetansvar": "RS", "belopp": D(8500),
         "avskrivningstid": 8},
        {"omrade": "Division nära vård", "objekt": "Vårdcentral, ombyggnad",
         "typ": "Nyinvestering", "kategori": "Fastighet", "budgetansvar": "HSN",
         "belopp": D(9500), "avskrivningstid": 20},
    ]
    data.tables["Prognos"] = [  # Budget = each område's net in Budgetram
        {"omrade": "Hälso- och sjukvårdsdirektör", "budget": D("-312.9"), "utfall": D("-80.1"),
         "prognos": D("-310.0")},
        {"omrade": "Division Medicin", "budget": D("-2331.4"), "utfall": D("-610.2"),
         "prognos": D("-2372.0")},
        {"omrade": "Division Kirurgi", "budget": D("-1754.2"), "utfall": D("-450.9"),
         "prognos": D("-1781.5")},
        {"omrade": "Division nära vård", "budget": D("-1583.1"), "utfall": D("-401.7"),
         "prognos": D("-1600.4")},
        {"omrade": "Nämndens verksamhet", "budget": D("-3.1"), "utfall": D("-0.8"),
         "prognos": D("-3.1")},
    ]
    if slips:
        _add_slips(data)
    return data


def _add_slips(data: PlanbokData) -> None:
    # The council's frame is 20 000 tkr; the investments HSN holds are 18 500 + ... over it.
    data.info["Investeringsram"] = D(15000)
    # Division Kirurgi's net is -1754.2; typed as -1745.2 (two digits swapped).
    data.typed[("Budgetram", 2, "nettobudget")] = D("-1745.2")
    # The totals row of Interna intäkter leaves out the förtroendemannabudget row (0,6).
    data.typed[("Budgetram", -1, "interna_intakter")] = D("176.4")
    # A measure that shifts costs to the municipalities, and a quality cut not risk-assessed.
    data.tables["Atgardsplan"] = [
        *data.tables["Atgardsplan"],
        {"typ": "Övriga kostnader/intäkter", "atgard": "Hemsjukvård till kommunerna",
         "konsekvens": "Kommunerna tar kostnaden", "status": "Idé", "overvaltring": "Ja",
         "kvalitetssankning": "Nej", "effekt": D("15.0"), "effekt_1": D("15.0"),
         "effekt_2": D("15.0")},
        {"typ": "Kompetensförsörjning", "atgard": "Stängd akutmottagning nattetid",
         "konsekvens": "Längre resväg", "status": "Idé", "overvaltring": "Nej",
         "kvalitetssankning": "Ja", "effekt": D("12.0"), "effekt_1": "Mål 95 % 20 mkr",
         "effekt_2": D("20.0")},
    ]


# The slips _add_slips plants in HSN, each once, as (code, sheet, cell): one error each.
# A figure that is wrong only because of one of them (the net column's total, Nettoram,
# Prognos' Budget for Kirurgi) is a note naming it, not another error.
PLANTED: tuple[tuple[str, str, str], ...] = (
    ("nettofel", "Budgetram", "J7"),  # Kirurgi's net with two digits swapped
    ("summeringsfel", "Budgetram", "D10"),  # a total that leaves out the 0,6 row
    ("overvaltring", "Åtgärdsplan", "F8"),  # costs shifted to the municipalities
    ("ej-riskbedomd", "Åtgärdsplan", "H9"),  # a quality cut not risk-assessed
    ("ej-tal", "Åtgärdsplan", "J9"),  # a target typed into an amount cell
    ("over-investeringsram", "Investeringar", "G8"),  # 18 500 tkr over a 15 000 tkr frame
)
PLANTED_IN = "HSN"


def run(year: int = YEAR) -> PlanbokData:
    data = PlanbokData("RUN", year, info={
        "Nämndnamn": "Regionala utvecklingsnämnden", "Diarienummer": f"RUN/210/{year - 1}",
        "Belopp i": "tkr", "Investeringsram": D(2000), "Rapportmånad": f"{year}-03",
        "Kontaktperson": "Sara Berg", "E-post": "sara.berg@region.example", "Status": "Klar",
    })
    data.tables["Budgetram"] = [
        _br("Kultur", T, "12400", "1200", "-35600", "", "-48250", "-800", "-4100"),
        _br("Regional utveckling", T, "58300", "", "-41200", "", "-96700", "-300", "-6900"),
        _br("Nämnden", F, "", "", "-2100", "", "-450", "", ""),
    ]
    data.tables["Investeringar"] = [
        {"omrade": "Kultur", "objekt": "Scenteknik", "typ": "Reinvestering", "kategori": "Övrigt",
         "budgetansvar": "RUN", "belopp": D(1500), "avskrivningstid": 7},
    ]
    return data


def write_demo(out: Path, year: int = YEAR) -> list[Path]:
    """Write the demo into ``out``, a new or empty folder: it never overwrites a file."""
    from xlplan.errors import OutputError, os_reason

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out} finns redan och är inte en tom mapp; demon skriver aldrig över "
                          "filer. Ange en ny eller tom mapp med --out, t.ex. --out demo-ny.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Mappen {out} kan inte skapas ({os_reason(exc)}); ange en annan med "
                          "--out.") from None
    paths = []
    for data in (rs(year), hsn(year), run(year)):
        path = out / f"planbok-{data.namnd}-{year}.xlsx"
        write_planbok(path, data)
        paths.append(path)
    return paths
