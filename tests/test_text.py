from __future__ import annotations

import pytest

from xlplan.text import clean, inert, short


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_starts_are_made_inert(text: str) -> None:
    assert inert(text) == "'" + text


@pytest.mark.parametrize("text", ["Summa", "1 754,2", "Mål = 95 %", "", "−4,2"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert inert(text) == text


def test_clean_and_short() -> None:
    assert clean("a\x00b\x07c\td") == "a b c d"
    assert short("x" * 50, 10) == "x" * 9 + "…"


def test_clean_removes_escape_sequences_whole() -> None:
    from xlplan.text import clean

    # CSI (colour, clear screen), OSC 8 (a hyperlink), a bell: gone, the words stay
    assert clean("Röd\x1b[31m text\x1b[0m\x1b[2J") == "Röd text"
    assert clean("\x1b]8;;https://evil.example\x07klicka\x1b]8;;\x07 här") == "klicka här"
    assert clean("ljud\x07") == "ljud "
    assert clean("\x9b31mC1") == "C1"  # the single-byte CSI of C1


def test_clean_lone_surrogates_and_format_characters() -> None:
    from xlplan.text import clean

    assert clean("Kultur\ud800") == "Kultur\ufffd"  # _xD800_ or an undecodable file name
    assert clean("abc\u202edef") == "abc def"  # a right-to-left override
    assert clean("rad1\nrad2\r\u2028") == "rad1 rad2  "


def test_clean_keeps_text_and_every_kind_of_space() -> None:
    from xlplan.text import clean

    for text in ("1\u00a0754,2", "−4,2", "12\u202f000", "[/]Budgetram", "Åtgärd: [link=x]"):
        assert clean(text) == text  # markup is plain text here: the renderer never parses it


def test_findings_beyond_the_cap_are_counted_in_one() -> None:
    from xlplan.findings import Severity, capped, finding

    # hand-worked: 1 003 findings, cap 1 000: the last three (two errors, one warning) are
    # summed up in one finding, an error because errors are among them
    shown = [finding("tom-tabell", "Budgetram", "B3", table=f"T{i}") for i in range(1_000)]
    rest = [finding("felvarde", "Budgetram", "D9", column="Personal", text="#NUM!"),
            finding("felvarde", "Budgetram", "E9", column="Personal", text="#NUM!"),
            finding("teckenfel", "Budgetram", "F9", column="Intäkter", value="−1", hint="")]
    out = capped(shown + rest, 1_000)
    assert out[:1_000] == shown and len(out) == 1_001
    assert (out[-1].code, out[-1].severity) == ("fler-fynd", Severity.ERROR)
    assert out[-1].message.startswith("Ytterligare 3 fynd visas inte (2 fel, 1 varningar).")
    assert capped(rest, 3) == rest


def test_no_rule_cuts_workbook_text_itself() -> None:
    """Rules quote workbook text through text.short (cleaned, then cut with "…"), never by
    slicing it: a cut made before cleaning can split an escape sequence."""
    import ast
    from pathlib import Path

    def is_text(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "text"
        if isinstance(node, ast.Call):
            return is_text(node.func)
        if isinstance(node, ast.BoolOp):
            return any(is_text(v) for v in node.values)
        return False

    root = Path(__file__).resolve().parent.parent / "xlplan"
    checked = [*sorted((root / "rules").glob("*.py")), root / "model.py", root / "findings.py"]
    cuts = [f"{path.name}:{node.lineno}" for path in checked
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)
            and is_text(node.value)]
    assert len(checked) > 5 and cuts == []
