"""MS-OVBA compression and data encryption (xlplan.ovba) and the compound file (xlplan.cfb),
checked against the specification's worked examples, an Excel-written project, and
independent readers (oletools, olefile)."""

from __future__ import annotations

import io
import random

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xlplan import ovba
from xlplan.cfb import write_cfb


def oletools(container: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(container)))


# MS-OVBA 3.2.1 "No Compression Example" and 3.2.3 "Maximum Compression Example": the text and
# the compressed bytes as printed in the specification.
NO_COMPRESSION = (b"abcdefghijklmnopqrstuv.", bytes.fromhex(
    "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E"))
MAXIMUM = (b"a" * 73, bytes.fromhex("01 03 B0 02 61 45 00"))
# 3.2.2 "Normal Compression Example", as printed in the specification.
NORMAL_TEXT = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
NORMAL_PRINTED = bytes.fromhex(
    "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 30 6D"
    "6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C")
# The printed bytes were not made by the specification's own procedure (2.4.1.3.19.4
# Matching: the longest match, the closest candidate on a tie). Worked by hand for the
# first difference: at "aaam" (position 24, after "kl") the longest match is 3 bytes; scanning
# back from position 23 the first candidate with 3 is position 19 ("aaak"), offset 24-19 = 5;
# difference 24 gives bit_count ceil(log2 24) = 5, so the token is (5-1) << 11 | (3-3) = 0x2000
# ("00 20"); the printed "00 30" is offset 7 (candidate 17). Likewise at "aaaaaaaaaaaa"
# (position 32, 12 bytes: offset 1 from 17's run gives "02 70" in both; the next token's
# offset differs: printed 0x1004 vs 0x0004) and at the final "aaa" (0x3C00 vs 0x2C00).
NORMAL_BY_PROCEDURE = bytes.fromhex(
    "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D"
    "6E 6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C")


@pytest.mark.parametrize(("text", "packed"), [NO_COMPRESSION, MAXIMUM])
def test_specification_examples_compress_to_the_printed_bytes(text: bytes, packed: bytes) -> None:
    assert ovba.compress(text) == packed
    assert ovba.decompress(packed) == text
    assert oletools(packed) == text


def test_normal_example_both_ways() -> None:
    assert ovba.decompress(NORMAL_PRINTED) == NORMAL_TEXT
    assert oletools(NORMAL_PRINTED) == NORMAL_TEXT
    assert ovba.compress(NORMAL_TEXT) == NORMAL_BY_PROCEDURE
    assert oletools(NORMAL_BY_PROCEDURE) == NORMAL_TEXT


def test_copy_token_maximum_length_is_0xffff_shifted_right() -> None:
    # CopyToken Help: (0xFFFF >> bit_count) + 3; bit_count = max(ceil(log2 d), 4)
    assert ovba.max_length(1) == 4098  # 12 length bits
    assert ovba.max_length(16) == 4098
    assert ovba.max_length(17) == 2050  # 5 offset bits, 11 length bits
    assert ovba.max_length(4095) == 18  # 12 offset bits, 4 length bits: 15 + 3


def test_a_long_run_deep_in_a_chunk_is_split_at_the_maximum_length() -> None:
    # the bug in ms_ovba_compression: 2000 distinct-ish bytes, then a 600-byte repeat of them,
    # where a token holds at most (0xFFFF >> 11) + 3 = 34 bytes; a wrong maximum spills the
    # length into the offset bits
    head = bytes((i * 7 + i // 256) % 251 for i in range(2000))
    text = head + head[:600] + b"tail"
    packed = ovba.compress(text)
    assert oletools(packed) == text
    assert ovba.decompress(packed) == text


def test_incompressible_chunk_is_stored_raw() -> None:
    text = random.Random(1).randbytes(4096)  # no 3-byte repeats to speak of
    packed = ovba.compress(text)
    header = int.from_bytes(packed[1:3], "little")
    assert header == 0x3FFF  # flag 0 (raw), signature 0b011, size 4096 + 2 - 3
    assert ovba.decompress(packed) == text == oletools(packed)


def test_empty_and_exact_chunks() -> None:
    assert ovba.compress(b"") == b"\x01"
    assert ovba.decompress(b"\x01") == b""
    for size in (4095, 4096, 4097, 8192, 8193):
        text = (b"Sub A()\r\n    x = 1\r\nEnd Sub\r\n" * 400)[:size]
        assert ovba.decompress(ovba.compress(text)) == text == oletools(ovba.compress(text))


def test_malformed_containers_are_refused() -> None:
    for bad in (b"", b"\x02\x03\xb0\x02aE\x00", b"\x01\x03\xa0\x02aE\x00",
                b"\x01\x03\xb0\x02a\x45", b"\x01\x03\xb0\x01\x00\x10"):
        with pytest.raises(ValueError):
            ovba.decompress(bad)


VBA_TEXT = st.text(alphabet=st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 \t\"'()=.,&_\r\nåäöÅÄÖ")), max_size=12000)


@settings(max_examples=60, deadline=None)
@given(VBA_TEXT)
def test_text_round_trips_through_our_compressor_and_oletools(text: str) -> None:
    data = text.encode("cp1252")
    packed = ovba.compress(data)
    assert oletools(packed) == data
    assert ovba.decompress(packed) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=9000))
def test_our_decompressor_agrees_with_oletools(data: bytes) -> None:
    packed = ovba.compress(data)
    ours = ovba.decompress(packed)
    assert ours == oletools(packed)
    # a raw last chunk is padded to 4096 bytes by the specification (2.4.1.3.10)
    assert ours[:len(data)] == data and not ours[len(data):].strip(b"\x00")


# --- 2.4.3 data encryption ----------------------------------------------------------------


def test_decrypt_the_specification_project_example() -> None:
    # MS-OVBA 3.1.6 PROJECT Stream Example: ID="{917DED54-440B-4FD1-A5C1-74ACF261E600}",
    # CMG (protection state), DPB (password), GC (visibility) as printed there
    pid = "{917DED54-440B-4FD1-A5C1-74ACF261E600}"
    key, cmg = ovba.decrypt(bytes.fromhex("0705D8E3D8EDDBF1DBF1DBF1DBF1"))
    assert key == ovba.project_key(pid)
    assert cmg == bytes(4)  # not protected
    assert ovba.decrypt(bytes.fromhex("0E0CD1ECDFF4E7F5E7F5E7"))[1] == b"\x00"  # no password
    assert ovba.decrypt(bytes.fromhex("1517CAF1D6F9D7F9D706"))[1] == b"\xff"  # visible


def test_encrypt_round_trips_and_matches_excel() -> None:
    pid = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"  # xlwings' quickstart workbook (Excel-made)
    excel_cmg = bytes.fromhex("8D8FA61394EA98EA98EA98EA98")
    key, data = ovba.decrypt(excel_cmg)
    assert (key, data) == (ovba.project_key(pid), bytes(4))
    # the same seed and the same ignored bytes give Excel's own bytes back
    plain_ignored = _ignored(excel_cmg, key)
    assert ovba.encrypt(bytes(4), pid, 0x8D, plain_ignored) == excel_cmg
    for seed in (0, 2, 4, 6, 0xFF):
        blob = ovba.encrypt(b"\x01\x02\x03", pid, seed, bytes((seed & 6) // 2))
        assert ovba.decrypt(blob) == (ovba.project_key(pid), b"\x01\x02\x03")


def _ignored(blob: bytes, key: int) -> bytes:
    seed, enc2, enc1, unenc1 = blob[0], blob[1], blob[2], key
    out = bytearray()
    for enc in blob[3:3 + (seed & 6) // 2]:
        byte = enc ^ ((enc2 + unenc1) & 0xFF)
        out.append(byte)
        enc2, enc1, unenc1 = enc1, enc, byte
    return bytes(out)


# --- the compound file ---------------------------------------------------------------------


def test_olefile_reads_every_stream_back() -> None:
    streams = {
        "PROJECT": b"ID=1\r\n" * 20,
        "PROJECTwm": b"",
        "VBA/dir": bytes(range(256)) * 20,  # over the mini-stream cutoff
        "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000100"),
        "VBA/exactly4096": b"x" * 4096,
        "VBA/justunder": b"y" * 4095,
        **{f"VBA/Sheet{i}": f"sheet {i}".encode() * 30 for i in range(1, 25)},
        "VBA/big": bytes(i % 253 for i in range(300_000)),
    }
    blob = write_cfb(streams)
    ole = olefile.OleFileIO(io.BytesIO(blob), raise_defects=olefile.DEFECT_INCORRECT)
    assert sorted("/".join(p) for p in ole.listdir()) == sorted(streams)
    for path, data in streams.items():
        assert ole.openstream(path).read() == data
    assert write_cfb(streams) == blob  # reproducible
