"""One sheet part: the reference reader (expat with a callback per event) and the rules that
turn a cell's XML into a :class:`RawCell`, shared with the fast scan (:mod:`xlplan.io.sheetscan`).

The parser gets the guards defusedxml puts on expat (:func:`guarded_expat`): no DTD, no entity
declarations, no external entities.
"""

from __future__ import annotations

import pyexpat
import re
from dataclasses import dataclass, field
from typing import IO, NoReturn
from xml.etree.ElementTree import ParseError

from xlplan.errors import UnsafeWorkbook
from xlplan.io.raw import CellKind, RawCell, col_number, number_cell, parse_range
from xlplan.limits import DEFAULT_LIMITS, Limits
from xlplan.text import clean


@dataclass(slots=True)
class SheetData:
    cells: dict[tuple[int, int], RawCell] = field(default_factory=dict)
    string_refs: dict[tuple[int, int], int] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    max_row: int = 0  # the last row and column that hold a cell: the sheet's real dimension
    max_col: int = 0


def count_text(count: int) -> str:
    """A count the Swedish way: 100 000 (no-break space)."""
    return f"{count:,}".replace(",", "\u00a0")


def checked_text(text: str, limits: Limits, name: str) -> str:
    """A cell's text within Excel's own length limit, cleaned (see :func:`clean`)."""
    if len(text) > limits.text_chars:
        raise UnsafeWorkbook(
            f"Filen {name} har en text på {count_text(len(text))} tecken; Excel tillåter högst "
            f"{count_text(limits.text_chars)} i en cell. Filen läses inte.")
    return clean(text)


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
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


class SheetReader:
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
        self.data = SheetData()
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

    def read(self, fh: IO[bytes]) -> SheetData:
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
            raw = make_cell(self.c_row, self.c_col, self.c_type, self.c_style, self.c_value,
                        self.c_formula, self.date_styles)
            if self.c_type == "s" and raw.kind is CellKind.TEXT and raw.value:
                self.data.string_refs[(raw.row, raw.col)] = int(raw.value)
            elif raw.kind is CellKind.TEXT and raw.value:
                raw = raw._replace(value=checked_text(raw.value, self.limits, self.name))
            self.data.cells[(raw.row, raw.col)] = raw
            self._count()

    def _count(self) -> None:
        """Everything kept from a sheet (cells, hidden rows, merges) within one budget."""
        self.kept += 1
        if self.kept > self.limits.sheet_cells:
            raise UnsafeWorkbook(
                f"Filen {self.name} har fler än {count_text(self.limits.sheet_cells)} ifyllda celler (eller "
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


def make_cell(row: int, col: int, t: str, style: str | None, v: str | None, formula: str | None,
          date_styles: frozenset[int]) -> RawCell:
    if t == "inlineStr":
        text = v or ""
        return RawCell(row, col, CellKind.TEXT, unescape(text) if "_x" in text else text, formula)
    if v is None or (v == "" and t != "str"):
        return RawCell(row, col, CellKind.BLANK, None, formula)
    if t == "s":  # an index into sharedStrings, resolved by the caller
        return RawCell(row, col, CellKind.TEXT, v, formula)
    if t == "str":
        return RawCell(row, col, CellKind.TEXT, unescape(v) if "_x" in v else v, formula)
    if t == "b":
        return RawCell(row, col, CellKind.BOOL, v, formula)
    if t == "e":  # Excel's error values are short (#DIV/0!); anything else is cut
        return RawCell(row, col, CellKind.ERROR, clean(v[:20]), formula)
    if t == "d":
        return RawCell(row, col, CellKind.DATE, v, formula)
    if style is not None and int(style) in date_styles:
        return number_cell(row, col, v, formula, CellKind.DATE)
    return number_cell(row, col, v, formula)
