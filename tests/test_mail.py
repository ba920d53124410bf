"""xlplan send against a real SMTP server (aiosmtpd on 127.0.0.1); no mocks of smtplib."""

from __future__ import annotations

import email
import hashlib
import json
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import xlplan
from tests.support.plan import budgetram, full_plan
from tests.support.smtp import free_port, settings, smtp_server
from xlplan.errors import ConfigError, MailError, MailRefused
from xlplan.mail import send

SECRET = "hemligt-losen-42"


def audit(tmp: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in
            (tmp / "logg" / "skickat.jsonl").read_text(encoding="utf-8").splitlines()]


def test_valid_planbok_is_delivered_byte_for_byte(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    with smtp_server(tmp_path) as server:
        result = send(path, settings(tmp_path, server.port))
        messages = server.messages()
    assert result.status == "skickat" and result.reply.startswith("250")
    assert len(messages) == 1
    msg = email.message_from_bytes(messages[0].as_bytes(), policy=policy.default)
    assert msg["Subject"] == "Planbok HSN 2025 – validerad"
    assert msg["To"] == "ekonomidirektor@region.example"
    assert msg["From"] == "hsn@region.example"
    assert msg["Message-ID"] == result.message_id and msg["Date"]
    [attachment] = list(msg.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    data = attachment.get_payload(decode=True)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Nettobudget totalt: −4\u00a0088,7" in body
    assert "Åtgärdsplan 2025: effekt 185,0, täckningsgrad 35,6 %" in body
    assert "Varningar" in body  # constants where the template has formulas
    [line] = audit(tmp_path)
    assert (line["resultat"], line["message_id"], line["mottagare"]) == (
        "skickat", result.message_id, ["ekonomidirektor@region.example"])
    assert line["svar"] == result.reply == "250 2.0.0 Ok: queued as XLPLAN42"  # DATA's reply
    assert line["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_starttls_and_auth_with_a_self_signed_certificate(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=True, user="hsn", password=SECRET) as server:
        s = settings(tmp_path, server.port, smtp_starttls=True, smtp_user="hsn",
                     smtp_password=SECRET, smtp_cafil=server.cafile)
        result = send(full_plan(tmp_path), s)
        assert result.status == "skickat"
        assert server.logins == [(b"hsn", SECRET.encode())]
        assert len(server.messages()) == 1
    assert SECRET not in (tmp_path / "logg" / "skickat.jsonl").read_text(encoding="utf-8")


def test_untrusted_certificate_is_a_tls_failure(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=True) as server:
        with pytest.raises(MailError, match="TLS"):
            send(full_plan(tmp_path), settings(tmp_path, server.port, smtp_starttls=True))
        assert server.messages() == []


def test_wrong_password(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=True, user="hsn", password=SECRET) as server:
        s = settings(tmp_path, server.port, smtp_starttls=True, smtp_user="hsn",
                     smtp_password="fel", smtp_cafil=server.cafile)
        with pytest.raises(MailError, match=r"Inloggningen .* misslyckades"):
            send(full_plan(tmp_path), s)
        assert server.messages() == []
    assert audit(tmp_path)[-1]["resultat"] == "fel"


def test_never_auth_without_tls(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        s = settings(tmp_path, server.port, smtp_user="hsn", smtp_password=SECRET)
        with pytest.raises(ConfigError, match="STARTTLS"):
            send(full_plan(tmp_path), s)
        assert server.messages() == []


def test_server_down(tmp_path: Path) -> None:
    with pytest.raises(MailError, match="kan inte nås"):
        send(full_plan(tmp_path), settings(tmp_path, free_port()))
    assert audit(tmp_path)[-1]["resultat"] == "fel"


def test_an_unknown_server_name_is_said_in_swedish(tmp_path: Path) -> None:
    # ".invalid" never resolves (RFC 2606): the system's own English text stays out
    with pytest.raises(MailError) as failed:
        send(full_plan(tmp_path), settings(tmp_path, 25, smtp_host="smtp.region.invalid"))
    assert "servernamnet hittades inte" in failed.value.message
    assert "not known" not in failed.value.message and "resolution" not in failed.value.message


def test_temporary_failure_succeeds_on_retry(tmp_path: Path) -> None:
    with smtp_server(tmp_path, failures=2) as server:
        result = send(full_plan(tmp_path), settings(tmp_path, server.port, smtp_forsok=3))
        assert result.attempts == 3 and len(server.messages()) == 1


def test_temporary_failure_gives_up_after_the_last_try(tmp_path: Path) -> None:
    with smtp_server(tmp_path, failures=5) as server:
        with pytest.raises(MailError, match="tillfälligt fel efter 2 försök"):
            send(full_plan(tmp_path), settings(tmp_path, server.port, smtp_forsok=2))
        assert server.messages() == []


def test_permanent_refusal_is_not_retried(tmp_path: Path) -> None:
    with smtp_server(tmp_path, permanent="ekonomidirektor@region.example") as server:
        with pytest.raises(MailError, match="Mottagaren vägrades"):
            send(full_plan(tmp_path), settings(tmp_path, server.port, smtp_forsok=3))
        assert server.handler.data_calls == 0 and server.messages() == []


def test_planbok_with_errors_never_leaves(tmp_path: Path) -> None:
    t = budgetram()
    t.totals = list(t.totals or [])
    t.totals[2] = 175.9  # rows give 175.4: 0,5 off, beyond one 0,1 unit
    with smtp_server(tmp_path) as server:
        with pytest.raises(MailRefused, match="1 fel"):
            send(full_plan(tmp_path, Budgetram=t), settings(tmp_path, server.port))
        assert server.messages() == [] and server.handler.data_calls == 0
    assert audit(tmp_path)[-1]["resultat"] == "stoppad"


def test_recipient_comes_from_settings_or_command_line_never_the_workbook(tmp_path: Path) -> None:
    from tests.support.plan import plan_info

    # the workbook names its own e-mail address; it is not a recipient
    path = full_plan(tmp_path, Info=plan_info(**{"E-post": "angripare@example.com"}))
    with smtp_server(tmp_path) as server:
        send(path, settings(tmp_path, server.port), to=["cfo@region.example"])
        [msg] = server.messages()
    assert msg["To"] == "cfo@region.example"
    assert "angripare" not in str(msg["To"]) + str(msg["Cc"] or "") + str(msg["Bcc"] or "")


def test_cli_send_and_dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = full_plan(tmp_path)
    env = {"XLPLAN_SMTP_HOST": "127.0.0.1", "XLPLAN_SMTP_STARTTLS": "0",
           "XLPLAN_AVSANDARE": "hsn@region.example", "XLPLAN_MOTTAGARE": "cfo@region.example",
           "XLPLAN_LOGGMAPP": str(tmp_path / "logg"), "XLPLAN_SMTP_PASSWORD": SECRET}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    eml = tmp_path / "brev.eml"
    dry = xlplan("send", str(path), "--dry-run", "--eml", str(eml))
    assert dry.returncode == 0, dry.stderr
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["Subject"] == "Planbok HSN 2025 – validerad"
    with smtp_server(tmp_path) as server:
        monkeypatch.setenv("XLPLAN_SMTP_PORT", str(server.port))
        sent = xlplan("send", str(path))
        assert sent.returncode == 0, sent.stderr
        assert "Skickat till cfo@region.example" in sent.stdout
        assert len(server.messages()) == 1
    assert SECRET not in dry.stdout + dry.stderr + sent.stdout + sent.stderr
    down = xlplan("send", str(path))  # the server is gone
    assert down.returncode == 2 and "kan inte nås" in down.stderr
    assert "Traceback" not in down.stderr


def test_non_ascii_password_is_a_clear_configuration_error(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=True, user="hsn", password="lösen") as server:
        s = settings(tmp_path, server.port, smtp_starttls=True, smtp_user="hsn",
                     smtp_password="lösen", smtp_cafil=server.cafile)
        with pytest.raises(ConfigError, match="ASCII"):
            send(full_plan(tmp_path), s)
        assert server.messages() == []


def test_workbook_text_in_the_body_is_inert(tmp_path: Path) -> None:
    from tests.support.plan import plan_info

    # openpyxl keeps "@…" as text (it would make "=…" a formula); both are inert in the body
    path = full_plan(tmp_path, Info=plan_info(Nämndnamn="@SUM(1+1)*cmd|' /C calc'!A0"))
    eml = tmp_path / "brev.eml"
    send(path, settings(tmp_path, free_port()), dry_run=True, eml=eml)
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "för '@SUM(1+1)" in body
    assert not any(line.lstrip().startswith(("=", "@", "+")) for line in body.splitlines())


def test_a_missing_file_is_said_in_swedish(tmp_path: Path) -> None:
    from xlplan.errors import UnreadableWorkbook

    with pytest.raises(UnreadableWorkbook, match="finns inte; inget skickades"):
        send(tmp_path / "saknas.xlsx", settings(tmp_path, free_port()))
