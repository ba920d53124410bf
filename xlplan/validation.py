"""Validation: a planbok in, every finding out, sorted the way a user reads the sheets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplan.findings import Finding, Severity, capped, counts
from xlplan.io.raw import RawWorkbook
from xlplan.io.xlsx import read_workbook
from xlplan.limits import MAX_FINDINGS
from xlplan.model import Planbok, build_planbok
from xlplan.rules import RULES
from xlplan.text import clean

_REF = re.compile(r"^([A-Z]+)(\d+)$")


@dataclass(frozen=True, slots=True)
class Report:
    file: str
    planbok: Planbok
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> int:
        return counts(list(self.findings))[0]

    @property
    def warnings(self) -> int:
        return counts(list(self.findings))[1]

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": clean(self.file),  # as the text output names it (undecodable bytes: U+FFFD)
            "findings": [f.to_json() for f in self.findings],
            "summary": {"errors": self.errors, "warnings": self.warnings},
        }


def open_planbok(path: str | Path) -> tuple[Planbok, list[Finding]]:
    """Read a planbok file. Raises :class:`~xlplan.errors.UnreadableWorkbook` (exit 2)."""
    return build_planbok(read_workbook(Path(path)))


def check(planbok: Planbok, reading: list[Finding]) -> tuple[Finding, ...]:
    """Run every rule over a typed planbok; ``reading`` holds what typing already found."""
    found = list(reading)
    for rule in RULES:
        found.extend(rule(planbok))
    return tuple(capped(sorted(found, key=_order(planbok)), MAX_FINDINGS))


def validate_raw(raw: RawWorkbook, file: str | None = None) -> Report:
    planbok, reading = build_planbok(raw)
    return Report(file or raw.name, planbok, check(planbok, reading))


def validate(path: str | Path) -> Report:
    """Validate the planbok at ``path``; the file is only read."""
    p = Path(path)
    return validate_raw(read_workbook(p), str(path))


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _order(planbok: Planbok) -> Any:
    sheets = {name: i for i, name in enumerate(planbok.sheet_order)}

    def key(f: Finding) -> tuple[int, int, int, int, str]:
        sheet = sheets.get(f.sheet, -1) if f.sheet else -1
        m = _REF.match(f.cell or "")
        row = int(m.group(2)) if m else 0
        col = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(m.group(1)))) if m else 0
        return sheet, row, col, _SEVERITY_ORDER[f.severity], f.code

    return key
