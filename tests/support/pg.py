"""A private PostgreSQL server for the tests, started in a temp dir (no mocks)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.smtp import free_port


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                reverse=True)), None)
    if found is None:
        raise AssertionError(f"PostgreSQL ({name}) saknas: installera paketet postgresql. "
                             "Testerna mot en riktig databas får inte hoppas över.")
    return found


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres() -> Iterator[str]:
    """Start a throw-away server in its own temp dir (the postgres user must reach it);
    yield its SQLAlchemy URL."""
    folder = Path(tempfile.mkdtemp(prefix="xlplan-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    subprocess.run(_as_postgres([pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "xlplan"]),
                   check=True, capture_output=True, timeout=120)
    subprocess.run(_as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-o",
                                 f"-k {folder} -p {port} -c listen_addresses=''",
                                 "-l", str(folder / "log"), "-w", "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql+psycopg://xlplan@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run(_as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
