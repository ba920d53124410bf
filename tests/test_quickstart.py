"""The .xlsm templates against what the pinned xlwings itself writes (`xlwings quickstart
NAME --standalone`, an Excel-made workbook), part by part; README lists the differences."""

from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
from oletools.olevba import VBA_Parser, decompress_stream

from tests.support.vba import XLWINGS, modules_by_oletools

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("quickstart")
    subprocess.run([sys.executable, "-m", "xlwings.cli", "quickstart", "demo", "--standalone"],
                   cwd=folder, check=True, capture_output=True, timeout=120)
    return folder / "demo" / "demo.xlsm"


def source_by_olevba(path: Path) -> dict[str, str]:
    """Module sources as olevba decodes them (it skips an Excel-made performance cache)."""
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code.replace("\r\n", "\n")
                for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def streams(path: Path) -> olefile.OleFileIO:
    with zipfile.ZipFile(path) as zf:
        return olefile.OleFileIO(zf.read("xl/vbaProject.bin"))


def test_xlwings_module_is_the_quickstarts(quickstart: Path) -> None:
    ours = modules_by_oletools(ROOT / "workbooks" / "planbok-mall.xlsm")
    theirs = source_by_olevba(quickstart)
    assert ours["xlwings"] == theirs["xlwings"]  # byte for byte, 45 kB
    # Excel adds three attributes to a class when it saves one, and spells Err as it likes;
    # otherwise the Dictionary class is the same
    added = ('Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"',
             "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False")
    saved = [line for line in theirs["Dictionary"].split("\n") if line not in added]
    assert ours["Dictionary"].lower().split("\n") == [line.lower() for line in saved]


def information(ole: olefile.OleFileIO) -> list[tuple[int, bytes]]:
    """PROJECTINFORMATION of the dir stream (MS-OVBA 2.3.4.2.1): (record id, value), up to
    the first reference; the values that name no project (sys kind, locale, code page)."""
    data = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    out, pos = [], 0
    while True:
        rid, size = struct.unpack_from("<HI", data, pos)
        if rid == 0x0016:
            return out
        if rid == 0x0009:  # PROJECTVERSION: Reserved (4) then 6 bytes of version
            size = 6
        value = data[pos + 6:pos + 6 + size]
        out.append((rid, value if rid in (0x0001, 0x0002, 0x0003, 0x0004, 0x0014) else b""))
        pos += 6 + size


def test_project_streams_have_the_quickstarts_shape(quickstart: Path) -> None:
    ours, theirs = streams(ROOT / "workbooks" / "planbok-mall.xlsm"), streams(quickstart)
    assert ours.openstream("VBA/_VBA_PROJECT").read() == theirs.openstream(
        "VBA/_VBA_PROJECT").read()  # source only, CC 61 FF FF 00 01 00
    assert {"/".join(p) for p in theirs.listdir()} - {"/".join(p) for p in ours.listdir()} == {
        "VBA/Module1"}  # the quickstart's sample module; ours has xlplan instead

    def keys(ole: olefile.OleFileIO) -> list[str]:
        text = ole.openstream("PROJECT").read().decode("cp1252")
        return [line.split("=")[0] for line in text[:text.index("[Host")].split("\r\n")
                if "=" in line and not line.startswith(("Document", "Module", "Class"))]

    assert keys(ours) == keys(theirs) == ["ID", "Name", "HelpContextID", "VersionCompatible32",
                                          "CMG", "DPB", "GC"]
    assert information(ours) == information(theirs)  # the dir stream's first records

    host = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
    for ole in (ours, theirs):
        assert host in ole.openstream("PROJECT").read().decode("cp1252")


def test_config_sheet_uses_the_quickstarts_keys(quickstart: Path) -> None:
    theirs = openpyxl.load_workbook(quickstart)["_xlwings.conf"]  # inactive until renamed
    their_keys = {str(r[0]).upper() for r in theirs.iter_rows(max_row=9, values_only=True)}
    ours = openpyxl.load_workbook(ROOT / "workbooks" / "planbok-mall.xlsm")["xlwings.conf"]
    our_keys = set()
    for row in ours.iter_rows(values_only=True):
        if row[0] is None:
            break  # xlwings reads from A1 down to the first empty cell
        our_keys.add(str(row[0]).upper())
    assert {"INTERPRETER_WIN", "INTERPRETER_MAC", "SHOW CONSOLE"} <= their_keys
    # besides the quickstart's keys: one xlwings reads (xlwings.bas: GetConfig
    # "ADD_WORKBOOK_TO_PYTHONPATH") and xlplan's own version, read by macros/xlplan.bas
    extra = our_keys - their_keys
    assert extra == {"ADD_WORKBOOK_TO_PYTHONPATH", "XLPLAN_VERSION"}
    source = (XLWINGS / "xlwings.bas").read_text()
    assert 'GetConfig("ADD_WORKBOOK_TO_PYTHONPATH"' in source


def test_our_decompressor_reads_excels_streams(quickstart: Path) -> None:
    # Excel's compressor picks other matches than ours (MS-OVBA 3.2.2 shows one); the
    # quickstart's dir stream and 19 kB xlwings module stream are Excel-made
    from xlplan import ovba

    theirs = streams(quickstart)
    for name in ("VBA/dir", "VBA/xlwings"):
        packed = theirs.openstream(name).read()
        assert ovba.decompress(packed) == bytes(decompress_stream(bytearray(packed)))
