"""The header's geometry and its WAL bookkeeping (spec 3.1), on the files we write and on memvid's."""

from __future__ import annotations

import struct

import pytest

import crafting as C
import mv2
from conftest import GOLD_FILES
from mv2.format.header import Header
from mv2.storage.snapshot import read_snapshot
from mv2.storage.source import Source
from mv2.storage.verify import analyze


def header(data: bytes):
    return Header.parse(data[:4096])


@pytest.mark.req("R-HDR-001")
def test_the_header_is_4096_bytes_and_the_wal_starts_after_it(tmp_path):
    assert Header.sizeof() == 4096
    path = tmp_path / "m.mv2"
    m = mv2.create(path)
    m.put("first", timestamp=1)
    ours = path.read_bytes()  # the put is in the WAL, not yet committed
    m.close()
    for data in [ours, path.read_bytes()] + [p.read_bytes() for p in GOLD_FILES]:
        h = header(data)
        assert h.wal_offset == 4096 and h.magic == b"MV2\0"
    # The first WAL record sits at byte 4096, right after the header, and holds the put.
    seq, length = struct.unpack_from("<QI", ours, 4096)
    assert seq == 1 and 0 < length < header(ours).wal_size
    with read_snapshot(Source(ours)) as s:
        assert [f.pending for f in s.frames] == [True]
    # A header that places the WAL elsewhere is refused.
    moved = ours[:16] + struct.pack("<Q", 8192) + ours[24:]
    assert analyze(Source(moved)).first_error.code == "MV2-E-HDR-WAL"


def unsealed_file(tmp_path):
    """Bytes of a file with two committed operations and a third acknowledged but pending,
    then the bytes after the memory closed."""
    path = tmp_path / "m.mv2"
    m = mv2.create(path)
    m.put("a", timestamp=1)
    m.put("b", timestamp=2)
    m.seal()
    sealed = path.read_bytes()
    m.put("c", timestamp=3)  # acknowledged: in the WAL and synced, not yet in a commit
    unsealed = path.read_bytes()
    m.close()
    return sealed, unsealed, path.read_bytes()


@pytest.mark.req("R-HDR-006")
def test_wal_sequence_names_the_last_record_the_committed_toc_reflects(tmp_path):
    sealed, unsealed, closed = unsealed_file(tmp_path)
    # The reference writer restarts the log at each commit: two operations committed, the
    # header says sequence 2 and the log is empty.
    assert header(sealed).wal_sequence == 2 and C.wal_records(sealed) == []
    # The third operation's record follows on with sequence 3 while the header still says 2,
    # so a reader (after a crash here) applies exactly that record.
    assert header(unsealed).wal_sequence == 2 and [seq for _, seq, _ in C.wal_records(unsealed)] == [3]
    with read_snapshot(Source(unsealed)) as s:
        assert [f.pending for f in s.frames] == [False, False, True]
    assert header(closed).wal_sequence == 3
    with read_snapshot(Source(closed)) as s:
        assert not any(f.pending for f in s.frames) and len(s.frames) == 3


@pytest.mark.req("R-HDR-006", "R-WAL-008")
@pytest.mark.parametrize("delta", [-1, +1])
def test_a_wal_sequence_that_disagrees_with_the_log_is_refused(tmp_path, delta):
    """One less and a reader would think a committed record pending; one more and it would
    hide an acknowledged one. Both are caught at the checkpoint."""
    _, unsealed, _ = unsealed_file(tmp_path)
    seq = header(unsealed).wal_sequence
    changed = unsealed[:40] + struct.pack("<Q", seq + delta) + unsealed[48:]
    assert header(changed).wal_sequence == seq + delta
    assert analyze(Source(changed)).first_error.code == "MV2-E-HDR-CHECKPOINT"
