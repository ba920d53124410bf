"""Faults while writing: a read-only folder, a locked target, a process killed mid-write, a
history database that is locked or gone. The old output stays intact; messages are Swedish."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import sha256
from tests.support.inbox import inbox, rs
from xlplan.consolidation import consolidate
from xlplan.errors import OutputError


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Neither root nor anyone may change ``path`` (ext4's immutable flag)."""
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def test_read_only_output_folder(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    locked = tmp_path / "ut"
    locked.mkdir()
    with immutable(locked), pytest.raises(OutputError, match="skrivskyddad"):
        consolidate(folder, locked / "region.xlsx")
    assert list(locked.iterdir()) == []


def test_locked_target_keeps_the_old_file(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    out = tmp_path / "region.xlsx"
    consolidate(folder, out)
    before = sha256(out)
    rs(folder / "rs.xlsx", staben_personal=-310.0)
    with immutable(out), pytest.raises(OutputError, match="kan inte ersättas"):
        consolidate(folder, out)
    assert sha256(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".region")] == []


def test_cli_says_so_without_a_traceback(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    out = tmp_path / "region.xlsx"
    out.write_bytes(b"old")
    with immutable(out):
        result = subprocess.run([sys.executable, "-m", "xlplan", "consolidate", str(folder),
                                 "--out", str(out), "--ingen-historik"],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "kan inte ersättas" in result.stderr
    assert "Traceback" not in result.stderr and out.read_bytes() == b"old"


def test_killed_mid_write_leaves_the_old_output(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    for i in range(40):  # enough rows that writing the workbook takes a moment
        rs(folder / f"rs{i}.xlsx")
    out = tmp_path / "region.xlsx"
    out.write_bytes(b"last month's summary")
    proc = subprocess.Popen([sys.executable, "-m", "xlplan", "consolidate", str(folder), "--out",
                             str(out), "--ingen-historik"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.startswith(".region.xlsx~") for p in tmp_path.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it started writing"
    assert out.read_bytes() == b"last month's summary"
    # the next run removes what the killed one left and writes a whole file
    consolidate(folder, out)
    assert out.read_bytes()[:2] == b"PK"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".region")] == []


def test_history_database_locked(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    db = tmp_path / "historik.db"
    consolidate(folder, tmp_path / "first.xlsx", database=f"sqlite:///{db}")
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        outcome = consolidate(folder, tmp_path / "second.xlsx", database=f"sqlite:///{db}")
    finally:
        holder.rollback()
        holder.close()
    assert (tmp_path / "second.xlsx").exists()
    assert "låst" in outcome.history_note


def test_history_database_gone(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    url = "postgresql+psycopg://xlplan:hemligt@/x?host=/nonexistent&port=1"
    outcome = consolidate(folder, tmp_path / "o.xlsx", database=url)
    assert (tmp_path / "o.xlsx").exists()
    assert "Historiken kunde inte läsas" in outcome.history_note
    assert "hemligt" not in outcome.history_note  # the password never reaches a message


def test_a_database_address_in_a_message_shows_no_password_and_invents_none() -> None:
    from xlplan.store import _safe

    assert _safe("postgresql+psycopg://xlplan:hemligt@db:5432/h") == (
        "postgresql+psycopg://xlplan:***@db:5432/h")
    assert _safe("postgresql+psycopg://xlplan@db/h") == "postgresql+psycopg://xlplan@db/h"
    assert _safe("postgresql://u:p:q@x@db/h") == "postgresql://u:***@db/h"  # the last @ is the host's
    assert _safe("sqlite:///C:/data/h.db") == "sqlite:///C:/data/h.db"


def test_outputs_keep_the_replaced_files_permissions(tmp_path: Path) -> None:
    import os

    from xlplan.io.writer import write_bytes_atomic

    shared = tmp_path / "delad.xlsx"
    shared.write_bytes(b"old")
    shared.chmod(0o640)
    write_bytes_atomic(shared, b"new")
    assert shared.read_bytes() == b"new" and shared.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "ny.xlsx"
    write_bytes_atomic(fresh, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


# --- a full disk, and temp files that belong to someone else ---------------------------------


@contextlib.contextmanager
def small_disk(tmp_path: Path, kilobytes: int = 64) -> Iterator[Path]:
    """A tmpfs of ``kilobytes`` (mounted as root, as CI runs): a disk that really fills up."""
    mount = tmp_path / "liten-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(mount)],
                   check=True, capture_output=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill ``folder``'s file system, leaving about ``leave`` bytes."""
    import os

    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with contextlib.suppress(OSError), (folder / "fyllnad").open("wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))


QUIET = ("Traceback", "Exception ignored", "Ett oväntat fel", "internt fel")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "xlplan", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_disk_full_while_writing_the_region_workbook(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    with small_disk(tmp_path) as disk:
        out = disk / "region.xlsx"
        out.write_bytes(b"last month")
        fill(disk, leave=8 * 1024)  # room to start, not to finish
        result = cli("consolidate", str(folder), "--out", str(out), "--ingen-historik")
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert line == "region.xlsx kunde inte skrivas (disken är full). Den gamla filen är orörd."
        assert not any(word in result.stderr + result.stdout for word in QUIET)
        assert out.read_bytes() == b"last month"
        assert sorted(p.name for p in disk.iterdir()) == ["fyllnad", "region.xlsx"]


def test_disk_full_while_saving_the_dry_run_message(tmp_path: Path) -> None:
    from tests.support.plan import full_plan

    plan = full_plan(tmp_path)
    before = sha256(plan)
    env = {"XLPLAN_AVSANDARE": "hsn@region.example", "XLPLAN_LOGGMAPP": str(tmp_path / "logg")}
    with small_disk(tmp_path) as disk:
        fill(disk)
        result = cli("send", str(plan), "--dry-run", "--till", "ed@region.example", "--eml",
                     str(disk / "brev.eml"), env=env)
        assert result.returncode == 2
        assert result.stderr.strip() == "brev.eml kunde inte skrivas (disken är full)."
        assert not any(word in result.stderr + result.stdout for word in QUIET)
        assert [p.name for p in disk.iterdir()] == ["fyllnad"]
    assert sha256(plan) == before


def test_disk_full_while_the_figures_are_staged_drops_the_history_not_the_run(
        tmp_path: Path) -> None:
    """The figures go into a temporary table as the files arrive; SQLite keeps it in a file
    in SQLITE_TMPDIR once it outgrows its cache (2 MB). That disk full: the workbook is still
    written, the run says the history could not be used, and nothing is recorded."""
    import sqlite3

    from tests.support.inbox import TJ, book

    folder = tmp_path / "inkorg"
    folder.mkdir()
    # 3 × 9 000 områden (a table's 100 000 cells at most), one figure each for the
    # history, named long: some 11 MB staged
    for namnd in ("KN", "HSN", "RUN"):
        book(folder / f"{namnd}.xlsx", namnd, [[f"Område {i:05} " + "x" * 400, TJ, 1, 0, 0,
                                                0, 0, 0, 0, 1] for i in range(9000)])
    book(folder / "liten.xlsx", "RS", [["Område", TJ, 1, 0, 0, 0, 0, 0, 0, 1]])
    out, db = tmp_path / "region.xlsx", tmp_path / "historik.db"
    with small_disk(tmp_path) as disk:
        fill(disk)
        result = cli("consolidate", str(folder), "--out", str(out), "--db", f"sqlite:///{db}",
                     env={"SQLITE_TMPDIR": str(disk)})
        assert [p.name for p in disk.iterdir()] == ["fyllnad"]
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:2] == b"PK"
    assert "Historiken kunde inte användas" in result.stdout + result.stderr
    assert "disken är full" in result.stdout + result.stderr
    assert not any(word in result.stderr + result.stdout for word in QUIET)
    with sqlite3.connect(db) as conn:  # nothing recorded
        assert conn.execute("SELECT COUNT(*) FROM xlplan_korningar").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM xlplan_nyckeltal").fetchone() == (0,)
    # with room, the same run is recorded with every figure
    again = cli("consolidate", str(folder), "--out", str(out), "--db", f"sqlite:///{db}")
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM xlplan_korningar").fetchone() == (1,)
        assert conn.execute("SELECT COUNT(*) FROM xlplan_nyckeltal WHERE objekt LIKE "
                            "'Område %'").fetchone() == (27_000,)


def test_disk_full_for_the_history_still_writes_the_workbook(tmp_path: Path) -> None:
    folder = inbox(tmp_path)
    out = tmp_path / "region.xlsx"
    with small_disk(tmp_path) as disk:
        fill(disk)
        result = cli("consolidate", str(folder), "--out", str(out), "--db",
                     f"sqlite:///{disk / 'historik.db'}")
    assert result.returncode == 1 and out.read_bytes()[:2] == b"PK"
    assert "Historikdatabasen" in result.stderr and "disken är full" in result.stderr
    assert not any(word in result.stderr + result.stdout for word in QUIET)


def test_cleanup_removes_only_its_own_targets_orphans(tmp_path: Path) -> None:
    import os

    from xlplan.io.writer import write_bytes_atomic

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, alive = gone.pid, os.getppid()
    orphan = tmp_path / f".region.xlsx~{dead}~abcdefgh.xlsx"  # a killed writer of region.xlsx
    live = tmp_path / f".region.xlsx~{alive}~abcdefgh.xlsx"  # a running writer of region.xlsx
    other = tmp_path / f".region-2027.xlsx~{alive}~x1y2z3w4.xlsx"  # a run writing region-2027
    other_orphan = tmp_path / f".region-2027.xlsx~{dead}~x1y2z3w4.xlsx"
    old_style = tmp_path / f".region-2027-{dead}-x.xlsx"  # the case: 2027 is no pid
    for p in (orphan, live, other, other_orphan, old_style):
        p.write_bytes(b"temp")
    write_bytes_atomic(tmp_path / "region.xlsx", b"new")
    assert not orphan.exists()
    assert live.exists() and other.exists() and other_orphan.exists() and old_style.exists()
    assert (tmp_path / "region.xlsx").read_bytes() == b"new"


# --- a history that cannot block the month ------------------------------------------------------


@pytest.mark.parametrize("stored", ["Infinity", "NaN", "abc", "1E+999999999"])
def test_a_damaged_stored_value_is_skipped_with_a_warning(tmp_path: Path, stored: str) -> None:
    folder = inbox(tmp_path)
    db = tmp_path / "historik.db"
    consolidate(folder, tmp_path / "mars.xlsx", database=f"sqlite:///{db}", month="2025-03")
    with sqlite3.connect(db) as conn:  # someone's hand in the database: one value broken
        conn.execute("UPDATE xlplan_nyckeltal SET varde = ? WHERE namnd = 'RS' AND "
                     "slag = 'netto'", (stored,))
    outcomes = []
    for month, name in (("2025-04", "april"), ("2025-05", "maj")):  # every later run goes on
        outcome = consolidate(folder, tmp_path / f"{name}.xlsx", database=f"sqlite:///{db}",
                              month=month)
        assert (tmp_path / f"{name}.xlsx").exists()
        # run 1's value stays damaged: the trend reads it each time, and says so
        assert "körningen 1 " in outcome.history_note and "hoppades över" in outcome.history_note
        outcomes.append(outcome)
    # April against run 1: the damaged value is left out, so RS's netto (−390) is "new" and
    # nothing else changed (same inbox, same figures); May against April: no change at all
    assert [o.changes for o in outcomes] == [1, 0]


def _first_run(url: str, barrier: Any, results: Any) -> None:
    from decimal import Decimal

    from xlplan.errors import HistoryError
    from xlplan.store import HistoryStore

    barrier.wait()
    try:
        store = HistoryStore(url)
        store.record(2025, "2025-03", "inkorg", 1, {("RS", "netto", "Totalt"): Decimal("-390")})
        store.close()
        results.put("ok")
    except HistoryError as exc:
        results.put(exc.message)


def test_three_first_runs_at_once_on_a_fresh_database(tmp_path: Path) -> None:
    import multiprocessing as mp

    from xlplan.store import HistoryStore

    for attempt in range(5):  # the race is a matter of timing: several fresh databases
        url = f"sqlite:///{tmp_path / f'ny{attempt}.db'}"
        ctx = mp.get_context("fork")
        barrier, results = ctx.Barrier(3), ctx.Queue()
        procs = [ctx.Process(target=_first_run, args=(url, barrier, results)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert sorted(results.get(timeout=5) for _ in procs) == ["ok", "ok", "ok"]
        store = HistoryStore(url)
        assert len(store.list_runs(2025)) == 3  # three runs recorded, none lost
        store.close()


@pytest.mark.parametrize("logged", [True, False])
def test_ctrl_c_is_one_swedish_sentence_and_exit_130(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], logged: bool) -> None:
    import typer

    from xlplan.runlog import run_logged

    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(typer.Exit) as caught:
        run_logged(tmp_path / "loggar" if logged else None, "konsolidera", interrupted)
    assert caught.value.exit_code == 130
    err = capsys.readouterr().err
    assert err.startswith("Avbrutet (Ctrl-C).") and "Traceback" not in err
    if logged:
        (log,) = (tmp_path / "loggar").iterdir()
        text = log.read_text(encoding="utf-8")
        assert "Avbrutet (Ctrl-C)." in text and text.rstrip().endswith("med exit 130")
