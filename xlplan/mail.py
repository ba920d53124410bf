"""Send a validated planbok to the ekonomidirektör.

The gate validates first: any error and nothing leaves. Sender and recipients come from
settings (or the command line), never from the workbook. The SMTP transport speaks
STARTTLS by default, authenticates only over TLS, retries temporary (4xx) failures with
backoff and never permanent (5xx) ones; a send counts only when the server accepted it.
Every attempt is one JSON line in the audit log. The password is never written anywhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from xlplan.errors import ConfigError, MailError, MailRefused, OutputError, UnreadableWorkbook
from xlplan.findings import Severity
from xlplan.io.safety import read_input
from xlplan.io.writer import write_bytes_atomic
from xlplan.mail_oauth import xoauth2_login
from xlplan.numbers import format_sv
from xlplan.settings import Settings
from xlplan.summary.compute import Summary, summarize
from xlplan.summary.rows import MISSING
from xlplan.text import clean, inert
from xlplan.validation import Report, validate

if TYPE_CHECKING:
    from typing_extensions import Buffer

MIME_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xlsm": ("application", "vnd.ms-excel.sheet.macroEnabled.12"),
}
AUDIT_FILE = "skickat.jsonl"


@dataclass
class SendResult:
    file: str
    recipients: list[str]
    message_id: str
    status: str  # "skickat", "torrkorning"
    reply: str = ""
    warnings: int = 0
    attempts: int = 0
    eml: str | None = None
    note: str = ""  # after delivery: an odd answer to QUIT, refused co-recipients


class Transport(Protocol):
    def send(self, message: EmailMessage, recipients: list[str]) -> str:
        """Deliver; return the server's reply. Raise MailError with a Swedish message."""


@dataclass
class SmtpTransport:
    settings: Settings
    attempts: int = field(default=0, init=False)
    note: str = field(default="", init=False)  # what happened after delivery (QUIT), if odd

    def send(self, message: EmailMessage, recipients: list[str]) -> str:
        s = self.settings
        if (s.smtp_user or s.smtp_oauth2_kommando) and not s.smtp_starttls:
            raise ConfigError("Inloggning (XLPLAN_SMTP_USER) kräver STARTTLS; xlplan skickar aldrig "
                              "lösenord okrypterat. Sätt XLPLAN_SMTP_STARTTLS=1.")
        delay = s.smtp_vantetid
        for attempt in range(1, s.smtp_forsok + 1):
            self.attempts = attempt
            try:
                return self._once(message, recipients)
            except _Temporary as exc:
                if attempt == s.smtp_forsok:
                    raise MailError(f"Servern {s.smtp_host} svarade tillfälligt fel efter "
                                    f"{attempt} försök: {exc}. Försök igen senare.") from None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, message: EmailMessage, recipients: list[str]) -> str:
        """One conversation. Once DATA got its 250 the message is the server's: the reply is
        returned whatever QUIT then answers (that goes to :attr:`note` and the log), and
        nothing after it can make the send fail or be retried."""
        s = self.settings
        host = f"{s.smtp_host}:{s.smtp_port}"
        smtp = _SMTP(timeout=s.smtp_timeout)
        try:
            try:
                smtp._host = s.smtp_host  # type: ignore[attr-defined]  # STARTTLS checks it
                smtp.connect(s.smtp_host, s.smtp_port)
                smtp.ehlo()
                if s.smtp_starttls:
                    if not smtp.has_extn("starttls"):
                        raise MailError(f"Servern {host} erbjuder inte STARTTLS; inget skickades.")
                    context = ssl.create_default_context(
                        cafile=str(s.smtp_cafil) if s.smtp_cafil else None)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if s.smtp_oauth2_kommando:
                    xoauth2_login(smtp, s.smtp_user, s.smtp_oauth2_kommando)
                elif s.smtp_user:
                    try:
                        smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                    except UnicodeEncodeError:
                        raise ConfigError("SMTP-inloggningen klarar bara användarnamn och lösenord "
                                          "med ASCII-tecken (inga å, ä, ö).") from None
                refused = smtp.send_message(message, to_addrs=recipients)
            except _NoAnswer as exc:
                if smtp.body_sent:  # the message went out but its answer never came
                    raise MailError(
                        f"Servern {host} svarade inte inom {exc.seconds:g} s efter att brevet "
                        "skickats; det är okänt om det kom fram. Fråga mottagaren innan du "
                        "skickar igen.") from None
                raise MailError(f"Servern {host} svarade inte inom {exc.seconds:g} s; inget "
                                "skickades.") from None
            except smtplib.SMTPAuthenticationError:
                raise MailError(f"Inloggningen på {host} misslyckades: fel användare eller "
                                "lösenord.") from None
            except smtplib.SMTPRecipientsRefused as exc:
                codes = {addr: reply[0] for addr, reply in exc.recipients.items()}
                if all(400 <= c < 500 for c in codes.values()):
                    raise _Temporary(_replies(exc.recipients)) from None
                raise MailError("Mottagaren vägrades av servern: " + _replies(exc.recipients)
                                + ". Inget skickades.") from None
            except smtplib.SMTPResponseException as exc:
                if 400 <= exc.smtp_code < 500:
                    raise _Temporary(f"{exc.smtp_code} {_decode(exc.smtp_error)}") from None
                raise MailError(f"Servern {host} vägrade brevet: {exc.smtp_code} "
                                f"{_decode(exc.smtp_error)}. Inget skickades.") from None
            except ssl.SSLError as exc:
                raise MailError(f"TLS mot {host} misslyckades ({exc.reason or exc}); inget "
                                "skickades. Kontrollera serverns certifikat.") from None
            except smtplib.SMTPServerDisconnected:
                if smtp.body_sent:
                    raise MailError(f"Servern {host} stängde förbindelsen efter att brevet "
                                    "skickats men innan den svarade; det är okänt om det kom "
                                    "fram. Fråga mottagaren innan du skickar igen.") from None
                raise _Temporary("servern stängde förbindelsen") from None
            except smtplib.SMTPException as exc:
                raise MailError(f"SMTP-fel mot {host}: {exc}. Inget skickades.") from None
            except OSError as exc:  # refused, unknown host, timeout
                raise MailError(f"E-postservern {host} kan inte nås ({_oserror(exc)}). "
                                "Inget skickades.") from None
        finally:
            if not smtp.accepted:
                smtp.close()
        # delivered: from here nothing may turn the send into a failure
        self.note = smtp.finish()
        if refused:
            self.note = " ".join(["Brevet togs emot men några mottagare vägrades: "
                                  + _replies(refused) + ".", self.note]).strip()
        return smtp.accepted  # the server's reply to the message itself, e.g. its queue id


class _SMTP(smtplib.SMTP):
    """smtplib's client, with three things it lacks.

    It keeps the reply to DATA (sendmail drops it): that reply is the server taking
    responsibility for the message, and it goes into the audit log. Every reply has a
    deadline as a whole (smtplib's timeout is per read, so a greeting that never ends, one
    line at a time, would never time out): when it passes, the socket is shut and the wait
    ends as "no answer within N s". And it knows whether the message body went out, so a
    lost answer after it is told as unknown, never retried.
    """

    accepted = ""
    body_sent = False
    expired = False

    def data(self, msg: Buffer | str) -> tuple[int, bytes]:
        code, reply = super().data(msg)
        if code == 250:
            self.accepted = f"{code} {_decode(reply)}"
        return code, reply

    def send(self, s: Buffer | str) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.body_sent = True  # smtplib sends the whole quoted body, ending included

    def getreply(self) -> tuple[int, bytes]:
        seconds = float(self.timeout) if isinstance(self.timeout, int | float) else 30.0
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        self.expired = False
        timer.start()
        try:
            return super().getreply()
        except smtplib.SMTPServerDisconnected as exc:
            if self.expired or isinstance(exc.__context__, TimeoutError):
                raise _NoAnswer(seconds) from None
            raise
        finally:
            timer.cancel()

    def _expire(self) -> None:
        self.expired = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> str:
        """QUIT after delivery. Its answer changes nothing: an odd one is returned for the log."""
        try:
            code, reply = self.docmd("QUIT")
        except (smtplib.SMTPException, OSError) as exc:
            return f"QUIT fick inget svar ({_quit_reason(exc)}); brevet var redan mottaget."
        finally:
            self.close()
        if code == 221:
            return ""
        return f"QUIT besvarades {code} {_decode(reply)}; brevet var redan mottaget."


def _quit_reason(exc: BaseException) -> str:
    if isinstance(exc, _NoAnswer):
        return f"inget svar inom {exc.seconds:g} s"
    return "förbindelsen stängdes" if isinstance(exc, smtplib.SMTPServerDisconnected) else \
        type(exc).__name__


class _Temporary(Exception):
    """A 4xx reply or a dropped connection before the message went out: worth another try."""


class _NoAnswer(smtplib.SMTPException):
    """No (whole) reply within the deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


def _replies(replies: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{addr} ({code} {_decode(text)})" for addr, (code, text) in replies.items())


def _decode(text: bytes | str) -> str:
    return clean(text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))


def _oserror(exc: OSError) -> str:
    """Why a server could not be reached, in Swedish (the system's own text is English)."""
    if isinstance(exc, TimeoutError):
        return "inget svar inom tidsgränsen"
    if isinstance(exc, ConnectionRefusedError):
        return "anslutningen nekades"
    if isinstance(exc, socket.gaierror):  # the name, not the network
        return "servernamnet hittades inte; kontrollera XLPLAN_SMTP_HOST"
    from xlplan.errors import os_reason

    return os_reason(exc)


# --- the message ---------------------------------------------------------------------------


def build_message(path: Path, data: bytes, report: Report, summary: Summary, sender: str,
                  recipients: list[str]) -> EmailMessage:
    """The message; ``data`` is the file's content, read once (what was validated is what is
    attached and hashed)."""
    info = report.planbok.info
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = f"Planbok {info.namnd or '?'} {info.budgetar or '?'} – validerad"
    msg["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2] or "xlplan.local"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(body_text(path, _sha256(data), report, summary))
    maintype, subtype = MIME_TYPES.get(path.suffix.lower(), ("application", "octet-stream"))
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=_safe_name(path.name))
    return msg


def body_text(path: Path, digest: str, report: Report, s: Summary) -> str:
    info = report.planbok.info
    lines = [
        "Hej!",
        "",
        f"Här är planboken för {_inert(info.namndnamn or info.namnd or '?')} "
        f"({info.namnd or '?'}), budgetår {info.budgetar or '?'}. Den är validerad av xlplan "
        "utan fel.",
        "",
        "Nyckeltal (belopp i " + s.enhet + "):",
    ]
    if s.budgetram is not None:
        for kind, value in s.budgetram.netto.items():
            lines.append(f"  Nettobudget {kind.lower()}: {_known(value, 1)}")
    if s.atgardsplan is not None:
        a = s.atgardsplan
        for y in a.years:
            effect, share = a.effekt[y], (a.tackningsgrad or {}).get(y)
            cover = (f", täckningsgrad {format_sv(share * 100, 1)} %"
                     if share is not None else "")
            lines.append(f"  Åtgärdsplan {y}: effekt {_known(effect, 1)}{cover}")
        if a.gap is not None:
            lines.append(f"  Ekonomiskt gap: {format_sv(a.gap, 1)} (varje år mäts för sig)")
    if s.investeringar is not None:
        i = s.investeringar
        ram = (f" av investeringsramen {format_sv(i.investeringsram_tkr, 0)} tkr"
               if i.investeringsram_tkr is not None else "")
        lines.append(f"  Investeringar med egen budget {info.budgetar}: "
                     f"{_known(i.egen_budget_budgetar_tkr, 0)} tkr{ram}")
    warnings = [f for f in report.findings if f.severity is Severity.WARNING]
    lines.append("")
    if warnings:
        lines.append(f"Varningar ({len(warnings)}):")
        for f in warnings[:20]:
            lines.append(f"  {f.sheet or ''}!{f.cell or ''} [{f.code}] {_inert(f.message)}")
        if len(warnings) > 20:
            lines.append(f"  … och {len(warnings) - 20} till.")
    else:
        lines.append("Inga varningar.")
    lines += ["", f"Bifogad fil: {_safe_name(path.name)} (sha256 {digest})",
              "", "Skickat med xlplan."]
    return "\n".join(lines) + "\n"


def _inert(text: str) -> str:
    """Workbook text in a message: printable, and never the start of a formula."""
    return inert(clean(text))


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isprintable() and ch not in '/\\"' else "_" for ch in name)


def _read(path: Path) -> bytes:
    """The file, after the checks every input gets (a regular file, of a planbok's size)."""
    try:
        return read_input(path)
    except UnreadableWorkbook as exc:
        raise type(exc)(exc.message.rstrip(".") + "; inget skickades.") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def check_addresses(sender: str, recipients: list[str], settings: Settings,
                    dry_run: bool) -> None:
    """Every missing setting and every malformed address, in one message."""
    problems = []
    if not recipients:
        problems.append("ingen mottagare (ange --till eller XLPLAN_MOTTAGARE)")
    if not sender:
        problems.append("ingen avsändare (sätt XLPLAN_AVSANDARE)")
    if not dry_run and not settings.smtp_host:
        problems.append("ingen e-postserver (sätt XLPLAN_SMTP_HOST)")
    bad = [a for a in ([sender] if sender else []) + recipients if not ADDRESS.match(a)]
    if bad:
        problems.append("ogiltig e-postadress: " + ", ".join(f"\"{clean(a)}\"" for a in bad))
    if problems:
        raise ConfigError("Kan inte skicka: " + "; ".join(problems) + ". Inget skickades.")


# --- the whole send ----------------------------------------------------------------------------


def send(path: str | Path, settings: Settings, *, to: list[str] | None = None,
         dry_run: bool = False, eml: Path | None = None,
         transport: Transport | None = None,
         audit_fields: dict[str, str] | None = None) -> SendResult:
    """Validate ``path`` and, without errors, send it. Raises MailRefused (errors: nothing
    sent), ConfigError or MailError; every outcome is written to the audit log."""
    p = Path(path)
    if eml is not None and _same_file(eml, p):
        raise OutputError(f"--eml {clean(eml.name)} är samma fil som planboken; välj en "
                          "annan fil för brevet. Inget skrevs.")
    recipients = to or settings.recipients
    sender = settings.avsandare
    data = _read(p)
    report = validate(p)
    if _read(p) != data:
        raise MailError(f"{p.name} ändrades medan den kontrollerades; inget skickades. Spara "
                        "klart och försök igen.")
    audit = _Audit(settings.loggmapp, p, _sha256(data), recipients,
                   audit_fields or {})
    if report.errors:
        audit.write("stoppad", "", f"{report.errors} valideringsfel")
        raise MailRefused(f"{p.name} har {report.errors} fel och skickades inte. Rätta felen "
                          "(xlplan validate) och skicka igen.")
    check_addresses(sender, recipients, settings, dry_run)
    summary = summarize(report.planbok, settings)
    message = build_message(p, data, report, summary, sender, recipients)
    message_id = str(message["Message-ID"])
    result = SendResult(str(p), recipients, message_id, "torrkorning", warnings=report.warnings)
    if dry_run:
        if eml is not None:
            write_bytes_atomic(eml, message.as_bytes())
            result.eml = str(eml)
        audit.write("torrkorning", message_id, str(eml or ""))
        return result
    smtp = transport or SmtpTransport(settings)
    try:
        reply = smtp.send(message, recipients)
    except MailError as exc:
        audit.write("fel", message_id, exc.message, getattr(smtp, "attempts", 0))
        raise
    except ConfigError as exc:
        audit.write("fel", message_id, exc.message)
        raise
    result.status, result.reply = "skickat", reply
    result.attempts = getattr(smtp, "attempts", 1)
    result.note = str(getattr(smtp, "note", ""))
    audit.write("skickat", message_id, reply, result.attempts, result.note)
    return result


@dataclass
class _Audit:
    folder: Path
    file: Path
    sha256: str
    recipients: list[str]
    extra: dict[str, str] = field(default_factory=dict)  # e.g. the server's filed path

    def write(self, result: str, message_id: str, reply: str, attempts: int = 0,
              after: str = "") -> None:
        line = json.dumps({
            "tid": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "fil": clean(str(self.file)), "sha256": self.sha256,
            "mottagare": self.recipients, "resultat": result, "message_id": message_id,
            "svar": reply, "forsok": attempts, **({"efter": after} if after else {}),
        } | {k: clean(v) for k, v in self.extra.items()}, ensure_ascii=False)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with (self.folder / AUDIT_FILE).open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            from xlplan.errors import os_reason

            raise ConfigError(f"Sändloggen i {clean(str(self.folder))} kan inte skrivas "
                              f"({os_reason(exc)}).") from None


def _known(value: Decimal | None, decimals: int) -> str:
    """A figure of the summary; one a cell it needs could not be read is "saknas", never 0."""
    return MISSING if value is None else format_sv(value, decimals)
