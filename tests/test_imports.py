"""The house's structure: no import cycle in xlplan/ (imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "xlplan"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(node: ast.If) -> bool:
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports_of(path: Path, modules: set[str], root: Path = PACKAGE) -> set[str]:
    """Every xlplan module ``path`` imports when run: at the top, in functions, in
    branches; not what ``if TYPE_CHECKING:`` imports (that never runs)."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            for alias in node.names:  # `from xlplan import contract`: the submodule
                found.add(f"{origin}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in modules and m != me}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_finder_sees_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    # two modules written here: a imports b at the top, b imports a inside a function
    pkg = tmp_path / "xlplan"
    pkg.mkdir()
    (pkg / "a.py").write_text("from xlplan.b import g\n")
    (pkg / "b.py").write_text("def g():\n    from xlplan import a\n    return a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from xlplan import a\n")
    modules = {"xlplan.a", "xlplan.b", "xlplan.c"}
    graph = {module_name(p, pkg): imports_of(p, modules, pkg) for p in sorted(pkg.glob("*.py"))}
    assert graph == {"xlplan.a": {"xlplan.b"}, "xlplan.b": {"xlplan.a"}, "xlplan.c": set()}
    assert find_cycle(graph) == ["xlplan.a", "xlplan.b", "xlplan.a"]
    assert find_cycle({"xlplan.a": {"xlplan.b"}, "xlplan.b": set()}) is None


def test_xlplan_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "xlplan.consolidation" in graph and len(graph) > 40  # the walk saw the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_region_writers_know_no_store_and_no_run() -> None:
    graph = import_graph()
    for writer in ("xlplan.io.region_writer", "xlplan.io.overview"):
        assert not graph[writer] & {"xlplan.store", "xlplan.consolidation", "xlplan.errors"}


TESTS = PACKAGE.parent / "tests"


def test_no_test_module_imports_from_another() -> None:
    """Shared helpers live in tests/support/; a test module (or conftest) is never imported."""
    bad = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if isinstance(node, ast.ImportFrom) and node.level:
                names = [f"tests.{node.module or ''}"]  # relative: inside tests/
            for name in names:
                last = name.split(".")[-1] if name.startswith("tests") else ""
                if last.startswith("test_") or last == "conftest":
                    bad.append(f"{path.relative_to(TESTS)}:{node.lineno} {name}")
    assert bad == []


def test_shared_test_constants_are_defined_once() -> None:
    # the two budget types: in tests/support/books.py, imported everywhere else
    where = [f"{p.relative_to(TESTS)}" for p in sorted(TESTS.rglob("*.py"))
             for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
             if isinstance(node, ast.Assign)
             for t in node.targets for n in ast.walk(t)
             if isinstance(n, ast.Name) and n.id in {"TJ", "FT"}]
    assert where == ["support/books.py", "support/books.py"]
