"""``xlplan serve``: the four Excel buttons as an HTTP server (xlwings' remote interpreter).

Excel sends the workbook as JSON (xlwings' VBA client ``RunServerPython``, or the Office.js
task pane this server also serves); the route builds xlwings' remote Book from it, runs the
same handler as the desktop button (:mod:`xlplan.excel`) and answers ``book.json()``: the
actions Excel then applies. Routes: ``POST /validera``, ``/berakna``, ``/skicka``,
``/konsolidera``; ``GET /manifest.xml``, ``/taskpane.html``, ``/xlplan-taskpane.js``,
``/halsa``.

Every request carries a token (``Authorization: Bearer TOKEN``, or the bare token as
xlwings' clients send their ``AUTH`` setting). ``server_tokens`` maps each token to a nämnd
code, or to ``*`` for the ekonomidirektör. Refusals are plain Swedish text (Excel's VBA
client shows the body in a message box); a token is never logged.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from xlplan import contract as c
from xlplan.errors import ConfigError
from xlplan.model import namnd_code
from xlplan.settings import Settings

log = logging.getLogger("xlplan.server")

STATIC = Path(__file__).parent / "server_static"
ROUTES = ("validera", "berakna", "skicka", "konsolidera")
ALL = "*"
MIN_TOKEN_LENGTH = 16
_BAD_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
# A planbok's tables are a few hundred cells; a table larger than this is not one, and its
# range would make the remote Book and the reader allocate a cell object per cell.
MAX_TABLE_CELLS = 100_000
GRACEFUL_SECONDS = 10  # SIGTERM: requests under way get this long, then the server stops
MAX_BOOK_TABLE_CELLS = 1_000_000
_RANGE = re.compile(r"\$?[A-Z]{1,3}\$?[0-9]{1,7}(:\$?[A-Z]{1,3}\$?[0-9]{1,7})?")


@dataclass
class Refusal(Exception):
    """A request the server does not run: status and the Swedish text Excel shows."""

    status: int
    message: str


def pinned_xlwings() -> str:
    from importlib.metadata import version

    return version("xlwings")


def check_tokens(tokens: dict[str, str]) -> dict[str, str]:
    """The token table, or a ConfigError in Swedish (the token itself is never repeated)."""
    for i, (token, who) in enumerate(tokens.items(), start=1):
        if len(token) < MIN_TOKEN_LENGTH or not token.isascii() or not token.isprintable() \
                or " " in token:
            raise ConfigError(f"server_tokens: token nr {i} (för {who}) ska vara minst "
                              f"{MIN_TOKEN_LENGTH} tecken, utan mellanslag och bara ASCII.")
        if who != ALL and not re.fullmatch(r"[0-9A-Za-zÅÄÖåäö_-]{1,20}", who):
            raise ConfigError(f"server_tokens: token nr {i} hör till \"{who}\"; ange en nämnds "
                              "kod (t.ex. HSN) eller \"*\" för ekonomidirektören.")
    return tokens


UNKNOWN_KEY = (
    "xlplan-servern känner inte igen din behörighetsnyckel. Nyckeln tas från miljövariabeln "
    "XLPLAN_TOKEN eller från den nyckel du sparade första gången: kör makrot GlomServernyckel "
    "(Visa › Makron) och tryck på knappen igen för att ange rätt nyckel; i tillägget: skriv "
    "nyckeln på nytt och tryck Spara nyckeln. Har du ingen giltig nyckel, be ekonomienheten om "
    "en ny.")


def authenticate(header: str | None, tokens: dict[str, str]) -> str:
    """Who the token belongs to (a nämnd code or ``*``). Compares in constant time against
    every token, so the answer's timing does not tell how much of a token was right."""
    token = (header or "").strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
    found = None
    given = token.encode("utf-8", "replace")
    for known, who in tokens.items():
        if hmac.compare_digest(known.encode(), given):
            found = who
    if not token or found is None:
        raise Refusal(401, UNKNOWN_KEY)
    return found


def check_payload(payload: Any, pinned: str) -> dict[str, Any]:
    """The JSON an xlwings client sends, in the shape the remote Book needs."""
    if not isinstance(payload, dict):
        raise Refusal(400, "Anropet är inte en arbetsbok från xlwings (JSON-objekt saknas).")
    version = payload.get("version")
    if version != pinned:
        raise Refusal(400, f"Arbetsbokens xlwings-klient har version {str(version)[:20]!s}, "
                           f"servern kräver {pinned}. Hämta en ny mall (xlplan new) eller "
                           "uppdatera tillägget.")
    book = payload.get("book")
    sheets = payload.get("sheets")
    if not isinstance(payload.get("client"), str) or not isinstance(book, dict) \
            or not isinstance(sheets, list) or not sheets:
        raise Refusal(400, "Anropet saknar arbetsbokens blad (book, sheets).")
    name = book.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255 \
            or _BAD_NAME.search(name) or name.strip(" .") == "":
        raise Refusal(400, "Arbetsbokens namn får inte innehålla sökväg eller tecknen "
                           "\\ / : * ? \" < > |. Spara den under ett vanligt filnamn.")
    seen_sheets: set[str] = set()
    seen_tables: set[str] = set()
    table_cells = 0
    for sheet in sheets:
        if not isinstance(sheet, dict) or not isinstance(sheet.get("name"), str) \
                or not isinstance(sheet.get("values"), list) \
                or not all(isinstance(row, list) for row in sheet["values"]) \
                or not isinstance(sheet.get("tables"), list):
            raise Refusal(400, "Ett blad i anropet har fel form (name, values, tables).")
        for table in sheet["tables"]:
            if not isinstance(table, dict) or not isinstance(table.get("name"), str) \
                    or not _RANGE.fullmatch(str(table.get("range_address", ""))) \
                    or not all(isinstance(table.get(k, True), bool)
                               for k in ("show_headers", "show_totals")):
                raise Refusal(400, f"En tabell på bladet {sheet['name'][:31]} har fel form "
                                   "(name, range_address).")
            table_cells += _table_cells(sheet, table)
            if table_cells > MAX_BOOK_TABLE_CELLS:
                raise Refusal(413, "Arbetsbokens tabeller har tillsammans fler än "
                                   f"{_n(MAX_BOOK_TABLE_CELLS)} celler; så stor är ingen "
                                   "planbok.")
            if c.norm(table["name"]) in seen_tables:
                raise Refusal(400, f"Tabellnamnet {table['name'][:40]} finns två gånger i "
                                   "anropet; Excel tillåter det inte.")
            seen_tables.add(c.norm(table["name"]))
        if c.norm(sheet["name"]) in seen_sheets:
            raise Refusal(400, f"Bladnamnet {sheet['name'][:31]} finns två gånger i anropet; "
                               "Excel tillåter det inte.")
        seen_sheets.add(c.norm(sheet["name"]))
        for row in sheet["values"]:
            for value in row:
                if value is not None and not isinstance(value, str | int | float | bool):
                    raise Refusal(400, f"Bladet {sheet['name'][:31]} har ett värde som inte är "
                                       "text, tal eller sant/falskt.")
    return payload


def _n(count: int) -> str:
    return f"{count:,}".replace(",", "\u00a0")


def _table_cells(sheet: dict[str, Any], table: dict[str, Any]) -> int:
    """The cells of ``table``, after checking that it lies inside the sheet's values (what
    the client sent) and is not larger than any planbok's table: before any Book is built."""
    from xlplan.io.raw import parse_range

    r1, c1, r2, c2 = parse_range(str(table["range_address"]).replace("$", ""))
    rows = sheet["values"]
    width = max((len(row) for row in rows), default=0)
    name, where = str(table["name"])[:40], str(sheet["name"])[:31]
    if r2 > len(rows) or c2 > width:
        raise Refusal(400, f"Tabellen {name} på bladet {where} går utanför bladets värden "
                           f"({table['range_address']}); anropet är inte från Excel.")
    cells = (r2 - r1 + 1) * (c2 - c1 + 1)
    if cells > MAX_TABLE_CELLS:
        raise Refusal(413, f"Tabellen {name} på bladet {where} har {_n(cells)} celler, fler än "
                           f"{_n(MAX_TABLE_CELLS)} som servern tar emot. Ta bort det som inte hör "
                           "till planboken.")
    return cells


def open_book(payload: dict[str, Any]) -> Any:
    """xlwings' remote Book for one request, in an App of its own.

    ``xw.Book(json=…)`` files every book in one shared App, whose ``books.active`` (the most
    recently opened book) receives ``app.alert``: two requests at once could swap alerts, and
    the shared list grows for ever. A private App per request avoids both. The licence check
    stays xlwings' own: the remote engine exists only with a licence key.
    """
    import xlwings as xw

    xw.engines["remote"]  # raises xlwings' LicenseError without XLWINGS_LICENSE_KEY
    from xlwings.pro import _xlremote  # pinned xlwings 0.37.8

    app = _xlremote.App(apps=None, add_book=False)  # type: ignore[no-untyped-call]
    return xw.Book(impl=app.books.open(json=payload))


def book_owner(book: Any) -> str:
    """Info › Nämnd as the validator reads it (:mod:`xlplan.owner`), before anything runs."""
    from xlplan.io.xlwings_book import read_book
    from xlplan.owner import OwnerUnclear, planbok_owner

    try:
        return planbok_owner(read_book(book))
    except OwnerUnclear as exc:
        raise Refusal(422, exc.message) from None


def run_route(route: str, payload: dict[str, Any], who: str, settings: Settings) -> dict[str, Any]:
    """Open the book, check who may do what, run the button's handler, return the actions."""
    from xlplan import excel
    from xlplan.server_inbox import deliver

    try:
        book = open_book(payload)
    except Exception as exc:  # whatever the client sent, it is not a book xlwings can build
        log.info("%s: bok gick inte att bygga (%s)", route, type(exc).__name__)
        raise Refusal(400, "Arbetsboken i anropet går inte att läsa.") from None
    if route == "konsolidera":
        if who != ALL:
            raise Refusal(403, "Bara ekonomidirektörens behörighet får konsolidera regionen. "
                               f"Din nyckel gäller nämnden {who}.")
        excel.konsolidera(book, settings=settings,
                          server=(settings.server_inkorg, settings.server_utfil))
    else:
        namnd = book_owner(book)
        if who != ALL and namnd_code(who) != namnd:
            raise Refusal(403, f"Din behörighet gäller nämnden {who}, men planboken hör till "
                               f"{namnd} (Info › Nämnd). Öppna din nämnds planbok.")
        if route == "validera":
            excel.validera(book)
        elif route == "berakna":
            excel.berakna(book, settings=settings)
        else:
            excel.skicka(book, settings=settings, deliver=deliver(payload, namnd, who))
    actions: dict[str, Any] = book.json()
    return actions


async def read_json(request: Request, limit: int) -> Any:
    size = request.headers.get("content-length", "")
    too_big = Refusal(413, f"Arbetsboken är för stor för servern (högst {limit // 1_000_000} MB). "
                           "Ta bort blad som inte hör till planboken.")
    if size.isdigit() and int(size) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Refusal(400, "Anropet är inte giltig JSON; skicka från Excel med xlwings.") from None


def _refused(r: Refusal) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="xlplan"'} if r.status == 401 else None
    return PlainTextResponse(r.message, status_code=r.status, headers=headers)


def is_loopback(host: str) -> bool:
    """Is ``host`` (from the Host header) this machine: localhost or a loopback address?"""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_app(settings: Settings) -> Starlette:
    tokens = check_tokens(dict(settings.server_tokens))
    pinned = pinned_xlwings()
    limit = int(settings.server_max_mb * 1_000_000)

    def button(route: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            start = time.perf_counter()
            who = "?"
            try:
                who = authenticate(request.headers.get("authorization"), tokens)
                payload = check_payload(await read_json(request, limit), pinned)
                body = await run_in_threadpool(run_route, route, payload, who, settings)
            except Refusal as r:
                log.info("%s nekad för %s: %d", route, who, r.status)
                return _refused(r)
            except asyncio.CancelledError:  # SIGTERM and the shutdown timeout ran out
                log.info("%s för %s avbruten: servern stängs", route, who)
                return PlainTextResponse("xlplan-servern startas om; försök igen om en stund.",
                                         status_code=503)
            except Exception as exc:
                log.exception("%s för %s: oväntat fel", route, who)
                return PlainTextResponse(
                    f"Ett oväntat fel inträffade på xlplan-servern ({type(exc).__name__}). "
                    "Förvaltningen ser detaljerna i serverns logg.", status_code=500)
            log.info("%s för %s: %.0f ms", route, who, (time.perf_counter() - start) * 1000)
            return JSONResponse(body)

        return endpoint

    if not settings.server_url:
        log.warning("server_url är inte satt: /manifest.xml lämnas bara ut för adresser på den "
                    "här datorn (127.0.0.1, localhost). Sätt server_url till serverns publika "
                    "https-adress innan tillägget delas ut.")

    async def manifest(request: Request) -> Response:
        if not settings.server_url and not is_loopback(request.url.hostname or ""):
            # the Host header is the client's to choose: never put it into a manifest
            return PlainTextResponse(
                "Tilläggets manifest kan inte lämnas ut: servern vet inte sin egen adress. "
                "Förvaltningen behöver sätta server_url (t.ex. https://xlplan.region.se) i "
                "serverns xlplan.toml.", status_code=503)
        base = (settings.server_url or str(request.base_url)).rstrip("/")
        text = (STATIC / "manifest.xml").read_text(encoding="utf-8")
        return Response(text.replace("{{BASE}}", escape(base, {'"': "&quot;"})),
                        media_type="application/xml")

    async def taskpane(request: Request) -> Response:
        return Response((STATIC / "taskpane.html").read_text(encoding="utf-8"),
                        media_type="text/html")

    async def script(request: Request) -> Response:
        text = (STATIC / "xlplan-taskpane.js").read_text(encoding="utf-8")
        return Response(text.replace("{{XLWINGS_VERSION}}", pinned),
                        media_type="text/javascript")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def key(request: Request) -> Response:
        """Does the server know this key? The workbook's macro asks before it sends a book,
        so that a mistyped saved key can be forgotten (answer: the key's nämnd, or *)."""
        try:
            who = authenticate(request.headers.get("authorization"), tokens)
        except Refusal as r:
            return _refused(r)
        return PlainTextResponse(who)

    routes = [Route(f"/{r}", button(r), methods=["POST"]) for r in ROUTES]
    routes += [Route("/manifest.xml", manifest), Route("/taskpane.html", taskpane),
               Route("/xlplan-taskpane.js", script), Route("/halsa", health),
               Route("/nyckel", key)]
    return Starlette(routes=routes)


def serve(host: str, port: int, settings: Settings) -> None:
    """Run the server until stopped (uvicorn)."""
    import uvicorn
    import xlwings

    if not xlwings.__pro__:  # the key: XLWINGS_LICENSE_KEY or xlwings' own config file
        raise ConfigError("Servern behöver XLWINGS_LICENSE_KEY: \"noncommercial\" för en region "
                          "eller kommun (PolyForm Noncommercial omfattar myndigheter), annars "
                          "en köpt xlwings PRO-nyckel. Se README, avsnittet om licens.")
    if not settings.server_tokens:
        raise ConfigError("Ange server_tokens (xlplan.toml eller XLPLAN_SERVER_TOKENS som JSON), "
                          "annars kan ingen använda servern.")
    check_tokens(dict(settings.server_tokens))  # every refusal before the first log line
    sock = listen(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = build_app(settings)
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=True, log_level="info",
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    uvicorn.Server(config).run(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a bad address or a port in use is one Swedish
    sentence (uvicorn's own messages are English and exit 3); uvicorn then serves on it."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"Porten {port} finns inte; ange ett tal från 1 till 65535.")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError):
        raise ConfigError(f"Adressen {host[:100]} går inte att lyssna på: den finns inte på den "
                          "här datorn. Ange t.ex. --host 127.0.0.1.") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"Porten {port} på {host[:100]} används redan av ett annat program; "
                              "välj en annan med --port eller stoppa det programmet.") from None
        if exc.errno == errno.EACCES:
            raise ConfigError(f"Porten {port} kräver administratörsrättigheter; välj en port "
                              "över 1023 med --port.") from None
        raise ConfigError(f"Adressen {host[:100]} går inte att lyssna på: den hör inte till den "
                          "här datorn. Ange t.ex. --host 127.0.0.1.") from None
    sock.set_inheritable(True)
    return sock
