"""The Sammanfattning as rows: one layout for the terminal, a sheet in Excel and a file.

A row is a list of cells; a cell is text, an :class:`Amount`, a :class:`Share` or None.
The Excel "Beräkna" button writes these rows to a sheet; ``xlplan summary`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xlplan.numbers import format_sv
from xlplan.summary.compute import Summary


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    unit: str  # "mkr" or "tkr"

    def text(self) -> str:
        return format_sv(self.value, 1 if self.unit == "mkr" else 0)


@dataclass(frozen=True, slots=True)
class Share:
    value: Decimal  # a fraction: 0.0123 = 1,2 %

    def text(self) -> str:
        return format_sv(self.value * 100, 1) + " %"


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


SheetCell = str | Amount | Share | Heading | None
SheetRow = list[SheetCell]


MISSING = "saknas"  # never 0: the cell is an error in the planbok


def summary_rows(s: Summary) -> list[SheetRow]:
    unit = s.enhet
    rows: list[SheetRow] = [
        [Heading(f"Sammanfattning {s.namnd or ''} {s.budgetar or ''}".strip())],
        [s.namndnamn or None],
        [f"Belopp i {unit} om inget annat anges."],
    ]
    rows.extend([n] for n in s.anteckningar)

    def amount(v: Decimal | None, u: str = unit) -> Amount | None:
        return None if v is None else Amount(v, u)

    def known(v: Decimal | None, u: str = unit) -> Amount | str:
        """A figure; None means a cell it needs could not be read."""
        return MISSING if v is None else Amount(v, u)

    b = s.budgetram
    if b is not None:
        rows += [[], [Heading("Budgetram")], ["Budgettyp", "Netto"]]
        rows += [[k, known(v)] for k, v in b.netto.items()]
        rows += [[], ["Område", "Budgettyp", "Netto"]]
        rows += [[o, t, known(n)] for o, t, n in b.per_omrade]
        rows += [[], ["Slag", "Belopp"]]
        rows += [[k, known(v)] for k, v in b.per_slag.items()]
        rows += [["Summa intäkter", known(b.intakter)], ["Summa kostnader", known(b.kostnader)]]
    f = s.nettoram
    if f is not None:
        year = s.budgetar
        rows += [[], [Heading("Nettoram")],
                 [f"Budgetram {year - 1 if year else 'föregående år'}", known(f.budgetram_foregaende_ar)],
                 [f"Budgetram {year or ''}".strip(), known(f.budgetram)],
                 ["Förändring", known(f.forandring),
                  Share(f.forandring_andel) if f.forandring_andel is not None else None]]
        rows.append(["Tillfört nämnden (ram föregående år − ram i år)", known(f.tillfort)])
        if f.forklarad_av_ramforandringar is not None:
            rows += [["Förklaras av Ramförändringar", amount(f.forklarad_av_ramforandringar)],
                     ["Oförklarat", known(f.oforklarad)]]
    k = s.kostnadsutveckling
    if k is not None:
        rows += [[], [Heading("Kostnadsutveckling")], ["Mått", "Utfall", "Mål (högst)", "Inom mål"]]
        for label, value, target in (("Nettokostnadsutveckling", k.nettokostnadsutveckling, k.mal_netto),
                                     ("Bruttokostnadsutveckling", k.bruttokostnadsutveckling, k.mal_brutto)):
            if value is not None:
                rows.append([label, Share(value), Share(target),
                             "Ja" if k.within(value, target) else "Nej"])
        rows.append([f"Källa: {k.kalla}"])
    a = s.atgardsplan
    if a is not None:
        rows += [[], [Heading("Åtgärdsplan")],
                 ["Varje år mäts mot basårets ram; åren läggs inte ihop."],
                 ["", *[str(y) for y in a.years]],
                 ["Effekt", *[known(a.effekt[y]) for y in a.years]]]
        if a.gap is not None:
            rows.append(["Ekonomiskt gap", *[amount(a.gap) for _ in a.years]])
        if a.tackningsgrad is not None:
            shares = [a.tackningsgrad[y] for y in a.years]
            rows.append(["Täckningsgrad", *[MISSING if v is None else Share(v) for v in shares]])
        if a.kvarvarande_gap is not None:
            rows.append(["Kvarvarande gap", *[known(a.kvarvarande_gap[y]) for y in a.years]])
        for kind, per_year in a.per_typ.items():
            rows.append([f"  {kind}", *[known(per_year[y]) for y in a.years]])
        rows += [["Antal åtgärder", str(a.antal_atgarder)],
                 ["Sänker kvaliteten", str(a.kvalitetssankande),
                  f"varav riskbedömda {a.kvalitetssankande_riskbedomda}"],
                 ["Övervältring", str(a.overvaltring)]]
    i = s.investeringar
    if i is not None:
        rows += [[], [Heading("Investeringar (tkr)")], ["Summa", known(i.summa_tkr, "tkr")]]
        rows += [[f"Budgetansvar {h}", known(v, "tkr")] for h, v in i.per_budgetansvar_tkr.items()]
        rows += [[f"Kategori {h}", known(v, "tkr")] for h, v in i.per_kategori_tkr.items()]
        rows += [[h, known(v, "tkr")] for h, v in i.per_typ_tkr.items()]
        rows.append([f"Egen budget {s.budgetar or ''}".strip(),
                     known(i.egen_budget_budgetar_tkr, "tkr")])
        if i.investeringsram_tkr is not None:
            rows += [["Investeringsram", amount(i.investeringsram_tkr, "tkr")],
                     ["Utrymme kvar", known(i.utrymme_tkr, "tkr")]]
        for objekt, holder, value in i.hos_annan_namnd:
            rows.append([f"Hos {holder}: {objekt}", known(value, "tkr")])
        if i.driftkostnad_tkr:
            rows += [[], ["Driftkostnad (tkr)", *[str(y) for y in i.driftkostnad_tkr]]]
            for key, label in (("avskrivning", "Avskrivning"), ("internranta", "Internränta"),
                               ("summa", "Summa")):
                rows.append([label, *[known(v[key], "tkr") for v in i.driftkostnad_tkr.values()]])
            start = "investeringsåret" if i.avskrivning_start == "samma_ar" else "året efter"
            rows.append([f"Linjär avskrivning från {start}; internränta "
                         f"{Share(i.internranta).text()} på bokfört värde vid årets början."])
    p = s.prognos
    if p is not None:
        rows += [[], [Heading(f"Prognos {p.rapportmanad or ''}".strip())],
                 ["Område", "Budget", "Utfall ackumulerat", "Helårsprognos", "Avvikelse"]]
        rows += [[o, known(bu), known(u), known(pr), known(av)] for o, bu, u, pr, av in p.per_omrade]
        rows.append(["Totalt", *[known(v) for v in p.totalt]])
    return rows


def cell_text(cell: SheetCell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, Heading):
        return cell.text
    return cell.text()


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes (rich's measure: wide characters two, zero-width
    marks none)."""
    from rich.cells import cell_len

    return cell_len(text)


def rows_text(rows: list[SheetRow]) -> str:
    """Plain text with aligned columns (for the terminal and e-mail bodies): each block of
    rows (between headings and blank lines) gets columns as wide as its widest text, at
    least 32 terminal cells for the first (left-aligned) and 19 for the others
    (right-aligned)."""
    out: list[str] = []
    block: list[list[str]] = []

    def flush() -> None:
        widths: list[int] = []
        for texts in block:
            for i, text in enumerate(texts):
                if i == len(widths):
                    widths.append(32 if i == 0 else 19)
                widths[i] = max(widths[i], display_width(text))
        for texts in block:
            first, rest = texts[0], texts[1:]
            line = first
            if rest:
                line += " " * (widths[0] - display_width(first))
                line += "".join(" " + " " * (widths[i] - display_width(t)) + t
                                for i, t in enumerate(rest, start=1))
            out.append(line.rstrip())
        block.clear()

    for row in rows:
        if row and isinstance(row[0], Heading):
            flush()
            out.append(row[0].text)
            out.append("-" * display_width(row[0].text))
        elif not row:
            flush()
            out.append("")
        else:
            block.append([cell_text(c) for c in row])
    flush()
    return "\n".join(out)
