"""A disk spool of rows by key and source file. Consolidation spools each used planbok's
business objects for the history here as the file is read (the detail rows go straight into
the region workbook), so memory stays flat however large the inbox; the history reads them
back once the run's files are chosen. Only xlplan writes and reads these files (pickle of
plain values), and they are removed with the spool."""

from __future__ import annotations

import contextlib
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlplan.errors import OutputError


class Spool:
    def __init__(self) -> None:
        try:
            self._dir = tempfile.TemporaryDirectory(prefix="xlplan-spool-")
        except OSError as exc:
            raise _failed(exc) from None
        self._files: dict[str, Any] = {}

    def add(self, key: str, source: str, rows: list[Any]) -> None:
        if not rows:
            return
        try:
            fh = self._files.get(key)
            if fh is None:
                fh = self._files[key] = (Path(self._dir.name) / f"{len(self._files)}.pkl"
                                         ).open("wb")
            pickle.dump((source, rows), fh, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            raise _failed(exc) from None

    def rows(self, key: str, sources: set[str]) -> Iterator[tuple[str, Any]]:
        """(source, row) for every row spooled under ``key`` by one of ``sources``."""
        fh = self._files.get(key)
        if fh is None:
            return
        try:
            fh.flush()
        except OSError as exc:
            raise _failed(exc) from None
        with Path(fh.name).open("rb") as reader:
            while True:
                try:
                    source, rows = pickle.load(reader)
                except EOFError:
                    return
                if source in sources:
                    for row in rows:
                        yield source, row

    def close(self) -> None:
        """Remove the spool; a failing flush of data no longer needed (a full disk) is no
        error here, and leaves no noise on stderr."""
        for fh in self._files.values():
            with contextlib.suppress(OSError):
                fh.close()  # the file is closed even when its last flush fails
        self._dir.cleanup()


def _failed(exc: OSError) -> OutputError:
    from xlplan.errors import os_reason

    return OutputError(f"Konsolideringens tillfälliga filer i {tempfile.gettempdir()} kunde inte "
                       f"skrivas ({os_reason(exc)}); inget skrevs.")
