"""Atomic output: write to a temp file beside the target, then rename into place.

The temp file is named ``.<target name>~<pid>~<random><suffix>``: the cleanup of orphans left
by a killed writer matches only that exact pattern for its own target (writing
``region.xlsx`` can never match the temp file of ``region-2027.xlsx``), and removes one only
when its process is gone. Any failure while writing (a full disk, a quota, a read-only
folder) is one Swedish sentence; the temp file is removed and the old target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from xlplan.errors import OutputError, XlplanError, os_reason
from xlplan.text import clean


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path in ``target``'s folder; on success it replaces ``target``.

    On any failure the temp file is removed and ``target`` is left as it was.
    """
    folder = target.parent if str(target.parent) else Path(".")
    name = clean(target.name)
    if not folder.is_dir():
        raise OutputError(f"Mappen {clean(str(folder))} finns inte.")
    if target.is_dir():
        raise OutputError(f"{clean(str(target))} är en mapp; välj ett filnamn.")
    if target.exists() and not target.is_file():
        raise OutputError(f"{name} är ingen vanlig fil (t.ex. en pipe eller en enhet); välj ett "
                          "annat filnamn.")
    _remove_orphans(folder, target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=_prefix(target), suffix=target.suffix, dir=folder)
    except PermissionError:
        raise OutputError(f"Mappen {clean(str(folder))} är skrivskyddad; {name} skrevs inte."
                          ) from None
    except OSError as exc:
        why = "där går det inte att skapa filer" if folder.is_dir() else os_reason(exc)
        raise OutputError(f"Kan inte skriva i mappen {clean(str(folder))} ({why}); "
                          f"{name} skrevs inte.") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _quiet_closes():
            yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        try:
            os.replace(tmp, target)
        except PermissionError:
            raise OutputError(
                f"{name} kan inte ersättas: filen är skrivskyddad eller öppen i ett annat "
                "program. Stäng den och försök igen."
            ) from None
    except XlplanError:
        raise
    except Exception as exc:
        cause = _os_cause(exc)
        if cause is None:
            raise
        kept = " Den gamla filen är orörd." if target.exists() else ""
        message = f"{name} kunde inte skrivas ({os_reason(cause)}).{kept}"
        _release(exc)
        raise OutputError(message) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _release(exc: BaseException) -> None:
    """Free what the failed writer left open (a library's half-written zip, referenced by the
    traceback) now, while its close on the full disk can fail quietly: later, at garbage
    collection, Python would print "Exception ignored … Traceback" to stderr."""
    import gc

    with _quiet_closes():
        current: BaseException | None = exc
        while current is not None:
            current.__traceback__ = None  # frees the frames (and the files they hold) now
            current = current.__cause__ or current.__context__
        gc.collect()


@contextlib.contextmanager
def _quiet_closes() -> Iterator[None]:
    """While writing, a file a library fails to close on a full disk (at garbage collection,
    where no one can catch it) is not reported to stderr: the write failure itself is, once,
    in Swedish. Anything else that is unraisable is reported as usual."""
    import sys

    previous = sys.unraisablehook

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, OSError):
            previous(unraisable)

    sys.unraisablehook = quiet
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _prefix(target: Path) -> str:
    return f".{target.name}~{os.getpid()}~"


def _remove_orphans(folder: Path, target: Path) -> None:
    """Temp files of this very target left by a writer that was killed (its process is gone)
    are removed; nothing else is ever touched. Only where a process can be asked whether it
    lives without harm (POSIX: on Windows, ``os.kill(pid, 0)`` would end it)."""
    if os.name != "posix":
        return
    pattern = re.compile(rf"\.{re.escape(target.name)}~(\d+)~[a-z0-9_]{{8}}"
                         rf"{re.escape(target.suffix)}")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for leftover in entries:
        m = pattern.fullmatch(leftover.name)
        if m is None or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                leftover.unlink()
        except (PermissionError, OverflowError):
            pass  # alive and someone else's (or no process id at all)


def _os_cause(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: itself, its cause, or what a library wrapped (xlsxwriter's
    FileCreateError carries the OSError as its argument)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        wrapped = [a for a in current.args if isinstance(a, OSError)]
        if wrapped:
            return wrapped[0]
        current = current.__cause__ or current.__context__
    return None


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, or what a plain new file would get (not mkstemp's 0600)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
