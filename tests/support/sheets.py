"""A real .xlsx around a sheet written literally in a test: one sheet, one table over it,
optional shared strings and styles. For tests of how a sheet's XML is read, shape by shape
(the shapes Excel, the Open XML SDK and hand-made files write)."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from xlplan.io.raw import RawCell, RawTable, parse_range
from xlplan.io.xlsx import read_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_PART = "xl/worksheets/sheet1.xml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def sheet(body: str, *, root: str = f'<worksheet xmlns="{MAIN}">', end: str = "</worksheet>") -> str:
    """A sheet part: the declaration, the root element and ``body`` (sheetData and after)."""
    return DECLARATION + root + body + end


def sheet_book(path: Path, sheet_xml: str | bytes, *, ref: str = "A1:C3",
               strings: Sequence[str] = (), styles: str | None = None,
               replace: dict[str, str] | None = None) -> Path:
    """Zip ``sheet_xml`` with a workbook, a table ``Tabell1`` over ``ref`` (columns K1, K2, …)
    and, when given, shared strings (plain text, escaped here) and a styles part; ``replace``
    puts other text in a part (by name)."""
    _r1, c1, _r2, c2 = parse_range(ref)
    columns = "".join(f'<tableColumn id="{i}" name="K{i}"/>' for i in range(1, c2 - c1 + 2))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
            f'Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            '<sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
            f'Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/_rels/sheet1.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
            f'Id="rId1" Type="{REL}/table" Target="../tables/table1.xml"/></Relationships>'),
        "xl/tables/table1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><table xmlns="{MAIN}" id="1" name="Tabell1" '
            f'displayName="Tabell1" ref="{ref}"><tableColumns count="{c2 - c1 + 1}">{columns}'
            '</tableColumns></table>'),
        SHEET_PART: sheet_xml,
    }
    if strings:
        items = "".join(f"<si><t>{_escape(s)}</t></si>" for s in strings)
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{items}</sst>')
    if styles is not None:
        parts["xl/styles.xml"] = styles
    parts.update(replace or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def only_table(path: Path) -> RawTable:
    """The table both readers read from ``path`` (they must agree)."""
    fast, reference = read_workbook(path), read_workbook(path, scan=False)
    assert fast == reference
    return fast.tables["Tabell1"]


def filled(table: RawTable) -> dict[str, tuple[str, str | None, str | None]]:
    """Every cell of the table that holds something: A1 -> (kind, value, formula)."""
    rows: list[tuple[RawCell, ...]] = [table.headers, *table.body]
    if table.totals is not None:
        rows.append(table.totals)
    return {c.ref: (c.kind.value, c.value, c.formula) for row in rows for c in row
            if c.value is not None or c.formula is not None}


def sheet_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(SHEET_PART)
