"""Atomic output: write to a temp file beside the target, then rename into place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from xlplan.errors import OutputError, os_reason


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path in ``target``'s folder; on success it replaces ``target``.

    On any failure the temp file is removed and ``target`` is left as it was.
    """
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"Mappen {folder} finns inte.")
    if target.is_dir():
        raise OutputError(f"{target} är en mapp; välj ett filnamn.")
    _remove_orphans(folder, target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}-{os.getpid()}-", suffix=target.suffix,
                                    dir=folder)
    except PermissionError:
        raise OutputError(f"Mappen {folder} är skrivskyddad; {target.name} skrevs inte.") from None
    except OSError as exc:
        why = "där går det inte att skapa filer" if folder.is_dir() else os_reason(exc)
        raise OutputError(f"Kan inte skriva i mappen {folder} ({why}).") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        try:
            os.replace(tmp, target)
        except PermissionError:
            raise OutputError(
                f"{target.name} kan inte ersättas: filen är skrivskyddad eller öppen i ett annat "
                "program. Stäng den och försök igen."
            ) from None
        except OSError as exc:
            raise OutputError(f"{target.name} kunde inte skrivas ({os_reason(exc)}).") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _remove_orphans(folder: Path, target: Path) -> None:
    """Temp files left by a writer that was killed (its process is gone) are removed."""
    for leftover in folder.glob(f".{target.stem}-*-*{target.suffix}"):
        pid_text = leftover.name[len(target.stem) + 2:].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                leftover.unlink()
        except PermissionError:
            pass  # alive, someone else's


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
