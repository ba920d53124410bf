"""Reading back a workbook xlplan wrote, for comparing two runs."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl

STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)?")


def parts(path: Path) -> dict[str, bytes]:
    """Every part of the zip, with its timestamps masked (two runs differ only there)."""
    with zipfile.ZipFile(path) as zf:
        return {n: STAMP.sub(b"TIME", zf.read(n)) for n in zf.namelist()}


def sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's values, but the time the workbook was made (Manifest › Skapad)."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: [r for r in ws.iter_rows(values_only=True) if r[0] != "Skapad (UTC)"]
            for ws in wb.worksheets}
