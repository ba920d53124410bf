"""Detail rows straight into xlsxwriter's constant-memory stream, one write per row or per
block of rows.

Writing the region workbook's detail sheets cell by cell through xlsxwriter (~15 µs a cell,
some 3 000 cells a planbok) was the largest serial cost of a consolidation. In
constant-memory mode xlsxwriter renders each finished row as XML into the sheet's temporary
file; :class:`RowXml` renders the same XML for a whole row at once, with xlsxwriter's own
escaping and style indexes, and :class:`FastRows` writes it and keeps xlsxwriter's
bookkeeping (the previous row, the sheet's dimension) as its own writes would. The bytes are
the same as xlsxwriter's (a test compares the parts), and any row it does not know how to
render exactly (a rich-string look-alike, an over-long text, a row or column format) goes
through xlsxwriter as before.

:class:`RowXml` needs no worksheet, so the workers that read the planböcker render each
file's rows (:mod:`xlplan.io.region_rows`) with the row number left open
(:data:`ROW_NUMBER`); the parent only puts the numbers in (:meth:`FastRows.block`).

It relies on xlsxwriter's internals (pinned: ``xlsxwriter==3.3.1``); :data:`ENABLED` and the
version check turn it off.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from xlplan.numbers import to_cell

ENABLED = True
VERSION = "3.3.1"  # the xlsxwriter whose row XML this reproduces
MAX_TEXT = 16383  # half Excel's limit: never truncated by xlsxwriter (see _write_string)
ROW_NUMBER = "\x00"  # where a block row's number goes: never in escaped cell text (_x0000_)

Value = Decimal | int | str | float | None


def usable(ws: Any) -> bool:
    import xlsxwriter

    return (ENABLED and getattr(xlsxwriter, "__version__", "") == VERSION
            and bool(getattr(ws, "constant_memory", False)) and ws.excel_version == 2007
            and ws.default_row_height == ws.original_row_height)  # no row height attributes


class RowXml:
    """One row's XML as xlsxwriter 3.3.1 writes it in constant-memory mode, from the row's
    values and each column's style attribute (``' s="N"'`` or ``""``)."""

    def __init__(self, styles: Sequence[str]) -> None:
        from xlsxwriter.utility import xl_col_to_name
        from xlsxwriter.xmlwriter import XMLwriter

        self.styles = list(styles)
        self.letters = [xl_col_to_name(ci) for ci in range(len(styles))]
        self.control = XMLwriter._escape_control_characters

    def render(self, r: str, values: Sequence[Value]) -> tuple[str, int, int] | None:
        """(``<row>`` element, first column, last column) for sheet row number ``r`` (1-based,
        as text; :data:`ROW_NUMBER` for a block); ("", -1, -1) for a row without a value (no
        element, as xlsxwriter); None: only xlsxwriter's own path writes it exactly."""
        cells = []
        first = last = -1
        for ci, value in enumerate(values):
            if isinstance(value, str):  # a str subclass too (an enum's value), written as text
                if not value:
                    continue
                if len(value) > MAX_TEXT:
                    return None
                # xlsxwriter's _xHHHH_ escaping, skipped when there is nothing to escape
                text = (value if "_x" not in value and value.isprintable()
                        else self.control(value))
                if text.startswith("<r>") and text.endswith("</r>"):
                    return None
                # xlsxwriter's \s checks (^\s, \s$) and its data escaping, without regexes
                space = (' xml:space="preserve"' if text[0].isspace() or text[-1].isspace()
                         else "")
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                cells.append(f'<c r="{self.letters[ci]}{r}"{self.styles[ci]} t="inlineStr"><is>'
                             f"<t{space}>{text}</t></is></c>")
            elif value is None:
                continue
            elif isinstance(value, bool):
                return None
            else:
                number = to_cell(value) if isinstance(value, Decimal) else value
                if number != number or number in (float("inf"), float("-inf")):
                    return None
                cells.append(f'<c r="{self.letters[ci]}{r}"{self.styles[ci]}><v>{number:.16G}</v>'
                             "</c>")
            if first < 0:
                first = ci
            last = ci
        if first < 0:
            return "", -1, -1
        return f'<row r="{r}">{"".join(cells)}</row>', first, last


class FastRows:
    def __init__(self, ws: Any, formats: Sequence[Any]) -> None:
        self.ws = ws
        self.formats = list(formats)
        self.xml: RowXml | None = None  # once xlsxwriter has the style indexes

    def _style(self, ci: int) -> str | None:
        fmt = self.formats[ci]
        if fmt is not None:
            return f' s="{fmt._get_xf_index()}"'
        info = self.ws.col_info.get(ci)
        if info is not None and info.column_format is not None:
            return None  # a column format: xlsxwriter's own path
        return ""

    def styles(self) -> list[str] | None:
        """Each column's style attribute; None if a column has a format of its own (then
        only xlsxwriter writes the rows exactly)."""
        styles = [self._style(ci) for ci in range(len(self.formats))]
        return None if any(s is None for s in styles) else [s or "" for s in styles]

    def _renderer(self) -> RowXml | None:
        if self.xml is None:
            styles = self.styles()
            if styles is None:
                return None
            self.xml = RowXml(styles)
        return self.xml

    def _writable(self, first: int, last: int) -> bool:
        ws = self.ws
        return (first > ws.previous_row and last < ws.xls_rowmax
                and not any(first <= r <= last for r in ws.row_info))

    def append(self, row: int, values: Sequence[Value]) -> bool:
        """Write ``values`` as sheet row ``row`` (0-based); False: not written, use xlsxwriter
        (nothing was changed)."""
        xml = self._renderer()
        if xml is None or not self._writable(row, row):
            return False
        rendered = xml.render(str(row + 1), values)
        if rendered is None:
            return False
        text, first, last = rendered
        if first < 0:
            return True  # an empty row: xlsxwriter writes nothing for it either
        self._write(row, row, first, last, text)
        return True

    def block(self, row: int, rows: Sequence[str], first_col: int, last_col: int) -> bool:
        """Write rows rendered with :data:`ROW_NUMBER` (``""``: a row without a value) from
        sheet row ``row`` (0-based) on, spanning columns ``first_col``..``last_col``; False:
        nothing was written (xlsxwriter has rows there: write them through it instead)."""
        first = 0
        while first < len(rows) and not rows[first]:
            first += 1
        if first == len(rows):
            return True
        last = len(rows) - 1
        while not rows[last]:
            last -= 1
        top, bottom = row + first, row + last
        if not self._writable(top, bottom):
            return False
        # each row's number in, in C loops (an empty row stays empty)
        numbers = map(str, range(row + 1, row + 1 + len(rows)))
        text = "".join(map(str.replace, rows, itertools.repeat(ROW_NUMBER), numbers))
        self._write(top, bottom, first_col, last_col, text)
        return True

    def _write(self, top: int, bottom: int, first: int, last: int, text: str) -> None:
        ws = self.ws
        ws._check_dimensions(top, first)
        ws._check_dimensions(bottom, last)
        ws._write_single_row(top)  # the rows before it, as xlsxwriter's next write would
        ws.fh.write(text)  # as _write_row without row_info
        ws.previous_row = bottom  # as xlsxwriter's writes of these rows would leave it
