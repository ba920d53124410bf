"""SMTP login with OAuth2 (SASL ``XOAUTH2``), as Microsoft 365 and Gmail want it.

The access token comes from a command the administrator configures
(``smtp_oauth2_kommando``), the way mail clients such as msmtp and mutt do it
(``passwordeval``): the command prints a fresh token on stdout. xlplan neither stores nor
refreshes tokens; the token is never written anywhere.
"""

from __future__ import annotations

import shlex
import smtplib
import subprocess

from xlplan.errors import ConfigError, MailError, os_reason

TOKEN_TIMEOUT = 60.0  # seconds the token command may take


def oauth2_token(command: str, timeout: float = TOKEN_TIMEOUT) -> str:
    """Run the configured command and return the token it prints (first line)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"smtp_oauth2_kommando går inte att tolka ({exc}).") from None
    if not argv:
        raise ConfigError("smtp_oauth2_kommando är tomt.")
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ConfigError(f"smtp_oauth2_kommando: programmet {argv[0]} finns inte.") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"smtp_oauth2_kommando gav ingen token inom {timeout:.0f} s.") from None
    except OSError as exc:
        raise ConfigError(f"smtp_oauth2_kommando kan inte köras ({os_reason(exc)}).") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines or not lines[0].strip():
        raise ConfigError(f"smtp_oauth2_kommando misslyckades (slutkod {done.returncode}) och "
                          "gav ingen token; inget skickades.")
    return lines[0].strip()


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def xoauth2_login(smtp: smtplib.SMTP, user: str, command: str) -> None:
    """Authenticate ``smtp`` (after STARTTLS) with a token from ``command``."""
    token = oauth2_token(command)

    def answer(challenge: bytes | None = None) -> str:
        # the first answer carries the token; a 334 challenge after it is the server's error
        # report, which the client acknowledges with an empty line before the 535
        return xoauth2_string(user, token) if challenge is None else ""

    try:
        smtp.auth("XOAUTH2", answer, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"OAuth2-inloggningen (XOAUTH2) som {user} nekades av servern "
                        f"({exc.smtp_code}); kontrollera kontots behörighet och token-kommandot. "
                        "Inget skickades.") from None
    except UnicodeEncodeError:
        raise ConfigError("XOAUTH2-inloggningen klarar bara användarnamn och token med "
                          "ASCII-tecken.") from None
