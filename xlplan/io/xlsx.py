"""Read the tables of an .xlsx/.xlsm file, safely and in one pass per part.

The container is checked first (:mod:`xlplan.io.safety`); every XML part is
then streamed through defusedxml, which refuses DTDs and entity declarations.
Formulas are never evaluated: each cell keeps its cached value and, where it
has one, its formula text. Only sheets that hold tables are parsed, and only
cells inside tables are kept.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from xlplan.errors import UnreadableWorkbook, UnsafeWorkbook
from xlplan.io.raw import (
    CellKind,
    RawCell,
    RawTable,
    RawWorkbook,
    assemble_table,
    col_number,
    parse_range,
)
from xlplan.io.safety import DEFAULT_LIMITS, Limits, open_container

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TABLE_REL = "/table"

_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Read every Excel table in the workbook at ``path``."""
    with open_container(path, limits) as zf:
        try:
            return _Reader(zf, path.name).read()
        except DefusedXmlException:
            raise UnsafeWorkbook(
                f"Filen {path.name} innehåller XML-deklarationer (DTD/entiteter) som en "
                "Excel-fil aldrig har. Den läses inte."
            ) from None
        except (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError):
            raise UnreadableWorkbook(
                f"Filen {path.name} är skadad och kan inte läsas. Öppna den i Excel och spara om."
            ) from None
        except OSError as exc:
            raise UnreadableWorkbook(
                f"Filen {path.name} kunde inte läsas ({exc.strerror or exc})."
            ) from None


def _events(fh: IO[bytes]) -> Iterator[tuple[str, Element]]:
    events: Iterator[tuple[str, Element]] = iterparse(
        fh, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    return events


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        self.zf = zf
        self.name = name
        self.members = set(zf.namelist())

    # -- parts ---------------------------------------------------------------
    def _part(self, name: str) -> IO[bytes]:
        return self.zf.open(name)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationships of ``part``: id -> (type, resolved target part)."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if rels_name not in self.members:
            return {}
        out: dict[str, tuple[str, str]] = {}
        with self._part(rels_name) as fh:
            for _, el in _events(fh):
                if el.tag == PKG_NS + "Relationship" and el.get("TargetMode") != "External":
                    target = el.get("Target", "")
                    resolved = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target))
                    )
                    out[el.get("Id", "")] = (el.get("Type", ""), resolved)
        return out

    def read(self) -> RawWorkbook:
        sheets = self._sheets()
        wb_rels = self._rels("xl/workbook.xml")
        table_defs: list[tuple[str, bool, str, dict[str, Any]]] = []
        for sheet_name, hidden, rid in sheets:
            rel = wb_rels.get(rid)
            if rel is None or rel[1] not in self.members:
                continue
            sheet_part = rel[1]
            for rel_type, target in self._rels(sheet_part).values():
                if rel_type.endswith(TABLE_REL) and target in self.members:
                    table_defs.append((sheet_name, hidden, sheet_part, self._table(target)))
        tables: dict[str, RawTable] = {}
        if not table_defs:
            return RawWorkbook(self.name, tables, tuple(s[0] for s in sheets))
        date_styles = self._date_styles()
        bounds_by_part: dict[str, list[tuple[int, int, int, int]]] = {}
        for _, _, part, tdef in table_defs:
            bounds_by_part.setdefault(part, []).append(tdef["bounds"])
        sheet_data = {
            part: self._sheet_cells(part, bounds, date_styles)
            for part, bounds in bounds_by_part.items()
        }
        needed = {i for data in sheet_data.values() for i in data.string_refs.values()}
        strings = self._shared_strings(needed)
        for data in sheet_data.values():
            for (r, c), index in data.string_refs.items():
                data.cells[(r, c)] = RawCell(r, c, CellKind.TEXT, strings.get(index, ""))
        for sheet_name, hidden, part, tdef in table_defs:
            data = sheet_data[part]
            table = assemble_table(
                name=tdef["name"],
                sheet=sheet_name,
                sheet_hidden=hidden,
                bounds=tdef["bounds"],
                header_rows=tdef["header_rows"],
                totals_rows=tdef["totals_rows"],
                column_names=tdef["columns"],
                cells=data.cells,
                hidden_rows=data.hidden_rows,
                merges=data.merges,
            )
            tables[table.name] = table
        return RawWorkbook(self.name, tables, tuple(s[0] for s in sheets))

    def _sheets(self) -> list[tuple[str, bool, str]]:
        out = []
        with self._part("xl/workbook.xml") as fh:
            for _, el in _events(fh):
                if el.tag == NS + "sheet":
                    state = el.get("state", "visible")
                    out.append((el.get("name", ""), state != "visible", el.get(R_NS + "id", "")))
        return out

    def _table(self, part: str) -> dict[str, Any]:
        columns: list[str] = []
        attrs: dict[str, str] = {}
        with self._part(part) as fh:
            for _, el in _events(fh):
                if el.tag == NS + "tableColumn":
                    columns.append(el.get("name", ""))
                elif el.tag == NS + "table":
                    attrs = dict(el.attrib)
        return {
            "name": attrs.get("displayName") or attrs.get("name", ""),
            "bounds": parse_range(attrs["ref"]),
            "header_rows": int(attrs.get("headerRowCount", "1")),
            "totals_rows": int(attrs.get("totalsRowCount", "0")),
            "columns": tuple(columns),
        }

    def _date_styles(self) -> frozenset[int]:
        """Indexes of cell styles whose number format shows a date or time."""
        if "xl/styles.xml" not in self.members:
            return frozenset()
        custom: dict[int, str] = {}
        xf_formats: list[int] = []
        in_cell_xfs = False
        with self._part("xl/styles.xml") as fh:
            for event, el in iterparse(
                fh, events=("start", "end"), forbid_dtd=True, forbid_entities=True,
                forbid_external=True,
            ):
                if el.tag == NS + "cellXfs":
                    in_cell_xfs = event == "start"
                elif event == "end" and el.tag == NS + "numFmt":
                    custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
                elif event == "end" and el.tag == NS + "xf" and in_cell_xfs:
                    xf_formats.append(int(el.get("numFmtId", "0")))
        return frozenset(
            i for i, fmt in enumerate(xf_formats)
            if (fmt in custom and _is_date_format(custom[fmt]))
            or (fmt not in custom and fmt in _BUILTIN_DATE_FORMATS)
        )

    def _sheet_cells(
        self,
        part: str,
        bounds: list[tuple[int, int, int, int]],
        date_styles: frozenset[int],
    ) -> _SheetData:
        """Stream one sheet, keeping the cells that fall inside ``bounds``."""
        row_lo = min(b[0] for b in bounds)
        row_hi = max(b[2] for b in bounds)

        def wanted(r: int, c: int) -> bool:
            return any(b[0] <= r <= b[2] and b[1] <= c <= b[3] for b in bounds)

        data = _SheetData()
        shared: dict[str, str] = {}
        row_no = 0
        col_no = 0
        with self._part(part) as fh:
            for _, el in _events(fh):
                tag = el.tag
                if tag == NS + "c":
                    ref = el.get("r")
                    if ref:
                        m = _CELL_REF.match(ref)
                        if m is None:
                            raise ValueError(ref)
                        col_no, row_no = col_number(m.group(1)), int(m.group(2))
                    else:
                        col_no += 1
                    if row_lo <= row_no <= row_hi and wanted(row_no, col_no):
                        cell = _cell(el, row_no, col_no, date_styles, shared)
                        if el.get("t") == "s" and cell.kind is CellKind.TEXT and cell.value:
                            data.string_refs[(row_no, col_no)] = int(cell.value)
                        data.cells[(row_no, col_no)] = cell
                    el.clear()
                elif tag == NS + "row":
                    r = el.get("r")
                    row_no = int(r) if r else row_no + 1
                    if el.get("hidden") in ("1", "true"):
                        data.hidden_rows.add(row_no)
                    el.clear()
                    col_no = 0
                elif tag == NS + "mergeCell":
                    ref = el.get("ref")
                    if ref:
                        data.merges.append(parse_range(ref))
        return data

    def _shared_strings(self, needed: set[int]) -> dict[int, str]:
        """Only the shared strings that table cells use are kept."""
        out: dict[int, str] = {}
        if not needed or "xl/sharedStrings.xml" not in self.members:
            return out
        index = 0
        last = max(needed)
        with self._part("xl/sharedStrings.xml") as fh:
            for _, el in _events(fh):
                if el.tag == NS + "si":
                    if index in needed:
                        out[index] = _rich_text(el)
                    index += 1
                    el.clear()
                    if index > last:
                        break
        return out


@dataclass(slots=True)
class _SheetData:
    cells: dict[tuple[int, int], RawCell] = field(default_factory=dict)
    string_refs: dict[tuple[int, int], int] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


def _rich_text(el: Element) -> str:
    """Text of an <si> or <is>: its <t>, or the <t> of every run; phonetic runs left out."""
    t = el.find(NS + "t")
    text = (t.text or "") if t is not None else "".join(
        (r.findtext(NS + "t") or "") for r in el.iterfind(NS + "r"))
    return _unescape(text) if "_x" in text else text


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """OOXML writes characters XML cannot hold (control characters) as ``_xHHHH_``."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _cell(
    el: Element, row: int, col: int, date_styles: frozenset[int], shared: dict[str, str]
) -> RawCell:
    t = el.get("t", "n")
    f = el.find(NS + "f")
    formula: str | None = None
    if f is not None:
        formula = f.text or ""
        si = f.get("si")
        if si is not None:
            if formula:
                shared[si] = formula
            else:
                formula = shared.get(si, "")
    v = el.findtext(NS + "v")
    if t == "inlineStr":
        is_el = el.find(NS + "is")
        text = _rich_text(is_el) if is_el is not None else ""
        return RawCell(row, col, CellKind.TEXT, text, formula)
    if v is None or (v == "" and t != "str"):
        return RawCell(row, col, CellKind.BLANK, None, formula)
    if t == "s":  # an index into sharedStrings, resolved by the caller
        return RawCell(row, col, CellKind.TEXT, v, formula)
    if t == "str":
        return RawCell(row, col, CellKind.TEXT, _unescape(v) if "_x" in v else v, formula)
    if t == "b":
        return RawCell(row, col, CellKind.BOOL, v, formula)
    if t == "e":
        return RawCell(row, col, CellKind.ERROR, v, formula)
    if t == "d":
        return RawCell(row, col, CellKind.DATE, v, formula)
    style = el.get("s")
    if style is not None and int(style) in date_styles:
        return RawCell(row, col, CellKind.DATE, v, formula)
    return RawCell(row, col, CellKind.NUMBER, v, formula)


def _is_date_format(code: str) -> bool:
    stripped = _FORMAT_NOISE.sub("", code).lower()
    if stripped == "general":
        return False
    return any(ch in stripped for ch in "dmyhs")
