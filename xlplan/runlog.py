"""A log file per run, for a scheduled job (systemd timer, Windows Task Scheduler).

``run_logged(folder, name, job)`` runs ``job`` (which returns the exit code) and, when
``folder`` is given, copies everything it prints (stdout and stderr) into
``<folder>/<name>-YYYYMMDD-HHMMSS.log`` with a first line saying when it started and a last
line with the exit code, so a scheduler's alert can point at the file. The exit code is the
command's: 0 all valid, 1 written but with errors, 2 refused or could not run.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import typer

from xlplan.errors import OutputError, XlplanError, os_reason


class _Tee(io.TextIOBase):
    def __init__(self, stream: TextIO, log: TextIO) -> None:
        self.stream, self.log = stream, log

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def write(self, text: str) -> int:
        self.log.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.log.flush()
        self.stream.flush()

    def isatty(self) -> bool:
        return False  # no progress bar in a log


def log_path(folder: Path, name: str, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{name}-{stamp}.log"
    n = 1
    while path.exists():  # two runs in one second: never overwrite a log
        n += 1
        path = folder / f"{name}-{stamp}-{n}.log"
    return path


INTERRUPTED = ("Avbrutet (Ctrl-C). Utfilen skrivs bara när körningen blir klar; kör igen "
               "när du vill.")
TERMINATED = ("Avbrutet (programmet ombads sluta, SIGTERM). Utfilen skrivs bara när körningen "
              "blir klar; kör igen när du vill.")


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager, ``kill``): ends the run as Ctrl-C does, through the same
    clean-up (temp files removed, workers stopped), with exit 143."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def _stopped(exc: KeyboardInterrupt) -> int:
    terminated = isinstance(exc, Terminated)
    print(TERMINATED if terminated else INTERRUPTED, file=sys.stderr)
    return 143 if terminated else 130


def run_logged(folder: Path | None, name: str, job: Callable[[], int]) -> None:
    """Run ``job`` and exit with its code; with ``folder``, log the run there. SIGTERM ends
    it as Ctrl-C does (exit 143)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        _run_logged(folder, name, job)
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _run_logged(folder, name, job)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_logged(folder: Path | None, name: str, job: Callable[[], int]) -> None:
    if folder is None:
        try:
            code = job()
        except KeyboardInterrupt as exc:
            code = _stopped(exc)
        raise typer.Exit(code)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = log_path(folder, name)
        log = path.open("x", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"Loggmappen {folder} kan inte användas ({os_reason(exc)}).") from None
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    log.write(f"xlplan {name} startade {started}: {' '.join(sys.argv[1:])}\n")
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)
    code = 2
    try:
        code = job()
    except XlplanError as exc:
        print(exc.message, file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        code = _stopped(exc)
    except Exception as exc:
        print(f"Ett oväntat fel inträffade ({type(exc).__name__}).", file=sys.stderr)
        code = 2
    finally:
        sys.stdout, sys.stderr = out, err
        ended = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        log.write(f"xlplan {name} slutade {ended} med exit {code}\n")
        log.close()
    raise typer.Exit(code)
