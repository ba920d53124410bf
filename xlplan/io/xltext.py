"""Text into an xlsxwriter sheet that stays exactly that text.

``write_string`` already keeps a text from becoming a formula or a link, but xlsxwriter 3.3.1
writes any string that starts with ``<r>`` and ends with ``</r>`` as raw rich-text XML, so
a cell in a planbok could put cells, formulas or broken XML into a workbook we write. Such a
text is written as three plain runs instead: the same text, escaped. Every text that can
come from a user goes through :func:`write_text`.
"""

from __future__ import annotations

from typing import Any


def raw_xml_risk(text: str) -> bool:
    """Would xlsxwriter write ``text`` as raw XML?"""
    return text.startswith("<r>") and text.endswith("</r>")


def write_text(ws: Any, row: int, col: int, text: str, fmt: Any = None) -> None:
    if raw_xml_risk(text):
        extra = [fmt] if fmt is not None else []
        ws.write_rich_string(row, col, text[:1], text[1:2], text[2:], *extra)
    else:
        ws.write_string(row, col, text, fmt)


def subtotal_formula(table: str, header: str) -> str:
    """A totals cell's ``SUBTOTAL(109,Table[Column])`` as Excel stores it: qualified by the
    table's name. xlsxwriter's ``total_function`` writes ``SUBTOTAL(109,[Column])``, which
    Excel reads but LibreOffice computes as #NAME? (it is tested so, recalculated)."""
    escaped = "".join("'" + ch if ch in "'[]#" else ch for ch in header)  # ' [ ] # escaped
    return f"=SUBTOTAL(109,{table}[{escaped}])"
