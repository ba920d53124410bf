"""The history for people and programs: list runs, remove one, export every figure, and a
pandas DataFrame for analysts (pandas is the optional extra ``xlplan[pandas]``, imported only
inside :func:`history_dataframe`, so the command line starts as fast without it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan.changes import KIND_LABELS
from xlplan.errors import HistoryError, OutputError
from xlplan.io.xltext import write_text
from xlplan.numbers import EXACT_FORMAT
from xlplan.store import HistoryStore, Run

if TYPE_CHECKING:
    import pandas

COLUMNS = ["korning", "budgetar", "rapportmanad", "tid", "aktiv", "namnd", "slag", "objekt",
           "varde"]
SUFFIXES = (".xlsx", ".csv")


@contextmanager
def open_store(url: str, read_only: bool = False) -> Iterator[HistoryStore]:
    """An existing history (a missing SQLite file is an error here, not a new database);
    ``read_only``: see :class:`HistoryStore`."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        # the file, also when named as an SQLite URI (sqlite:///file:PATH?mode=ro&uri=true)
        name = url.removeprefix("sqlite:///")
        path = Path(name.removeprefix("file:").split("?", 1)[0] if name.startswith("file:")
                    else name)
        if not path.is_file():
            raise HistoryError(f"Historikdatabasen {path} finns inte (ingen körning har sparats "
                               "där). Ange en annan med --db.")
    store = HistoryStore(url, read_only)
    try:
        yield store
    finally:
        store.close()


def run_status(run: Run) -> str:
    return "aktiv" if run.active else f"ersatt av {run.ersatt_av}"


def history_rows(url: str, budgetar: int | None = None) -> list[dict[str, Any]]:
    """Every stored figure as a flat row (``COLUMNS``); values exact (Decimal)."""
    with open_store(url, read_only=True) as store:
        return [{"korning": run.id, "budgetar": run.budgetar, "rapportmanad": run.rapportmanad,
                 "tid": run.tid, "aktiv": run.active, "namnd": n, "slag": kind, "objekt": obj,
                 "varde": value}
                for run, (n, kind, obj), value in store.figures_of(budgetar)]


def history_dataframe(url: str, budgetar: int | None = None) -> pandas.DataFrame:
    """The history as a pandas DataFrame, one row a figure (columns ``COLUMNS``).

    ``varde`` holds exact Decimals; ``df["varde"].astype(float)`` for plotting. Needs
    ``pip install 'xlplan[pandas]'``."""
    try:
        import pandas as pd
    except ImportError:
        raise HistoryError("pandas saknas: installera med pip install 'xlplan[pandas]'.") from None
    return pd.DataFrame(history_rows(url, budgetar), columns=COLUMNS)


def export_history(url: str, target: Path, budgetar: int | None = None, *,
                   inboxes: Iterable[Path] = (), overwrite: bool = False) -> int:
    """Write every figure to ``target`` (.xlsx or .csv), atomically; returns the row count.

    Refused (nothing written): a target inside an inbox (``inboxes``, and every inbox the
    history has consolidated), where the next consolidation would read it; the database file
    itself; and an existing file unless ``overwrite``."""
    from xlplan.io.writer import atomic_path

    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise OutputError(f"Exportfilen {target.name} ska sluta på .xlsx eller .csv.")
    with open_store(url, read_only=True) as store:
        recorded = {Path(run.inkorg) for run in store.list_runs() if run.inkorg}
    check_export_target(url, target, [*inboxes, *sorted(recorded)], overwrite)
    rows = history_rows(url, budgetar)
    with atomic_path(target) as tmp:
        if suffix == ".csv":
            tmp.write_text(_csv(rows), encoding="utf-8")
        else:
            _xlsx(tmp, rows)
    return len(rows)


def check_export_target(url: str, target: Path, inboxes: Iterable[Path], overwrite: bool) -> None:
    """The refusals of :func:`export_history`, each a Swedish OutputError."""
    try:
        where = target.resolve()
    except OSError:
        where = target.absolute()
    for inbox in inboxes:
        try:
            inside = where.parent.is_relative_to(inbox.resolve())
        except OSError:
            inside = False
        if inside:
            raise OutputError(f"Exportfilen {target} ligger i inkorgen {inbox}; där läses den som "
                              "en planbok vid nästa konsolidering. Välj en annan mapp. Inget "
                              "skrevs.")
    if url.startswith("sqlite:///") and where == Path(url.removeprefix("sqlite:///")).resolve():
        raise OutputError(f"Exportfilen {target} är historikdatabasen själv; välj ett annat namn. "
                          "Inget skrevs.")
    if target.exists() and not overwrite:
        raise OutputError(f"{target} finns redan; xlplan skriver inte över den. Välj ett nytt "
                          "namn, eller lägg till --skriv-over om den ska ersättas.")


def _csv(rows: list[dict[str, Any]]) -> str:
    """Comma-separated, decimal point, exact values: for programs (Excel users take .xlsx)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None:
        return ""
    text = str(value)
    # text from workbooks must not become a formula in a spreadsheet that opens the CSV
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _xlsx(path: Path, rows: list[dict[str, Any]]) -> None:
    import xlsxwriter

    from xlplan.numbers import to_cell

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    ws = wb.add_worksheet("Historik")
    number = wb.add_format({"num_format": EXACT_FORMAT})
    headers = ["Körning", "Budgetår", "Rapportmånad", "Tid (UTC)", "Aktiv", "Nämnd", "Slag",
               "Objekt", "Värde"]
    for r, row in enumerate(rows, start=1):
        for ci, key in enumerate(COLUMNS):
            value = row[key]
            if key == "slag":
                value = KIND_LABELS.get(value, value)
            if value is None:
                continue
            if isinstance(value, bool):
                write_text(ws, r, ci, "Ja" if value else "Nej")
            elif isinstance(value, Decimal):
                ws.write_number(r, ci, to_cell(value), number)
            elif isinstance(value, int):
                ws.write_number(r, ci, value)
            else:
                write_text(ws, r, ci, str(value))
    ws.add_table(0, 0, max(len(rows), 1), len(headers) - 1, {
        "name": "Historik", "columns": [{"header": h} for h in headers]})
    for ci, width in enumerate([9, 9, 13, 22, 7, 8, 30, 36, 14]):
        ws.set_column(ci, ci, width)
    ws.freeze_panes(1, 0)
    wb.close()
