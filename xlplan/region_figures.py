"""The region's figures and the controls across nämnder, from the chosen files' extracts
(pure: no file is read or written here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from xlplan.extract import Extract, Transfer, internal_items_cancel, transfers_verdict
from xlplan.findings import Finding, finding
from xlplan.numbers import format_sv
from xlplan.region import InputFile, Region, TransferCheck
from xlplan.rounding import Verdict

CODES: tuple[str, ...] = (  # every finding code this module can produce
    "over-investeringsram",
    "omdisponering-omatchad",
    "omdisponering-olika-belopp",
    "avrundningsdifferens",
    "interna-poster-obalans",
    "inaktuell-rapportmanad",
    "namnd-saknas",
    "fil-oanvand",
)

ZERO = Decimal(0)


def region_figures(year: int, files: list[InputFile], used: dict[str, InputFile],
                   expected: Iterable[str] = ()) -> Region:
    """Every region figure and cross-nämnd control, from the chosen extracts (pure)."""
    ex = {n: f.extract for n, f in used.items() if f.extract is not None}
    file_of = {n: f.name for n, f in used.items()}
    netto = {n: e.netto_mkr for n, e in ex.items()}
    region_netto = sum(netto.values(), ZERO)
    financing_parts = [e.finansiering_mkr for e in ex.values() if e.finansiering_mkr is not None]
    finansiering = sum(financing_parts, ZERO) if financing_parts else None
    resultat = None if finansiering is None else finansiering + region_netto

    per_holder: dict[str, Decimal] = defaultdict(lambda: ZERO)
    held_this_year: dict[str, Decimal] = defaultdict(lambda: ZERO)
    asked_by_others: set[str] = set()  # holders whose sum includes other nämnders' requests
    for n, e in ex.items():
        for holder, amount in e.inv_per_holder.items():
            per_holder[holder] += amount
        for holder, amount in e.inv_held_year.items():
            held_this_year[holder] += amount
            if holder != n:
                asked_by_others.add(holder)
    frames = {h: (v, ex[h].investeringsram_tkr if h in ex else None)
              for h, v in sorted(held_this_year.items())}

    income = sum((e.interna_intakter_mkr for e in ex.values()), ZERO)
    costs = sum((e.interna_kostnader_mkr for e in ex.values()), ZERO)
    region = Region(year, files, ex, netto, region_netto, finansiering, resultat,
                    dict(sorted(per_holder.items())), frames, (income, costs, income + costs), [])
    if (income or costs) and not internal_items_cancel(list(ex.values())):
        region.findings.append(finding(
            "interna-poster-obalans", None, None, in_file="(regionen)", income=format_sv(income, 1),
            cost=format_sv(costs, 1), diff=format_sv(income + costs, 1)))
    region.transfers = _check_transfers(ex, file_of, region.findings)
    for holder, (held, frame) in frames.items():
        # a nämnd's own objects against its own frame are checked in its file already
        if frame is not None and held > frame and holder in asked_by_others:
            region.findings.append(finding(
                "over-investeringsram", None, None, in_file=file_of.get(holder, ""),
                expected=frame, actual=held, year=year, namnd=holder, shown=format_sv(held),
                wanted=format_sv(frame), diff=format_sv(held - frame)))
    months = [e.rapportmanad for e in ex.values() if e.rapportmanad]
    if months:
        common = max(sorted(set(months)), key=months.count)  # the most common, then the latest
        region.rapportmanad = common
        for n, e in ex.items():
            if e.rapportmanad and e.rapportmanad != common:
                region.findings.append(finding(
                    "inaktuell-rapportmanad", None, None, in_file=file_of[n], file=file_of[n], namnd=n,
                    month=e.rapportmanad, common=common))
    for code in expected:
        if code.upper() not in ex:
            region.findings.append(finding("namnd-saknas", None, None, in_file="(inkorgen)",
                                                          namnd=code.upper()))
    for f in files:
        if not f.used:
            region.findings.append(finding("fil-oanvand", None, None, in_file=f.name, file=f.name,
                                                    reason=f.reason or "okänd orsak"))
    return region


def _check_transfers(ex: dict[str, Extract], file_of: dict[str, str],
                     findings: list[Finding]) -> list[TransferCheck]:
    groups: dict[str, list[tuple[str, str, Transfer]]] = defaultdict(list)
    for n, e in ex.items():
        for t in e.transfers:
            groups[t.diarienummer].append((n, file_of[n], t))
    checks = []
    for dnr, sides in sorted(groups.items()):
        total = sum((t.belopp_mkr for _, _, t in sides), ZERO)
        parties = {p for _, _, t in sides for p in (t.fran, t.till)}
        present = {n for n, _, _ in sides}
        missing = sorted(p for p in parties if p in ex and p not in present)
        # inside one nämnd (Från = Till = its code) both sides are in its own planbok
        internal = all(t.fran == t.till == n for n, _, t in sides)
        if missing:
            n, file, t = sides[0]
            status = "omatchad"
            for other in missing:
                findings.append(finding(
                    "omdisponering-omatchad", t.sheet, t.cell, in_file=file, diarienummer=dnr, fran=t.fran,
                    till=t.till, amount=format_sv(t.belopp_mkr, 1) + " mkr",
                    file=f"{file} ({t.sheet}!{t.cell})", other=f"{other} ({file_of[other]})"))
        elif len(present) < 2 and not internal:
            status = "ej kontrollerbar"  # the other nämnd's planbok is not in the inbox
        elif (verdict := transfers_verdict([t for _, _, t in sides])) is Verdict.DIFFERENT:
            status = "olika belopp"
            n, file, t = sides[0]
            findings.append(finding("omdisponering-olika-belopp", t.sheet, t.cell, in_file=file,
                                           expected=ZERO, actual=total, diarienummer=dnr,
                                           detail=_detail(sides)))
        else:
            status = "ok"
            if verdict is Verdict.ROUNDING and not internal:
                # the same warning a nämnd gets for its own transfer within rounding
                # (inside one nämnd its own validation has given it already)
                n, file, t = sides[0]
                findings.append(finding(
                    "avrundningsdifferens", t.sheet, t.cell, in_file=file, expected=ZERO,
                    actual=total, what=f"Omdisponeringen {dnr} mellan nämnderna ({_detail(sides)})",
                    shown=format_sv(total, 1) + " mkr netto", wanted="0",
                    diff=format_sv(abs(total), 1) + " mkr"))
        checks.append(TransferCheck(dnr, sides, status, total))
    return checks


def _detail(sides: list[tuple[str, str, Transfer]]) -> str:
    return ", ".join(f"{n} {format_sv(t.belopp_mkr, 1)} mkr i {file} ({t.sheet}!{t.cell})"
                     for n, file, t in sides)
