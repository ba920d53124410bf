"""Render the README's pictures from the demo, as a user would see them.

    python scripts/render_pictures.py [--out docs]

1. ``planbok-validerad.png`` and ``planbok-kontroll.png``: the demo's HSN planbok after the
   Validera button. The button's handler (``xlplan.excel.validera``) runs on xlwings' remote
   Book built from the file (as in the tests); the actions it returns for Excel (cell
   colours, the Kontroll sheet) are replayed onto a copy with openpyxl.
2. ``oversikt.png``: the Översikt of the demo inbox's Regionsammanställning.

Each is printed by LibreOffice (headless, Swedish locale so numbers read ``1 754,2``) to PDF
and turned into PNG by pdftoppm (poppler-utils). Needs the test extra (openpyxl, xlwings).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


def to_png(xlsx: Path, png: Path, work: Path, resolution: int = 110) -> None:
    """First page of ``xlsx`` printed by LibreOffice, as ``png``."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("LibreOffice (soffice) saknas: apt-get install libreoffice-calc-nogui")
    env = {**os.environ, "HOME": str(work), "LANG": "sv_SE.UTF-8", "LC_ALL": "sv_SE.UTF-8"}
    subprocess.run([soffice, f"-env:UserInstallation=file://{work / 'lo'}", "--headless",
                    "--calc", "--convert-to", "pdf", "--outdir", str(work), str(xlsx)],
                   check=True, capture_output=True, timeout=180, env=env)
    pdf = work / (xlsx.stem + ".pdf")
    stem = work / xlsx.stem
    x, y, w, h = content_box(pdf, resolution)
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), "-f", "1", "-l", "1",
                    "-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h),
                    "-singlefile", str(pdf), str(stem)], check=True, timeout=60)
    shutil.move(str(stem) + ".png", png)


def content_box(pdf: Path, resolution: int, margin: float = 14) -> tuple[int, int, int, int]:
    """The part of page 1 with text on it (the footer left out), in pixels: (x, y, w, h)."""
    import re

    xml = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', xml)
    assert page is not None, "pdftotext gav ingen sida"
    height = float(page.group(2))
    boxes = [tuple(map(float, m)) for m in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', xml)]
    boxes = [b for b in boxes if b[1] < height - 50]  # not the footer
    x0 = max(min(b[0] for b in boxes) - margin, 0)
    y0 = max(min(b[1] for b in boxes) - margin, 0)
    x1 = max(b[2] for b in boxes) + margin
    y1 = max(b[3] for b in boxes) + margin
    scale = resolution / 72
    return (round(x0 * scale), round(y0 * scale), round((x1 - x0) * scale),
            round((y1 - y0) * scale))


def replay(path: Path, actions: list[dict[str, Any]], out: Path) -> None:
    """Do to a copy of ``path`` what Excel does with the handler's actions."""
    import openpyxl
    from openpyxl.styles import PatternFill

    wb = openpyxl.load_workbook(path)
    for a in actions:
        func = a["func"]
        if func == "addSheet":
            index, name = a["args"]
            wb.create_sheet(name, index)
            continue
        if func not in ("setRangeColor", "setValues"):
            continue
        ws = wb.worksheets[a["sheet_position"]]
        row, col = a["start_row"] + 1, a["start_column"] + 1
        if func == "setRangeColor":
            colour = a["args"][0].lstrip("#").upper()
            for r in range(row, row + a["row_count"]):
                for c in range(col, col + a["column_count"]):
                    ws.cell(r, c).fill = PatternFill("solid", start_color=colour, end_color=colour)
        else:
            for r, values in enumerate(a["values"], start=row):
                for c, value in enumerate(values, start=col):
                    if value not in ("", None):
                        ws.cell(r, c).value = value
    wb.save(out)


def only(path: Path, sheet: str, out: Path, widths: dict[str, float] | None = None) -> Path:
    """A copy of ``path`` with only ``sheet``, printed landscape, one page wide."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for name in wb.sheetnames:
        if name != sheet:
            del wb[name]
    ws = wb[sheet]
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for col, width in (widths or {}).items():
        ws.column_dimensions[col].width = width
    wb.save(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from tests.support.xlbook import actions, remote_book
    from xlplan.consolidation import consolidate
    from xlplan.demo import hsn as demo_hsn
    from xlplan.demo import write_demo
    from xlplan.excel import validera
    from xlplan.template import write_planbok

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = write_demo(work / "inkorg")
        hsn = next(p for p in paths if "HSN" in p.name)
        book = remote_book(hsn, name=hsn.name)
        validera(book)
        marked = work / "markerad.xlsx"
        replay(hsn, actions(book), marked)
        to_png(only(marked, "Budgetram", work / "budgetram.xlsx"),
               args.out / "planbok-validerad.png", work, resolution=130)
        to_png(only(marked, "Kontroll", work / "kontroll.xlsx",
                    {"A": 11, "B": 24, "C": 14, "D": 7, "E": 120}),
               args.out / "planbok-kontroll.png", work, resolution=150)
        # the month after: HSN has mended its slips (a planbok whose figures cannot all be
        # computed is not used in the consolidation, and the Översikt shows every nämnd)
        hsn.unlink()
        write_planbok(hsn, demo_hsn(slips=False))
        region = work / "Regionsammanstallning.xlsx"
        consolidate(work / "inkorg", region, region_name="Region Exempel", cache=False)
        # the whole workbook: its first page is Översikt, with its own page setup and charts
        to_png(region, args.out / "oversikt.png", work, resolution=130)
    for name in ("planbok-validerad.png", "planbok-kontroll.png", "oversikt.png"):
        print(args.out / name)


if __name__ == "__main__":
    main()
