"""CPU time of reading one planbok: the fast reader against the reference reader, on the same
files in the same run (and python-calamine's read of every sheet, the floor, when installed).

    python benchmarks/reader.py                 # 100 planböcker of benchmarks/.data/inbox-200
    python benchmarks/reader.py --files 20 --rounds 1

Prints milliseconds of CPU (time.process_time) per planbok, the best of a few rounds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.make_inbox import make_inbox  # noqa: E402
from xlplan.io.xlsx import read_workbook  # noqa: E402


def cpu_ms(files: list[Path], reads: dict[str, Callable[[Path], object]],
           rounds: int) -> dict[str, float]:
    """Each reader's best round, in CPU milliseconds per file; the readers take turns in every
    round, so a neighbour's load on the machine weighs on them alike."""
    for read in reads.values():
        for path in files[:5]:
            read(path)  # warm: imports, caches
    best = dict.fromkeys(reads, float("inf"))
    for _ in range(rounds):
        for label, read in reads.items():
            start = time.process_time()
            for path in files:
                read(path)
            best[label] = min(best[label], (time.process_time() - start) / len(files) * 1000)
    return best


def calamine_read(path: Path) -> object:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return [wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = HERE / ".data" / "inbox-200"
    if len(list(folder.glob("*.xlsx"))) < 200:
        make_inbox(folder, 200)
    files = sorted(folder.glob("*.xlsx"))[: args.files]
    reads: dict[str, Callable[[Path], object]] = {
        "fast": read_workbook, "reference": lambda p: read_workbook(p, scan=False)}
    try:
        import python_calamine  # noqa: F401
        reads["calamine"] = calamine_read
    except ImportError:
        pass
    ms = cpu_ms(files, reads, args.rounds)
    print(f"read_workbook, CPU per planbok over {len(files)} files (best of {args.rounds}):")
    print(f"  fast (sheetscan + C parser)   {ms['fast']:6.2f} ms")
    print(f"  reference (expat callbacks)   {ms['reference']:6.2f} ms   "
          f"({ms['reference'] / ms['fast']:.1f}x the fast)")
    if "calamine" in ms:
        print(f"  python-calamine, every sheet  {ms['calamine']:6.2f} ms   "
              f"(the fast is {ms['fast'] / ms['calamine']:.1f}x)")

if __name__ == "__main__":
    main()
