"""Time and peak memory of xlplan on the heavy hostile files (tests/support/hostile.py builds them).

    python benchmarks/hostile.py            # prints one line per case

Each command runs in its own process; peak memory is the child's maximum resident set size.
The cases are the ones that cost minutes and gigabytes before the work limits (issue 14):
a table whose ref claims the whole sheet, one that claims a million rows, a number with a
million-digit exponent, and tens of thousands of text cells in amount columns.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.support.hostile import CASES  # noqa: E402

HEAVY = ("ref-whole-sheet", "ref-million-rows", "huge-exponent", "decimal-overflow",
         "many-findings", "too-many-cells", "infinite-sum")


def measure(args: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MB of this child alone, exit code)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "xlplan", *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'case':<20} {'size':>9} {'command':<16} {'exit':>4} {'time':>8} {'peak':>9}")
        for name in HEAVY:
            path = CASES[name].make(Path(folder))
            size = path.stat().st_size
            for command in (["validate"], ["validate", "--format", "json"], ["summary"]):
                seconds, peak, code = measure([*command, str(path)])
                print(f"{name:<20} {size / 1024:>7.0f}kB {' '.join(command):<16} {code:>4} "
                      f"{seconds:>7.2f}s {peak:>7.0f}MB")


if __name__ == "__main__":
    main()
