"""MS-OVBA 2.4.1 compression and decompression, and 2.4.3 data encryption (the CMG, DPB and
GC values of a PROJECT stream): the codecs a VBA project needs, written to the specification.

Compression follows the specification's own procedure (2.4.1.3.6 ff.): for each position the
longest match in the current 4096-byte chunk, the closest one on a tie, clipped to the copy
token's maximum length ``(0xFFFF >> bit_count) + 3``; a chunk whose tokens do not fit in 4096
bytes is stored raw. Decompression is strict: a malformed container raises ValueError.
"""

from __future__ import annotations

CHUNK = 4096
_SIGNATURE = 0x01
_CHUNK_SIGNATURE = 0b011


def _bit_count(difference: int) -> int:
    """CopyToken Help (2.4.1.3.19.1): bits of the offset for a position ``difference`` bytes
    into the chunk: ceil(log2(difference)), at least 4."""
    return max((difference - 1).bit_length(), 4)


def max_length(difference: int) -> int:
    """The longest copy a token at ``difference`` bytes into the chunk can hold."""
    return (0xFFFF >> _bit_count(difference)) + 3


def compress(data: bytes) -> bytes:
    """A CompressedContainer (2.4.1.1.1) holding ``data``."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        body = _compress_chunk(chunk)
        flag = 1
        if len(body) > CHUNK:  # 2.4.1.3.10: tokens do not fit, the chunk goes raw (padded)
            body = chunk.ljust(CHUNK, b"\x00")
            flag = 0
        header = (len(body) + 2 - 3) | (_CHUNK_SIGNATURE << 12) | (flag << 15)
        out += header.to_bytes(2, "little") + body
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    end = len(chunk)
    index: dict[bytes, list[int]] = {}  # 3 bytes -> earlier positions in this chunk
    indexed = 0  # positions below this are in the index
    out = bytearray()
    cur = 0
    while cur < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if cur >= end:
                break
            best_len, best_pos = 0, -1
            for p in reversed(index.get(chunk[cur:cur + 3], ())):
                # only a candidate longer than the best so far can win (on a tie: the closest)
                if cur + best_len < end and chunk[p + best_len] != chunk[cur + best_len]:
                    continue
                n = 0
                while cur + n < end and chunk[p + n] == chunk[cur + n]:
                    n += 1
                if n > best_len:
                    best_len, best_pos = n, p
            if best_len >= 3:
                length = min(best_len, max_length(cur))
                bits = _bit_count(cur)
                token = ((cur - best_pos - 1) << (16 - bits)) | (length - 3)
                out += token.to_bytes(2, "little")
                flags |= 1 << bit
            else:
                length = 1
                out.append(chunk[cur])
            cur += length
            for p in range(indexed, min(cur, end - 2)):
                index.setdefault(chunk[p:p + 3], []).append(p)
            indexed = cur
        out[flag_at] = flags
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """The data in a CompressedContainer (2.4.1.3.1). Raises ValueError if it is malformed."""
    if not container or container[0] != _SIGNATURE:
        raise ValueError("not a compressed container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise ValueError("truncated chunk header")
        header = int.from_bytes(container[pos:pos + 2], "little")
        if (header >> 12) & 0b111 != _CHUNK_SIGNATURE:
            raise ValueError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(container))
        pos += 2
        if not header >> 15:  # raw chunk: 4096 bytes as they are
            if pos + CHUNK > len(container):
                raise ValueError("truncated raw chunk")
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        start = len(out)
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags >> bit & 1:
                    out.append(container[pos])
                    pos += 1
                    continue
                if pos + 2 > chunk_end:
                    raise ValueError("truncated copy token")
                token = int.from_bytes(container[pos:pos + 2], "little")
                pos += 2
                bits = _bit_count(len(out) - start)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                if offset > len(out) - start:
                    raise ValueError("copy token reaches before its chunk")
                for _ in range(length):  # may overlap what it writes: byte by byte
                    out.append(out[-offset])
    return bytes(out)


# --- 2.4.3 Data Encryption (obfuscation of CMG, DPB, GC) --------------------------------


def project_key(project_id: str) -> int:
    """2.4.3.1: the sum of the bytes of the project id text (with braces), modulo 256."""
    return sum(project_id.encode("ascii")) & 0xFF


def encrypt(data: bytes, project_id: str, seed: int, ignored: bytes = b"") -> bytes:
    """2.4.3.2: the obfuscated form of ``data``. ``ignored`` must hold (seed & 6) // 2 bytes
    (any values); a fixed seed and filler keep the output reproducible."""
    if len(ignored) != (seed & 6) // 2:
        raise ValueError("ignored must hold (seed & 6) // 2 bytes")
    key = project_key(project_id)
    version_enc = seed ^ 2
    key_enc = seed ^ key
    out = bytearray([seed, version_enc, key_enc])
    unencrypted1, encrypted1, encrypted2 = key, key_enc, version_enc
    for byte in (*ignored, *len(data).to_bytes(4, "little"), *data):
        enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    return bytes(out)


def decrypt(blob: bytes) -> tuple[int, bytes]:
    """2.4.3.3: (project key, data) from an obfuscated value. Raises ValueError if it is
    malformed."""
    if len(blob) < 3:
        raise ValueError("too short")
    seed, version_enc, key_enc = blob[0], blob[1], blob[2]
    if seed ^ version_enc != 2:
        raise ValueError("version is not 2")
    key = seed ^ key_enc
    unencrypted1, encrypted1, encrypted2 = key, key_enc, version_enc
    plain = bytearray()
    for enc in blob[3:]:
        byte = enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(byte)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    skip = (seed & 6) // 2
    length = int.from_bytes(plain[skip:skip + 4], "little")
    data = bytes(plain[skip + 4:])
    if len(data) != length:
        raise ValueError("length does not match")
    return key, data
