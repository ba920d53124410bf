"""The one catalogue of finding codes against the code that produces findings and the tests
that assert them: every entry renders; every produced code is in the catalogue and declared
by its module (``CODES``); every catalogue code is declared by a producer or asserted by a
test (and in fact both)."""

from __future__ import annotations

import ast
import importlib
import string
from pathlib import Path

from xlplan.findings import CATALOGUE, finding

ROOT = Path(__file__).resolve().parent.parent
PACKAGE, TESTS = ROOT / "xlplan", ROOT / "tests"


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def producers() -> dict[str, tuple[set[str], set[str]]]:
    """Every xlplan module that calls ``finding(...)``: (codes given literally to finding(),
    every catalogue code named anywhere in it, e.g. passed on to a helper)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == "finding"]
        if not calls:
            continue
        direct = {n.args[0].value for n in calls
                  if n.args and isinstance(n.args[0], ast.Constant)}
        named = {n.value for n in ast.walk(tree)
                 if isinstance(n, ast.Constant) and isinstance(n.value, str)
                 and n.value in CATALOGUE}
        out[module_of(path)] = (direct, named)
    return out


def declared() -> dict[str, tuple[str, ...]]:
    return {name: importlib.import_module(name).CODES for name in producers()}


def asserted_by_tests() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py")
                     if p.name != "test_catalogue.py")
    return {code for code in CATALOGUE if f'"{code}"' in text}


def test_every_entry_renders_from_its_parameters() -> None:
    for code, entry in CATALOGUE.items():
        fields = {name for _, name, _, _ in string.Formatter().parse(entry.template) if name}
        f = finding(code, "Blad", "B7", **{name: f"<{name}>" for name in fields - {"cell"}})
        assert f.message and "{" not in f.message, code
        assert set(f.parameters) == fields | {"cell"}, code
        for name in fields - {"cell"}:
            assert f"<{name}>" in f.message, (code, name)
        assert entry.meaning.endswith("."), code  # the README's sentence


def test_every_produced_code_is_in_the_catalogue_and_declared_by_its_module() -> None:
    codes = declared()
    assert {"xlplan.model", "xlplan.region_figures", "xlplan.rules.common"} <= set(codes)
    for name, (direct, named) in producers().items():
        assert direct <= set(CATALOGUE), (name, direct - set(CATALOGUE))
        assert direct <= set(codes[name]), (name, direct - set(codes[name]))
        if name != "xlplan.findings":  # the catalogue itself names every code
            assert named <= set(codes[name]), (name, named - set(codes[name]))
        assert set(codes[name]) <= set(CATALOGUE), name


def test_every_catalogue_code_is_produced_and_asserted() -> None:
    produced = {code for codes in declared().values() for code in codes}
    tested = asserted_by_tests()
    assert set(CATALOGUE) <= produced | tested  # else a dead entry
    assert set(CATALOGUE) - produced == set(), "in the catalogue, produced by no module"
    assert set(CATALOGUE) - tested == set(), "in the catalogue, asserted by no test"
