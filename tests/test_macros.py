"""The .xlsm workbooks' VBA project, proved byte for byte: every module read back by
independent readers (oletools; LibreOffice's import) equals its source file in full, the
buttons call Subs that exist, and the xlwings configuration is in the workbook."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import olefile
import openpyxl
import pytest

from tests.support.engine import recalculate
from tests.support.vba import XLWINGS, modules_by_oletools
from xlplan import ovba, validate

ROOT = Path(__file__).resolve().parent.parent
SERVER = "https://xlplan.region.example/api"
SERVER_FILES = [XLWINGS / "addin" / n for n in (
    "Remote.bas", "WebClient.cls", "WebRequest.cls", "WebResponse.cls", "WebHelpers.bas",
    "IWebAuthenticator.cls")]
CLASS_HEADER = ["VERSION 1.0 CLASS", "BEGIN", "  MultiUse = -1  'True", "END"]


def source_files(server: bool) -> list[Path]:
    files = [ROOT / "macros" / "xlplan.bas", XLWINGS / "xlwings.bas",
             XLWINGS / "addin" / "Dictionary.cls"]
    return files + (SERVER_FILES if server else [])


def expected_text(path: Path) -> str:
    """A module file's text as the project must hold it (LF line ends here). A class file's
    first four lines (VERSION … END) are the export header, not module source."""
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    if path.suffix == ".cls":
        assert lines[:4] == CLASS_HEADER
        lines = lines[4:]
    return "\n".join(lines)


def document_text(name: str, guid: str) -> str:
    # as Excel writes an empty document module (xlwings' quickstart workbook holds these lines)
    return (f'Attribute VB_Name = "{name}"\nAttribute VB_Base = "0{guid}"\n'
            "Attribute VB_GlobalNameSpace = False\nAttribute VB_Creatable = False\n"
            "Attribute VB_PredeclaredId = True\nAttribute VB_Exposed = True\n"
            "Attribute VB_TemplateDerived = False\nAttribute VB_Customizable = True\n")


def expected_modules(path: Path, server: bool) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        sheets = len(re.findall(r"<sheet ", zf.read("xl/workbook.xml").decode()))
    out = {"ThisWorkbook": document_text("ThisWorkbook", "{00020819-0000-0000-C000-000000000046}")}
    for i in range(1, sheets + 1):
        out[f"Sheet{i}"] = document_text(f"Sheet{i}", "{00020820-0000-0000-C000-000000000046}")
    for f in source_files(server):
        out[f.stem] = expected_text(f)
    return out




def button_macros(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        vml = [zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml")]
    return re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", "".join(vml))


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bool]]:
    """Every kind of .xlsm: the shipped templates, `xlplan new` (planbok, RS, region) and
    the server variants. Value: (path, has the server modules)."""
    folder = tmp_path_factory.mktemp("xlsm")
    for args in (["--namnd", "HSN", "--ar", "2027", "hsn.xlsm"],
                 ["--namnd", "RS", "--ar", "2027", "rs.xlsm"],
                 ["--region", "--ar", "2027", "region.xlsm"],
                 ["--namnd", "HSN", "--ar", "2027", "--server", SERVER, "hsn-server.xlsm"],
                 ["--region", "--ar", "2027", "--server", SERVER + "/", "region-server.xlsm"]):
        result = subprocess.run([sys.executable, "-m", "xlplan", "new", *args], cwd=folder,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    out = {p.name: (p, "server" in p.name) for p in sorted(folder.glob("*.xlsm"))}
    out.update({f"shipped {p.name}": (p, False) for p in sorted((ROOT / "workbooks").glob("*.xlsm"))})
    assert sorted(out) == sorted(ALL_BOOKS)
    return out


def test_every_module_equals_its_source_in_full(books: dict[str, tuple[Path, bool]]) -> None:
    for name, (path, server) in books.items():
        expected = expected_modules(path, server)
        got = modules_by_oletools(path)
        assert list(got) == list(expected), name
        for module, text in expected.items():
            assert got[module] == text, f"{name}: module {module} differs from its source"
            assert text.startswith(f'Attribute VB_Name = "{module}"\n')  # the stream's name


def test_the_long_xlwings_module_survives_to_its_last_line(
        books: dict[str, tuple[Path, bool]]) -> None:
    # what the corrupt compressor broke: xlwings.bas is 45 kB; its licence notice and its
    # last function must come back as they are
    path, _ = books["hsn.xlsm"]
    code = modules_by_oletools(path)["xlwings"]
    source = (XLWINGS / "xlwings.bas").read_text().replace("\r\n", "\n")
    assert len(code) == len(source) > 40_000
    assert "BSD 3-clause" in code and "Public Function RunPython(" in code
    assert code.rstrip().endswith(source.rstrip().splitlines()[-1])


def test_project_is_source_only(books: dict[str, tuple[Path, bool]]) -> None:
    for name, (path, _) in books.items():
        with zipfile.ZipFile(path) as zf:
            ole = olefile.OleFileIO(zf.read("xl/vbaProject.bin"))
        # MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF, no performance cache
        assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100"), name
        project = ole.openstream("PROJECT").read().decode("cp1252")
        assert "Class=Dictionary\r\n" in project and "Module=xlplan\r\n" in project
        # not protected, no password, visible (MS-OVBA 2.3.1.15-17, obfuscated as in 2.4.3)
        values = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"\r$', project, re.MULTILINE))
        pid = re.search(r'^ID="(\{[0-9A-F-]+\})"', project, re.MULTILINE)
        assert pid is not None
        for key, plain in (("CMG", bytes(4)), ("DPB", b"\x00"), ("GC", b"\xff")):
            assert ovba.decrypt(bytes.fromhex(values[key])) == (ovba.project_key(pid[1]), plain)


def libreoffice_text(source: str, kind: str) -> str:
    """What LibreOffice's VBA import makes of a module: its own header lines, the source
    without the Attribute lines, one newline at the end."""
    prefix = {"document": "Rem Attribute VBA_ModuleType=VBADocumentModule\nOption VBASupport 1\n",
              "module": "Rem Attribute VBA_ModuleType=VBAModule\nOption VBASupport 1\n",
              "class": "Rem Attribute VBA_ModuleType=VBAClassModule\nOption VBASupport 1\n"
                       "Option ClassModule\n"}[kind]
    kept = [line for line in source.split("\n") if not line.startswith("Attribute ")]
    return prefix + "\n".join(kept) + "\n"


ALL_BOOKS = ["hsn.xlsm", "rs.xlsm", "region.xlsm", "hsn-server.xlsm", "region-server.xlsm",
             "shipped planbok-mall.xlsm", "shipped region-mall.xlsm"]


@pytest.mark.parametrize("name", ALL_BOOKS)
def test_libreoffice_imports_the_whole_source_of_every_module(
        books: dict[str, tuple[Path, bool]], name: str, tmp_path: Path) -> None:
    path, server = books[name]
    ods = recalculate(path, tmp_path / "lo", fmt="ods")
    kinds = {f.stem: "class" if f.suffix == ".cls" else "module" for f in source_files(server)}
    with zipfile.ZipFile(ods) as zf:
        for module, text in expected_modules(path, server).items():
            xml = zf.read(f"Basic/VBAProject/{module}.xml")  # the XML parser unescapes
            got = ElementTree.fromstring(xml).text or ""
            assert got == libreoffice_text(text, kinds.get(module, "document")), module


def test_buttons_call_subs_that_exist(books: dict[str, tuple[Path, bool]]) -> None:
    for name, (path, _) in books.items():
        expected = ["Konsolidera"] if "region" in name else ["Validera", "Berakna", "Skicka"]
        assert button_macros(path) == expected, name
        code = modules_by_oletools(path)["xlplan"]
        for macro in expected:
            assert re.search(rf"^Sub {macro}\(\)\n", code, re.MULTILINE), (name, macro)


def test_each_macro_calls_a_handler_that_exists() -> None:
    from xlplan import excel

    code = (ROOT / "macros" / "xlplan.bas").read_text()
    handlers = re.findall(r'^    CallHandler "(\w+)"', code, re.MULTILINE)
    assert handlers == ["validera", "berakna", "skicka", "konsolidera"]
    for handler in handlers:
        assert callable(getattr(excel, handler))
    # the server route posts to {XLPLAN_SERVER}/{handler}, with the token as a Bearer header,
    # through xlwings' RunServerPython (late bound: the module compiles without Remote)
    assert 'Application.Run "RunServerPython", server & "/" & handler, "Bearer " & token' in code
    assert 'RunPython "import xlplan.excel; xlplan.excel." & handler & "()"' in code


def test_xlwings_conf_sheet(books: dict[str, tuple[Path, bool]]) -> None:
    from xlplan import __version__

    for name, (path, server) in books.items():
        wb = openpyxl.load_workbook(path)
        sheet = wb["xlwings.conf"]
        assert sheet.sheet_state == "hidden"
        conf = {}
        for row in sheet.iter_rows(values_only=True):
            if row[0] is None:
                break  # xlwings reads from A1 down to the first empty cell
            conf[row[0]] = row[1]
        expected: dict[str, object] = {
            "Interpreter_Win": "python", "Interpreter_Mac": "/usr/local/bin/python3",
            "ADD_WORKBOOK_TO_PYTHONPATH": False, "Show Console": False,
            "XLPLAN_VERSION": __version__}
        if server:
            expected["XLPLAN_SERVER"] = SERVER  # a trailing slash is dropped
        assert conf == expected, name


def test_an_xlsm_planbok_validates_like_an_xlsx(books: dict[str, tuple[Path, bool]]) -> None:
    for name in ("hsn.xlsm", "rs.xlsm", "hsn-server.xlsm"):
        report = validate(books[name][0])
        assert [f.code for f in report.findings if f.severity.value != "info"] == [], name


def test_module_sources_fit_the_project_code_page() -> None:
    # the project stores its modules in Windows-1252 (PROJECTCODEPAGE); å, ä, ö fit
    for source in source_files(server=True):
        source.read_text(encoding="utf-8").encode("cp1252")


def test_new_refuses_a_bad_server_address(tmp_path: Path) -> None:
    for server, name in (("ftp://x.example", "a.xlsm"), ('https://x.example/"&x', "b.xlsm"),
                         ("https://x.example", "c.xlsx")):
        result = subprocess.run([sys.executable, "-m", "xlplan", "new", "--namnd", "HSN", "--ar",
                                 "2027", "--server", server, name], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and "--server" in result.stderr, server
    assert list(tmp_path.iterdir()) == []


def _vba_code(text: str) -> list[str]:
    """The module's lines without comments (a ' outside a string starts one)."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        out, quoted = "", False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif ch == "'" and not quoted:
                break
            out += ch
        lines.append(out)
    return lines


def test_every_variable_the_macros_assign_is_declared() -> None:
    # Option Explicit: an undeclared name is a compile error that stops every button
    code = _vba_code((ROOT / "macros" / "xlplan.bas").read_text(encoding="utf-8"))
    assert code[1] == "Option Explicit"
    module = {m for line in code for m in re.findall(r"^Private (\w+) As ", line)}
    declared: set[str] = set()
    for line in code:
        header = re.match(r"^(?:Private )?(?:Sub|Function) (\w+)\(([^)]*)\)", line)
        if header:
            params = re.findall(r"(\w+) As ", header.group(2))
            declared = module | {header.group(1), *params}
            continue
        for dims in re.findall(r"^\s*Dim (.*)", line):
            declared |= set(re.findall(r"(\w+) As ", dims))
        target = re.match(r"^\s*(?:Set )?(\w+)(?:\.\w+)* = ", line)
        if target and not line.lstrip().startswith(("If ", "ElseIf ")):
            assert target.group(1) in declared | {"Application"}, line


def test_a_key_the_server_does_not_know_can_be_forgotten_at_once() -> None:
    text = (ROOT / "macros" / "xlplan.bas").read_text(encoding="utf-8")
    code = "\n".join(_vba_code(text))
    # asked before the workbook is sent; the server's route GET /nyckel (tests/test_server.py)
    assert re.search(r"If Not KeyRefused\(server, token\) Then\n\s+Application.Run "
                     r'"RunServerPython"', code)
    assert 'http.Open "GET", server & "/nyckel", False' in code
    refused = code[code.index("ElseIf http.Status = 401 Then"):code.index("Unchecked:")]
    assert "vbYesNo" in refused and 'DeleteSetting "xlplan", "server", "token"' in refused
    assert "KeyRefused = True" in refused


def test_the_dialogs_point_to_the_wheel_it_hands_out_never_to_a_package_index() -> None:
    # xlplan is on no public index: "pip install xlplan" by name could install someone else's
    code = "\n".join(_vba_code((ROOT / "macros" / "xlplan.bas").read_text(encoding="utf-8")))
    assert not re.search(r"pip install xlplan(==|\"| |$)", code, re.MULTILINE)
    assert code.count(".whl-fil som IT") == 4 and "README: Installation" in code
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^### Installation\b", readme, re.MULTILINE)
    assert not re.search(r"pip\s+install xlplan(\s|&|\"|$)", readme, re.MULTILINE)


def test_new_refuses_a_server_address_that_would_leak_or_break(tmp_path: Path) -> None:
    def new(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xlplan", "new", "--ar", "2027", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)

    refused = {
        "https://x.example/xlplan?debug=1": "?frågedel eller #fragment",
        "https://x.example/xlplan#a": "?frågedel eller #fragment",
        "https://anna:hemligt@x.example/xlplan": "användarnamn eller lösenord",
        "https://@x.example/xlplan": "användarnamn eller lösenord",
        "http://xlplan.region.example": "måste börja med https://",
        "http://10.0.0.5:8000": "måste börja med https://",
        "https://x.example:porten": "ingen giltig adress",
    }
    for i, (url, expected) in enumerate(refused.items()):
        result = new("--namnd", "HSN", "--server", url, f"p{i}.xlsm")
        assert result.returncode == 2, (url, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr, url
        assert not (tmp_path / f"p{i}.xlsm").exists(), url
    for i, url in enumerate(("http://127.0.0.1:8000", "http://localhost:8000/xlplan",
                             "https://xlplan.region.example/api")):
        made = new("--namnd", "HSN", "--server", url, f"ok{i}.xlsm")
        assert made.returncode == 0, (url, made.stderr)
    region = new("--region", "--namnd", "HSN", "region.xlsm")
    assert region.returncode == 2 and "ta bort --namnd" in region.stderr
    assert not (tmp_path / "region.xlsm").exists()
