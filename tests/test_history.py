"""History by Rapportmånad, its migrations, and the `historik` commands.

Figures from tests/test_consolidate.py's inbox (hand-worked there): RS net −390 mkr;
with Personalkostnader −310 instead of −300, −400. Prognos added here by hand:
HSN Division Medicin budget −1250, helårsprognos −1262 → avvikelse −12.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.support.books import BUDGETRAM_HEADER, PROGNOS_HEADER, TJ, T, info, write_book
from tests.support.cli import xlplan
from tests.support.pg import postgres
from xlplan.consolidation import consolidate
from xlplan.store import HistoryStore

Y = 2025


def planbok(path: Path, namnd: str, personal: float, month: str,
            prognos: float | None = None) -> Path:
    net = 100 + personal
    tables = [info(namnd, Y, Rapportmånad=month),
              T("Budgetram", BUDGETRAM_HEADER,
                [["Division Medicin", TJ, 100.0, None, personal, None, None, None, None, net]],
                sheet="Budgetram")]
    if prognos is not None:
        tables.append(T("Prognos", PROGNOS_HEADER,
                        [["Division Medicin", net, net / 4, prognos, prognos - net]],
                        sheet="Prognos"))
    return write_book(path, *tables)


def month_inbox(tmp: Path, month: str, hsn_prognos: float = -1250.0,
                rs_personal: float = -490.0) -> Path:
    folder = tmp / f"inkorg-{month}"
    folder.mkdir(exist_ok=True)
    planbok(folder / "hsn.xlsx", "HSN", -1350.0, month, prognos=hsn_prognos)  # net −1250
    planbok(folder / "rs.xlsx", "RS", rs_personal, month)  # net −390
    return folder


def changes_sheet(path: Path) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(path)["Förändringar"]


def trend_header(path: Path) -> list[Any]:
    return [c.value for c in openpyxl.load_workbook(path)["Trend"][4]]


def test_a_month_run_twice_is_one_trend_column_and_no_changes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    consolidate(month_inbox(tmp_path, "2025-02"), tmp_path / "feb.xlsx", database=db)
    march = month_inbox(tmp_path, "2025-03")
    consolidate(march, tmp_path / "mars1.xlsx", database=db)
    consolidate(march, tmp_path / "mars2.xlsx", database=db)
    assert trend_header(tmp_path / "mars2.xlsx") == ["Nämnd", "2025-02", "2025-03"]
    ws = changes_sheet(tmp_path / "mars2.xlsx")
    assert ws["A4"].value == "Inga förändringar mot 2025-02."
    store = HistoryStore(db)
    runs = store.list_runs()
    assert [(r.rapportmanad, r.active) for r in runs] == [
        ("2025-02", True), ("2025-03", False), ("2025-03", True)]
    assert runs[1].ersatt_av == runs[2].id  # superseded, kept
    assert [m for m, _, _ in store.trend(Y)] == ["2025-02", "2025-02", "2025-03", "2025-03"]
    store.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_prognos_change_appears_in_forandringar(tmp_path: Path, engine: str) -> None:
    with contextlib.ExitStack() as stack:
        db = (f"sqlite:///{tmp_path / 'h.db'}" if engine == "sqlite"
              else stack.enter_context(postgres()))
        _prognos_change(tmp_path, db)


def _prognos_change(tmp_path: Path, db: str) -> None:
    consolidate(month_inbox(tmp_path, "2025-02"), tmp_path / "feb.xlsx", database=db)
    consolidate(month_inbox(tmp_path, "2025-03", hsn_prognos=-1262.0, rs_personal=-500.0),
                tmp_path / "mars.xlsx", database=db)
    ws = changes_sheet(tmp_path / "mars.xlsx")
    assert ws["A1"].value == "Förändringar 2025-03 mot 2025-02"
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=5)]
    changed = [r[:7] for r in rows]
    # prognos −1250 → −1262 (−12); avvikelse 0 → −12; RS net −390 → −400
    assert ("HSN", "Helårsprognos (mkr)", "Division Medicin", "ändrad", -1250, -1262, -12) in changed
    assert ("HSN", "Avvikelse (mkr)", "Totalt", "ändrad", 0, -12, -12) in changed
    assert ("RS", "Nettobudget (mkr)", "Totalt", "ändrad", -390, -400, -10) in changed
    # the prognos table: Budget före/nu, Helårsprognos före/nu, Avvikelse före/nu
    prognos = {(r[0], r[1]): r[2:8] for r in rows if r[0] == "HSN" and r[4] is not None
               and r[1] in ("Totalt", "Division Medicin") and isinstance(r[2], int | float)}
    assert prognos[("HSN", "Division Medicin")] == (-1250, -1250, -1250, -1262, 0, -12)
    assert prognos[("HSN", "Totalt")] == (-1250, -1250, -1250, -1262, 0, -12)
    # each nämnd's Totalt first, then its områden
    order = [r[:2] for r in rows if (r[0], r[1]) in prognos]
    assert order == [("HSN", "Totalt"), ("HSN", "Division Medicin")]


def test_migrates_a_database_made_by_the_first_release(tmp_path: Path) -> None:
    # the schema the first release created (current main before this change), with one run
    path = tmp_path / "gammal.db"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE xlplan_korningar (id INTEGER NOT NULL PRIMARY KEY, tid VARCHAR(32) NOT NULL,
            budgetar INTEGER NOT NULL, inkorg VARCHAR(1000) NOT NULL,
            antal_filer INTEGER NOT NULL);
        CREATE INDEX ix_xlplan_korningar_budgetar ON xlplan_korningar (budgetar);
        CREATE TABLE xlplan_nyckeltal (id INTEGER NOT NULL PRIMARY KEY,
            korning INTEGER NOT NULL REFERENCES xlplan_korningar (id),
            namnd VARCHAR(20) NOT NULL, slag VARCHAR(20) NOT NULL, objekt VARCHAR(500) NOT NULL,
            varde VARCHAR(60) NOT NULL);
        CREATE INDEX ix_xlplan_nyckeltal_korning ON xlplan_nyckeltal (korning);
        INSERT INTO xlplan_korningar VALUES (1, '2025-03-05T10:00:00+00:00', 2025, '/inkorg', 3);
        INSERT INTO xlplan_nyckeltal VALUES (1, 1, 'RS', 'netto', 'Totalt', '-390.25');
    """)
    con.commit()
    con.close()
    db = f"sqlite:///{path}"
    consolidate(month_inbox(tmp_path, "2025-04"), tmp_path / "april.xlsx", database=db)
    con = sqlite3.connect(path)
    version = con.execute("SELECT version_num FROM xlplan_alembic_version").fetchall()
    columns = [r[1] for r in con.execute("PRAGMA table_info(xlplan_korningar)")]
    [table_sql] = con.execute("SELECT sql FROM sqlite_master WHERE name = 'xlplan_korningar'"
                              ).fetchone()
    indexes = {r[1] for r in con.execute("PRAGMA index_list(xlplan_korningar)")}
    con.close()
    assert version == [("0003",)]
    assert "AUTOINCREMENT" in table_sql  # ids never given twice (0003), the rows kept
    assert {"ix_xlplan_korningar_budgetar", "ix_xlplan_korningar_ar_manad"} <= indexes
    assert {"rapportmanad", "ersatt_av", "utfil", "utfil_sha256"} <= set(columns)
    store = HistoryStore(db)
    runs = store.list_runs()
    assert [(r.id, r.rapportmanad, r.tid, r.active) for r in runs] == [
        (1, None, "2025-03-05T10:00:00+00:00", True), (2, "2025-04", runs[1].tid, True)]
    old = [(k, v) for run, k, v in store.figures_of() if run.id == 1]
    assert old == [(("RS", "netto", "Totalt"), Decimal("-390.25"))]  # kept, exact
    store.close()
    HistoryStore(db).close()  # opening again: nothing left to migrate, no error


def test_a_database_at_the_newest_revision_opens_without_alembic(tmp_path: Path) -> None:
    """The quick check (store.HEAD) must name Alembic's own head, else a new revision would
    never be applied; and with it, opening a current database does not load Alembic."""
    import subprocess
    import sys

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import xlplan.store

    config = Config()
    config.set_main_option("script_location", str(Path(xlplan.store.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == xlplan.store.HEAD
    db = f"sqlite:///{tmp_path / 'h.db'}"
    HistoryStore(db).close()  # made and migrated
    probe = ("import sys; from xlplan.store import HistoryStore; "
             f"HistoryStore({db!r}).close(); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
    # a database without the version table still goes through Alembic: see the test above


def test_historik_lists_exports_and_removes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    consolidate(month_inbox(tmp_path, "2025-02"), tmp_path / "feb.xlsx", database=db)
    consolidate(month_inbox(tmp_path, "2025-03"), tmp_path / "mars.xlsx", database=db)
    listed = xlplan("historik", "--db", db, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    from tests.support.cli import sha256

    assert [(r["rapportmanad"], r["antal_filer"], r["utfil_sha256"]) for r in runs] == [
        ("2025-02", 2, sha256(tmp_path / "feb.xlsx")), ("2025-03", 2, sha256(tmp_path / "mars.xlsx"))]
    text = xlplan("historik", "--db", db).stdout
    assert "2025-03" in text and sha256(tmp_path / "mars.xlsx") in text

    csv_out = xlplan("historik", "export", str(tmp_path / "h.csv"), "--db", db)
    assert csv_out.returncode == 0, csv_out.stderr
    lines = (tmp_path / "h.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "korning,budgetar,rapportmanad,tid,aktiv,namnd,slag,objekt,varde"
    assert any(line.endswith(",ja,RS,netto,Totalt,-390") and ",2025-03," in line for line in lines)
    assert xlplan("historik", "export", str(tmp_path / "h.xlsx"), "--db", db).returncode == 0
    ws = openpyxl.load_workbook(tmp_path / "h.xlsx")["Historik"]
    assert ws["A1"].value == "Körning" and ws.max_row == len(lines)  # same rows as the CSV
    refused = xlplan("historik", "export", str(tmp_path / "h.txt"), "--db", db)
    assert refused.returncode == 2 and ".xlsx eller .csv" in refused.stderr

    first = runs[0]["id"]
    import subprocess
    import sys

    no = subprocess.run([sys.executable, "-m", "xlplan", "historik", "ta-bort", str(first),
                         "--db", db], input="nej\n", capture_output=True, text=True, timeout=60)
    assert no.returncode == 1 and "Inget togs bort" in no.stdout
    yes = xlplan("historik", "ta-bort", str(first), "--db", db, "--ja")
    assert yes.returncode == 0 and "Tog bort körning" in yes.stdout
    left = json.loads(xlplan("historik", "--db", db, "-f", "json").stdout)
    assert [r["rapportmanad"] for r in left] == ["2025-03"]
    missing = xlplan("historik", "--db", f"sqlite:///{tmp_path / 'ingen.db'}")
    assert missing.returncode == 2 and "finns inte" in missing.stderr


def test_removing_the_active_run_brings_back_the_one_it_replaced(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    march = month_inbox(tmp_path, "2025-03")
    consolidate(march, tmp_path / "a.xlsx", database=db)
    consolidate(march, tmp_path / "b.xlsx", database=db)
    store = HistoryStore(db)
    first, second = store.list_runs()
    store.remove(second.id)
    assert [(r.id, r.active) for r in store.list_runs()] == [(first.id, True)]
    store.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_removed_run_keeps_its_number(tmp_path: Path, engine: str) -> None:
    # runs 1, 2, 3; the newest removed; the next run is 4, never 3 again (a log or a mail
    # that named run 3 must not come to mean another run). SQLite reused the number.
    with contextlib.ExitStack() as stack:
        db = (f"sqlite:///{tmp_path / 'h.db'}" if engine == "sqlite"
              else stack.enter_context(postgres()))
        for month in ("2025-01", "2025-02", "2025-03"):
            consolidate(month_inbox(tmp_path, month), tmp_path / f"{month}.xlsx", database=db)
        store = HistoryStore(db)
        try:
            ids = [r.id for r in store.list_runs()]
            store.remove(ids[-1])
        finally:
            store.close()
        consolidate(month_inbox(tmp_path, "2025-04"), tmp_path / "april.xlsx", database=db)
        store = HistoryStore(db)
        try:
            after = [(r.id, r.rapportmanad) for r in store.list_runs()]
        finally:
            store.close()
        assert after == [(ids[0], "2025-01"), (ids[1], "2025-02"), (ids[2] + 1, "2025-04")]


def test_history_as_a_pandas_dataframe(tmp_path: Path) -> None:
    from xlplan.history import history_dataframe

    db = f"sqlite:///{tmp_path / 'h.db'}"
    consolidate(month_inbox(tmp_path, "2025-03"), tmp_path / "mars.xlsx", database=db)
    df = history_dataframe(db)
    assert list(df.columns) == ["korning", "budgetar", "rapportmanad", "tid", "aktiv", "namnd",
                                "slag", "objekt", "varde"]
    net = df[(df.slag == "netto") & (df.objekt == "Totalt")].set_index("namnd")["varde"]
    assert net.to_dict() == {"HSN": Decimal(-1250), "RS": Decimal(-390)}


def test_cli_does_not_import_pandas_or_alembic_at_start() -> None:
    import subprocess
    import sys

    code = ("import sys; import xlplan.cli; "
            "print(sorted(m for m in ('pandas', 'alembic', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_postgresql_driver_says_how_to_install_it(tmp_path: Path) -> None:
    # pg8000 is not installed: the same error a machine without psycopg gets
    folder = month_inbox(tmp_path, "2025-03")
    outcome = consolidate(folder, tmp_path / "o.xlsx",
                          database="postgresql+pg8000://xlplan@localhost/xlplan")
    assert "pip install 'xlplan[postgres]'" in outcome.history_note


@pytest.mark.parametrize("month", ["2025-13", "mars"])
def test_manad_must_be_a_month(tmp_path: Path, month: str) -> None:
    result = xlplan("consolidate", str(month_inbox(tmp_path, "2025-03")), "--out",
                    str(tmp_path / "o.xlsx"), "--ingen-historik", "--manad", month)
    assert result.returncode == 2 and "ÅÅÅÅ-MM" in result.stderr
    assert not (tmp_path / "o.xlsx").exists()


def _open(url: str) -> str:
    try:
        HistoryStore(url).close()
    except Exception as exc:  # reported to the parent, which fails the test
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    import multiprocessing as mp

    url = f"sqlite:///{tmp_path / 'ny.db'}"
    with mp.get_context("fork").Pool(4) as pool:
        assert pool.map(_open, [url] * 8) == ["ok"] * 8
    con = sqlite3.connect(tmp_path / "ny.db")
    assert con.execute("SELECT version_num FROM xlplan_alembic_version").fetchall() == [("0003",)]
    con.close()


def test_the_readme_pandas_example_gives_each_nämnds_helårsprognos_once(tmp_path: Path) -> None:
    import re

    db = f"sqlite:///{tmp_path / 'h.db'}"
    consolidate(month_inbox(tmp_path, "2025-02", hsn_prognos=-1262.0), tmp_path / "feb.xlsx",
                database=db)
    consolidate(month_inbox(tmp_path, "2025-03"), tmp_path / "mars.xlsx", database=db)
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    [snippet] = [block for block in re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
                 if "history_dataframe" in block]
    code = snippet.replace('"sqlite:///xlplan-historik.db"', repr(db))
    assert code != snippet
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)
    table = scope["helarsprognos"]
    # by hand: HSN has one område, Division Medicin, whose Helårsprognos is the nämnd's:
    # −1262 in February, −1250 in March (month_inbox). RS has no Prognos. Summing the område
    # rows with the "Totalt" row would give −2524 and −2500.
    assert {month: table.loc["HSN", month] for month in table.columns} == {
        "2025-02": Decimal(-1262), "2025-03": Decimal(-1250)}
    assert list(table.index) == ["HSN"]


def test_export_never_writes_into_an_inbox_over_the_database_or_over_a_file(
        tmp_path: Path) -> None:
    from tests.support.cli import xlplan

    db_file = tmp_path / "h.db"
    db = f"sqlite:///{db_file}"
    march = month_inbox(tmp_path, "2025-03")  # tmp/inkorg-2025-03, recorded in the run
    consolidate(march, tmp_path / "mars.xlsx", database=db)
    before = sorted(p.name for p in march.iterdir())

    into_inbox = xlplan("historik", "export", str(march / "h.xlsx"), "--db", db)
    assert into_inbox.returncode == 2, into_inbox.stderr
    assert "ligger i inkorgen" in into_inbox.stderr
    assert sorted(p.name for p in march.iterdir()) == before
    # the server's inbox (setting server_inkorg), even before anything was consolidated there
    server_inbox = tmp_path / "serverinkorg"
    server_inbox.mkdir()
    (tmp_path / "xlplan.toml").write_text(f'server_inkorg = "{server_inbox}"\n', encoding="utf-8")
    into_server = xlplan("historik", "export", str(server_inbox / "h.csv"), "--db", db,
                         cwd=tmp_path)
    assert into_server.returncode == 2 and "ligger i inkorgen" in into_server.stderr
    assert list(server_inbox.iterdir()) == []

    itself = xlplan("historik", "export", str(tmp_path / "h.db"), "--db", db)
    assert itself.returncode == 2  # .db is no export format; and as .csv:
    db_csv = tmp_path / "h2.csv"
    db_csv.write_bytes(db_file.read_bytes())
    assert xlplan("historik", "export", str(db_csv), "--db", f"sqlite:///{db_csv}"
                  ).stderr.startswith(f"Exportfilen {db_csv} är historikdatabasen själv")
    # --db given to `historik` itself, before the subcommand, names the same database: even
    # with --skriv-over the database is never replaced by its export
    group = xlplan("historik", "--db", f"sqlite:///{db_csv}", "export", str(db_csv),
                   "--skriv-over")
    assert group.returncode == 2 and "historikdatabasen själv" in group.stderr
    assert db_csv.read_bytes() == db_file.read_bytes()

    kept = tmp_path / "annat.csv"
    kept.write_text("mitt\n", encoding="utf-8")
    refused = xlplan("historik", "export", str(kept), "--db", db)
    assert refused.returncode == 2 and "finns redan" in refused.stderr and "--skriv-over" in refused.stderr
    assert kept.read_text(encoding="utf-8") == "mitt\n"
    replaced = xlplan("historik", "export", str(kept), "--db", db, "--skriv-over")
    assert replaced.returncode == 0, replaced.stderr
    assert kept.read_text(encoding="utf-8").startswith("korning,")


@pytest.mark.parametrize("same_time", [False, True])
def test_only_the_used_file_is_recorded_when_two_names_read_alike(
        tmp_path: Path, same_time: bool) -> None:
    """Two planböcker for HSN whose names differ only by an escape sequence (both shown as
    hsn.xlsx once cleaned): the newest is used, and only its figures reach the history. With
    the same time, the file's own name decides, for the workbook and the history alike."""
    import os

    def planbok(path: Path, personal: float, prognos: float) -> Path:
        net = 100.0 + personal
        return write_book(path, info("HSN", 2027), T(
            "Budgetram", BUDGETRAM_HEADER, [["Medicin", TJ, 100.0, None, personal, None, None,
                                             None, None, net]], sheet="Budgetram"),
            T("Prognos", PROGNOS_HEADER, [["Medicin", net, net / 4, prognos, prognos - net]],
              sheet="Prognos"))

    folder = tmp_path / "in"
    folder.mkdir()
    old = planbok(folder / "hsn.xlsx", -800.0, -700.0)  # net 100 − 800 = −700
    new = planbok(folder / "hsn\x1b[0m.xlsx", -900.0, -810.0)  # net 100 − 900 = −800
    os.utime(old, (1_800_000_000, 1_800_000_000))
    os.utime(new, (1_800_000_000 if same_time else 1_800_000_100,) * 2)
    # the same time: by name, "hsn.xlsx" comes after "hsn\x1b[0m.xlsx" ("." is 0x2E, ESC
    # 0x1B), and the later one wins; else the newer file
    winner = old if same_time else new
    db = tmp_path / "h.db"
    outcome = consolidate(folder, tmp_path / "ut.xlsx", database=f"sqlite:///{db}",
                          month="2027-04", cache=False)
    # by hand, the winner's figures: net −700 (old) or −800 (new); prognos −700 or −810
    net, prognos = (Decimal("-700"), Decimal("-700")) if winner is old else (
        Decimal("-800"), Decimal("-810"))
    assert outcome.region.netto["HSN"] == net
    assert [f.path for f in outcome.region.files if f.used] == [winner]
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT slag, objekt, varde FROM xlplan_nyckeltal WHERE namnd = "
                              "'HSN' ORDER BY slag, objekt").fetchall()
    assert len(stored) == len({(k, o) for k, o, _ in stored})  # each figure once
    assert ("netto", "Totalt", str(net)) in stored
    assert ("prognos", "Medicin", str(prognos)) in stored


LOST = """
import json
import subprocess
import sys
from xlplan.errors import HistoryError
from xlplan.history_stream import StagedRun
from xlplan.store import HistoryStore
store = HistoryStore(sys.argv[1])
staged = StagedRun(store)
staged.add([("HSN", "netto", "Totalt", "-1253")])
subprocess.run(json.loads(sys.argv[2]), check=True, capture_output=True, timeout=60)
try:
    for i in range(3):
        staged.add([("HSN", "netto", f"Område {i}", "-10")] * 3000)
except HistoryError as exc:
    print(exc.message)
staged.close()
store.close()
"""


def test_a_database_server_lost_in_the_middle_of_the_run_is_said_so() -> None:
    """The server goes while figures are staged: the history is dropped
    with a sentence that says the connection was lost, not that the login failed, and the
    driver's own English log line stays off the terminal (a process of its own: pytest
    would catch the log record)."""
    import subprocess
    import sys

    from tests.support.pg import _as_postgres, pg_bin

    with postgres() as url:
        folder = url.split("host=", 1)[1].split("&", 1)[0]
        stop = _as_postgres([pg_bin("pg_ctl"), "-D", f"{folder}/data", "-m", "immediate",
                             "stop"])  # the server gone, as in a crash
        result = subprocess.run([sys.executable, "-c", LOST, url, json.dumps(stop)],
                                capture_output=True, text=True, timeout=60)
    assert "förbindelsen med databasservern bröts under körningen" in result.stdout
    assert "inloggningen" not in result.stdout
    assert result.stderr == ""


def test_a_database_server_that_never_answers_or_a_held_lock_ends_in_seconds(
        tmp_path: Path) -> None:
    """A server that takes the connection but never answers, and tables another session
    keeps locked: the run gives up on the history after a few seconds, as with SQLite's
    busy timeout, writes the workbook and says why."""
    import socket
    import subprocess
    import sys
    import time

    import sqlalchemy as sa

    folder = tmp_path / "in"
    folder.mkdir()
    write_book(folder / "rs.xlsx", info("RS", 2025), T(
        "Budgetram", BUDGETRAM_HEADER, [["Stab", TJ, 10.0, None, -5.0, None, None, None, None,
                                         5.0]], sheet="Budgetram"))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "xlplan", "consolidate", str(folder), "--out",
             str(tmp_path / "a.xlsx"), "--db", f"postgresql+psycopg://u@127.0.0.1:{port}/x"],
            capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
    assert result.returncode == 0 and (tmp_path / "a.xlsx").exists(), result.stderr
    assert "Historiken kunde inte läsas" in result.stdout + result.stderr and took < 30
    with postgres() as url:
        assert consolidate(folder, tmp_path / "b.xlsx", database=url, month="2025-03",
                           cache=False).history_note == ""
        holder = sa.create_engine(url)
        with holder.connect() as conn:
            conn.exec_driver_sql("LOCK TABLE xlplan_korningar, xlplan_nyckeltal IN ACCESS "
                                 "EXCLUSIVE MODE")  # held until this block ends
            started = time.monotonic()
            outcome = consolidate(folder, tmp_path / "c.xlsx", database=url, month="2025-04",
                                  cache=False)
            took = time.monotonic() - started
            conn.rollback()
        holder.dispose()
    assert (tmp_path / "c.xlsx").exists() and took < 30
    assert "låst av ett annat program" in outcome.history_note


def test_a_postgresql_url_keeps_its_own_options(tmp_path: Path) -> None:
    """A history in its own schema (options=-csearch_path=plan in the URL): the tables are
    made and used there; xlplan's own lock timeout does not replace the URL's options."""
    import sqlalchemy as sa

    folder = tmp_path / "in"
    folder.mkdir()
    write_book(folder / "rs.xlsx", info("RS", 2025), T(
        "Budgetram", BUDGETRAM_HEADER, [["Stab", TJ, 10.0, None, -5.0, None, None, None, None,
                                         5.0]], sheet="Budgetram"))
    with postgres() as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE SCHEMA plan")
        in_schema = f"{url}&options=-csearch_path%3Dplan&connect_timeout=3"
        assert consolidate(folder, tmp_path / "ut.xlsx", database=in_schema, month="2025-03",
                           cache=False).history_note == ""
        with engine.connect() as conn:
            tables = {(schema, name) for schema, name in conn.exec_driver_sql(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE "
                "table_name LIKE 'xlplan%%'")}
            runs = conn.exec_driver_sql("SELECT COUNT(*) FROM plan.xlplan_korningar").scalar()
        engine.dispose()
    assert {("plan", "xlplan_korningar"), ("plan", "xlplan_nyckeltal")} <= tables
    assert not any(schema == "public" for schema, _ in tables) and runs == 1


CTRL_C_AT_RECORD = """
import os, signal, sys
from pathlib import Path
from xlplan.consolidation import consolidate
from xlplan.history_stream import StagedRun

record = StagedRun.record


def pressed(self, *args, **kwargs):  # Ctrl-C at the moment the run is being recorded,
    os.kill(os.getpid(), signal.SIGINT)  # after the workbook was put in place
    return record(self, *args, **kwargs)


StagedRun.record = pressed
try:
    consolidate(Path(sys.argv[1]), Path(sys.argv[2]), database=sys.argv[3])
    print("finished")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_between_the_workbook_and_its_record_waits_for_the_record(
        tmp_path: Path) -> None:
    # A stop there left the new workbook in place and no run in the history that names it
    # (found by a tester at the end of a 150-file run). Now the last step finishes first.
    import hashlib
    import subprocess
    import sys

    inbox, out = month_inbox(tmp_path, "2025-03"), tmp_path / "region.xlsx"
    url = f"sqlite:///{tmp_path / 'historik.sqlite'}"
    done = subprocess.run([sys.executable, "-c", CTRL_C_AT_RECORD, str(inbox), str(out), url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "finished", "")
    store = HistoryStore(url)
    try:
        [run] = store.list_runs()
    finally:
        store.close()
    assert run.utfil_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()


def test_a_read_only_history_of_the_previous_revision_is_still_listed_and_exported(
        tmp_path: Path) -> None:
    # an analyst's read-only copy, last written by the previous release (revision 0002):
    # listing and exporting read it as it is; only a run that records would migrate it
    import sqlite3

    path = tmp_path / "h.db"
    consolidate(month_inbox(tmp_path, "2025-03"), tmp_path / "mars.xlsx",
                database=f"sqlite:///{path}")
    con = sqlite3.connect(path)
    con.execute("UPDATE xlplan_alembic_version SET version_num = '0002'")
    con.commit()
    con.close()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    listed = xlplan("historik", "--db", read_only, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [r["rapportmanad"] for r in json.loads(listed.stdout)] == ["2025-03"]
    exported = xlplan("historik", "export", str(tmp_path / "h.csv"), "--db", read_only)
    assert exported.returncode == 0, exported.stderr
    assert ",RS,netto,Totalt,-390" in (tmp_path / "h.csv").read_text(encoding="utf-8")
    # recording needs writing: the run says why in Swedish, and still writes its workbook
    run = xlplan("consolidate", str(month_inbox(tmp_path, "2025-04")), "--out",
                 str(tmp_path / "april.xlsx"), "--db", read_only)
    assert "skrivskyddad" in run.stderr and (tmp_path / "april.xlsx").exists()
