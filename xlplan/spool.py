"""A disk spool for consolidation: each planbok's rows go to temp files as soon as they are
read, so memory stays flat however large the inbox. Only xlplan writes and reads these files
(pickle of plain values), and they are removed with the spool."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Spool:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="xlplan-spool-")
        self._files: dict[str, Any] = {}

    def add(self, key: str, source: str, rows: list[Any]) -> None:
        if not rows:
            return
        fh = self._files.get(key)
        if fh is None:
            fh = self._files[key] = (Path(self._dir.name) / f"{len(self._files)}.pkl").open("wb")
        pickle.dump((source, rows), fh, protocol=pickle.HIGHEST_PROTOCOL)

    def rows(self, key: str, sources: set[str]) -> Iterator[tuple[str, Any]]:
        """(source, row) for every row spooled under ``key`` by one of ``sources``."""
        fh = self._files.get(key)
        if fh is None:
            return
        fh.flush()
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
        for fh in self._files.values():
            fh.close()
        self._dir.cleanup()
