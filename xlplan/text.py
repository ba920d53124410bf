"""Text from workbooks, made safe for what xlplan writes: messages, sheets, e-mail."""

from __future__ import annotations

# What Excel (and CSV-reading tools) would take as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """Control characters (and NUL) become spaces."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def inert(text: str) -> str:
    """Text that would start a formula gets Excel's text marker, an apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def short(text: str, limit: int = 40) -> str:
    """Printable and at most ``limit`` characters, for quoting a cell in a message."""
    clean = printable(text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def count(n: int, one: str, many: str) -> str:
    """A number with its noun in Swedish: ``count(1, "varning", "varningar")`` is
    "1 varning", 2 gives "2 varningar" (and 0 "0 varningar")."""
    return f"{n} {one if n == 1 else many}"
