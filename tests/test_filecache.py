"""Unchanged planböcker are not read again (xlplan.filecache): the run's own counts prove
which files were parsed, and a cached run writes what an uncached run writes."""

from __future__ import annotations

import json
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.inbox import hsn, inbox, rs
from tests.support.output import sheets
from xlplan.consolidation import consolidate
from xlplan.extract import figure_texts
from xlplan.filecache import cache_dir_for, entry_key
from xlplan.io.safety import read_input
from xlplan.region import Outcome
from xlplan.region_json import region_to_json


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def test_a_rerun_reads_only_the_changed_file_and_writes_the_same(tmp_path: Path) -> None:
    folder = inbox(tmp_path)  # hsn-gammal, hsn, rs, run, and trasig.xlsx (not a workbook)
    cache = tmp_path / "cache"
    first = consolidate(folder, tmp_path / "a.xlsx", cache=cache)
    assert (first.read, first.cached) == (5, 0)
    # four validated files are cached; the broken one is not (it is refused before parsing)
    assert len(entries(cache)) == 4

    second = consolidate(folder, tmp_path / "b.xlsx", cache=cache)
    assert (second.read, second.cached) == (1, 4)  # only trasig.xlsx is opened again
    uncached = consolidate(folder, tmp_path / "c.xlsx", cache=False)
    assert (uncached.read, uncached.cached) == (5, 0)
    assert region_to_json(second.region) == region_to_json(uncached.region) == region_to_json(first.region)
    assert sheets(tmp_path / "b.xlsx") == sheets(tmp_path / "c.xlsx")

    # one file changes: exactly that one is read again, and its new figure is used
    mtime = (folder / "rs.xlsx").stat().st_mtime
    rs(folder / "rs.xlsx", staben_personal=-310.0)
    os.utime(folder / "rs.xlsx", (mtime + 1, mtime + 1))
    third = consolidate(folder, tmp_path / "d.xlsx", cache=cache)
    assert (third.read, third.cached) == (2, 3)  # rs.xlsx and trasig.xlsx
    # RS netto by hand: 20 + 70 − 310 − 150 − 20 − 10 = −400
    assert third.region.netto["RS"] == -400
    fresh = consolidate(folder, tmp_path / "e.xlsx", cache=False)
    assert region_to_json(third.region) == region_to_json(fresh.region)
    assert sheets(tmp_path / "d.xlsx") == sheets(tmp_path / "e.xlsx")


def _entry(path: Path) -> dict[str, Any]:
    """An entry's JSON (the line after its signature)."""
    return json.loads(path.read_bytes().partition(b"\n")[2])


def _write(path: Path, entry: dict[str, Any] | bytes, *, signed: bool) -> None:
    """Write an entry: signed with this user's key (so only the decoder's own checks can
    refuse it), or keeping the old signature (an edit by hand)."""
    from xlplan.filecache import _mac, _signing_key

    body = entry if isinstance(entry, bytes) else json.dumps(entry).encode("utf-8")
    key = _signing_key()
    assert key is not None
    mac = _mac(key, body) if signed else path.read_bytes().partition(b"\n")[0]
    path.write_bytes(mac + b"\n" + body)


def test_a_damaged_or_foreign_entry_is_ignored_and_the_file_read(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hsn(folder / "hsn.xlsx")
    rs(folder / "rs.xlsx")
    cache = tmp_path / "cache"
    consolidate(folder, tmp_path / "a.xlsx", cache=cache)
    key_hsn = entry_key(_sha(folder / "hsn.xlsx"), "hsn.xlsx")
    key_rs = entry_key(_sha(folder / "rs.xlsx"), "rs.xlsx")
    _write(cache / f"{key_hsn}.json", b"{not json", signed=True)
    entry = _entry(cache / f"{key_rs}.json")
    entry["extract"]["netto_mkr"] = "-1e999999"  # a plain string where a tagged decimal goes
    _write(cache / f"{key_rs}.json", entry, signed=True)
    again = consolidate(folder, tmp_path / "b.xlsx", cache=cache)
    assert (again.read, again.cached) == (2, 0)
    # HSN by hand: 80 + 40 − 900 − 300 − 100 − 10 − 60 = −1 250, plus the nämnd's −3
    assert again.region.netto["HSN"] == -1253
    # both entries were written anew and now serve the next run
    assert (consolidate(folder, tmp_path / "c.xlsx", cache=cache).cached) == 2

    # a finding code that is not in the catalogue: not ours, ignored
    entry = _entry(cache / f"{key_rs}.json")
    entry["findings"] = [{"severity": "error", "code": "påhittad", "sheet": None, "cell": None,
                          "parameters": [], "expected": None, "actual": None, "file": None}]
    _write(cache / f"{key_rs}.json", entry, signed=True)
    assert consolidate(folder, tmp_path / "d.xlsx", cache=cache).read == 1


def _rs_cached(tmp_path: Path) -> tuple[Path, Path, Path, Outcome]:
    """RS's planbok consolidated once with a cache: (inbox, cache folder, RS's entry, the run)."""
    folder = tmp_path / "in"
    folder.mkdir()
    rs(folder / "rs.xlsx")
    cache = tmp_path / "cache"
    first = consolidate(folder, tmp_path / "a.xlsx", cache=cache)
    return folder, cache, cache / f"{entry_key(_sha(folder / 'rs.xlsx'), 'rs.xlsx')}.json", first


def test_an_entry_edited_by_hand_never_changes_the_output(tmp_path: Path) -> None:
    folder, cache, path, first = _rs_cached(tmp_path)
    entry = _entry(path)
    entry["extract"]["netto_mkr"] = {"d": "-9999.9"}  # well formed, but not what was read
    _write(path, entry, signed=False)  # the signature it had: the edit breaks it
    again = consolidate(folder, tmp_path / "b.xlsx", cache=cache)
    assert (again.read, again.cached) == (1, 0)
    assert again.region.netto == first.region.netto and again.region.netto["RS"] != Decimal(
        "-9999.9")


def test_a_pipe_in_place_of_an_entry_is_ignored_without_waiting(tmp_path: Path) -> None:
    folder, cache, path, _ = _rs_cached(tmp_path)
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block forever
    again = consolidate(folder, tmp_path / "b.xlsx", cache=cache)  # returns: not blocked
    assert (again.read, again.cached) == (1, 0)


def test_the_cache_lives_beside_a_sqlite_history(tmp_path: Path) -> None:
    assert cache_dir_for(f"sqlite:///{tmp_path}/h.db") == tmp_path / "h-cache"
    assert cache_dir_for("sqlite://") is None
    assert cache_dir_for("postgresql://x/y") is None
    assert cache_dir_for(None) is None
    folder = tmp_path / "in"
    folder.mkdir()
    rs(folder / "rs.xlsx")
    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert consolidate(folder, tmp_path / "a.xlsx", database=db).read == 1
    assert entries(tmp_path / "h-cache")
    assert consolidate(folder, tmp_path / "b.xlsx", database=db).cached == 1


def test_an_unwritable_cache_folder_is_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rs(folder / "rs.xlsx")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    out = consolidate(folder, tmp_path / "a.xlsx", cache=blocker)
    assert out.read == 1 and out.region.netto["RS"] == -390  # 20 + 70 − 300 − 150 − 20 − 10


def test_a_renamed_copy_is_read_again(tmp_path: Path) -> None:
    # findings name the file, so an entry belongs to one name
    folder, cache, _, _ = _rs_cached(tmp_path)
    shutil.move(folder / "rs.xlsx", folder / "rs-ny.xlsx")
    time.sleep(0.01)
    assert consolidate(folder, tmp_path / "b.xlsx", cache=cache).read == 1


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(read_input(path)).hexdigest()


def test_workers_give_the_files_in_order_with_few_results_in_flight(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlplan import consolidation, filecache
    from xlplan import inbox as inbox_module

    folder = inbox(tmp_path)
    paths = consolidation.scan_inbox(folder)
    serial, serial_reads = filecache.read_files(paths, None, None, tmp_path / "c1", workers=1)
    monkeypatch.setattr(inbox_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(filecache, "IN_FLIGHT", 1)  # one result per worker waits at most
    seen: list[Path] = []
    pooled, reads = filecache.read_files(paths, seen.append, None, tmp_path / "c2", workers=2)
    assert seen == paths == [f.path for f in pooled] == [f.path for f in serial]
    assert [(f.sha256, f.namnd, f.errors, f.reason, f.findings, f.extract) for f in pooled] == [
        (f.sha256, f.namnd, f.errors, f.reason, f.findings, f.extract) for f in serial]
    assert (reads.read, reads.cached) == (serial_reads.read, serial_reads.cached) == (5, 0)
    again, reads = filecache.read_files(paths, None, None, tmp_path / "c2", workers=2)
    assert (reads.read, reads.cached) == (1, 4)  # the entries the workers wrote, taken here
    assert [f.extract for f in again] == [f.extract for f in serial]
    # some files changed since (their entries gone): those go to the workers, the others
    # are taken from the cache here, and every file still comes in its place
    for path in paths[1::2]:
        (tmp_path / "c2" / f"{filecache.entry_key(_sha(path), path.name)}.json").unlink(
            missing_ok=True)
    seen.clear()
    mixed, reads = filecache.read_files(paths, seen.append, None, tmp_path / "c2", workers=2)
    assert seen == paths == [f.path for f in mixed]
    assert [(f.sha256, f.namnd, f.errors, f.reason, f.findings, f.extract) for f in mixed] == [
        (f.sha256, f.namnd, f.errors, f.reason, f.findings, f.extract) for f in serial]
    unreadable = sum(1 for f in serial if not filecache.cacheable(f))
    read_again = len(paths[1::2]) + sum(1 for f in serial[::2] if not filecache.cacheable(f))
    assert (reads.read, reads.cached) == (read_again, len(paths) - read_again)
    assert unreadable == 1


def test_entries_unused_for_long_are_pruned_used_ones_kept(tmp_path: Path) -> None:
    from xlplan.filecache import KEEP_DAYS

    folder, cache, _, _ = _rs_cached(tmp_path)
    (used,) = entries(cache)
    old = time.time() - (KEEP_DAYS + 1) * 86400
    stale = cache / ("0" * 64 + ".json")  # another version's entry, say
    stale.write_text("{}")
    leftover = cache / ".entry-x.tmp"  # what a killed run leaves
    leftover.write_text("")
    other = cache / "anteckning.txt"  # not ours: left alone
    other.write_text("")
    for p in (used, stale, leftover, other):
        os.utime(p, (old, old))
    again = consolidate(folder, tmp_path / "b.xlsx", cache=cache)
    assert again.cached == 1
    assert entries(cache) == [used]  # used this run, so kept however old it was
    assert not leftover.exists() and other.exists()


def test_a_packed_field_that_unpacks_into_millions_of_lists_is_refused() -> None:
    """85 kB of deflated "[[],[],…]" was 1,7 GB of Python lists: refused before parsing."""
    import base64
    import zlib

    from xlplan.filecache import Damaged, _unpack

    bomb = b"[" + b"[]," * 3_000_000 + b"[]]"  # 9 MB of JSON, under the size limit
    packed = base64.b64encode(zlib.compress(bomb, 9)).decode()
    assert len(packed) < 100_000
    with pytest.raises(Damaged, match="containers"):
        _unpack(packed)
    fine = base64.b64encode(zlib.compress(b'[["KN", {"d": "1.5"}]]')).decode()
    assert _unpack(fine) == [["KN", {"d": "1.5"}]]


@pytest.mark.parametrize("damage", [
    lambda o: o[2].__setitem__(0, "Infinity"),
    lambda o: o[2].__setitem__(0, "NaN"),
    lambda o: o[2].__setitem__(0, "1E+3"),  # a value as the history stores it: no exponent
    lambda o: o[2].__setitem__(0, "1" * 42),  # past 10^41: no figure of a region
    lambda o: o[2].__setitem__(0, "12,5"),
    lambda o: o[2].__setitem__(0, " 12"),
    lambda o: o[2].__setitem__(0, "1\n2"),  # two values in one
    lambda o: o[2].__setitem__(0, 5),
    lambda o: o[1].__setitem__(0, "x" * 501),  # longer than the history's column
    lambda o: o[0].__setitem__(0, ["budget"]),
    lambda o: o[1].pop(),
    lambda o: o.pop(),
    lambda o: o.__setitem__(0, "budget"),
])
def test_history_figures_in_an_entry_are_checked_as_they_are_decoded(
        tmp_path: Path, damage: Any) -> None:
    """The figures travel as three columns of texts (kinds, objects, values as the history
    stores them); a value that is not an exact decimal of sane size, an object longer than
    the history holds, or columns that do not line up, are not ours."""
    from xlplan.filecache import _decode_figures, take
    from xlplan.inbox import read_one

    folder, cache, path, _ = _rs_cached(tmp_path)
    fresh = read_one(folder / "rs.xlsx").extract
    assert fresh is not None
    # by hand, RS's planbok (tests/support/inbox.py rs): Regionstaben's net 20 + 70 − 300
    # − 150 − 20 − 10 = −390, which is the nämnd's total; one investment, Servrar, 2 000 tkr
    read = [("omrade", "Regionstaben", "-390"), ("investering", "Servrar", "2000"),
            ("netto", "Totalt", "-390")]
    assert sorted(figure_texts(fresh.objects)) == sorted(read)
    entry = _entry(path)
    assert sorted(_decode_figures(entry["extract"]["objects"])) == sorted(read)  # undamaged
    damage(entry["extract"]["objects"])
    _write(path, entry, signed=True)
    item, cached = take(folder / "rs.xlsx", cache)
    assert not cached and item.figures is not None and sorted(item.figures) == sorted(read)
    item, cached = take(folder / "rs.xlsx", cache)  # stored anew, and now taken from it
    assert cached and item.figures is not None and sorted(item.figures) == sorted(read)
    assert item.extract is not None and item.extract.objects == {}  # they travel as texts


def test_entries_another_users_key_signed_go_to_the_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two users with their own keys take turns on one history (so one cache folder): each
    finds the other's entries unsigned for it. Those files are read by the workers, as new
    ones, not one after the other by the parent (which takes only entries it can use)."""
    from xlplan import filecache
    from xlplan import inbox as inbox_module

    folder = inbox(tmp_path)
    paths = sorted(p for p in folder.iterdir() if p.suffix == ".xlsx" and p.name[0] not in "~.")
    cache = tmp_path / "cache"
    monkeypatch.setattr(inbox_module, "PARALLEL_FROM", 1)
    read_here: list[Path] = []
    real = inbox_module.read_one
    monkeypatch.setattr(inbox_module, "read_one",
                        lambda path: read_here.append(path) or real(path))  # the parent's

    def run_as(user: str) -> filecache.Reads:
        monkeypatch.setenv("XLPLAN_CACHE_KEY_DIR", str(tmp_path / user))
        filecache._signing_key.cache_clear()
        read_here.clear()
        return filecache.read_files(paths, None, None, cache, workers=2)[1]

    try:
        assert (run_as("a").read, read_here) == (5, [])  # read by the workers
        assert (run_as("a").cached, read_here) == (4, [])  # the unreadable file is never cached
        assert (run_as("b").read, read_here) == (5, [])  # a's entries: not b's, to the workers
        assert (run_as("b").cached, read_here) == (4, [])
    finally:
        monkeypatch.undo()
        filecache._signing_key.cache_clear()
