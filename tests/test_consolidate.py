"""Consolidation of an inbox built here from literal rows (tests/support/inbox.py: the
region 2025, hand-worked there)."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.support.books import (
    TJ,
)
from tests.support.cli import sha256, xlplan
from tests.support.inbox import Y, book, hashes, hsn, inbox, rs, run_
from tests.support.pg import postgres
from xlplan.consolidation import consolidate
from xlplan.errors import ConsolidationRefused
from xlplan.region_json import region_to_json


def test_region_figures_and_controls(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    before = hashes(folder)
    outcome = consolidate(folder, tmp_path / "region.xlsx")
    assert hashes(folder) == before
    r = region_to_json(outcome.region)
    assert r["budgetar"] == Y and r["namnder"] == ["HSN", "RS", "RUN"]
    assert r["netto"] == {"HSN": "-1253", "RS": "-390", "RUN": "-65"}
    assert (r["region_netto"], r["finansiering"], r["resultat"]) == ("-1708", "1680", "-28")
    assert r["investeringar_per_budgetansvar_tkr"] == {"HSN": "3000", "RS": "10500"}
    assert r["interna_poster"]["residual"] == "0"
    assert {t["diarienummer"]: t["status"] for t in r["omdisponeringar"]} == {
        "RS/482/2024": "ok", "RS/500/2024": "omatchad"}
    files = {f["fil"]: f for f in r["filer"]}
    assert set(files) == {"hsn-gammal.xlsx", "hsn.xlsx", "rs.xlsx", "run.xlsx", "trasig.xlsx"}
    assert files["hsn.xlsx"]["anvand"] and not files["hsn-gammal.xlsx"]["anvand"]
    assert "hsn.xlsx är nyare" in files["hsn-gammal.xlsx"]["orsak"]
    assert not files["trasig.xlsx"]["anvand"] and "inte en Excel" in files["trasig.xlsx"]["orsak"]
    assert files["rs.xlsx"]["sha256"] == before["rs.xlsx"]
    codes = [(k["fil"], k["code"]) for k in r["kontroll"]]
    assert ("hsn.xlsx", "omdisponering-omatchad") in codes
    assert ("rs.xlsx", "over-investeringsram") in codes  # 10 500 tkr incl. HSN's Röntgen
    assert not any(c == "interna-poster-obalans" for _, c in codes)
    unmatched = next(k for k in r["kontroll"] if k["code"] == "omdisponering-omatchad")
    assert "hsn.xlsx (Ramförändringar!G5)" in unmatched["message"]
    assert "RS (rs.xlsx)" in unmatched["message"]
    assert outcome.region.inputs_with_errors


def test_unequal_amounts_name_both_files_and_cells(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hsn(folder / "hsn.xlsx")
    book(folder / "rs.xlsx", "RS", [["Staben", TJ, 1, 0, 0, 0, 0, 0, 0, 1]],
         transfers=[["Omdisponering", "Samordning", "RS/482/2024", "HSN", "RS", 4.2, 4.5, 4.5]])
    r = consolidate(folder, tmp_path / "o.xlsx").region
    # −4,5 at HSN against +4,2 at RS: 0,3 apart, beyond one unit (0,1) of either figure
    [f] = [f for f in r.findings if f.code == "omdisponering-olika-belopp"]
    assert f.actual == Decimal("-0.3")
    assert "hsn.xlsx (Ramförändringar!G4)" in f.message and "rs.xlsx (Ramförändringar!G4)" in f.message


def test_output_workbook_read_back(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    out = tmp_path / "region.xlsx"
    consolidate(folder, out)
    wb = openpyxl.load_workbook(out)
    assert {"Översikt", "Budgetram", "Ramförändringar", "Investeringar", "Omdisponeringar",
            "Kontroll", "Förändringar", "Manifest", "Finansiering"} <= set(wb.sheetnames)
    ov = wb["Översikt"]
    names = {t.displayName: t.ref for t in ov.tables.values()}
    assert names["OversiktNamnder"] == "A5:C9"  # three nämnder and the region's total
    assert [c.value for c in ov[5]][:3] == ["Nämnd", "Namn", "Nettobudget"]
    assert [(ov.cell(r, 1).value, ov.cell(r, 3).value) for r in range(6, 9)] == [
        ("HSN", -1253), ("RS", -390), ("RUN", -65)]
    assert ov.cell(9, 1).value == "Regionen" and ov.cell(9, 3).value.startswith("=SUBTOTAL(109")
    inv = wb["Investeringar"]
    rows = [[c.value for c in row] for row in inv.iter_rows(min_row=5, max_row=7, max_col=9)]
    # a blank År is the budget year
    assert ["RS", "HSN", "begärd av HSN", "Medicin", "Röntgen", "Nyinvestering", "Medicinteknik",
            2025, 8500] in rows
    budget = wb["Budgetram"]
    run_row = next(row for row in budget.iter_rows(values_only=True) if row[0] == "RUN")
    assert run_row[3] == 5  # 5 000 tkr shown in mkr
    manifest = wb["Manifest"]
    shas = {row[0]: row[2] for row in manifest.iter_rows(min_row=9, values_only=True)}
    assert shas["rs.xlsx"] == sha256(folder / "rs.xlsx")


def test_no_text_from_a_workbook_becomes_a_formula(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hostile = ['=HYPERLINK("http://angripare.example","Klicka")', "+1+1", "-2+3", "@SUM(A1)",
               "\tTAB", "\rCR"]
    rows = [[name, TJ, 1, 0, 0, 0, 0, 0, 0, 1] for name in hostile]
    path = book(folder / "rs.xlsx", "RS", rows)
    wb = openpyxl.load_workbook(path)  # openpyxl would make "=..." a formula; store them as text
    ws = wb["Budgetram"]
    for i, name in enumerate(hostile):
        ws.cell(4 + i, 2).value = name
        ws.cell(4 + i, 2).data_type = "s"
    wb.save(path)
    out = tmp_path / "region.xlsx"
    consolidate(folder, out)
    result = openpyxl.load_workbook(out)
    formulas = [c.value for ws in result.worksheets for row in ws.iter_rows()
                for c in row if c.data_type == "f"]
    # the only formulas are the totals rows xlplan writes itself
    assert formulas and all(f.startswith("=SUBTOTAL(109,") for f in formulas), formulas
    texts = {c.value for row in result["Budgetram"].iter_rows() for c in row}
    assert '=HYPERLINK("http://angripare.example","Klicka")' in texts and "@SUM(A1)" in texts


def test_mixed_years_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rs(folder / "rs.xlsx")
    hsn(folder / "hsn-2026.xlsx", year=2026)
    out = tmp_path / "region.xlsx"
    with pytest.raises(ConsolidationRefused, match=r"blandar budgetår .*2025: rs.xlsx.*2026: "
                                                   r"hsn-2026.xlsx"):
        consolidate(folder, out)
    assert not out.exists()
    result = xlplan("consolidate", str(folder), "--out", str(out), "--ingen-historik")
    assert result.returncode == 2 and "blandar budgetår" in result.stderr and not out.exists()
    # an existing history keeps what it holds (a run recorded in it first)
    db = tmp_path / "historik.db"
    (folder / "hsn-2026.xlsx").unlink()
    assert consolidate(folder, out, database=f"sqlite:///{db}", month="2025-03").history_note == ""
    hsn(folder / "hsn-2026.xlsx", year=2026)
    before = db.read_bytes()
    with pytest.raises(ConsolidationRefused):
        consolidate(folder, tmp_path / "igen.xlsx", database=f"sqlite:///{db}")
    assert db.read_bytes() == before


def test_empty_inbox_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tom").mkdir()
    (tmp_path / "tom" / "~$lås.xlsx").write_bytes(b"x")
    with pytest.raises(ConsolidationRefused, match="tom"):
        consolidate(tmp_path / "tom", tmp_path / "o.xlsx")


def test_expected_nämnd_missing(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rs(folder / "rs.xlsx")
    r = consolidate(folder, tmp_path / "o.xlsx", expected=["RS", "KTN"]).region
    assert [f.message for f in r.findings if f.code == "namnd-saknas"] == [
        "Planbok saknas för KTN."]


def two_months(tmp: Path, database: str) -> tuple[Any, Any]:
    folder = inbox(tmp)
    first = consolidate(folder, tmp / "mars.xlsx", database=database, month="2025-03")
    rs(folder / "rs.xlsx", staben_personal=-310.0)  # April: Regionstaben −390 → −400
    second = consolidate(folder, tmp / "april.xlsx", database=database, month="2025-04")
    return first, second


def _changes_sheet(path: Path) -> list[tuple[Any, ...]]:
    ws = openpyxl.load_workbook(path)["Förändringar"]
    return [row for row in ws.iter_rows(min_row=5, values_only=True) if row[0]]


def check_two_months(tmp: Path, first: Any, second: Any) -> None:
    assert first.changes == 0 and "Ingen tidigare" in str(
        openpyxl.load_workbook(tmp / "mars.xlsx")["Förändringar"]["A4"].value)
    rows = _changes_sheet(tmp / "april.xlsx")
    assert ("RS", "Områdets netto (mkr)", "Regionstaben", "ändrad", -390, -400, -10) in rows
    assert ("RS", "Nettobudget (mkr)", "Totalt", "ändrad", -390, -400, -10) in rows
    assert len(rows) == 2


def test_history_and_changes_on_sqlite(tmp_path: Path) -> None:
    first, second = two_months(tmp_path, f"sqlite:///{tmp_path / 'historik.db'}")
    check_two_months(tmp_path, first, second)
    trend = openpyxl.load_workbook(tmp_path / "april.xlsx")["Trend"]
    header = [c.value for c in trend[4]]
    assert header == ["Nämnd", "2025-03", "2025-04"]
    rs_row = next(row for row in trend.iter_rows(min_row=5, values_only=True) if row[0] == "RS")
    assert rs_row == ("RS", -390, -400)  # March (from the history), then this run


def test_history_and_changes_on_postgresql(tmp_path: Path) -> None:
    from xlplan.store import HistoryStore

    with postgres() as url:
        first, second = two_months(tmp_path, url)
        check_two_months(tmp_path, first, second)
        trend = HistoryStore(url).trend(Y)
        assert [(n, v) for _, n, v in trend if n == "RS"] == [("RS", Decimal(-390)),
                                                              ("RS", Decimal(-400))]


def test_history_unavailable_still_writes_the_workbook(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    outcome = consolidate(folder, tmp_path / "o.xlsx",
                          database=f"sqlite:///{tmp_path / 'saknas' / 'x.db'}")
    assert (tmp_path / "o.xlsx").exists()
    assert "Historiken kunde inte läsas" in outcome.history_note


def test_cli_json_and_exit_codes(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    out = tmp_path / "region.xlsx"
    result = xlplan("consolidate", str(folder), "--out", str(out), "--format", "json",
                    "--db", f"sqlite:///{tmp_path / 'h.db'}")
    assert result.returncode == 1, result.stderr  # trasig.xlsx and the unmatched transfer
    r = json.loads(result.stdout)
    assert set(r) >= {"budgetar", "namnder", "netto", "region_netto", "finansiering", "resultat",
                      "investeringar_per_budgetansvar_tkr", "filer"}
    assert all(set(f) >= {"fil", "namnd", "sha256", "fel", "varningar", "anvand"}
               for f in r["filer"])
    clean = tmp_path / "ren"
    clean.mkdir()
    rs(clean / "rs.xlsx")
    run_(clean / "run.xlsx")
    ok = xlplan("consolidate", str(clean), "--out", str(tmp_path / "ren.xlsx"), "--ingen-historik")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Regionens netto −455,0 mkr" in ok.stdout  # −390 − 65


def test_a_large_inbox_is_streamed_with_the_same_rows(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # above STREAM_FILES files the workbook is written in constant memory: the same rows,
    # an autofilter instead of an Excel table object
    from xlplan.io import region_writer

    monkeypatch.setattr(region_writer, "STREAM_FILES", 3)
    folder = inbox(tmp_path)
    out = tmp_path / "stor.xlsx"
    consolidate(folder, out)
    wb = openpyxl.load_workbook(out)
    budget = wb["Budgetram"]
    assert budget.auto_filter.ref and not budget.tables
    rows = [r for r in budget.iter_rows(min_row=5, values_only=True) if r[0]]
    assert [r[0] for r in rows][-1] == "Summa"  # the totals row, last
    assert sorted(r[0] for r in rows[:-1]) == ["HSN", "HSN", "RS", "RUN"]
    assert str(rows[-1][3]).startswith("=SUBTOTAL(109,D5:D8")
    assert ("RUN", "Kultur", "Tjänstemannabudget", 5, 0, -20, 0, -10, 0, -40, -65) in rows  # blank = 0
    inv = [r for r in wb["Investeringar"].iter_rows(min_row=5, max_row=7, values_only=True)]
    assert ("RS", "HSN", "begärd av HSN") in [r[:3] for r in inv]


def test_a_stale_rapportmanad_is_flagged(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    book(folder / "rs.xlsx", "RS", [["A", TJ, 1, 0, 0, 0, 0, 0, 0, 1]], Rapportmånad="2025-04")
    book(folder / "run.xlsx", "RUN", [["A", TJ, 1, 0, 0, 0, 0, 0, 0, 1]], Rapportmånad="2025-04")
    book(folder / "ktn.xlsx", "KTN", [["A", TJ, 1, 0, 0, 0, 0, 0, 0, 1]], Rapportmånad="2025-02")
    r = consolidate(folder, tmp_path / "o.xlsx").region
    stale = [(f.file, f.message) for f in r.findings if f.code == "inaktuell-rapportmanad"]
    assert stale == [("ktn.xlsx", "ktn.xlsx (KTN) avser rapportmånad 2025-02, de flesta andra "
                                  "2025-04. Är det en gammal fil?")]


def test_an_inbox_of_unreadable_files_is_refused_in_one_short_line(tmp_path: Path) -> None:
    """Every file unreadable: the refusal names the first ten and counts the rest (1 000
    files made one line of 149 kB)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        (folder / f"trasig{i:02}.xlsx").write_bytes(b"inte en arbetsbok")
    with pytest.raises(ConsolidationRefused) as caught:
        consolidate(folder, tmp_path / "ut.xlsx", cache=False)
    message = caught.value.message
    assert message.startswith("Ingen planbok i inkorgen kunde användas: trasig00.xlsx: ")
    assert "trasig09.xlsx" in message and "trasig10.xlsx" not in message
    assert message.endswith("; och 2 filer till (xlplan validate visar varför).")


@pytest.mark.parametrize("streamed", [False, True])
def test_an_unusable_newest_file_is_not_replaced_by_an_older_one(
        tmp_path: Path, streamed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # HSN sent a planbok yesterday (usable) and a corrected one today with text in an amount
    # (unusable). Today's is HSN's planbok for this run: yesterday's figures are ones HSN
    # replaced, so HSN is not in the region (it says why), rather than silently yesterday's
    if streamed:
        import xlplan.io.region_writer as writer

        monkeypatch.setattr(writer, "STREAM_FILES", 0)
    folder = tmp_path / "inkorg"
    folder.mkdir()
    old = hsn(folder / "hsn-igår.xlsx")
    os.utime(old, (time.time() - 86400, time.time() - 86400))
    book(folder / "hsn-idag.xlsx", "HSN", [
        ["Division Medicin", TJ, 80.0, "40 ca", -900.0, -300.0, -100.0, -10.0, -60.0, -1250.0]])
    rs(folder / "rs.xlsx")
    outcome = consolidate(folder, tmp_path / "region.xlsx", cache=False)
    r = outcome.region
    assert sorted(r.netto) == ["RS"]  # −390, RS alone
    status = {f.name: (f.used, f.reason) for f in r.files}
    assert status["rs.xlsx"] == (True, "")
    assert status["hsn-idag.xlsx"][0] is False
    assert status["hsn-igår.xlsx"] == (False, "dubblett: hsn-idag.xlsx är nyare för HSN; den "
                                       "kunde inte användas, så HSN saknas i sammanställningen")
    # the Kontroll sheet lists today's findings (the text in E4); of yesterday's file only
    # why it was not used
    ws = openpyxl.load_workbook(tmp_path / "region.xlsx")["Kontroll"]
    rows = [row for row in ws.iter_rows(values_only=True) if row and row[0] in (
        "hsn-idag.xlsx", "hsn-igår.xlsx")]
    assert ("hsn-idag.xlsx", "ej-tal", "E4") in {(r[0], r[2], r[4]) for r in rows}
    assert [r[2] for r in rows if r[0] == "hsn-igår.xlsx"] == ["fil-oanvand"]


def test_a_duplicate_names_the_file_used(tmp_path: Path) -> None:
    # three files for RS: the newest is used, and both older ones name it (not each other)
    folder = tmp_path / "inkorg"
    folder.mkdir()
    for age, name in ((2, "rs-1.xlsx"), (1, "rs-2.xlsx"), (0, "rs-3.xlsx")):
        path = rs(folder / name)
        os.utime(path, (time.time() - age * 3600, time.time() - age * 3600))
    r = consolidate(folder, tmp_path / "region.xlsx", cache=False).region
    assert {f.name: f.reason for f in r.files} == {
        "rs-1.xlsx": "dubblett: rs-3.xlsx är nyare för RS",
        "rs-2.xlsx": "dubblett: rs-3.xlsx är nyare för RS", "rs-3.xlsx": ""}
    # the same time: the last name decides, and the reason does not claim it is newer
    same = time.time() - 7200
    for name in ("rs-1.xlsx", "rs-2.xlsx", "rs-3.xlsx"):
        os.utime(folder / name, (same, same))
    r = consolidate(folder, tmp_path / "region.xlsx", cache=False).region
    assert {f.name: f.reason for f in r.files}["rs-1.xlsx"] == (
        "dubblett: rs-3.xlsx har samma ändringstid och kommer sist i namnordning för RS")


def test_a_file_never_read_is_told_apart_from_one_read_and_not_used(tmp_path: Path) -> None:
    # the test inbox: trasig.xlsx is no workbook (never read), hsn-gammal.xlsx was read and
    # validated but is an older duplicate; neither is used
    folder = inbox(tmp_path)
    result = xlplan("consolidate", str(folder), "--out", str(tmp_path / "r.xlsx"),
                    "--ingen-historik")
    lines = {line.split(":", 1)[0].strip(): line for line in result.stdout.splitlines()}
    assert "fel" not in lines["trasig.xlsx"].split("används inte")[0]  # no "0 fel": never read
    # yet its content is named by its hash, as every input's (the Manifest, the JSON)
    as_json = json.loads(xlplan("consolidate", str(folder), "--out", str(tmp_path / "j.xlsx"),
                                "--ingen-historik", "-f", "json").stdout)
    [broken] = [f for f in as_json["filer"] if f["fil"] == "trasig.xlsx"]
    assert broken["sha256"] == sha256(folder / "trasig.xlsx")
    assert lines["hsn-gammal.xlsx"].startswith("  hsn-gammal.xlsx: 0 fel, 1 varning – "
                                               "används inte: dubblett: hsn.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["Översikt"]
    from openpyxl.utils import range_boundaries

    c1, r1, _, r2 = range_boundaries(ws.tables["OversiktFiler"].ref)
    status = {ws.cell(r, c1 + 1).value: ws.cell(r, c1 + 4).value for r in range(r1 + 1, r2 + 1)}
    assert (status["trasig.xlsx"], status["hsn-gammal.xlsx"], status["hsn.xlsx"]) == (
        "oläsbar", "ej använd", "används")
    counts = {ws.cell(r, c1 + 1).value: (ws.cell(r, c1 + 2).value, ws.cell(r, c1 + 3).value)
              for r in range(r1 + 1, r2 + 1)}
    assert counts["trasig.xlsx"] == (None, None) and counts["hsn-gammal.xlsx"] == (0, 1)
