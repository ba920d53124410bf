"""A hostile corpus, generated here from a valid planbok (no binary fixtures).

Each case takes a folder and writes one bad file into it, built from the RUN planbok below by
one edit: a number that is no number, a zip Excel never writes, a table that claims a
million rows, a sheet name that looks like terminal markup, a special file. The valid RUN
planbok (hand-worked): Kultur T: 5 + 0 − 20 − 10 − 40 + 0 + 0 = −65 mkr, in Budgetram!D4:K4.
"""

from __future__ import annotations

import os
import resource
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.books import BUDGETRAM_HEADER, TJ, T, info, write_book

SHEET = "xl/worksheets/sheet2.xml"  # Budgetram (Info is sheet1)
TABLE = "xl/tables/table2.xml"
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def run_book(path: Path) -> Path:
    return write_book(path, info("RUN", 2025),
                      T("Budgetram", BUDGETRAM_HEADER,
                        [["Kultur", TJ, 5, 0, -20, -10, -40, 0, 0, -65]], sheet="Budgetram"))


def rewrite(src: Path, dst: Path, edit: Callable[[str, bytes], bytes],
            method: int = zipfile.ZIP_DEFLATED, extra: list[tuple[str, bytes]] = ()) -> Path:
    """Copy a workbook part by part through ``edit``; ``extra`` parts are appended as written
    (a name already present makes a duplicate entry)."""
    import warnings

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", method) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, edit(item.filename, zin.read(item.filename)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name": on purpose
            for name, data in extra:
                zout.writestr(name, data)
    if dst != src:
        src.unlink()
    return dst


def in_sheet(old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        if name == SHEET:
            assert old in data, (old, data[:400])
            return data.replace(old, new, 1)
        return data
    return edit


def value(cell: str, literal: str) -> Callable[[str, bytes], bytes]:
    """Replace the stored number of ``cell`` (one of D4..K4) with ``literal``."""
    originals = dict(zip("DEFGHIJK", ["5", "0", "-20", "-10", "-40", "0", "0", "-65"],
                         strict=True))
    old = f'<c r="{cell}" t="n"><v>{originals[cell[0]]}</v></c>'.encode()
    return in_sheet(old, f'<c r="{cell}" t="n"><v>{literal}</v></c>'.encode())


def mutated(name: str, edit: Callable[[str, bytes], bytes], **kw: object) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        base = run_book(folder / f".base-{name}")
        return rewrite(base, folder / name, edit, **kw)  # type: ignore[arg-type]
    return make


def patched_entry(name: str, local: int | None, central: int, value: int) -> Callable[[Path], Path]:
    """The sheet's zip headers with one 16-bit field set to ``value`` (offsets into the local
    and the central directory header)."""
    def make(folder: Path) -> Path:
        path = rewrite(run_book(folder / f".base-{name}"), folder / name, lambda n, d: d,
                       method=zipfile.ZIP_STORED)
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as zf:
            offset, start = zf.getinfo(SHEET).header_offset, zf.start_dir
        if local is not None:
            struct.pack_into("<H", data, offset + local, value)
        pos = start
        while data[pos:pos + 4] == b"PK\x01\x02":
            n, m, k = struct.unpack_from("<HHH", data, pos + 28)
            if data[pos + 46:pos + 46 + n] == SHEET.encode():
                struct.pack_into("<H", data, pos + central, value)
            pos += 46 + n + m + k
        path.write_bytes(bytes(data))
        return path
    return make


# The sheet marked as compressed with Deflate64 (method 9): Windows' zip tool writes it for
# large files; Python cannot unpack it.
deflate64 = patched_entry("deflate64.xlsx", 8, 10, 9)
# A zip feature version no reader knows (25.5): zipfile refuses the archive as a whole.
zip_version = patched_entry("zipversion.xlsx", None, 6, 255)


def xml_encoding(name: str, data: bytes) -> bytes:
    """An XML declaration naming an encoding that does not exist."""
    if name == "xl/workbook.xml":
        return b'<?xml version="1.0" encoding="UTF-87"?>' + data.split(b"?>", 1)[-1]
    return data


def duplicate_part(folder: Path) -> Path:
    """A second sheet part under the same name: zipfile would read the last one, Excel the
    first; which one is 'the' planbok?"""
    hidden = (b'<worksheet xmlns="' + MAIN_NS + b'"><sheetData><row r="4"><c r="D4" t="n">'
              b'<v>999</v></c></row></sheetData></worksheet>')
    return mutated("dubblett-del.xlsx", lambda n, d: d, extra=[(SHEET, hidden)])(folder)


def strict(name: str, data: bytes) -> bytes:
    return data.replace(MAIN_NS, STRICT_NS)


def table_ref(ref: str) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        if name == TABLE:
            return data.replace(b'ref="B3:K4"', f'ref="{ref}"'.encode())
        return data
    return edit


def rows_of(count: int, cell: Callable[[int, str], str]) -> Callable[[str, bytes], bytes]:
    """``count`` generated body rows in Budgetram (table ref grown to match)."""
    def edit(name: str, data: bytes) -> bytes:
        if name == TABLE:
            return data.replace(b'ref="B3:K4"', f'ref="B3:K{4 + count}"'.encode())
        if name != SHEET:
            return data
        body = "".join(
            f'<row r="{r}"><c r="B{r}" t="inlineStr"><is><t>Rad {r}</t></is></c>'
            f'<c r="C{r}" t="inlineStr"><is><t>{TJ}</t></is></c>'
            + "".join(cell(r, col) for col in "DEFGHIJK") + "</row>"
            for r in range(5, 5 + count))
        return data.replace(b"</sheetData>", body.encode() + b"</sheetData>")
    return edit


def text_cell(r: int, col: str) -> str:
    return f'<c r="{col}{r}" t="inlineStr"><is><t>x</t></is></c>'


def number_cell(r: int, col: str) -> str:
    return f'<c r="{col}{r}"><v>1</v></c>'


def sheet_name(new: str) -> Callable[[str, bytes], bytes]:
    from xml.sax.saxutils import quoteattr

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return data.replace(b'name="Budgetram"', b"name=" + quoteattr(new).encode())
        return data
    return edit


def both(*edits: Callable[[str, bytes], bytes]) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        for e in edits:
            data = e(name, data)
        return data
    return edit


def too_big(folder: Path) -> Path:
    """51 MB on disk (sparse: it costs no disk), starting like a zip."""
    path = folder / "for-stor.xlsx"
    with path.open("wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(51 * 1024 * 1024)
    return path


def fifo(folder: Path) -> Path:
    path = folder / "pipe.xlsx"
    os.mkfifo(path)
    return path


def device(folder: Path) -> Path:
    """A name that leads to /dev/zero: reading it never ends."""
    path = folder / "enhet.xlsx"
    path.symlink_to("/dev/zero")
    return path


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    exit: int  # of validate (and summary) on the file alone
    says: str  # in the output: the file's own reason or finding


NAN = "Rätta formeln eller skriv in beloppet"  # felvarde: D4 holds Excel's #NUM!

CASES: dict[str, Case] = {
    # 1 numbers that are no numbers, and sums that would leave a double's range
    "nan": Case(mutated("nan.xlsx", value("D4", "NaN")), 1, NAN),
    "inf": Case(mutated("inf.xlsx", value("D4", "INF")), 1, NAN),
    "text-in-number": Case(mutated("text.xlsx", value("F4", "abc")), 1, NAN),
    "decimal-overflow": Case(mutated("overflow.xlsx", value("D4", "1E+999999999")), 1, NAN),
    "huge-exponent": Case(mutated("exponent.xlsx", value("K4", "9E+999999")), 1, NAN),
    "infinite-sum": Case(mutated("oandlig.xlsx", both(value("D4", "-1E+308"),
                                                      value("F4", "-1E+308"))), 1, NAN),
    "lone-surrogate": Case(mutated("surrogat.xlsx", in_sheet(b"<t>Kultur</t>",
                                                              b"<t>Kultur_xD800_</t>")), 0, ""),
    # 2 small files that would cost memory or time
    "ref-whole-sheet": Case(mutated("ref-hela.xlsx", table_ref("B3:XFD1048576")), 0, ""),
    "ref-million-rows": Case(mutated("ref-rader.xlsx", table_ref("B3:K1048576")), 0, ""),
    "too-many-cells": Case(mutated("manga-celler.xlsx", rows_of(12_000, number_cell)), 2,
                           "per tabell"),
    "many-findings": Case(mutated("manga-fynd.xlsx", rows_of(6_000, text_cell)), 1,
                          "visas inte"),
    "long-text": Case(mutated("lang-text.xlsx", in_sheet(b"<t>Kultur</t>",
                                                         b"<t>" + b"K" * 40_000 + b"</t>")), 2,
                      "tecken"),
    "too-big": Case(too_big, 2, "högst 50 MB"),
    # zip and XML Excel never writes
    "deflate64": Case(deflate64, 2, "Deflate64"),
    "zip-version": Case(zip_version, 2, "skadad"),
    "unknown-encoding": Case(mutated("kodning.xlsx", xml_encoding), 2, "skadad"),
    "duplicate-part": Case(duplicate_part, 2, "samma namn"),
    "strict-ooxml": Case(mutated("strict.xlsx", strict), 2, "Strict Open XML"),
    # special files
    "fifo": Case(fifo, 2, "ingen vanlig fil"),
    "device": Case(device, 2, "ingen vanlig fil"),
    # 5 terminal and markup injection
    "markup-sheet": Case(mutated("markup.xlsx", both(sheet_name("[/]Budgetram"),
                                                     value("D4", "NaN"))), 1, "[/]Budgetram"),
    "link-sheet": Case(mutated("lank.xlsx", both(
        sheet_name("[link=https://evil.example]Budgetram[/link]"), value("D4", "NaN"))), 1,
        "[link=https://evil.example]"),
    "escape-in-header": Case(mutated("esc.xlsx", in_sheet(
        b"<t>Externa int\xc3\xa4kter</t>", b"<t>Bidrag_x001B_[2J_x001B_]8;;x_x0007_ ny_x0007_</t>")),
        1, "Bidrag ny"),
    "escape-in-file-name": Case(mutated("evil\x1b[2J\x07.xlsx", value("D4", "NaN")), 1, NAN),
}


def limited(memory: int = 1024 * 1024 * 1024) -> Callable[[], None]:
    """For subprocess' preexec_fn: at most ``memory`` bytes of address space and 60 s CPU."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
    return apply
