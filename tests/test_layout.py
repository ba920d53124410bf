"""The README's layout against the files, like the tests that keep commands and finding codes
in sync: every module is listed, and every listed module exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def layout_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Layout\n"):]
    start = section.index("```\n") + 4
    return section[start:section.index("```", start)].splitlines()


def listed() -> tuple[set[str], set[str]]:
    """(modules listed under xlplan/, relative to it; folders listed at the top level)."""
    modules, folders = set(), set()
    for line in layout_block():
        if line.startswith("  "):  # an entry under xlplan/: its first word
            first = line.split()[0]
            if first.endswith(".py"):
                modules.add(first)
        elif line.strip():
            folders.add(line.split()[0])
    return modules, folders


def test_every_module_is_listed_and_every_listed_module_exists() -> None:
    modules, _ = listed()
    package = ROOT / "xlplan"
    actual = {p.relative_to(package).as_posix() for p in package.rglob("*.py")
              if "versions" not in p.parts}  # Alembic revisions: listed as migrations/versions/
    assert len(actual) > 50
    assert sorted(actual - modules) == [], "in xlplan/, missing from the README's layout"
    assert sorted(modules - actual) == [], "in the README's layout, not in xlplan/"


def test_every_listed_folder_exists() -> None:
    _, folders = listed()
    assert "xlplan/" in folders and "tests/support/" in folders
    for folder in folders:
        assert (ROOT / folder).is_dir(), folder
    inside = [line.split()[0] for line in layout_block()
              if line.startswith("  ") and line.split()[0].endswith("/")]
    assert inside == ["server_static/"]
    for name in inside:
        assert (ROOT / "xlplan" / name).is_dir(), name


def test_excel_number_formats_are_written_in_one_place() -> None:
    # "#,##0.0", "#,##0", "0.0%": only xlplan/numbers.py spells them
    pattern = re.compile(r"[\"']#,##0|[\"']0\.0%")
    spelled = [p.relative_to(ROOT).as_posix() for p in (ROOT / "xlplan").rglob("*.py")
               if pattern.search(p.read_text(encoding="utf-8"))]
    assert spelled == ["xlplan/numbers.py"]


def test_summary_types_name_their_fields_as_their_json_keys(tmp_path: Path) -> None:
    # the naming rule: a summary type's fields are the JSON keys they are written under
    import dataclasses

    from tests.support.plan import full_plan
    from xlplan import validate
    from xlplan.settings import Settings
    from xlplan.summary.compute import summarize

    summary = summarize(validate(full_plan(tmp_path)).planbok, Settings())
    out = summary.to_json()
    assert {f.name for f in dataclasses.fields(summary)} <= set(out)
    checked = 0
    for field in dataclasses.fields(summary):
        section = getattr(summary, field.name)
        if dataclasses.is_dataclass(section):
            names = {f.name for f in dataclasses.fields(section)} - {"years"}  # not written
            assert names <= set(out[field.name]), (field.name, names - set(out[field.name]))
            checked += 1
    assert checked >= 5
