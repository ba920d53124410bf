"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, with STARTTLS and AUTH when asked."""

from __future__ import annotations

import datetime as dt
import ipaddress
import mailbox
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

from xlplan.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made here (cryptography)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class FlakyMailbox(Mailbox):
    """Answers 451 to the first ``failures`` DATA commands, then delivers."""

    def __init__(self, folder: str, failures: int = 0, permanent: str | None = None) -> None:
        super().__init__(folder)
        self.failures = failures
        self.permanent = permanent
        self.data_calls = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if self.permanent and address == self.permanent:
            return "550 5.1.1 Mottagaren finns inte"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        if self.data_calls <= self.failures:
            return "451 4.3.0 Försök igen senare"
        result: str = await super().handle_DATA(server, session, envelope)
        # a distinctive acceptance, as real servers give (a queue id), unlike NOOP's "250 OK"
        return "250 2.0.0 Ok: queued as XLPLAN42" if result.startswith("250") else result


@dataclass
class Server:
    port: int
    maildir: Path
    handler: FlakyMailbox
    cafile: Path | None = None
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    def messages(self) -> list[mailbox.MaildirMessage]:
        return list(mailbox.Maildir(self.maildir))


@contextmanager
def smtp_server(folder: Path, *, tls: bool = False, user: str = "", password: str = "",
                failures: int = 0, permanent: str | None = None) -> Iterator[Server]:
    maildir = folder / "maildir"
    handler = FlakyMailbox(str(maildir), failures, permanent)
    kwargs: dict[str, Any] = {}
    server = Server(free_port(), maildir, handler)
    if tls:
        cert, key = self_signed(folder)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs.update(tls_context=ctx, require_starttls=True)
        server.cafile = cert
    if user:
        def authenticator(srv: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
            assert isinstance(auth_data, LoginPassword)
            server.logins.append((auth_data.login, auth_data.password))
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)  # let aiosmtpd answer 535
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=server.port, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def settings(tmp: Path, port: int, **more: Any) -> Settings:
    base: dict[str, Any] = dict(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                                smtp_timeout=10, smtp_vantetid=0.01, avsandare="hsn@region.example",
                                mottagare="ekonomidirektor@region.example", loggmapp=tmp / "logg")
    base.update(more)
    return Settings(**base)
