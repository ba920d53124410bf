"""The monthly consolidation as data: each file read (:class:`InputFile`), each transfer
checked across nämnder (:class:`TransferCheck`), the region's figures (:class:`Region`) and a
run's result (:class:`Outcome`).

Below both the run (consolidation.py) and the region workbook's writers (io/), which only
read these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan.extract import Extract, Figure, Transfer
from xlplan.findings import Finding
from xlplan.text import clean

if TYPE_CHECKING:
    from xlplan.io.region_rows import Rendered


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
    rendered: Rendered | None = None  # its rows for a streamed region workbook (a worker's)
    packed: dict[str, Any] | None = None  # those rows packed, on the way from a worker
    # the history's figures as texts (kind, object, value), taken out of the extract
    figures: list[Figure] | None = None

    @property
    def name(self) -> str:
        return clean(self.path.name)  # a file name may hold escape sequences: never echoed raw

    @property
    def checked(self) -> bool:
        """Was the file read as a planbok and validated? (False: it could not be read at all,
        and its reason says why; a validated file that cannot be used has findings.)"""
        return self.extract is not None or bool(self.findings)


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
    findings: list[Finding] = field(default_factory=list)  # across files: each has its file
    rapportmanad: str | None = None  # the inbox's month (most common Rapportmånad)

    @property
    def inputs_with_errors(self) -> bool:
        """Exit 1: a used file has errors, a file could not be read, or a region control failed."""
        return (any(f.errors for f in self.files if f.used)
                or any(f.extract is None for f in self.files)
                or any(f.severity.value == "error" for f in self.findings))


@dataclass
class Outcome:
    region: Region
    out: Path
    history_note: str = ""
    changes: int = 0
    read: int = 0  # files parsed this run
    cached: int = 0  # files taken unchanged from the cache (xlplan.filecache)
