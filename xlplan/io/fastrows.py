"""Detail rows straight into xlsxwriter's constant-memory stream, one write per row.

Writing the region workbook's detail sheets cell by cell through xlsxwriter (~15 µs a cell,
some 3 000 cells a planbok) was the largest serial cost of a consolidation. In
constant-memory mode xlsxwriter renders each finished row as XML into the sheet's temporary
file; :class:`FastRows` renders the same XML for a whole row at once, with xlsxwriter's own
escaping and style indexes, and keeps xlsxwriter's bookkeeping (the previous row, the sheet's
dimension) as its own writes would. The bytes are the same as xlsxwriter's (a test compares
the parts), and any row it does not know how to render exactly (a rich-string look-alike,
an over-long text, a row or column format) goes through xlsxwriter as before.

It relies on xlsxwriter's internals (pinned: ``xlsxwriter==3.3.1``); :data:`ENABLED` and the
version check turn it off.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from xlplan.numbers import to_cell

ENABLED = True
VERSION = "3.3.1"  # the xlsxwriter whose row XML this reproduces
MAX_TEXT = 16383  # half Excel's limit: never truncated by xlsxwriter (see _write_string)


def usable(ws: Any) -> bool:
    import xlsxwriter

    return (ENABLED and getattr(xlsxwriter, "__version__", "") == VERSION
            and bool(getattr(ws, "constant_memory", False)) and ws.excel_version == 2007
            and ws.default_row_height == ws.original_row_height)  # no row height attributes


class FastRows:
    def __init__(self, ws: Any, formats: Sequence[Any]) -> None:
        from xlsxwriter.utility import xl_col_to_name
        from xlsxwriter.worksheet import _preserve_whitespace

        self.ws = ws
        self.letters = [xl_col_to_name(ci) for ci in range(len(formats))]
        self.formats = list(formats)
        self.preserve = _preserve_whitespace
        self.styles: list[str] | None = None  # ' s="N"' per column, once xlsxwriter has them

    def _style(self, ci: int) -> str | None:
        fmt = self.formats[ci]
        if fmt is not None:
            return f' s="{fmt._get_xf_index()}"'
        info = self.ws.col_info.get(ci)
        if info is not None and info.column_format is not None:
            return None  # a column format: xlsxwriter's own path
        return ""

    def append(self, row: int, values: Sequence[Decimal | int | str | float | None]) -> bool:
        """Write ``values`` as sheet row ``row`` (0-based); False: not written, use xlsxwriter
        (nothing was changed)."""
        ws = self.ws
        if row <= ws.previous_row or row in ws.row_info or row >= ws.xls_rowmax:
            return False
        if self.styles is None:
            styles = [self._style(ci) for ci in range(len(self.formats))]
            if any(s is None for s in styles):
                return False
            self.styles = [s or "" for s in styles]
        cells = []
        first = last = -1
        r = str(row + 1)
        for ci, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = self.letters[ci] + r
            style = self.styles[ci]
            if isinstance(value, str):
                if len(value) > MAX_TEXT:
                    return False
                # xlsxwriter's _xHHHH_ escaping, skipped when there is nothing to escape
                text = (value if value.isprintable() and "_x" not in value
                        else ws._escape_control_characters(value))
                if text.startswith("<r>") and text.endswith("</r>"):
                    return False
                space = ' xml:space="preserve"' if self.preserve(text) else ""
                cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>'
                             f"{ws._escape_data(text)}</t></is></c>")
            elif isinstance(value, bool):
                return False
            else:
                number = to_cell(value) if isinstance(value, Decimal) else value
                if number != number or number in (float("inf"), float("-inf")):
                    return False
                cells.append(f'<c r="{ref}"{style}><v>{number:.16G}</v></c>')
            if first < 0:
                first = ci
            last = ci
        if first < 0:
            return True  # an empty row: xlsxwriter writes nothing for it either
        ws._check_dimensions(row, first)
        ws._check_dimensions(row, last)
        ws._write_single_row(row)  # the rows before it, as xlsxwriter's next write would
        ws.fh.write(f'<row r="{r}">{"".join(cells)}</row>')  # as _write_row without row_info
        return True
