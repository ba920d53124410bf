"""Write a Compound File Binary container (MS-CFB, version 3: 512-byte sectors) from a
mapping of stream paths to bytes: the container a vbaProject.bin is.

Only what a VBA project needs: storages and streams, no timestamps or class ids (zeros,
so the output is reproducible), one FAT without DIFAT sectors (files up to ~7 MB). Streams
under 4096 bytes live in the mini stream, as the format requires. Siblings form a balanced
binary search tree with every node black, which MS-CFB 2.6.4 allows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_BLACK = 1


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _key(name: str) -> tuple[int, str]:
    """MS-CFB 2.6.4: shorter names first, then by upper-case code units."""
    return len(name.encode("utf-16-le")), name.upper()


def write_cfb(streams: dict[str, bytes]) -> bytes:
    """The container holding ``streams`` ("VBA/dir" → bytes; "/" separates storages)."""
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        *folders, name = path.split("/")
        node = root
        for folder in folders:
            node = node.children.setdefault(folder, _Entry(folder, _STORAGE))
        if len(name.encode("utf-16-le")) > 62 or name in node.children:
            raise ValueError(f"bad or duplicate stream name: {path}")
        node.children[name] = _Entry(name, _STREAM, data=data)

    entries: list[_Entry] = [root]

    def number(node: _Entry) -> None:
        kids = sorted(node.children.values(), key=lambda e: _key(e.name))
        first = len(entries)
        entries.extend(kids)
        node.child = _tree(kids, first, 0, len(kids))
        for kid in kids:
            number(kid)

    number(root)

    # sector allocation: regular streams, the mini stream, the mini FAT, the directory, the FAT
    fat: list[int] = []
    body = bytearray()

    def allocate(data: bytes) -> int:
        count = -(-len(data) // SECTOR)
        if count == 0:
            return ENDOFCHAIN
        first = len(fat)
        fat.extend(range(first + 1, first + count))
        fat.append(ENDOFCHAIN)
        body.extend(data.ljust(count * SECTOR, b"\x00"))
        return first

    mini = bytearray()
    minifat: list[int] = []
    for e in entries:
        if e.kind != _STREAM:
            continue
        e.size = len(e.data)
        if e.size >= MINI_CUTOFF:
            e.start = allocate(e.data)
        elif e.size:
            count = -(-e.size // MINI_SECTOR)
            e.start = len(minifat)
            minifat.extend(range(e.start + 1, e.start + count))
            minifat.append(ENDOFCHAIN)
            mini.extend(e.data.ljust(count * MINI_SECTOR, b"\x00"))
    root.start = allocate(bytes(mini)) if mini else ENDOFCHAIN
    root.size = len(mini)
    first_minifat = allocate(_pad_words(minifat)) if minifat else ENDOFCHAIN
    directory = b"".join(_entry_bytes(e) for e in entries)
    directory += _empty_entry() * (-len(entries) % (SECTOR // 128))
    first_dir = allocate(directory)

    fat_count = 0
    while fat_count * (SECTOR // 4) < len(fat) + fat_count:
        fat_count += 1
    if fat_count > 109:
        raise ValueError("container too large for a header-only DIFAT")
    fat_start = len(fat)
    fat.extend([FATSECT] * fat_count)
    fat.extend([FREESECT] * (fat_count * (SECTOR // 4) - len(fat)))
    body.extend(b"".join(struct.pack("<I", v) for v in fat))

    difat = list(range(fat_start, fat_start + fat_count)) + [FREESECT] * (109 - fat_count)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", _MAGIC, b"\x00" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6,
        b"\x00" * 6, 0, fat_count, first_dir, 0, MINI_CUTOFF, first_minifat,
        -(-len(minifat) * 4 // SECTOR), ENDOFCHAIN, 0,
    ) + struct.pack("<109I", *difat)
    return header + bytes(body)


def _pad_words(values: list[int]) -> bytes:
    per = SECTOR // 4
    padded = values + [FREESECT] * (-len(values) % per)
    return struct.pack(f"<{len(padded)}I", *padded)


def _tree(kids: list[_Entry], first: int, lo: int, hi: int) -> int:
    """Link kids[lo:hi] (sorted) as a balanced tree; return the root's entry number."""
    if lo >= hi:
        return NOSTREAM
    mid = (lo + hi) // 2
    kids[mid].left = _tree(kids, first, lo, mid)
    kids[mid].right = _tree(kids, first, mid + 1, hi)
    return first + mid


def _entry_bytes(e: _Entry) -> bytes:
    name = (e.name + "\x00").encode("utf-16-le")
    start = e.start if e.kind != _STORAGE else 0
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), e.kind, _BLACK, e.left, e.right,
                       e.child, b"\x00" * 16, 0, 0, 0, start, e.size)


def _empty_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                       b"\x00" * 16, 0, 0, 0, 0, 0)
