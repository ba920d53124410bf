"""Text output for the terminal (rich): findings grouped by sheet, ordered by cell.

Workbook text (file and sheet names, cells, messages) goes to rich as plain
:class:`~rich.text.Text`, never as markup: a sheet named ``[/]Budgetram`` or
``[link=…]`` is shown as written, not interpreted."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING

from xlplan.findings import Severity
from xlplan.text import count

if TYPE_CHECKING:
    from xlplan.validation import Report

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def report_text(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from xlplan.text import clean

    console = Console(highlight=False, soft_wrap=False, markup=False, emoji=False)
    errors, warnings = report.errors, report.warnings
    status = Text("inga fel", "green") if not errors else Text(f"{errors} fel", "bold red")
    console.print(Text.assemble((clean(report.file), "bold"), ": ", status,
                                f", {count(warnings, 'varning', 'varningar')}"), soft_wrap=True)
    for sheet, group in groupby(report.findings, key=lambda f: f.sheet or ""):
        title = Text(f"Blad: {clean(sheet)}" if sheet else "Arbetsboken")
        table = Table(title=title, title_justify="left", show_lines=False, expand=False)
        table.add_column("", no_wrap=True)
        table.add_column("Cell", no_wrap=True)
        table.add_column("Kod", no_wrap=True)
        table.add_column("Meddelande", overflow="fold")
        for f in group:
            table.add_row(Text(f.severity.swedish, _STYLE[f.severity]), Text(clean(f.cell or "")),
                          Text(f.code), Text(clean(f.message)))
        console.print(table)
    console.print()
