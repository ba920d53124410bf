"""``xlplan serve`` with the real parts: uvicorn on 127.0.0.1, httpx posting the JSON an
xlwings client sends for real .xlsx files, aiosmtpd for Skicka (password and XOAUTH2)."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shlex
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from defusedxml import ElementTree

from tests.support.books import rc
from tests.support.plan import full_plan, plan_info, wrong_total
from tests.support.smtp import FlakyMailbox, free_port, self_signed, smtp_server
from tests.support.xlbook import cell_of, payload
from xlplan.errors import ConfigError
from xlplan.inbox import scan_inbox
from xlplan.server import build_app, check_tokens
from xlplan.settings import Settings, load_settings

HSN = "hsn-nyckel-0123456789abcdef"
RS = "rs-nyckel-0123456789abcdef"
CFO = "ekonomidirektor-0123456789abcdef"
TOKENS = {HSN: "HSN", RS: "RS", CFO: "*"}
RED = ["#ffc7ce"]


def settings(tmp: Path, **more: Any) -> Settings:
    base: dict[str, Any] = {
        "server_tokens": TOKENS, "server_inkorg": tmp / "inkorg",
        "server_utfil": tmp / "ut" / "region.xlsx", "databas": f"sqlite:///{tmp / 'hist.db'}",
        "loggmapp": tmp / "logg", "avsandare": "xlplan@region.example",
        "mottagare": "cfo@region.example", "smtp_host": "127.0.0.1", "smtp_port": 1,
        "smtp_starttls": False, "smtp_forsok": 1}
    base.update(more)
    return load_settings(**base)


@contextmanager
def live(s: Settings) -> Iterator[str]:
    """The app on uvicorn, on a free port of 127.0.0.1, for the length of the block."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(s), host="127.0.0.1", port=port,
                                           log_level="info", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn startade inte"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def post(url: str, route: str, body: Any, token: str | None = HSN, *,
         raw: bytes | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return httpx.post(f"{url}/{route}", content=raw, headers=headers, timeout=60)
    return httpx.post(f"{url}/{route}", json=body, headers=headers, timeout=60)


def book_json(path: Path) -> dict[str, Any]:
    return payload(path, name=path.name)  # the VBA client sends ActiveWorkbook.Name


def sheet_position(body: dict[str, Any], name: str) -> int:
    return [s["name"] for s in body["sheets"]].index(name)


# --- the four routes --------------------------------------------------------------------------


def test_validera_answers_the_actions_of_the_button(tmp_path: Path) -> None:
    body = book_json(wrong_total(tmp_path))
    with live(settings(tmp_path)) as url:
        response = post(url, "validera", body)
    assert response.status_code == 200, response.text
    acts = response.json()["actions"]
    # as the desktop button: D8 of Budgetram (175,5 where the rows give 175,4) turns red
    red = [(a["sheet_position"], cell_of(a)) for a in acts
           if a["func"] == "setRangeColor" and a["args"] == RED]
    assert red == [(sheet_position(body, "Budgetram"), rc("D8"))]
    assert [a["args"][1] for a in acts if a["func"] == "addSheet"] == ["Kontroll"]
    [values] = [a["values"] for a in acts if a["func"] == "setValues"]
    assert values[0][0].startswith("Kontroll av hsn.xlsx: 1 fel,")
    assert ["Fel", "summeringsfel", "Budgetram", "D8"] in [row[:4] for row in values]


def test_the_bare_token_of_xlwings_auth_setting_is_accepted(tmp_path: Path) -> None:
    # xlwings' VBA client sends its AUTH setting as the whole header value, no "Bearer"
    body = book_json(full_plan(tmp_path))
    with live(settings(tmp_path)) as url:
        response = httpx.post(f"{url}/validera", json=body, headers={"Authorization": HSN})
    assert response.status_code == 200
    [values] = [a["values"] for a in response.json()["actions"] if a["func"] == "setValues"]
    assert values[0][0].startswith("Kontroll av hsn.xlsx: 0 fel,")


def test_berakna_writes_sammanfattning(tmp_path: Path) -> None:
    body = book_json(full_plan(tmp_path))
    with live(settings(tmp_path)) as url:
        response = post(url, "berakna", body)
    assert response.status_code == 200, response.text
    acts = response.json()["actions"]
    assert [a["args"][1] for a in acts if a["func"] == "addSheet"] == ["Sammanfattning"]
    [values] = [a["values"] for a in acts if a["func"] == "setValues"]
    flat = [v for row in values for v in row]
    assert "Sammanfattning HSN 2025" in flat
    # the net budget, worked by hand in tests/support/plan.py: −2331,4 − 1754,2 − 3,1 = −4088,7
    assert -4088.7 in flat


# --- who may do what ----------------------------------------------------------------------------


def test_no_or_unknown_token_is_401_another_nämnd_is_403(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = book_json(full_plan(tmp_path))
    with live(settings(tmp_path)) as url:
        none = post(url, "validera", body, token=None)
        unknown = post(url, "validera", body, token=HSN[:-1] + "x")
        other = post(url, "validera", body, token=RS)
        consolidate = post(url, "konsolidera", body, token=HSN)
        cfo = post(url, "validera", body, token=CFO)
    assert none.status_code == 401 and unknown.status_code == 401
    assert none.headers["www-authenticate"].startswith("Bearer")
    assert "känner inte igen din behörighetsnyckel" in none.text
    # where the key really comes from, and how to get rid of a wrong one
    assert "XLPLAN_TOKEN" in none.text and "GlomServernyckel" in none.text
    assert "xlwings.conf" not in none.text and "AUTH" not in none.text
    assert other.status_code == 403
    assert other.text.startswith("Din behörighet gäller nämnden RS, men planboken hör till HSN")
    assert consolidate.status_code == 403 and "Bara ekonomidirektörens" in consolidate.text
    assert cfo.status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "validera nekad för RS: 403" in logged  # logged: who and what, never a token
    for token in TOKENS:
        assert token not in logged and token[:-1] not in logged


def test_short_tokens_and_unknown_roles_are_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="minst 16 tecken"):
        check_tokens({"kort": "HSN"})
    with pytest.raises(ConfigError, match="nämnds kod"):
        check_tokens({HSN: "HSN; rm -rf"})
    assert check_tokens(TOKENS) == TOKENS


def test_tokens_from_the_environment_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPLAN_SERVER_TOKENS", json.dumps({HSN: "HSN", CFO: "*"}))
    assert load_settings().server_tokens == {HSN: "HSN", CFO: "*"}


# --- bad requests ------------------------------------------------------------------------------


def test_bad_requests_get_4xx_in_swedish_and_nothing_is_sent_or_filed(tmp_path: Path) -> None:
    good = book_json(full_plan(tmp_path))
    no_tables = {**good, "sheets": [{"name": "Blad1", "values": [["hej"]], "pictures": [],
                                     "tables": []}]}
    with smtp_server(tmp_path) as smtp:
        s = settings(tmp_path, smtp_port=smtp.port, server_max_mb=0.05)
        big = {**good, "sheets": good["sheets"] + [
            {"name": "Stort", "values": [["x" * 1000] * 10] * 10, "pictures": [], "tables": []}]}
        cases = {
            "trasig json": (400, None, b'{"client": "VBA", "version": '),
            "för stor": (413, big, None),
            "fel version": (400, {**good, "version": "0.37.7"}, None),
            "ingen Info": (422, no_tables, None),
            "sökväg i namnet": (400, {**good, "book": {**good["book"], "name": "../../etc/hsn.xlsx"}},
                                None),
            "enhet i namnet": (400, {**good, "book": {**good["book"], "name": "C:hsn.xlsx"}}, None),
            "inga blad": (400, {**good, "sheets": []}, None),
            "konstigt värde": (400, {**good, "sheets": [{"name": "A", "values": [[{"a": 1}]],
                                                        "tables": []}]}, None),
            "ingen lista": (400, [1, 2], None),
            "tabell utan adress": (400, {**good, "sheets": [{"name": "Info", "values": [["Fält"]],
                                                            "tables": [{"name": "Info"}]}]}, None),
        }
        with live(s) as url:
            for case, (status, body, raw) in cases.items():
                response = post(url, "skicka", body, raw=raw)
                assert response.status_code == status, (case, response.text)
                assert "Traceback" not in response.text and response.text[:1].isupper(), case
            assert "servern kräver 0.37.8" in post(url, "skicka", cases["fel version"][1]).text
            assert "saknar tabellen Info" in post(url, "validera", no_tables).text
        assert smtp.messages() == []
    assert not (tmp_path / "inkorg").exists() or list((tmp_path / "inkorg").iterdir()) == []


# --- Skicka: mailed with the server's settings, filed in the server's inbox ----------------------


def test_skicka_mails_and_files_the_planbok_keeping_the_replaced_one(tmp_path: Path) -> None:
    inbox = tmp_path / "inkorg"
    with smtp_server(tmp_path, tls=True, user="xlplan", password="hemligt") as smtp:
        s = settings(tmp_path, smtp_port=smtp.port, smtp_starttls=True, smtp_cafil=smtp.cafile,
                     smtp_user="xlplan", smtp_password="hemligt")
        with live(s) as url:
            first = post(url, "skicka", book_json(full_plan(tmp_path)))
            assert first.status_code == 200, first.text
            [alert] = [a for a in first.json()["actions"] if a["func"] == "alert"]
            assert alert["args"][0].startswith("Skickat till cfo@region.example.")
            filed = inbox / "HSN_2025_2025-03.xlsx"  # Nämnd, Budgetår, Rapportmånad
            first_bytes = filed.read_bytes()
            (tmp_path / "ny").mkdir()
            again = full_plan(tmp_path / "ny", Info=plan_info(Kontaktperson="Anna Ek"))
            second = post(url, "skicka", book_json(again))
            assert second.status_code == 200, second.text
        messages = smtp.messages()
    assert len(messages) == 2 and smtp.logins == [(b"xlplan", b"hemligt")] * 2
    attached = {p.get_filename(): p.get_payload(decode=True) for m in messages for p in m.walk()
                if p.get_filename() and p.get_payload(decode=True) == first_bytes}
    assert list(attached) == ["HSN_2025_2025-03.xlsx"]  # what was mailed is what was filed
    # the second send replaced the filed planbok; the first is kept, outside the scan
    [kept] = list((inbox / "ersatta").iterdir())
    assert kept.name.startswith("HSN_2025_2025-03_ersatt_") and kept.read_bytes() == first_bytes
    assert scan_inbox(inbox) == [filed] and filed.read_bytes() != first_bytes
    assert any(p.get_payload(decode=True) == filed.read_bytes() for m in messages for p in m.walk()
               if p.get_filename())
    assert sorted(p.name for p in inbox.iterdir()) == ["HSN_2025_2025-03.xlsx", "ersatta"]
    # and Konsolidera (ekonomidirektören) finds it: the region workbook names no folders
    from xlplan.template import new_region

    region = tmp_path / "region.xlsm"
    new_region(region, 2025, inkorg="/etc", utfil="../../utanfor.xlsx")  # ignored on the server
    (tmp_path / "ut").mkdir()
    with live(s) as url:
        response = post(url, "konsolidera", book_json(region), token=CFO)
    assert response.status_code == 200, response.text
    [alert] = [a for a in response.json()["actions"] if a["func"] == "alert"]
    assert alert["args"][0].startswith("Skrev region.xlsx: 1 nämnd, budgetår 2025.")  # one, not "1 nämnder"
    assert (tmp_path / "ut" / "region.xlsx").exists()
    assert not (tmp_path.parent / "utanfor.xlsx").exists()


def test_skicka_with_errors_sends_and_files_nothing(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp:
        with live(settings(tmp_path, smtp_port=smtp.port)) as url:
            response = post(url, "skicka", book_json(wrong_total(tmp_path)))
        assert smtp.messages() == []
    assert response.status_code == 200
    [alert] = [a for a in response.json()["actions"] if a["func"] == "alert"]
    assert alert["args"][0] == "Planboken har 1 fel och skickades inte. Se bladet Kontroll."
    assert not (tmp_path / "inkorg" / "HSN_2025_2025-03.xlsx").exists()


class OAuthMailbox(FlakyMailbox):
    """Accepts SASL XOAUTH2 with one user and one access token (RFC-less Google/Microsoft
    format: ``user=U^Aauth=Bearer T^A^A``, base64)."""

    def __init__(self, folder: str, user: str, token: str) -> None:
        super().__init__(folder)
        self.user, self.token = user, token
        self.seen: list[str] = []

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        raw = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        self.seen.append(raw)
        ok = raw == f"user={self.user}\x01auth=Bearer {self.token}\x01\x01"
        return AuthResult(success=ok, handled=False)


@contextmanager
def oauth_smtp(folder: Path, user: str, token: str) -> Iterator[tuple[int, OAuthMailbox, Path]]:
    handler = OAuthMailbox(str(folder / "maildir"), user, token)
    cert, key = self_signed(folder)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx,
                            require_starttls=True, auth_required=True, auth_require_tls=True)
    controller.start()
    try:
        yield port, handler, cert
    finally:
        controller.stop()


def token_command(token: str) -> str:
    return shlex.join([sys.executable, "-c", f"print({token!r})"])


def test_skicka_logs_in_with_xoauth2_from_a_token_command(tmp_path: Path) -> None:
    import mailbox

    with oauth_smtp(tmp_path, "xlplan@region.example", "eyJ0eXAi.access.token") as (port, h, ca):
        s = settings(tmp_path, smtp_port=port, smtp_starttls=True, smtp_cafil=ca,
                     smtp_user="xlplan@region.example",
                     smtp_oauth2_kommando=token_command("eyJ0eXAi.access.token"))
        with live(s) as url:
            response = post(url, "skicka", book_json(full_plan(tmp_path)))
        bad = settings(tmp_path, smtp_port=port, smtp_starttls=True, smtp_cafil=ca,
                       smtp_user="xlplan@region.example",
                       smtp_oauth2_kommando=token_command("utgangen"),
                       server_inkorg=tmp_path / "inkorg2")
        with live(bad) as url:
            refused = post(url, "skicka", book_json(full_plan(tmp_path)))
    assert response.status_code == 200, response.text
    [alert] = [a for a in response.json()["actions"] if a["func"] == "alert"]
    assert alert["args"][0].startswith("Skickat till cfo@region.example.")
    assert len(list(mailbox.Maildir(tmp_path / "maildir"))) == 1
    assert (tmp_path / "inkorg" / "HSN_2025_2025-03.xlsx").exists()
    [alert] = [a for a in refused.json()["actions"] if a["func"] == "alert"]
    assert "OAuth2-inloggningen (XOAUTH2)" in alert["args"][0]
    assert "utgangen" in h.seen[-1]  # the server saw the second token; nothing was filed
    assert scan_inbox(tmp_path / "inkorg2") == []


def test_a_failing_token_command_sends_nothing(tmp_path: Path) -> None:
    from xlplan.mail_oauth import oauth2_token

    with pytest.raises(ConfigError, match="slutkod 3"):
        oauth2_token(shlex.join([sys.executable, "-c", "raise SystemExit(3)"]))
    with pytest.raises(ConfigError, match="finns inte"):
        oauth2_token("/finns/inte/token-kommando")


# --- the Office.js add-in -------------------------------------------------------------------------


def test_manifest_carries_the_servers_address_and_the_task_pane_is_served(tmp_path: Path) -> None:
    ns = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1"}
    public = settings(tmp_path, server_url="https://xlplan.region.example/")
    with live(public) as url:
        manifest = httpx.get(f"{url}/manifest.xml")
        pane = httpx.get(f"{url}/taskpane.html")
        script = httpx.get(f"{url}/xlplan-taskpane.js")
    assert manifest.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(manifest.content)
    source = root.find("o:DefaultSettings/o:SourceLocation", ns)
    assert source is not None
    assert source.get("DefaultValue") == "https://xlplan.region.example/taskpane.html"
    with live(settings(tmp_path)) as url:
        own = ElementTree.fromstring(httpx.get(f"{url}/manifest.xml").content)
    own_source = own.find("o:DefaultSettings/o:SourceLocation", ns)
    assert own_source is not None and own_source.get("DefaultValue") == f"{url}/taskpane.html"
    routes = re.findall(r'data-route="(\w+)"', pane.text)
    assert routes == ["validera", "berakna", "skicka", "konsolidera"]
    assert 'const XLWINGS_VERSION = "0.37.8";' in script.text
    assert "Copyright (C) 2014 - present, Zoomer Analytics GmbH." in script.text


def test_the_task_pane_knows_every_action_the_handlers_send(tmp_path: Path) -> None:
    from xlplan.template import new_region

    region = tmp_path / "region.xlsm"
    new_region(region, 2025, inkorg="", utfil="")
    sent: set[str] = set()
    with live(settings(tmp_path)) as url:
        script = httpx.get(f"{url}/xlplan-taskpane.js").text
        for route, path, token in [("validera", wrong_total(tmp_path), HSN),
                                   ("berakna", full_plan(tmp_path), HSN),
                                   ("skicka", wrong_total(tmp_path), HSN),
                                   ("konsolidera", region, CFO)]:
            response = post(url, route, book_json(path), token=token)
            assert response.status_code == 200, response.text
            sent |= {a["func"] for a in response.json()["actions"]}
    known = set(re.findall(r"^  (\w+)\(context, action", script, re.MULTILINE))
    assert {"setValues", "setRangeColor", "addSheet", "alert"} <= sent
    assert sent <= known, sent - known


# --- load: many controllers at once ---------------------------------------------------------------


def test_twenty_controllers_validate_at_once_and_nothing_is_lost(tmp_path: Path) -> None:
    bodies = []
    for i in range(20):  # 20 different planböcker: each names its own Kontaktperson and file
        folder = tmp_path / f"p{i}"
        folder.mkdir()
        path = full_plan(folder, name=f"hsn-{i:02d}.xlsx", Info=plan_info(Kontaktperson=f"K{i}"))
        bodies.append(book_json(path))
    requests = [bodies[i % 20] for i in range(60)]  # a fixed number: three rounds of twenty
    times: list[float] = []

    with live(settings(tmp_path)) as url, httpx.Client(timeout=120) as client:
        def one(body: dict[str, Any]) -> tuple[str, int, str]:
            start = time.perf_counter()
            response = client.post(f"{url}/validera", json=body,
                                   headers={"Authorization": f"Bearer {HSN}"})
            times.append(time.perf_counter() - start)
            [values] = [a["values"] for a in response.json()["actions"]
                        if a["func"] == "setValues"]
            return body["book"]["name"], response.status_code, values[0][0]

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(one, requests))
    assert len(results) == 60 and all(status == 200 for _, status, _ in results)
    for name, _, title in results:  # every answer belongs to the book that asked
        assert title.startswith(f"Kontroll av {name}: 0 fel,")
    q = statistics.quantiles(times, n=20)
    print(f"\nbelastning: 60 Validera, 20 samtidiga: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {q[18] * 1000:.0f} ms")


# --- the command --------------------------------------------------------------------------------


def test_xlplan_serve_needs_a_licence_key_then_answers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLPLAN_", "XLWINGS_"))}
    env["XLPLAN_SERVER_TOKENS"] = json.dumps(TOKENS)
    port = free_port()
    cmd = [sys.executable, "-m", "xlplan", "serve", "--port", str(port)]
    refused = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 2 and "XLWINGS_LICENSE_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr
    env["XLWINGS_LICENSE_KEY"] = "noncommercial"
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "servern startade inte"
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/halsa").text == "ok"
        body = book_json(full_plan(tmp_path))
        response = post(f"http://127.0.0.1:{port}", "validera", body)
        assert response.status_code == 200
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert HSN not in output and "validera för HSN" in output


def test_a_sheet_name_excel_would_refuse_sends_and_files_nothing(tmp_path: Path) -> None:
    body = book_json(full_plan(tmp_path))
    body["sheets"].append({"name": "Anteckningar[1]", "values": [["x"]], "pictures": [],
                           "tables": []})  # "[" is not allowed in an Excel sheet name
    with smtp_server(tmp_path) as smtp:
        with live(settings(tmp_path, smtp_port=smtp.port)) as url:
            response = post(url, "skicka", body)
        assert smtp.messages() == []
    assert response.status_code == 200, response.text
    [alert] = [a for a in response.json()["actions"] if a["func"] == "alert"]
    assert alert["args"][0].startswith("Inget skickades: Planboken kunde inte sparas som fil")
    assert scan_inbox(tmp_path / "inkorg") == []
    assert list((tmp_path / "inkorg").iterdir()) == []  # the hidden work folder is gone too


def test_each_request_has_its_own_app_so_alerts_never_cross(tmp_path: Path) -> None:
    # xw.Book(json=…) puts every book in one App whose alert goes to the newest book; a
    # request opened while another runs must not receive the other's dialog
    from xlplan.server import open_book

    first = open_book(book_json(full_plan(tmp_path, name="a.xlsx")))
    second = open_book(book_json(full_plan(tmp_path, name="b.xlsx")))
    first.app.alert("till a", title="xlplan")
    assert [a["args"][0] for a in first.json()["actions"] if a["func"] == "alert"] == ["till a"]
    assert second.json()["actions"] == []


# --- who a planbok belongs to: the validator's reading, nothing else ------------------------------


def swapped_info(*rows: list[Any]) -> Any:
    """Info with its two columns the other way round: Värde first, then Fält."""
    from tests.support.books import T

    return T("Info", ["Värde", "Fält"], [*rows, [2025, "Budgetår"], ["mkr", "Belopp i"],
                                         [1, "Mallversion"], ["2025-03", "Rapportmånad"]],
             sheet="Info", at="A3")


def test_a_token_cannot_file_a_planbok_as_another_nämnd(tmp_path: Path) -> None:
    from tests.support.books import info

    inbox = tmp_path / "inkorg"
    (tmp_path / "rs").mkdir()
    genuine = full_plan(tmp_path / "rs", name="rs.xlsx", Info=info("RS", 2025,
                                                                    Rapportmånad="2025-03"))
    # by position the first row says Nämnd = HSN; by the headers (as the validator reads it)
    # Fält = "Nämnd" is on the second row, and its Värde is RS
    hostile = full_plan(tmp_path, Info=swapped_info(["Nämnd", "HSN"], ["RS", "Nämnd"]))
    with smtp_server(tmp_path) as smtp:
        with live(settings(tmp_path, smtp_port=smtp.port)) as url:
            filed = post(url, "skicka", book_json(genuine), token=RS)
            assert filed.status_code == 200, filed.text
            rs_bytes = (inbox / "RS_2025_2025-03.xlsx").read_bytes()
            attack = post(url, "skicka", book_json(hostile), token=HSN)
        assert len(smtp.messages()) == 1  # the genuine one only
    assert attack.status_code == 403, attack.text
    assert attack.text.startswith("Din behörighet gäller nämnden HSN, men planboken hör till RS")
    assert (inbox / "RS_2025_2025-03.xlsx").read_bytes() == rs_bytes
    assert not (inbox / "ersatta").exists()
    # the audit log: the filed path and whose token sent it, never the token or a temp path
    [line] = (tmp_path / "logg" / "skickat.jsonl").read_text(encoding="utf-8").splitlines()
    logged = json.loads(line)
    assert logged["fil"] == str(inbox / "RS_2025_2025-03.xlsx")
    assert logged["nyckel_for"] == "RS" and logged["resultat"] == "skickat"
    assert RS not in line and ".xlplan-skicka-" not in line


def test_an_ambiguous_or_missing_nämnd_is_refused_and_codes_are_read_as_the_validator_does(
        tmp_path: Path) -> None:
    from tests.support.books import T

    two_rows = full_plan(tmp_path, name="tva.xlsx",
                         Info=swapped_info(["HSN", "Nämnd"], ["RS", "Nämnd"]))
    missing = full_plan(tmp_path, name="utan.xlsx", Info=swapped_info(["HSN", "Kommentar"]))
    wide = full_plan(tmp_path, name="bred.xlsx", Info=swapped_info([" ｈｓｎ ", "Nämnd"]))
    two_tables = book_json(full_plan(tmp_path))
    extra = T("INFO", ["Fält", "Värde"], [["Nämnd", "RS"]], sheet="Extra", at="A1")
    from tests.support.books import write_book

    other = book_json(write_book(tmp_path / "extra.xlsx", extra))
    two_tables["sheets"] += other["sheets"]
    same_name = book_json(full_plan(tmp_path))
    same_name["sheets"].append({"name": "Kopia", "values": [["Fält", "Värde"], ["Nämnd", "RS"]],
                                "pictures": [], "tables": [{"name": "Info",
                                                            "range_address": "$A$1:$B$2"}]})
    with live(settings(tmp_path)) as url:
        answers = {case: post(url, "validera", book_json(path) if isinstance(path, Path)
                              else path, token=token)
                   for case, path, token in [("två rader", two_rows, CFO),
                                             ("saknas", missing, HSN),
                                             ("två tabeller", two_tables, CFO),
                                             ("samma namn", same_name, HSN),
                                             ("helbredd", wide, HSN)]}
    assert answers["två rader"].status_code == 422
    assert "flera rader Nämnd" in answers["två rader"].text
    assert answers["saknas"].status_code == 422 and "saknar en giltig Nämnd" in answers["saknas"].text
    assert answers["två tabeller"].status_code == 400  # INFO and Info: one name to Excel
    assert "finns två gånger" in answers["två tabeller"].text
    assert answers["samma namn"].status_code == 400 and "finns två gånger" in answers["samma namn"].text
    # full-width, lower case and spaces: the validator reads HSN, so HSN's token may
    assert answers["helbredd"].status_code == 200, answers["helbredd"].text


# --- sizes: every table inside what the client sent, and no larger than a planbok's ----------------


def test_a_table_beyond_the_sheets_values_is_refused_before_any_book_is_built(
        tmp_path: Path) -> None:
    good = book_json(full_plan(tmp_path))

    def with_table(address: str, values: list[list[Any]]) -> dict[str, Any]:
        sheet = {"name": "Stort", "values": values, "pictures": [],
                 "tables": [{"name": "Stor", "range_address": address}]}
        return {**good, "sheets": [*good["sheets"], sheet]}

    small = [["a", "b"], [1, 2]]
    wide = [[0] * 1000 for _ in range(101)]  # 101 000 cells, all sent: more than any planbok
    with live(settings(tmp_path)) as url:
        outside = post(url, "validera", with_table("$A$1:$Z$2000", small))
        assert outside.status_code == 400, outside.text  # (before the whole sheet's range)
        whole_sheet = post(url, "validera", with_table("$A$1:$XFD$1048576", small))
        too_many = post(url, "validera", with_table("$A$1:$ALL$101", wide))
        fits = post(url, "validera", with_table("$A$1:$B$2", small))
    assert outside.status_code == 400, outside.text
    assert "går utanför bladets värden" in outside.text
    assert whole_sheet.status_code == 400 and "$A$1:$XFD$1048576" in whole_sheet.text
    assert too_many.status_code == 413, too_many.text
    assert "101\u00a0000 celler, fler än 100\u00a0000" in too_many.text
    assert fits.status_code == 200, fits.text


def test_sigterm_stops_the_server_even_with_a_request_under_way(tmp_path: Path) -> None:
    import signal

    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLPLAN_", "XLWINGS_"))}
    env["XLPLAN_SERVER_TOKENS"] = json.dumps(TOKENS)
    env["XLWINGS_LICENSE_KEY"] = "noncommercial"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "xlplan", "serve", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                stuck = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "servern startade inte"
                time.sleep(0.1)
        # a request whose body never comes: without a shutdown timeout uvicorn waits for ever
        stuck.sendall(f"POST /validera HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {HSN}\r\n"
                      "Content-Length: 100000\r\n\r\n{".encode())
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)  # the shutdown timeout is 10 s
        answer = stuck.recv(4096).decode()
        stuck.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # uvicorn ends by re-raising the signal it caught: killed by SIGTERM, as systemd expects
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output and "servern stängs" in output
    assert answer.startswith("HTTP/1.1 503") and "startas om" in answer


def test_xlplan_serve_refuses_a_bad_start_in_one_swedish_sentence(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLPLAN_", "XLWINGS_"))}
    env["XLWINGS_LICENSE_KEY"] = "noncommercial"
    env["XLPLAN_SERVER_TOKENS"] = json.dumps(TOKENS)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    used = busy.getsockname()[1]

    def serve(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xlplan", "serve", *args],
                              env={**env, **more}, cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)

    try:
        cases = {
            "port": (serve("--port", "99999"), "Porten 99999 finns inte"),
            "upptagen": (serve("--port", str(used)), f"Porten {used} på 127.0.0.1 används redan"),
            "värd": (serve("--host", "finns-inte.invalid"), "Adressen finns-inte.invalid går inte"),
            "json": (serve(XLPLAN_SERVER_TOKENS="not json"),
                     "Miljövariabeln XLPLAN_SERVER_TOKENS går inte att tolka; skriv värdet som JSON"),
        }
    finally:
        busy.close()
    for case, (done, expected) in cases.items():
        assert done.returncode == 2, (case, done.stderr)
        assert done.stderr.startswith(expected), (case, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, case
        assert "Inställningsfilen" not in done.stderr and "Errno" not in done.stderr, case


def test_the_macro_can_ask_whether_the_server_knows_its_key(tmp_path: Path) -> None:
    with live(settings(tmp_path)) as url:
        known = httpx.get(f"{url}/nyckel", headers={"Authorization": f"Bearer {HSN}"})
        cfo = httpx.get(f"{url}/nyckel", headers={"Authorization": CFO})
        unknown = httpx.get(f"{url}/nyckel", headers={"Authorization": f"Bearer {HSN}x"})
        none = httpx.get(f"{url}/nyckel")
    assert (known.status_code, known.text) == (200, "HSN")
    assert (cfo.status_code, cfo.text) == (200, "*")
    assert unknown.status_code == 401 and none.status_code == 401
    assert "GlomServernyckel" in unknown.text


def test_without_server_url_the_manifest_is_only_for_this_machine(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with live(settings(tmp_path)) as url:
        local = httpx.get(f"{url}/manifest.xml")
        named = httpx.get(f"{url}/manifest.xml", headers={"Host": "localhost"})
        forged = httpx.get(f"{url}/manifest.xml", headers={"Host": "angripare.example"})
    assert local.status_code == 200 and named.status_code == 200
    assert "angripare" not in forged.text
    assert forged.status_code == 503 and "server_url" in forged.text
    warned = [r.getMessage() for r in caplog.records if r.name == "xlplan.server"]
    assert any(m.startswith("server_url är inte satt") for m in warned), warned
    with live(settings(tmp_path, server_url="https://xlplan.region.example")) as url:
        public = httpx.get(f"{url}/manifest.xml", headers={"Host": "angripare.example"})
    assert public.status_code == 200 and "angripare" not in public.text
    assert "https://xlplan.region.example/taskpane.html" in public.text


# --- a Book carries values only: its formulas are unknown, never "overwritten" ---------------------


def test_a_book_and_the_servers_file_of_it_report_no_overwritten_formulas(tmp_path: Path) -> None:
    from tests.support.xlbook import remote_book
    from xlplan import excel
    from xlplan.demo import rs
    from xlplan.template import write_planbok
    from xlplan.validation import validate

    demo = tmp_path / "rs.xlsx"
    write_planbok(demo, rs())  # the template's formulas, as xlplan new and the demo write them
    assert "formel-overskriven" not in {f.code for f in validate(demo).findings}
    by_button = excel.validera(remote_book(demo))
    assert "formel-overskriven" not in {f.code for f in by_button.findings}
    # a file whose formula column holds typed numbers (tests/plan.py types every Nettobudget)
    typed = full_plan(tmp_path)
    assert "formel-overskriven" in {f.code for f in validate(typed).findings}

    inbox = tmp_path / "inkorg"
    with smtp_server(tmp_path) as smtp:
        with live(settings(tmp_path, smtp_port=smtp.port)) as url:
            sent = post(url, "skicka", book_json(demo), token=RS)
        assert sent.status_code == 200, sent.text
        [message] = smtp.messages()
    [filed] = scan_inbox(inbox)
    assert "formel-overskriven" not in {f.code for f in validate(filed).findings}
    texts = [str(part.get_payload(decode=True), "utf-8") for part in message.walk()
             if part.get_content_type() == "text/plain"]
    assert texts and "Inga varningar." in texts[0]  # the mail lists no warning ...
    assert not any("formel-overskriven" in t for t in texts)  # ... and not this one
