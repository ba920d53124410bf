"""The Excel buttons on real xlwings remote Books (no fake objects): the actions Excel would
carry out are read from ``book.json()``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.books import rc
from tests.support.plan import budgetram, full_plan, wrong_total
from tests.support.smtp import smtp_server
from tests.support.xlbook import actions, cell_of, payload, remote_book
from xlplan import excel


def sheet_index(book: Any, name: str) -> int:
    return [s.name for s in book.sheets].index(name)


def test_validera_colours_the_wrong_cell_and_lists_it_in_kontroll(tmp_path: Path) -> None:
    book = remote_book(wrong_total(tmp_path))
    report = excel.validera(book)
    assert report.errors == 1
    acts = actions(book)
    budget = sheet_index(book, "Budgetram")
    red = [a for a in acts if a["func"] == "setRangeColor" and a["args"] == ["#ffc7ce"]]
    assert [(a["sheet_position"], cell_of(a)) for a in red] == [(budget, rc("D8"))]
    yellow = [a for a in acts if a["func"] == "setRangeColor" and a["args"] == ["#ffeb9c"]]
    # no warnings: a Book carries values only, so a value is never a typed-over formula
    # (formel-overskriven runs on files; this planbok has no other warning)
    assert yellow == []
    assert [a["args"] for a in acts if a["func"] == "addSheet"] == [[len(book.sheets) - 1,
                                                                     "Kontroll"]]
    kontroll = sheet_index(book, "Kontroll")
    [values] = [a["values"] for a in acts if a["func"] == "setValues"]
    assert [a["sheet_position"] for a in acts if a["func"] == "setValues"] == [kontroll]
    assert values[0][0].startswith(f"Kontroll av {book.name}: 1 fel,")
    assert values[2] == ["Allvarlighet", "Kod", "Blad", "Cell", "Meddelande"]
    # findings in sheet and cell order, as in the CLI
    [error] = [row for row in values[3:] if row[0] == "Fel"]
    assert error[:4] == ["Fel", "summeringsfel", "Budgetram", "D8"] and "175,4" in error[4]


def test_validera_never_writes_the_users_sheets(tmp_path: Path) -> None:
    book = remote_book(wrong_total(tmp_path))
    excel.validera(book)
    user_sheets = {sheet_index(book, n) for n in ("Info", "Budgetram", "Prognos")}
    written = {a["sheet_position"] for a in actions(book)
               if a["func"] in ("setValues", "rangeClearContents", "rangeClear", "rangeDelete",
                                "sheetClear", "sheetClearContents", "sheetDelete")}
    assert not written & user_sheets


def test_validera_clears_its_earlier_marks(tmp_path: Path) -> None:
    path = full_plan(tmp_path)  # correct now; the last run had marked D8 red
    old = [["Kontroll av x: 1 fel"], [], ["Allvarlighet", "Kod", "Blad", "Cell", "Meddelande"],
           ["Fel", "summeringsfel", "Budgetram", "D8", "…"]]
    import xlwings as xw

    book = xw.Book(json=payload(path, extra_sheets={"Kontroll": old}))
    report = excel.validera(book)
    assert report.errors == 0
    acts = actions(book)
    budget = sheet_index(book, "Budgetram")
    cleared = [a for a in acts if a["func"] == "rangeClearFormats"]
    assert [(a["sheet_position"], cell_of(a)) for a in cleared] == [(budget, rc("D8"))]
    fmt = [a for a in acts if a["func"] == "setNumberFormat"]
    assert [(cell_of(a), a["args"]) for a in fmt] == [(rc("D8"), ["#,##0.0"])]
    kontroll = sheet_index(book, "Kontroll")
    assert any(a["func"] == "sheetClear" and a["sheet_position"] == kontroll for a in acts)
    assert not any(a["func"] == "addSheet" for a in acts)
    assert not any(a["func"] == "setRangeColor" and a["args"] == ["#ffc7ce"] for a in acts)


def test_berakna_writes_the_sammanfattning(tmp_path: Path) -> None:
    book = remote_book(full_plan(tmp_path))
    excel.berakna(book)
    acts = actions(book)
    assert [a["args"][1] for a in acts if a["func"] == "addSheet"] == ["Sammanfattning"]
    [values] = [a["values"] for a in acts if a["func"] == "setValues"]
    rows: dict[str, list[Any]] = {}
    for row in values:
        if row and row[0]:
            rows.setdefault(row[0], row[1:])  # the first "Totalt" is the budget's
    assert rows["Totalt"][0] == -4088.7
    assert rows["Effekt"][:3] == [185.0, 205.0, 285.0]  # each year on its own
    assert rows["Täckningsgrad"][0] == 185 / 520
    formats = {a["args"][0] for a in acts if a["func"] == "setNumberFormat"}
    assert formats == {"#,##0.0", "#,##0", "0.0%"}


def test_text_that_looks_like_a_formula_is_written_inert(tmp_path: Path) -> None:
    t = budgetram()
    rows = [list(r) for r in t.rows]
    rows[0][0] = '=HYPERLINK("http://angripare.example","x")'
    t.rows = rows
    path = full_plan(tmp_path, Budgetram=t)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["Budgetram"]["B5"].data_type = "s"  # keep it text in the source
    wb.save(path)
    book = remote_book(path)
    excel.berakna(book)
    [values] = [a["values"] for a in actions(book) if a["func"] == "setValues"]
    texts = [v for row in values for v in row if isinstance(v, str)]
    assert "'=HYPERLINK(\"http://angripare.example\",\"x\")" in texts
    assert not any(v.startswith(("=", "+", "@")) for v in texts)


def test_skicka_sends_the_saved_file(tmp_path: Path, monkeypatch: Any) -> None:
    path = full_plan(tmp_path)
    with smtp_server(tmp_path) as server:
        for k, v in {"XLPLAN_SMTP_HOST": "127.0.0.1", "XLPLAN_SMTP_PORT": str(server.port),
                     "XLPLAN_SMTP_STARTTLS": "0", "XLPLAN_AVSANDARE": "hsn@region.example",
                     "XLPLAN_MOTTAGARE": "cfo@region.example",
                     "XLPLAN_LOGGMAPP": str(tmp_path / "logg")}.items():
            monkeypatch.setenv(k, v)
        book = remote_book(path)
        message = excel.skicka(book)
        assert message.startswith("Skickat till cfo@region.example")
        assert len(server.messages()) == 1
        alerts = [a for a in actions(book) if a["func"] == "alert"]
        assert alerts and alerts[0]["args"][0] == message


def test_skicka_refuses_a_planbok_with_errors(tmp_path: Path, monkeypatch: Any) -> None:
    with smtp_server(tmp_path) as server:
        monkeypatch.setenv("XLPLAN_SMTP_PORT", str(server.port))
        monkeypatch.setenv("XLPLAN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("XLPLAN_LOGGMAPP", str(tmp_path / "logg"))
        book = remote_book(wrong_total(tmp_path))
        message = excel.skicka(book)
        assert "1 fel och skickades inte" in message
        assert server.messages() == []
    kontroll = [a["values"] for a in actions(book) if a["func"] == "setValues"][-1]
    assert "skickades inte" in kontroll[0][0]


def test_konsolidera_from_the_region_workbook(tmp_path: Path) -> None:
    from tests.support.inbox import inbox
    from xlplan.template import new_region

    folder = inbox(tmp_path)
    region = tmp_path / "region.xlsm"
    new_region(region, 2025, region="Region Jämtland Härjedalen", inkorg=folder.name,
               utfil="sammanstallning.xlsx")
    book = remote_book(region)
    message = excel.konsolidera(book)
    assert message.startswith("Skrev sammanstallning.xlsx: 3 nämnder, budgetår 2025.")
    assert (tmp_path / "sammanstallning.xlsx").exists()
    # the region's name in the workbook's Info reaches the Översikt's title
    import openpyxl

    title = openpyxl.load_workbook(tmp_path / "sammanstallning.xlsx")["Översikt"]["A1"].value
    assert title.startswith("Region Jämtland Härjedalen")
    [values] = [a["values"] for a in actions(book) if a["func"] == "setValues"]
    rows = {row[0]: row[1] for row in values if row and isinstance(row[0], str)}
    assert rows["HSN"] == -1253 and rows["Regionens netto"] == -1708
    assert json.dumps(values, ensure_ascii=False).count("omdisponering-omatchad") == 1
    # the default history file lands beside the region workbook, not in Excel's working folder
    assert (tmp_path / "xlplan-historik.db").exists()


def test_konsolidera_says_why_nothing_was_written(tmp_path: Path) -> None:
    from tests.support.inbox import hsn, rs
    from xlplan.template import new_region

    folder = tmp_path / "inkorg"
    folder.mkdir()
    rs(folder / "rs.xlsx")
    hsn(folder / "hsn.xlsx", year=2026)  # mixed budget years: refused
    region = tmp_path / "region.xlsm"
    new_region(region, 2025, inkorg="inkorg", utfil="ut.xlsx")
    book = remote_book(region)
    message = excel.konsolidera(book)
    assert "blandar budgetår" in message and not (tmp_path / "ut.xlsx").exists()
    [values] = [a["values"] for a in actions(book) if a["func"] == "setValues"]
    assert values[1][0] == message
    empty = tmp_path / "tom.xlsm"
    new_region(empty, 2025, inkorg="", utfil="")
    assert excel.konsolidera(remote_book(empty)) == "Fyll i Inkorg och Utfil i tabellen Info."
