"""Findings and the one catalogue of finding codes.

A code is stable: users, scripts and tests rely on it. Its message template
may improve freely. The README lists every code from :data:`CATALOGUE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import Any

from xlplan.numbers import to_json
from xlplan.text import clean


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def swedish(self) -> str:
        return {"error": "Fel", "warning": "Varning", "info": "Info"}[self.value]


@dataclass(frozen=True, slots=True)
class Entry:
    severity: Severity
    meaning: str  # what the code means, for the README (Swedish)
    template: str  # message template, str.format fields


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: note (info)

CATALOGUE: dict[str, Entry] = {
    # --- the contract: tables, headers, Info ---------------------------------
    "tabell-saknas": Entry(
        E, "En obligatorisk tabell finns inte i arbetsboken.",
        "Tabellen {table} saknas. Lägg till den från mallen (Excel-tabell med namnet {table}).",
    ),
    "kolumn-saknas": Entry(
        E, "En kolumn som kontraktet kräver saknas eller har bytt namn.",
        "Tabellen {table} saknar kolumnen \"{header}\".",
    ),
    "dubbel-kolumn": Entry(
        E, "Samma kolumnrubrik finns två gånger i en tabell.",
        "Kolumnen \"{header}\" finns två gånger i tabellen {table}; bara den första används.",
    ),
    "fel-ar-i-rubrik": Entry(
        E, "Ett årtal i en kolumnrubrik passar inte budgetåret i Info.",
        "Rubriken \"{header}\" passar inte budgetåret {year}. Väntat: {expected_headers}.",
    ),
    "extra-kolumn": Entry(
        N, "En kolumn utanför kontraktet; den läses inte.",
        "Kolumnen \"{header}\" ingår inte i mallen och läses inte.",
    ),
    "info-saknas": Entry(
        E, "Ett obligatoriskt fält i Info saknas eller är tomt.",
        "Info saknar {field}. {hint}",
    ),
    "ogiltigt-info-varde": Entry(
        E, "Ett fält i Info har ett värde som inte går att använda.",
        "{field} i Info har värdet \"{value}\". {hint}",
    ),
    "info-varning": Entry(
        W, "Ett fält i Info ser fel ut men hindrar inte beräkningarna.",
        "{field} i Info har värdet \"{value}\". {hint}",
    ),
    "okand-mallversion": Entry(
        W, "Mallversionen i Info är inte den xlplan läser.",
        "Mallversion {value} är okänd; xlplan läser version {wanted}. Kontrollera resultatet extra noga.",
    ),
    "dolt-blad": Entry(
        W, "En kontraktstabell ligger på ett dolt blad.",
        "Tabellen {table} ligger på bladet \"{sheet_name}\" som är dolt. Den läses, men visa bladet så att alla ser vad som räknas.",
    ),
    "tom-tabell": Entry(
        N, "Tabellen har inga ifyllda rader.",
        "Tabellen {table} har inga ifyllda rader.",
    ),
    "totalrad-saknas": Entry(
        N, "Tabellen saknar summarad; det finns ingen summa att kontrollera.",
        "Tabellen {table} har ingen summarad; summorna kontrolleras inte.",
    ),
    "summarad-som-datarad": Entry(
        N, "Sista raden är en summarad men tabellen har ingen Excel-summarad; den läses som summarad.",
        "Sista raden i {table} ({label}) läses som tabellens summarad. Slå gärna på Excels summarad i stället.",
    ),
    # --- cells ----------------------------------------------------------------
    "tal-som-text": Entry(
        W, "Ett belopp är skrivet som text men går att läsa som tal.",
        "{column} i {cell} är text (\"{text}\") men läses som talet {value}. Skriv talet som tal.",
    ),
    "ej-tal": Entry(
        E, "Ett belopp är inte ett tal (text, sanningsvärde, datum); det räknas som saknat.",
        "{column} i {cell} ska vara ett belopp men innehåller {what}. Flytta texten till en textkolumn och skriv bara talet.",
    ),
    "felvarde": Entry(
        E, "Cellen innehåller ett Excel-felvärde som #REF! eller #DIV/0!.",
        "{column} i {cell} innehåller felvärdet {text}. Rätta formeln eller skriv in beloppet.",
    ),
    "formel-utan-varde": Entry(
        E, "En formel som inte är mallens saknar beräknat värde (mallens egna formler räknar xlplan ut).",
        "{column} i {cell} är en formel utan beräknat värde. Öppna filen i Excel, räkna om och spara.",
    ),
    "ogiltigt-varde": Entry(
        E, "Ett värde hör inte till kolumnens tillåtna värden.",
        "{column} i {cell} är \"{value}\". Tillåtna värden: {allowed}.",
    ),
    "saknat-varde": Entry(
        W, "En rad med belopp saknar en text som behövs för att förstå den.",
        "Raden {row} har belopp men {column} ({cell}) är tom.",
    ),
    "sammanslagna-celler": Entry(
        W, "Sammanslagna celler i en tabell; bara den första cellen har ett värde.",
        "Cellerna {range} i {table} är sammanslagna. Bara {cell} har ett värde; de andra räknas som tomma.",
    ),
    "delsumma-i-tabell": Entry(
        W, "En rad inne i tabellen är en delsumma (Summa …); den räknas inte som data.",
        "Raderna {rows} i {table} är delsummor. De räknas inte in i summorna; lägg dem utanför tabellen eller låt Excels summarad räkna.",
    ),
    "dolda-rader": Entry(
        W, "Tabellen har dolda rader; SUBTOTAL i summaraden räknar inte med dem.",
        "Tabellen {table} har dolda rader ({rows}). De räknas med i kontrollen, men SUBTOTAL i summaraden hoppar över dem.",
    ),
    # --- arithmetic -------------------------------------------------------------
    "summeringsfel": Entry(
        E, "En summa i summaraden stämmer inte med summan av raderna.",
        "Summan i {cell} ({shown}) stämmer inte med raderna ovanför ({wanted}). Skillnaden är {diff}.{hint}",
    ),
    "nettofel": Entry(
        E, "Nettobudget stämmer inte med summan av radens sju beloppskolumner.",
        "Nettobudget i {cell} ({shown}) stämmer inte med summan av radens belopp ({wanted}). Skillnaden är {diff}.{hint}",
    ),
    "avvikelsefel": Entry(
        E, "Avvikelse stämmer inte med Helårsprognos − Budget.",
        "Avvikelse i {cell} ({shown}) ska vara Helårsprognos − Budget = {wanted}. Skillnaden är {diff}.",
    ),
    "formel-overskriven": Entry(
        W, "Där mallen har en formel står ett inskrivet tal.",
        "{column}: {count} cell(er) ({cells}) har inskrivna tal där mallen har en formel. Talen kontrolleras, men räknas inte längre om automatiskt.",
    ),
    "avrundningsdifferens": Entry(
        W, "Två belopp som ska vara lika skiljer sig med högst en enhet av det grövre beloppets avrundning.",
        "{what}: {shown} i {cell} mot {wanted}. Skillnaden {diff} ryms i avrundningen.",
    ),
    # --- Budgetram and Nettoram ------------------------------------------------
    "teckenfel": Entry(
        W, "En intäkt är negativ eller en kostnad positiv.",
        "{column} i {cell} är {value}. {hint}",
    ),
    "nettoram-avvikelse": Entry(
        E, "Nettoram › Budgetram år Y stämmer inte med Budgetram-tabellens netto för budgettypen.",
        "{what}: {shown} i {cell} stämmer inte med Budgetram-tabellens netto {wanted}. Skillnaden är {diff}.",
    ),
    # --- Åtgärdsplan -------------------------------------------------------------
    "overvaltring": Entry(
        E, "En åtgärd flyttar kostnader till andra enheter eller nämnder (övervältring).",
        "Åtgärden på rad {row} ({name}) har Övervältring = Ja ({cell}). Åtgärder får inte vältra över kostnader på andra.",
    ),
    "ej-riskbedomd": Entry(
        E, "En åtgärd som sänker kvaliteten är inte riskbedömd.",
        "Åtgärden på rad {row} ({name}) sänker kvaliteten men är inte riskbedömd ({cell}). Gör en riskbedömning och skriv Ja.",
    ),
    "negativ-effekt": Entry(
        W, "En åtgärds effekt är negativ; effekter skrivs som positiva tal.",
        "{column} i {cell} är {value}. Effekter skrivs som positiva tal (pengar som sparas eller tjänas).",
    ),
    "effekter-summerade": Entry(
        W, "En kolumn lägger ihop åtgärdsplanens år; åren mäts var för sig mot basåret.",
        "Kolumnen \"{header}\" ({cell}) lägger ihop effekterna för flera år. Varje år mäts mot basårets ram och ska inte läggas ihop.",
    ),
    # --- Investeringar -----------------------------------------------------------
    "over-investeringsram": Entry(
        E, "Investeringarna nämnden har budgetansvar för överskrider investeringsramen.",
        "Investeringar {year} med budgetansvar {namnd} är {shown} tkr, över investeringsramen {wanted} tkr med {diff} tkr.",
    ),
    "investeringsram-saknas": Entry(
        W, "Det finns investeringar men ingen investeringsram i Info.",
        "Det finns investeringar med budgetansvar {namnd} men Investeringsram saknas i Info.",
    ),
    "ogiltig-avskrivningstid": Entry(
        E, "Avskrivningstiden saknas eller är inte ett positivt antal år.",
        "Avskrivningstid i {cell} är {value}. Ange antal år (t.ex. 5).",
    ),
    "avskrivningstid-saknas": Entry(
        W, "En investering saknar avskrivningstid; driftkostnaden kan inte beräknas.",
        "Avskrivningstid saknas i {cell}. Ange antal år så att avskrivningen kan beräknas.",
    ),
    "ogiltigt-ar": Entry(
        E, "Ett år är inte ett fyrsiffrigt år.",
        "År i {cell} är {value}. Ange ett år med fyra siffror eller lämna tomt för budgetåret.",
    ),
    # --- Ramförändringar ---------------------------------------------------------
    "omdisponering-ofullstandig": Entry(
        E, "En omdisponering saknar diarienummer eller Från/Till.",
        "Omdisponeringen på rad {row} saknar {missing} ({cell}).",
    ),
    "omdisponering-fel-namnd": Entry(
        E, "En omdisponering har inte den egna nämnden som Från eller Till.",
        "Omdisponeringen på rad {row} går från {fran} till {till}; minst en av dem ska vara {namnd} ({cell}).",
    ),
    "omdisponering-tecken": Entry(
        W, "Beloppets tecken passar inte omdisponeringens riktning.",
        "Omdisponeringen på rad {row} går {direction} men beloppet i {cell} är {value}. Pengar in skrivs positivt, pengar ut negativt.",
    ),
    "oforklarad-ramforandring": Entry(
        W, "Det ramen fått mot föregående år (Budgetram Y-1 − Budgetram Y) förklaras inte av Ramförändringar.",
        "Ramen har fått {change} mot {prev_year} (Budgetram {prev_year} − Budgetram i år; pengar in positivt), men Ramförändringar förklarar {explained}. {diff} är oförklarat.",
    ),
    "ogiltigt-diarienummer": Entry(
        W, "Ett diarienummer följer inte mönstret KOD/NUMMER/ÅR.",
        "Diarienumret \"{value}\" i {cell} följer inte mönstret KOD/NUMMER/ÅR (t.ex. RS/482/2023).",
    ),
}

# Rounding, root causes, formulas without results, transfers inside a nämnd, Prognos
# against Budgetram (issue 13).
CATALOGUE.update(
    {
        "formel-beraknad": Entry(
            N, "Mallens formler saknade beräknat värde (filen sparades utan resultat); xlplan räknade ut dem ur deras delar.",
            "{count} av mallens formler i {table} saknade beräknat värde (filen sparades av ett annat program än Excel). xlplan räknade ut dem ur deras delar: {cells}.",
        ),
        "foljdfel": Entry(
            N, "Ett belopp stämmer inte, men bara för att en rad det bygger på är fel eller en kolumn saknas; felet rapporteras där.",
            "{what} i {cell} ({shown}) stämmer inte med {against} ({wanted}), men det följer av felet i {roots}. Rätta {roots} först.",
        ),
        "omdisponering-intern-obalans": Entry(
            E, "En omdisponering inom nämnden nettar inte till noll i planboken.",
            "Omdisponeringen {diarienummer} inom {namnd} ({cells}) nettar inte till noll för {column}: summan är {total}.",
        ),
        "prognos-omrade-saknas": Entry(
            W, "Ett område i Budgetram saknar rad i Prognos.",
            "Området \"{omrade}\" ({cell}) finns i Budgetram men saknar rad i Prognos.",
        ),
        "prognos-okant-omrade": Entry(
            W, "En rad i Prognos har ett område som inte finns i Budgetram.",
            "Området \"{omrade}\" i Prognos ({cell}) finns inte i Budgetram.",
        ),
        "prognos-budget-avvikelse": Entry(
            W, "Prognos › Budget stämmer inte med områdets netto i Budgetram.",
            "Budget för {omrade} i Prognos ({cell}: {shown}) stämmer inte med områdets netto i Budgetram ({wanted}). Skillnaden är {diff}.",
        ),
    }
)

# Codes used by consolidation (cross-nämnd); kept here so there is one catalogue.
CATALOGUE.update(
    {
        "omdisponering-omatchad": Entry(
            E, "En omdisponering finns bara hos en av nämnderna.",
            "Omdisponeringen {diarienummer} ({fran} → {till}, {amount}) i {file} finns inte hos {other}.",
        ),
        "omdisponering-olika-belopp": Entry(
            E, "En omdisponering är bokad med olika belopp hos de två nämnderna.",
            "Omdisponeringen {diarienummer} nettar inte till noll: {detail}.",
        ),
        "interna-poster-obalans": Entry(
            W, "Interna intäkter och interna kostnader tar inte ut varandra i regionen.",
            "Interna intäkter ({income}) och interna kostnader ({cost}) i regionen skiljer sig med {diff} mkr.",
        ),
        "inaktuell-rapportmanad": Entry(
            W, "En planbok avser en annan (äldre) rapportmånad än de andra i inkorgen.",
            "{file} ({namnd}) avser rapportmånad {month}, de flesta andra {common}. Är det en gammal fil?",
        ),
        "namnd-saknas": Entry(
            W, "En nämnd som regionen väntar sig saknas i inkorgen.",
            "Planbok saknas för {namnd}.",
        ),
        "fil-oanvand": Entry(
            W, "En fil användes inte (nyare fil för samma nämnd, eller oläsbar).",
            "{file} användes inte: {reason}",
        ),
    }
)


# Codes for hostile or oversized input (limits in xlplan.limits).
CATALOGUE.update(
    {
        "fler-fynd": Entry(
            W, "Filen har fler fynd än rapporten visar; de första visas, resten räknas.",
            "Ytterligare {count} fynd visas inte ({errors} fel, {warnings} varningar). Rätta "
            "de fel som visas och kontrollera igen.",
        ),
    }
)


CODES: tuple[str, ...] = ("fler-fynd",)  # the code this module produces itself (capped)


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: its code, where it is, and the parameters its message is rendered from.

    ``parameters`` fill the catalogue's template for ``code`` (text already cleaned);
    ``file`` names the file a finding across files belongs to (consolidation's controls),
    ``"(regionen)"`` or ``"(inkorgen)"`` for the region or the inbox as a whole, and is None
    for a finding inside one planbok."""

    severity: Severity
    code: str
    sheet: str | None
    cell: str | None
    parameters: dict[str, object] = field(default_factory=dict, hash=False)
    expected: Decimal | str | None = None
    actual: Decimal | str | None = None
    file: str | None = None

    @property
    def message(self) -> str:
        """The Swedish message, rendered from the catalogue's template."""
        return CATALOGUE[self.code].template.format(**self.parameters)

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "expected": _json_value(self.expected),
            "actual": _json_value(self.actual),
            "parameters": {k: _json_parameter(v) for k, v in self.parameters.items()},
        }


def _json_value(v: Decimal | str | None) -> str | None:
    if isinstance(v, Decimal):
        return to_json(v)
    return v


def _json_parameter(v: object) -> object:
    if isinstance(v, Decimal):
        return to_json(v)
    if v is None or isinstance(v, bool | int | str):
        return v
    return str(v)


def finding(
    code: str,
    sheet: str | None,
    at: str | None,
    *,
    expected: Decimal | str | None = None,
    actual: Decimal | str | None = None,
    in_file: str | None = None,
    **fields: object,
) -> Finding:
    """Build a finding at cell ``at`` from the catalogue; ``fields`` are its parameters, which
    fill the message template (every field the template names must be given: checked here).
    The template's ``{cell}`` is ``at`` unless ``fields`` names it (a figure no one cell holds).

    Every text field, the sheet, the cell and the file are cleaned here
    (:func:`xlplan.text.clean`), where the finding is made: workbook text reaches a
    terminal, a sheet or a mail only through a finding, never raw."""
    entry = CATALOGUE[code]
    fields.setdefault("cell", at)
    safe = {k: clean(v) if isinstance(v, str) else v for k, v in fields.items()}
    entry.template.format(**safe)  # a missing field fails where the finding is made
    return Finding(entry.severity, code, clean(sheet) if sheet else sheet,
                   clean(at) if at else at, safe,
                   clean(expected) if isinstance(expected, str) else expected,
                   clean(actual) if isinstance(actual, str) else actual,
                   clean(in_file) if in_file else in_file)


def capped(findings: list[Finding], limit: int) -> list[Finding]:
    """At most ``limit`` findings (in the order given), the rest summed up in one finding; an
    error among the rest makes the summary an error, so a file never looks better than it is."""
    if len(findings) <= limit:
        return findings
    rest = findings[limit:]
    errors, warnings = counts(rest)
    def sv(n: int) -> str:
        return f"{n:,}".replace(",", "\u00a0")

    summary = finding("fler-fynd", None, None, count=sv(len(rest)), errors=sv(errors),
                      warnings=sv(warnings))
    if errors:
        summary = replace(summary, severity=Severity.ERROR)
    return [*findings[:limit], summary]


def or_list(items: list[str] | tuple[str, ...]) -> str:
    """Swedish enumeration: ``a, b eller c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " eller " + items[-1]


def counts(findings: list[Finding]) -> tuple[int, int]:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    return errors, warnings
