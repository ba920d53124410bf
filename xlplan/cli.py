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

from xlplan.text import clean

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
    files: Annotated[list[Path], typer.Argument(help="En eller flera planböcker (.xlsx/.xlsm)",
                                                metavar="FILER...")],
    format: FormatOption = Format.text,
    markera: Annotated[Path | None, typer.Option(
        "--markera", help="Skriv en kopia (.xlsx) med fel röda, varningar gula och bladet "
                          "Kontroll, som knappen Validera gör")] = None,
) -> None:
    """Kontrollera planböcker: summor, netton, regler. Exit 0 inga fel, 1 fel, 2 oläsbar fil."""
    from xlplan.errors import XlplanError
    from xlplan.validation import validate as run

    if markera is not None:
        from xlplan.markera import check_target

        if len(files) != 1:
            _err("--markera fungerar med en planbok i taget.")
            raise typer.Exit(2)
        check_target(files[0], markera)  # before the work: refused early, nothing written
    exit_code = 0
    for path in files:
        try:
            report = run(path)
            if markera is not None:
                from xlplan.markera import write_marked_copy

                write_marked_copy(path, markera, report)
        except XlplanError as exc:
            _err(exc.message)
            exit_code = 2
            continue
        except Exception as exc:  # one file never stops the others
            _err(_file_failed(path, exc))
            exit_code = 2
            continue
        _print_report(report, format)
        if markera is not None and format is Format.text:
            typer.echo(f"Skrev en markerad kopia: {markera}")
        if report.errors and exit_code == 0:
            exit_code = 1
    raise typer.Exit(exit_code)


@app.command()
def summary(
    file: Annotated[Path, typer.Argument(help="Planboken (.xlsx/.xlsm)", metavar="FIL")],
    format: FormatOption = Format.text,
    foregaende: Annotated[
        Path | None, typer.Option("--foregaende", help="Föregående års planbok (kostnadsutveckling)")
    ] = None,
) -> None:
    """Sammanfattning: netto per budgettyp, åtgärdsplanens täckning, investeringarnas driftkostnad."""
    from xlplan.settings import load_settings
    from xlplan.summary.compute import check_previous, summarize
    from xlplan.validation import validate as run

    settings = load_settings()
    report = _guarded(run, file)
    previous = _guarded(run, foregaende).planbok if foregaende is not None else None
    if previous is not None:
        check_previous(report.planbok, previous)  # another nämnd or year: exit 2
    result = summarize(report.planbok, settings, errors=report.errors, previous=previous)
    if format is Format.json:
        import json

        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        from xlplan.summary.rows import rows_text, summary_rows

        typer.echo(rows_text(summary_rows(result)))
    raise typer.Exit(1 if report.errors else 0)


@app.command()
def send(
    file: Annotated[Path, typer.Argument(help="Planboken som ska skickas", metavar="FIL")],
    till: Annotated[list[str] | None, typer.Option("--till", help="Mottagare (annars "
                                                   "XLPLAN_MOTTAGARE)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Skicka inte; skriv brevet")] = False,
    eml: Annotated[Path | None, typer.Option("--eml", help="Med --dry-run: spara brevet här")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Validera och skicka planboken till ekonomidirektören. Fel i planboken: inget skickas (exit 1)."""
    from xlplan.errors import MailRefused
    from xlplan.mail import send as run
    from xlplan.settings import load_settings
    from xlplan.text import count
    from xlplan.validation import validate as check

    if eml is not None and not dry_run:
        _err("--eml sparar brevet i stället för att skicka det och går bara med --dry-run. "
             "Inget skickades.")
        raise typer.Exit(2)
    _distinct(eml, file, what="--eml")
    try:
        result = run(file, load_settings(), to=till, dry_run=dry_run, eml=eml)
    except MailRefused as exc:
        _print_report(_guarded(check, file), format)
        _err(exc.message)
        raise typer.Exit(1) from None
    if format is Format.json:
        import json
        from dataclasses import asdict

        typer.echo(json.dumps(asdict(result), ensure_ascii=False))
    elif result.status == "torrkorning":
        where = f" Brevet sparades i {result.eml}." if result.eml else ""
        typer.echo(_clean(f"Torrkörning: inget skickades till {', '.join(result.recipients)}."
                          f"{where}"))
    else:
        typer.echo(_clean(f"Skickat till {', '.join(result.recipients)} (Message-ID "
                          f"{result.message_id}; servern svarade {result.reply}). "
                          f"{count(result.warnings, 'varning', 'varningar')} i brevet."))
        if result.note:
            _err(result.note)


@app.command()
def consolidate(
    inkorg: Annotated[Path, typer.Argument(help="Mappen med nämndernas planböcker", metavar="INKORG")],
    out: Annotated[Path, typer.Option("--out", help="Regionsammanställningen (.xlsx)")],
    format: FormatOption = Format.text,
    db: Annotated[str | None, typer.Option("--db", help="Historik: SQLAlchemy-URL (annars "
                                           "inställningen databas)")] = None,
    ingen_historik: Annotated[bool, typer.Option("--ingen-historik",
                                                 help="Spara och jämför inte")] = False,
    manad: Annotated[str | None, typer.Option("--manad", help="Rapportmånad ÅÅÅÅ-MM (annars "
                                              "planböckernas Rapportmånad)")] = None,
    logg: Annotated[Path | None, typer.Option("--logg", help="Mapp för en loggfil per körning "
                                              "(schemalagd körning)")] = None,
) -> None:
    """Sammanställ inkorgens planböcker till regionens siffror. Exit 0 allt giltigt, 1 fel i
    någon fil, 2 vägrat (t.ex. blandade budgetår) och inget skrivet."""
    from xlplan.runlog import run_logged

    run_logged(logg, "konsolidera", lambda: _consolidate(inkorg, out, format, db, ingen_historik,
                                                         manad))


def _consolidate(inkorg: Path, out: Path, format: Format, db: str | None, ingen_historik: bool,
                 manad: str | None) -> int:
    import re

    from xlplan.consolidation import consolidate as run
    from xlplan.settings import load_settings
    from xlplan.text import count

    if manad is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", manad):
        _err(f"--manad ska vara en månad som ÅÅÅÅ-MM, t.ex. 2027-03 (fick \"{manad}\").")
        return 2
    settings = load_settings()
    database = None if ingen_historik else (db or settings.databas)
    _distinct(out, inkorg, what="--out")
    with _progress(format is Format.text) as (start, step):
        outcome = run(inkorg, out, database=database, expected=settings.forvantade_namnder,
                      progress=step, on_start=start, month=manad, region_name=settings.region)
    region = outcome.region
    if outcome.history_note:  # once, on stderr (stdout holds the JSON or the summary)
        _err(outcome.history_note)
    if format is Format.json:
        import json

        from xlplan.region_json import region_to_json

        typer.echo(json.dumps(region_to_json(region), ensure_ascii=False))
    else:
        from xlplan.numbers import format_sv

        typer.echo(_clean(f"Skrev {outcome.out}: {count(len(region.used), 'nämnd', 'nämnder')}, "
                          f"budgetår {region.budgetar}."))
        for n, v in region.netto.items():
            typer.echo(f"  {n:<8} netto {format_sv(v, 1):>14} mkr")
        typer.echo(f"  Regionens netto {format_sv(region.region_netto, 1)} mkr")
        if region.resultat is not None:
            typer.echo(f"  Resultat {format_sv(region.resultat, 1)} mkr (finansiering "
                       f"{format_sv(region.finansiering or Decimal(0), 1)})")
        for f in region.files:
            state = "används" if f.used else f"används inte: {f.reason}"
            if not f.checked:  # never read: no counts of findings it never had
                typer.echo(_clean(f"  {f.name}: {state}"))
                continue
            typer.echo(_clean(f"  {f.name}: {f.errors} fel, "
                              f"{count(f.warnings, 'varning', 'varningar')} – {state}"))
        for found in region.findings:
            typer.echo(_clean(f"  {found.severity.swedish}: {found.message}"))
    return 1 if region.inputs_with_errors else 0


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


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def server_problem(url: str) -> str | None:
    """Why ``url`` cannot be the server address of a workbook's buttons (Swedish), or None.
    The address is sent every key: https only (plain http only to this machine, for tests),
    no user:password@, no ?query or #fragment (the route is appended to it)."""
    from urllib.parse import urlsplit

    if any(ch.isspace() or ch in "\"'<>\\" for ch in url):
        return "--server får inte innehålla mellanslag, citattecken, < > eller \\."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        return f"--server {url[:100]} är ingen giltig adress; skriv t.ex. https://server/xlplan."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "--server ska vara en adress som https://server/xlplan."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return ("--server får inte innehålla användarnamn eller lösenord (namn:lösen@); "
                "knapparna loggar in med nyckeln, inte med adressen.")
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        return ("--server får inte ha ?frågedel eller #fragment; knapparna lägger till "
                "/validera osv. efter adressen. Ange t.ex. https://server/xlplan.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return ("--server måste börja med https:// (nyckeln skickas med varje anrop); http:// "
                "går bara mot den egna datorn (127.0.0.1 eller localhost) för test.")
    return None


@app.command()
def new(
    file: Annotated[Path, typer.Argument(help="Den nya arbetsboken: .xlsx, eller .xlsm med "
                                         "knappar", metavar="FIL")],
    ar: Annotated[int, typer.Option("--ar", help="Budgetår, t.ex. 2027")],
    namnd: Annotated[str, typer.Option("--namnd", help="Nämndens kod, t.ex. HSN")] = "",
    namn: Annotated[str, typer.Option("--namn", help="Nämndens namn")] = "",
    region: Annotated[bool, typer.Option("--region", help="Ekonomidirektörens regionbok "
                                         "(Konsolidera)")] = False,
    server: Annotated[str, typer.Option("--server", help="Knapparna anropar xlplan serve på "
                                        "den här adressen (https://…) i stället för Python "
                                        "på datorn")] = "",
) -> None:
    """Skapa en ny planbok (eller med --region en regionbok) från mallen. Skriver aldrig över."""
    from xlplan.contract import NAMND_CODE
    from xlplan.template import new_planbok, new_region

    if not 2000 <= ar <= 2100:
        _err(f"Budgetåret {ar} är inte rimligt.")
        raise typer.Exit(2)
    problem = server_problem(server) if server else None
    if problem is None and server and file.suffix.lower() != ".xlsm":
        problem = "--server gäller bara en arbetsbok med knappar: ange en fil som slutar på .xlsm."
    if problem is not None:
        _err(problem)
        raise typer.Exit(2)
    if region and (namnd or namn):
        _err("--region gör ekonomidirektörens regionbok, som inte hör till någon nämnd: ta bort "
             "--namnd och --namn (eller --region för en planbok).")
        raise typer.Exit(2)
    if region:
        new_region(file, ar, server=server)
        typer.echo(f"Skrev {file} (regionbok {ar}). Fyll i Inkorg och Utfil på bladet Info.")
        return
    code = namnd.strip().upper()
    if not NAMND_CODE.match(code):
        _err(f"Ange nämndens kod med --namnd, t.ex. HSN (fick \"{namnd}\").")
        raise typer.Exit(2)
    new_planbok(file, code, ar, namn, server=server)
    typer.echo(f"Skrev {file} (planbok {code} {ar}).")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Mapp för demofilerna")] = Path("demo"),
    format: FormatOption = Format.text,
) -> None:
    """Skriv några fiktiva planböcker (en med avsiktliga fel), kontrollera dem och visa rapporten."""
    from xlplan.demo import PLANTED, PLANTED_IN, write_demo
    from xlplan.validation import validate as run

    paths = write_demo(out)
    if format is Format.text:
        typer.echo(f"Skrev {len(paths)} fiktiva planböcker i {out}/.\n")
    counts = []
    for path in paths:
        report = run(path)
        _print_report(report, format)
        if f"-{PLANTED_IN}-" in path.name:
            counts.append((path.name, report.errors))
    if format is Format.text:
        for name, errors in counts:
            typer.echo(f"{name}: {len(PLANTED)} fel planterade, {errors} fel hittade "
                       "(ett per fel; det som bara följer av dem är noteringar).")
        typer.echo(f"Prova själv: xlplan validate {paths[1]}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Adress att lyssna på")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8000,
) -> None:
    """Kör knapparna som server (xlwings): Excel på Windows, Mac och webben utan Python på datorn."""
    from xlplan.server import serve as run
    from xlplan.settings import load_settings

    run(host, port, load_settings())


historik_app = typer.Typer(help="Historiken: körningar per rapportmånad; lista, ta bort, "
                           "exportera.", no_args_is_help=False, add_completion=False)
app.add_typer(historik_app, name="historik")
DbOption = Annotated[str | None, typer.Option("--db", help="Historik: SQLAlchemy-URL (annars "
                                              "inställningen databas)")]


def _database(db: str | None) -> str:
    from xlplan.settings import load_settings

    return db or load_settings().databas


@historik_app.callback(invoke_without_command=True)
def historik(
    ctx: typer.Context,
    db: DbOption = None,
    ar: Annotated[int | None, typer.Option("--ar", help="Bara detta budgetår")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Lista körningarna: rapportmånad, tid, antal filer, utfilens sha256, aktiv eller ersatt."""
    if ctx.invoked_subcommand is not None:
        ctx.ensure_object(dict)["db"] = db  # `historik --db URL export …`: the same database
        return
    from xlplan.history import open_store, run_status

    with open_store(_database(db), read_only=True) as store:
        runs = store.list_runs(ar)
    if format is Format.json:
        import json
        from dataclasses import asdict

        typer.echo(json.dumps([{**asdict(r), "aktiv": r.active} for r in runs],
                              ensure_ascii=False))
        return
    if not runs:
        typer.echo("Inga körningar i historiken." if ar is None
                   else f"Inga körningar för budgetår {ar} i historiken.")
        return
    typer.echo(f"{'Id':>4}  {'År':4}  {'Månad':7}  {'Tid (UTC)':25}  {'Filer':>5}  "
               f"{'Status':14}  Utfil (sha256)")
    for r in runs:
        typer.echo(f"{r.id:>4}  {r.budgetar:4}  {r.rapportmanad or 'okänd':7}  {r.tid:25}  "
                   f"{r.antal_filer:>5}  {run_status(r):14}  {r.utfil or '–'} "
                   f"({r.utfil_sha256 or 'okänd'})")


@historik_app.command("ta-bort")
def historik_ta_bort(
    ctx: typer.Context,
    korning: Annotated[int, typer.Argument(help="Körningens id (se xlplan historik)", metavar="KÖRNING")],
    db: DbOption = None,
    ja: Annotated[bool, typer.Option("--ja", help="Fråga inte (för skript)")] = False,
) -> None:
    """Ta bort en körning ur historiken (frågar först). Var den månadens aktiva körning blir
    den närmast föregående körningen för månaden aktiv igen."""
    from xlplan.history import open_store

    with open_store(_database(db or _group_db(ctx))) as store:
        found = [r for r in store.list_runs() if r.id == korning]
        if not found:
            _err(f"Ingen körning med id {korning} i historiken.")
            raise typer.Exit(2)
        r = found[0]
        what = (f"körning {r.id} (budgetår {r.budgetar}, rapportmånad "
                f"{r.rapportmanad or 'okänd'}, {r.tid}, {r.antal_filer} filer)")
        if not ja:
            typer.echo(f"Ta bort {what}? Skriv ja för att ta bort: ", nl=False)
            answer = sys.stdin.readline().strip().lower()
            if answer not in ("j", "ja"):
                typer.echo("Inget togs bort.")
                raise typer.Exit(1)
        store.remove(korning)
    typer.echo(f"Tog bort {what}.")


@historik_app.command("export")
def historik_export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Exportfilen: .xlsx eller .csv", metavar="FIL")],
    db: DbOption = None,
    ar: Annotated[int | None, typer.Option("--ar", help="Bara detta budgetår")] = None,
    skriv_over: Annotated[bool, typer.Option("--skriv-over", help="Ersätt en befintlig "
                                             "exportfil")] = False,
) -> None:
    """Exportera varje sparat nyckeltal (en rad per körning, nämnd och objekt) till .xlsx/.csv.
    Skriver aldrig i en inkorg och inte över en befintlig fil utan --skriv-over."""
    from xlplan.history import export_history
    from xlplan.settings import load_settings

    settings = load_settings()
    db = db or _group_db(ctx)
    rows = export_history(db or settings.databas, file, ar, inboxes=[settings.server_inkorg],
                          overwrite=skriv_over)
    typer.echo(f"Skrev {file}: {rows} rader.")


def _group_db(ctx: typer.Context) -> str | None:
    """``--db`` given to ``historik`` itself, before the subcommand."""
    obj = ctx.find_object(dict)
    value = obj.get("db") if obj else None
    return value if isinstance(value, str) else None


def _print_report(report: Report, format: Format) -> None:
    if format is Format.json:
        import json

        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    from xlplan.terminal import report_text

    report_text(report)


def _err(message: str) -> None:
    typer.echo(_clean(message), err=True)


_clean = clean  # the one cleaning of text (xlplan.text): every line printed passes it


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
    from xlplan.cli_sv import install
    from xlplan.errors import XlplanError

    install()  # help, usage and usage errors in Swedish
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
