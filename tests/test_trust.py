"""The things a new user trips on, each tried as a user would: a real process, real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.books import BUDGETRAM_HEADER, TJ, T, info, write_book
from tests.support.cli import sha256, xlplan
from tests.support.plan import full_plan
from xlplan.text import count


def small(path: Path, **fields: object) -> Path:
    return write_book(path, info("RS", 2025, **fields), T(
        "Budgetram", BUDGETRAM_HEADER,
        [["Staben", TJ, 100.0, None, -300.0, None, None, None, None, -200.0]], sheet="Budgetram"))


def test_out_inside_the_inbox_or_not_xlsx_is_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    small(inbox / "rs.xlsx")
    before = sha256(inbox / "rs.xlsx")
    inside = xlplan("consolidate", str(inbox), "--out", str(inbox / "region.xlsx"),
                    "--ingen-historik")
    assert inside.returncode == 2 and "ligger i inkorgen" in inside.stderr
    sub = inbox / "ut"
    sub.mkdir()
    deeper = xlplan("consolidate", str(inbox), "--out", str(sub / "region.xlsx"),
                    "--ingen-historik")
    assert deeper.returncode == 2 and "ligger i inkorgen" in deeper.stderr
    csv = xlplan("consolidate", str(inbox), "--out", str(tmp_path / "r4.csv"), "--ingen-historik")
    assert csv.returncode == 2 and "ska sluta på .xlsx" in csv.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["rs.xlsx", "ut"]
    assert not (tmp_path / "r4.csv").exists() and sha256(inbox / "rs.xlsx") == before


def test_demo_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "mina"
    folder.mkdir()
    mine = folder / "planbok-HSN-2027.xlsx"
    mine.write_bytes(b"min riktiga planbok")
    result = xlplan("demo", "--out", str(folder))
    assert result.returncode == 2 and "tom mapp" in result.stderr
    assert mine.read_bytes() == b"min riktiga planbok"
    assert [p.name for p in folder.iterdir()] == ["planbok-HSN-2027.xlsx"]
    fresh = xlplan("demo", "--out", str(tmp_path / "ny"))
    assert fresh.returncode == 0, fresh.stderr
    assert len(list((tmp_path / "ny").iterdir())) == 3


def _mail_env(tmp: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLPLAN_")}
    env.update({"XLPLAN_LOGGMAPP": str(tmp / "logg"), "XLPLAN_INSTALLNINGAR": "",
                "XLPLAN_SMTP_HOST": "127.0.0.1", "XLPLAN_SMTP_PORT": "1"})
    env.update(more)
    return env


def _run(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str, str]:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "xlplan", *args], capture_output=True, text=True,
                       env=env, cwd=cwd, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_eml_only_with_dry_run(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    env = _mail_env(tmp_path, XLPLAN_AVSANDARE="hsn@region.example",
                    XLPLAN_MOTTAGARE="cfo@region.example")
    code, _, err = _run(env, "send", str(path), "--eml", str(tmp_path / "brev.eml"), cwd=tmp_path)
    assert code == 2 and "bara med --dry-run" in err and "Inget skickades" in err
    assert not (tmp_path / "brev.eml").exists()
    assert not (tmp_path / "logg").exists()  # not even an attempt


def test_all_missing_settings_and_bad_addresses_in_one_message(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    env = _mail_env(tmp_path)
    code, _, err = _run(env, "send", str(path), "--dry-run", cwd=tmp_path)
    assert code == 2
    assert "ingen mottagare" in err and "ingen avsändare" in err and len(err.splitlines()) == 1
    env = _mail_env(tmp_path, XLPLAN_AVSANDARE="hsn@region")
    code, _, err = _run(env, "send", str(path), "--dry-run", "--till", "not an address",
                        "--till", "cfo@region.example", cwd=tmp_path)
    assert code == 2
    assert 'ogiltig e-postadress: "hsn@region", "not an address"' in err


def test_send_format_json(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    env = _mail_env(tmp_path, XLPLAN_AVSANDARE="hsn@region.example")
    code, out, err = _run(env, "send", str(path), "--dry-run", "--till", "cfo@region.example",
                          "--format", "json", cwd=tmp_path)
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "torrkorning" and result["recipients"] == ["cfo@region.example"]
    assert result["message_id"].startswith("<")


def test_swedish_plurals() -> None:
    assert [count(n, "varning", "varningar") for n in (0, 1, 2)] == [
        "0 varningar", "1 varning", "2 varningar"]


def test_one_warning_is_said_in_the_singular(tmp_path: Path) -> None:
    # one warning: Nettobudget typed where the template has a formula (formel-overskriven)
    one = xlplan("validate", str(small(tmp_path / "rs.xlsx")))
    assert "inga fel, 1 varning\n" in one.stdout and "1 varningar" not in one.stdout
    # and a second: an e-mail address that is not one (info-varning)
    two = xlplan("validate", str(small(tmp_path / "rs2.xlsx", **{"E-post": "inte en adress"})))
    assert "inga fel, 2 varningar\n" in two.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["new", "f.xlsx"], "Fel: Flaggan '--ar' saknas."),
    (["consolidate", "x", "--nope"], "Fel: Okänd flagga: --nope"),
    (["new", "--ar", "abc", "f.xlsx"], "Fel: Ogiltigt värde för '--ar': 'abc' är inte ett heltal."),
    (["validate", "a.xlsx", "-f", "xml"], "'xml' är inte något av 'text', 'json'."),
    (["finns-inte"], "Fel: Okänt kommando 'finns-inte'."),
    (["validate"], "Fel: Argumentet 'FILER' saknas."),  # the Swedish metavar
])
def test_usage_errors_are_swedish(args: list[str], expected: str) -> None:
    result = xlplan(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Användning: " in result.stderr and "för hjälp" in result.stderr
    for english in ("Usage", "Error", "Missing", "No such", "Try ", "Invalid value"):
        assert english not in result.stderr


def test_help_is_swedish() -> None:
    result = xlplan("consolidate", "--help")
    assert result.returncode == 0
    assert "Användning: " in result.stdout and "Flaggor:" in result.stdout
    assert "Visa den här hjälpen och avsluta." in result.stdout
    for english in ("Usage", "Options:", "Show this message", "[default", "[required]"):
        assert english not in result.stdout


def test_a_log_file_per_run_with_the_exit_code(tmp_path: Path) -> None:
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    small(inbox / "rs.xlsx")
    logs = tmp_path / "loggar"
    ok = xlplan("consolidate", str(inbox), "--out", str(tmp_path / "r.xlsx"), "--ingen-historik",
                "--logg", str(logs))
    assert ok.returncode == 0, ok.stderr
    refused = xlplan("consolidate", str(tmp_path / "saknas"), "--out", str(tmp_path / "r.xlsx"),
                     "--logg", str(logs))
    assert refused.returncode == 2
    texts = sorted(p.read_text(encoding="utf-8") for p in logs.glob("konsolidera-*.log"))
    assert len(texts) == 2
    done = next(t for t in texts if "exit 0" in t)
    assert "Skrev " in done and done.splitlines()[-1].endswith("med exit 0")
    failed = next(t for t in texts if "exit 2" in t)
    assert "finns inte" in failed


def test_every_bad_setting_in_one_message(tmp_path: Path) -> None:
    env = _mail_env(tmp_path, XLPLAN_SMTP_PORT="abc", XLPLAN_INTERNRANTA="x")
    code, _, err = _run(env, "send", str(full_plan(tmp_path)), "--dry-run", cwd=tmp_path)
    assert code == 2
    assert err.strip() == ("Inställningarna är fel: internranta ska vara ett tal, t.ex. 0.015; "
                           "smtp_port ska vara ett heltal.")
