"""The exception tree. Every message is Swedish and meant for the user."""

from __future__ import annotations


class XlplanError(Exception):
    """Base of every error xlplan raises on purpose. ``str(err)`` is the user's message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnreadableWorkbook(XlplanError):
    """The file is not a workbook we can read (wrong format, broken, encrypted)."""


class UnsafeWorkbook(UnreadableWorkbook):
    """The file looks crafted to exhaust or trick the reader (zip bomb, XML entities)."""


class ConfigError(XlplanError):
    """Settings are missing or wrong."""


class OutputError(XlplanError):
    """An output file could not be written; the old file, if any, is untouched."""


class MailError(XlplanError):
    """The e-mail could not be delivered."""


class MailRefused(MailError):
    """The planbok has errors; nothing was sent (exit 1)."""

    exit_code = 1


class HistoryError(XlplanError):
    """The history database cannot be read or written."""


class ConsolidationRefused(XlplanError):
    """The inbox cannot be consolidated at all; nothing was written."""


_OS_REASONS = {
    "ENOENT": "finns inte",
    "EACCES": "åtkomst nekad",
    "EPERM": "åtgärden är inte tillåten",
    "ENOSPC": "disken är full",
    "EDQUOT": "diskkvoten är slut",
    "EROFS": "filsystemet är skrivskyddat",
    "EEXIST": "finns redan",
    "EISDIR": "är en mapp",
    "ENOTDIR": "en del av sökvägen är inte en mapp",
    "ENOTEMPTY": "mappen är inte tom",
    "EBUSY": "används av ett annat program",
    "ETXTBSY": "används av ett annat program",
    "ENAMETOOLONG": "namnet är för långt",
    "EMFILE": "för många öppna filer",
    "ENFILE": "för många öppna filer",
    "EXDEV": "kan inte flyttas mellan olika diskar",
    "EIO": "läs- eller skrivfel på disken",
    "EFBIG": "filen blev för stor för filsystemet",
    "EINVAL": "ogiltigt namn eller värde",
    "ELOOP": "för många symboliska länkar",
    "ETIMEDOUT": "tidsgränsen gick ut",
    "ECONNREFUSED": "anslutningen nekades",
    "EHOSTUNREACH": "datorn går inte att nå",
    "ENETUNREACH": "nätverket går inte att nå",
}


def os_reason(exc: OSError) -> str:
    """The operating system's reason for ``exc`` in Swedish (strerror is in English)."""
    import errno

    code = errno.errorcode.get(exc.errno or 0, "")
    return _OS_REASONS.get(code) or (f"systemfel {code}" if code else "okänt systemfel")
