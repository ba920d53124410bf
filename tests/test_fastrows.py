"""Detail rows rendered straight into xlsxwriter's stream (xlplan.io.fastrows) give the same
bytes as xlsxwriter's cell-by-cell writes."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.test_consolidate import TJ, book, inbox
from xlplan.consolidation import consolidate

STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)?")


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: STAMP.sub(b"TIME", zf.read(n)) for n in zf.namelist()}


def test_the_fast_rows_are_xlsxwriters_bytes(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from xlplan.io import fastrows, region_writer

    monkeypatch.setattr(region_writer, "STREAM_FILES", 3)  # streamed: the fast path applies
    folder = inbox(tmp_path)
    # texts xlsxwriter escapes: leading space, markup, a literal _xHHHH_, a rich-text look-alike
    book(folder / "kn.xlsx", "KN", [
        [" Ledande mellanslag", TJ, 1, 0, 0, 0, 0, 0, 0, 1],
        ["A & B <c>", TJ, 2.5, 0, 0, 0, 0, 0, 0, 2.5],
        ["_x0041_ bokstavligt", TJ, 0.1, 0, 0, 0, 0, 0, 0, 0.1],
        ["<r>rik</r>", TJ, -1e-7, 0, 0, 0, 0, 0, 0, -1e-7],
        ["Stor", TJ, 123456789012.25, None, None, None, None, None, None, 123456789012.25],
    ])
    calls: list[bool] = []
    original = fastrows.FastRows.append

    def counted(self: fastrows.FastRows, row: int, values: list[object]) -> bool:
        calls.append(result := original(self, row, values))
        return result

    monkeypatch.setattr(fastrows.FastRows, "append", counted)
    consolidate(folder, tmp_path / "fast.xlsx")
    assert calls.count(True) >= 6 and False in calls  # both paths ran (the <r>…</r> row)
    monkeypatch.setattr(fastrows, "ENABLED", False)
    calls.clear()
    consolidate(folder, tmp_path / "slow.xlsx")
    assert calls == []
    fast, slow = parts(tmp_path / "fast.xlsx"), parts(tmp_path / "slow.xlsx")
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name] == slow[name], name
