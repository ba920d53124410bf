"""The CLI as users run it: a real process, real files, exit codes and JSON per the contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.cli import ROOT, sha256, xlplan
from tests.support.plan import full_plan


def test_validate_json_follows_the_contract(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    result = xlplan("validate", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"file", "findings", "summary"}
    assert out["summary"] == {"errors": 0, "warnings": len(out["findings"])}
    for f in out["findings"]:
        # the contract's keys, and the parameters the message was rendered from
        assert set(f) == {"severity", "code", "sheet", "cell", "message", "expected", "actual",
                          "parameters"}
        assert isinstance(f["parameters"], dict)
        assert re.fullmatch(r"[A-Z]{1,3}[0-9]+", f["cell"])


def test_validate_exit_1_with_errors_and_expected_actual(tmp_path: Path) -> None:
    from tests.support.plan import budgetram

    t = budgetram()
    t.totals = list(t.totals or [])
    t.totals[2] = 175.9  # Externa intäkter: rows give 175.4 (0,5 off: beyond one 0,1 unit)
    path = full_plan(tmp_path, Budgetram=t)
    before = sha256(path)
    result = xlplan("validate", str(path), "-f", "json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    errors = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["code"], f["sheet"], f["cell"], f["expected"], f["actual"]) for f in errors] == [
        ("summeringsfel", "Budgetram", "D8", "175.4", "175.9")]
    assert out["summary"]["errors"] == 1
    assert sha256(path) == before


def test_validate_text_report_groups_by_sheet(tmp_path: Path) -> None:
    from tests.support.plan import budgetram

    t = budgetram()
    t.totals = list(t.totals or [])
    t.totals[2] = 175.9  # rows give 175.4: 0,5 off, beyond one 0,1 unit
    result = xlplan("validate", str(full_plan(tmp_path, Budgetram=t)))
    assert result.returncode == 1
    assert "1 fel" in result.stdout and "Blad: Budgetram" in result.stdout
    assert "summeringsfel" in result.stdout


def test_unreadable_file_exit_2_one_swedish_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "trasig.xlsx"
    bad.write_bytes(b"inte en arbetsbok")
    result = xlplan("validate", str(bad), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "inte en Excel-arbetsbok" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_several_files_give_one_json_object_per_line(tmp_path: Path) -> None:
    a = full_plan(tmp_path, "a.xlsx")
    b = full_plan(tmp_path, "b.xlsx")
    result = xlplan("validate", str(a), str(b), "-f", "json")
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["file"] for line in lines] == [str(a), str(b)]


def test_new_then_validate_and_refuse_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "hsn.xlsx"
    assert xlplan("new", "--namnd", "hsn", "--ar", "2027", str(path)).returncode == 0
    assert xlplan("validate", str(path)).returncode == 0
    before = sha256(path)
    again = xlplan("new", "--namnd", "HSN", "--ar", "2027", str(path))
    assert again.returncode == 2 and "finns redan" in again.stderr
    assert sha256(path) == before


def test_demo_writes_books_and_reports(tmp_path: Path) -> None:
    result = xlplan("demo", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "planbok-RS-2027.xlsx: inga fel" in result.stdout
    assert "planbok-HSN-2027.xlsx:" in result.stdout
    reports = [json.loads(line) for line in
               xlplan("demo", "--out", str(tmp_path / "d2"), "-f", "json").stdout.splitlines()]
    hsn = next(r for r in reports if r["file"].endswith("HSN-2027.xlsx"))
    # the slips planted in xlplan/demo.py, each at its cell and each counted once: J7
    # Kirurgi's net with digits swapped, D10 a total without the 0,6 row, F8 cost shifting,
    # H9 not risk-assessed, J9 a target typed as an effect, G8 investments 18 500 tkr over
    # the 15 000 tkr frame
    assert sorted((f["code"], f["sheet"], f["cell"]) for f in hsn["findings"]
                  if f["severity"] == "error") == sorted([
        ("nettofel", "Budgetram", "J7"), ("summeringsfel", "Budgetram", "D10"),
        ("overvaltring", "Åtgärdsplan", "F8"), ("ej-riskbedomd", "Åtgärdsplan", "H9"),
        ("ej-tal", "Åtgärdsplan", "J9"), ("over-investeringsram", "Investeringar", "G8")])
    # what follows from J7 alone (Nettoram C5, Prognos' Budget for Kirurgi B7) is a note
    # naming J7; the net column's total J10 holds what its SUBTOTAL computes over J7 as
    # written (as Excel saves it, and LibreOffice recalculates it), so it agrees with its rows
    assert sorted((f["sheet"], f["cell"]) for f in hsn["findings"] if f["code"] == "foljdfel"
                  ) == [("Nettoram", "C5"), ("Prognos", "B7")]
    assert hsn["summary"]["errors"] == 6
    assert "planbok-HSN-2027.xlsx: 6 fel planterade, 6 fel hittade" in result.stdout
    assert [r["summary"]["errors"] for r in reports if "HSN" not in r["file"]] == [0, 0]
    # the consistent nämnder are quiet: their ramförändringar explain their frames
    assert [r["summary"]["warnings"] for r in reports if "HSN" not in r["file"]] == [0, 0]
    assert sorted(p.name for p in (tmp_path / "demo").glob("*.xlsx")) == [
        "planbok-HSN-2027.xlsx", "planbok-RS-2027.xlsx", "planbok-RUN-2027.xlsx"]


def test_usage_error_is_not_a_traceback() -> None:
    result = xlplan("validate")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_every_cli_command_is_in_the_readme() -> None:
    from xlplan.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [cmd.name or (cmd.callback.__name__ if cmd.callback else "")
             for cmd in app.registered_commands]
    for group in app.registered_groups:  # xlplan historik and its commands
        names.append(group.name or "")
        names += [f"{group.name} {cmd.name}" for cmd in group.typer_instance.registered_commands]
    assert names and "historik export" in names
    for name in names:
        assert re.search(rf"^\s*xlplan {name}\b", readme, re.MULTILINE), f"xlplan {name} saknas"


def test_every_finding_code_is_in_the_readme() -> None:
    from xlplan.findings import CATALOGUE

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in CATALOGUE:
        assert f"`{code}`" in readme, f"koden {code} saknas i README"


def test_no_english_left_in_usage_errors_and_system_errors(tmp_path: Path) -> None:
    extra = xlplan("historik", "ta-bort", "1", "2", "--ja")
    assert extra.returncode == 2 and "Fel: Oväntade extra argument (2)." in extra.stderr
    usage = {cmd: xlplan(*cmd.split()).stderr.splitlines()[0]
             for cmd in ("validate", "summary", "historik ta-bort", "historik export")}
    assert usage == {
        "validate": "Användning: python -m xlplan validate [FLAGGOR] FILER...",
        "summary": "Användning: python -m xlplan summary [FLAGGOR] FIL",
        "historik ta-bort": "Användning: python -m xlplan historik ta-bort [FLAGGOR] KÖRNING",
        "historik export": "Användning: python -m xlplan historik export [FLAGGOR] FIL",
    }
    helps = "".join(xlplan(*cmd.split(), "--help").stdout
                    for cmd in ("validate", "summary", "send", "consolidate", "historik"))
    assert not re.search(r"<(path|str|int)>|\{\w+\}", helps), helps
    # an operating system's reason in Swedish, never its English strerror
    denied = xlplan("new", "--namnd", "HSN", "--ar", "2027", "/proc/hsn.xlsx")
    assert denied.returncode == 2
    assert denied.stderr.strip() == ("Kan inte skriva i mappen /proc (där går det inte att skapa "
                                     "filer); hsn.xlsx skrevs inte.")
    demo = xlplan("demo", "--out", "/proc/xlplan-demo")
    assert demo.returncode == 2 and "Traceback" not in demo.stderr
    assert demo.stderr.startswith("Mappen /proc/xlplan-demo kan inte skapas (")


def test_a_history_database_that_cannot_be_used_says_what_to_do(tmp_path: Path) -> None:
    from tests.support.smtp import free_port

    bogus = xlplan("historik", "--db", "bogus://x")
    assert bogus.returncode == 2
    assert "adressen är ingen databasadress xlplan kan använda" in bogus.stderr
    assert "sqlite:///" in bogus.stderr and "Error" not in bogus.stderr
    # nothing listens on this port: PostgreSQL unreachable
    gone = xlplan("historik", "--db", f"postgresql+psycopg://xlplan@127.0.0.1:{free_port()}/x")
    assert gone.returncode == 2 and "databasservern svarar inte" in gone.stderr
    assert "OperationalError" not in gone.stderr


def test_help_columns_stay_aligned_after_the_swedish_metavars() -> None:
    # "<path>" became "<sökväg>" (two characters longer): the description column must not move
    text = xlplan("validate", "--help").stdout
    lines = text.splitlines()
    fmt = next(line for line in lines if "--format" in line)
    mark = next(line for line in lines if "--markera" in line)
    assert "<sökväg>" in mark
    assert fmt.index("text eller json") == mark.index("Skriv en kopia")


def test_an_undecodable_file_name_is_named_alike_in_json_and_text(tmp_path: Path) -> None:
    # a name with a byte that is no UTF-8 (a file from another system): U+FFFD in both
    # outputs, not "?" in one of them
    import os

    good = full_plan(tmp_path)
    odd = os.path.join(os.fsencode(tmp_path), b"hsn\xff.xlsx")
    os.rename(os.fsencode(good), odd)
    path = os.fsdecode(odd)
    as_json = json.loads(xlplan("validate", path, "--format", "json").stdout)
    assert as_json["file"].endswith("hsn\ufffd.xlsx")
    assert "hsn\ufffd.xlsx" in xlplan("validate", path).stdout
