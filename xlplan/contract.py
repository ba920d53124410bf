"""The planbok contract (version 1) as data: table names, headers, column kinds.

Everything that names a table or a header lives here; readers, rules, the
template generator and the README's contract section all read it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

CONTRACT_VERSION = 1


class Kind(Enum):
    TEXT = "text"
    CHOICE = "choice"  # text from a closed set
    AMOUNT = "amount"  # money; summed in the totals row
    NUMBER = "number"  # a number that is not money (a year, a depreciation period)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str  # with "{Y}", "{Y-1}", "{Y+1}", "{Y+2}" for year headers
    kind: Kind = Kind.TEXT
    choices: tuple[str, ...] = ()
    formula: bool = False  # the template holds a formula in every data row
    width: int = 14

    @property
    def year_offset(self) -> int | None:
        m = _YEAR_PLACEHOLDER.search(self.header)
        if m is None:
            return None
        return int(m.group(1) or 0)

    @property
    def prefix(self) -> str:
        return _YEAR_PLACEHOLDER.sub("", self.header).strip()

    def header_for(self, year: int | None) -> str:
        offset = self.year_offset
        if offset is None:
            return self.header
        if year is None:
            return self.header.replace("{", "").replace("}", "")
        return _YEAR_PLACEHOLDER.sub(str(year + offset), self.header)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    sheet: str  # the sheet the templates put it on; readers ignore it
    title: str
    columns: tuple[Column, ...]
    required: bool = False
    totals: bool = True
    amounts_in_tkr: bool = False  # Investeringar is always tkr

    def column(self, key: str) -> Column:
        return _COLUMNS[self.name][key]

    def has_key(self, key: str) -> bool:
        return key in _COLUMNS[self.name]

    @property
    def amount_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns if c.kind is Kind.AMOUNT)


_YEAR_PLACEHOLDER = re.compile(r"\{Y([+-]\d)?\}")

TJANSTEMANNABUDGET = "Tjänstemannabudget"
FORTROENDEMANNABUDGET = "Förtroendemannabudget"
BUDGETTYPER = (TJANSTEMANNABUDGET, FORTROENDEMANNABUDGET)
JA_NEJ = ("Ja", "Nej")
INVESTERINGSTYPER = ("Nyinvestering", "Reinvestering")
KATEGORIER = ("Fastighet", "Medicinteknik", "IT", "Övrigt")
RAMFORANDRINGSTYPER = (
    "Uppräkning",
    "Omdisponering",
    "Inprioritering",
    "Riktat statsbidrag",
    "Besparing",
    "Övrigt",
)
ENHETER = ("mkr", "tkr")
STATUSAR = ("Utkast", "Klar")

INCOME_KEYS = ("externa_intakter", "interna_intakter")
COST_KEYS = (
    "personalkostnader",
    "lakemedel",
    "ovriga_externa_kostnader",
    "avskrivningar",
    "interna_kostnader",
)
NET_PARTS = INCOME_KEYS + COST_KEYS

INFO = Table(
    name="Info",
    sheet="Info",
    title="Grunduppgifter",
    columns=(Column("falt", "Fält", width=22), Column("varde", "Värde", width=34)),
    required=True,
    totals=False,
)

# Info › Fält, in template order, with a short Swedish hint for the template.
INFO_FIELDS: tuple[tuple[str, str], ...] = (
    ("Nämnd", "Nämndens kod, t.ex. HSN"),
    ("Nämndnamn", "T.ex. Hälso- och sjukvårdsnämnden"),
    ("Budgetår", "Fyra siffror, t.ex. 2025"),
    ("Diarienummer", "T.ex. HSN/1528/2024"),
    ("Belopp i", "mkr eller tkr"),
    ("Investeringsram", "tkr, fastställd av regionfullmäktige"),
    ("Ekonomiskt gap", "Gapet som åtgärdsplanen ska täcka, positivt, i Belopp i"),
    ("Rapportmånad", "ÅÅÅÅ-MM, månaden som Prognos avser"),
    ("Kontaktperson", "Ansvarig ekonom"),
    ("E-post", "Ansvarig ekonoms e-post"),
    ("Status", "Utkast eller Klar"),
    ("Mallversion", "Kontraktets version"),
)

BUDGETRAM = Table(
    name="Budgetram",
    sheet="Budgetram",
    title="Budgetram per område",
    columns=(
        Column("omrade", "Område", width=28),
        Column("budgettyp", "Budgettyp", Kind.CHOICE, BUDGETTYPER, width=22),
        Column("externa_intakter", "Externa intäkter", Kind.AMOUNT),
        Column("interna_intakter", "Interna intäkter", Kind.AMOUNT),
        Column("personalkostnader", "Personalkostnader", Kind.AMOUNT),
        Column("lakemedel", "Läkemedel", Kind.AMOUNT),
        Column("ovriga_externa_kostnader", "Övriga externa kostnader", Kind.AMOUNT, width=16),
        Column("avskrivningar", "Avskrivningar", Kind.AMOUNT),
        Column("interna_kostnader", "Interna kostnader", Kind.AMOUNT),
        Column("nettobudget", "Nettobudget", Kind.AMOUNT, formula=True),
    ),
    required=True,
)

NETTORAM = Table(
    name="Nettoram",
    sheet="Nettoram",
    title="Nettoram över åren",
    columns=(
        Column("budgettyp", "Budgettyp", Kind.CHOICE, BUDGETTYPER, width=24),
        Column("ram_fg", "Budgetram {Y-1}", Kind.AMOUNT, width=16),
        Column("ram", "Budgetram {Y}", Kind.AMOUNT, width=16),
        Column("plan_1", "Plan {Y+1}", Kind.AMOUNT),
        Column("plan_2", "Plan {Y+2}", Kind.AMOUNT),
    ),
)

RAMFORANDRINGAR = Table(
    name="Ramforandringar",
    sheet="Ramförändringar",
    title="Ramförändringar",
    columns=(
        Column("typ", "Typ", Kind.CHOICE, RAMFORANDRINGSTYPER, width=18),
        Column("beskrivning", "Beskrivning", width=40),
        Column("diarienummer", "Diarienummer", width=16),
        Column("fran", "Från", width=8),
        Column("till", "Till", width=8),
        Column("belopp", "Belopp {Y}", Kind.AMOUNT),
        Column("belopp_1", "Belopp {Y+1}", Kind.AMOUNT),
        Column("belopp_2", "Belopp {Y+2}", Kind.AMOUNT),
    ),
)

ATGARDSPLAN = Table(
    name="Atgardsplan",
    sheet="Åtgärdsplan",
    title="Åtgärdsplan för ekonomi i balans",
    columns=(
        Column("typ", "Typ av åtgärd", width=24),
        Column("atgard", "Åtgärd", width=36),
        Column("konsekvens", "Konsekvens", width=36),
        Column("mal", "Mål", width=24),
        Column("status", "Status", width=12),
        Column("overvaltring", "Övervältring", Kind.CHOICE, JA_NEJ, width=12),
        Column("kvalitetssankning", "Kvalitetssänkning", Kind.CHOICE, JA_NEJ, width=16),
        Column("riskbedomd", "Riskbedömd", Kind.CHOICE, JA_NEJ, width=12),
        Column("effekt", "Effekt {Y}", Kind.AMOUNT),
        Column("effekt_1", "Effekt {Y+1}", Kind.AMOUNT),
        Column("effekt_2", "Effekt {Y+2}", Kind.AMOUNT),
    ),
)

INVESTERINGAR = Table(
    name="Investeringar",
    sheet="Investeringar",
    title="Investeringsplan (tkr)",
    columns=(
        Column("omrade", "Område/Avdelning/Enhet", width=28),
        Column("objekt", "Objekt", width=32),
        Column("typ", "Investeringstyp", Kind.CHOICE, INVESTERINGSTYPER, width=16),
        Column("kategori", "Kategori", Kind.CHOICE, KATEGORIER, width=14),
        Column("budgetansvar", "Budgetansvar", width=14),
        Column("ar", "År", Kind.NUMBER, width=8),
        Column("belopp", "Belopp (tkr)", Kind.AMOUNT),
        Column("avskrivningstid", "Avskrivningstid (år)", Kind.NUMBER, width=18),
    ),
    amounts_in_tkr=True,
)

PROGNOS = Table(
    name="Prognos",
    sheet="Prognos",
    title="Prognos",
    columns=(
        Column("omrade", "Område", width=28),
        Column("budget", "Budget", Kind.AMOUNT),
        Column("utfall", "Utfall ackumulerat", Kind.AMOUNT, width=18),
        Column("prognos", "Helårsprognos", Kind.AMOUNT),
        Column("avvikelse", "Avvikelse", Kind.AMOUNT, formula=True),
    ),
)

FINANSIERING = Table(
    name="Finansiering",
    sheet="Finansiering",
    title="Finansiering (finansförvaltningen)",
    columns=(Column("post", "Post", width=30), Column("belopp", "Belopp {Y}", Kind.AMOUNT)),
)

TABLES: tuple[Table, ...] = (
    INFO,
    BUDGETRAM,
    NETTORAM,
    RAMFORANDRINGAR,
    ATGARDSPLAN,
    INVESTERINGAR,
    PROGNOS,
    FINANSIERING,
)

FINANSIERINGSPOSTER = (
    "Skatteintäkter",
    "Generella statsbidrag",
    "Läkemedelsbidrag",
    "Finansiella intäkter",
    "Finansiella kostnader",
)

_COLUMNS: dict[str, dict[str, Column]] = {t.name: {col.key: col for col in t.columns}
                                          for t in TABLES}

# CODE/NUMBER/YEAR; NUMBER may hold ":" (RS/216:13/2019)
DIARIENUMMER = re.compile(r"^[A-ZÅÄÖ]{1,10}[/:]\d{1,6}(?::\d{1,6})*[/:]\d{4}$")
NAMND_CODE = re.compile(r"^[A-ZÅÄÖ]{1,10}$")


@lru_cache(maxsize=8192)
def norm(text: str) -> str:
    """Header/choice matching: Unicode NFKC, trimmed, inner whitespace collapsed, no case."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def table_by_name(name: str) -> Table | None:
    n = norm(name)
    for table in TABLES:
        if norm(table.name) == n:
            return table
    return None


def match_choice(value: str, choices: tuple[str, ...]) -> str | None:
    n = norm(value)
    for choice in choices:
        if norm(choice) == n:
            return choice
    return None
