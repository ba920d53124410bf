"""Monthly consolidation: the nämnder's planböcker in an inbox -> the region's figures.

:func:`read_inbox` reads and validates each file once, keeping only its extract;
:func:`region_figures` is pure; :func:`consolidate` ties them to the output workbook and
the history store. Inputs are only ever read.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan.errors import ConsolidationRefused, XlplanError
from xlplan.extract import (
    Extract,
    Transfer,
    extract_or_reason,
    internal_items_cancel,
    transfers_balance,
)
from xlplan.findings import Finding, finding
from xlplan.io.safety import read_input
from xlplan.io.xlsx import read_workbook
from xlplan.numbers import format_sv, to_json
from xlplan.spool import Spool
from xlplan.text import clean
from xlplan.validation import validate_raw

if TYPE_CHECKING:
    from xlplan.store import Change

ZERO = Decimal(0)
SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class InputFile:
    path: Path
    sha256: str
    mtime: float
    namnd: str | None = None
    budgetar: int | None = None
    errors: int = 0
    warnings: int = 0
    used: bool = False
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    extract: Extract | None = None

    @property
    def name(self) -> str:
        return clean(self.path.name)  # a file name may hold escape sequences: never echoed raw


@dataclass
class TransferCheck:
    diarienummer: str
    sides: list[tuple[str, str, Transfer]]  # (nämnd, file, transfer)
    status: str  # "ok", "omatchad", "olika belopp", "ej kontrollerbar"
    netto_mkr: Decimal


@dataclass
class Region:
    budgetar: int
    files: list[InputFile]
    used: dict[str, Extract]  # by nämnd, sorted
    netto: dict[str, Decimal]
    region_netto: Decimal
    finansiering: Decimal | None
    resultat: Decimal | None
    investeringar_per_budgetansvar_tkr: dict[str, Decimal]
    egen_ram_tkr: dict[str, tuple[Decimal, Decimal | None]]  # holder -> (held in Y, frame)
    interna: tuple[Decimal, Decimal, Decimal]  # income, costs, residual
    transfers: list[TransferCheck]
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (file, finding)
    spool: Spool | None = None  # the used files' rows, when they were spooled to disk
    rapportmanad: str | None = None  # the inbox's month (most common Rapportmånad)

    def objects(self) -> Iterator[tuple[str, tuple[str, str, Decimal]]]:
        """(nämnd, (kind, object, value)) for the history, from every used file: spooled to
        disk during a run, else still in the extracts."""
        if self.spool is not None:
            by_source = {f.name: f.namnd or "" for f in self.files if f.used}
            for source, row in self.spool.rows(OBJECTS, set(by_source)):
                yield by_source[source], row
            return
        for n, e in self.used.items():
            for row in _objects(e):
                yield n, row

    @property
    def inputs_with_errors(self) -> bool:
        """Exit 1: a used file has errors, a file could not be read, or a region control failed."""
        return (any(f.errors for f in self.files if f.used)
                or any(f.extract is None for f in self.files)
                or any(f.severity.value == "error" for _, f in self.findings))

    def to_json(self) -> dict[str, Any]:
        return {
            "budgetar": self.budgetar,
            "namnder": list(self.used),
            "netto": {k: to_json(v) for k, v in self.netto.items()},
            "region_netto": to_json(self.region_netto),
            "finansiering": to_json(self.finansiering),
            "resultat": to_json(self.resultat),
            "investeringar_per_budgetansvar_tkr": {
                k: to_json(v) for k, v in self.investeringar_per_budgetansvar_tkr.items()},
            "interna_poster": {"intakter": to_json(self.interna[0]),
                               "kostnader": to_json(self.interna[1]),
                               "residual": to_json(self.interna[2])},
            "atgardsplan": {n: None if e.effekt_mkr is None else {
                "effekt": {str(y): to_json(v) for y, v in e.effekt_mkr.items()},
                "gap": to_json(e.gap_mkr),
                "tackningsgrad": ({str(y): to_json(v / e.gap_mkr) for y, v in e.effekt_mkr.items()}
                                  if e.gap_mkr else None)} for n, e in self.used.items()},
            "prognos": {n: None if e.prognos_mkr is None else {
                "rapportmanad": e.rapportmanad, **dict(zip(
                    ("budget", "utfall", "prognos", "avvikelse"), map(to_json, e.prognos_mkr),
                    strict=True))} for n, e in self.used.items()},
            "omdisponeringar": [{"diarienummer": t.diarienummer, "status": t.status,
                                 "netto": to_json(t.netto_mkr),
                                 "parter": [n for n, _, _ in t.sides]} for t in self.transfers],
            "kontroll": [{"fil": file, **f.to_json()} for file, f in self.findings],
            "filer": [{"fil": f.name, "namnd": f.namnd, "sha256": f.sha256, "fel": f.errors,
                       "varningar": f.warnings, "anvand": f.used,
                       **({"orsak": f.reason} if f.reason else {})} for f in self.files],
        }


def scan_inbox(folder: Path) -> list[Path]:
    """Every .xlsx/.xlsm in ``folder``, without Office lock files, hidden or temporary files."""
    if not folder.is_dir():
        raise ConsolidationRefused(f"Inkorgen {folder} finns inte eller är ingen mapp.")
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(("~$", ".", "~")) or name.endswith(("~", ".tmp")):
            continue
        # not only regular files: a pipe or device named .xlsx is listed with its reason
        if path.suffix.lower() in SUFFIXES and not path.is_dir():
            out.append(path)
    return out


def read_one(path: Path) -> InputFile:
    """Read, hash and validate one file; keep only its extract. Whatever goes wrong with one
    file becomes that file's reason (it is listed as not used); it never ends the run."""
    try:
        return _read_one(path)
    except XlplanError as exc:
        return InputFile(path, "", 0.0, reason=exc.message)
    except Exception as exc:  # the net under every check: one file never stops the month
        return InputFile(path, "", 0.0, reason=(
            f"filen kunde inte kontrolleras (internt fel {type(exc).__name__}); den är inte "
            "använd. Öppna den i Excel, spara om och kör igen."))


def _read_one(path: Path) -> InputFile:
    try:
        stat = path.stat()
    except OSError as exc:
        return InputFile(path, "", 0.0, reason=f"kan inte läsas ({exc.strerror})")
    data = read_input(path)  # a special file or one too large is refused before reading
    item = InputFile(path, hashlib.sha256(data).hexdigest(), stat.st_mtime)
    del data
    try:
        raw = read_workbook(path)
        after = path.stat()
    except OSError as exc:
        item.reason = f"kan inte läsas ({exc.strerror})"
        return item
    if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
        # the recorded sha256 must describe what was read: a file saved meanwhile is not used
        item.reason = "filen ändrades medan den lästes; kör igen"
        return item
    report = validate_raw(raw, path.name)
    item.findings = report.findings
    item.errors, item.warnings = report.errors, report.warnings
    item.namnd, item.budgetar = report.planbok.info.namnd, report.planbok.info.budgetar
    item.extract, item.reason = extract_or_reason(report.planbok)  # None: a figure is missing
    return item


PARALLEL_FROM = 24  # files; below this a second process costs more than it saves


def read_inbox(paths: Iterable[Path], progress: Callable[[Path], None] | None = None,
               workers: int | None = None,
               sink: Callable[[InputFile], None] | None = None) -> list[InputFile]:
    """Read every file; on a machine with several cores, large inboxes are read by a pool of
    forked processes (each file is parsed in one process, only its extract comes back).
    ``sink`` sees each file as it arrives (consolidation spools its rows there)."""
    todo = list(paths)
    count = workers if workers is not None else min(os.cpu_count() or 1, 4)
    parallel = count > 1 and len(todo) >= PARALLEL_FROM and "fork" in mp.get_all_start_methods()
    files = []
    with contextlib.ExitStack() as stack:
        if parallel:
            pool = stack.enter_context(mp.get_context("fork").Pool(count))
            items: Iterable[InputFile] = pool.imap(read_one, todo, chunksize=4)
        else:
            items = map(read_one, todo)
        for item in items:
            if sink is not None:
                sink(item)
            files.append(item)
            if progress is not None:
                progress(item.path)
    return files


def choose(files: list[InputFile]) -> tuple[int, dict[str, InputFile]]:
    """Refuse mixed years; keep the newest file per nämnd. Returns (year, used by nämnd)."""
    readable = [f for f in files if f.extract is not None]
    if not files:
        raise ConsolidationRefused("Inkorgen är tom: inga .xlsx- eller .xlsm-filer.")
    if not readable:
        raise ConsolidationRefused("Ingen planbok i inkorgen gick att läsa: "
                                   + "; ".join(f"{f.name}: {f.reason}" for f in files))
    years: dict[int, list[str]] = defaultdict(list)
    for f in readable:
        years[f.budgetar or 0].append(f.name)
    if len(years) > 1:
        parts = "; ".join(f"{y}: {', '.join(names)}" for y, names in sorted(years.items()))
        raise ConsolidationRefused(f"Inkorgen blandar budgetår ({parts}). Lägg bara ett års "
                                   "planböcker i inkorgen. Inget skrevs.")
    chosen: dict[str, InputFile] = {}
    for f in sorted(readable, key=lambda f: (f.mtime, f.name)):
        assert f.namnd is not None
        previous = chosen.get(f.namnd)
        if previous is not None:
            previous.reason = f"dubblett: {f.name} är nyare för {f.namnd}"
        chosen[f.namnd] = f
    for f in chosen.values():
        f.used = True
    return next(iter(years)), dict(sorted(chosen.items()))


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
        region.findings.append(("(regionen)", finding(
            "interna-poster-obalans", None, None, income=format_sv(income, 1),
            cost=format_sv(costs, 1), diff=format_sv(income + costs, 1))))
    region.transfers = _check_transfers(ex, file_of, region.findings)
    for holder, (held, frame) in frames.items():
        # a nämnd's own objects against its own frame are checked in its file already
        if frame is not None and held > frame and holder in asked_by_others:
            region.findings.append((file_of.get(holder, ""), finding(
                "over-investeringsram", None, None, expected=frame, actual=held, year=year,
                namnd=holder, shown=format_sv(held), wanted=format_sv(frame),
                diff=format_sv(held - frame))))
    months = [e.rapportmanad for e in ex.values() if e.rapportmanad]
    if months:
        common = max(sorted(set(months)), key=months.count)  # the most common, then the latest
        region.rapportmanad = common
        for n, e in ex.items():
            if e.rapportmanad and e.rapportmanad != common:
                region.findings.append((file_of[n], finding(
                    "inaktuell-rapportmanad", None, None, file=file_of[n], namnd=n,
                    month=e.rapportmanad, common=common)))
    for code in expected:
        if code.upper() not in ex:
            region.findings.append(("(inkorgen)", finding("namnd-saknas", None, None,
                                                          namnd=code.upper())))
    for f in files:
        if not f.used:
            region.findings.append((f.name, finding("fil-oanvand", None, None, file=f.name,
                                                    reason=f.reason or "okänd orsak")))
    return region


def _check_transfers(ex: dict[str, Extract], file_of: dict[str, str],
                     findings: list[tuple[str, Finding]]) -> list[TransferCheck]:
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
                findings.append((file, finding(
                    "omdisponering-omatchad", t.sheet, t.cell, diarienummer=dnr, fran=t.fran,
                    till=t.till, amount=format_sv(t.belopp_mkr, 1) + " mkr",
                    file=f"{file} ({t.sheet}!{t.cell})", other=f"{other} ({file_of[other]})")))
        elif len(present) < 2 and not internal:
            status = "ej kontrollerbar"  # the other nämnd's planbok is not in the inbox
        elif not transfers_balance([t for _, _, t in sides]):
            status = "olika belopp"
            detail = ", ".join(f"{n} {format_sv(t.belopp_mkr, 1)} mkr i {file} ({t.sheet}!{t.cell})"
                               for n, file, t in sides)
            n, file, t = sides[0]
            findings.append((file, finding("omdisponering-olika-belopp", t.sheet, t.cell,
                                           expected=ZERO, actual=total, diarienummer=dnr,
                                           detail=detail)))
        else:
            status = "ok"
        checks.append(TransferCheck(dnr, sides, status, total))
    return checks


@dataclass
class Outcome:
    region: Region
    out: Path
    history_note: str = ""
    changes: int = 0
    read: int = 0  # files parsed this run
    cached: int = 0  # files taken unchanged from the cache (xlplan.filecache)


def history_figures(region: Region) -> dict[tuple[str, str, str], Decimal]:
    return {(n, kind, obj): v for n, (kind, obj, v) in region.objects()}


OBJECTS = "objekt"  # the spool key of the history's business objects


def _objects(e: Extract) -> list[tuple[str, str, Decimal]]:
    return [(kind, obj, v) for (kind, obj), v in e.objects.items()]





def check_output(folder: Path, target: Path) -> None:
    """The output must be an .xlsx outside the inbox (else next month it is read as a planbok)."""
    if target.suffix.lower() != ".xlsx":
        raise ConsolidationRefused(f"Utfilen {target.name} ska sluta på .xlsx (sammanställningen "
                                   "är en Excel-arbetsbok). Inget skrevs.")
    try:
        inside = target.resolve().parent.is_relative_to(folder.resolve())
    except OSError:
        inside = False
    if inside:
        raise ConsolidationRefused(f"Utfilen {target} ligger i inkorgen {folder}; då läses den som "
                                   "en planbok nästa månad. Välj en annan mapp. Inget skrevs.")


def consolidate(inbox: str | Path, out: str | Path, *, database: str | None = None,
                expected: Iterable[str] = (),
                progress: Callable[[Path], None] | None = None,
                on_start: Callable[[int], None] | None = None,
                month: str | None = None, region_name: str = "",
                cache: Path | bool | None = True) -> Outcome:
    """Consolidate ``inbox`` into the workbook ``out`` and record the run in the history.

    ``cache``: a folder for :mod:`xlplan.filecache` (unchanged files are not read again);
    True: beside a SQLite history; False: none.

    Raises ConsolidationRefused (nothing written). A history database that cannot be used
    does not stop the run: the workbook is written without the comparison and the outcome
    says why.
    """
    folder, target = Path(inbox), Path(out)
    paths = scan_inbox(folder)
    check_output(folder, target)
    if not paths:
        raise ConsolidationRefused("Inkorgen är tom: inga .xlsx- eller .xlsm-filer.")
    if target.resolve() in {p.resolve() for p in paths}:
        raise ConsolidationRefused(f"Utfilen {target.name} ligger i inkorgen; välj en annan plats.")
    if on_start is not None:
        on_start(len(paths))
    spool = Spool()
    try:
        return _consolidate(folder, target, paths, spool, database, expected, progress, month,
                            region_name, cache)
    finally:
        spool.close()


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _newest_first(paths: list[Path]) -> list[Path]:
    """The order the region writer needs: the first file seen for a nämnd is its newest."""
    def key(path: Path) -> tuple[float, str]:
        try:
            return path.stat().st_mtime, path.name
        except OSError:
            return 0.0, path.name
    return sorted(paths, key=key, reverse=True)


def _consolidate(folder: Path, target: Path, paths: list[Path], spool: Spool,
                 database: str | None, expected: Iterable[str],
                 progress: Callable[[Path], None] | None, month: str | None = None,
                 region_name: str = "", cache: Path | bool | None = True) -> Outcome:
    from xlplan.errors import HistoryError
    from xlplan.filecache import cache_dir_for, read_files
    from xlplan.history_stream import StagedRun
    from xlplan.io.region_writer import STREAM_FILES, RegionWriter
    from xlplan.io.writer import atomic_path
    from xlplan.store import Baseline, HistoryStore

    store: HistoryStore | None = None
    staged: StagedRun | None = None
    baseline: Baseline | None = None
    note = ""
    diff: list[Change] | None = None
    with atomic_path(target) as tmp:  # a refusal below removes the temp file: nothing written
        writer = RegionWriter(tmp, streamed=len(paths) > STREAM_FILES, region_name=region_name)
        try:
            def arrived(item: InputFile) -> None:
                writer.add(item)
                if database and item.extract is not None:
                    spool.add(OBJECTS, item.name, _objects(item.extract))
                if item.extract is not None:  # keep only the figures in memory
                    item.extract.rows, item.extract.investments, item.extract.objects = {}, [], {}

            folder_ = cache_dir_for(database) if cache is True else (cache or None)
            files, reads = read_files(_newest_first(paths), progress, arrived, folder_)
            files.sort(key=lambda f: f.name)
            year, used = choose(files)
            region = region_figures(year, files, used, expected)
            region.spool = spool
            if month is not None:
                region.rapportmanad = month
            figures: dict[tuple[str, str, str], Decimal] = {}
            trend: list[tuple[str, str, Decimal]] = []
            if database:
                try:
                    store = HistoryStore(database)
                    staged = StagedRun(store, region.objects())  # in the database, in chunks
                    previous = staged.baseline(year, region.rapportmanad)
                    if previous is not None:
                        diff = staged.changes()
                        note = f"Jämfört med {previous.label}."
                        baseline = previous
                    elif region.rapportmanad is None:
                        note = ("Ingen rapportmånad i planböckerna (Info › Rapportmånad) och "
                                "ingen --manad: körningen jämförs inte med en annan månad.")
                    trend = [t for t in store.trend(year) if t[0] != region.rapportmanad]
                    if store.warnings:  # damaged stored values were skipped, not fatal
                        note = " ".join([note, *store.warnings]).strip()
                except HistoryError as exc:
                    note, store = f"Historiken kunde inte läsas: {exc.message}", None
                    if staged is not None:
                        staged.close()
            label = region.rapportmanad or "denna körning"
            trend += [(label, n, v) for n, v in region.netto.items()]
            writer.finish(region, diff, note, trend, baseline, figures,
                          prognos=None if staged is None else staged.prognos_rows())
        except BaseException:
            writer.abort()
            raise
    outcome = Outcome(region, target, note, len(diff or []), reads.read, reads.cached)
    if store is not None:
        try:
            assert staged is not None
            staged.record(year, region.rapportmanad, str(folder), len(files),
                          out=str(target.resolve()), out_sha256=_sha256(target))
        except HistoryError as exc:
            outcome.history_note = f"Körningen kunde inte sparas i historiken: {exc.message}"
        finally:
            if staged is not None:
                staged.close()
            store.close()
    return outcome
