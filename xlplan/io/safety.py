"""Checks that run before any XML parser sees a file.

A planbok is a few hundred kilobytes. The limits below are far above any real
planbok and far below what would hurt the machine; the README's security
section explains them.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from xlplan.errors import UnreadableWorkbook, UnsafeWorkbook

MAX_FILE_BYTES = 50 * 1024 * 1024  # on disk
MAX_MEMBERS = 2_000  # entries in the zip
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one part, unpacked
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all parts, unpacked
MAX_RATIO = 200  # unpacked / packed, for parts over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class Limits:
    file_bytes: int = MAX_FILE_BYTES
    members: int = MAX_MEMBERS
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: int = MAX_RATIO


DEFAULT_LIMITS = Limits()


def open_container(path: Path, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Open ``path`` as an .xlsx/.xlsm zip after checking what it is and how big it unpacks.

    Raises :class:`UnreadableWorkbook` (or :class:`UnsafeWorkbook`) with a Swedish message.
    """
    name = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise UnreadableWorkbook(f"Filen {name} finns inte.") from None
    except IsADirectoryError:
        raise UnreadableWorkbook(f"{name} är en mapp, inte en arbetsbok.") from None
    except OSError as exc:
        raise UnreadableWorkbook(f"Filen {name} kan inte läsas ({exc.strerror}).") from None
    if size == 0:
        raise UnreadableWorkbook(f"Filen {name} är tom (0 byte).")
    if size > limits.file_bytes:
        raise UnsafeWorkbook(
            f"Filen {name} är {size // (1024 * 1024)} MB; en planbok får vara högst "
            f"{limits.file_bytes // (1024 * 1024)} MB."
        )
    if head.startswith(OLE2_MAGIC):
        raise UnreadableWorkbook(_describe_ole2(path))
    if not head.startswith(ZIP_MAGIC):
        raise UnreadableWorkbook(
            f"Filen {name} är inte en Excel-arbetsbok (.xlsx/.xlsm). "
            "Spara den i Excel som Excel-arbetsbok och försök igen."
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableWorkbook(
            f"Filen {name} är skadad (zip-arkivet går inte att öppna). Spara om den i Excel."
        ) from None
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


def _describe_ole2(path: Path) -> str:
    """An OLE2 file is an old .xls or a password-protected .xlsx: tell which."""
    import olefile

    name = path.name
    try:
        with olefile.OleFileIO(str(path)) as ole:
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
