"""The monthly run: an inbox of planböcker -> the Regionsammanställning workbook and a row in
the history.

The inbox is read once (inbox.py, filecache.py); each file's rows go into the workbook as
they arrive (io/region_writer.py) and its business objects into a temporary table of the
history database (history_stream.py); the region's figures are computed from the extracts
(region_figures.py) and written last. Inputs are only ever read; the workbook is written
atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from xlplan.errors import ConsolidationRefused
from xlplan.inbox import check_output, choose, read_one, refuse_empty, scan_inbox
from xlplan.region import InputFile, Outcome, Region, TransferCheck
from xlplan.region_figures import region_figures
from xlplan.region_json import region_to_json

if TYPE_CHECKING:
    from xlplan.changes import Change

__all__ = [  # the run, and what its callers meet (read_one: one file, read and validated)
    "InputFile",
    "Outcome",
    "Region",
    "TransferCheck",
    "consolidate",
    "read_one",
    "region_figures",
    "region_to_json",
    "scan_inbox",
]


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
    refuse_empty(paths)
    if target.resolve() in {p.resolve() for p in paths}:
        raise ConsolidationRefused(f"Utfilen {target.name} ligger i inkorgen; välj en annan plats.")
    if on_start is not None:
        on_start(len(paths))
    return _consolidate(folder, target, paths, database, expected, progress, month,
                        region_name, cache)


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


def _consolidate(folder: Path, target: Path, paths: list[Path], database: str | None,
                 expected: Iterable[str], progress: Callable[[Path], None] | None,
                 month: str | None = None, region_name: str = "",
                 cache: Path | bool | None = True) -> Outcome:
    from xlplan.changes import Baseline
    from xlplan.errors import HistoryError
    from xlplan.filecache import cache_dir_for, read_files
    from xlplan.history_stream import StagedRun, history_rows
    from xlplan.io.region_writer import STREAM_FILES, RegionWriter, SheetFull
    from xlplan.io.writer import atomic_path
    from xlplan.signals import uninterrupted
    from xlplan.store import HistoryStore

    store: HistoryStore | None = None
    staged: StagedRun | None = None
    baseline: Baseline | None = None
    note = ""
    diff: list[Change] | None = None
    history = bool(database)  # until it fails

    def drop_history(exc: HistoryError, verb: str = "läsas") -> None:
        """The history cannot be used: the run goes on without it, and says why."""
        nonlocal note, store, staged, history
        note = f"Historiken kunde inte {verb}: {exc.message}"
        if staged is not None:
            staged.close()
        if store is not None:
            store.close()
        store, staged, history = None, None, False

    def open_history() -> bool:
        """The run's staged figures in the history, opened at their first use (after the
        workers' fork: they need none of it); False when there is no history to use."""
        nonlocal store, staged
        if history and staged is None:
            try:
                store = HistoryStore(str(database))
                staged = StagedRun(store)
            except HistoryError as exc:
                drop_history(exc)
        return staged is not None

    # from the finished workbook's rename to its run's record, a Ctrl-C or SIGTERM waits: a
    # stop between the two left a new workbook beside a history that did not know it
    last_step = contextlib.ExitStack()
    try:
        with atomic_path(target) as tmp:  # a refusal below removes the temp file: nothing written
            writer = RegionWriter(tmp, streamed=len(paths) > STREAM_FILES,
                                  region_name=region_name)
            try:
                def arrived(item: InputFile) -> None:
                    writer.add(item)
                    e = item.extract
                    # each used file's figures staged as it arrives, no copy kept
                    if (e is not None and writer.used.get(e.namnd) == item.path
                            and open_history()):
                        assert staged is not None
                        try:
                            staged.add(history_rows(item.namnd or "", item.figures or []))
                        except HistoryError as exc:
                            drop_history(exc, "användas")
                    if e is not None:  # keep only the figures in memory
                        e.rows, e.investments, e.objects = {}, [], {}
                    item.rendered, item.figures = None, None

                cache_folder = cache_dir_for(database) if cache is True else (cache or None)
                files, reads = read_files(_newest_first(paths), progress, arrived, cache_folder,
                                          layout=writer.layout())
                files.sort(key=lambda f: f.name)
                year, used = choose(files)
                region = region_figures(year, files, used, expected)
                if month is not None:
                    region.rapportmanad = month
                figures: dict[tuple[str, str, str], Decimal] = {}
                trend: list[tuple[str, str, Decimal]] = []
                open_history()  # no file used: the history still says so
                if store is not None and staged is not None:
                    try:
                        staged.ready()
                        previous = staged.baseline(year, region.rapportmanad)
                        if previous is not None:
                            diff = staged.changes()
                            note = f"Jämfört med {previous.label}."
                            baseline = previous
                        elif region.rapportmanad is None:
                            note = ("Ingen rapportmånad i planböckerna (Info › Rapportmånad) "
                                    "och ingen --manad: körningen jämförs inte med en annan "
                                    "månad.")
                        trend = [t for t in store.trend(year) if t[0] != region.rapportmanad]
                        if store.warnings:  # damaged stored values were skipped, not fatal
                            note = " ".join([note, *store.warnings]).strip()
                    except HistoryError as exc:
                        drop_history(exc)
                label = region.rapportmanad or "denna körning"
                trend += [(label, n, v) for n, v in region.netto.items()]
                if writer.used != {f.namnd: f.path for f in files if f.used}:
                    raise ConsolidationRefused("Inkorgen ändrades medan den lästes. Kör igen.")
                writer.finish(region, diff, note, trend, baseline, figures,
                              prognos=None if staged is None else staged.prognos_rows())
                last_step.enter_context(uninterrupted())
            except SheetFull as exc:
                writer.abort()
                raise ConsolidationRefused(
                    f"Bladet {exc.sheet} får inte plats i en Excel-arbetsbok (högst 1 048 576 "
                    "rader). Dela upp inkorgen. Inget skrevs.") from None
            except BaseException:
                writer.abort()
                raise
        outcome = Outcome(region, target, note, len(diff or []), reads.read, reads.cached)
        if staged is not None:
            try:
                staged.record(year, region.rapportmanad, str(folder), len(files),
                              out=str(target.resolve()), out_sha256=_sha256(target))
            except HistoryError as exc:
                outcome.history_note = f"Körningen kunde inte sparas i historiken: {exc.message}"
    finally:  # however the run ends: the staged figures and the connection go
        last_step.close()
        if staged is not None:
            staged.close()
        if store is not None:
            store.close()
    return outcome
