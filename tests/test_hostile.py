"""Hostile and broken workbooks, generated here (no opaque binaries): every case ends in a
Swedish message and exit 1 or 2, never a traceback, and the input is byte-identical after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.books import BUDGETRAM_HEADER, TJ, T, info, write_book
from tests.support.cli import sha256
from tests.support.engine import recalculate
from xlplan import validate
from xlplan.errors import UnreadableWorkbook, UnsafeWorkbook


def valid_book(tmp: Path, name: str = "ok.xlsx") -> Path:
    return write_book(tmp / name, info(),
                      T("Budgetram", BUDGETRAM_HEADER, [["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]],
                        at="A1", title=None, sheet="Budgetram"))


def template_book(tmp: Path) -> Path:
    from xlplan.template import new_planbok

    new_planbok(tmp / "mall.xlsx", "HSN", 2025)
    with zipfile.ZipFile(tmp / "mall.xlsx") as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()
    return tmp / "mall.xlsx"


def rewrite(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None],
            extra: dict[str, bytes] | None = None) -> Path:
    """Copy an .xlsx member by member; ``edit`` may replace (or with None drop) a member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def sheet_of_budgetram(name: str) -> bool:
    return name.startswith("xl/worksheets/sheet") and name.endswith(".xml")


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def with_doctype(doctype: bytes, target: Callable[[str], bool]) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        if not target(name):
            return data
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        return doctype + body.replace(b"<v>1</v>", b"<v>&lol3;</v>", 1)
    return edit


def make_zip_bomb(path: Path) -> Path:
    """A sheet of 300 MB of XML that packs to well under 1 MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"<row>" + b"<c><v>1</v></c>" * 1000 + b"</row>"
            for _ in range(300 * 1024 * 1024 // len(chunk)):
                fh.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    return path


def encrypted(tmp: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    src = valid_book(tmp, "plain.xlsx")
    out = tmp / "losenord.xlsx"
    with src.open("rb") as fin, out.open("wb") as fout:
        OOXMLFile(fin).encrypt("hemligt", fout)
    return out


def old_xls(tmp: Path) -> Path:
    xls = recalculate(valid_book(tmp, "gammal.xlsx"), tmp / "lo", fmt="xls")
    renamed = tmp / "gammal-omdopt.xlsx"
    renamed.write_bytes(xls.read_bytes())
    return renamed


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "random-bytes": (lambda t: _write(t / "slump.xlsx", os.urandom(4096)), "inte en Excel"),
    "empty": (lambda t: _write(t / "tom.xlsx", b""), "är tom"),
    "csv": (lambda t: _write(t / "data.xlsx", "Område;Belopp\nA;1\n".encode()), "inte en Excel"),
    "truncated-zip": (lambda t: _write(t / "halv.xlsx", valid_book(t).read_bytes()[:1500]),
                      "skadad"),
    "xlsb": (lambda t: rewrite(valid_book(t), t / "binar.xlsx",
                               lambda n, d: None if n == "xl/workbook.xml" else d,
                               {"xl/workbook.bin": b"\x00" * 64}), ".xlsb"),
    "zip-without-workbook": (lambda t: _zip(t / "annat.xlsx", {"a.txt": b"hej"}),
                             "inte en Excel-arbetsbok"),
    "zip-bomb": (lambda t: make_zip_bomb(t / "bomb.xlsx"), "zip-bomb"),
    "entities-in-sheet": (lambda t: rewrite(valid_book(t), t / "lol.xlsx",
                                            with_doctype(BILLION_LAUGHS, sheet_of_budgetram)),
                          "DTD/entiteter"),
    "entities-in-shared-strings": (  # xlsxwriter, unlike openpyxl, writes sharedStrings
        lambda t: rewrite(template_book(t), t / "lol2.xlsx",
                          with_doctype(BILLION_LAUGHS, lambda n: n == "xl/sharedStrings.xml")),
        "DTD/entiteter"),
    "external-entity": (lambda t: rewrite(valid_book(t), t / "xxe.xlsx",
                                          with_doctype(EXTERNAL, sheet_of_budgetram)),
                        "DTD/entiteter"),
    "broken-xml": (lambda t: rewrite(valid_book(t), t / "trasig.xlsx",
                                     lambda n, d: d[: len(d) // 2] if sheet_of_budgetram(n)
                                     else d), "skadad"),
    "encrypted": (encrypted, "lösenordsskyddad"),
    "old-xls": (old_xls, "gamla .xls-formatet"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_unreadable_files_exit_2_with_a_swedish_sentence(tmp_path: Path, case: str) -> None:
    make, expected = CASES[case]
    path = make(tmp_path)
    before = sha256(path)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "xlplan", "validate", str(path)],
                            capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert sha256(path) == before
    assert elapsed < 30  # bounded: refused before any parser runs, not after


def test_unsafe_files_raise_the_unsafe_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafeWorkbook):
        validate(make_zip_bomb(tmp_path / "bomb.xlsx"))
    with pytest.raises(UnsafeWorkbook):
        validate(rewrite(valid_book(tmp_path), tmp_path / "x.xlsx",
                         with_doctype(EXTERNAL, sheet_of_budgetram)))
    with pytest.raises(UnreadableWorkbook):
        validate(tmp_path / "finns-inte.xlsx")


def test_a_sheet_whose_dimension_claims_a_million_rows(tmp_path: Path) -> None:
    path = rewrite(valid_book(tmp_path), tmp_path / "dim.xlsx",
                   lambda n, d: d.replace(b'<dimension ref="A1:J2"/>',
                                          b'<dimension ref="A1:XFD1048576"/>')
                   if sheet_of_budgetram(n) else d)
    report = validate(path)
    assert report.errors == 0


def test_a_huge_shared_strings_table_is_read_only_as_far_as_needed(tmp_path: Path) -> None:
    def edit(name: str, data: bytes) -> bytes:
        if name != "xl/sharedStrings.xml":
            return data
        extra = b"".join(b"<si><t>skr\xc3\xa4p %d</t></si>" % i for i in range(300_000))
        return data.replace(b"</sst>", extra + b"</sst>")
    path = rewrite(valid_book(tmp_path), tmp_path / "sst.xlsx", edit)
    started = time.monotonic()
    report = validate(path)
    assert time.monotonic() - started < 10
    assert report.errors == 0


def test_control_characters_in_text_do_not_break_messages(tmp_path: Path) -> None:
    path = write_book(tmp_path / "ctl.xlsx", info(),
                      T("Budgetram", BUDGETRAM_HEADER,
                        [["X\tY", TJ, "Mål_x0007_ 95 %", 0, 0, 0, 0, 0, 0, 1]], at="A1",
                          title=None))
    report = validate(path)
    message = next(f.message for f in report.findings if f.code == "ej-tal")
    assert "\u0007" not in message and "Mål  95 %" in message


def test_merged_cells_across_amount_columns(tmp_path: Path) -> None:
    import openpyxl

    path = write_book(tmp_path / "m.xlsx", info(),
                      T("Budgetram", BUDGETRAM_HEADER, [["X", TJ, 1, None, 0, 0, 0, 0, 0, 1]],
                        at="A1", title=None, sheet="Budgetram"))
    wb = openpyxl.load_workbook(path)
    wb["Budgetram"].merge_cells("C2:D2")
    wb.save(path)
    report = validate(path)
    assert [f.cell for f in report.findings if f.code == "sammanslagna-celler"] == ["C2"]


def test_nämnd_code_in_another_unicode_form(tmp_path: Path) -> None:
    path = write_book(tmp_path / "u.xlsx", info("\uff28\uff33\uff2e"),  # full-width HSN
                      T("Budgetram", BUDGETRAM_HEADER, [["X", TJ, 1, 0, 0, 0, 0, 0, 0, 1]]))
    assert validate(path).planbok.info.namnd == "HSN"
