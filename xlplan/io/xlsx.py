"""Read the tables of an .xlsx/.xlsm file, safely and in one pass per part.

The container is checked first (:mod:`xlplan.io.safety`). The small parts (workbook,
relationships, tables, styles, shared strings) are streamed through defusedxml; the sheets,
the large parts, go through a bare expat parser carrying the same guards
(:func:`guarded_expat`): both refuse DTDs, entity declarations and external entities.
Formulas are never evaluated: each cell keeps its cached value and, where it
has one, its formula text. Only sheets that hold tables are parsed, and only
cells inside tables are kept.
"""

from __future__ import annotations

import posixpath
import pyexpat
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from xlplan.errors import UnreadableWorkbook, UnsafeWorkbook
from xlplan.io.raw import (
    VALUES_ONLY_PROPERTY,
    VALUES_ONLY_VALUE,
    CellKind,
    RawCell,
    RawTable,
    RawWorkbook,
    assemble_table,
    cell_ref,
    col_number,
    number_cell,
    parse_range,
)
from xlplan.io.safety import open_container
from xlplan.limits import DEFAULT_LIMITS, Limits
from xlplan.text import clean

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TABLE_REL = "/table"
STRICT_NS = "{http://purl.oclc.org/ooxml/"  # Strict Open XML: other namespaces throughout

_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Read every Excel table in the workbook at ``path``."""
    name = clean(path.name)
    with open_container(path, limits) as zf:
        try:
            return _Reader(zf, name, limits).read()
        except (DefusedXmlException, UnsafeXml):
            raise UnsafeWorkbook(
                f"Filen {name} innehåller XML-deklarationer (DTD/entiteter) som en "
                "Excel-fil aldrig har. Den läses inte."
            ) from None
        except (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError,
                IndexError, NotImplementedError, RuntimeError, UnicodeError, LookupError):
            # RuntimeError: zipfile on a part that needs a password; NotImplementedError: a
            # compression zipfile cannot unpack (both refused by name earlier, this is the net);
            # LookupError: an XML declaration naming an encoding that does not exist
            raise UnreadableWorkbook(
                f"Filen {name} är skadad och kan inte läsas. Öppna den i Excel och spara om."
            ) from None
        except OSError as exc:
            raise UnreadableWorkbook(
                f"Filen {name} kunde inte läsas ({exc.strerror or exc})."
            ) from None


def _events(fh: IO[bytes]) -> Iterator[tuple[str, Element]]:
    events: Iterator[tuple[str, Element]] = iterparse(
        fh, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    return events


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, name: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.zf = zf
        self.name = name
        self.limits = limits
        self.members = set(zf.namelist())
        self.allocated = 0  # cells of the tables so far, against the limit per workbook

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
            return RawWorkbook(self.name, tables, tuple(s[0] for s in sheets),
                               formulas_known=not self._values_only())
        date_styles = self._date_styles()
        bounds_by_part: dict[str, list[tuple[int, int, int, int]]] = {}
        for _, _, part, tdef in table_defs:
            bounds_by_part.setdefault(part, []).append(tdef["bounds"])
        sheet_data = {
            part: self._sheet_cells(part, bounds, date_styles)
            for part, bounds in bounds_by_part.items()
        }
        for _, _, part, tdef in table_defs:
            self._clamp(tdef, sheet_data[part])
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
        return RawWorkbook(self.name, tables, tuple(s[0] for s in sheets),
                           formulas_known=not self._values_only())

    def _values_only(self) -> bool:
        """Did xlplan's server write this file from an xlwings Book's values (its custom
        document property ``xlplan-formler`` = ``okända``)? Then formulas are unknown."""
        if "docProps/custom.xml" not in self.members:
            return False
        with self._part("docProps/custom.xml") as fh:
            for _, el in _events(fh):
                if el.tag.endswith("}property") and el.get("name") == VALUES_ONLY_PROPERTY:
                    return any((child.text or "") == VALUES_ONLY_VALUE for child in el)
        return False

    def _clamp(self, tdef: dict[str, Any], data: _SheetData) -> None:
        """Cut a table's declared ref to the cells the sheet really has, then check its size
        against the limit, before anything is allocated for it (``A4:XFD1048576`` in a small
        file is the sheet's few real rows)."""
        r1, c1, r2, c2 = tdef["bounds"]
        if r2 > data.max_row:
            r2 = max(r1, data.max_row)
            tdef["totals_rows"] = 0  # the declared totals row lay beyond the last cell
        if c2 > data.max_col:
            c2 = max(c1, data.max_col)
            tdef["columns"] = tdef["columns"][: c2 - c1 + 1]
        tdef["bounds"] = (r1, c1, r2, c2)
        cells = (r2 - r1 + 1) * (c2 - c1 + 1)
        self.allocated += cells
        if cells > self.limits.table_cells or self.allocated > self.limits.book_cells:
            raise UnsafeWorkbook(
                f"Tabellen {clean(tdef['name'])[:40]} i {self.name} omfattar {_n(cells)} celler "
                f"({cell_ref(r1, c1)}:{cell_ref(r2, c2)}); en planbok får ha högst "
                f"{_n(self.limits.table_cells)} per tabell. Filen läses inte.")

    def _sheets(self) -> list[tuple[str, bool, str]]:
        out = []
        with self._part("xl/workbook.xml") as fh:
            for _, el in _events(fh):
                if el.tag.startswith(STRICT_NS):
                    raise UnreadableWorkbook(
                        f"Filen {self.name} är sparad som Strict Open XML, som xlplan inte läser. "
                        "Spara den i Excel som vanlig Excel-arbetsbok (.xlsx) och försök igen.")
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
            "name": clean(attrs.get("displayName") or attrs.get("name", "")),
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
        with self._part(part) as fh:
            return _SheetReader(bounds, date_styles, self.limits, self.name).read(fh)

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
                        out[index] = _checked_text(_rich_text(el), self.limits, self.name)
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
    max_row: int = 0  # the last row and column that hold a cell: the sheet's real dimension
    max_col: int = 0


def _n(count: int) -> str:
    """A count the Swedish way: 100 000 (no-break space)."""
    return f"{count:,}".replace(",", "\u00a0")


def _checked_text(text: str, limits: Limits, name: str) -> str:
    """A cell's text within Excel's own length limit, cleaned (see :func:`clean`)."""
    if len(text) > limits.text_chars:
        raise UnsafeWorkbook(
            f"Filen {name} har en text på {_n(len(text))} tecken; Excel tillåter högst "
            f"{_n(limits.text_chars)} i en cell. Filen läses inte.")
    return clean(text)


def _rich_text(el: Element) -> str:
    """Text of an <si> or <is>: its <t>, or the <t> of every run; phonetic runs left out."""
    t = el.find(NS + "t")
    text = (t.text or "") if t is not None else "".join(
        (r.findtext(NS + "t") or "") for r in el.iterfind(NS + "r"))
    return _unescape(text) if "_x" in text else text


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """OOXML writes characters XML cannot hold (control characters) as ``_xHHHH_``. A lone
    surrogate (``_xD800_``) is no character at all: it becomes U+FFFD."""
    return _ESCAPE.sub(_escaped_char, text)


def _escaped_char(m: re.Match[str]) -> str:
    code = int(m.group(1), 16)
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)


_C, _V, _F, _ROW, _IS, _T, _MERGE = range(7)
# Element names as written: the main namespace is the default one (Excel, xlsxwriter,
# openpyxl) or bound to the prefix "x" (the Open XML SDK). Namespace expansion would cost
# more than the rest of the read.
_TAGS = {name: kind for local, kind in (("c", _C), ("v", _V), ("f", _F), ("row", _ROW),
                                        ("is", _IS), ("t", _T), ("mergeCell", _MERGE))
         for name in (local, "x:" + local)}


class _SheetReader:
    """Sheet XML through expat, with a handler per event and nothing built that is not kept.

    Sheets are the large parts, and building an element tree for every cell dominated the
    read time; expat's callbacks do the same job several times faster. The parser gets the
    guards defusedxml puts on expat: no DTD, no entity declarations, no external entities.
    """

    def __init__(self, bounds: list[tuple[int, int, int, int]], date_styles: frozenset[int],
                 limits: Limits = DEFAULT_LIMITS, name: str = ""):
        self.bounds = bounds
        self.limits = limits
        self.name = name
        self.row_lo = min(b[0] for b in bounds)
        self.row_hi = max(b[2] for b in bounds)
        self.date_styles = date_styles
        self.data = _SheetData()
        self.kept = 0
        self.shared: dict[str, str] = {}
        self.row = 0
        self.col = 0
        self.wanted_cols: tuple[tuple[int, int], ...] = ()  # column spans wanted in this row
        self.in_cell = False
        self.c_row = self.c_col = 0
        self.c_type = "n"
        self.c_style: str | None = None
        self.c_value: str | None = None
        self.c_formula: str | None = None
        self.c_si: str | None = None
        self.c_inline = False
        self.text: list[str] | None = None
        self.field = 0

    def read(self, fh: IO[bytes]) -> _SheetData:
        parser = guarded_expat()
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.chars
        try:
            parser.ParseFile(fh)
        except pyexpat.ExpatError as exc:
            raise ParseError(str(exc)) from None
        return self.data

    def _enter_row(self, row: int) -> None:
        self.row = row
        self.col = 0
        if self.row_lo <= row <= self.row_hi:
            self.wanted_cols = tuple((b[1], b[3]) for b in self.bounds if b[0] <= row <= b[2])
        else:
            self.wanted_cols = ()

    def start(self, name: str, attrs: dict[str, str]) -> None:
        kind = _TAGS.get(name)
        if kind == _C:
            ref = attrs.get("r")
            if ref:
                split = len(ref.rstrip("0123456789"))
                row = int(ref[split:])  # ValueError for a broken reference: a damaged file
                if row != self.row:
                    self._enter_row(row)
                self.col = col_number(ref[:split].upper())
            else:
                self.col += 1
            col = self.col
            if self.row > self.data.max_row:
                self.data.max_row = self.row
            if col > self.data.max_col:
                self.data.max_col = col
            for lo, hi in self.wanted_cols:
                if lo <= col <= hi:
                    self.in_cell = True
                    self.c_row, self.c_col = self.row, col
                    self.c_type = attrs.get("t", "n")
                    self.c_style = attrs.get("s")
                    self.c_value = self.c_formula = self.c_si = None
                    self.c_inline = False
                    break
        elif not self.in_cell:
            if kind == _ROW:
                r = attrs.get("r")
                self._enter_row(int(r) if r else self.row + 1)
                if attrs.get("hidden") in ("1", "true"):
                    self.data.hidden_rows.add(self.row)
                    self._count()
            elif kind == _MERGE:
                ref = attrs.get("ref")
                if ref:
                    self.data.merges.append(parse_range(ref))
                    self._count()
        elif kind in (_V, _T):
            self.text, self.field = [], kind
        elif kind == _F:
            self.text, self.field = [], _F
            self.c_si = attrs.get("si")
            self.c_formula = ""
        elif kind == _IS:
            self.c_inline = True

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        if not self.in_cell:
            return
        kind = _TAGS.get(name)
        if self.text is not None and kind in (_V, _F, _T):
            text = "".join(self.text)
            self.text = None
            if kind == _F:
                si = self.c_si
                if si is not None:
                    if text:
                        self.shared[si] = text
                    else:
                        text = self.shared.get(si, "")
                self.c_formula = text
            elif kind == _V:
                self.c_value = text
            elif self.c_inline:  # <t> inside an inline string (possibly several runs)
                self.c_value = (self.c_value or "") + text
        elif kind == _C:
            self.in_cell = False
            raw = _cell(self.c_row, self.c_col, self.c_type, self.c_style, self.c_value,
                        self.c_formula, self.date_styles)
            if self.c_type == "s" and raw.kind is CellKind.TEXT and raw.value:
                self.data.string_refs[(raw.row, raw.col)] = int(raw.value)
            elif raw.kind is CellKind.TEXT and raw.value:
                raw = raw._replace(value=_checked_text(raw.value, self.limits, self.name))
            self.data.cells[(raw.row, raw.col)] = raw
            self._count()

    def _count(self) -> None:
        """Everything kept from a sheet (cells, hidden rows, merges) within one budget."""
        self.kept += 1
        if self.kept > self.limits.sheet_cells:
            raise UnsafeWorkbook(
                f"Filen {self.name} har fler än {_n(self.limits.sheet_cells)} ifyllda celler (eller "
                "dolda rader och sammanslagningar) på ett blad; det är orimligt för en planbok. "
                "Filen läses inte.")


def _refuse(*_: object) -> NoReturn:
    raise UnsafeXml


class UnsafeXml(Exception):
    """A DTD, an entity declaration or an external entity in a part."""


def guarded_expat() -> pyexpat.XMLParserType:
    """An expat parser with defusedxml's guards: DTDs, entity declarations and external
    entity references are refused, parameter entities never parsed."""
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    return parser


def _cell(row: int, col: int, t: str, style: str | None, v: str | None, formula: str | None,
          date_styles: frozenset[int]) -> RawCell:
    if t == "inlineStr":
        text = v or ""
        return RawCell(row, col, CellKind.TEXT, _unescape(text) if "_x" in text else text, formula)
    if v is None or (v == "" and t != "str"):
        return RawCell(row, col, CellKind.BLANK, None, formula)
    if t == "s":  # an index into sharedStrings, resolved by the caller
        return RawCell(row, col, CellKind.TEXT, v, formula)
    if t == "str":
        return RawCell(row, col, CellKind.TEXT, _unescape(v) if "_x" in v else v, formula)
    if t == "b":
        return RawCell(row, col, CellKind.BOOL, v, formula)
    if t == "e":  # Excel's error values are short (#DIV/0!); anything else is cut
        return RawCell(row, col, CellKind.ERROR, clean(v[:20]), formula)
    if t == "d":
        return RawCell(row, col, CellKind.DATE, v, formula)
    if style is not None and int(style) in date_styles:
        return number_cell(row, col, v, formula, CellKind.DATE)
    return number_cell(row, col, v, formula)


def _is_date_format(code: str) -> bool:
    stripped = _FORMAT_NOISE.sub("", code).lower()
    if stripped == "general":
        return False
    return any(ch in stripped for ch in "dmyhs")
