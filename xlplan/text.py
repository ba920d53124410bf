"""Text from workbooks (and file names), made safe for what xlplan writes: messages, the
terminal, sheets, e-mail.

:func:`clean` is the one cleaning function: every finding's fields, sheet and cell pass
through it where the finding is made, and so does every file name the command line prints.
Rich markup is never an issue of the text itself: the terminal renderer hands workbook text
to rich as plain :class:`rich.text.Text`, never as markup.
"""

from __future__ import annotations

import re

# What Excel (and CSV-reading tools) would take as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Terminal escape sequences as a whole (CSI ``ESC [ … final``, OSC ``ESC ] … BEL/ST``, and
# two-character ``ESC x``), so no parameter bytes are left behind; C1's single-byte CSI too.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
# Spaces other than " " (no-break, thin, ...) are not "printable" to Python but are plain
# text: Swedish number formatting uses them.
_SPACES = frozenset("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                    "\u2009\u200a\u202f\u205f\u3000")


def clean(text: str) -> str:
    """Printable text, safe for a terminal, a sheet and a mail.

    Terminal escape sequences are removed whole; lone surrogates (from an ``_xD800_`` escape
    or an undecodable file name) become U+FFFD; every other control or format character
    (C0, C1, DEL, bidirectional overrides, line breaks) becomes a space. Spaces of any
    width stay as they are.
    """
    if text.isprintable() or all(ch.isprintable() or ch in _SPACES for ch in text):
        return text
    if "\x1b" in text or "\x9b" in text:
        text = _ESCAPES.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    return "".join(ch if ch.isprintable() or ch in _SPACES else " " for ch in text)


def inert(text: str) -> str:
    """Text that would start a formula gets Excel's text marker, an apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def short(text: str, limit: int = 40) -> str:
    """Printable and at most ``limit`` characters, for quoting a cell in a message."""
    clean_text = clean(text[: limit * 4]) if len(text) > limit * 4 else clean(text)
    return clean_text if len(clean_text) <= limit else clean_text[: limit - 1] + "…"


def count(n: int, one: str, many: str) -> str:
    """A number with its noun in Swedish: ``count(1, "varning", "varningar")`` is
    "1 varning", 2 gives "2 varningar" (and 0 "0 varningar")."""
    return f"{n} {one if n == 1 else many}"
