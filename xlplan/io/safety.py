"""Checks that run before any XML parser sees a file.

The limits live in :mod:`xlplan.limits`; the README's security section explains them.
Every input is opened through :func:`open_input`: a regular file of a sane size, or a
Swedish refusal before anything is read.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

from xlplan.errors import UnreadableWorkbook, UnsafeWorkbook
from xlplan.limits import DEFAULT_LIMITS, RATIO_FLOOR, Limits
from xlplan.text import clean

__all__ = ["DEFAULT_LIMITS", "Limits", "open_container", "open_input", "read_input"]

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_input(path: Path, limits: Limits = DEFAULT_LIMITS) -> BinaryIO:
    """Open an input file after checking, on the open file itself, that it is a regular file
    of a size a planbok can have. The open does not block, so a named pipe or a device is
    refused before a byte is read (a FIFO would otherwise wait forever for a writer)."""
    name = clean(path.name)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_BINARY", 0))  # Windows: no newline translation
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableWorkbook(f"Filen {name} finns inte.") from None
    except IsADirectoryError:
        raise UnreadableWorkbook(f"{name} är en mapp, inte en arbetsbok.") from None
    except OSError as exc:
        raise UnreadableWorkbook(f"Filen {name} kan inte läsas ({exc.strerror}).") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableWorkbook(f"{name} är en mapp, inte en arbetsbok.")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableWorkbook(
                f"{name} är ingen vanlig fil (utan t.ex. en namngiven pipe eller en enhet) "
                "och läses inte.")
        if info.st_size == 0:
            raise UnreadableWorkbook(f"Filen {name} är tom (0 byte).")
        if info.st_size > limits.file_bytes:
            raise UnsafeWorkbook(
                f"Filen {name} är {info.st_size // (1024 * 1024)} MB; en planbok får vara högst "
                f"{limits.file_bytes // (1024 * 1024)} MB."
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The whole input file, after :func:`open_input`'s checks (and never more than the size
    limit, even if the file grows while it is read)."""
    with open_input(path, limits) as fh:
        try:
            data = fh.read(limits.file_bytes + 1)
        except OSError as exc:
            raise UnreadableWorkbook(
                f"Filen {clean(path.name)} kan inte läsas ({exc.strerror}).") from None
    if len(data) > limits.file_bytes:
        raise UnsafeWorkbook(f"Filen {clean(path.name)} är större än "
                             f"{limits.file_bytes // (1024 * 1024)} MB; en planbok får inte vara det.")
    return data


class _Container(zipfile.ZipFile):
    """A zip over a file xlplan opened itself: closing the zip closes the file."""

    source: BinaryIO | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.source is not None:
                self.source.close()


def open_container(path: Path, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Open ``path`` as an .xlsx/.xlsm zip after checking what it is and how big it unpacks.

    Raises :class:`UnreadableWorkbook` (or :class:`UnsafeWorkbook`) with a Swedish message.
    """
    name = clean(path.name)
    fh = open_input(path, limits)
    try:
        try:
            head = fh.read(8)
        except OSError as exc:
            raise UnreadableWorkbook(f"Filen {name} kan inte läsas ({exc.strerror}).") from None
        if head.startswith(OLE2_MAGIC):
            raise UnreadableWorkbook(_describe_ole2(fh, name))
        if not head.startswith(ZIP_MAGIC):
            raise UnreadableWorkbook(
                f"Filen {name} är inte en Excel-arbetsbok (.xlsx/.xlsm). "
                "Spara den i Excel som Excel-arbetsbok och försök igen."
            )
        fh.seek(0)
        try:
            zf = _Container(fh)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                OverflowError, struct.error):
            raise UnreadableWorkbook(
                f"Filen {name} är skadad (zip-arkivet går inte att öppna). Spara om den i Excel."
            ) from None
    except BaseException:
        fh.close()
        raise
    zf.source = fh
    try:
        _check_members(zf, name, limits)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_members(zf: zipfile.ZipFile, name: str, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise UnsafeWorkbook(f"Filen {name} innehåller {len(infos)} delar; det är orimligt för en planbok.")
    names = {i.filename for i in infos}
    if len(names) != len(infos):
        raise UnsafeWorkbook(
            f"Filen {name} har flera delar med samma namn; Excel skriver aldrig så, och det "
            "går inte att veta vilken som gäller. Den läses inte."
        )
    if "xl/workbook.bin" in names:
        raise UnreadableWorkbook(
            f"Filen {name} är en binär arbetsbok (.xlsb). Spara den som .xlsx eller .xlsm."
        )
    if "xl/workbook.xml" not in names:
        raise UnreadableWorkbook(
            f"Filen {name} är ett zip-arkiv men inte en Excel-arbetsbok (xl/workbook.xml saknas)."
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableWorkbook(f"Filen {name} har krypterade delar och kan inte läsas.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            method = _METHODS.get(info.compress_type, f"metod {info.compress_type}")
            raise UnreadableWorkbook(
                f"Filen {name} är packad med {method}, som Excel inte använder; den kan inte "
                "läsas. Öppna den i Excel och spara om."
            )
        if info.file_size > limits.member_bytes:
            raise UnsafeWorkbook(
                f"Filen {name} packar upp till orimligt stora delar ({info.filename}: "
                f"{info.file_size // (1024 * 1024)} MB); det ser ut som en zip-bomb. Den läses inte."
            )
        packed = max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and info.file_size / packed > limits.ratio:
            raise UnsafeWorkbook(
                f"Filen {name} är packad {info.file_size // packed} gånger ({info.filename}); "
                "det ser ut som en zip-bomb. Den läses inte."
            )
        total += info.file_size
        if total > limits.total_bytes:
            raise UnsafeWorkbook(
                f"Filen {name} packar upp till mer än {limits.total_bytes // (1024 * 1024)} MB; "
                "det ser ut som en zip-bomb. Den läses inte."
            )


_METHODS = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 98: "PPMd"}


def _describe_ole2(fh: BinaryIO, name: str) -> str:
    """An OLE2 file is an old .xls or a password-protected .xlsx: tell which."""
    import olefile

    try:
        fh.seek(0)
        with olefile.OleFileIO(fh) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
    except Exception:
        return f"Filen {name} är en skadad äldre Office-fil och kan inte läsas."
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return (
            f"Filen {name} är lösenordsskyddad. Ta bort lösenordet i Excel "
            "(Arkiv › Info › Skydda arbetsbok) och spara igen."
        )
    if "Workbook" in streams or "Book" in streams:
        return (
            f"Filen {name} är i det gamla .xls-formatet. Öppna den i Excel och spara som "
            ".xlsx (Excel-arbetsbok)."
        )
    return f"Filen {name} är en äldre Office-fil men inte en Excel-arbetsbok."
