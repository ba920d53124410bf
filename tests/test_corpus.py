"""The hostile corpus (tests/support/hostile.py), each case with the same assertions, as the user
runs xlplan: in a subprocess under memory and CPU limits.

validate, summary and send on the file alone; consolidate on a monthly inbox holding the
case beside two good planböcker. Every run: the expected exit code, one Swedish sentence (on
stderr, for a refused file) or the finding (on stdout), no traceback, no "Ett oväntat fel",
no control character in any output, the input byte-identical, bounded time and memory. The
inbox run still writes the region workbook, with the bad file listed and its reason, and no
live formula or control character in it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import sha256
from tests.support.hostile import CASES, limited
from tests.support.inbox import hsn, rs

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
ESCAPED_CONTROL = re.compile(r"_x00[01][0-9A-Fa-f]_|_x007[Ff]_")  # xlsxwriter's escapes
CRASH = ("Traceback", "Ett oväntat fel", "internt fel", "Exception ignored")


def xlplan(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "xlplan", *args], capture_output=True,
                            text=True, errors="surrogateescape", timeout=120, cwd=cwd,
                            preexec_fn=limited(), env=_env(cwd))
    return result, time.monotonic() - started


def _env(cwd: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(COLUMNS="400", XLPLAN_AVSANDARE="hsn@region.example",
               XLPLAN_LOGGMAPP=str(cwd / "logg"),
               XLPLAN_MOTTAGARE="ekonomidirektor@region.example")
    return env


def fingerprint(path: Path) -> str:
    """An input's identity: its bytes, or for a special file what it points to (never read)."""
    if path.is_symlink():
        return "->" + str(path.readlink())
    if not path.is_file():
        return f"special {path.stat().st_mode:o}"
    return sha256(path)


def sane(result: subprocess.CompletedProcess[str], elapsed: float) -> None:
    out = result.stdout + result.stderr
    for word in CRASH:
        assert word not in out, out[-3000:]
    assert not CONTROL.search(out), repr(CONTROL.search(out))
    assert elapsed < 60


def check_alone(case: str, command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    spec = CASES[case]
    path = spec.make(tmp_path)
    before = fingerprint(path)
    result, elapsed = xlplan(*command[:1], str(path), *command[1:], cwd=tmp_path)
    sane(result, elapsed)
    assert fingerprint(path) == before
    if spec.exit == 2:
        assert result.returncode == 2, result.stdout[-2000:] + result.stderr
        [line] = result.stderr.strip().splitlines()  # one Swedish sentence
        assert spec.says in line and result.stdout == ""
    return result


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate(case: str, tmp_path: Path) -> None:
    result = check_alone(case, ["validate"], tmp_path)
    assert result.returncode == CASES[case].exit, result.stdout[-2000:] + result.stderr
    assert CASES[case].says in result.stdout + result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_json(case: str, tmp_path: Path) -> None:
    result = check_alone(case, ["validate", "--format", "json"], tmp_path)
    assert result.returncode == CASES[case].exit
    if result.returncode != 2:
        report = json.loads(result.stdout)
        assert len(report["findings"]) <= 1_001  # the cap, plus the one that sums up the rest


@pytest.mark.parametrize("case", sorted(CASES))
def test_summary(case: str, tmp_path: Path) -> None:
    result = check_alone(case, ["summary"], tmp_path)
    assert result.returncode == CASES[case].exit, result.stdout[-2000:] + result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_send_dry_run(case: str, tmp_path: Path) -> None:
    """Refused files before reading (2), files with errors not sent (1), the rest written as a
    message whose text holds no control character."""
    import email
    from email import policy

    eml = tmp_path / "brev.eml"
    result = check_alone(case, ["send", "--dry-run", "--eml", str(eml)], tmp_path)
    assert result.returncode == CASES[case].exit, result.stderr
    assert eml.exists() == (result.returncode == 0)
    if eml.exists():
        msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert not CONTROL.search(body.replace("\n", ""))


def region_sheets(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(zf.read(n).decode("utf-8") for n in zf.namelist()
                       if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml")


@pytest.mark.parametrize("case", sorted(CASES))
def test_monthly_inbox_with_one_bad_file(case: str, tmp_path: Path) -> None:
    from xlplan.text import clean

    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    hsn(inbox / "hsn.xlsx")
    rs(inbox / "rs.xlsx")
    bad = CASES[case].make(inbox)
    for base in inbox.glob(".base-*"):
        base.unlink()
    before = {p.name: fingerprint(p) for p in inbox.iterdir()}
    out = tmp_path / "region.xlsx"
    result, elapsed = xlplan("consolidate", str(inbox), "--out", str(out), "--format", "json",
                             "--ingen-historik", cwd=tmp_path)
    sane(result, elapsed)
    assert {p.name: fingerprint(p) for p in inbox.iterdir()} == before
    # HSN's transfer RS/500/2024 has no counterpart at RS: an error of the region in any case
    assert result.returncode == 1, result.stderr
    region = json.loads(result.stdout)
    assert region["namnder"][:2] == ["HSN", "RS"]
    [listed] = [f for f in region["filer"] if f["fil"] == clean(bad.name)]
    if CASES[case].exit == 2:
        assert not listed["anvand"] and CASES[case].says in listed["orsak"]
    elif CASES[case].exit == 1:
        assert listed["fel"] >= 1
    written = region_sheets(out)
    # no live formula from the inputs: the only formulas are the region workbook's own totals
    # rows, SUBTOTAL(109, [Column]) over its own tables
    assert "<f " not in written
    for formula in re.findall(r"<f>(.*?)</f>", written, re.S):
        assert re.fullmatch(r"SUBTOTAL\(109,\w*\[[^\[\]]+\]\)", formula), formula
    assert not CONTROL.search(written) and not ESCAPED_CONTROL.search(written)
    if CASES[case].exit == 2:
        assert CASES[case].says in written  # the reason, in the Manifest/Kontroll sheets


def test_output_equal_to_input_is_refused_by_every_command(tmp_path: Path) -> None:
    from tests.support.hostile import run_book

    planbok = run_book(tmp_path / "run.xlsx")
    before = sha256(planbok)
    result, _ = xlplan("send", str(planbok), "--dry-run", "--eml", str(planbok), cwd=tmp_path)
    assert result.returncode == 2 and "samma fil" in result.stderr
    link = tmp_path / "lank.eml"
    link.hardlink_to(planbok)  # the same file under another name
    result, _ = xlplan("send", str(planbok), "--dry-run", "--eml", str(link), cwd=tmp_path)
    assert result.returncode == 2 and "samma fil" in result.stderr
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    rs(inbox / "rs.xlsx")
    result, _ = xlplan("consolidate", str(inbox), "--out", str(inbox / "rs.xlsx"), cwd=tmp_path)
    assert result.returncode == 2 and "inkorgen" in result.stderr
    assert sha256(planbok) == before


@pytest.mark.parametrize("case", sorted(CASES))
def test_monthly_inbox_as_text(case: str, tmp_path: Path) -> None:
    """The same inbox, read by a person: file names and reasons printed clean."""
    from xlplan.text import clean

    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    rs(inbox / "rs.xlsx")
    bad = CASES[case].make(inbox)
    for base in inbox.glob(".base-*"):
        base.unlink()
    result, elapsed = xlplan("consolidate", str(inbox), "--out", str(tmp_path / "region.xlsx"),
                             "--ingen-historik", cwd=tmp_path)
    sane(result, elapsed)
    # RS and RUN alone have no region error (their internal items differ: a warning), so the
    # exit is the bad file's: 0 for a file that reads clean, else 1
    assert result.returncode == min(CASES[case].exit, 1), result.stderr
    [line] = [s for s in result.stdout.splitlines() if s.startswith(f"  {clean(bad.name)}:")]
    if CASES[case].exit == 2:
        assert "används inte" in line and CASES[case].says in line


def test_validate_goes_on_after_a_bad_file(tmp_path: Path) -> None:
    from tests.support.hostile import run_book

    good = run_book(tmp_path / "bra.xlsx")
    files = [CASES[c].make(tmp_path) for c in ("fifo", "deflate64", "nan")]
    result, elapsed = xlplan("validate", str(files[0]), str(good), str(files[1]), str(files[2]),
                             cwd=tmp_path)
    sane(result, elapsed)
    assert result.returncode == 2  # the worst of: refused (2), errors (1), clean (0)
    assert result.stderr.splitlines() == [
        "pipe.xlsx är ingen vanlig fil (utan t.ex. en namngiven pipe eller en enhet) och läses "
        "inte.",
        "Filen deflate64.xlsx är packad med Deflate64, som Excel inte använder; den kan inte "
        "läsas. Öppna den i Excel och spara om."]
    assert f"{good}: inga fel" in result.stdout and f"{files[2]}: 1 fel" in result.stdout
