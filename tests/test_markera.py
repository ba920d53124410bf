"""`xlplan validate FILE --markera OUT.xlsx`: the Validera button's marks on a copy, the input
untouched; and how the templates and the marked copy print (LibreOffice to PDF)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import coordinate_from_string

from tests.support.engine import recalculate
from tests.support.plan import budgetram, full_plan
from tests.support.xlbook import actions, remote_book
from xlplan import excel

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlplan", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marked_before(tmp: Path) -> Path:
    """A planbok with one wrong total (D8: the rows give 175.4) and, from an earlier run, a
    red mark on E5 listed in an old Kontroll sheet."""
    t = budgetram()
    t.totals = list(t.totals or [])
    t.totals[2] = 176.4  # 1,0 off: beyond one unit (0,1) of rounding, an error
    path = full_plan(tmp, Budgetram=t)
    wb = openpyxl.load_workbook(path)
    wb["Budgetram"]["E5"].fill = PatternFill(fill_type="solid", fgColor="FFFFC7CE")
    old = wb.create_sheet("Kontroll")
    for row in (["Kontroll av hsn.xlsx: 1 fel"], [], excel.KONTROLL_HEADER,
                ["Fel", "summeringsfel", "Budgetram", "E5", "gammalt fel"]):
        old.append(row)
    wb.save(path)
    return path


def fills(path: Path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.fill.fill_type == "solid":
                    out[(ws.title, cell.coordinate)] = str(cell.fill.fgColor.rgb)[-6:].upper()
    return out


def test_marked_copy_has_the_buttons_marks_and_kontroll(tmp_path: Path) -> None:
    source = marked_before(tmp_path)
    before = sha(source)
    out = tmp_path / "markerad.xlsx"
    result = run("validate", source.name, "--markera", out.name, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the planbok has an error
    assert f"Skrev en markerad kopia: {out.name}" in result.stdout
    assert sha(source) == before  # the input is never written

    marks = fills(out)
    assert marks[("Budgetram", "D8")] == "FFC7CE"  # the error: light red
    assert ("Budgetram", "E5") not in marks  # the earlier mark is cleared ...
    wb = openpyxl.load_workbook(out)
    assert wb["Budgetram"]["E5"].number_format == "#,##0.0"  # ... its number format restored
    rows = [list(r) for r in wb["Kontroll"].iter_rows(values_only=True)]
    assert re.match(r"Kontroll av hsn\.xlsx: 1 fel, \d+ varningar – ", rows[0][0])
    assert rows[2] == excel.KONTROLL_HEADER
    errors = [r for r in rows[3:] if r[0] == "Fel"]
    assert [r[:4] for r in errors] == [["Fel", "summeringsfel", "Budgetram", "D8"]]
    assert "gammalt fel" not in str(rows)

    # the same marks the button makes on the same workbook (an xlwings Book of it)
    book = remote_book(source)
    excel.validera(book)
    names = [s.name for s in book.sheets]
    by_button = set()
    for a in actions(book):
        if a["func"] == "setRangeColor":
            col = openpyxl.utils.get_column_letter(a["start_column"] + 1)
            by_button.add((names[a["sheet_position"]], f"{col}{a['start_row'] + 1}",
                           a["args"][0].lstrip("#").upper()))
    in_copy = {(s, c, colour) for (s, c), colour in marks.items()}
    assert by_button <= in_copy  # every mark of the button is in the copy
    # the file route also checks formulas (a Book has values only): any extra mark is such
    extra = {(s, c) for s, c, _ in in_copy - by_button}
    formula_findings = {(r[2], r[3]) for r in rows[3:] if r[1] and "formel" in r[1]}
    assert extra <= formula_findings


def test_marked_copy_refuses_to_overwrite(tmp_path: Path) -> None:
    source = full_plan(tmp_path)
    before = sha(source)
    same = run("validate", source.name, "--markera", source.name, cwd=tmp_path)
    assert same.returncode == 2 and "skriva över planboken" in same.stderr
    xlsx_alias = run("validate", source.name, "--markera", f"./{source.name}", cwd=tmp_path)
    assert xlsx_alias.returncode == 2
    existing = tmp_path / "finns.xlsx"
    existing.write_bytes(b"mine")
    result = run("validate", source.name, "--markera", existing.name, cwd=tmp_path)
    assert result.returncode == 2 and "finns redan" in result.stderr
    assert existing.read_bytes() == b"mine"
    macro = run("validate", source.name, "--markera", "kopia.xlsm", cwd=tmp_path)
    assert macro.returncode == 2 and ".xlsx" in macro.stderr
    two = run("validate", source.name, source.name, "--markera", "k.xlsx", cwd=tmp_path)
    assert two.returncode == 2 and "en planbok i taget" in two.stderr
    assert sha(source) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["finns.xlsx", "hsn.xlsx"]


def test_an_unreadable_file_gives_no_copy(tmp_path: Path) -> None:
    bad = tmp_path / "trasig.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = run("validate", bad.name, "--markera", "k.xlsx", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "k.xlsx").exists()


# --- printing ------------------------------------------------------------------------------


def pdf_pages(pdf: Path) -> list[tuple[float, float, str]]:
    """(width, height, text) of every page (poppler's pdfinfo and pdftotext)."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    pages = []
    for i, (w, h) in enumerate(sizes, start=1):
        text = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        pages.append((w, h, text))
    return pages


def titles(path: Path) -> list[str]:
    """The first text of each visible sheet (its title, or its first header)."""
    wb = openpyxl.load_workbook(path)
    return [next(str(v) for row in ws.iter_rows(values_only=True) for v in row
                 if isinstance(v, str) and v.strip())
            for ws in wb.worksheets if ws.sheet_state == "visible"]


def assert_one_page_per_sheet(path: Path, out: Path) -> None:
    pages = pdf_pages(recalculate(path, out, fmt="pdf"))
    sheets = titles(path)
    # every sheet fits on one landscape page (one page wide; these are short): a sheet that
    # spilled to a second page across would add pages and shift the titles below
    assert len(pages) == len(sheets), (len(pages), sheets)
    for (w, h, text), title in zip(pages, sheets, strict=True):
        assert w > h  # landscape
        # the sheet's first words on its page (a narrow column may cut a header short)
        assert " ".join(title.split())[:8] in " ".join(text.split()), (title, text[:80])


def test_template_prints_one_page_wide_per_sheet(tmp_path: Path) -> None:
    assert_one_page_per_sheet(ROOT / "workbooks" / "planbok-mall.xlsx", tmp_path / "mall")


def test_marked_copy_prints_one_page_wide_per_sheet(tmp_path: Path) -> None:
    source = marked_before(tmp_path)
    out = tmp_path / "markerad.xlsx"
    assert run("validate", source.name, "--markera", out.name, cwd=tmp_path).returncode == 1
    assert_one_page_per_sheet(out, tmp_path / "pdf")


def test_table_header_rows_repeat_when_printed(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(ROOT / "workbooks" / "planbok-mall.xlsx")
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1), ws.title  # absent means 1
        assert ws.page_setup.fitToHeight == 0, ws.title  # as many pages tall as needed
        if ws.tables:
            [table] = ws.tables.values()
            header_row = coordinate_from_string(table.ref.split(":")[0])[1]
            assert ws.print_title_rows.replace("$", "") == f"{header_row}:{header_row}", ws.title
            for cell in ws[header_row]:
                if cell.value:  # wide enough for the header: about a character a unit
                    [width] = [d.width for d in ws.column_dimensions.values()
                               if d.min <= cell.column <= d.max]
                    assert width >= len(str(cell.value)) + 2, (ws.title, cell.value, width)


def test_a_name_without_stem_gets_a_message_that_says_so(tmp_path: Path) -> None:
    source = full_plan(tmp_path)
    result = run("validate", source.name, "--markera", ".xlsx", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("Den markerade kopian behöver ett namn före .xlsx, t.ex. "
                                     "planbok-markerad.xlsx.")


def test_a_file_made_after_the_check_is_never_overwritten(tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    import pytest

    from xlplan import markera
    from xlplan.errors import OutputError
    from xlplan.validation import validate

    source = full_plan(tmp_path)
    out = tmp_path / "kopia.xlsx"
    check = markera.check_target

    def check_then_someone_writes(src: Path, target: Path) -> None:
        check(src, target)  # passes: no file yet ...
        target.write_bytes(b"someone else's")  # ... and then another program makes one

    monkeypatch.setattr(markera, "check_target", check_then_someone_writes)
    with pytest.raises(OutputError, match="finns redan"):
        markera.write_marked_copy(source, out, validate(source))
    assert out.read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hsn.xlsx", "kopia.xlsx"]  # no temp


def test_the_marked_copy_of_an_xlsm_has_no_start_sheet_without_buttons(tmp_path: Path) -> None:
    from xlplan.template import new_planbok

    source = tmp_path / "hsn.xlsm"
    new_planbok(source, "HSN", 2027)
    assert "Start" in openpyxl.load_workbook(source).sheetnames
    result = run("validate", source.name, "--markera", "kopia.xlsx", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    names = openpyxl.load_workbook(tmp_path / "kopia.xlsx").sheetnames
    assert "Start" not in names and "xlwings.conf" not in names and "Kontroll" in names
