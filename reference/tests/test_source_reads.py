"""The reader's byte source (storage/source.py): kept TOC bytes and read-ahead give exactly
the bytes a direct read gives, and read-ahead stays inside the range it was allowed."""

from __future__ import annotations

import os
import random

import pytest

from mv2.errors import StorageIOError
from mv2.storage.source import Source


def test_read_ahead_serves_the_files_bytes_and_only_inside_its_range(tmp_path):
    rng = random.Random(5)
    data = rng.randbytes(3 * Source.READ_AHEAD + 12345)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    lo, hi = 4096, len(data) - 777
    with Source.open(p) as src:
        src.read_ahead(lo, hi)
        for _ in range(2000):
            off = rng.randrange(0, len(data) - 1)
            n = rng.randrange(1, min(70_000, len(data) - off) + 1)
            assert src.read(off, n, what="x") == data[off:off + n]
            assert bytes(src.view(off, n, what="x")) == data[off:off + n]
            if src._window is not None:
                w0, wb = src._window
                assert lo <= w0 and w0 + len(wb) <= hi  # never reads ahead into bytes it was not allowed
    # Bytes outside the range are always read afresh: a rewritten header is seen.
    with Source.open(p) as src:
        src.read_ahead(lo, hi)
        assert src.read(lo, 10, what="x") == data[lo:lo + 10]
        with open(p, "r+b") as f:
            f.write(b"NEWHEADER!")
        assert src.read(0, 10, what="x") == b"NEWHEADER!"


def test_kept_toc_bytes_are_read_once_and_forgotten(tmp_path, monkeypatch):
    data = os.urandom(100_000)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    with Source.open(p) as src:
        calls = []
        real = src._pread
        monkeypatch.setattr(src, "_pread", lambda o, n: calls.append((o, n)) or real(o, n))
        src.keep(1000, 50_000)
        assert bytes(src.view(1000, 50_000, what="toc")) == data[1000:51000]
        assert src.read(1000, 50_000, what="toc") == data[1000:51000]
        assert calls == [(1000, 50_000)]
        src.forget()
        src.read(1000, 50_000, what="toc")
        assert len(calls) == 2


def test_a_file_that_shrinks_under_read_ahead_is_reported(tmp_path):
    data = os.urandom(2 * Source.READ_AHEAD)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    with Source.open(p) as src:
        src.read_ahead(0, len(data))
        os.truncate(p, 1000)
        with pytest.raises(StorageIOError) as e:
            src.read(5000, 10, what="x")
        assert e.value.code == "MV2-E-FILE-CHANGED"


def test_large_reads_give_the_files_bytes_and_report_a_shrunk_file(tmp_path):
    """Reads of 8 MiB and more go into one preallocated buffer: same bytes as a plain read,
    read-only, and a file cut short underneath is named as changed, not returned short."""
    from mv2.storage.source import _BIG_READ

    data = os.urandom(_BIG_READ + 5 * 4096 + 17)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    with Source.open(p) as src:
        got = src.read(3, _BIG_READ + 10, what="x")
        assert bytes(got) == data[3:3 + _BIG_READ + 10]
        with pytest.raises(TypeError):
            got[0] = 1  # callers share it: nobody may write into it
        assert bytes(src.read(0, len(data), what="x")) == data
        os.truncate(p, _BIG_READ // 2)
        with pytest.raises(StorageIOError) as e:
            src.read(0, len(data), what="x")
        assert e.value.code == "MV2-E-FILE-CHANGED" and e.value.offset == _BIG_READ // 2


def test_ranges_side_by_side_are_read_once_and_each_checked(tmp_path, monkeypatch):
    """A first search reads the Tantivy files as one span (not a read-ahead window of the
    data area), and every file is still checked against its own checksum."""
    import blake3

    import mv2

    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        m.put_many([{"content": f"document {i} about harbors", "timestamp": i} for i in range(300)])
    with mv2.open(path) as m:
        snap = m._snap
        listed = [x["common"] for x in snap.toc["segment_catalog"]["tantivy_segments"]] or snap.toc["indexes"]["lex_segments"]
        ranges = [(x["bytes_offset"], x["bytes_length"], bytes(x["checksum"])) for x in listed]
        assert len(ranges) > 1
        calls = []
        real = snap.source._pread
        monkeypatch.setattr(snap.source, "_pread", lambda o, n: calls.append((o, n)) or real(o, n))
        got = snap.checked_ranges(ranges, what="t")
        lo, hi = min(o for o, _, _ in ranges), max(o + n for o, n, _ in ranges)
        assert calls == [(lo, hi - lo)]
        data = path.read_bytes()
        assert [bytes(g) for g in got] == [data[o:o + n] for o, n, _ in ranges]
        # A wrong checksum fails only its own range; one outside the file makes each range its own read.
        bad = list(ranges)
        bad[1] = (bad[1][0], bad[1][1], blake3.blake3(b"other").digest())
        got = snap.checked_ranges(bad, what="t")
        assert got[1] is None and all(g is not None for i, g in enumerate(got) if i != 1)
        got = snap.checked_ranges(ranges + [(len(data) - 10, 100, ranges[0][2])], what="t")
        assert got[-1] is None and [bytes(g) for g in got[:-1]] == [data[o:o + n] for o, n, _ in ranges]
        assert m.find("harbors", k=3)
