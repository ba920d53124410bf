"""The VBA project (vbaProject.bin) behind the buttons of the .xlsm templates.

Written here to MS-OVBA byte for byte: the module sources (``macros/*.bas`` and xlwings' own
modules, read from the pinned xlwings package, BSD/MIT notices kept in them), compressed with
:mod:`xlplan.ovba`, described by the ``dir`` and ``PROJECT`` streams, in a compound file
written by :mod:`xlplan.cfb`. The project is source only: ``_VBA_PROJECT`` carries version
0xFFFF and no performance cache, so Excel compiles the sources when it opens the workbook.

Modules, in the order of xlwings' own quickstart workbook: a document module for the
workbook and for each sheet, then ``xlplan`` (the buttons), ``xlwings`` (RunPython), the
``Dictionary`` class (xlwings needs it on a Mac), and for a workbook that talks to
``xlplan serve``: xlwings' ``Remote`` client and the VBA-Web modules it uses.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from xlplan import ovba
from xlplan.cfb import write_cfb

MACROS = ("Validera", "Berakna", "Skicka", "Konsolidera")
PROJECT_ID = "{6C1F2A4E-0B7D-4E55-9C3A-2D7E8F1A9B30}"
CODEPAGE = 1252
ENCODING = "cp1252"
# MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF (source only), Reserved2 0, Reserved3 1
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")
SERVER_MODULES = ("Remote.bas", "WebClient.cls", "WebRequest.cls", "WebResponse.cls",
                  "WebHelpers.bas", "IWebAuthenticator.cls")
_WORKBOOK_GUID = "{00020819-0000-0000-C000-000000000046}"
_SHEET_GUID = "{00020820-0000-0000-C000-000000000046}"
_REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               "C:\\Windows\\System32\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\\Program Files\\Common Files"
               "\\Microsoft Shared\\OFFICE16\\MSO.DLL#Microsoft Office 16.0 Object Library"),
)


@dataclass(frozen=True)
class Module:
    name: str
    kind: str  # "Document", "Module" or "Class" (the PROJECT stream's words)
    source: str  # the text as stored: CRLF line ends, a class file without its header


def stored_source(text: str) -> str:
    """A module file's text as a VBA project stores it: CRLF line ends; a ``.cls`` file's
    ``VERSION 1.0 CLASS`` … ``END`` header is not part of the stored source."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        first = next(i for i, line in enumerate(lines) if line.startswith("Attribute "))
        lines = lines[first:]
    return "\r\n".join(lines)


def macros_folder() -> Path:
    here = Path(__file__).resolve().parent
    candidates = [here / "macros", here.parent / "macros"]
    return next((p for p in candidates if (p / "xlplan.bas").exists()), candidates[-1])


def macro_sources(server: bool = False) -> list[Path]:
    """The module files in the project, ours first."""
    import xlwings

    package = Path(xlwings.__file__).parent
    files = [*sorted(macros_folder().glob("*.bas")), package / "xlwings.bas",
             package / "addin" / "Dictionary.cls"]
    if server:
        files += [package / "addin" / name for name in SERVER_MODULES]
    return files


def document_source(name: str, guid: str) -> str:
    """A document module as Excel writes an empty one (copied from xlwings' quickstart)."""
    return "".join(f"{line}\r\n" for line in (
        f'Attribute VB_Name = "{name}"', f'Attribute VB_Base = "0{guid}"',
        "Attribute VB_GlobalNameSpace = False", "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True", "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = True"))


def project_modules(sheets: int, server: bool = False) -> list[Module]:
    """Every module of a workbook with ``sheets`` worksheets (code names Sheet1 … SheetN,
    as xlsxwriter names them)."""
    modules = [Module("ThisWorkbook", "Document", document_source("ThisWorkbook", _WORKBOOK_GUID))]
    modules += [Module(f"Sheet{i}", "Document", document_source(f"Sheet{i}", _SHEET_GUID))
                for i in range(1, sheets + 1)]
    for path in macro_sources(server):
        kind = "Class" if path.suffix == ".cls" else "Module"
        modules.append(Module(path.stem, kind, stored_source(path.read_text(encoding="utf-8"))))
    return modules


def vba_project(modules: list[Module]) -> bytes:
    """The vbaProject.bin holding ``modules``."""
    streams = {
        "PROJECT": _project_stream(modules),
        "PROJECTwm": b"".join(m.name.encode(ENCODING) + b"\x00" + m.name.encode("utf-16-le")
                              + b"\x00\x00" for m in modules) + b"\x00\x00",
        "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM,
        "VBA/dir": ovba.compress(_dir_stream(modules)),
    }
    for m in modules:
        # MODULEOFFSET is 0: no performance cache before the compressed source
        streams[f"VBA/{m.name}"] = ovba.compress(m.source.encode(ENCODING))
    return write_cfb(streams)


def build_vba_project(target: Path, sheets: int, server: bool = False) -> Path:
    target.write_bytes(vba_project(project_modules(sheets, server)))
    return target


# --- the streams ----------------------------------------------------------------------------


def _record(rid: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _text(rid: int, unicode_id: int, text: str) -> bytes:
    """A record with an MBCS string followed by its UTF-16 twin (e.g. PROJECTDOCSTRING)."""
    return _record(rid, text.encode(ENCODING)) + _record(unicode_id, text.encode("utf-16-le"))


def _dir_stream(modules: list[Module]) -> bytes:
    """MS-OVBA 2.3.4.2, uncompressed."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 3))  # PROJECTSYSKIND: 64-bit Windows, as quickstart
    out += _record(0x0002, struct.pack("<I", 0x0409))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", 0x0409))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", CODEPAGE))  # PROJECTCODEPAGE
    out += _record(0x0004, b"VBAProject")  # PROJECTNAME
    out += _text(0x0005, 0x0040, "")  # PROJECTDOCSTRING
    out += _text(0x0006, 0x003D, "")  # PROJECTHELPFILEPATH (twice the same path)
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: Reserved 4, major, minor
    out += _text(0x000C, 0x003C, "")  # PROJECTCONSTANTS
    for name, libid in _REFERENCES:
        out += _text(0x0016, 0x003E, name)  # REFERENCENAME
        lib = libid.encode(ENCODING)
        out += _record(0x000D, struct.pack("<I", len(lib)) + lib + b"\x00" * 6)  # REGISTERED
    out += _record(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for m in modules:
        out += _record(0x0019, m.name.encode(ENCODING))  # MODULENAME
        out += _record(0x0047, m.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _text(0x001A, 0x0032, m.name)  # MODULESTREAMNAME
        out += _text(0x001C, 0x0048, "")  # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: source at byte 0
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += struct.pack("<HI", 0x0021 if m.kind == "Module" else 0x0022, 0)  # MODULETYPE
        out += struct.pack("<HI", 0x002B, 0)  # module terminator
    out += struct.pack("<HI", 0x0010, 0)  # dir terminator
    return bytes(out)


def _project_stream(modules: list[Module]) -> bytes:
    """MS-OVBA 2.3.1: the PROJECT stream's text. CMG, DPB and GC hold, obfuscated (2.4.3),
    'not protected', 'no password' and 'visible'; fixed seeds keep the output reproducible."""
    cmg = ovba.encrypt(bytes(4), PROJECT_ID, 0x11, b"").hex().upper()
    dpb = ovba.encrypt(bytes(1), PROJECT_ID, 0x13, b"x").hex().upper()
    gc = ovba.encrypt(bytes([0xFF]), PROJECT_ID, 0x15, b"yz").hex().upper()
    lines = [f'ID="{PROJECT_ID}"']
    for m in modules:
        lines.append(f"Document={m.name}/&H00000000" if m.kind == "Document"
                     else f"{m.kind}={m.name}")
    lines += ['Name="VBAProject"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
              f'CMG="{cmg}"', f'DPB="{dpb}"', f'GC="{gc}"',
              "", "[Host Extender Info]",
              "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
              "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)
