"""Dump what validation and extraction make of workbooks, to prove an optimisation changes
no result.

    python benchmarks/check_identical.py write BASELINE.json FOLDER...
    python benchmarks/check_identical.py compare BASELINE.json FOLDER...

Every .xlsx/.xlsm under the folders (and the three demo planböcker, written to a temporary
folder) is read, validated and extracted; per file the script keeps, as canonical JSON, the
findings (severity, code, sheet, cell, message, parameters, expected, actual), the extract
(or the reason there is none) and the typed model itself (every value's amount, validity
and figure with its precision). Decimals are kept as their exact text (``1.0`` is not
``1``). ``compare`` prints the files that differ and exits 1 if any does.

To record the baseline on older code, unpack that commit (``git archive OLD | tar -x -C
/tmp/old``), copy this script into ``/tmp/old/benchmarks/`` and run it there: it puts its own
tree first on ``sys.path``. Good folders: the benchmark inbox (``make_inbox.py``) and the
workbooks the test suite builds (``pytest --basetemp=/tmp/books``, kept after the run).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlplan.demo import write_demo
from xlplan.errors import XlplanError
from xlplan.extract import extract_or_reason
from xlplan.io.raw import RawCell
from xlplan.io.xlsx import read_workbook
from xlplan.model import Planbok, Row, TableData, Value
from xlplan.validation import validate_raw


def canon(v: Any) -> Any:
    """Plain JSON data, exact: a Decimal keeps its exponent, a tuple key becomes text."""
    if isinstance(v, Decimal):
        return "D:" + str(v)
    if isinstance(v, Enum):
        return canon(v.value)
    if isinstance(v, RawCell):
        return [v.row, v.col, v.kind.value, v.value, v.formula]
    if isinstance(v, Value):
        return {"ref": v.ref, "amount": canon(v.amount), "valid": v.valid,
                "derived": canon(v.derived), "figure": canon(v.figure), "text": v.text,
                "blank": v.blank, "subtotal": v.excluded_from_subtotal}
    if isinstance(v, Row):
        return {"row": v.row, "hidden": v.hidden,
                "values": {k: canon(x) for k, x in v.values.items()}}
    if isinstance(v, TableData):
        return {"sheet": v.sheet, "header_ref": v.header_ref, "columns": v.columns,
                "headers": v.headers, "rows": canon(v.rows), "totals": canon(v.totals),
                "subtotals": canon(v.subtotals), "extras": canon(v.extras),
                "hidden_rows": list(v.hidden_rows)}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: canon(getattr(v, f.name)) for f in dataclasses.fields(v)
                if f.name not in ("raw", "spec")}
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else repr(k)): canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [canon(x) for x in v]
    if isinstance(v, (frozenset, set)):
        return sorted(canon(x) for x in v)
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return repr(v)


def dump(path: Path) -> Any:
    try:
        raw = read_workbook(path)
    except XlplanError as exc:
        return {"unreadable": str(exc)}
    report = validate_raw(raw, path.name)
    findings = [{
        "severity": f.severity.value, "code": f.code, "sheet": f.sheet, "cell": f.cell,
        "message": f.message, "parameters": canon(f.parameters),
        "expected": canon(f.expected), "actual": canon(f.actual), "file": f.file,
    } for f in report.findings]
    ex, reason = extract_or_reason(report.planbok)
    planbok: Planbok = report.planbok
    return {"findings": findings, "extract": canon(ex), "reason": reason,
            "model": {"info": canon(planbok.info), "tables": canon(planbok.tables),
                      "sheets": list(planbok.sheet_order)}}


def collect(folders: list[str], demo: Path) -> dict[str, Path]:
    files = {f"demo/{p.name}": p for p in write_demo(demo)}
    for folder in folders:
        root = Path(folder)
        for p in sorted([*root.rglob("*.xlsx"), *root.rglob("*.xlsm")]):
            files[f"{root.name}/{p.relative_to(root)}"] = p
    return files


def main(argv: list[str]) -> int:
    mode, baseline, *folders = argv
    with tempfile.TemporaryDirectory() as tmp:
        files = collect(folders, Path(tmp))
        result = {name: dump(p) for name, p in files.items()}
    text = {k: json.dumps(v, sort_keys=True, ensure_ascii=False) for k, v in result.items()}
    if mode == "write":
        Path(baseline).write_text(json.dumps(text, ensure_ascii=False, indent=0), "utf-8")
        print(f"{len(text)} files recorded in {baseline}")
        return 0
    before: dict[str, str] = json.loads(Path(baseline).read_text("utf-8"))
    differ = [k for k in sorted(before.keys() | text.keys()) if before.get(k) != text.get(k)]
    for k in differ[:20]:
        print(f"DIFFERS: {k}")
    print(f"{len(text)} files compared, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
