"""Text output for the terminal (rich): findings grouped by sheet, ordered by cell."""

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

    console = Console(highlight=False, soft_wrap=False)
    errors, warnings = report.errors, report.warnings
    status = "[green]inga fel[/]" if not errors else f"[bold red]{errors} fel[/]"
    console.print(f"[bold]{_escape(report.file)}[/]: {status}, "
                  f"{count(warnings, 'varning', 'varningar')}",
                  soft_wrap=True)
    for sheet, group in groupby(report.findings, key=lambda f: f.sheet or ""):
        table = Table(title=f"Blad: {sheet}" if sheet else "Arbetsboken", title_justify="left",
                      show_lines=False, expand=False)
        table.add_column("", no_wrap=True)
        table.add_column("Cell", no_wrap=True)
        table.add_column("Kod", no_wrap=True)
        table.add_column("Meddelande", overflow="fold")
        for f in group:
            table.add_row(f"[{_STYLE[f.severity]}]{f.severity.swedish}[/]", f.cell or "",
                          f.code, _escape(f.message))
        console.print(table)
    console.print()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
