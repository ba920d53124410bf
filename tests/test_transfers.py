"""Ramförändringar seen from the nämnd (money in positive), transfers between nämnder and
inside one nämnd, diarienummer with ``:``. Every figure worked by hand in the comments.

The pair HSN/RS 2025 (mkr):
  HSN Nettoram T −914.5 → −920.0, F −3.0 → −3.0: received (−917.5) − (−923.0) = +5.5
      = Uppräkning +10.0, Omdisponering RS/482/2024 to RS −4.5
      Budgetram: Medicin T 80.0 − 1000.0 = −920.0; Nämnden F −3.0
  RS  Nettoram T −383.5 → −390.0: received +6.5 = Uppräkning +2.0, RS/482/2024 from HSN +4.5
      Budgetram: Staben T 20.0 − 410.0 = −390.0
  Across the nämnder RS/482/2024 nets to −4.5 + 4.5 = 0.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.books import (
    BUDGETRAM_HEADER,
    FT,
    TJ,
    T,
    info,
    nettoram_header,
    ramforandring_header,
    write_book,
)
from tests.support.cli import xlplan
from xlplan import validate
from xlplan.consolidation import consolidate
from xlplan.validation import Report

Y = 2025


def quiet(report: Report) -> bool:
    return {f.code for f in report.findings if f.severity.value == "warning"} <= {
        "formel-overskriven"}


def planbok(path: Path, namnd: str, budget: list[list[Any]], frame: list[list[Any]],
            changes: list[list[Any]], **fields: Any) -> Path:
    return write_book(
        path, info(namnd, Y, **fields),
        T("Budgetram", BUDGETRAM_HEADER, budget, sheet="Budgetram"),
        T("Nettoram", nettoram_header(Y), frame, sheet="Budgetram", at="B12"),
        T("Ramforandringar", ramforandring_header(Y), changes, sheet="Ramförändringar"))


def hsn(path: Path) -> Path:
    return planbok(path, "HSN", [
        ["Division Medicin", TJ, 80.0, None, -1000.0, None, None, None, None, -920.0],
        ["Nämnden", FT, None, None, -3.0, None, None, None, None, -3.0],
    ], [[TJ, -914.5, -920.0, None, None], [FT, -3.0, -3.0, None, None]], [
        ["Uppräkning", "LPIK", None, None, None, 10.0, None, None],
        ["Omdisponering", "Samordning till RS", "RS/482/2024", "HSN", "RS", -4.5, None, None],
    ])


def rs(path: Path, extra: list[list[Any]] | None = None) -> Path:
    return planbok(path, "RS", [
        ["Regionstaben", TJ, 20.0, None, -410.0, None, None, None, None, -390.0],
    ], [[TJ, -383.5, -390.0, None, None]], [
        ["Uppräkning", "LPIK", None, None, None, 2.0, None, None],
        ["Omdisponering", "Samordning från HSN", "RS/482/2024", "HSN", "RS", 4.5, None, None],
        *(extra or []),
    ], Diarienummer="RS/216:13/2019")


def test_one_pair_satisfies_the_reconciliation_and_the_cross_namnd_check(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [hsn(folder / "hsn.xlsx"), rs(folder / "rs.xlsx")]
    for path in paths:
        report = validate(path)  # the nets are typed numbers here: formel-overskriven only
        assert report.errors == 0 and quiet(report), report.findings
    summaries = [json.loads(xlplan("summary", str(p), "-f", "json").stdout) for p in paths]
    assert [(s["nettoram"]["tillfort"], s["nettoram"]["forklarad_av_ramforandringar"],
             s["nettoram"]["oforklarad"]) for s in summaries] == [
        ("5.5", "5.5", "0"), ("6.5", "6.5", "0")]
    # the frame itself moved the other way: −920.0 − (−914.5) = −5.5
    assert summaries[0]["nettoram"]["forandring"] == "-5.5"
    region = consolidate(folder, tmp_path / "region.xlsx").region
    assert [(t.diarienummer, t.status, t.netto_mkr) for t in region.transfers] == [
        ("RS/482/2024", "ok", Decimal(0))]
    assert region.findings == []


def test_the_old_sign_is_told_what_is_unexplained(tmp_path: Path) -> None:
    # HSN listing the frame's arithmetic change (−5.5 = −10.0 + 4.5, i.e. both signs turned):
    # received +5.5, explained −5.5: 11.0 unexplained
    path = planbok(tmp_path / "h.xlsx", "HSN", [
        ["Division Medicin", TJ, 80.0, None, -1000.0, None, None, None, None, -920.0],
    ], [[TJ, -914.5, -920.0, None, None]], [
        ["Uppräkning", "LPIK", None, None, None, -10.0, None, None],
        ["Omdisponering", "Samordning till RS", "RS/482/2024", "HSN", "RS", 4.5, None, None],
    ])
    report = validate(path)
    [f] = [f for f in report.findings if f.code == "oforklarad-ramforandring"]
    assert (f.expected, f.actual) == (Decimal("5.5"), Decimal("-5.5")) and "11,0" in f.message
    assert [f.cell for f in report.findings if f.code == "omdisponering-tecken"] == ["G5"]


INTERNAL = [
    ["Omdisponering", "Från Regiondirektören till Folkhälsoenheten", "RS/216:13/2019", "RS", "RS",
     -7.2, -7.2, None],
    ["Omdisponering", "Till Folkhälsoenheten från Regiondirektören", "RS/216:13/2019", "RS", "RS",
     7.2, 7.2, None],
]


def test_a_transfer_inside_the_namnd_is_valid_and_nets_to_zero(tmp_path: Path) -> None:
    report = validate(rs(tmp_path / "rs.xlsx", INTERNAL))
    assert report.errors == 0 and quiet(report), report.findings


def test_an_internal_transfer_that_does_not_net_to_zero_is_an_error_at_its_cells(
        tmp_path: Path) -> None:
    # 175 typed where 0,175 mkr was meant: −0.175 out, +175 in, 174.825 too much
    slip = [["Omdisponering", "Från Vårdval", "RS/217/2024", "RS", "RS", -0.175, None, None],
            ["Omdisponering", "Till Regiondirektör", "RS/217/2024", "RS", "RS", 175, None, None]]
    report = validate(rs(tmp_path / "rs.xlsx", slip))
    [f] = [f for f in report.findings if f.code == "omdisponering-intern-obalans"]
    # Ramförändringar at B3: header row 3, rows 4 (Uppräkning), 5, 6, 7; Belopp 2025 is G
    assert (f.sheet, f.cell, f.actual) == ("Ramförändringar", "G6", Decimal("174.825"))
    assert "G6, G7" in f.message
    # RS received +6.5 and lists 2.0 + 4.5 + 174.825: the 174.825 too much is that slip
    # alone, so the reconciliation names it instead of warning a second time
    assert [f.code for f in report.findings if f.code == "oforklarad-ramforandring"] == []
    [note] = [f for f in report.findings if f.code == "foljdfel"]
    assert note.cell == "B12" and "G6, G7" in note.message
    # one unit of the coarser side (1 for 175) off is rounding: −7.2 out, +8 in
    near = [["Omdisponering", "Från Vårdval", "RS/218/2024", "RS", "RS", -7.2, None, None],
            ["Omdisponering", "Till Regiondirektör", "RS/218/2024", "RS", "RS", 8, None, None]]
    report = validate(rs(tmp_path / "rs2.xlsx", near))
    assert report.errors == 0
    [f] = [f for f in report.findings if f.code == "avrundningsdifferens"]
    # the sum 0,8 is in neither cell: the message names both (not "0,8 i G6", which holds −7,2)
    assert f.cell == "G6" and f.actual == Decimal("0.8")
    assert f.message == ("Omdisponeringen RS/218/2024 inom RS, summan av Belopp 2025: 0,8 i "
                         "G6, G7 mot 0. Skillnaden 0,8 ryms i avrundningen.")


def test_consolidation_checks_transfers_inside_a_namnd(tmp_path: Path) -> None:
    ok, slip = tmp_path / "ok", tmp_path / "slip"
    for folder in (ok, slip):
        folder.mkdir()
        hsn(folder / "hsn.xlsx")
    rs(ok / "rs.xlsx", INTERNAL)
    rs(slip / "rs.xlsx", [
        ["Omdisponering", "Från Vårdval", "RS/217/2024", "RS", "RS", -0.175, None, None],
        ["Omdisponering", "Till Regiondirektör", "RS/217/2024", "RS", "RS", 175, None, None]])
    good = consolidate(ok, tmp_path / "ok.xlsx").region
    assert {t.diarienummer: t.status for t in good.transfers} == {
        "RS/216:13/2019": "ok", "RS/482/2024": "ok"}
    bad = consolidate(slip, tmp_path / "slip.xlsx").region
    assert {t.diarienummer: t.status for t in bad.transfers}["RS/217/2024"] == "olika belopp"
    [f] = [f for f in bad.findings if f.code == "omdisponering-olika-belopp"]
    assert f.actual == Decimal("174.825") and "rs.xlsx (Ramförändringar!G6)" in f.message


def test_diarienummer_with_a_colon_is_accepted_everywhere(tmp_path: Path) -> None:
    report = validate(rs(tmp_path / "rs.xlsx", INTERNAL))
    assert [f for f in report.findings
            if f.code in ("ogiltigt-diarienummer", "info-varning")] == []
    bad = validate(rs(tmp_path / "rs2.xlsx", [
        ["Övrigt", "Udda", "RS 216:13 2019", None, None, 1.0, None, None]]))
    assert [f.cell for f in bad.findings if f.code == "ogiltigt-diarienummer"] == ["D6"]


def test_a_transfer_booked_in_tkr_at_one_namnd_and_mkr_at_the_other(tmp_path: Path) -> None:
    # HSN keeps its plan in tkr: −4 500 tkr is the −4,5 mkr RS books as +4,5
    folder = tmp_path / "in"
    folder.mkdir()
    planbok(folder / "hsn.xlsx", "HSN", [
        ["Division Medicin", TJ, 80000, None, -1000000, None, None, None, None, -920000],
    ], [[TJ, -914500, -920000, None, None]], [
        ["Uppräkning", "LPIK", None, None, None, 10000, None, None],
        ["Omdisponering", "Samordning till RS", "RS/482/2024", "HSN", "RS", -4500, None, None],
    ], **{"Belopp i": "tkr"})
    rs(folder / "rs.xlsx")
    region = consolidate(folder, tmp_path / "r.xlsx").region
    assert [(t.diarienummer, t.status) for t in region.transfers] == [("RS/482/2024", "ok")]
    assert region.findings == []


def test_a_transfer_between_namnder_equal_only_within_rounding_is_a_warning(
        tmp_path: Path) -> None:
    # RS books +4,5 (precision 0,1) for RS/482/2024, HSN −4,0 typed as a whole −4 (precision
    # 1): the coarser precision is 1 and |4,5 − 4| = 0,5 ≤ 1, so equal within rounding
    # (4,5 rounded to whole mkr is 5, not 0: no guard). Net +4,5 − 4 = +0,5 mkr: status ok, a
    # warning, exit code 0 (warnings never make exit 1)
    folder = tmp_path / "in"
    folder.mkdir()
    planbok(folder / "hsn.xlsx", "HSN", [
        ["Division Medicin", TJ, 80.0, None, -1000.0, None, None, None, None, -920.0],
    ], [[TJ, -914.0, -920.0, None, None]], [
        # received −914 − (−920) = +6 = 10 − 4
        ["Uppräkning", "LPIK", None, None, None, 10, None, None],
        ["Omdisponering", "Samordning till RS", "RS/482/2024", "HSN", "RS", -4, None, None],
    ])
    rs(folder / "rs.xlsx")
    result = xlplan("consolidate", str(folder), "--out", str(tmp_path / "r.xlsx"),
                    "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [(o["diarienummer"], o["status"]) for o in out["omdisponeringar"]] == [
        ("RS/482/2024", "ok")]
    [warning] = [f for f in out["kontroll"] if f["code"] == "avrundningsdifferens"]
    assert warning["severity"] == "warning" and "RS/482/2024" in warning["message"]
    assert Decimal(str(warning["actual"])) == Decimal("0.5")
    region = consolidate(folder, tmp_path / "r2.xlsx").region
    assert [f.code for f in region.findings] == ["avrundningsdifferens"]
    assert not region.inputs_with_errors
