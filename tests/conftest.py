from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.readers import assert_readers_agree, content_key, workbooks_under

_checked: set[str] = set()  # the contents of the workbooks both readers were compared on
_seen: set[tuple[str, int, int]] = set()  # files (path, size, mtime) already looked at
_seconds = [0.0]  # the time the comparisons took, shown at the end of the run


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


def _compare_new(folder: Path) -> None:
    start = time.perf_counter()
    try:
        for path in workbooks_under(folder):
            info = path.stat()
            seen = (str(path), info.st_size, info.st_mtime_ns)
            if seen in _seen:
                continue
            _seen.add(seen)
            key = content_key(path)
            if key not in _checked:
                _checked.add(key)
                assert_readers_agree(path)
    finally:
        _seconds[0] += time.perf_counter() - start


@pytest.fixture(autouse=True)
def _readers_agree(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, the fast and the reference workbook reader give the same result on
    every workbook the test left in its tmp_path (tests/support/readers.py)."""
    # asked for before the test runs, so that it is torn down after this fixture
    folder = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if folder is not None:
        _compare_new(folder)


@pytest.fixture(scope="session", autouse=True)
def _readers_agree_everywhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end of the session, the same on every workbook left anywhere in the session's
    temporary folders (tmp_path_factory's, the module fixtures' included)."""
    yield
    _compare_new(tmp_path_factory.getbasetemp())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _checked:
        terminalreporter.write_line(
            f"readers compared on {len(_checked)} distinct workbooks in {_seconds[0]:.1f} s")
