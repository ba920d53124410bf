"""The rows one planbok gives the Regionsammanställning's growing sheets (each contract
table's rows, its investments, its findings), as values and, for a streamed workbook, as
rendered row XML.

Pure: no workbook is open here. The workers that read the planböcker call
:func:`render_file`, so the parent process that writes the workbook only puts row numbers
into ready XML (:meth:`xlplan.io.fastrows.FastRows.block`) and adds the column sums; a row
the fast renderer cannot write exactly stays as values and goes through xlsxwriter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from xlplan import contract as c
from xlplan.extract import Extract, Investment, OutCell
from xlplan.findings import Finding
from xlplan.io.fastrows import ROW_NUMBER, RowXml

Cell = OutCell  # every value these rows hold: text, an exact amount, a year, nothing

DETAIL = tuple(t for t in c.TABLES if t not in (c.INFO, c.INVESTERINGAR))
INVESTMENTS = "Investeringar"  # keys of the growing sheets besides the DETAIL tables
CONTROLS = "Kontroll"


def detail_rows(e: Extract, table: str) -> Iterator[list[Cell]]:
    for row in e.rows.get(table, []):
        yield [e.namnd, *row]


def investment_row(asked_by: str, item: Investment) -> list[Cell]:
    holder = item.budgetansvar or asked_by
    return [holder, asked_by, f"begärd av {asked_by}" if holder != asked_by else "", item.omrade,
            item.objekt, item.typ, item.kategori, item.ar, item.belopp_tkr]


def control_row(file: str, f: Finding) -> list[Cell]:
    return [file, f.severity.swedish, f.code, f.sheet, f.cell, f.message]


def amounts(formatted: Sequence[bool], row: Sequence[object], sums: dict[int, Decimal]) -> None:
    """Add ``row``'s amounts in the formatted columns to ``sums`` (column -> total)."""
    for ci, value in enumerate(row):
        if formatted[ci] and value is not None and (
                type(value) is Decimal or (isinstance(value, Decimal | int)
                                           and not isinstance(value, bool))):
            sums[ci] = sums.get(ci, Decimal(0)) + Decimal(value)


@dataclass
class Block:
    """One file's rows for one sheet: each row rendered with :data:`ROW_NUMBER` or, where
    only xlsxwriter writes it exactly (or it has no value), its values; ``sums`` covers the
    rendered rows only (the writer adds the others' as it writes them)."""

    rows: list[str | list[OutCell]] = field(default_factory=list)
    sums: dict[int, Decimal] = field(default_factory=dict)
    first_col: int = -1
    last_col: int = -1
    values: int = 0  # rows kept as values (none, nearly always: then one write for all)


@dataclass(frozen=True)
class Layout:
    """Each growing sheet's column styles (``' s="N"'`` or ``""``), from the workbook that
    will hold the rows."""

    styles: dict[str, tuple[str, ...]]


@dataclass
class Rendered:
    layout: Layout  # what it was rendered for
    blocks: dict[str, Block]  # DETAIL table names, INVESTMENTS, CONTROLS


@functools.lru_cache(maxsize=16)
def _row_xml(styles: tuple[str, ...]) -> RowXml:
    return RowXml(styles)


# A rendered row as RowXml writes it for a sheet's columns and nothing else: its cells in
# column order, each with the column's own letter and style, holding inline text (escaped as
# xlsxwriter escapes: "&", "<", ">" as entities, control characters as _xHHHH_) or a number
# as "%.16G" prints it; never a formula, a shared string or another element. A row loaded
# from the cache must match it (xlplan.filecache).
_CHAR = r"[^<>&\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]"
_TEXT = rf"(?:{_CHAR}|&(?:amp|lt|gt);){{0,32767}}"
# the same text unbounded, as runs of characters between entities: possessive, so the
# regular expression engine takes each run in one tight loop (twice as fast over 300 MB)
_TEXT_RUNS = rf"{_CHAR}*+(?:&(?:amp|lt|gt);{_CHAR}*+)*+"
BOUNDED_FROM = 32768  # a row this long or longer is matched with the bounded _TEXT
ROW_END = "\x01"  # between a block's rows where they are joined (the cache): a control
# character, which a rendered row never holds (RowXml writes it as _x0001_)
# "%.16G" of a finite double: 16 significant digits (0.0000 and 16 digits at the longest),
# an exponent within a double's range
_NUMBER = (r"-?(?=[0-9.]{1,24}(?:E|<))[0-9]+(?:\.[0-9]+)?"
           r"(?:E(?:-[0-9]{2,3}|\+(?:[0-9]{2}|[12][0-9]{2}|30[0-8])))?")
_LARGEST = 10**15  # an amount or a year in a value row: as xlplan.numbers allows


@functools.lru_cache(maxsize=64)
def row_pattern(styles: tuple[str, ...], text: str = _TEXT) -> re.Pattern[str]:
    """The rows RowXml writes for columns with ``styles``. A text in a row shorter than
    :data:`BOUNDED_FROM` is shorter than 32 768 characters, so those rows are matched with
    ``text=_TEXT_RUNS``. Each cell is possessive: once matched it is not given back, and
    nothing is lost by that, as what follows a cell starts with another column's letter or
    ends the row."""
    letters = RowXml(styles).letters
    cells = "".join(
        f'(?:<c r="{letter}\x00"{re.escape(style)}(?: t="inlineStr"><is><t'
        f'(?: xml:space="preserve")?>{text}</t></is>|><v>{_NUMBER}</v>)</c>)?+'
        for letter, style in zip(letters, styles, strict=True))
    return re.compile(f'<row r="\x00">(?=<c ){cells}</row>')


@functools.lru_cache(maxsize=64)
def block_pattern(styles: tuple[str, ...]) -> re.Pattern[str]:
    """A block's rows joined by :data:`ROW_END` (a row kept as values: empty), each a row of
    :func:`row_pattern` with unbounded text (or empty): one match for the whole block. The
    separator is never in a row, so each part is matched alone."""
    row = row_pattern(styles, _TEXT_RUNS).pattern
    return re.compile(f"(?:{row})?+(?:{ROW_END}(?:{row})?+)*+")


def well_formed(block: Block, styles: tuple[str, ...], joined: str | None = None) -> bool:
    """Every rendered row of ``block`` is one RowXml writes for columns with ``styles``, its
    columns span within them, its sums are of amount columns and it counts its rows kept as
    values. ``joined``: the rows joined by :data:`ROW_END` with a row kept as values empty
    (as the cache holds them), matched at once when no row is :data:`BOUNDED_FROM` long."""
    width = len(styles)
    if not (-1 <= block.first_col <= block.last_col < width) or (
            (block.first_col < 0) != (block.last_col < 0)):
        return False
    if any(not 0 <= ci < width or not styles[ci] for ci in block.sums):
        return False
    if block.values != sum(1 for row in block.rows if not isinstance(row, str)):
        return False
    for row in block.rows:  # a row kept as values: the sheet's width, sane numbers
        if not isinstance(row, str) and (len(row) != width or any(
                isinstance(v, int) and not -_LARGEST < v < _LARGEST for v in row)):
            return False
    if joined is not None and max((len(row) for row in block.rows if type(row) is str),
                                  default=0) < BOUNDED_FROM:
        return block_pattern(styles).fullmatch(joined) is not None
    bounded, runs = row_pattern(styles), row_pattern(styles, _TEXT_RUNS)
    return all((runs if len(row) < BOUNDED_FROM else bounded).fullmatch(row)
               for row in block.rows if isinstance(row, str) and row)


def render(rows: Iterator[list[Cell]] | list[list[Cell]], styles: tuple[str, ...]) -> Block:
    xml = _row_xml(styles)
    formatted = [bool(s) for s in styles]
    block = Block()
    for row in rows:
        done = xml.render(ROW_NUMBER, row)
        if done is None or not done[0]:  # a row without a value stays as values too, so a
            block.rows.append(row)  # rendered row is never empty (the cache relies on it)
            block.values += 1
            continue
        text, first, last = done
        block.rows.append(text)
        if first >= 0:
            block.first_col = first if block.first_col < 0 else min(block.first_col, first)
            block.last_col = max(block.last_col, last)
        amounts(formatted, row, block.sums)
    return block


def render_file(name: str, findings: Sequence[Finding], e: Extract | None,
                layout: Layout) -> Rendered:
    """Every row the file can give the growing sheets (whether it is used is the writer's
    choice: the newest file per nämnd)."""
    blocks = {CONTROLS: render([control_row(name, f) for f in findings],
                               layout.styles[CONTROLS])}
    if e is not None:
        for spec in DETAIL:
            blocks[spec.name] = render(detail_rows(e, spec.name), layout.styles[spec.name])
        blocks[INVESTMENTS] = render([investment_row(e.namnd, i) for i in e.investments],
                                     layout.styles[INVESTMENTS])
    return Rendered(layout, blocks)
