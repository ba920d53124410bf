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

import pytest

from tests.conftest import sha256
from tests.test_consolidate import inbox, rs
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
