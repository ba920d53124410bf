"""The fast sheet read (xlplan/io/sheetscan.py) shape by shape: each sheet is written here
literally, zipped into a real .xlsx, and read by both readers (tests/support/sheets.py
asserts they agree); the cells expected are worked by hand from the XML above them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.support.sheets import MAIN, filled, only_table, sheet, sheet_book, sheet_bytes
from xlplan.errors import UnreadableWorkbook, UnsafeWorkbook
from xlplan.io.sheetscan import NotCanonical, scan_sheet
from xlplan.io.xlsx import read_workbook
from xlplan.limits import Limits

BOUNDS = [(1, 1, 3, 3)]  # the table A1:C3 of sheet_book's default


def fast_reads(path: Path, bounds: list[tuple[int, int, int, int]] = BOUNDS) -> bool:
    """Does the fast scan read the sheet itself (rather than hand it to the reference)?"""
    try:
        scan_sheet(sheet_bytes(path), bounds, frozenset())
    except NotCanonical:
        return False
    return True


def test_excel_cells_numbers_shared_strings_formulas_and_blanks(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "excel.xlsx", sheet(
        '<sheetData><row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v>'
        '</c><c r="C1" t="s"><v>2</v></c></row>'
        '<row r="2" spans="1:3"><c r="A2" s="1" t="s"><v>3</v></c><c r="B2"><v>-17.5</v></c>'
        '<c r="C2" s="2"><f>B2*2</f><v>-35</v></c></row>'
        '<row r="3" spans="1:3"><c r="A3" s="1"/><c r="B3" t="b"><v>1</v></c>'
        '<c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData>'),
        strings=["Område", "Belopp", "Dubbelt", "Kultur"])
    # by hand: shared strings 0-3 for A1:C1 and A2; B2 the literal; C2 formula and value;
    # A3 empty (not listed), B3 a boolean, C3 an error with its formula
    assert filled(only_table(book)) == {
        "A1": ("text", "Område", None), "B1": ("text", "Belopp", None),
        "C1": ("text", "Dubbelt", None), "A2": ("text", "Kultur", None),
        "B2": ("number", "-17.5", None), "C2": ("number", "-35", "B2*2"),
        "B3": ("bool", "1", None), "C3": ("error", "#DIV/0!", "1/0"),
    }
    assert fast_reads(book)


def test_shared_formula_children_get_the_masters_text(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "shared.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c>'
        '<c r="C1"><f t="shared" ref="C1:C3" si="0">A1+B1</f><v>3</v></c></row>'
        '<row r="2"><c r="A2"><v>4</v></c><c r="B2"><v>5</v></c>'
        '<c r="C2"><f t="shared" si="0"/><v>9</v></c></row>'
        '<row r="3"><c r="A3"><v>6</v></c><c r="B3"><v>7</v></c>'
        '<c r="C3"><f t="shared" si="0"/><v>13</v></c></row></sheetData>'))
    table = only_table(book)
    # by hand: C2 and C3 share C1's text (not shifted: xlplan keeps the text as written)
    assert [row[2].formula for row in table.body] == ["A1+B1", "A1+B1"]
    assert [row[2].value for row in table.body] == ["9", "13"]
    assert fast_reads(book)


def test_inline_strings_with_runs_phonetics_and_escapes(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "inline.xlsx", sheet(
        '<sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>Enkel</t></is></c>'
        '<c r="B1" t="inlineStr"><is><r><rPr><b/><sz val="11"/></rPr><t>Fet</t></r>'
        '<r><t xml:space="preserve"> och  mager</t></r></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Tab_x0009_här &amp; &lt;där&gt; &#229;&#x00E4;</t></is></c>'
        '</row><row r="2"><c r="A2" t="inlineStr"><is><r><t>漢</t></r>'
        '<rPh sb="0" eb="1"><t>カン</t></rPh></is></c><c r="B2" t="inlineStr"><is/></c>'
        '<c r="C2" t="inlineStr"><is><t/></is></c></row></sheetData>'))
    # by hand: runs joined (the two spaces kept); _x0009_ a tab, cleaned to a space; the
    # entities and character references å, ä; the reference reader takes a phonetic run's
    # <t> too in an inline string; an empty <is> is an empty text
    assert filled(only_table(book)) == {
        "A1": ("text", "Enkel", None), "B1": ("text", "Fet och  mager", None),
        "C1": ("text", "Tab här & <där> åä", None), "A2": ("text", "漢カン", None),
        "B2": ("text", "", None), "C2": ("text", "", None),
    }
    assert fast_reads(book)


def test_formula_text_with_entities_and_a_string_result(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "entities.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1"><v>5</v></c>'
        '<c r="B1" t="str"><f>IF(A1&gt;0,&quot;ja &amp; nej&quot;,&apos;x&apos;)</f>'
        '<v>ja &amp; nej</v></c><c r="C1" t="str"><f>A1&amp;"_x000D_"</f><v>5_x000D_</v></c>'
        '</row></sheetData>'))
    # by hand: the formula's entities replaced, its _x000D_ kept as written (formulas are
    # not unescaped); the string result's _x000D_ is a carriage return, cleaned to a space
    assert filled(only_table(book)) == {
        "A1": ("number", "5", None),
        "B1": ("text", "ja & nej", "IF(A1>0,\"ja & nej\",'x')"),
        "C1": ("text", "5 ", 'A1&"_x000D_"'),
    }
    assert fast_reads(book)


def test_attributes_in_any_order_and_quoting(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "order.xlsx", sheet(
        "<sheetData><row spans='1:3' r='1'><c t=\"s\" s='0' r=\"A1\"><v>0</v></c>"
        '<c s="0" r="B1"><v>2.5</v></c><c r = "C1" t = "n" ><v>3</v></c></row>'
        '<row r="2" hidden="true"><c r="&#65;2" t="s"><v>1</v></c></row></sheetData>'),
        strings=["Ett", "Två"])
    table = only_table(book)
    # by hand: the same cells whatever the order, quotes and spacing of the attributes; A2
    # written with a character reference in its r; row 2 hidden
    assert filled(table) == {
        "A1": ("text", "Ett", None), "B1": ("number", "2.5", None),
        "C1": ("number", "3", None), "A2": ("text", "Två", None),
    }
    assert table.hidden_rows == frozenset({2})
    assert fast_reads(book)


def test_open_xml_sdk_prefix_x(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "sdk.xlsx", sheet(
        '<x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c>'
        '<x:c r="B1"><x:f>1+1</x:f><x:v>2</x:v></x:c>'
        '<x:c r="C1" t="inlineStr"><x:is><x:t>Inline</x:t></x:is></x:c></x:row>'
        '<x:row r="2" hidden="1"><x:c r="A2"><x:v>7</x:v></x:c></x:row></x:sheetData>'
        '<x:mergeCells count="1"><x:mergeCell ref="B2:C2"/></x:mergeCells>',
        root=f'<x:worksheet xmlns:x="{MAIN}">', end="</x:worksheet>"), strings=["SDK"])
    table = only_table(book)
    # by hand: the x: form reads as the default-namespace form
    assert filled(table) == {
        "A1": ("text", "SDK", None), "B1": ("number", "2", "1+1"),
        "C1": ("text", "Inline", None), "A2": ("number", "7", None),
    }
    assert table.hidden_rows == frozenset({2})
    assert table.merged == ((2, 2, 2, 3),)
    assert fast_reads(book)


def test_cells_and_rows_without_references(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "norefs.xlsx", sheet(
        '<sheetData><row><c><v>1</v></c><c><v>2</v></c><c/></row>'
        '<row><c r="B2"><v>4</v></c><c><v>5</v></c></row>'
        '<row r="3"><c t="n"><v>7</v></c></row></sheetData>'))
    # by hand: a row without r follows the one before (1, then 2); a cell without r the
    # cell before it in its row (A1, B1, C1; B2 then C2; A3)
    assert filled(only_table(book)) == {
        "A1": ("number", "1", None), "B1": ("number", "2", None),
        "B2": ("number", "4", None), "C2": ("number", "5", None),
        "A3": ("number", "7", None),
    }
    assert fast_reads(book)


def test_self_closing_and_empty_values(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "empty.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1" s="1"/><c r="B1"><v/></c><c r="C1" t="str"><v></v>'
        '</c></row><row r="2"><c r="A2"><f>NA()</f></c><c r="B2" t="s"><v></v></c>'
        '<c r="C2" t="str"><f>""</f><v/></c></row></sheetData>'))
    # by hand: empty cells and empty <v> are blank, except a str cell: an empty text; a
    # formula without a cached value is a blank with its formula
    assert filled(only_table(book)) == {
        "C1": ("text", "", None), "A2": ("blank", None, "NA()"), "C2": ("text", "", '""'),
    }
    assert fast_reads(book)


def test_numbers_the_pattern_takes_and_those_it_leaves(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "numbers.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1"><v>123456789012345</v></c><c r="B1"><v>0.1</v></c>'
        '<c r="C1"><v>-0.00000000000000000000000000001</v></c></row>'
        '<row r="2"><c r="A2"><v>1E+15</v></c><c r="B2"><v>1.5E-40</v></c>'
        '<c r="C2"><v> 7 </v></c></row>'
        '<row r="3"><c r="A3"><v>NaN</v></c><c r="B3"><v>007</v></c>'
        '<c r="C3"><v>2.5E3</v></c></row></sheetData>'))
    # by hand: literals kept as written; 10^15 is too large (#NUM!); 1.5E-40 vanishes to 0;
    # NaN is no number (#NUM!); padded and exponent forms are kept as written
    assert filled(only_table(book)) == {
        "A1": ("number", "123456789012345", None), "B1": ("number", "0.1", None),
        "C1": ("number", "-0.00000000000000000000000000001", None),
        "A2": ("error", "#NUM!", None), "B2": ("number", "0", None),
        "C2": ("number", " 7 ", None), "A3": ("error", "#NUM!", None),
        "B3": ("number", "007", None), "C3": ("number", "2.5E3", None),
    }
    assert fast_reads(book)


STYLES = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><numFmts count="1">'
          '<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><cellXfs count="3">'
          '<xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>')


def test_dates_by_style(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "dates.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1" s="0"><v>45000</v></c><c r="B1" s="1"><v>45000</v></c>'
        '<c r="C1" s="2"><v>45000.5</v></c></row></sheetData>'), styles=STYLES)
    # by hand: style 0 is General (a number), 1 the custom yyyy-mm-dd, 2 the built-in 14
    assert filled(only_table(book)) == {
        "A1": ("number", "45000", None), "B1": ("date", "45000", None),
        "C1": ("date", "45000.5", None),
    }
    assert fast_reads(book)


def test_only_cells_inside_the_table_are_kept(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "bounds.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>8</v></c><c r="B2"><v>2</v></c><c r="C2"><v>3</v></c>'
        '<c r="D2"><v>9</v></c></row><row r="3"><c r="C3"><v>4</v></c></row>'
        '<row r="4"><c r="B4"><v>9</v></c></row></sheetData>'), ref="B2:C3")
    table = only_table(book)
    # by hand: B2:C3 holds 2, 3 (header row) and C3's 4; A1, A2, D2, B4 lie outside
    assert [c.value for c in table.headers] == ["2", "3"]
    assert [[c.value for c in row] for row in table.body] == [[None, "4"]]
    assert fast_reads(book, [(2, 2, 3, 3)])


def test_pretty_printed_xml_and_crlf_line_ends(tmp_path: Path) -> None:
    xml = sheet(
        '\r\n  <sheetData>\r\n    <row r="1">\r\n      <c r="A1" t="inlineStr">\r\n'
        '        <is><t>rad ett\r\nrad två</t></is>\r\n      </c>\r\n'
        '      <c r="B1">\r\n        <f>1\r\n+1</f>\r\n        <v>2</v>\r\n      </c>\r\n'
        '    </row>\r\n  </sheetData>\r\n')
    book = sheet_book(tmp_path / "pretty.xlsx", xml)
    # by hand: white space between elements is no content; CR LF is one line end (a
    # newline), cleaned to one space in text, kept in the formula
    assert filled(only_table(book)) == {
        "A1": ("text", "rad ett rad två", None), "B1": ("number", "2", "1\n+1"),
    }
    assert fast_reads(book)


def test_cdata_and_comments_go_to_the_reference_reader(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "cdata.xlsx", sheet(
        '<sheetData><!-- <row r="1"><c r="A1"><v>999</v></c></row> -->'
        '<row r="1"><c r="A1"><v><![CDATA[12]]></v></c>'
        '<c r="B1" t="inlineStr"><is><t><![CDATA[a < b & c]]></t></is></c></row>'
        '</sheetData>'))
    # by hand: the comment's cell is no cell; CDATA is text as it stands
    assert filled(only_table(book)) == {
        "A1": ("number", "12", None), "B1": ("text", "a < b & c", None),
    }
    assert not fast_reads(book)


def test_a_comment_inside_an_inline_string_goes_to_the_reference_reader(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "comment.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><!-- </is> --><t>x</t></is></c>'
        '</row></sheetData>'))
    assert filled(only_table(book)) == {"A1": ("text", "x", None)}  # by hand: the <t> only
    assert not fast_reads(book)


def test_utf16_sheet_goes_to_the_reference_reader(tmp_path: Path) -> None:
    xml = sheet('<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Växjö</t></is></c>'
                '</row></sheetData>').replace('encoding="UTF-8"', 'encoding="UTF-16"')
    book = sheet_book(tmp_path / "utf16.xlsx", xml.encode("utf-16"))
    assert filled(only_table(book)) == {"A1": ("text", "Växjö", None)}  # by hand
    assert not fast_reads(book)


def test_another_default_namespace_is_read_as_the_reference_reads_it(tmp_path: Path) -> None:
    # the reference reader goes by the names as written, not by namespace: so does the scan
    book = sheet_book(tmp_path / "otherns.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1"><v>1</v></c><y:c xmlns:y="urn:y" r="B1"><y:v>2</y:v>'
        '</y:c></row></sheetData>', root='<worksheet xmlns="urn:not-spreadsheetml">'))
    assert filled(only_table(book)) == {"A1": ("number", "1", None)}  # by hand: y:c is no c
    assert fast_reads(book)


# -- refusals: the same Swedish sentence as before ------------------------------------------

DAMAGED = "Filen {} är skadad och kan inte läsas. Öppna den i Excel och spara om."
UNSAFE = ("Filen {} innehåller XML-deklarationer (DTD/entiteter) som en Excel-fil aldrig har. "
          "Den läses inte.")


@pytest.mark.parametrize("body", [
    '<sheetData><row r="1"><c r="A1"><v>1</v></row></sheetData>',  # <c> never closed
    '<sheetData><row r="1"><c r="A1"><v>1 & 2</v></c></row></sheetData>',  # a bare &
    '<sheetData><row r="1"><c r="A1"><v>&nbsp;</v></c></row></sheetData>',  # no such entity
    '<sheetData><row r="1"><c r="A1" r="B1"><v>1</v></c></row></sheetData>',  # r twice
    '<sheetData><row r="1"><c r="A1"><v>&#0;</v></c></row></sheetData>',  # no such character
], ids=["unclosed", "bare-ampersand", "unknown-entity", "duplicate-attribute", "char-zero"])
def test_malformed_sheet_xml_is_refused_as_damaged(tmp_path: Path, body: str) -> None:
    book = sheet_book(tmp_path / "skadad.xlsx", sheet(body))
    for scan in (True, False):
        with pytest.raises(UnreadableWorkbook) as info:
            read_workbook(book, scan=scan)
        assert str(info.value) == DAMAGED.format("skadad.xlsx")


def test_a_damaged_tail_after_a_limit_is_refused_as_the_reference_refuses_it(tmp_path: Path) -> None:
    # three cells over a limit of two, then XML that never closes: the reference reader meets
    # the limit first, and so must the fast read (it hands the sheet over)
    book = sheet_book(tmp_path / "both.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c><c r="C1"><v>3</v>'
        '</c></row><row r="2"><c r="A2"><v>4</v></sheetData>'))
    for scan in (True, False):
        with pytest.raises(UnsafeWorkbook, match="fler än 2 ifyllda celler"):
            read_workbook(book, Limits(sheet_cells=2), scan=scan)


@pytest.mark.parametrize("xml", [
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "1">]><worksheet xmlns="{ns}">'
    '<sheetData><row r="1"><c r="A1"><v>&a;</v></c></row></sheetData></worksheet>',
    '<?xml version="1.0"?><!DOCTYPE worksheet SYSTEM "http://example.invalid/x.dtd">'
    '<worksheet xmlns="{ns}"><sheetData/></worksheet>',
], ids=["internal-entity", "external-dtd"])
def test_dtd_and_entities_in_a_sheet_are_refused_as_unsafe(tmp_path: Path, xml: str) -> None:
    book = sheet_book(tmp_path / "dtd.xlsx", xml.replace("{ns}", MAIN))
    for scan in (True, False):
        with pytest.raises(UnsafeWorkbook) as info:
            read_workbook(book, scan=scan)
        assert str(info.value) == UNSAFE.format("dtd.xlsx")


def test_limits_are_kept_cells_hidden_rows_and_merges_together(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "limit.xlsx", sheet(
        '<sheetData><row r="1" hidden="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c></row></sheetData>'
        '<mergeCells><mergeCell ref="B2:C2"/></mergeCells>'))
    # by hand: two cells, one hidden row, one merge: four against the limit
    assert read_workbook(book, Limits(sheet_cells=4)) == read_workbook(book, scan=False)
    for scan in (True, False):
        with pytest.raises(UnsafeWorkbook) as info:
            read_workbook(book, Limits(sheet_cells=3), scan=scan)
        assert str(info.value) == (
            "Filen limit.xlsx har fler än 3 ifyllda celler (eller dolda rader och "
            "sammanslagningar) på ett blad; det är orimligt för en planbok. Filen läses inte.")


def test_a_text_over_the_limit_is_refused(tmp_path: Path) -> None:
    book = sheet_book(tmp_path / "long.xlsx", sheet(
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>sex te</t></is></c></row>'
        '</sheetData>'))
    for scan in (True, False):
        with pytest.raises(UnsafeWorkbook, match="har en text på 6 tecken"):
            read_workbook(book, Limits(text_chars=5), scan=scan)


@pytest.mark.parametrize("cell", [
    '<c r="A"><v>1</v></c>',  # no row number
    '<c r="A1" t="s"><v>x</v></c>',  # a shared string index that is none
    '<c r="A1" s="x"><v>1</v></c>',  # a style that is no index
], ids=["reference-without-row", "string-index", "style-index"])
def test_broken_cell_attributes_are_refused_as_damaged(tmp_path: Path, cell: str) -> None:
    book = sheet_book(tmp_path / "attr.xlsx", sheet(f'<sheetData><row r="1">{cell}</row></sheetData>'),
                      strings=["a"])
    for scan in (True, False):
        with pytest.raises(UnreadableWorkbook) as info:
            read_workbook(book, scan=scan)
        assert str(info.value) == DAMAGED.format("attr.xlsx")


# -- the small parts: the C parser's tree, and the same refusals --------------------------

SIMPLE = '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>'


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/tables/table1.xml", "xl/styles.xml",
                                  "xl/sharedStrings.xml", "xl/_rels/workbook.xml.rels"])
def test_a_dtd_in_a_small_part_is_refused_as_unsafe(tmp_path: Path, part: str) -> None:
    book = sheet_book(tmp_path / "liten.xlsx", sheet(SIMPLE), strings=["a"], styles=STYLES)
    with zipfile.ZipFile(book) as zf:
        original = zf.read(part).decode()
    unsafe = original.replace("?>", '?><!DOCTYPE x [<!ENTITY e "1">]>', 1)
    book = sheet_book(tmp_path / "liten.xlsx", sheet(SIMPLE), strings=["a"], styles=STYLES,
                      replace={part: unsafe})
    for scan in (True, False):
        with pytest.raises(UnsafeWorkbook) as info:
            read_workbook(book, scan=scan)
        assert str(info.value) == UNSAFE.format("liten.xlsx")


# (a damaged end of the shared strings, past the last one used: the test after this one)
@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/tables/table1.xml", "xl/styles.xml",
                                  "xl/_rels/workbook.xml.rels"])
def test_a_damaged_small_part_is_refused_as_damaged(tmp_path: Path, part: str) -> None:
    book = sheet_book(tmp_path / "liten.xlsx", sheet(SIMPLE), strings=["a"], styles=STYLES)
    with zipfile.ZipFile(book) as zf:
        original = zf.read(part).decode()
    book = sheet_book(tmp_path / "liten.xlsx", sheet(SIMPLE), strings=["a"], styles=STYLES,
                      replace={part: original[: original.rindex("</")]})  # never closed
    for scan in (True, False):
        with pytest.raises(UnreadableWorkbook) as info:
            read_workbook(book, scan=scan)
        assert str(info.value) == DAMAGED.format("liten.xlsx")


def test_shared_strings_with_runs_and_a_damaged_tail_past_the_last_one_used(tmp_path: Path) -> None:
    # the reference reads shared strings only up to the last one a table cell uses, so a tail
    # it never reaches cannot refuse the file; the C parser's tree would, and hands over
    strings = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"><si><r><t>Fe</t></r>'
               '<r><rPr><b/></rPr><t>t</t></r><rPh sb="0" eb="1"><t>X</t></rPh></si>'
               "<si><t>oanvänd</t></si><si><t>trasig")
    book = sheet_book(tmp_path / "svans.xlsx", sheet(SIMPLE), strings=["a"],
                      replace={"xl/sharedStrings.xml": strings})
    # by hand: the runs' texts joined, the phonetic run left out
    assert filled(only_table(book)) == {"A1": ("text", "Fet", None)}
