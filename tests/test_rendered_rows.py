"""Each planbok's rows for a large (streamed) region workbook are rendered as XML by the
worker that reads it, and kept in the cache with its entry (xlplan.io.region_rows): the
workbook is byte for byte the one xlsxwriter writes cell by cell, whether the rows were
rendered this run, came from the cache, or were not rendered at all; and a rendered row in
the cache that is not exactly what the renderer writes (a formula, say) is never used."""

from __future__ import annotations

import base64
import json
import re
import time
import zlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.support.inbox import TJ, book, inbox
from tests.support.output import parts, sheets
from xlplan.consolidation import consolidate


@pytest.fixture()
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small inbox written as a large one is (streamed), read by a pool of workers."""
    from xlplan import inbox as inbox_module
    from xlplan.io import region_writer

    monkeypatch.setattr(region_writer, "STREAM_FILES", 2)
    monkeypatch.setattr(inbox_module, "PARALLEL_FROM", 1)


def _special(folder: Path) -> None:
    # texts xlsxwriter escapes or writes its own way: markup, a literal _xHHHH_ (typed in
    # Excel, stored as _x005F_x0041_), a rich-text look-alike (that row stays as values);
    # the reader already made the tab a space and dropped the leading space
    book(folder / "kn.xlsx", "KN", [
        [" Ledande mellanslag", TJ, 1, 0, 0, 0, 0, 0, 0, 1],
        ["A & B <c>", TJ, 2.5, 0, 0, 0, 0, 0, 0, 2.5],
        ["_x005F_x0041_ bokstavligt", TJ, 0.1, 0, 0, 0, 0, 0, 0, 0.1],
        ["Tab\tinne", TJ, 0.2, 0, 0, 0, 0, 0, 0, 0.2],
        ["<r>rik</r>", TJ, -1e-7, 0, 0, 0, 0, 0, 0, -1e-7],
        ["Stor", TJ, 123456789012.25, None, None, None, None, None, None, 123456789012.25],
    ])


@pytest.mark.usefixtures("streamed")
def test_rendered_cached_and_cell_by_cell_rows_give_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlplan.io import fastrows

    folder = inbox(tmp_path)  # HSN (old and new), RS, RUN and a broken file
    _special(folder)
    cache = tmp_path / "cache"
    rendered = consolidate(folder, tmp_path / "rendered.xlsx", cache=cache)
    assert (rendered.read, rendered.cached) == (6, 0)
    again = consolidate(folder, tmp_path / "cached.xlsx", cache=cache)
    assert (again.read, again.cached) == (1, 5)  # the broken file is never cached
    for entry in cache.glob("*.json"):  # every entry holds its rows rendered
        assert json.loads(entry.read_bytes().partition(b"\n")[2])["rendered"] is not None
    uncached = consolidate(folder, tmp_path / "uncached.xlsx", cache=False)  # packed by the
    assert (uncached.read, uncached.cached) == (6, 0)  # workers themselves, for the trip
    monkeypatch.setattr(fastrows, "ENABLED", False)  # xlsxwriter's own writes, cell by cell
    time.sleep(1.1)  # in another second: nothing time-bound may differ
    slow = consolidate(folder, tmp_path / "slow.xlsx", cache=False)
    assert (slow.read, slow.cached) == (6, 0)
    reference = parts(tmp_path / "slow.xlsx")
    for name in ("rendered", "cached", "uncached"):
        got = parts(tmp_path / f"{name}.xlsx")
        assert got.keys() == reference.keys()
        for part in reference:
            assert got[part] == reference[part], (name, part)
    # the rows are there, each text as it was read (the rich-text look-alike as plain text),
    # read by calamine (openpyxl leaves Excel's _x005F_ escape as it is)
    from python_calamine import CalamineWorkbook

    values = {c for row in CalamineWorkbook.from_path(str(tmp_path / "cached.xlsx"))
              .get_sheet_by_name("Budgetram").to_python() for c in row}
    assert {"A & B <c>", "_x0041_ bokstavligt", "Tab inne", "<r>rik</r>", "Ledande mellanslag",
            "Division Medicin"} <= values


INJECTION = ('<r></r></is></c><c r="Z9"><f>HYPERLINK("http://x.invalid","Klicka")</f></c>'
             '<c r="Y9" t="inlineStr"><is><r></r>')


@pytest.mark.parametrize("stream", [True, False])
def test_a_text_that_looks_like_rich_text_xml_stays_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool) -> None:
    """xlsxwriter writes a string that starts with <r> and ends with </r> as raw XML: a
    planbok's area name could have put a formula into the region workbook."""
    from xlplan.io import region_writer

    monkeypatch.setattr(region_writer, "STREAM_FILES", 0 if stream else 100)
    folder = tmp_path / "in"
    folder.mkdir()
    book(folder / "kn.xlsx", "KN", [[INJECTION, TJ, 1, 0, 0, 0, 0, 0, 0, 1]])
    consolidate(folder, tmp_path / "ut.xlsx", cache=False)
    for name, part in parts(tmp_path / "ut.xlsx").items():
        assert not re.search(rb"<f>[^<]*HYPERLINK", part), name
    wb = openpyxl.load_workbook(tmp_path / "ut.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells if "HYPERLINK" in str(c.value))
    assert INJECTION in {c.value for c in cells}  # the very text, as text


def _blocks(entry: dict[str, Any]) -> Any:
    """An entry's rendered blocks as [name, {"rows": [...], "values": n, ...}]: each row its
    XML, or its values where it was kept as values."""
    meta = json.loads(zlib.decompress(base64.b64decode(entry["rendered"]["blocks"])))
    texts = zlib.decompress(base64.b64decode(entry["rendered"]["xml"])).decode().split("\x02")
    blocks = []
    for (name, m), text in zip(meta, texts, strict=True):
        rows: list[Any] = text.split("\x01") if m["rows"] else []
        for i, values in zip(m["at"], m["values"], strict=True):
            rows[i] = values
        blocks.append([name, {"rows": rows, "values": len(m["at"]), "sums": m["sums"],
                              "first_col": m["first_col"], "last_col": m["last_col"]}])
    return blocks


def _pack(entry: dict[str, Any], blocks: Any) -> None:
    """:func:`_blocks` undone, into the entry."""
    meta, texts = [], []
    for name, b in blocks:
        at = [i for i, row in enumerate(b["rows"]) if isinstance(row, list)]
        meta.append([name, {"rows": len(b["rows"]), "at": at,
                            "values": [b["rows"][i] for i in at], "sums": b["sums"],
                            "first_col": b["first_col"], "last_col": b["last_col"]}])
        texts.append("\x01".join(row if isinstance(row, str) else "" for row in b["rows"]))
    body = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
    entry["rendered"]["blocks"] = base64.b64encode(zlib.compress(body)).decode()
    entry["rendered"]["xml"] = base64.b64encode(zlib.compress(
        "\x02".join(texts).encode())).decode()


TEXT_A = '<c r="A\x00" t="inlineStr"><is><t>{}</t></is></c>'


@pytest.mark.usefixtures("streamed")
@pytest.mark.parametrize("row", [
    '<row r="\x00"><c r="A\x00"><f>HYPERLINK("http://x","klicka")</f><v>0</v></c></row>',
    '<row r="\x00"><c r="A\x00" t="inlineStr"><is><t>ok</t></is></c></row><row r="9">',
    '<row r="\x00"><c r="A\x00" t="s"><v>0</v></c></row>',
    # no formula, but a broken or repaired workbook: an unknown entity, a raw control
    # character, a number that is none, a column past XFD, a cell twice or out of order, a
    # style that is not the column's
    '<row r="\x00">' + TEXT_A.format("&bogus;") + "</row>",
    '<row r="\x00">' + TEXT_A.format("x\x01y") + "</row>",
    '<row r="\x00"><c r="A\x00"><v>1.2.3E+999</v></c></row>',
    '<row r="\x00"><c r="ZZZ\x00" t="inlineStr"><is><t>x</t></is></c></row>',
    '<row r="\x00">' + TEXT_A.format("x") + TEXT_A.format("y") + "</row>",
    '<row r="\x00"><c r="B\x00" t="inlineStr"><is><t>x</t></is></c>' + TEXT_A.format("y")
    + "</row>",
    '<row r="\x00"><c r="A\x00" s="99999" t="inlineStr"><is><t>x</t></is></c></row>',
    '<row r="\x00"></row>',
    # numbers no double is (openpyxl refuses 5 000 digits; 9E+999 is infinity), a text
    # longer than a cell holds, and rows kept as values that crashed the writer
    '<row r="\x00"><c r="A\x00"><v>' + "9" * 5000 + "</v></c></row>",
    '<row r="\x00"><c r="A\x00"><v>9E+999</v></c></row>',
    '<row r="\x00">' + TEXT_A.format("x" * 40000) + "</row>",
    ["KN", "Område", "Tjänstemannabudget", 10**20, None, None, None, None, None, None, None],
    ["KN"] * 30,
])
def test_a_rendered_row_in_the_cache_that_is_not_the_renderers_is_never_used(
        tmp_path: Path, row: str | list[object]) -> None:
    from xlplan.filecache import _mac, _signing_key

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):
        book(folder / f"{name}.xlsx", name.upper(), [["Område", TJ, 1, 0, 0, 0, 0, 0, 0, 1]])
    cache = tmp_path / "cache"
    consolidate(folder, tmp_path / "first.xlsx", cache=cache)
    key = _signing_key()
    assert key is not None
    for path in cache.glob("*.json"):  # signed with the user's key: only the check can refuse
        entry = json.loads(path.read_bytes().partition(b"\n")[2])
        blocks = _blocks(entry)
        budget = next(v for k, v in blocks if k == "Budgetram")
        budget["rows"][0] = row
        budget["values"] = sum(isinstance(r, list) for r in budget["rows"])  # consistent
        _pack(entry, blocks)
        body = json.dumps(entry).encode()
        path.write_bytes(_mac(key, body) + b"\n" + body)
    again = consolidate(folder, tmp_path / "again.xlsx", cache=cache)
    assert (again.read, again.cached) == (3, 0)  # every file read again
    budget = parts(tmp_path / "again.xlsx")["xl/worksheets/sheet2.xml"]
    assert b"HYPERLINK" not in budget and b't="s"' not in budget and b'<row r="9">' not in budget
    # the only formulas: the totals row under the seven parts and Nettobudget (D:K), rows 5-7
    assert re.findall(rb"<f>([^<]*)</f>", budget) == [
        f"SUBTOTAL(109,{col}5:{col}7)".encode() for col in "DEFGHIJK"]
    # the header (Område) and each file's row (its area is called Område too), as read
    assert budget.count(b"<is><t>Omr\xc3\xa5de</t></is>") == 1 + 3


def test_entries_serve_a_small_inbox_after_a_large_one_and_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry keeps a file's rows rendered (large inbox) or as values (small inbox); a run
    of the other kind reads the file again, or renders from the values, and writes what an
    uncached run writes."""
    from xlplan import inbox as inbox_module
    from xlplan.io import region_writer

    folder = inbox(tmp_path)
    cache = tmp_path / "cache"
    monkeypatch.setattr(inbox_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(region_writer, "STREAM_FILES", 2)
    assert consolidate(folder, tmp_path / "large.xlsx", cache=cache).read == 5
    monkeypatch.setattr(region_writer, "STREAM_FILES", 100)  # small: tables, rows as values
    small = consolidate(folder, tmp_path / "small.xlsx", cache=cache)
    assert (small.read, small.cached) == (5, 0)  # no entry had the rows as values
    uncached = consolidate(folder, tmp_path / "small-uncached.xlsx", cache=False)
    assert sheets(tmp_path / "small.xlsx") == sheets(tmp_path / "small-uncached.xlsx")
    assert uncached.read == 5
    monkeypatch.setattr(region_writer, "STREAM_FILES", 2)
    large = consolidate(folder, tmp_path / "large-again.xlsx", cache=cache)
    assert (large.read, large.cached) == (1, 4)  # rendered from the entries' values
    assert sheets(tmp_path / "large-again.xlsx") == sheets(tmp_path / "large.xlsx")



def test_a_file_whose_rows_cannot_be_rendered_is_written_from_its_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The net under the renderer: whatever fails there, the file's rows still reach the
    workbook (from their values), and the run writes what a run without rendering writes."""
    from xlplan.io import fastrows, region_rows, region_writer

    monkeypatch.setattr(region_writer, "STREAM_FILES", 2)
    folder = inbox(tmp_path)
    real = region_rows.render_file

    def failing(name: str, *args: Any) -> Any:
        if name == "rs.xlsx":
            raise RuntimeError("a defect in the renderer")
        return real(name, *args)

    monkeypatch.setattr(region_rows, "render_file", failing)
    cache = tmp_path / "cache"
    consolidate(folder, tmp_path / "a.xlsx", cache=cache)
    again = consolidate(folder, tmp_path / "b.xlsx", cache=cache)
    assert (again.read, again.cached) == (1, 4)  # rs.xlsx cached with its values
    monkeypatch.setattr(fastrows, "ENABLED", False)
    consolidate(folder, tmp_path / "reference.xlsx", cache=False)
    reference = sheets(tmp_path / "reference.xlsx")
    assert sheets(tmp_path / "a.xlsx") == reference == sheets(tmp_path / "b.xlsx")
    assert any(r[:2] == ("RS", "Regionstaben") for r in reference["Budgetram"])


def test_a_block_must_fit_its_sheets_columns() -> None:
    """Besides each row: the columns the block spans, and sums only under amount columns."""
    from decimal import Decimal

    from xlplan.io.region_rows import render, well_formed

    styles = ("", "", ' s="3"')  # text, text, an amount
    block = render([["KN", "Område", Decimal("1.5")], ["KN", None, Decimal("-2")]], styles)
    assert (block.first_col, block.last_col, block.sums) == (0, 2, {2: Decimal("-0.5")})
    assert well_formed(block, styles)
    assert not well_formed(block, ("", "", ""))  # the amount's style is not the column's
    for first, last in ((0, 3), (-1, 2), (-2, -2), (2, 1)):
        block.first_col, block.last_col = first, last
        assert not well_formed(block, styles), (first, last)
    block.first_col, block.last_col = 0, 2
    block.sums = {1: Decimal(7)}  # a text column has no sum
    assert not well_formed(block, styles)


def test_the_fast_row_pattern_takes_exactly_the_rows_the_bounded_one_takes() -> None:
    """Rows shorter than BOUNDED_FROM are matched with unbounded runs of text: on random
    edits of rendered rows both patterns agree, and a text's bound still holds at its edge."""
    import random
    from decimal import Decimal

    from xlplan.io.region_rows import _TEXT_RUNS, BOUNDED_FROM, render, row_pattern, well_formed

    styles = ("", ' s="3"', "")
    bounded, runs = row_pattern(styles), row_pattern(styles, _TEXT_RUNS)
    rows = render([["KN & co", Decimal("1.5"), " x "], [None, Decimal("-2E-7"), "<b>"]],
                  styles).rows
    tokens = ["a", "å", "&amp;", "&lt;", "&gt;", "&", "&am;", "<", ">", "\x01", "\ufffe", " ",
              '<c r="C\x00">', "</t>", "</c>", '"', "0", ".", "E", "+", "-", "9" * 30]
    rng = random.Random(20261125)
    agreed = accepted = 0
    for _ in range(4000):
        row = str(rng.choice(rows))
        for _ in range(rng.randint(1, 3)):
            at, cut = rng.randrange(len(row) + 1), rng.choice((0, 0, 1, 2, 5))
            row = row[:at] + rng.choice([*tokens, ""]) + row[at + cut:]
        both = bool(bounded.fullmatch(row)), bool(runs.fullmatch(row))
        assert both[0] == both[1], repr(row)
        agreed += 1
        accepted += both[0]
    assert agreed == 4000 and 50 < accepted < 3950  # edits that keep a row, and that break it
    # at the bound: 32 767 characters (entities count as one) fit a cell, 32 768 do not
    for text, fits in (("x" * 32767, True), ("&amp;" * 32767, True), ("x" * 32768, False)):
        block = render([["KN", Decimal(1), "y"]], styles)
        block.rows = [f'<row r="\x00"><c r="A\x00" t="inlineStr"><is><t>{text}</t></is></c></row>']
        block.first_col = block.last_col = 0
        block.sums = {}
        assert len(block.rows[0]) >= BOUNDED_FROM
        assert well_formed(block, styles) is fits


def _meta(entry: dict[str, Any]) -> tuple[Any, list[str]]:
    meta = json.loads(zlib.decompress(base64.b64decode(entry["rendered"]["blocks"])))
    return meta, zlib.decompress(base64.b64decode(entry["rendered"]["xml"])).decode().split("\x02")


def _repack(entry: dict[str, Any], meta: Any, texts: list[str]) -> None:
    body = json.dumps(meta, ensure_ascii=False).encode()
    entry["rendered"]["blocks"] = base64.b64encode(zlib.compress(body)).decode()
    entry["rendered"]["xml"] = base64.b64encode(zlib.compress("\x02".join(texts).encode())).decode()


def _budget(meta: Any) -> int:
    return next(i for i, (name, _) in enumerate(meta) if name == "Budgetram")


@pytest.mark.usefixtures("streamed")
@pytest.mark.parametrize("damage", [
    # one row more or fewer than the block says, a block more, a block named twice or not
    # one of the workbook's, a value row where the text has a row, value rows out of order
    lambda meta, texts: texts.__setitem__(_budget(meta), texts[_budget(meta)] + "\x01"),
    lambda meta, texts: meta[_budget(meta)][1].__setitem__("rows", 0),
    lambda meta, texts: texts.append(""),
    lambda meta, texts: meta[0].__setitem__(0, meta[1][0]),
    lambda meta, texts: meta[_budget(meta)].__setitem__(0, "Okänt"),
    lambda meta, texts: meta[_budget(meta)][1].update(at=[0], values=[["KN"] * 11]),
    lambda meta, texts: meta[_budget(meta)][1].update(at=[1, 0]),
    # empty rows not listed as values: each a blank row in the sheet, two million of them a
    # refused run (a rendered row is never empty)
    lambda meta, texts: (texts.__setitem__(_budget(meta), texts[_budget(meta)] + "\x01" * 1000),
                         meta[_budget(meta)][1].__setitem__(
                             "rows", meta[_budget(meta)][1]["rows"] + 1000)),
    lambda meta, texts: (texts.__setitem__(_budget(meta), "\x01" + texts[_budget(meta)]),
                         meta[_budget(meta)][1].__setitem__(
                             "rows", meta[_budget(meta)][1]["rows"] + 1)),
    # two rows in one: the first row's end and the next row's start joined (its own row
    # count right), and a row's end cut off into the next
    lambda meta, texts: texts.__setitem__(_budget(meta), texts[_budget(meta)].replace(
        "</row>", "</row>" + texts[_budget(meta)].split("</row>")[0] + "</row>", 1)),
    lambda meta, texts: texts.__setitem__(_budget(meta), texts[_budget(meta)].replace(
        "</row>", "", 1)),
])
def test_rendered_blocks_that_do_not_add_up_are_never_used(tmp_path: Path, damage: Any) -> None:
    """The cache holds each block's rows as one text (rows between \\x01, blocks between
    \\x02) beside their count and the rows kept as values: any of it that does not add up
    reads the file again, and the workbook is the one a fresh read writes."""
    from xlplan.filecache import _mac, _signing_key

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):
        book(folder / f"{name}.xlsx", name.upper(), [["Område", TJ, 1, 0, 0, 0, 0, 0, 0, 1],
                                                     ["Annat", TJ, 2, 0, 0, 0, 0, 0, 0, 2]])
    cache = tmp_path / "cache"
    consolidate(folder, tmp_path / "first.xlsx", cache=cache)
    assert consolidate(folder, tmp_path / "cached.xlsx", cache=cache).cached == 3  # as made
    key = _signing_key()
    assert key is not None
    for path in cache.glob("*.json"):
        entry = json.loads(path.read_bytes().partition(b"\n")[2])
        meta, texts = _meta(entry)
        damage(meta, texts)
        _repack(entry, meta, texts)
        body = json.dumps(entry).encode()
        path.write_bytes(_mac(key, body) + b"\n" + body)
    again = consolidate(folder, tmp_path / "again.xlsx", cache=cache)
    assert (again.read, again.cached) == (3, 0)  # every file read again
    assert sheets(tmp_path / "again.xlsx") == sheets(tmp_path / "first.xlsx")
