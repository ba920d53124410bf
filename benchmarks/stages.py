"""CPU time per planbok of each stage of reading one file: read, validate, extract.

    python benchmarks/stages.py [FOLDER] [--files 100] [--rounds 3]

FOLDER holds planböcker (make them with make_inbox.py; default benchmarks/.data/inbox-200).
Each stage is timed with ``time.process_time`` over the same files, ``rounds`` times, and
printed in ms per planbok: the first round (cold caches) and the best. The stages run file
by file, nothing kept from one file to the next, as in a worker.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlplan.extract import extract_or_reason
from xlplan.io.xlsx import read_workbook
from xlplan.validation import validate_raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="benchmarks/.data/inbox-200")
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = sorted(Path(args.folder).glob("*.xls[xm]"))[: args.files]
    n = len(paths)
    clock = time.process_time
    read, validate, extract = [], [], []
    for _ in range(args.rounds):
        gc.collect()
        r = v = e = 0.0
        for path in paths:  # as a worker does: one file at a time, nothing kept
            start = clock()
            raw = read_workbook(path)
            read_done = clock()
            report = validate_raw(raw, path.name)
            validate_done = clock()
            extract_or_reason(report.planbok)
            r, v, e = r + read_done - start, v + validate_done - read_done, e + clock() - validate_done
            del raw, report
        read.append(r)
        validate.append(v)
        extract.append(e)
    both = [a + b for a, b in zip(validate, extract, strict=True)]
    print(f"{n} planböcker, CPU ms per planbok (first round, best of {args.rounds}):")
    for name, times in (("read_workbook", read), ("validate_raw", validate),
                        ("extract_or_reason", extract), ("validate + extract", both)):
        print(f"  {name:<19}{1000 * times[0] / n:6.2f} {1000 * min(times) / n:6.2f}")


if __name__ == "__main__":
    main()
