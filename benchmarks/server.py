"""Validera through ``xlplan serve`` beside Validera through a process start (as RunPython).

    python benchmarks/server.py              # 50 requests each way, 15 process starts
    python benchmarks/server.py --n 10 --starts 5   # a smoke run

The same demo planbok, sent as the JSON xlwings' VBA client sends (tests/support/xlbook.py):
  * server: ``xlplan serve`` started as users start it; each request a new HTTP connection
    (as Excel's WinHttp client does), sequential; then 20 at once (fixed 60 requests);
  * process start: ``python -c "import xlplan.excel …"`` building the same remote Book and
    running the same handler: the cost RunPython pays on every click (cmd.exe and the COM
    round trips of a real Excel come on top and are not measured here).
Prints p50 and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TOKEN = "benchmark-token-0123456789"
PY = sys.executable


def p50_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "XLWINGS_LICENSE_KEY": os.environ.get("XLWINGS_LICENSE_KEY",
                                                                 "noncommercial"),
           "XLPLAN_SERVER_TOKENS": json.dumps({TOKEN: "*"})}
    proc = subprocess.Popen([PY, "-m", "xlplan", "serve", "--port", str(port)], cwd=folder,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("xlplan serve startade inte") from None
            time.sleep(0.1)


def through_server(url: str, body: dict[str, Any], n: int) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(3):  # warm-up: imports on the first request
        httpx.post(f"{url}/validera", json=body, headers=headers, timeout=60).raise_for_status()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = httpx.post(f"{url}/validera", json=body, headers=headers, timeout=60)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
    return times


def concurrent(url: str, body: dict[str, Any], total: int = 60, at_once: int = 20) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}"}

    def one(_: int) -> float:
        start = time.perf_counter()
        httpx.post(f"{url}/validera", json=body, headers=headers, timeout=120).raise_for_status()
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        return list(pool.map(one, range(total)))


def process_start(payload_file: Path, n: int) -> list[float]:
    code = ("import json, xlwings as xw, xlplan.excel as e; "
            f"b = xw.Book(json=json.load(open({str(payload_file)!r}, encoding='utf-8'))); "
            "e.validera(b); b.json()")
    env = {**os.environ, "XLWINGS_LICENSE_KEY": os.environ.get("XLWINGS_LICENSE_KEY",
                                                                 "noncommercial")}
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([PY, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50, help="requests through the server")
    parser.add_argument("--starts", type=int, default=15, help="process starts")
    args = parser.parse_args()

    from tests.support.xlbook import payload
    from xlplan.demo import write_demo

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = write_demo(folder / "demo")[0]
        body = payload(demo, name=demo.name)
        payload_file = folder / "payload.json"
        payload_file.write_text(json.dumps(body), encoding="utf-8")
        proc, url = start_server(folder)
        try:
            served = through_server(url, body, args.n)
            many = concurrent(url, body)
        finally:
            proc.terminate()
            proc.wait(30)
        started = process_start(payload_file, args.starts)

    print(f"Validera of {demo.name} ({len(json.dumps(body)) // 1000} kB JSON)")
    print(f"{'route':<52} {'p50 ms':>8} {'p95 ms':>8}")
    for label, times in [
        (f"xlplan serve, one request at a time (n={args.n})", served),
        ("xlplan serve, 20 at once (60 requests)", many),
        (f"process start, python -c 'import xlplan.excel' (n={args.starts})", started),
    ]:
        p50, p95 = p50_p95(times)
        print(f"{label:<52} {p50:>8.0f} {p95:>8.0f}")


if __name__ == "__main__":
    main()
