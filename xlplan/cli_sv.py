"""Swedish for the command line's own texts: help, usage and usage errors.

Typer (0.28) carries its own copy of click, whose texts are English f-strings, not gettext
messages; so the help and usage text is translated where it is made (``Context.get_help``,
``Context.get_usage``) and usage errors are shown by our own ``show``. Typer's own texts go
through gettext's ``_`` in ``typer.core``, which is replaced by a dictionary lookup.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import IO, Any

HELP = (
    ("Usage: ", "Användning: "),
    ("[OPTIONS]", "[FLAGGOR]"),
    ("COMMAND [ARGS]...", "KOMMANDO [ARGUMENT]..."),
    ("[ARGS]...", "[ARGUMENT]..."),
    ("Show this message and exit.", "Visa den här hjälpen och avsluta."),
    ("[default: ", "[standard: "),
    ("[required]", "[krävs]"),
)
TYPER = {
    "Arguments": "Argument",
    "Options": "Flaggor",
    "Commands": "Kommandon",
    "Aborted!": "Avbrutet.",
    "Missing command.": "Kommando saknas.",
    "No such command {name!r}.": "Okänt kommando {name!r}.",
    "default: {default}": "standard: {default}",
    "required": "krävs",
}
TYPES = {"integer": "ett heltal", "int": "ett heltal", "float": "ett tal", "bool": "ja eller nej",
         "boolean": "ett sanningsvärde (ja/nej)", "UUID": "ett UUID",
         "integer range": "ett heltal i intervallet"}
MESSAGES: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    (r"Missing option '([^']*)'.*", r"Flaggan '\1' saknas."),
    (r"Missing argument '([^']*?)(?:\.\.\.)?'.*", r"Argumentet '\1' saknas."),
    (r"Missing parameter: (.*)", r"Parametern \1 saknas."),
    (r"Missing (option|argument|parameter)\.?", "Ett värde saknas."),
    (r"No such option: (\S+)", r"Okänd flagga: \1"),
    (r"Did you mean (.*)\?", r"Menade du \1?"),
    (r"\(Possible options: (.*)\)", r"(Möjliga flaggor: \1)"),
    (r"No such command '([^']*)'\.", r"Okänt kommando '\1'."),
    (r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", r"Oväntade extra argument (\1)."),
    (r"Option '([^']*)' requires an argument\.", r"Flaggan '\1' behöver ett värde."),
    (r"Option '([^']*)' requires (\d+) arguments\.", r"Flaggan '\1' behöver \2 värden."),
    (r"Option '([^']*)' does not take a value\.", r"Flaggan '\1' tar inget värde."),
    (r"Invalid value for (.*?): ", r"Ogiltigt värde för \1: "),
    (r"Invalid value: ", "Ogiltigt värde: "),
    (r"'([^']*)' is not one of (.*)\.", r"'\1' är inte något av \2."),
    (r"'([^']*)' is not a valid ([A-Za-z ]+?)\.",
     lambda m: f"'{m.group(1)}' är inte {TYPES.get(m.group(2), m.group(2))}."),
    (r"(File|Directory|Path) '([^']*)' does not exist\.", r"'\2' finns inte."),
    (r"(File|Directory|Path) '([^']*)' is a directory\.", r"'\2' är en mapp."),
    (r" Recognized values: ", " Godkända värden: "),
)


METAVARS = {"<path>": "<sökväg>", "<str>": "<text>", "<int>": "<heltal>",
            "<float>": "<tal>"}


def _keeping_column(english: str, swedish: str) -> Callable[[re.Match[str]], str]:
    """A replacement that keeps the column after a metavar where it was: the longer Swedish
    word takes its extra characters from the spaces that follow it."""
    grow = len(swedish) - len(english)

    def replace(m: re.Match[str]) -> str:
        spaces = m.group(1)
        return swedish + (" " * max(1, len(spaces) - grow) if spaces else "")
    return replace


def help_text(text: str) -> str:
    for english, swedish in HELP:
        text = text.replace(english, swedish)
    for english, swedish in METAVARS.items():
        text = re.sub(re.escape(english) + "( *)", _keeping_column(english, swedish), text)
    # typer writes a required argument as {FIL}; our metavars are Swedish words already
    return re.sub(r"\{([A-ZÅÄÖ]+(?:\.\.\.)?)\}", r"\1", text)


def message(text: str) -> str:
    """A click usage error's message in Swedish (unknown ones are left as they are)."""
    for pattern, replacement in MESSAGES:
        text = re.sub(pattern, replacement, text)
    return text


def install() -> None:
    import typer.core
    from typer._click import core, exceptions
    from typer._click.utils import echo

    setattr(typer.core, "_", lambda text: TYPER.get(text, text))  # noqa: B010
    get_help, get_usage = core.Context.get_help, core.Context.get_usage
    core.Context.get_help = lambda self: help_text(get_help(self))  # type: ignore[method-assign]
    core.Context.get_usage = lambda self: help_text(get_usage(self))  # type: ignore[method-assign]

    def show_usage_error(self: Any, file: IO[Any] | None = None) -> None:
        out = file or sys.stderr
        if self.ctx is not None:
            echo(f"{self.ctx.get_usage()}\nProva '{self.ctx.command_path} --help' för hjälp.\n",
                 file=out)
        echo(f"Fel: {message(self.format_message())}", file=out)

    def show_error(self: Any, file: IO[Any] | None = None) -> None:
        echo(f"Fel: {message(self.format_message())}", file=file or sys.stderr)

    exceptions.UsageError.show = show_usage_error  # type: ignore[method-assign]
    exceptions.ClickException.show = show_error  # type: ignore[method-assign]
