"""Time xlplan against the floor, side by side, on the same files in the same run.

    python benchmarks/run.py                   # 200 and 2 000 planböcker, writes RESULTS.md
    python benchmarks/run.py --small 5 --large 20 --no-results   # a smoke run

Prints a table of times, ratios and peak memory; targets are in the README and the issue.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.make_inbox import make_inbox  # noqa: E402

PY = sys.executable


def wall(cmd: list[str], reps: int = 5) -> float:
    """Median wall time of a process, in seconds."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


def run_with_peak(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds of the whole process tree, peak MB of the whole process
    tree, exit code). CPU is user + system of the process and every descendant it waited for
    (RUSAGE_CHILDREN), so the worker pool counts too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, peak / 1024, code


def per_file(fn: Callable[[Path], object], files: list[Path]) -> float:
    t = time.perf_counter()
    for f in files:
        fn(f)
    return (time.perf_counter() - t) / len(files)


def calamine_read(path: Path) -> None:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()


def calamine_total(files: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds for a raw python-calamine read of every sheet of ``files``."""
    t, c = time.perf_counter(), time.process_time()
    for f in files:
        calamine_read(f)
    return time.perf_counter() - t, time.process_time() - c


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "?")
    return (f"{os.cpu_count()} cores ({model}), {int(mem) // 1024 // 1024} GiB, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=HERE / ".data")
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    small_dir, large_dir = args.data / f"inbox-{args.small}", args.data / f"inbox-{args.large}"
    t = time.perf_counter()
    small = make_inbox(small_dir, args.small)
    large = make_inbox(large_dir, args.large)
    print(f"inboxes ready in {time.perf_counter() - t:.1f} s")
    one = small[0]
    rows: list[tuple[str, str, str]] = []

    def row(label: str, value: str, note: str = "") -> None:
        rows.append((label, value, note))
        print(f"{label:<58} {value:>14}  {note}")

    # --- one planbok as a process, and the CLI's start ---------------------------------------
    ours = wall([PY, "-m", "xlplan", "validate", str(one)])
    floor = wall([PY, "-c", f"import openpyxl; openpyxl.load_workbook({str(one)!r})"])
    row("xlplan validate ONE (process)", f"{ours * 1000:.0f} ms")
    row("python -c 'openpyxl.load_workbook(ONE)' (process)", f"{floor * 1000:.0f} ms",
        f"ratio {ours / floor:.2f} (target ≤ 1)")
    helptime = wall([PY, "-m", "xlplan", "--help"])
    row("xlplan --help (process)", f"{helptime * 1000:.0f} ms", "target ≤ 150 ms")

    # --- in-process, per file ----------------------------------------------------------------
    from xlplan.validation import validate

    v = per_file(validate, small)
    c_small = per_file(calamine_read, small)
    import openpyxl

    o = per_file(lambda p: openpyxl.load_workbook(p), small[: min(50, len(small))])
    row(f"validate, in process, per planbok ({len(small)})", f"{v * 1000:.1f} ms")
    row("python-calamine raw read of every sheet, per planbok", f"{c_small * 1000:.1f} ms",
        f"validate / calamine {v / c_small:.1f}")
    row("openpyxl.load_workbook, per planbok", f"{o * 1000:.1f} ms",
        f"validate / openpyxl {v / o:.2f}")

    # --- consolidation as a process, as users run it: history on (SQLite, the default) ------
    # First run on a fresh history, then a second run of the same inbox (the ekonomidirektör
    # re-runs Konsolidera as files arrive), then a re-run after one file changed.
    with tempfile.TemporaryDirectory() as tmp:
        runs: dict[tuple[str, int], tuple[float, float, float]] = {}
        for label, folder, n in (("small", small_dir, len(small)), ("large", large_dir, len(large))):
            out = Path(tmp) / f"{label}.xlsx"
            db = f"sqlite:///{Path(tmp) / (label + '.db')}"
            for attempt in (1, 2):
                seconds, cpu, peak, code = run_with_peak(
                    [PY, "-m", "xlplan", "consolidate", str(folder), "--out", str(out),
                     "--db", db, "--format", "json"])
                runs[(label, attempt)] = (seconds, cpu, peak)
                row(f"xlplan consolidate {n}, history on, run {attempt} (exit {code})",
                    f"{seconds:.2f} s", f"CPU {cpu:.1f} s, peak {peak:.0f} MB (process tree)")
        # a re-run after one of the small inbox's files changed (a copy of the inbox, so the
        # cached inboxes stay as generated)
        changed = Path(tmp) / "changed"
        shutil.copytree(small_dir, changed)
        victim = sorted(changed.glob("*.xlsx"))[0]
        victim.write_bytes(small[1].read_bytes())
        out, db = Path(tmp) / "changed.xlsx", f"sqlite:///{Path(tmp) / 'changed.db'}"
        cmd = [PY, "-m", "xlplan", "consolidate", str(changed), "--out", str(out), "--db", db,
               "--format", "json"]
        run_with_peak(cmd)
        victim.write_bytes(small[2].read_bytes())
        seconds, cpu, _, code = run_with_peak(cmd)
        row(f"re-run after 1 of {len(small)} files changed (exit {code})", f"{seconds:.2f} s",
            f"CPU {cpu:.1f} s (target < 2 s)")
    (cal_small, cal_small_cpu), (cal_large, cal_large_cpu) = (calamine_total(small),
                                                              calamine_total(large))
    row(f"calamine raw read of {len(small)} / {len(large)}", f"{cal_small:.2f} / {cal_large:.2f} s",
        f"CPU {cal_small_cpu:.2f} / {cal_large_cpu:.2f} s")
    ns, nl = len(small), len(large)
    for attempt in (1, 2):
        (ts, cs, _), (tl, cl, peak_large) = runs[("small", attempt)], runs[("large", attempt)]
        marginal, marginal_cpu = (tl - ts) / (nl - ns), (cl - cs) / (nl - ns)
        cal_marginal = (cal_large - cal_small) / (nl - ns)
        cal_marginal_cpu = (cal_large_cpu - cal_small_cpu) / (nl - ns)
        row(f"run {attempt}: marginal cost per planbok, wall / CPU",
            f"{marginal * 1000:.1f} / {marginal_cpu * 1000:.1f} ms",
            f"ratio to calamine {marginal / cal_marginal:.1f} / "
            f"{marginal_cpu / cal_marginal_cpu:.1f} (target ≤ 3, aim 1.5)")
        row(f"run {attempt}: consolidate {nl}, time / peak memory",
            f"{tl:.1f} s / {peak_large:.0f} MB", "targets < 30 s, ≤ 300 MB")
    row("calamine: marginal cost per planbok, wall / CPU",
        f"{(cal_large - cal_small) / (nl - ns) * 1000:.1f} / "
        f"{(cal_large_cpu - cal_small_cpu) / (nl - ns) * 1000:.1f} ms")

    if not args.no_results:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        lines = ["# Benchmark results", "", f"Machine: {machine()}.", "",
                 f"Load average at the end (1 / 5 / 15 min): {load} — the machine is shared; "
                 "the CPU-time figures are the ones less sensitive to other load.", "",
                 f"Generated by `python benchmarks/run.py` on {time.strftime('%Y-%m-%d %H:%M')}"
                 f" with {len(small)} and {len(large)} planböcker from "
                 "`benchmarks/make_inbox.py` (seed 1).", "",
                 "| Measurement | Value | Note |", "|---|---:|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
