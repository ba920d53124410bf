"""The fast read of a sheet part: expat checks it at C speed, one regular expression reads it.

:class:`~xlplan.io.sheetxml.SheetReader` calls Python for every start tag, end tag and run
of text of a sheet, and that was most of the time a planbok took to read. Here expat parses
the part with no content handler at all (only the guards that refuse a DTD or an entity
declaration), which proves it well formed and safe at C speed; then one compiled pattern
walks it, matching a whole cell (its ``<f>``, ``<v>`` and ``<is>``) at a time, and Python
only turns each match into a cell.

The scan reproduces :class:`SheetReader` exactly, element names as written included (the
main namespace is the default one or bound to ``x``; no namespace processing), and it only
takes the shapes it knows with certainty: a sheet with anything else (a comment, CDATA, a
processing instruction, an encoding other than UTF-8, a cell with children in another
order or other content, a named element it would have to read elsewhere) raises
:class:`NotCanonical`, and so does anything that would make the reference reader refuse the
part (a limit, a broken reference). The caller then reads that part with
:class:`SheetReader`, which stays the reference: the result, or the refusal, is its own.
"""

from __future__ import annotations

import re

from xlplan.io.raw import CellKind, RawCell, col_number, parse_range
from xlplan.io.sheetxml import SheetData, checked_text, guarded_expat, make_cell
from xlplan.limits import DEFAULT_LIMITS, Limits

__all__ = ["NotCanonical", "decode_part", "scan_sheet"]


class NotCanonical(Exception):
    """The part has something the scan does not read with certainty: use the reference."""


_W = "[ \t\n\r]"  # XML's white space (Python's \s would take more)
# Attributes as written: a well-formed tag's attributes are exactly this (a value may hold
# '>' but never '<' or its own quote)
_ATTRS = rf"""(?:{_W}+[^ \t\n\r=/>]+{_W}*={_W}*(?:"[^"]*"|'[^']*'))*{_W}*"""
_RELEVANT = "(?:c|v|f|is|t)"  # the names SheetReader reads inside a cell (with row, mergeCell)

# An inline string's content: anything but a tag of a name SheetReader reads other than <t>
# (so the match cannot run past the cell's end, nor hide a cell SheetReader would read) and
# but a comment, CDATA or instruction
_INLINE_BODY = r"(?:[^<]|<(?![!?]|/?(?:x:)?(?:c|v|f|is|row|mergeCell)[ \t\n\r/>]))*"

_TOKEN = re.compile(
    # 1-5: a cell's start tag: r, s, t in Excel's order (fast), or any attributes (5)
    rf"""<(?:x:)?c(?:{_W}+r="([A-Z]{{1,3}})([0-9]{{1,7}})"(?:{_W}+s="([0-9]{{1,9}})")?"""
    rf"""(?:{_W}+t="([a-zA-Z]{{1,12}})")?{_W}*(?=/?>)|({_ATTRS}))"""
    # 6: self-closing; else its children: f (7 attributes, 8 text), v (9, 10), is (11, 12)
    rf"""(?:(/)>|>{_W}*"""
    rf"""(?:<(?:x:)?f({_ATTRS})(?:/>|>([^<]*)</(?:x:)?f{_W}*>){_W}*)?"""
    rf"""(?:<(?:x:)?v({_ATTRS})(?:/>|>([^<]*)</(?:x:)?v{_W}*>){_W}*)?"""
    rf"""(?:<(?:x:)?is({_ATTRS})(?:/>|>({_INLINE_BODY})</(?:x:)?is{_W}*>){_W}*)?"""
    rf"""</(?:x:)?c{_W}*>)"""
    # 13: a row's start tag; 14: a merged range
    rf"""|<(?:x:)?row({_ATTRS})/?>"""
    rf"""|<(?:x:)?mergeCell({_ATTRS})/?>"""
    # 15: any other tag of a name SheetReader reads: a shape the scan does not know; or a
    # comment, CDATA section or processing instruction, inside which a tag would be none
    rf"""|(</?(?:x:)?{_RELEVANT}(?=[ \t\n\r/>])|<[!?])"""
)

# The text of an inline string (<is>): its <t> elements (a run's or a phonetic one's, as the
# reference reader takes every <t>), other elements, and white space between them
_INLINE = re.compile(
    rf"""<(?:x:)?t{_ATTRS}(?:/>|>([^<]*)</(?:x:)?t{_W}*>)"""
    rf"""|</?((?:[A-Za-z_][^ \t\n\r/>:]*:)?[A-Za-z_][^ \t\n\r/>:]*){_ATTRS}/?>"""
    rf"""|({_W}+)"""
)
_INLINE_OTHER = frozenset(["c", "v", "f", "is", "t", "row", "mergeCell"])

_ATTR = re.compile(rf"""{_W}+([^ \t\n\r=/>]+){_W}*={_W}*(?:"([^"]*)"|'([^']*)')""")
_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z]+));")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ATTR_SPACE = str.maketrans("\t\n", "  ")  # attribute-value normalization (after line ends)
_DECLARATION = re.compile(rb"<\?xml[ \t\n\r][^>]*\?>")
_ENCODING = re.compile(rb"""encoding[ \t\n\r]*=[ \t\n\r]*["']([^"']*)["']""")


def _entity(m: re.Match[str]) -> str:
    hex_code, dec_code, name = m.groups()
    if name is not None:
        return _PREDEFINED[name]  # KeyError is impossible after expat: no DTD, no other names
    return chr(int(hex_code, 16) if hex_code is not None else int(dec_code))


def _text(raw: str) -> str:
    """Character data as expat reports it (entities and character references replaced)."""
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


def _attrs(raw: str) -> dict[str, str]:
    """Attributes as expat reports them (white space normalized, then references replaced)."""
    out: dict[str, str] = {}
    for name, double, single in _ATTR.findall(raw):
        value = double or single
        if "\t" in value or "\n" in value:
            value = value.translate(_ATTR_SPACE)
        out[name] = _text(value)
    return out


def decode_part(data: bytes) -> str:
    """A part's text after its XML declaration, as expat reads it, if it is UTF-8 (the only
    encoding Excel writes); :class:`NotCanonical` for any other encoding (declared, or told
    by a byte-order mark or a zero byte)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith(b"<") or data[1:2] in (b"", b"\x00"):
        raise NotCanonical("no UTF-8 XML")
    body_start = 0
    if data.startswith(b"<?xml"):
        decl = _DECLARATION.match(data)
        if decl is None:
            raise NotCanonical("XML declaration")
        encoding = _ENCODING.search(decl.group())
        if encoding is not None and encoding.group(1).lower() != b"utf-8":
            raise NotCanonical("encoding")
        body_start = decl.end()
    text = data[body_start:].decode("utf-8")
    if "\r" in text:  # XML's end-of-line handling, before anything else
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def check_well_formed(data: bytes) -> None:
    """Expat over the whole part with no content handler: raises on malformed XML, a DTD or
    an entity declaration (as :class:`SheetReader` would, but at C speed)."""
    guarded_expat().Parse(data, True)


def scan_sheet(
    data: bytes,
    bounds: list[tuple[int, int, int, int]],
    date_styles: frozenset[int],
    limits: Limits = DEFAULT_LIMITS,
    name: str = "",
) -> SheetData:
    """The cells, hidden rows and merged ranges of one sheet part that
    :class:`~xlplan.io.sheetxml.SheetReader` would read: the same :class:`SheetData`, but
    that a shared-string cell may be in ``string_refs`` only (the caller makes it from there,
    over the reference's placeholder).

    Raises :class:`NotCanonical`, or any other exception, when the reference reader must
    read the part instead (malformed or unsafe XML among them)."""
    check_well_formed(data)
    text = decode_part(data)
    try:
        scan = _Scan(bounds, date_styles, limits, name)
        scan.fast(text)
    except _OtherShape:  # read again, every token with _TOKEN
        scan = _Scan(bounds, date_styles, limits, name)
        for m in _TOKEN.finditer(text):
            scan.token(m)
    if scan.kept > limits.sheet_cells:
        raise NotCanonical("over the limit: the reference reader refuses the sheet")
    return scan.out


# The shapes Excel, xlsxwriter and openpyxl write, matched with the fewest steps: a cell with
# r, s, t in that order, an optional <f>, <v> and one-text <is>; a row; a merged range. Any
# other shape of a name SheetReader reads (group 13) sends the whole part to _TOKEN, which
# takes every form. Group 6 is a number number_cell() keeps exactly as written: finite, below
# 10^15, at most 29 decimals (never below the 10^-30 that becomes 0), no exponent, no padding.
_FAST = re.compile(
    r"<(?:"
    # 1-4: the cell's column letters, row number, style, type
    r'c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]{1,9})")?(?: t="([a-zA-Z]{1,12})")?(?:/>|>'
    # 5: its <f> element; 6: a value that is a plain number, or 7: its <v> element; 8: an
    # inline string of one text (what xlsxwriter's constant-memory mode writes)
    r"""(<f(?: [a-zA-Z]+="[^"<&\t\n]*")*(?:/>|>[^<]*</f>))?"""
    r"(?:<v>(-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,29})?)</v>|(<v>[^<]*</v>|<v/>))?"
    r"""(<is><t(?: xml:space="preserve")?>[^<]*</t></is>)?</c>)"""
    # 9: a row; 10: its number, 11: its other attributes
    r"""|(row)(?: r="([0-9]{1,7})")?((?: [a-zA-Z0-9:]+="[^"<&\t\n]*")*)/?>"""
    # 12: a merged range
    r'|mergeCell ref="([A-Z0-9:$]{1,40})"/>'
    # 13: any other shape of a name SheetReader reads; a comment, CDATA, an instruction
    r"|((?:x:)?(?:c|v|f|is|t|row|mergeCell)[ \t\n\r/>]|/(?:x:)?(?:c|v|f|is|t)[ \t\n\r>]|[!?])"
    r")"
)
_FORMULA = re.compile(r"""<f((?: [a-zA-Z]+="[^"<&\t\n]*")*)(?:/>|>([^<]*)</f>)""")
_NO_COLUMNS = range(0)
_COLUMNS: dict[str, int] = {}  # column letters -> number (at most 18 278 entries)


def _column(letters: str) -> int:
    number = _COLUMNS[letters] = col_number(letters)
    return number


_new = tuple.__new__  # a RawCell without the Python frame of its generated __new__


class _OtherShape(Exception):
    """A token _FAST does not take: the part is read with _TOKEN instead."""


class _Scan:
    """One sheet's scan, with the state SheetReader keeps."""

    def __init__(self, bounds: list[tuple[int, int, int, int]], date_styles: frozenset[int],
                 limits: Limits, name: str) -> None:
        self.bounds = bounds
        self.row_lo = min(b[0] for b in bounds)
        self.row_hi = max(b[2] for b in bounds)
        self.date_styles = date_styles
        self.limits = limits
        self.name = name
        self.out = SheetData()
        self.shared: dict[str, str] = {}  # shared formulas by si (of kept cells, as the reference)
        self.numeric_styles: set[str] = set()
        self.row = self.col = self.kept = 0
        self.wanted: tuple[tuple[int, int], ...] = ()
        # one table on the sheet (the usual case): its columns, the same for every row
        self.single = range(bounds[0][1], bounds[0][3] + 1) if len(bounds) == 1 else None

    def spans(self, r: int) -> tuple[tuple[int, int], ...]:
        """The column spans of the tables that row ``r`` crosses."""
        if self.row_lo <= r <= self.row_hi:
            return tuple((b[1], b[3]) for b in self.bounds if b[0] <= r <= b[2])
        return ()

    def columns(self, r: int) -> range | frozenset[int]:
        """The columns kept in row ``r``, for a membership test."""
        if self.single is not None:
            return self.single if self.row_lo <= r <= self.row_hi else _NO_COLUMNS
        spans = self.spans(r)
        if len(spans) == 1:
            return range(spans[0][0], spans[0][1] + 1)
        return frozenset(c for lo, hi in spans for c in range(lo, hi + 1))

    def numeric(self, style: str) -> bool:
        """Does cell style ``style`` show a number rather than a date? (Remembered when so.)"""
        if int(style) in self.date_styles:
            return False
        self.numeric_styles.add(style)
        return True

    def fast(self, text: str) -> None:
        """The part in _FAST's shapes only (else :class:`_OtherShape`), with SheetReader's
        rules inlined for the common cells."""
        cells = self.out.cells
        string_refs = self.out.string_refs
        shared = self.shared
        columns = self.columns
        numeric = self.numeric_styles
        limit = self.limits.sheet_cells
        number, blank = CellKind.NUMBER, CellKind.BLANK
        row = col = max_row = max_col = kept = 0
        wanted: range | frozenset[int] = range(0)
        row_digits = ""  # the row number as the last cell wrote it ("" after a <row>)
        for (letters, digits, style, kind, f_element, plain, v_element, inline, row_tag, row_r,
             row_attrs, merge_ref, other) in _FAST.findall(text):
            if letters:
                if digits != row_digits:
                    row_digits = digits
                    r = int(digits)
                    if r != row:
                        row, wanted = r, columns(r)
                    if row > max_row:
                        max_row = row
                col = _COLUMNS.get(letters) or _column(letters)
                if col > max_col:
                    max_col = col
                if col not in wanted:
                    continue
                kept += 1
                if kept > limit:  # the reference refuses the sheet here: no more cells made
                    raise NotCanonical("over the limit")
                formula: str | None = None
                if f_element:
                    f_attrs, f_text = _FORMULA.fullmatch(f_element).groups()  # type: ignore[union-attr]
                    formula = _text(f_text) if f_text else ""
                    si = _attrs(f_attrs).get("si") if f_attrs else None
                    if si is not None:
                        if formula:
                            shared[si] = formula
                        else:
                            formula = shared.get(si, "")
                value: str | None
                if plain:
                    value = plain
                    if inline:
                        pass  # a number and a text: SheetReader joins them (below)
                    elif not kind or kind == "n":
                        if not style or style in numeric or self.numeric(style):
                            cells[(row, col)] = _new(RawCell, (row, col, number, plain, formula))
                            continue
                    elif kind == "s":  # the caller makes the cell, from the shared string
                        string_refs[(row, col)] = int(plain)
                        continue
                elif v_element:
                    value = _text(v_element[3:-4]) if v_element != "<v/>" else ""
                else:
                    value = None
                if inline:  # its one <t>, after what a <v> gave (SheetReader appends)
                    text_start = inline.index(">", 5) + 1
                    value = (value or "") + _text(inline[text_start:-9])
                if not value and (not kind or kind == "n" or kind == "s"):
                    cells[(row, col)] = _new(RawCell, (row, col, blank, None, formula))
                    continue
                self.store(row, col, kind or "n", style or None, value, formula)
            elif row_tag:
                hidden = False
                if not row_r or "hidden=" in row_attrs:
                    attrs = _attrs(row_attrs)
                    row_r = row_r or attrs.get("r", "")
                    hidden = attrs.get("hidden") in ("1", "true")
                row = int(row_r) if row_r else row + 1
                col = 0
                wanted = columns(row)
                row_digits = ""
                if hidden:
                    self.out.hidden_rows.add(row)
                    kept += 1
            elif merge_ref:
                self.out.merges.append(parse_range(merge_ref))
                kept += 1
            else:
                raise _OtherShape(other)
        self.kept = kept
        self.out.max_row, self.out.max_col = max_row, max_col

    def store(self, row: int, col: int, kind: str, style: str | None, value: str | None,
              formula: str | None) -> None:
        """A kept cell, by SheetReader's rules (a shared-string cell as its placeholder)."""
        raw = make_cell(row, col, kind, style, value, formula, self.date_styles)
        if kind == "s" and raw.kind is CellKind.TEXT and raw.value:
            self.out.string_refs[(row, col)] = int(raw.value)
        elif raw.kind is CellKind.TEXT and raw.value:
            raw = raw._replace(value=checked_text(raw.value, self.limits, self.name))
        self.out.cells[(row, col)] = raw

    def token(self, m: re.Match[str]) -> None:
        """One token of any form SheetReader reads (a _TOKEN match), as it reads it."""
        (letters, digits, style, kind, any_attrs, _closed, f_attrs, f_text, v_attrs, v_text,
         is_attrs, is_body, row_attrs, merge_attrs, odd) = m.groups()
        if row_attrs is not None:
            attrs = _attrs(row_attrs)
            r_attr = attrs.get("r")
            self.row = int(r_attr) if r_attr else self.row + 1
            self.col = 0
            self.wanted = self.spans(self.row)
            if attrs.get("hidden") in ("1", "true"):
                self.out.hidden_rows.add(self.row)
                self.kept += 1
            return
        if merge_attrs is not None:
            ref = _attrs(merge_attrs).get("ref")
            if ref:
                self.out.merges.append(parse_range(ref))
                self.kept += 1
            return
        if odd is not None:
            raise NotCanonical(f"{odd} at {m.start()}")
        if letters is not None:
            ref = letters + digits
        else:
            attrs = _attrs(any_attrs)
            ref = attrs.get("r") or ""
            style, kind = attrs.get("s"), attrs.get("t")
        if ref:
            split = len(ref.rstrip("0123456789"))
            r = int(ref[split:])
            if r != self.row:
                self.row, self.wanted = r, self.spans(r)
            self.col = col_number(ref[:split].upper())
        else:
            self.col += 1
        row, col = self.row, self.col
        self.out.max_row = max(self.out.max_row, row)
        self.out.max_col = max(self.out.max_col, col)
        if not any(lo <= col <= hi for lo, hi in self.wanted):
            return
        self.kept += 1
        if self.kept > self.limits.sheet_cells:
            raise NotCanonical("over the limit")
        formula: str | None = None
        if f_attrs is not None:
            formula = _text(f_text) if f_text else ""
            si = _attrs(f_attrs).get("si")
            if si is not None:
                if formula:
                    self.shared[si] = formula
                else:
                    formula = self.shared.get(si, "")
        value: str | None = None
        if v_attrs is not None:
            value = _text(v_text) if v_text else ""
        if is_attrs is not None and is_body:
            value = _inline(is_body, value)
        self.store(row, col, "n" if kind is None else kind, style, value, formula)


def _inline(body: str, value: str | None) -> str | None:
    """An inline string's value: every <t> inside <is> appended to what <v> gave, as
    :class:`SheetReader` does; any other element it reads makes the cell unknown."""
    pos, end = 0, len(body)
    while pos < end:
        m = _INLINE.match(body, pos)
        if m is None:
            raise NotCanonical("inline string")
        t_text, other_name, space = m.groups()
        if other_name is not None:
            if other_name.removeprefix("x:") in _INLINE_OTHER:
                raise NotCanonical("inline string")
        elif space is None:  # a <t>
            value = (value or "") + (_text(t_text) if t_text else "")
        pos = m.end()
    return value
