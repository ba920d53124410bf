"""Read the tables of an .xlsx/.xlsm file, safely.

The container is checked first (:mod:`xlplan.io.safety`). Every XML part then goes whole
through expat with the guards defusedxml installs (:func:`guarded_expat`: DTDs, entity
declarations and external entities refused) and no other handler, at C speed; only a part
that passes is read: the small parts (workbook, relationships, tables, styles, shared
strings) as a tree from Python's C parser, the sheets by :mod:`xlplan.io.sheetscan`. A part
that this fast path cannot read with certainty, or where anything goes wrong, is read again
by the reference readers (defusedxml's iterparse; :class:`~xlplan.io.sheetxml.SheetReader`),
and their result or refusal is the one given. Formulas are never evaluated: each cell keeps
its cached value and, where it has one, its formula text. Only sheets that hold tables are
read, and only cells inside tables are kept.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar
from xml.etree.ElementTree import XML, Element, ParseError

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
    parse_range,
)
from xlplan.io.safety import open_container
from xlplan.io.sheetscan import scan_sheet
from xlplan.io.sheetxml import (
    SheetData,
    SheetReader,
    UnsafeXml,
    checked_text,
    count_text,
    guarded_expat,
    unescape,
)
from xlplan.limits import DEFAULT_LIMITS, Limits
from xlplan.text import clean

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TABLE_REL = "/table"
STRICT_NS = "{http://purl.oclc.org/ooxml/"  # Strict Open XML: other namespaces throughout
SCAN_BYTES = 4 * 1024 * 1024  # a larger part is streamed by the reference readers

T = TypeVar("T")
_new = tuple.__new__  # a RawCell without the Python frame of its generated __new__

_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS, *, scan: bool = True) -> RawWorkbook:
    """Read every Excel table in the workbook at ``path``.

    ``scan=False`` reads every part with the reference readers only (tests compare the two).
    """
    name = clean(path.name)
    with open_container(path, limits) as zf:
        try:
            return _Reader(zf, name, limits, scan=scan).read()
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


def _events(fh: IO[bytes], starts: bool = False) -> Iterator[tuple[str, Element]]:
    """A part's end events (and start events) through defusedxml: the reference."""
    events: Iterator[tuple[str, Element]] = iterparse(
        fh, events=("start", "end") if starts else ("end",), forbid_dtd=True,
        forbid_entities=True, forbid_external=True,
    )
    return events


def _tree(data: bytes) -> Element:
    """A part's tree from the C parser: guarded expat first proves the part well formed and
    free of DTDs and entity declarations, so the C parser, which has no such guard, only ever
    sees a safe part."""
    guarded_expat().Parse(data, True)
    root: Element = XML(data)
    return root


def _tree_events(root: Element, starts: bool = False) -> Iterator[tuple[str, Element]]:
    """The events :func:`_events` gives, from a tree: each element's end after its
    children's (and its start before them)."""
    if starts:
        yield "start", root
    stack = [(root, iter(root))]
    while stack:
        el, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            yield "end", el
        else:
            if starts:
                yield "start", child
            stack.append((child, iter(child)))


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, name: str, limits: Limits = DEFAULT_LIMITS,
                 *, scan: bool = True) -> None:
        self.zf = zf
        self.scan = scan
        self.name = name
        self.limits = limits
        self.members = set(zf.namelist())
        self.allocated = 0  # cells of the tables so far, against the limit per workbook

    # -- parts ---------------------------------------------------------------
    def _part(self, name: str) -> IO[bytes]:
        return self.zf.open(name)

    def _through(self, part: str, use: Callable[[Iterator[tuple[str, Element]]], T],
                 starts: bool = False, tree_use: Callable[[Element], T] | None = None) -> T:
        """``use`` over the part's parse events: from a tree the C parser builds (or
        ``tree_use`` over that tree, which must give what ``use`` gives), and if anything goes
        wrong there (a damaged or unsafe part, a limit), from defusedxml, the reference, which
        then gives the result or the refusal."""
        if self.scan and self.zf.getinfo(part).file_size <= SCAN_BYTES:
            try:
                root = _tree(self.zf.read(part))
                return tree_use(root) if tree_use else use(_tree_events(root, starts))
            except Exception:  # whatever it is, the reference reader decides
                pass
        with self._part(part) as fh:
            return use(_events(fh, starts))

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationships of ``part``: id -> (type, resolved target part)."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if rels_name not in self.members:
            return {}

        def use(events: Iterator[tuple[str, Element]]) -> dict[str, tuple[str, str]]:
            out: dict[str, tuple[str, str]] = {}
            for _, el in events:
                if el.tag == PKG_NS + "Relationship" and el.get("TargetMode") != "External":
                    target = el.get("Target", "")
                    resolved = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target))
                    )
                    out[el.get("Id", "")] = (el.get("Type", ""), resolved)
            return out

        return self._through(rels_name, use)

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
        text_kind = CellKind.TEXT
        for data in sheet_data.values():
            cells = data.cells
            for (r, c), index in data.string_refs.items():
                cells[(r, c)] = _new(RawCell, (r, c, text_kind, strings.get(index, ""), None))
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

        def use(events: Iterator[tuple[str, Element]]) -> bool:
            for _, el in events:
                if el.tag.endswith("}property") and el.get("name") == VALUES_ONLY_PROPERTY:
                    return any((child.text or "") == VALUES_ONLY_VALUE for child in el)
            return False

        return self._through("docProps/custom.xml", use)

    def _clamp(self, tdef: dict[str, Any], data: SheetData) -> None:
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
                f"Tabellen {clean(tdef['name'])[:40]} i {self.name} omfattar {count_text(cells)} celler "
                f"({cell_ref(r1, c1)}:{cell_ref(r2, c2)}); en planbok får ha högst "
                f"{count_text(self.limits.table_cells)} per tabell. Filen läses inte.")

    def _sheets(self) -> list[tuple[str, bool, str]]:
        def use(events: Iterator[tuple[str, Element]]) -> list[tuple[str, bool, str]]:
            out = []
            for _, el in events:
                if el.tag.startswith(STRICT_NS):
                    raise UnreadableWorkbook(
                        f"Filen {self.name} är sparad som Strict Open XML, som xlplan inte läser. "
                        "Spara den i Excel som vanlig Excel-arbetsbok (.xlsx) och försök igen.")
                if el.tag == NS + "sheet":
                    state = el.get("state", "visible")
                    out.append((el.get("name", ""), state != "visible", el.get(R_NS + "id", "")))
            return out

        return self._through("xl/workbook.xml", use)

    def _table(self, part: str) -> dict[str, Any]:
        def use(events: Iterator[tuple[str, Element]]) -> dict[str, Any]:
            columns: list[str] = []
            attrs: dict[str, str] = {}
            for _, el in events:
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

        return self._through(part, use)

    def _date_styles(self) -> frozenset[int]:
        """Indexes of cell styles whose number format shows a date or time."""
        if "xl/styles.xml" not in self.members:
            return frozenset()

        def use(events: Iterator[tuple[str, Element]]) -> frozenset[int]:
            custom: dict[int, str] = {}
            xf_formats: list[int] = []
            in_cell_xfs = False
            for event, el in events:
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

        return self._through("xl/styles.xml", use, starts=True)

    def _sheet_cells(
        self,
        part: str,
        bounds: list[tuple[int, int, int, int]],
        date_styles: frozenset[int],
    ) -> SheetData:
        """One sheet's cells that fall inside ``bounds``: the fast scan
        (:mod:`xlplan.io.sheetscan`) where it reads the part with certainty, else the reference
        reader, which then gives the result or the refusal."""
        if self.scan and self.zf.getinfo(part).file_size <= SCAN_BYTES:
            try:
                data = self.zf.read(part)
                return scan_sheet(data, bounds, date_styles, self.limits, self.name)
            except Exception:  # whatever it is, the reference reader decides
                pass
        with self._part(part) as fh:
            return SheetReader(bounds, date_styles, self.limits, self.name).read(fh)

    def _shared_strings(self, needed: set[int]) -> dict[int, str]:
        """Only the shared strings that table cells use are kept."""
        if not needed or "xl/sharedStrings.xml" not in self.members:
            return {}
        last = max(needed)

        def use(events: Iterator[tuple[str, Element]]) -> dict[int, str]:
            out: dict[int, str] = {}
            index = 0
            for _, el in events:
                if el.tag == NS + "si":
                    if index in needed:
                        out[index] = checked_text(_rich_text(el), self.limits, self.name)
                    index += 1
                    el.clear()
                    if index > last:
                        break
            return out

        def tree_use(root: Element) -> dict[int, str]:
            # the same strings when every <si> is a child of the root (the end events then
            # come in document order); a nested one is left to the events
            items = root.findall(NS + "si")
            if sum(1 for _ in root.iter(NS + "si")) != len(items):
                raise ValueError("nested <si>")
            return {i: checked_text(_rich_text(items[i]), self.limits, self.name)
                    for i in sorted(needed) if i < len(items)}

        return self._through("xl/sharedStrings.xml", use, tree_use=tree_use)


def _rich_text(el: Element) -> str:
    """Text of an <si> or <is>: its <t>, or the <t> of every run; phonetic runs left out."""
    t = el.find(NS + "t")
    text = (t.text or "") if t is not None else "".join(
        (r.findtext(NS + "t") or "") for r in el.iterfind(NS + "r"))
    return unescape(text) if "_x" in text else text


def _is_date_format(code: str) -> bool:
    stripped = _FORMAT_NOISE.sub("", code).lower()
    if stripped == "general":
        return False
    return any(ch in stripped for ch in "dmyhs")
