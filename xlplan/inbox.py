"""The inbox: which files are planböcker, reading and validating each once, and choosing
the one used per nämnd. Inputs are only ever read; whatever goes wrong with one file
becomes that file's reason and never ends the run.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from xlplan.errors import ConsolidationRefused, XlplanError, os_reason
from xlplan.extract import extract_or_reason
from xlplan.io.safety import read_input
from xlplan.io.xlsx import read_workbook
from xlplan.region import InputFile
from xlplan.validation import validate_raw

SUFFIXES = (".xlsx", ".xlsm")


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


def refuse_empty(paths: list[Path]) -> None:
    """An inbox without a planbok is refused: the one place that says so."""
    if not paths:
        raise ConsolidationRefused("Inkorgen är tom: inga .xlsx- eller .xlsm-filer.")


def read_one(path: Path) -> InputFile:
    """Read, hash and validate one file; keep only its extract. Whatever goes wrong with one
    file becomes that file's reason (it is listed as not used); it never ends the run."""
    try:
        return _read_one(path)
    except XlplanError as exc:
        return InputFile(path, "", 0.0, reason=exc.message)
    except MemoryError:  # the machine's memory, not the file (whose size the limits bound):
        raise  # the run ends (xlplan.filecache.read_files), no file is blamed
    except Exception as exc:  # the net under every check: one file never stops the month
        return InputFile(path, "", 0.0, reason=(
            f"filen kunde inte kontrolleras (internt fel {type(exc).__name__}); den är inte "
            "använd. Öppna den i Excel, spara om och kör igen."))


def _read_one(path: Path) -> InputFile:
    try:
        stat = path.stat()
    except OSError as exc:
        return InputFile(path, "", 0.0, reason=f"kan inte läsas ({os_reason(exc)})")
    data = read_input(path)  # a special file or one too large is refused before reading
    item = InputFile(path, hashlib.sha256(data).hexdigest(), stat.st_mtime)
    del data
    try:
        raw = read_workbook(path)
        after = path.stat()
    except OSError as exc:
        item.reason = f"kan inte läsas ({os_reason(exc)})"
        return item
    except XlplanError as exc:  # no workbook: its hash still names what was in the inbox
        item.reason = exc.message
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


SHOWN_REASONS = 10  # files named in a refusal's one line; more would fill the terminal


def choose(files: list[InputFile]) -> tuple[int, dict[str, InputFile]]:
    """Refuse mixed years; use each nämnd's newest file. Returns (year, used by nämnd).

    A nämnd's newest file is its planbok for this run, usable or not: when it cannot be used,
    an older file of the nämnd is not used in its place (its figures are ones the nämnd has
    replaced), and the older file says why."""
    readable = [f for f in files if f.extract is not None]
    years: dict[int, list[str]] = defaultdict(list)
    for f in readable:
        years[f.budgetar or 0].append(f.name)
    if len(years) > 1:
        parts = "; ".join(f"{y}: {', '.join(names)}" for y, names in sorted(years.items()))
        raise ConsolidationRefused(f"Inkorgen blandar budgetår ({parts}). Lägg bara ett års "
                                   "planböcker i inkorgen. Inget skrevs.")
    newest: dict[str, InputFile] = {}
    # as the region writer takes them (newest first): by time, then by the file's own name
    for f in sorted(files, key=lambda f: (f.mtime, f.path.name)):
        if f.namnd is not None:
            newest[f.namnd] = f
    chosen = {namnd: f for namnd, f in newest.items() if f.extract is not None}
    if not chosen:
        unused = [f for f in files if f.extract is None]
        shown = "; ".join(f"{f.name}: {f.reason}" for f in unused[:SHOWN_REASONS])
        more = (f"; och {len(unused) - SHOWN_REASONS} filer till (xlplan validate visar "
                "varför)" if len(unused) > SHOWN_REASONS else "")
        raise ConsolidationRefused(f"Ingen planbok i inkorgen kunde användas: {shown}{more}.")
    for f in readable:
        assert f.namnd is not None
        latest = newest[f.namnd]
        if latest is f:
            f.used = True
            continue
        # the same time to the second and beyond: the names decide, and it is said so
        why = ("är nyare" if latest.mtime != f.mtime
               else "har samma ändringstid och kommer sist i namnordning")
        f.reason = f"dubblett: {latest.name} {why} för {f.namnd}"
        if latest.extract is None:
            f.reason += f"; den kunde inte användas, så {f.namnd} saknas i sammanställningen"
    return next(iter(years)), dict(sorted(chosen.items()))


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
