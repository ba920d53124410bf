"""Mail that tells the truth, against real servers on 127.0.0.1 that misbehave on purpose.

A small scripted SMTP server (a real socket server, not a mock of smtplib) speaks correct
SMTP up to the point where its script says otherwise: an odd answer to QUIT after accepting
the message, a greeting that never ends, no answer at all, no answer to the message body.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.support.plan import full_plan
from tests.support.smtp import settings
from xlplan.errors import MailError
from xlplan.mail import send


class Scripted:
    """One SMTP server thread; ``script`` names its misbehaviour."""

    def __init__(self, script: str) -> None:
        self.script = script
        self.messages = 0  # message bodies received completely
        self.connections = 0
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _wait(self) -> None:
        self.stop.wait(30)

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines, suppress(OSError):
            self._dialog(conn, lines)

    def _dialog(self, conn: socket.socket, lines: object) -> None:
        script = self.script
        if script == "silent":
            return self._wait()
        if script == "endless-greeting":
            while not self.stop.is_set():  # each line well within the per-read timeout
                conn.sendall(b"220-xlplan test, still greeting\r\n")
                time.sleep(0.2)
            return None
        conn.sendall(b"220 xlplan test ESMTP\r\n")
        assert hasattr(lines, "readline")
        while True:
            line = lines.readline()
            if not line:
                return None
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250-xlplan test\r\n250 8BITMIME\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                conn.sendall(b"250 2.1.0 Ok\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                while lines.readline() not in (b".\r\n", b""):
                    pass
                self.messages += 1
                if script == "silent-after-data":
                    return self._wait()
                conn.sendall(b"250 2.0.0 Ok: queued as TRUTH1\r\n")
            elif verb == b"QUIT":
                if script == "quit-421":
                    conn.sendall(b"421 4.3.2 Service shutting down\r\n")
                elif script == "quit-500":
                    conn.sendall(b"500 5.5.1 What?\r\n")
                elif script == "quit-silent":
                    return self._wait()
                elif script == "quit-close":
                    return None
                else:
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                return None
            else:
                conn.sendall(b"502 5.5.2 Not implemented\r\n")


@contextmanager
def scripted(script: str) -> Iterator[Scripted]:
    server = Scripted(script)
    server.thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.thread.join(5)
        server.sock.close()


def audit(tmp: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in
            (tmp / "logg" / "skickat.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("script,after", [("quit-421", "421"), ("quit-500", "500"),
                                          ("quit-silent", "inget svar inom 1 s"),
                                          ("quit-close", "förbindelsen stängdes")])
def test_a_message_the_server_accepted_counts_as_sent(tmp_path: Path, script: str,
                                                      after: str) -> None:
    path = full_plan(tmp_path)
    with scripted(script) as server:
        started = time.monotonic()
        result = send(path, settings(tmp_path, server.port, smtp_timeout=1))
        elapsed = time.monotonic() - started
    assert result.status == "skickat" and result.reply == "250 2.0.0 Ok: queued as TRUTH1"
    assert server.messages == 1 and server.connections == 1  # never retried: one copy
    assert after in result.note and "redan mottaget" in result.note
    [line] = audit(tmp_path)
    assert line["resultat"] == "skickat" and after in str(line["efter"])
    assert elapsed < 5


def test_a_greeting_that_never_ends_times_out(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    with scripted("endless-greeting") as server:
        started = time.monotonic()
        with pytest.raises(MailError, match="svarade inte inom 1 s; inget skickades"):
            send(path, settings(tmp_path, server.port, smtp_timeout=1))
        elapsed = time.monotonic() - started
        assert server.connections == 1  # no answer is not "try again"
    assert elapsed < 5  # one deadline of 1 s, not one per line
    [line] = audit(tmp_path)
    assert line["resultat"] == "fel"


def test_a_server_that_never_answers_is_said_so(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    with scripted("silent") as server, pytest.raises(MailError) as caught:
        send(path, settings(tmp_path, server.port, smtp_timeout=1))
    assert "svarade inte inom 1 s" in caught.value.message
    assert "stängde" not in caught.value.message


def test_no_answer_to_the_message_is_unknown_and_not_retried(tmp_path: Path) -> None:
    path = full_plan(tmp_path)
    with scripted("silent-after-data") as server:
        with pytest.raises(MailError, match="okänt om det kom fram"):
            send(path, settings(tmp_path, server.port, smtp_timeout=1))
        assert server.messages == 1 and server.connections == 1


def test_the_cli_says_sent_and_notes_the_odd_quit(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = full_plan(tmp_path)
    with scripted("quit-421") as server:
        env = dict(os.environ, XLPLAN_SMTP_HOST="127.0.0.1", XLPLAN_SMTP_PORT=str(server.port),
                   XLPLAN_SMTP_STARTTLS="0", XLPLAN_SMTP_TIMEOUT="2",
                   XLPLAN_AVSANDARE="hsn@region.example", XLPLAN_LOGGMAPP=str(tmp_path / "l"),
                   XLPLAN_MOTTAGARE="ekonomidirektor@region.example")
        result = subprocess.run([sys.executable, "-m", "xlplan", "send", str(path)],
                                capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "Skickat till ekonomidirektor@region.example" in result.stdout
    assert "421" in result.stderr and "Traceback" not in result.stderr
    assert server.messages == 1
