"""The command line: a thin face over the library (typer). Heavy imports stay lazy so
``xlplan --help`` is instant."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from xlplan.validation import Report

app = typer.Typer(
    name="xlplan",
    help="Validera, beräkna och konsolidera planböcker (Excel) för regionens nämnder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich's help renderer doubles start-up time
)


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text eller json")]


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="En eller flera planböcker (.xlsx/.xlsm)")],
    format: FormatOption = Format.text,
) -> None:
    """Kontrollera planböcker: summor, netton, regler. Exit 0 inga fel, 1 fel, 2 oläsbar fil."""
    from xlplan.errors import XlplanError
    from xlplan.validation import validate as run

    exit_code = 0
    for path in files:
        try:
            report = run(path)
        except XlplanError as exc:
            _err(exc.message)
            exit_code = 2
            continue
        except Exception as exc:  # one file never stops the others
            _err(_file_failed(path, exc))
            exit_code = 2
            continue
        _print_report(report, format)
        if report.errors and exit_code == 0:
            exit_code = 1
    raise typer.Exit(exit_code)


@app.command()
def summary(
    file: Annotated[Path, typer.Argument(help="Planboken (.xlsx/.xlsm)")],
    format: FormatOption = Format.text,
    foregaende: Annotated[
        Path | None, typer.Option("--foregaende", help="Föregående års planbok (kostnadsutveckling)")
    ] = None,
) -> None:
    """Sammanfattning: netto per budgettyp, åtgärdsplanens täckning, investeringarnas driftkostnad."""
    from xlplan.compute import summarize
    from xlplan.settings import load_settings
    from xlplan.validation import validate as run

    settings = load_settings()
    report = _guarded(run, file)
    previous = _guarded(run, foregaende).planbok if foregaende is not None else None
    result = summarize(report.planbok, settings, errors=report.errors, previous=previous)
    if format is Format.json:
        import json

        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        from xlplan.sammanfattning import rows_text, summary_rows

        typer.echo(rows_text(summary_rows(result)))
    raise typer.Exit(1 if report.errors else 0)


@app.command()
def send(
    file: Annotated[Path, typer.Argument(help="Planboken som ska skickas")],
    till: Annotated[list[str] | None, typer.Option("--till", help="Mottagare (annars "
                                                   "XLPLAN_MOTTAGARE)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Skicka inte; skriv brevet")] = False,
    eml: Annotated[Path | None, typer.Option("--eml", help="Med --dry-run: spara brevet här")] = None,
) -> None:
    """Validera och skicka planboken till ekonomidirektören. Fel i planboken: inget skickas (exit 1)."""
    from xlplan.errors import MailRefused
    from xlplan.mail import send as run
    from xlplan.settings import load_settings
    from xlplan.validation import validate as check

    _distinct(eml, file, what="--eml")
    try:
        result = run(file, load_settings(), to=till, dry_run=dry_run, eml=eml)
    except MailRefused as exc:
        _print_report(_guarded(check, file), Format.text)
        _err(exc.message)
        raise typer.Exit(1) from None
    if result.status == "torrkorning":
        where = f" Brevet sparades i {result.eml}." if result.eml else ""
        typer.echo(_clean(f"Torrkörning: inget skickades till {', '.join(result.recipients)}."
                          f"{where}"))
    else:
        typer.echo(_clean(f"Skickat till {', '.join(result.recipients)} (Message-ID "
                          f"{result.message_id}; servern svarade {result.reply}). "
                          f"{result.warnings} varningar i brevet."))
        if result.note:
            _err(result.note)


@app.command()
def consolidate(
    inkorg: Annotated[Path, typer.Argument(help="Mappen med nämndernas planböcker")],
    out: Annotated[Path, typer.Option("--out", help="Regionsammanställningen (.xlsx)")],
    format: FormatOption = Format.text,
    db: Annotated[str | None, typer.Option("--db", help="Historik: SQLAlchemy-URL (annars "
                                           "inställningen databas)")] = None,
    ingen_historik: Annotated[bool, typer.Option("--ingen-historik",
                                                 help="Spara och jämför inte")] = False,
) -> None:
    """Sammanställ inkorgens planböcker till regionens siffror. Exit 0 allt giltigt, 1 fel i
    någon fil, 2 vägrat (t.ex. blandade budgetår) och inget skrivet."""
    from xlplan.consolidation import consolidate as run
    from xlplan.settings import load_settings

    settings = load_settings()
    database = None if ingen_historik else (db or settings.databas)
    _distinct(out, inkorg, what="--out")
    with _progress(format is Format.text) as (start, step):
        outcome = run(inkorg, out, database=database, expected=settings.forvantade_namnder,
                      progress=step, on_start=start)
    region = outcome.region
    if outcome.history_note:
        _err(outcome.history_note)
    if format is Format.json:
        import json

        typer.echo(json.dumps(region.to_json(), ensure_ascii=False))
    else:
        from xlplan.numbers import format_sv

        typer.echo(_clean(f"Skrev {outcome.out}: {len(region.used)} nämnder, budgetår "
                          f"{region.budgetar}."))
        for n, v in region.netto.items():
            typer.echo(f"  {n:<8} netto {format_sv(v, 1):>14} mkr")
        typer.echo(f"  Regionens netto {format_sv(region.region_netto, 1)} mkr")
        if region.resultat is not None:
            typer.echo(f"  Resultat {format_sv(region.resultat, 1)} mkr (finansiering "
                       f"{format_sv(region.finansiering or Decimal(0), 1)})")
        for f in region.files:
            state = "används" if f.used else f"används inte: {f.reason}"
            typer.echo(_clean(f"  {f.name}: {f.errors} fel, {f.warnings} varningar – {state}"))
        for _, found in region.findings:
            typer.echo(_clean(f"  {found.severity.swedish}: {found.message}"))
        if outcome.history_note:
            typer.echo(_clean(f"  {outcome.history_note}"))
    raise typer.Exit(1 if region.inputs_with_errors else 0)


@contextlib.contextmanager
def _progress(show: bool) -> Iterator[tuple[Callable[[int], None], Callable[[Path], None]]]:
    """A rich progress bar on stderr for large inboxes (only on a terminal)."""
    if not show or not sys.stderr.isatty():
        yield (lambda n: None), (lambda p: None)
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Läser planböcker", total=None)
        yield (lambda n: bar.update(task, total=n)), (lambda p: bar.advance(task))


@app.command()
def new(
    file: Annotated[Path, typer.Argument(help="Den nya arbetsboken: .xlsx, eller .xlsm med knappar")],
    ar: Annotated[int, typer.Option("--ar", help="Budgetår, t.ex. 2027")],
    namnd: Annotated[str, typer.Option("--namnd", help="Nämndens kod, t.ex. HSN")] = "",
    namn: Annotated[str, typer.Option("--namn", help="Nämndens namn")] = "",
    region: Annotated[bool, typer.Option("--region", help="Ekonomidirektörens regionbok "
                                         "(Konsolidera)")] = False,
) -> None:
    """Skapa en ny planbok (eller med --region en regionbok) från mallen. Skriver aldrig över."""
    from xlplan.contract import NAMND_CODE
    from xlplan.template import new_planbok, new_region

    if not 2000 <= ar <= 2100:
        _err(f"Budgetåret {ar} är inte rimligt.")
        raise typer.Exit(2)
    if region:
        new_region(file, ar)
        typer.echo(f"Skrev {file} (regionbok {ar}). Fyll i Inkorg och Utfil på bladet Info.")
        return
    code = namnd.strip().upper()
    if not NAMND_CODE.match(code):
        _err(f"Ange nämndens kod med --namnd, t.ex. HSN (fick \"{namnd}\").")
        raise typer.Exit(2)
    new_planbok(file, code, ar, namn)
    typer.echo(f"Skrev {file} (planbok {code} {ar}).")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Mapp för demofilerna")] = Path("demo"),
    format: FormatOption = Format.text,
) -> None:
    """Skriv några fiktiva planböcker (en med avsiktliga fel), kontrollera dem och visa rapporten."""
    from xlplan.demo import write_demo
    from xlplan.validation import validate as run

    paths = write_demo(out)
    if format is Format.text:
        typer.echo(f"Skrev {len(paths)} fiktiva planböcker i {out}/.\n")
    for path in paths:
        _print_report(run(path), format)
    if format is Format.text:
        typer.echo(f"Prova själv: xlplan validate {paths[1]}")


def _print_report(report: Report, format: Format) -> None:
    if format is Format.json:
        import json

        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    from xlplan.render import report_text

    report_text(report)


def _err(message: str) -> None:
    typer.echo(_clean(message), err=True)


def _clean(text: str) -> str:
    from xlplan.text import clean

    return clean(text)


def _file_failed(path: Path, exc: BaseException) -> str:
    """The net under one file's checks: its own sentence, never the run's end."""
    from xlplan.text import clean

    return (f"Filen {clean(path.name)} kunde inte kontrolleras (internt fel "
            f"{type(exc).__name__}). Öppna den i Excel, spara om och försök igen.")


def _guarded(run: Callable[[Path], Report], path: Path) -> Report:
    """``run(path)``, with an unforeseen failure told as that file's own Swedish sentence."""
    from xlplan.errors import UnreadableWorkbook, XlplanError

    try:
        return run(path)
    except XlplanError:
        raise
    except Exception as exc:
        raise UnreadableWorkbook(_file_failed(path, exc)) from None


def _distinct(output: Path | None, *inputs: Path | None, what: str = "") -> None:
    """Refuse an output that is one of the inputs (or inside the inbox): writing it would
    replace what is being read."""
    from xlplan.errors import OutputError
    from xlplan.text import clean

    if output is None:
        return
    for source in inputs:
        if source is None:
            continue
        if _same_file(output, source):
            raise OutputError(f"{what or 'Utfilen'} {clean(output.name)} är samma fil som "
                              f"indata {clean(source.name)}; välj en annan utfil. Inget skrevs.")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def main() -> None:
    """Entry point: every error reaches the user as one Swedish sentence, never a traceback."""
    from xlplan.errors import XlplanError

    for stream in (sys.stdout, sys.stderr):  # an unencodable character is never a crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    try:
        app()  # standalone: typer prints usage errors itself and exits with their code
    except XlplanError as exc:
        _err(exc.message)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("XLPLAN_DEBUG"):
            raise
        _err(f"Ett oväntat fel inträffade ({type(exc).__name__}). Kör igen med XLPLAN_DEBUG=1 "
             "och skicka utskriften till förvaltningen.")
        sys.exit(2)
