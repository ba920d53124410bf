"""The Excel buttons (xlwings): Validera, Beräkna, Skicka, Konsolidera.

Each handler takes any xlwings Book (``xlwings.Book.caller()`` when called from a button;
in the tests, the remote Book xlwings builds from a client's JSON) and uses only operations
xlwings' VBA client supports: values, colours, number formats, clearing, adding sheets and
alerts. The user's own cells are never written: results go to the sheets ``Kontroll``,
``Sammanfattning`` and ``Region``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan import contract as c
from xlplan.findings import Finding, Severity
from xlplan.io.raw import parse_ref
from xlplan.io.xlwings_book import read_book
from xlplan.model import Planbok
from xlplan.numbers import SHARE_FORMAT, to_cell, unit_format
from xlplan.summary.rows import Amount, Heading, Share, SheetRow, summary_rows
from xlplan.text import inert
from xlplan.validation import Report, validate_raw

if TYPE_CHECKING:
    from xlplan.mail import SendResult
    from xlplan.settings import Settings

    Deliver = Callable[[Any, Report, Settings], SendResult]

KONTROLL = "Kontroll"
SAMMANFATTNING = "Sammanfattning"
REGION = "Region"
RED = (255, 199, 206)
YELLOW = (255, 235, 156)
KONTROLL_HEADER = ["Allvarlighet", "Kod", "Blad", "Cell", "Meddelande"]


def _book(book: Any | None) -> Any:
    if book is not None:
        return book
    import xlwings as xw

    return xw.Book.caller()


def _folder(book: Any) -> Path | None:
    """The workbook's folder (its own xlplan.toml may lie there), if it is a saved file."""
    with contextlib.suppress(Exception):
        path = Path(book.fullname)
        if path.is_file():
            return path.parent
    return None


@contextlib.contextmanager
def _status(book: Any, text: str) -> Iterator[None]:
    """Excel's status bar says what runs ("xlplan validerar …"), where the Book has one
    (Excel through RunPython; xlwings' remote Book has none, and the VBA macro sets it)."""
    shown = False
    with contextlib.suppress(Exception):
        book.app.status_bar = text
        shown = True
    try:
        yield
    finally:
        if shown:
            with contextlib.suppress(Exception):
                book.app.status_bar = False


def _cell(value: Any) -> Any:
    """A value for Range.value: text never becomes a formula."""
    return inert(value) if isinstance(value, str) else value


def _sheet(book: Any, name: str) -> Any:
    """The output sheet ``name``, emptied, or a new one at the end."""
    names = [s.name for s in book.sheets]
    if name in names:
        sheet = book.sheets[name]
        sheet.clear()
        return sheet
    return book.sheets.add(name, after=book.sheets[len(names) - 1])


def _write_rows(sheet: Any, rows: list[list[Any]]) -> None:
    width = max((len(r) for r in rows), default=1)
    sheet.range("A1").value = [[_cell(v) for v in r] + [None] * (width - len(r)) for r in rows]


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


# --- Validera -----------------------------------------------------------------------------


def validera(book: Any | None = None) -> Report:
    """Validate the open workbook: colour error and warning cells, list every finding in
    Kontroll. Earlier marks are cleared first; the user's values are never changed."""
    book = _book(book)
    with _status(book, f"xlplan validerar {book.name} …"):
        report = validate_raw(read_book(book), book.name)
        _clear_marks(book, report.planbok)
        _mark(book, report.findings)
        _write_kontroll(book, report)
    return report


# The marking plan, shared by the button (on an xlwings Book) and by ``xlplan validate
# --markera`` (on a copy of the file, xlplan/markera.py): which earlier marks to clear, which
# cells to colour, the rows of Kontroll.


def old_marks(kontroll: list[list[Any]]) -> list[tuple[str, str]]:
    """(sheet, cell) of the error and warning rows of an earlier Kontroll sheet."""
    marks = []
    for row in kontroll:
        if len(row) >= 4 and row[0] in ("Fel", "Varning") and row[2] and row[3]:
            marks.append((str(row[2]), str(row[3])))
    return marks


def mark_colours(findings: tuple[Finding, ...], sheets: set[str]
                 ) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(sheet, cell) -> fill colour: red for an error, yellow for a warning (red wins)."""
    colours: dict[tuple[str, str], tuple[int, int, int]] = {}
    for f in findings:
        if f.sheet is not None and f.sheet in sheets and f.cell and f.severity is not Severity.INFO:
            key = (f.sheet, f.cell)
            if f.severity is Severity.ERROR or key not in colours:
                colours[key] = RED if f.severity is Severity.ERROR else YELLOW
    return colours


def kontroll_rows(name: str, report: Report, note: str = "") -> list[list[Any]]:
    from xlplan.text import count

    status = (f"{report.errors} fel, {count(report.warnings, 'varning', 'varningar')} – {_stamp()}"
              + (f" – {note}" if note else ""))
    rows: list[list[Any]] = [[f"Kontroll av {name}: {status}"], [], KONTROLL_HEADER]
    rows += [[f.severity.swedish, f.code, f.sheet or "", f.cell or "", f.message]
             for f in report.findings]
    if not report.findings:
        rows.append(["", "", "", "", "Inga fynd."])
    return rows


def number_formats(planbok: Planbok) -> dict[tuple[str, str], str]:
    """The template's number format of every amount cell, to restore after clearing a mark."""
    out: dict[tuple[str, str], str] = {}
    for table in planbok.tables.values():
        fmt = unit_format(planbok.unit(table.spec))
        rows = [*table.rows, *([table.totals] if table.totals is not None else [])]
        for row in rows:
            for key in table.spec.amount_keys:
                if key in table.columns:
                    out[(table.sheet, row[key].ref)] = fmt
    return out


def is_ref(ref: str) -> bool:
    try:
        parse_ref(ref)
    except ValueError:
        return False
    return True


def _clear_marks(book: Any, planbok: Planbok) -> None:
    names = {s.name for s in book.sheets}
    if KONTROLL not in names:
        return
    formats = number_formats(planbok)
    kontroll = book.sheets[KONTROLL].used_range.options(ndim=2).value or []
    for sheet_name, ref in old_marks(kontroll):
        if sheet_name not in names or not is_ref(ref):
            continue
        rng = book.sheets[sheet_name].range(ref)
        rng.clear_formats()
        fmt = formats.get((sheet_name, ref))
        if fmt:
            rng.number_format = fmt


def _mark(book: Any, findings: tuple[Finding, ...]) -> None:
    for (sheet, ref), colour in mark_colours(findings, {s.name for s in book.sheets}).items():
        book.sheets[sheet].range(ref).color = colour


def _write_kontroll(book: Any, report: Report, note: str = "") -> None:
    _write_rows(_sheet(book, KONTROLL), kontroll_rows(book.name, report, note))


# --- Beräkna --------------------------------------------------------------------------------


def berakna(book: Any | None = None, *, settings: Settings | None = None) -> None:
    """Write the Sammanfattning sheet from the open workbook."""
    from xlplan.settings import load_settings
    from xlplan.summary.compute import summarize

    book = _book(book)
    with _status(book, f"xlplan beräknar {book.name} …"):
        report = validate_raw(read_book(book), book.name)
        summary = summarize(report.planbok, settings or load_settings(_folder(book)),
                            errors=report.errors)
        write_sammanfattning(book, summary_rows(summary))


def write_sammanfattning(book: Any, rows: list[SheetRow]) -> None:
    sheet = _sheet(book, SAMMANFATTNING)
    values: list[list[Any]] = []
    formats: list[tuple[int, int, str]] = []
    for r, row in enumerate(rows):
        out: list[Any] = []
        for col, cell in enumerate(row):
            if isinstance(cell, Amount):
                out.append(to_cell(cell.value))  # display rounding by the number format below
                formats.append((r, col, unit_format(cell.unit)))
            elif isinstance(cell, Share):
                out.append(to_cell(cell.value))
                formats.append((r, col, SHARE_FORMAT))
            elif isinstance(cell, Heading):
                out.append(cell.text)
            else:
                out.append(cell)
        values.append(out)
    _write_rows(sheet, values)
    for r, col, fmt in formats:
        sheet.range((r + 1, col + 1)).number_format = fmt


# --- Skicka ----------------------------------------------------------------------------------


def skicka(book: Any | None = None, *, settings: Settings | None = None,
           deliver: Deliver | None = None) -> str:
    """Validate, then send the saved workbook to the ekonomidirektör. Returns what the user
    was told. ``deliver`` replaces sending the saved file (the server sends what it was given)."""
    from xlplan.errors import MailRefused, XlplanError
    from xlplan.mail import send
    from xlplan.settings import load_settings

    book = _book(book)
    report = validera(book)
    path = Path(book.fullname)
    if report.errors:
        message = f"Planboken har {report.errors} fel och skickades inte. Se bladet Kontroll."
    elif deliver is None and not path.is_file():
        message = "Spara arbetsboken som fil först; det är den sparade filen som skickas."
    else:
        try:
            settings = settings or load_settings(_folder(book))
            with _status(book, f"xlplan skickar {path.name} …"):
                result = (deliver(book, report, settings) if deliver is not None
                          else send(path, settings))
            message = (f"Skickat till {', '.join(result.recipients)}. "
                       f"{result.warnings} varningar finns med i brevet.")
        except MailRefused as exc:
            message = exc.message + " (Den sparade filen skiljer sig från det som visas – spara.)"
        except XlplanError as exc:
            message = f"Inget skickades: {exc.message}"
    _write_kontroll(book, report, message)
    _alert(book, message, "Skicka")
    return message


def _alert(book: Any, message: str, title: str) -> None:
    # an engine without dialogs: the message is on the sheet already
    with contextlib.suppress(Exception):
        book.app.alert(message, title=f"xlplan – {title}")


# --- Konsolidera -----------------------------------------------------------------------------

REGION_FIELDS = ("Region", "Budgetår", "Inkorg", "Utfil", "Databas")


def region_settings(book: Any) -> dict[str, str]:
    raw = read_book(book)
    table = next((t for name, t in raw.tables.items() if c.norm(name) == "info"), None)
    fields: dict[str, str] = {}
    if table is not None:
        for cells in table.body:
            if len(cells) >= 2 and cells[0].text:
                fields[cells[0].text.strip()] = (cells[1].value or "").strip()
    return fields


def konsolidera(book: Any | None = None, *, settings: Settings | None = None,
                server: tuple[Path, Path] | None = None) -> str:
    """Consolidate the inbox named in the region workbook's Info; write the Region sheet.
    ``server`` (inbox, output file) replaces the workbook's own Inkorg, Utfil and Databas: on
    the server only its own folders and database are used."""
    from xlplan.consolidation import consolidate
    from xlplan.errors import XlplanError
    from xlplan.numbers import format_sv
    from xlplan.settings import load_settings
    from xlplan.text import count

    book = _book(book)
    fields = region_settings(book)
    base = Path(book.fullname).parent if Path(book.fullname).is_file() else Path.cwd()
    rows: list[list[Any]] = [[f"Regionsammanställning – {_stamp()}"], []]
    inbox, out = fields.get("Inkorg", ""), fields.get("Utfil", "")
    if server is not None:
        base, (inbox_path, out_path) = Path.cwd(), server
        inbox, out = str(inbox_path), str(out_path)
        fields.pop("Databas", None)
    if not inbox or not out:
        message = "Fyll i Inkorg och Utfil i tabellen Info."
    else:
        try:
            settings = settings or load_settings(_folder(book))
            database = _beside(fields.get("Databas") or settings.databas, base)
            with _status(book, f"xlplan konsoliderar {inbox} …"):
                outcome = consolidate(base / inbox, base / out, database=database,
                                      expected=settings.forvantade_namnder,
                                      region_name=fields.get("Region") or settings.region)
        except XlplanError as exc:
            message = exc.message
        else:
            region = outcome.region
            message = (f"Skrev {outcome.out.name}: {count(len(region.used), 'nämnd', 'nämnder')}, "
                       f"budgetår {region.budgetar}.")
            rows += [["Nämnd", "Netto (mkr)"]]
            rows += [[n, to_cell(v)] for n, v in region.netto.items()]
            rows += [["Regionens netto", to_cell(region.region_netto)],
                     ["Finansiering", _num(region.finansiering)],
                     ["Resultat", _num(region.resultat)], [],
                     ["Fil", "Nämnd", "Använd", "Fel", "Varningar", "Orsak"]]
            rows += [[f.name, f.namnd or "", "Ja" if f.used else "Nej", f.errors, f.warnings,
                      f.reason] for f in region.files]
            rows += [[], ["Kontroller mellan nämnderna"]]
            rows += [[found.file, found.severity.swedish, found.code, found.message]
                     for found in region.findings] or [["Inga fynd."]]
            if outcome.history_note:
                rows.append([outcome.history_note])
            message += f" Regionens netto {format_sv(region.region_netto, 1)} mkr."
    rows.insert(1, [message])
    _write_rows(_sheet(book, REGION), rows)
    _alert(book, message, "Konsolidera")
    return message


def _beside(url: str, base: Path) -> str:
    """A relative SQLite path means next to the region workbook (Excel's working folder is
    anywhere)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(base / url[len(prefix):])
    return url


def _num(value: Decimal | None) -> float | None:
    return None if value is None else to_cell(value)
