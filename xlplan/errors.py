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
