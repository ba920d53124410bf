"""Both workbook readers side by side: the fast one (expat checks, a pattern reads) and the
reference (expat and defusedxml with a callback per event) must give the same RawWorkbook,
or the same refusal, for every file. tests/conftest.py runs this on every workbook a test
leaves behind."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from xlplan.io.raw import RawWorkbook
from xlplan.io.xlsx import read_workbook
from xlplan.limits import DEFAULT_LIMITS

Outcome = tuple[str, object]


def outcome(path: Path, *, scan: bool) -> Outcome:
    """What one reader makes of ``path``: its RawWorkbook, or the class and text of what it
    raised (a refusal is an outcome too)."""
    try:
        book: RawWorkbook = read_workbook(path, scan=scan)
    except Exception as exc:
        return "refused", (type(exc).__name__, str(exc))
    return "read", book


def assert_readers_agree(path: Path) -> None:
    fast, reference = outcome(path, scan=True), outcome(path, scan=False)
    assert fast == reference, f"the readers differ on {path}:\nfast: {fast}\nreference: {reference}"


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def workbooks_under(folder: Path) -> list[Path]:
    """Every regular file named like a workbook under ``folder`` (a named pipe or a device
    a test made is left alone: opening one is that test's business)."""
    found = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(WORKBOOK_SUFFIXES):
                path = Path(dirpath, name)
                if path.is_file() and not path.is_symlink():
                    found.append(path)
    return sorted(found)


def content_key(path: Path) -> str:
    """What the readers can see of the file: several tests leave the same workbook behind,
    written at different times, and it is compared once. A zip is known by what zipfile
    shows of it (each entry's name, method, flags and sizes, and its data), except the
    content of the two parts no reader opens (docProps/core.xml and app.xml, which hold the
    time of writing); anything else, or a zip zipfile cannot read whole, by all its bytes."""
    digest = hashlib.sha256()
    try:
        digest.update(b"big" if path.stat().st_size > DEFAULT_LIMITS.file_bytes else b"small")
        with zipfile.ZipFile(path) as zf:
            if any(info.file_size > 8 * 1024 * 1024 for info in zf.infolist()):
                raise ValueError("too large to unpack for a key: known by its bytes")
            for info in zf.infolist():
                digest.update(repr((info.filename, info.compress_type, info.flag_bits,
                                    info.file_size)).encode())
                if info.filename not in _UNREAD:
                    digest.update(repr(info.compress_size).encode())
                    digest.update(zf.read(info))
        return "zip:" + digest.hexdigest()
    except Exception:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return "bytes:" + digest.hexdigest()


_UNREAD = frozenset(["docProps/core.xml", "docProps/app.xml"])
