"""spec/mv2.ksy (Kaitai Struct) reads the gold files exactly as the Construct schema does.

The .ksy is compiled once per test session into a temporary directory (tools/ksy_check.py;
the npm compiler itself is installed once under the user cache). Skipped only when Node/npm
are not installed; a missing ``kaitaistruct`` runtime is a failure, not a skip.
"""

from __future__ import annotations

import struct

import pytest

from conftest import GOLD, GOLD_FILES

import ksy_check
from mv2.format.revisions import REVISIONS

WAL_OFFSET = 4096
SENTINEL_160_SINGLE = 2114
"""Region offset of the WAL sentinel in memvid-sdk-2.0.160/single.mv2 (2 records before it)."""


@pytest.fixture(scope="session")
def Mv2(tmp_path_factory):
    if not ksy_check.node_available():
        pytest.skip("node and npm are not installed: cannot compile spec/mv2.ksy with kaitai-struct-compiler")
    try:
        import kaitaistruct  # noqa: F401
    except ImportError:
        pytest.fail("the Kaitai runtime is missing: pip install kaitaistruct (it belongs to the test extra)")
    try:
        py = ksy_check.compile_ksy(tmp_path_factory.mktemp("kaitai"))
        return ksy_check.load_parser(py)
    except ksy_check.SetupError as exc:
        pytest.fail(str(exc))


def test_gold_files_exist():
    assert len(GOLD_FILES) >= 20, f"expected the gold vectors under {GOLD}"


def test_ksy_agrees_with_construct(Mv2, gold):
    rep = ksy_check.check_file(gold, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    # Every gold file's TOC decodes under a known revision, so the time index is never skipped.
    assert rep.summary.get("time_index") != "skipped", rep.notes


def test_checker_sees_every_part(Mv2):
    reports = ksy_check.check_all(GOLD_FILES, Mv2)
    assert all(r.ok for r in reports)
    assert {r.summary["revision"] for r in reports} == set(REVISIONS)  # a gold folder for every revision
    assert sum(r.summary["time_index"] not in ("none", "skipped") for r in reports) >= 20
    assert all("sentinel at" in r.summary["wal"] for r in reports)
    assert any(r.summary.get("memories", "none") != "none" for r in reports)  # the memory-cards file


# --- crafted edge cases of the WAL framing: both parsers must still agree -------------------------


def _crafted(tmp_path, name: str, edit):
    data = bytearray((GOLD / "memvid-sdk-2.0.160" / "single.mv2").read_bytes())
    edit(data)
    p = tmp_path / f"{name}.mv2"
    p.write_bytes(bytes(data))
    return p


def _set_wal_size(data: bytearray, size: int) -> None:
    struct.pack_into("<Q", data, 24, size)


def test_zero_sequence_and_length_is_not_a_sentinel_unless_all_zero(Mv2, tmp_path):
    # Sequence 0, length 0, one checksum byte set: spec 4.1 says only 48 zero bytes end the log.
    p = _crafted(tmp_path, "fake-sentinel",
                 lambda d: d.__setitem__(WAL_OFFSET + SENTINEL_160_SINGLE + 16, 1))
    rep = ksy_check.check_file(p, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    assert rep.summary["wal"].startswith("3 records, sentinel at 2162"), rep.summary
    assert any("not a sentinel" in n for n in rep.notes)


@pytest.mark.parametrize("extra, expect", [
    (0, "2 records, no sentinel, end 2114"),      # region ends exactly after the last record
    (40, "2 records, no sentinel, end 2114"),     # fewer than 48 bytes left: the log ends
    (48, "2 records, sentinel at 2114"),          # exactly room for the sentinel
])
def test_log_ends_where_the_region_ends(Mv2, tmp_path, extra, expect):
    p = _crafted(tmp_path, f"short-{extra}", lambda d: _set_wal_size(d, SENTINEL_160_SINGLE + extra))
    rep = ksy_check.check_file(p, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    assert rep.summary["wal"].startswith(expect), rep.summary


def test_region_smaller_than_a_record_header(Mv2, tmp_path):
    p = _crafted(tmp_path, "tiny-wal", lambda d: _set_wal_size(d, 20))
    rep = ksy_check.check_file(p, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    assert rep.summary["wal"].startswith("0 records, no sentinel"), rep.summary
