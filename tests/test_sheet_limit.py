"""More rows than an Excel sheet holds (1 048 576) is a refusal, never rows dropped: xlsxwriter
silently ignores a write beyond the last row, so every path that writes rows checks first
(xlplan.io.region_writer.MAX_ROWS, lowered here so a few files reach it). A refusal in the
middle of a read by the worker pool ends the pool without hanging."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.inbox import TJ, book, inbox
from xlplan.consolidation import consolidate
from xlplan.errors import ConsolidationRefused


@pytest.mark.parametrize("mode", ["small", "streamed", "streamed-by-xlsxwriter"])
def test_a_sheet_that_would_overflow_refuses_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    import openpyxl

    from xlplan.io import fastrows, region_writer

    folder = inbox(tmp_path)
    monkeypatch.setattr(region_writer, "STREAM_FILES", 100 if mode == "small" else 2)
    monkeypatch.setattr(fastrows, "ENABLED", mode != "streamed-by-xlsxwriter")
    consolidate(folder, tmp_path / "fri.xlsx", cache=False)
    wb = openpyxl.load_workbook(tmp_path / "fri.xlsx")
    # the longest sheet of rows (Översikt is a fixed layout, a few rows a nämnd)
    longest = max(wb.worksheets[1:], key=lambda ws: ws.max_row)
    out = tmp_path / "ut.xlsx"
    monkeypatch.setattr(region_writer, "MAX_ROWS", longest.max_row - 1)  # one row short
    temp = tmp_path.parent / f"{tmp_path.name}-tmp"  # the temp folder, xlsxwriter's files in it
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with pytest.raises(ConsolidationRefused) as caught:
        consolidate(folder, out, cache=False)
    assert list(temp.iterdir()) == []  # xlsxwriter's row files removed with the refusal
    monkeypatch.undo()
    monkeypatch.setattr(region_writer, "STREAM_FILES", 100 if mode == "small" else 2)
    monkeypatch.setattr(fastrows, "ENABLED", mode != "streamed-by-xlsxwriter")
    assert caught.value.message == (
        f"Bladet {longest.title} får inte plats i en Excel-arbetsbok (högst 1 048 576 rader). "
        "Dela upp inkorgen. Inget skrevs.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fri.xlsx", "inkorg"]  # no temp file
    monkeypatch.setattr(region_writer, "MAX_ROWS", longest.max_row)  # exactly enough
    consolidate(folder, out, cache=False)
    assert openpyxl.load_workbook(out)[longest.title].max_row == longest.max_row


PROBE = """
import sys
from pathlib import Path
from xlplan import inbox as inbox_module
from xlplan.consolidation import consolidate
from xlplan.errors import ConsolidationRefused
from xlplan.io import region_writer

region_writer.MAX_ROWS, region_writer.STREAM_FILES = 20, 2
inbox_module.PARALLEL_FROM = 1
for attempt in range(6):
    try:
        consolidate(Path(sys.argv[1]), Path(sys.argv[2]), cache=False)
    except ConsolidationRefused as exc:
        print(exc.message.split(".")[0])
"""


def test_a_refusal_while_workers_are_reading_ends_the_pool(tmp_path: Path) -> None:
    """Many files in flight when the sheet fills up: the run refuses at once, every time
    (terminating a pool whose workers were sending results could wait for ever)."""
    folder = tmp_path / "inkorg"
    folder.mkdir()
    for i in range(40):
        book(folder / f"n{i:02}.xlsx", f"N{i:02}", [[f"Område {i}", TJ, 1, 0, 0, 0, 0, 0, 0, 1]])
    done = subprocess.run([sys.executable, "-c", PROBE, str(folder), str(tmp_path / "ut.xlsx")],
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 6 and all(
        line.startswith("Bladet ") and line.endswith(" får inte plats i en Excel-arbetsbok "
                                                     "(högst 1 048 576 rader)") for line in lines)
    assert not (tmp_path / "ut.xlsx").exists()


WORKERS = """
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path

from xlplan import filecache
from xlplan import inbox as inbox_module
from xlplan.consolidation import consolidate
from xlplan.errors import ConsolidationRefused

inbox_module.PARALLEL_FROM = 1


def workers() -> list[int]:
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found
"""


REFUSED = """
arrived.done = False
try:
    consolidate(Path(sys.argv[1]), Path(sys.argv[2]), cache=False, progress=arrived)
    print("finished")
except ConsolidationRefused as exc:
    print(exc.message)
"""  # the end of a probe: its refusal's sentence, or "finished"


def forty(tmp_path: Path) -> Path:
    """An inbox of 40 small planböcker: enough to keep both workers busy."""
    folder = tmp_path / "inkorg"
    folder.mkdir()
    for i in range(40):
        book(folder / f"n{i:02}.xlsx", f"N{chr(65 + i // 26)}{chr(65 + i % 26)}",
             [[f"Område {i}", TJ, 1, 0, 0, 0, 0, 0, 0, 1]])
    return folder


KILL = WORKERS + """

def arrived(path: Path) -> None:
    if not arrived.done:  # the first file: the others in flight; a worker killed, as the OOM
        arrived.done = True  # killer does
        os.kill(workers()[0], signal.SIGKILL)

""" + REFUSED


def test_a_worker_killed_in_the_middle_ends_the_run_with_a_sentence(tmp_path: Path) -> None:
    """A worker process gone (killed, out of memory) while files are in flight: the run
    ends at once, in Swedish, with nothing written (the pool it used waited for ever)."""
    folder = forty(tmp_path)
    done = subprocess.run([sys.executable, "-c", KILL, str(folder), str(tmp_path / "ut.xlsx")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() == (
        "En av processerna som läser planböckerna avslutades oväntat (till exempel för att "
        "minnet tog slut). Inget skrevs. Kör igen.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inkorg"]


STUCK = WORKERS + """
filecache.STOP_SECONDS = 2.0

def arrived(path: Path) -> None:
    if not arrived.done:  # both workers stopped (as by a debugger, or a frozen disk), then
        arrived.done = True  # Ctrl-C while the run waits on one of their files
        for pid in workers():
            os.kill(pid, signal.SIGSTOP)
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()


arrived.done = False
try:
    consolidate(Path(sys.argv[1]), Path(sys.argv[2]), cache=False, progress=arrived)
    print("finished")
except KeyboardInterrupt:
    print("interrupted", workers())
"""


def test_ctrl_c_while_waiting_on_a_stuck_worker_ends_after_the_stop_limit(
        tmp_path: Path) -> None:
    """Ctrl-C while the run waits on files stuck workers hold: the stop waits its limit
    (lowered here to 2 s), then kills the workers, and the run ends with none left."""
    folder = forty(tmp_path)
    done = subprocess.run([sys.executable, "-c", STUCK, str(folder), str(tmp_path / "ut.xlsx")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() == "interrupted []"  # no worker left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inkorg"]


BOTH = WORKERS + """

def arrived(path: Path) -> None:
    os.kill(workers()[0], signal.SIGKILL)  # a worker gone, and Ctrl-C, at the same moment
    raise KeyboardInterrupt


started = time.monotonic()
try:
    consolidate(Path(sys.argv[1]), Path(sys.argv[2]), cache=False, progress=arrived)
except KeyboardInterrupt:
    print("interrupted", workers(), time.monotonic() - started < 30)
"""


def test_ctrl_c_as_a_worker_dies_ends_at_once_without_a_traceback(tmp_path: Path) -> None:
    """Files in flight cancelled while the executor breaks made its manager thread fail
    with an English traceback, and the stop then waited its full limit: now the stop lets
    them end (or fail) and the run ends at once, quietly, with no worker left."""
    folder = forty(tmp_path)
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", BOTH, str(folder),
                               str(tmp_path / "ut.xlsx")],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert done.stdout.strip() == "interrupted [] True"


OUT_OF_MEMORY = WORKERS + """

def arrived(path: Path) -> None:
    if not arrived.done:  # each worker's memory capped at what it has: its next file fails
        arrived.done = True
        for pid in workers():
            size = next(int(line.split()[1]) for line in
                        Path(f"/proc/{pid}/status").read_text().splitlines()
                        if line.startswith("VmSize:"))
            resource.prlimit(pid, resource.RLIMIT_AS, ((size + 2000) * 1024,) * 2)

""" + REFUSED


def test_memory_running_out_in_a_worker_ends_the_run_and_blames_no_file(
        tmp_path: Path) -> None:
    """A worker out of memory (a MemoryError, not killed) failed each of its files as an
    'internt fel' in the file, and the run went on with most nämnder missing and recorded
    them: now the run ends, says why, and writes nothing."""
    folder = forty(tmp_path)
    done = subprocess.run([sys.executable, "-c", OUT_OF_MEMORY, str(folder),
                           str(tmp_path / "ut.xlsx")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Minnet tog slut medan planböckerna lästes. Inget skrevs. Stäng andra program, eller "
        "kör på en dator med mer minne, och kör igen.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inkorg"]


TERM = """
import os
import signal
import sys
from pathlib import Path

import typer

from xlplan.consolidation import consolidate
from xlplan.runlog import run_logged


def arrived(path: Path) -> None:
    if not arrived.done:  # files in flight: the service manager says stop
        arrived.done = True
        os.kill(os.getpid(), signal.SIGTERM)


arrived.done = False


def job() -> int:
    consolidate(Path(sys.argv[1]), Path(sys.argv[2]), cache=False, progress=arrived)
    return 0


try:
    run_logged(None, "konsolidera", job)
except typer.Exit as exc:
    sys.exit(exc.exit_code)
"""


def test_sigterm_ends_the_run_as_ctrl_c_does(tmp_path: Path) -> None:
    """SIGTERM (a service manager, kill) while the workers read: exit 143, one Swedish line,
    the previous workbook untouched and no temp file beside it (it killed the run where it
    stood, and the workers were left waiting as orphans)."""
    folder = forty(tmp_path)  # enough for the workers (24 files and more)
    out = tmp_path / "ut" / "region.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"last month")
    done = subprocess.run([sys.executable, "-c", TERM, str(folder), str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 143, done.stderr
    assert done.stderr == ("Avbrutet (programmet ombads sluta, SIGTERM). Utfilen skrivs bara "
                           "när körningen blir klar; kör igen när du vill.\n")
    assert [p.name for p in out.parent.iterdir()] == ["region.xlsx"]
    assert out.read_bytes() == b"last month"
