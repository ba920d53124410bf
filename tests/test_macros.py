"""The .xlsm templates: the macros are really in them, the buttons call macros that exist,
and a real Office engine (LibreOffice) imports the modules."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.engine import recalculate
from xlplan import validate
from xlplan.template import new_planbok, new_region
from xlplan.vba import MACROS


def macros_in(path: Path) -> dict[str, str]:
    """Module name -> source, decoded by olevba (oletools)."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def button_macros(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        vml = [zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml")]
    return re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", "".join(vml))


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("xlsm")
    new_planbok(folder / "hsn.xlsm", "HSN", 2027)
    new_region(folder / "region.xlsm", 2027)
    return {"planbok": folder / "hsn.xlsm", "region": folder / "region.xlsm"}


def test_every_macro_round_trips_through_olevba(books: dict[str, Path]) -> None:
    source = (Path(__file__).resolve().parent.parent / "macros" / "xlplan.bas").read_text()
    for path in books.values():
        modules = macros_in(path)
        assert {"xlplan.bas", "xlwings.bas"} <= set(modules)
        for macro in MACROS:
            assert f"Sub {macro}()" in modules["xlplan.bas"]
        assert "BSD 3-clause" in modules["xlwings.bas"]  # the licence notice travels along
        assert "Public Function RunPython(" in modules["xlwings.bas"]
        for line in source.splitlines()[1:]:
            assert line.strip() in modules["xlplan.bas"]


def test_buttons_call_macros_that_exist(books: dict[str, Path]) -> None:
    assert button_macros(books["planbok"]) == ["Validera", "Berakna", "Skicka"]
    assert button_macros(books["region"]) == ["Konsolidera"]
    for path in books.values():
        code = macros_in(path)["xlplan.bas"]
        for macro in button_macros(path):
            assert re.search(rf"^Sub {macro}\(\)", code, re.MULTILINE)


def test_each_macro_calls_a_handler_that_exists(books: dict[str, Path]) -> None:
    from xlplan import excel

    code = macros_in(books["planbok"])["xlplan.bas"]
    for handler in re.findall(r"xlplan\.excel\.(\w+)\(\)", code):
        assert callable(getattr(excel, handler))


def test_libreoffice_imports_the_modules(books: dict[str, Path], tmp_path: Path) -> None:
    ods = recalculate(books["planbok"], tmp_path / "lo", fmt="ods")
    with zipfile.ZipFile(ods) as zf:
        names = zf.namelist()
        assert "Basic/VBAProject/xlplan.xml" in names
        assert "Basic/VBAProject/xlwings.xml" in names
        assert "Sub Validera()" in zf.read("Basic/VBAProject/xlplan.xml").decode()


def test_an_xlsm_planbok_validates_like_an_xlsx(books: dict[str, Path]) -> None:
    report = validate(books["planbok"])
    assert [f.code for f in report.findings if f.severity.value != "info"] == []


def test_cli_new_xlsm_and_region(tmp_path: Path) -> None:
    for args in (["--namnd", "RS", "--ar", "2027", str(tmp_path / "rs.xlsm")],
                 ["--region", "--ar", "2027", str(tmp_path / "region.xlsm")]):
        result = subprocess.run([sys.executable, "-m", "xlplan", "new", *args],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert button_macros(tmp_path / "rs.xlsm") == ["Validera", "Berakna", "Skicka"]
    assert button_macros(tmp_path / "region.xlsm") == ["Konsolidera"]


def test_macro_sources_are_ascii() -> None:
    # a VBA project stores its modules in a Windows code page; ms-ovba copies bytes as they
    # are, so anything beyond ASCII would arrive garbled in Excel
    from xlplan.vba import macro_sources

    for source in macro_sources():
        source.read_bytes().decode("ascii")
