"""The writer's API: what put, supersede, delete and seal store, and how bad operations are refused."""

from __future__ import annotations

import hashlib

import pytest

import mv2
from mv2.errors import LockedError, NotFoundError, UsageError
from mv2.storage.verify import analyze


def sha(p) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "m.mv2"


@pytest.mark.req("R-FTR-002")
def test_create_makes_a_valid_empty_file(path):
    mv2.create(path).close()
    a = analyze(path)
    assert a.ok, a.first_error
    assert a.frame_count == 0 and a.generation == 0
    with mv2.open(path) as m:
        assert m.frames() == [] and m.timeline() == []


def test_put_seal_reopen(path):
    with mv2.create(path) as m:
        a = m.put("The user is allergic to penicillin.", uri="mv2://profile/allergy", title="Allergy",
                  timestamp=1700000000, tags=["health"], labels=["medical"], metadata={"source": "intake", "n": 3},
                  kind="fact", track="profile")
        b = m.put(b"\xff\xfe raw bytes", timestamp=1700000001)
        assert (a, b) == (0, 1)
    with mv2.open(path) as m:
        f = m.frame("mv2://profile/allergy", index_lines=True)
        assert f["text"].startswith("The user is allergic to penicillin.\ntitle: Allergy\nuri: mv2://profile/allergy\ntrack: profile\ntags: health\nlabels: medical")
        assert f["metadata"] == {"n": "3", "source": '"intake"'}
        assert (f["kind"], f["track"], f["status"], f["pending"]) == ("fact", "profile", "active", False)
        assert m.blob(0) == b"The user is allergic to penicillin."
        assert m.blob(1) == b"\xff\xfe raw bytes"
        assert m.frame(1)["uri"] == "mv2://frames/1" and m.frame(1)["encoding"] == "plain"
        assert m.frame(0)["encoding"] == "zstd"
    assert analyze(path).ok


@pytest.mark.req("R-FRM-012")
def test_default_uri_and_title(path):
    with mv2.create(path) as m:
        m.put("x", timestamp=1)
        m.put("y", uri="mv2://docs/release-notes_v2.final.md?x=1#top", timestamp=2)
    with mv2.open(path) as m:
        assert (m.frame(0)["uri"], m.frame(0)["title"]) == ("mv2://frames/0", "0")
        assert m.frame(1)["title"] == "Release Notes V2.final"


@pytest.mark.req("R-FRM-003", "R-FRM-011")
def test_supersede_links_both_ways(path):
    with mv2.create(path) as m:
        m.put("version one", uri="mv2://doc", timestamp=10)
        new = m.supersede(0, "version two", timestamp=20)
        same = m.supersede(new, timestamp=30, tags=["retagged"])  # no content: shares the payload
    with mv2.open(path) as m:
        f0, f1, f2 = m.frame(0), m.frame(1), m.frame(2)
        assert (f0["status"], f0["superseded_by"]) == ("superseded", 1)
        assert (f1["status"], f1["supersedes"], f1["superseded_by"]) == ("superseded", 0, 2)
        assert (f2["status"], f2["supersedes"], f2["tags"]) == ("active", 1, ["retagged"])
        assert m.blob(2) == m.blob(1) == b"version two"
        assert [e["frame_id"] for e in m.timeline()] == [2]
        assert m.frame("mv2://doc")["id"] == 2
        assert "tags: retagged" in m.frame(2, index_lines=True)["text"]
        assert f2["text"] == "version two"  # shown without the lines memvid appends for its index
    assert analyze(path).ok


@pytest.mark.req("R-FRM-004")
def test_delete_keeps_the_frame(path):
    with mv2.create(path) as m:
        m.put("keep me", timestamp=1)
        m.put("remove me", timestamp=2)
        m.delete(1)
    with mv2.open(path) as m:
        assert m.frame(1)["status"] == "deleted" and m.blob(1) == b"remove me"
        assert [e["frame_id"] for e in m.timeline()] == [0]


@pytest.mark.req("R-FRM-013")
def test_errors_leave_the_file_unchanged(path):
    with mv2.create(path) as m:
        m.put("one", timestamp=1)
        m.delete(0)
    before = sha(path)
    with mv2.open(path, "a") as m:
        with pytest.raises(NotFoundError):
            m.delete(7)
        with pytest.raises(UsageError, match="already deleted"):
            m.delete(0)
        with pytest.raises(UsageError, match="only an active frame"):
            m.supersede(0, "x", timestamp=3)
        with pytest.raises(UsageError, match="lone surrogate"):
            m.put("bad \ud800 text", timestamp=3)
        with pytest.raises(UsageError, match="64-bit"):
            m.put("too late", timestamp=1 << 63)
        with pytest.raises(UsageError, match="limit"):
            m.put("many tags", timestamp=3, tags=[str(i) for i in range(1025)])
        with pytest.raises(UsageError):
            m.put(12345, timestamp=3)
        with pytest.raises(UsageError, match="unknown put fields"):
            m.put_many([{"content": "x", "timestamp": 1, "colour": "red"}])
    assert sha(path) == before


def test_payload_over_the_limit_is_refused(path, monkeypatch):
    import mv2.entries

    monkeypatch.setattr(mv2.entries, "MAX_PAYLOAD", 10)
    with mv2.create(path) as m:
        with pytest.raises(UsageError, match="exceeds") as ei:
            m.put("eleven char", timestamp=1)
        assert ei.value.code == "MV2-E-LIMIT"
        assert m.frame_count == 0


def test_embedding_dimension_is_enforced(path):
    with mv2.create(path) as m:
        m.put("a", timestamp=1, embedding=[0.5, 0.25, 0.125])
        with pytest.raises(UsageError, match="dimension"):
            m.put("b", timestamp=2, embedding=[1.0, 2.0])
        with pytest.raises(UsageError, match="finite"):
            m.put("c", timestamp=2, embedding=[1.0, float("nan"), 2.0])
    with mv2.open(path) as m:
        assert m.vector(0) == [0.5, 0.25, 0.125]


def test_clock_is_explicit(path):
    ticks = iter(range(100, 200))
    with mv2.create(path, clock=lambda: next(ticks)) as m:
        m.put("a")
        m.put("b", timestamp=5)
    with mv2.open(path) as m:
        assert [f["timestamp"] for f in m.frames()] == [100, 5]


@pytest.mark.req("R-DUR-003")
def test_one_writer_at_a_time(path):
    mv2.create(path).close()
    first = mv2.open(path, "a")
    try:
        with pytest.raises(LockedError) as ei:
            mv2.open(path, "a")
        assert ei.value.code == "MV2-E-LOCKED"
        with mv2.open(path) as reader:  # readers are never blocked
            assert reader.frames() == []
    finally:
        first.close()
    mv2.open(path, "a").close()


def test_read_only_memory_refuses_writes(path):
    mv2.create(path).close()
    with mv2.open(path) as m:
        with pytest.raises(UsageError) as ei:
            m.put("x", timestamp=1)
        assert ei.value.code == "MV2-E-READ-ONLY"


def test_create_refuses_an_existing_file(path):
    mv2.create(path).close()
    with pytest.raises(UsageError, match="exists"):
        mv2.create(path)


def test_put_many_is_one_two_phase_append(path, monkeypatch):
    """A batch costs the two syncs of one append (spec 12.2), whatever its size."""
    import os

    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    with mv2.create(path) as m:
        calls.clear()
        ids = m.put_many([{"content": f"doc {i}", "timestamp": i} for i in range(50)])
        assert ids == list(range(50))
        assert len(calls) == 2
    assert analyze(path).ok


@pytest.mark.req("R-WAL-001")
def test_wal_grows_for_a_batch_larger_than_it(path):
    with mv2.create(path, wal_size=4096) as m:
        m.put("small", timestamp=1)
        big = "x" * 20000
        fid = m.put(big, uri="mv2://big", timestamp=2)
        assert m.stats()["wal_size"] == 32768
    a = analyze(path)
    assert a.ok, a.first_error
    with mv2.open(path) as m:
        assert m.blob(fid) == big.encode() and m.blob(0) == b"small"


def test_a_full_wal_grows_carrying_its_pending_records(path):
    with mv2.create(path, wal_size=4096) as m:
        for i in range(60):
            m.put(f"note number {i} " * 3, timestamp=i)
        st = m.stats()
        assert st["wal_size"] > 4096 and st["pending_frames"] == 60
        # One rewrite per doubling and no commit: nothing was re-indexed.
        assert st["generation"] == (st["wal_size"] // 4096).bit_length() - 1
    with mv2.open(path) as m:
        assert len(m.frames()) == 60 and m.frame(59)["text"].startswith("note number 59")
        assert m.stats()["pending_frames"] == 0
    assert analyze(path).ok


def test_past_the_growth_limit_a_full_wal_is_committed_then_reused(path):
    with mv2.create(path, wal_size=4096, wal_grow_limit=4096) as m:
        for i in range(60):
            m.put(f"note number {i} " * 3, timestamp=i)
        assert m.stats()["wal_size"] == 4096
        assert m.stats()["generation"] >= 2  # it committed on its own when the log filled
    with mv2.open(path) as m:
        assert len(m.frames()) == 60 and m.frame(59)["text"].startswith("note number 59")
    assert analyze(path).ok


# --- compaction (spec 12.6) ----------------------------------------------------------------------

def _logical(path) -> dict:
    """The canonical dump, plus what search returns: compaction must change neither."""
    with mv2.open(path) as m:
        d = m.dump()
        d["lex"] = [(h["frame_id"], h["snippet"]) for h in m.find("penicillin harbor", k=50)]
        if m.stats()["dimension"]:
            d["vec"] = [h["frame_id"] for h in m.find_vector([1.0] * m.stats()["dimension"], k=10)]
        return d


def _sealed_often(path, **policy) -> None:
    with mv2.create(path, wal_size=65536, **policy) as m:
        for i in range(40):
            m.put(f"note {i} about penicillin and the harbor ledger " * 4, uri=f"mv2://n/{i}", timestamp=1000 + i,
                  embedding=[float(i % 7), 1.0, float(i % 3), 0.5])
            if i % 3 == 2:
                m.delete(i - 1)
            m.seal()


@pytest.mark.req("R-DUR-004")
def test_compact_drops_dead_bytes_and_keeps_every_frame(path, tmp_path):
    _sealed_often(path, compact_min_dead=1 << 40)  # never on its own
    before, size = _logical(path), path.stat().st_size
    with mv2.open(path, "a") as m:
        gen = m.stats()["generation"]
        out = m.compact()
        assert m.stats()["generation"] == gen + 1
    assert out == {"before": size, "after": path.stat().st_size}
    assert out["after"] < size / 4  # forty commits' worth of indexes were dead
    assert _logical(path) == before  # deleted frames, statuses, payloads: all there
    a = analyze(path)
    assert a.ok and not a.warnings, (a.first_error, a.warnings)
    assert not [r for r in a.regions if r.kind == "gap"]
    assert before["lex"] and before["vec"]


@pytest.mark.req("R-DUR-004")
def test_automatic_compaction_bounds_the_file(path, tmp_path):
    other = tmp_path / "never.mv2"
    _sealed_often(path, compact_min_dead=0)
    _sealed_often(other, compact_min_dead=1 << 40)
    assert _logical(path) == _logical(other)
    a = analyze(path)
    live = sum(r.length for r in a.regions if r.kind not in ("gap", "header", "wal", "wal-record", "footer", "toc"))
    dead = sum(r.length for r in a.regions if r.kind == "gap")
    assert a.ok and dead <= live
    assert path.stat().st_size < other.stat().st_size / 3


def test_compaction_is_deterministic(tmp_path):
    a, b = tmp_path / "a.mv2", tmp_path / "b.mv2"
    _sealed_often(a, compact_min_dead=0)
    _sealed_often(b, compact_min_dead=0)
    assert sha(a) == sha(b)


@pytest.mark.req("R-WAL-014")
def test_growth_carries_pending_records_unchanged(path):
    with mv2.create(path, wal_size=4096) as m:
        m.put("committed", timestamp=1)
        m.seal()
        for i in range(30):
            m.put(f"pending {i} " * 5, timestamp=10 + i)
        with mv2.open(path) as r:  # another reader sees the grown file with the records pending
            assert r.stats()["wal_size"] > 4096
            assert [f["pending"] for f in r.frames()] == [False] + [True] * 30
    assert [f["text"].split()[0] for f in mv2.open(path).frames()] == ["committed"] + ["pending"] * 30


@pytest.mark.req("R-DUR-004")
@pytest.mark.parametrize("name", ["memvid-sdk-2.0.160/vectors-8d", "memvid-sdk-2.0.160/put-loop",
                                  "memvid-sdk-2.0.160/deleted", "memvid-sdk-2.0.123/vectors-1200",
                                  "memvid-sdk-2.0.123/session"])
def test_compacting_a_file_memvid_wrote(tmp_path, name):
    import shutil

    from conftest import GOLD

    path = tmp_path / "m.mv2"
    shutil.copy(GOLD / f"{name}.mv2", path)
    before_warnings = {w.code for w in analyze(path).warnings}
    with mv2.open(path, "a") as m:
        m.seal()
    before = _logical(path)
    with mv2.open(path, "a") as m:
        out = m.compact()
    assert out["after"] <= out["before"]
    assert _logical(path) == before
    a = analyze(path)
    assert a.ok, a.first_error
    assert {w.code for w in a.warnings} <= before_warnings


@pytest.mark.req("R-DUR-005")
def test_a_writer_reopens_a_file_replaced_under_it(path, monkeypatch):
    """Between our open and our lock, another writer's compaction replaced the file (R-DUR-005)."""
    import os

    from mv2.storage import file as sfile

    _sealed_often(path, compact_min_dead=1 << 40)
    real_lock = sfile.lock_exclusive
    replaced = []

    def lock_after_a_rename(fd, p):
        if not replaced:
            replaced.append(True)
            with mv2.open(path, "a") as other:
                other.compact()  # renames a new file over the path; our fd now names the old one
        real_lock(fd, p)
    monkeypatch.setattr(sfile, "lock_exclusive", lock_after_a_rename)
    with mv2.open(path, "a") as m:
        assert sfile.is_current(m._file.fd, path)
        m.put("written after the race", uri="mv2://race", timestamp=5000)
    monkeypatch.undo()
    assert replaced and _logical(path)["frames"][-1]["uri"] == "mv2://race"
    with mv2.open(path) as m:
        assert m.frame("mv2://race")["text"].startswith("written after the race")
    assert os.path.exists(path) and analyze(path).ok


def test_put_without_timestamp_records_the_current_time(path):
    import time

    before = int(time.time())
    with mv2.create(path) as m:
        m.put("now")
    after = int(time.time())
    with mv2.open(path) as m:
        assert before <= m.frame(0)["timestamp"] <= after
    with mv2.create(path, overwrite=True, clock=lambda: 42) as m:
        m.put("from the clock")
        m.put("explicit", timestamp=7)
    with mv2.open(path) as m:
        assert [f["timestamp"] for f in m.frames()] == [42, 7]


def test_create_over_an_existing_file_needs_overwrite(path):
    with mv2.create(path) as m:
        m.put("old", timestamp=1)
    with pytest.raises(UsageError, match="already exists"):
        mv2.create(path)
    with mv2.open(path) as m:
        assert m.frame_count == 1  # untouched
    with mv2.create(path, overwrite=True) as m:
        m.put("new", timestamp=2)
    with mv2.open(path) as m:
        assert [f["text"] for f in m.frames()] == ["new"]
    with mv2.open(path, "a"):
        from mv2 import LockedError

        with pytest.raises(LockedError):
            mv2.create(path, overwrite=True)  # never under another writer
    assert mv2.open(path).frame_count == 1


def test_a_small_memory_stays_small(path):
    with mv2.create(path) as m:
        m.put("The user is allergic to penicillin.", timestamp=1)
        m.put("The user lives in Lisbon.", timestamp=2)
    assert path.stat().st_size < 100_000  # the default WAL is 64 KiB
    with mv2.open(path, "a") as m:  # a bigger session grows the WAL, and gives the room back at close
        m.put_many([{"content": f"note {i} " + "x" * 500, "timestamp": i} for i in range(400)])
        assert m.stats()["wal_size"] > mv2.DEFAULT_WAL_SIZE
    with mv2.open(path) as m:
        assert m.stats()["wal_size"] == mv2.DEFAULT_WAL_SIZE and m.frame_count == 402


def test_a_writer_reloads_its_own_commit_without_reading_the_toc_back(tmp_path, monkeypatch):
    """After a commit, the writer's snapshot takes the TOC bytes it wrote (their footer is found
    in place, with their hash) instead of reading and hashing them again; a commit it did not
    write is read from the file."""
    from mv2.storage.source import Source
    from mv2.storage.snapshot import read_snapshot

    path = tmp_path / "w.mv2"
    m = mv2.create(path)
    m.put_many([{"content": f"note {i}", "timestamp": i} for i in range(200)])
    reads = []
    real = Source._bytes
    monkeypatch.setattr(Source, "_bytes", lambda self, o, n: reads.append((o, n)) or real(self, o, n))
    m.seal()
    c = m._snap.commit
    assert (c.toc_offset, c.toc_len) not in reads
    assert [e["frame_id"] for e in m.timeline(limit=3)] == [0, 1, 2]
    off, toc_bytes, value = m._file.last_toc
    m.close()
    # Another TOC at that place (same length, other bytes): the footer's hash does not match, so
    # the file's own bytes are read and decoded, not the ones offered.
    other = bytearray(toc_bytes)
    other[10] ^= 1
    reads.clear()
    snap = read_snapshot(path, known_toc=(off, bytes(other), value))
    assert (off, len(toc_bytes)) in reads and len(snap.frames) == 200
    snap.close()


def test_opening_for_writing_reads_the_file_once_unless_it_repairs_it(tmp_path, monkeypatch):
    """A clean file is read once when opened for writing; one that recovery changes (here a
    torn WAL tail is cut) is read again, so the memory shows the file as it now is."""
    import mv2.memory as memory

    path = tmp_path / "o.mv2"
    with mv2.create(path) as m:
        m.put("a committed note", timestamp=1)
    reads = []
    real = memory.read_snapshot
    monkeypatch.setattr(memory, "read_snapshot", lambda *a, **k: reads.append(1) or real(*a, **k))
    with mv2.open(path, "a") as m:
        assert m.recovery == {"pending_records": 0, "torn_tail": None, "header_was_stale": False}
        assert [e["frame_id"] for e in m.timeline()] == [0]
    assert reads == []  # WritableFile.open's own read; the memory did not read it again
    # An append that stopped in its first bytes, after the last commit: recovery cuts it.
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(b"\x01" * 20)  # the start of a record that never finished
    with mv2.open(path, "a") as m:
        assert m.recovery["torn_tail"] is not None and m.recovery["pending_records"] == 0
        assert len(reads) == 1  # read again after the repair
        assert [e["frame_id"] for e in m.timeline()] == [0]
        m.put("a second note", timestamp=2)
    with mv2.open(path) as m:
        assert [e["frame_id"] for e in m.timeline()] == [0, 1]
