"""Unchanged planböcker are not read again: a cache of each file's findings and extract.

An entry is keyed by the file's sha256, its name (findings name the file), xlplan's version
and the contract version, so a changed file, a new xlplan or a new contract reads the file
again. Entries are JSON files in a folder (by default beside the SQLite history, see
:func:`cache_dir_for`), never pickle: a cache file someone else can write must not run code.
Everything loaded is checked against the types of :class:`Extract` and :class:`Finding`
(finding codes against the catalogue, text cleaned again); an entry that does not fit is
ignored and the file is read, never fatal. Writing the cache is best effort too.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import functools
import gc
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
import time
import types
import typing
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan import __version__
from xlplan.contract import CONTRACT_VERSION
from xlplan.extract import Extract, Figure, figure_texts
from xlplan.findings import CATALOGUE, Finding
from xlplan.signals import uninterrupted
from xlplan.text import clean

if TYPE_CHECKING:
    from xlplan.io.region_rows import Layout, Rendered
    from xlplan.region import InputFile

FORMAT = 7  # of an entry; part of the key
MAX_ENTRY_BYTES = 16 * 1024 * 1024  # a larger "entry" is not ours


class Damaged(ValueError):
    """A cache entry that does not fit the types it must hold."""


@dataclass
class Reads:
    """How a run got its files: ``read`` were parsed, ``cached`` came from the cache."""

    read: int = 0
    cached: int = 0


def cache_dir_for(database: str | None) -> Path | None:
    """The default cache folder: ``<history file>-cache`` beside a SQLite history file; none
    for another database or without history (pass a folder to :func:`read_files` instead)."""
    if not database or not database.startswith("sqlite:///"):
        return None
    file = database.removeprefix("sqlite:///").split("?", 1)[0]
    if not file or file == ":memory:":
        return None
    path = Path(file)
    return path.with_name(path.stem + "-cache")


def entry_key(sha256: str, name: str) -> str:
    text = "\0".join((sha256, name, __version__, str(CONTRACT_VERSION), str(FORMAT),
                      code_fingerprint()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of xlplan's own source: an entry made by other code (an upgrade, a fix shipped
    without a new version number) is never used."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()


KEY_FILE = "cache.key"  # in the user's own data folder, not in the cache folder


@functools.lru_cache(maxsize=1)
def _signing_key() -> bytes | None:
    """The key entries are signed with (HMAC-SHA256), kept in the user's data folder
    (platformdirs) where whoever can write the cache folder (a shared drive) cannot read it:
    an entry edited by hand, or copied from another user, fails its signature and the file is
    read again. None (no cache) when the key cannot be had."""
    import secrets

    import platformdirs

    folder = Path(os.environ.get("XLPLAN_CACHE_KEY_DIR") or platformdirs.user_data_dir("xlplan"))
    path = folder / KEY_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        key = _read_regular(path, 64)
    except OSError:
        return None
    return key if key is not None and len(key) == 32 else None


def _read_regular(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` + 1 bytes of ``path`` if it is a regular file (not a link, a pipe or
    a device: opened without following links and without blocking), else None."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit + 1)
    finally:
        os.close(fd)


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")


# --- JSON <-> typed values --------------------------------------------------------------------

_PLAIN = (str, int, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}


def encode(value: Any) -> Any:
    """A JSON-able form of an extract or finding: Decimals tagged, dicts as pairs (their
    keys may be tuples or ints), dataclasses as objects, enums by value."""
    kind = type(value)
    if kind in _PLAIN:  # exact types first: a file's rows are thousands of texts and amounts
        return value
    if kind is Decimal:
        return {"d": str(value)}
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN else {"d": str(v)} if type(v) is Decimal else encode(v)
                for v in value]
    if kind is dict:
        return [[encode(k), encode(v)] for k, v in value.items()]
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
        return {name: encode(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return [[encode(k), encode(v)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise TypeError(f"cannot cache {type(value).__name__}")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def decode(data: Any, hint: Any) -> Any:
    """``data`` as a value of type ``hint``; :class:`Damaged` when it does not fit."""
    return _decoder(hint)(data)


Decoder = typing.Callable[[Any], Any]
_DECODERS: dict[Any, Decoder] = {}


def _decoder(hint: Any) -> Decoder:
    """A decoder per type, made once (a cached run decodes some 3 000 values a file)."""
    found = _DECODERS.get(hint)
    if found is None:
        found = _DECODERS[hint] = _make(hint)
    return found


def _decimal(data: Any) -> Decimal:
    if not (type(data) is dict and len(data) == 1 and type(data.get("d")) is str):
        raise Damaged("expected a decimal")
    try:
        value = Decimal(data["d"])
    except (InvalidOperation, ValueError) as exc:
        raise Damaged("not a decimal") from exc
    if not value.is_finite() or abs(value.adjusted()) > 40:
        raise Damaged("not a sane decimal")
    return value


def _exact(kind: type) -> Decoder:
    def check(data: Any) -> Any:
        if type(data) is not kind:
            raise Damaged(f"expected {kind.__name__}")
        return data
    return check


def _make(hint: Any) -> Decoder:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is object:  # a finding's parameter: plain JSON or a Decimal
        def scalar(data: Any) -> Any:
            if data is None or type(data) in (str, int, bool):
                return data
            return _decimal(data)
        return scalar
    if origin is typing.Union or origin is types.UnionType:
        plain = {a for a in args if a in (str, int, bool, type(None))}
        rest = [_decoder(a) for a in args if a not in plain]

        def union(data: Any) -> Any:
            if type(data) in plain:
                return data
            for member in rest:
                try:
                    return member(data)
                except Damaged:
                    continue
            raise Damaged(f"{data!r:.40} fits none of {hint}")
        return union
    if hint is type(None):
        return _exact(type(None))
    if hint in (bool, str, int):
        return _exact(hint)
    if hint is Decimal:
        return _decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        def member(data: Any) -> Any:
            try:
                return hint(data)
            except ValueError as exc:
                raise Damaged(str(exc)) from exc
        return member
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = [f.name for f in dataclasses.fields(hint) if f.init]
        names = set(fields)

        def instance(data: Any) -> Any:
            if type(data) is not dict or set(data) != names:
                raise Damaged(f"{hint.__name__}: other fields")
            hints = _hints(hint)
            return hint(**{n: _decoder(hints[n])(data[n]) for n in fields})
        return instance
    if origin is list:
        item = _decoder(args[0])

        def a_list(data: Any) -> Any:
            if type(data) is not list:
                raise Damaged("expected a list")
            return [item(v) for v in data]
        return a_list
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            each = _decoder(args[0])

            def a_tuple(data: Any) -> Any:
                if type(data) is not list:
                    raise Damaged("expected a tuple")
                return tuple(each(v) for v in data)
            return a_tuple
        parts = [_decoder(a) for a in args]
        if all(a is str for a in args):  # a history key (kind, object): checked at once
            size = len(args)

            def texts(data: Any) -> Any:
                if type(data) is not list or len(data) != size or not all(
                        type(v) is str for v in data):
                    raise Damaged("expected a tuple of texts")
                return tuple(data)
            return texts

        def fixed(data: Any) -> Any:
            if type(data) is not list or len(data) != len(parts):
                raise Damaged("expected a tuple of its length")
            return tuple(p(v) for p, v in zip(parts, data, strict=True))
        return fixed
    if origin is dict:
        key, value = _decoder(args[0]), _decoder(args[1])

        def a_dict(data: Any) -> Any:
            if type(data) is not list:
                raise Damaged("expected pairs")
            out = {}
            for pair in data:
                if type(pair) is not list or len(pair) != 2:
                    raise Damaged("expected a pair")
                out[key(pair[0])] = value(pair[1])
            return out
        return a_dict
    raise Damaged(f"no decoder for {hint}")


def _finding(data: Any) -> Finding:
    f: Finding = decode(data, Finding)
    entry = CATALOGUE.get(f.code)
    if entry is None or entry.severity is not f.severity:
        raise Damaged(f"unknown finding {f.code!r:.40}")
    # text reaches terminals and mails: cleaned again, as when the finding was made
    parameters = {k: clean(v) if isinstance(v, str) else v for k, v in f.parameters.items()}
    try:
        entry.template.format(**parameters)  # the message must render from what was loaded
    except (KeyError, IndexError, ValueError) as exc:
        raise Damaged(f"parameters of {f.code!r:.40} do not fit its message") from exc
    return dataclasses.replace(
        f, parameters=parameters, sheet=clean(f.sheet) if f.sheet else f.sheet,
        cell=clean(f.cell) if f.cell else f.cell,
        expected=clean(f.expected) if isinstance(f.expected, str) else f.expected,
        actual=clean(f.actual) if isinstance(f.actual, str) else f.actual,
        file=clean(f.file) if f.file else f.file)


_ITEM = {"namnd": str | None, "budgetar": int | None, "errors": int, "warnings": int,
         "reason": str}


def to_entry(item: InputFile) -> dict[str, Any]:
    """The entry: the figures, and the rows apart: rendered (``rendered``, for a streamed
    region workbook) or as values (``rows``, packed, parsed only when needed)."""
    e = item.extract
    rows = None
    if e is not None:
        if item.rendered is None:  # packed: parsed only by a run that needs them
            rows = _pack({"rows": encode(e.rows), "investments": encode(e.investments)})
        # else the rendered rows stand for them: a large inbox stays large from run to run,
        # and a small one (rows as values) reads the file again and keeps its rows
        e = dataclasses.replace(e, rows={}, investments=[])
    extract = None
    if e is not None:
        extract = encode(dataclasses.replace(e, objects={}))
        extract["objects"] = _encode_figures(
            item.figures if item.figures is not None else figure_texts(e.objects))
    return {"format": FORMAT, "key": entry_key(item.sha256, item.path.name),
            "sha256": item.sha256,
            **{k: getattr(item, k) for k in _ITEM},
            "findings": [encode(f) for f in item.findings],
            "extract": extract, "rows": rows,
            "rendered": None if item.rendered is None else (
                item.packed or _encode_rendered(item.rendered))}


def _encode_figures(figures: list[Figure]) -> list[list[str]]:
    """The history's figures (some 400 a planbok, most of an entry) as three columns of
    texts: kinds, objects and values (``format(value, "f")``, as the history stores them),
    taken in a few C loops and never made Decimals in between."""
    return [[k for k, _, _ in figures], [o for _, o, _ in figures], [v for _, _, v in figures]]


# format(value, "f") of a finite Decimal within 10^±40 (xlplan.extract's figures): digits,
# a point; one value a line
_DECIMAL_LINES = re.compile(r"(?:-?[0-9]{1,41}(?:\.[0-9]{1,80})?\n)*")


def _decode_figures(data: Any) -> list[Figure]:
    """:func:`_encode_figures` undone, checked: texts, objects of at most 500 characters,
    each value one exact decimal."""
    if type(data) is not list or len(data) != 3 or any(type(c) is not list for c in data):
        raise Damaged("figures")
    kinds, objects, values = data
    if not len(kinds) == len(objects) == len(values):
        raise Damaged("figures of other lengths")
    try:
        "".join(kinds), "".join(objects)  # a TypeError: not all texts
        lines = "\n".join(values)
    except TypeError:
        raise Damaged("figures that are not texts") from None
    if objects and max(map(len, objects)) > 500:
        raise Damaged("an object longer than the history holds")
    if values and (lines.count("\n") != len(values) - 1
                   or not _DECIMAL_LINES.fullmatch(lines + "\n")):
        raise Damaged("figures' values")  # each value one line, a decimal's digits
    return list(zip(kinds, objects, values, strict=True))


MAX_RENDERED = 16 * 1024 * 1024  # bytes of a file's rows (rendered or not), unpacked:
# a planbok's are some 100 kB; a larger field is read again, never parsed
MAX_CONTAINERS = 2_000_000  # JSON lists and objects in one entry or packed field: a planbok
# at the cell limits (xlplan.limits) has fewer; "[]" repeated would be 60 bytes of memory
# for each 2 bytes of JSON


def _json(body: bytes) -> Any:
    """``body`` parsed, unless it holds more lists and objects than any planbok gives."""
    if body.count(b"[") + body.count(b"{") > MAX_CONTAINERS:
        raise Damaged("too many JSON containers")
    return json.loads(body)


def _pack(value: Any) -> str:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(body.encode("utf-8", "surrogatepass"), 1)).decode("ascii")


def _unpack(data: Any) -> Any:
    return _json(_inflate(data))


def _inflate(data: Any) -> bytes:
    """A packed field's bytes (base64 of zlib), at most :data:`MAX_RENDERED` of them."""
    if type(data) is not str:
        raise Damaged("expected a packed field")
    try:
        unpacker = zlib.decompressobj()
        body = unpacker.decompress(base64.b64decode(data, validate=True), MAX_RENDERED)
    except (ValueError, zlib.error) as exc:
        raise Damaged("packed field") from exc
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise Damaged("packed field too large")
    return body


BLOCK_END = "\x02"  # between blocks (ROW_END between a block's rows): a control character,
# which a rendered row never holds (RowXml writes it as _x0002_)


def _encode_rendered(rendered: Rendered) -> dict[str, Any]:
    """The rendered rows as one text, packed: each block's rows between :data:`ROW_END`
    (a row kept as values: empty there, its values in ``blocks``), the blocks between
    :data:`BLOCK_END`. No JSON around the XML: no escaping, and the loader takes the rows
    with one split and checks each block with one match (:func:`well_formed`)."""
    from xlplan.io.region_rows import ROW_END

    meta: list[Any] = []
    texts: list[str] = []
    for name, block in rendered.blocks.items():
        at = [i for i, row in enumerate(block.rows) if not isinstance(row, str)]
        meta.append([name, {"rows": len(block.rows), "at": at,
                            "values": encode([block.rows[i] for i in at]),
                            "sums": encode(block.sums), "first_col": block.first_col,
                            "last_col": block.last_col}])
        texts.append(ROW_END.join(row if isinstance(row, str) else "" for row in block.rows))
    xml = BLOCK_END.join(texts).encode("utf-8", "surrogatepass")
    return {"styles": encode(rendered.layout.styles), "blocks": _pack(meta),
            "xml": base64.b64encode(zlib.compress(xml, 1)).decode("ascii")}


_BLOCK_META = {"rows", "at", "values", "sums", "first_col", "last_col"}


def _decode_rendered(data: Any, layout: Layout, check: bool = True) -> Rendered | None:
    """The rows rendered for ``layout``; None if they were rendered for another. ``check``:
    each row matched against what the renderer writes (False only for what this run's own
    workers just packed)."""
    from xlplan.extract import OutCell
    from xlplan.io.region_rows import ROW_END, Block, Rendered, well_formed

    if type(data) is not dict or set(data) != {"styles", "blocks", "xml"}:
        raise Damaged("rendered rows")
    if decode(data["styles"], dict[str, tuple[str, ...]]) != layout.styles:
        return None
    meta = _unpack(data["blocks"])
    texts = _inflate(data["xml"]).decode("utf-8", "surrogatepass").split(BLOCK_END)
    if type(meta) is not list or len(texts) != len(meta):
        raise Damaged("rendered blocks")
    blocks: dict[str, Block] = {}
    for item, text in zip(meta, texts, strict=True):
        if type(item) is not list or len(item) != 2 or type(item[0]) is not str or type(
                item[1]) is not dict or set(item[1]) != _BLOCK_META:
            raise Damaged("a rendered block")
        name, m = item
        count, at = m["rows"], decode(m["at"], list[int])
        if type(count) is not int or name in blocks or name not in layout.styles:
            raise Damaged("a rendered block")
        rows: list[str | list[Any]] = list(text.split(ROW_END)) if count else []  # (typed)
        if len(rows) != count or (not count and text) or sorted(set(at)) != at or (
                at and not 0 <= at[0] <= at[-1] < count):
            raise Damaged("a rendered block's rows")
        values = decode(m["values"], list[list[OutCell]])
        if len(values) != len(at) or rows.count("") != len(at) or any(rows[i] for i in at):
            raise Damaged("a rendered block's value rows")  # empty exactly where values go
        for i, row in zip(at, values, strict=True):
            rows[i] = row
        block = Block(rows, decode(m["sums"], dict[int, Decimal]),
                      decode(m["first_col"], int), decode(m["last_col"], int), len(at))
        if check and not well_formed(block, layout.styles[name], joined=text):
            raise Damaged("a rendered row that is not ours")  # never a formula into the output
        blocks[name] = block
    return Rendered(layout, blocks)


def from_entry(data: Any, path: Path, sha256: str, mtime: float,
               layout: Layout | None = None) -> InputFile:
    """The file as it was read when the entry was made; :class:`Damaged` if it does not fit.
    With a ``layout`` and rows rendered for it in the entry, those come instead of the rows
    (which are then not decoded)."""
    from xlplan.extract import Investment, OutCell
    from xlplan.region import InputFile

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Damaged("not an entry")
    if data.get("key") != entry_key(sha256, path.name) or data.get("sha256") != sha256:
        raise Damaged("another file's entry")
    item = InputFile(path, sha256, mtime)
    for name, hint in _ITEM.items():
        setattr(item, name, decode(data.get(name), hint))
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise Damaged("findings")
    item.findings = tuple(_finding(f) for f in findings)
    item.reason = clean(item.reason)
    if layout is not None and data.get("rendered") is not None:
        item.rendered = _decode_rendered(data["rendered"], layout)
    if item.rendered is not None:
        from xlplan.io.region_rows import CONTROLS

        sheets = set(item.rendered.layout.styles) if data.get("extract") is not None else {CONTROLS}
        if set(item.rendered.blocks) != sheets:  # layout is set: rendered came from it
            raise Damaged("rendered rows of other sheets")
    if data.get("extract") is None:
        item.extract = None
        return item
    extract = data["extract"]
    if type(extract) is not dict or "objects" not in extract:
        raise Damaged("extract")
    item.figures = _decode_figures(extract["objects"])
    item.extract = decode({**extract, "objects": []}, Extract)  # its figures: item.figures
    if item.rendered is None:
        rows = _unpack(data.get("rows"))
        if type(rows) is not dict or set(rows) != {"rows", "investments"}:
            raise Damaged("rows")
        item.extract.rows = decode(rows["rows"], dict[str, list[list[OutCell]]])
        item.extract.investments = decode(rows["investments"], list[Investment])
    return item


def cacheable(item: InputFile) -> bool:
    """Only a file that was validated: not one that could not be opened or changed while it
    was read (that may be different next time)."""
    return bool(item.sha256) and (item.extract is not None or bool(item.findings)
                                  or item.namnd is not None)


class FileCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def _body(self, entry: Path, key: bytes) -> bytes | None:
        """The entry's body if this user's xlplan signed it, else None (OSError: unreadable)."""
        raw = _read_regular(entry, MAX_ENTRY_BYTES)
        if raw is None or len(raw) > MAX_ENTRY_BYTES:
            return None
        mac, _, body = raw.partition(b"\n")
        return body if hmac.compare_digest(mac, _mac(key, body)) else None

    def signed(self, name: str, key: bytes) -> bool:
        """Is there an entry ``name`` that this user's xlplan signed? (Cheap: no parsing.)"""
        try:
            return self._body(self.path(name), key) is not None
        except OSError:
            return False

    def load(self, path: Path, sha256: str, mtime: float,
             layout: Layout | None = None) -> InputFile | None:
        """The cached file, or None (missing or damaged: then the file is read)."""
        key = _signing_key()
        if key is None:
            return None
        entry = self.path(entry_key(sha256, path.name))
        try:
            body = self._body(entry, key)
            if body is None:
                return None  # edited, or not made by this user's xlplan: read the file again
            item = from_entry(_json(body), path, sha256, mtime, layout)
            with contextlib.suppress(OSError):
                os.utime(entry)  # used: kept by prune()
            return item
        except (OSError, ValueError, TypeError, RecursionError):  # Damaged is a ValueError
            return None

    def store(self, item: InputFile) -> None:
        """Best effort: a folder that cannot be written only means the next run reads again."""
        key = _signing_key()
        if key is None or not cacheable(item):
            return
        try:
            body = json.dumps(to_entry(item), ensure_ascii=False, separators=(",", ":")
                              ).encode("utf-8", "surrogatepass")
            self.folder.mkdir(exist_ok=True)  # never its parents (the history's folder)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".entry-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(_mac(key, body) + b"\n" + body)
                os.replace(tmp, self.path(entry_key(item.sha256, item.path.name)))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, TypeError, ValueError):
            return


KEEP_DAYS = 90  # an entry no run has used for this long is removed (another version's, a
# file long replaced), so the folder does not grow month after month


def prune(folder: Path, now: float | None = None) -> int:
    """Remove entries unused for :data:`KEEP_DAYS` and temp files a killed run left (a day
    old); returns how many. Best effort, like every write to the cache."""
    now = time.time() if now is None else now
    removed = 0
    try:
        names = list(folder.iterdir())
    except OSError:
        return 0
    for path in names:
        name = path.name
        limit = (KEEP_DAYS * 86400 if _ENTRY.fullmatch(name)
                 else 86400 if name.startswith(".entry-") and name.endswith(".tmp") else None)
        if limit is None:
            continue  # not ours: left alone
        try:
            if now - path.lstat().st_mtime > limit:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


_ENTRY = re.compile(r"[0-9a-f]{64}\.json")


def _hash(path: Path) -> tuple[str, float] | None:
    from xlplan.io.safety import read_input

    try:
        mtime = path.stat().st_mtime
        return hashlib.sha256(read_input(path)).hexdigest(), mtime
    except Exception:  # refused or unreadable: read_one gives the reason
        return None


def take(path: Path, folder: Path | None, layout: Layout | None = None,
         hashed: tuple[str, float] | None = None) -> tuple[InputFile, bool]:
    """One file: from the cache at ``folder`` (True), else read and stored there (False).
    Runs in a worker: the parent only receives the result. With a ``layout`` the file's rows
    for the region workbook come rendered (:mod:`xlplan.io.region_rows`): from the cache, or
    rendered here and stored with the entry; the extract then keeps only what the region's
    figures need. ``hashed``: the file's (sha256, mtime) when the caller has them already."""
    from xlplan.inbox import read_one

    cache = FileCache(folder) if folder is not None else None
    if hashed is None and cache is not None:
        hashed = _hash(path)
    item = cache.load(path, *hashed, layout) if cache is not None and hashed else None
    cached = item is not None
    if item is None:
        item = read_one(path)
    if layout is not None and item.rendered is None:
        from xlplan.io.region_rows import render_file

        try:
            item.rendered = render_file(item.name, item.findings, item.extract, layout)
        except Exception:  # the net: the parent writes this file's rows from their values
            item.rendered = None
        if cache is not None and (item.rendered is not None or not cached):
            if item.rendered is not None:
                item.packed = _encode_rendered(item.rendered)  # once: entry and trip
            cache.store(item)  # new, or an entry without rows rendered for this layout
    elif cache is not None and not cached:
        cache.store(item)
    if item.rendered is not None and item.extract is not None:  # the rows travel as XML, once
        item.extract.rows, item.extract.investments = {}, []
    if item.extract is not None:  # the history's figures travel as texts
        if item.figures is None:
            item.figures = figure_texts(item.extract.objects)
        item.extract.objects = {}
    return item, cached


def _take_packed(path: Path, folder: Path | None, layout: Layout | None = None,
                 hashed: tuple[str, float] | None = None) -> tuple[InputFile, bool]:
    """:func:`take` in a worker: the rendered rows go to the parent packed, as the cache
    holds them (the same bytes, when the entry was just stored). A list of some 600 row
    texts cost the parent 0.6 ms a file to receive, the packed text 0.1 ms (measured)."""
    item, cached = take(path, folder, layout, hashed)
    if item.rendered is not None:
        item.packed = item.packed or _encode_rendered(item.rendered)
        item.rendered = None
    return item, cached


IN_FLIGHT = 8  # results per worker at most, read but not yet taken by the parent


def read_files(paths: Iterable[Path], progress: Callable[[Path], None] | None,
               sink: Callable[[InputFile], None] | None, folder: Path | None,
               workers: int | None = None,
               layout: Layout | None = None) -> tuple[list[InputFile], Reads]:
    """Like a plain read of every file (:func:`xlplan.inbox.read_one`), in the same order, but a file whose
    entry is in the cache at ``folder`` is not read, and new reads are stored there.

    Files with an entry are taken from it here, in this process; the others are read by
    workers when there are enough of them to pay for a pool (:data:`PARALLEL_FROM`, several
    cores). Workers hash, read, validate and extract; at most ``IN_FLIGHT`` results per
    worker wait for this process, so memory stays flat however far the workers are ahead.
    Measured on 2 000 unchanged planböcker: taking an entry costs this process about what
    receiving the same file from a worker does, so a pool for them only added the workers'
    CPU (17 s against 12,5 s in all, and a slower run)."""
    import functools

    todo = list(paths)
    count = workers if workers is not None else min(os.cpu_count() or 1, 4)
    hashes: list[tuple[str, float] | None] = [None] * len(todo)
    cached = [False] * len(todo)
    if folder is not None:
        cache = FileCache(folder)
        key = _signing_key()
        for i, path in enumerate(todo):
            hashes[i] = _hash(path)
            found = hashes[i]
            # an entry another user's key signed, or none: the file goes to the workers
            cached[i] = (key is not None and found is not None
                         and cache.signed(entry_key(found[0], path.name), key))
    reads = Reads()
    out: list[InputFile] = []
    job = functools.partial(take, folder=folder, layout=layout)
    pool_job = functools.partial(_take_packed, folder=folder, layout=layout)

    def arrived(result: tuple[InputFile, bool]) -> None:
        item, hit = result
        if item.packed is not None:  # made by our own take: not matched again
            if item.rendered is None and layout is not None:
                item.rendered = _decode_rendered(item.packed, layout, check=False)
            item.packed = None
        if hit:
            reads.cached += 1
        else:
            reads.read += 1
        if sink is not None:
            sink(item)
        out.append(item)
        if progress is not None:
            progress(item.path)

    misses = [i for i in range(len(todo)) if not cached[i]]
    try:
        if not _parallel(count, len(misses)):
            for i, path in enumerate(todo):
                arrived(job(path, hashed=hashes[i]))
        else:
            _pooled(todo, hashes, misses, job, pool_job, count, arrived)
    except MemoryError:
        from xlplan.errors import ConsolidationRefused

        raise ConsolidationRefused(
            "Minnet tog slut medan planböckerna lästes. Inget skrevs. Stäng andra program, "
            "eller kör på en dator med mer minne, och kör igen.") from None
    if folder is not None:
        prune(folder)
    return out, reads


def _parallel(count: int, files: int) -> bool:
    import multiprocessing as mp

    from xlplan.inbox import PARALLEL_FROM

    return count > 1 and files >= PARALLEL_FROM and "fork" in mp.get_all_start_methods()


def _worker() -> None:
    """A worker makes many short-lived objects per planbok and keeps none of them: collect
    less often (measured: some 9 % less CPU per planbok read). Ctrl-C is the parent's to
    handle: a worker finishes the file it has (see :func:`_stop`)."""
    import signal

    gc.set_threshold(50_000, 20, 20)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: this worker ends when the parent does (killed, or stopped without cleaning up),
    instead of waiting on its queue for ever as an orphan."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: nothing to do
        return
    if os.getppid() == 1:  # the parent was already gone before that took effect
        os._exit(1)


STOP_SECONDS = 60.0  # for the files in flight when a run stops early


def _pooled(todo: list[Path], hashes: list[tuple[str, float] | None], misses: list[int],
            job: Callable[..., tuple[InputFile, bool]],
            pool_job: Callable[..., tuple[InputFile, bool]], count: int,
            arrived: Callable[[tuple[InputFile, bool]], None]) -> None:
    """Every file of ``todo`` to ``arrived``, in order: those of ``misses`` (indexes) read by
    ``count`` worker processes with ``pool_job``, the others taken here with ``job`` while
    the workers read ahead.

    A ``ProcessPoolExecutor``, not a ``multiprocessing.Pool``: a worker that dies (killed,
    out of memory) breaks the executor, and the run ends with a Swedish sentence; the Pool
    replaced the worker and waited for its lost file for ever."""
    import collections
    import multiprocessing as mp
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from xlplan.errors import ConsolidationRefused

    executor = ProcessPoolExecutor(count, mp_context=mp.get_context("fork"), initializer=_worker)
    read_here = set(range(len(todo))).difference(misses)
    ahead = collections.deque(misses)
    waiting: collections.deque[Future[tuple[InputFile, bool]]] = collections.deque()
    started = False
    try:
        for i, path in enumerate(todo):
            while ahead and len(waiting) < IN_FLIGHT * count:
                j = ahead.popleft()
                if not started:  # the workers are forked at the first submit
                    gc.freeze()  # the parent's objects out of their collections (no copying)
                try:
                    waiting.append(executor.submit(pool_job, todo[j], hashed=hashes[j]))
                finally:
                    if not started:
                        gc.unfreeze()
                        started = True
            if i in read_here:
                arrived(job(path, hashed=hashes[i]))
            else:  # the oldest result in flight is this file's: misses are in order; it
                # stays in ``waiting`` until it has come (a stop must see the one it waits on)
                result = waiting[0].result()
                waiting.popleft()
                arrived(result)
    except BrokenProcessPool:
        _stop(executor, waiting)
        raise ConsolidationRefused(
            "En av processerna som läser planböckerna avslutades oväntat (till exempel för att "
            "minnet tog slut). Inget skrevs. Kör igen.") from None
    except BaseException:
        _stop(executor, waiting)
        raise
    executor.shutdown(wait=True)


def _stop(executor: Any, waiting: Iterable[Any]) -> None:
    """End the workers when the run stops early (a refusal, a full disk, Ctrl-C, a worker
    gone). The files in flight are few (:data:`IN_FLIGHT` a worker): they are let finish;
    a worker still busy after :data:`STOP_SECONDS` is killed. A second Ctrl-C while this
    runs is ignored (interrupting it left the workers to Python's exit-time handling)."""
    from concurrent.futures import wait

    with uninterrupted():
        # not cancelled: cancelling while the executor breaks (a worker gone at that moment)
        # made its manager thread fail with a traceback and leave the others waiting
        pending = list(waiting)
        done, running = wait(pending, timeout=STOP_SECONDS)
        for future in done:  # their errors are not this stop's: retrieved, not raised
            future.exception()
        if running:  # a worker stuck (or stopped): killed, which ends the executor
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        executor.shutdown(wait=True)


