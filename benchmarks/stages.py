"""CPU time per planbok of each stage of reading one file: read, validate, extract.

    python benchmarks/stages.py [FOLDER] [--files 100] [--rounds 3]

FOLDER holds planböcker (make them with make_inbox.py; default benchmarks/.data/inbox-200).
Each stage is timed with ``time.process_time`` over the same files, ``rounds`` times, and
printed in ms per planbok: the first round (cold caches) and the best.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlplan.extract import extract_or_reason
from xlplan.io.xlsx import read_workbook
from xlplan.validation import validate_raw


def timed(rounds: int, work: Callable[[], object]) -> tuple[float, float]:
    """(first round, best round): the first pays for cold caches."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return times[0], min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="benchmarks/.data/inbox-200")
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = sorted(Path(args.folder).glob("*.xls[xm]"))[: args.files]
    n = len(paths)
    raws = [read_workbook(p) for p in paths]
    reports = [validate_raw(r, p.name) for r, p in zip(raws, paths, strict=True)]
    read = timed(args.rounds, lambda: [read_workbook(p) for p in paths])
    validate = timed(args.rounds, lambda: [validate_raw(r, p.name)
                                          for r, p in zip(raws, paths, strict=True)])
    extract = timed(args.rounds, lambda: [extract_or_reason(r.planbok) for r in reports])
    both = (validate[0] + extract[0], validate[1] + extract[1])
    print(f"{n} planböcker, CPU ms per planbok (first round, best of {args.rounds}):")
    for name, (first, fastest) in (("read_workbook", read), ("validate_raw", validate),
                                   ("extract_or_reason", extract),
                                   ("validate + extract", both)):
        print(f"  {name:<19}{1000 * first / n:6.2f} {1000 * fastest / n:6.2f}")


if __name__ == "__main__":
    main()
