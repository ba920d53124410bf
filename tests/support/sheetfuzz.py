"""Random sheet XML for comparing the two sheet readers: the shapes Excel, the Open XML SDK,
openpyxl and hand-made files write (prefixes, attribute orders and quotes, white space,
entities, shared formulas, inline strings with runs, comments, CDATA, cells and rows without
references), now and then something malformed or unsafe. Drawn from a seed, so a failure
names the seed that makes it again."""

from __future__ import annotations

import random

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_TEXT_BITS = ["1", "2.5", "-0.1", "abc", " ", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
              "&#65;", "&#x42;", "&#229;", "_x000D_", "_x0041_", "\n", "\r\n", "\t", "Å", "漢",
              "1E3", "x", "_"]


def _text(rng: _Rng) -> str:
    return "".join(rng.choice(_TEXT_BITS) for _ in range(rng.randint(0, 4)))


def _number(rng: _Rng) -> str:
    return rng.choice(["0", "1", "-17.5", "123456789012345", "1E+15", "0.1", " 7 ", "NaN", "007",
                       "2.5E3", "", "1e-40", "3"])


class _Rng(random.Random):
    """A random source that is, for half the seeds, tame: written as Excel writes (no white
    space, double quotes, attributes in Excel's order), the shapes the fastest path takes."""

    tame = False


def _quote(rng: _Rng, value: str) -> str:
    return f"'{value}'" if not rng.tame and rng.random() < 0.2 and "'" not in value else f'"{value}"'


def _ws(rng: _Rng) -> str:
    return "" if rng.tame else rng.choice(["", "", "", " ", "\n  ", "\r\n"])


def _attrs(rng: _Rng, pairs: list[tuple[str, str]]) -> str:
    if rng.tame:
        return "".join(f' {name}="{value}"' for name, value in pairs)
    if rng.random() < 0.3:
        rng.shuffle(pairs)
    out = ""
    for name, value in pairs:
        sep = rng.choice([" ", " ", " ", "\n", "  ", "\t"])
        eq = rng.choice(["=", "=", " = "])
        out += f"{sep}{name}{eq}{_quote(rng, value)}"
    return out + rng.choice(["", "", " "])


def _ref(rng: _Rng, row: int, col: int) -> str | None:
    letters = "ABCDE"[col - 1]
    roll = rng.random() + (0.2 if rng.tame else 0)
    if roll < 0.15:
        return None
    if roll < 0.2:
        return letters.lower() + str(row)
    if roll < 0.23:
        return f"&#{ord(letters)};{row}"
    if roll < 0.25:
        return rng.choice(["A", "1", "A0", "ZZZZ1"])
    return f"{letters}{row}"


def _cell(rng: _Rng, p: str, row: int, col: int) -> str:
    pairs = []
    ref = _ref(rng, row, col)
    if ref is not None:
        pairs.append(("r", ref))
    if rng.random() < 0.4:
        pairs.append(("s", rng.choice(["0", "1", "2"] if rng.tame else ["0", "1", "2", "x", ""])))
    kind = rng.choice([None, None, "s", "s", "n", "str", "inlineStr", "b", "e", "d", "", "z"])
    if kind is not None:
        pairs.append(("t", kind))
    if rng.random() < 0.05:
        pairs.append(("cm", "1"))
    attrs = _attrs(rng, pairs)
    if rng.random() < 0.15:
        return f"<{p}c{attrs}/>"
    children = []
    if rng.random() < 0.3:
        f_pairs = []
        if rng.random() < 0.5:
            f_pairs += [("t", "shared"), ("si", rng.choice(["0", "1"]))]
            if rng.random() < 0.5:
                f_pairs.append(("ref", "A1:C3"))
        content = rng.choice(["", "SUM(A1:B1)", "A1&amp;&quot;x&quot;", "1\r\n+1", _text(rng)])
        fa = _attrs(rng, f_pairs) if f_pairs else ""
        children.append(f"<{p}f{fa}/>" if not content and rng.random() < 0.5
                        else f"<{p}f{fa}>{content}</{p}f>")
    if rng.random() < 0.8:
        if kind == "s":
            content = rng.choice(["0", "1", "2", "9", " 1", "x", ""])
        elif kind in (None, "n", ""):
            content = _number(rng)
        else:
            content = _text(rng)
        roll = rng.random()
        if roll < 0.05:
            children.append(f"<{p}v/>")
        elif roll < 0.1 and not rng.tame:
            children.append(f"<{p}v><![CDATA[{content.replace('&', '')}]]></{p}v>")
        else:
            children.append(f"<{p}v>{content}</{p}v>")
    if (kind == "inlineStr" or rng.random() < 0.15) and rng.tame:
        text = _text(rng)
        children.append(rng.choice([f"<is><t>{text}</t></is>",
                                    f'<is><t xml:space="preserve">{text}</t></is>']))
    elif kind == "inlineStr" or rng.random() < 0.15:
        runs = rng.choice([
            f"<{p}t>{_text(rng)}</{p}t>",
            f'<{p}t xml:space="preserve">{_text(rng)}</{p}t>',
            f"<{p}r><{p}rPr><{p}b/></{p}rPr><{p}t>{_text(rng)}</{p}t></{p}r><{p}r><{p}t>{_text(rng)}</{p}t></{p}r>",
            f'<{p}r><{p}t>{_text(rng)}</{p}t></{p}r><{p}rPh sb="0" eb="1"><{p}t>{_text(rng)}</{p}t></{p}rPh>',
            f"<{p}t/>", "", f"<!-- c --><{p}t>{_text(rng)}</{p}t>",
        ])
        children.append(f"<{p}is>{runs}</{p}is>" if runs or rng.random() < 0.5 else f"<{p}is/>")
    if rng.tame:
        return f"<c{attrs}/>" if not children else f"<c{attrs}>{''.join(children)}</c>"
    if rng.random() < 0.1:
        rng.shuffle(children)
    if rng.random() < 0.03:
        children.append(f"<{p}extLst/>")
    if rng.random() < 0.03:
        children.insert(0, "junk")
    if rng.random() < 0.02:  # what SheetReader reads even inside another element
        children.insert(rng.randint(0, len(children)), rng.choice([
            f'<{p}c r="B{row}"><{p}v>5</{p}v></{p}c>', f'<{p}row r="{row + 1}"/>',
            f'<{p}mergeCell ref="A1:B1"/>', f"<{p}is><{p}c/></{p}is>", f"<y:c r=\"C{row}\"/>"]))
    sep = _ws(rng)
    return f"<{p}c{attrs}>{sep}{sep.join(children)}{sep}</{p}c>"


def random_sheet(seed: int) -> bytes:
    rng = _Rng(seed)
    rng.tame = rng.random() < 0.5
    p = "" if rng.tame else rng.choice(["", "", "x:"])
    root = (f'<{p}worksheet xmlns{":x" if p else ""}="{MAIN}">' if rng.random() < 0.9
            else f'<{p}worksheet xmlns{":x" if p else ""}="urn:other">')
    rows = []
    row = 0
    for _ in range(rng.randint(0, 5)):
        row += rng.choice([1, 1, 1, 2])
        pairs = []
        if rng.random() < 0.85:
            pairs.append(("r", str(row)))
        if rng.random() < 0.3:
            pairs.append(("hidden", rng.choice(["1", "true", "0", "false"])))
        if rng.random() < 0.5:
            pairs.append(("spans", "1:5"))
        cols = sorted(rng.sample(range(1, 6), rng.randint(0, 4)))
        if cols and rng.random() < 0.05:
            cols.append(cols[0])  # the same cell twice
        cells = "".join(_cell(rng, p, row + (rng.random() < 0.05), c) for c in cols)
        if rng.random() < 0.03 and not rng.tame:
            cells += rng.choice([f"<{p}v>1</{p}v>", f"<{p}t>x</{p}t>", f"<{p}f>1</{p}f>",
                                 f'<{p}c r="A{row}" foo="a&gt;b&quot;"><{p}v>2</{p}v></{p}c>'])
        attrs = _attrs(rng, pairs)
        rows.append(f"<{p}row{attrs}/>" if not cells and rng.random() < 0.5
                    else f"<{p}row{attrs}>{cells}</{p}row>")
    if rng.random() < 0.1 and not rng.tame:
        rows.insert(rng.randint(0, len(rows)), "<!-- <c r=\"A1\"><v>9</v></c> -->")
    body = f"<{p}sheetData>{_ws(rng).join(rows)}</{p}sheetData>"
    if rng.random() < 0.3:
        merges = "".join(f'<{p}mergeCell ref="{rng.choice(["A1:B1", "B2:C3", "A1", "Z"])}"/>'
                         for _ in range(rng.randint(1, 2)))
        body += f"<{p}mergeCells>{merges}</{p}mergeCells>"
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' if rng.random() < 0.9 else "")
    xml += root + body + f"</{p}worksheet>"
    roll = rng.random()
    if roll < 0.03:
        xml = xml.replace("</", "<", 1)  # malformed
    elif roll < 0.05:
        xml = xml.replace(root, '<!DOCTYPE w [<!ENTITY e "1">]>' + root, 1)  # unsafe
    elif roll < 0.07:
        xml = xml.replace("<v>", "<v>&nbsp;", 1)  # an entity no DTD defines
    data = xml.encode("utf-8")
    if rng.random() < 0.03:
        data = b"\xef\xbb\xbf" + data
    return data


def random_bounds(seed: int) -> list[tuple[int, int, int, int]]:
    rng = random.Random(seed ^ 0x5EED)
    bounds = [(rng.randint(1, 3), rng.randint(1, 3), rng.randint(3, 9), rng.randint(3, 5))]
    if rng.random() < 0.3:
        bounds.append((rng.randint(1, 6), 4, rng.randint(6, 9), 5))
    return bounds
