"""The VBA project of an .xlsm read back by independent readers (oletools, olefile)."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import olefile
from oletools.olevba import VBA_Parser, decompress_stream

# located without importing xlwings (tests/support/xlbook.py sets its licence variable first)
_SPEC = importlib.util.find_spec("xlwings")
assert _SPEC is not None and _SPEC.origin is not None
XLWINGS = Path(_SPEC.origin).parent


def modules_by_oletools(path: Path) -> dict[str, str]:
    """Module name -> source: names and streams from olevba's reading of the dir stream,
    each stream decompressed with oletools' decompress_stream, decoded as cp1252."""
    parser = VBA_Parser(str(path))
    try:
        streams = [stream for _, stream, _, _ in parser.extract_macros()]
    finally:
        parser.close()
    with zipfile.ZipFile(path) as zf:
        ole = olefile.OleFileIO(zf.read("xl/vbaProject.bin"))
    out = {}
    for stream in streams:
        raw = bytes(decompress_stream(bytearray(ole.openstream(stream).read())))
        out[stream.split("/")[-1]] = raw.decode("cp1252").replace("\r\n", "\n")
    return out
