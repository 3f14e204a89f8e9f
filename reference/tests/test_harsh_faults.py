"""The harsh fault model of spec 12.1, in the test suite: nothing acknowledged is lost,
nothing wrong is read.

* **Sector-level crash states.** A scenario runs once under a recording file layer; every
  prefix of its system calls, with unsynced sectors kept or lost in many combinations, torn
  writes and undone directory changes, is rebuilt as files on disk (``crashmodel``). Each
  must open read-only showing an acknowledged state (or that plus the operation in flight),
  recover to the same state, and verify, with no stray file left.
* **I/O errors, then more use.** EIO, ENOSPC and EFBIG at every write and sync; the scenario
  goes on with the same handle; then the machine crashes.
* **A reader at every write point** of a writer, and a live reader in another process.
* **Kills during large batches**, a directory the writer cannot write, files truncated,
  replaced or removed underneath readers and writers.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import mv2
import mv2.storage.file as sfile
from mv2.storage.verify import analyze

from crashmodel import Recorder, crash_states, materialise

NAME = "m.mv2"


def normalised(dump: dict) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "pending"} for f in dump["frames"]]


def scenario(m, ack):
    m.put("document 0 about penicillin", uri="mv2://d/0", timestamp=100, tags=["t0"])
    ack()
    m.put("document 1 about aspirin", uri="mv2://d/1", timestamp=101)
    ack()
    m.seal()
    ack()
    m.delete(1)
    ack()
    m.supersede(0, "document 0, second version", timestamp=200)
    ack()
    m.put_many([{"content": f"batch item {i} " + "z" * 300, "timestamp": 300 + i} for i in range(4)])
    ack()
    m.put("x" * 3000, uri="mv2://big", timestamp=400)  # larger than the WAL: it grows
    ack()
    m.seal()
    ack()


POLICIES = {"grow": {}, "commit-and-compact": {"wal_grow_limit": 2048, "compact_min_dead": 0}}


def record(tmp_path, monkeypatch, policy) -> tuple[Recorder, list[list[dict]]]:
    d = tmp_path / "rec"
    d.mkdir()
    rec = Recorder(str(d))
    monkeypatch.setattr(sfile, "OS", rec)
    states: list[list[dict]] = []
    m = mv2.create(d / NAME, wal_size=2048, **policy)

    def ack():
        rec.ack()
        states.append(normalised(m.dump()))

    ack()
    scenario(m, ack)
    final = normalised(m.dump())
    m.close()
    rec.ack()
    states.append(final)
    monkeypatch.setattr(sfile, "OS", sfile.OSLayer())
    return rec, states


def judge(state, states, work) -> str | None:
    """None if the crash state is acceptable, else why not."""
    materialise(state, str(work))
    path = work / NAME
    allowed = [states[i] for i in (state.acked - 1, state.acked) if 0 <= i < len(states)]
    if not path.exists():
        return None if state.acked == 0 else "the file is gone"
    try:
        with mv2.open(path) as r:
            seen = normalised(r.dump())
    except mv2.MV2Error as exc:
        if state.acked == 0 and exc.code in ("MV2-E-FILE-SHORT", "MV2-E-FTR-MISSING", "MV2-E-HDR-MAGIC"):
            return None  # the create was in flight
        return f"read-only open failed: {exc}"
    if seen not in allowed:
        return f"read-only open shows {len(seen)} frames, not an acknowledged state"
    try:
        m = mv2.open(path, "a")
        recovered = normalised(m.dump())
        m.close()
    except mv2.MV2Error as exc:
        return f"recovery failed: {exc}"
    if recovered != seen:
        return "recovery gave a different state than the read-only open"
    a = analyze(path)
    if not a.ok:
        return f"the recovered file does not verify: {a.first_error}"
    stray = sorted(set(os.listdir(work)) - {NAME})
    if stray:
        return f"files left beside the memory: {stray}"
    return None


def sweep(tmp_path, monkeypatch, policy, *, seed, random_per_point, singles, cuts) -> dict:
    rec, states = record(tmp_path, monkeypatch, policy)
    counts = {"states": 0, "lost": 0}
    failures = []
    for st in crash_states(rec, seed=seed, random_per_point=random_per_point, singles=singles, cuts=cuts):
        counts["states"] += 1
        why = judge(st, states, tmp_path / "work")
        if why:
            counts["lost"] += 1
            failures.append(f"point {st.point} ({rec.ops[st.point - 1].kind if st.point else '-'}), {st.label}: {why}")
    assert not failures, f"{len(failures)} of {counts['states']} crash states fail:\n" + "\n".join(failures[:20])
    return counts


@pytest.mark.req("R-DUR-001", "R-DUR-002", "R-WAL-015")
@pytest.mark.parametrize("policy", POLICIES)
def test_sector_level_crash_states(tmp_path, monkeypatch, policy):
    counts = sweep(tmp_path, monkeypatch, POLICIES[policy], seed=1, random_per_point=1, singles=1, cuts=2)
    assert counts["states"] > 150


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 4])
@pytest.mark.parametrize("policy", POLICIES)
def test_sector_level_crash_states_long(tmp_path, monkeypatch, policy, seed):
    counts = sweep(tmp_path, monkeypatch, POLICIES[policy], seed=seed, random_per_point=12, singles=6, cuts=10)
    print(f"{policy} seed {seed}: {counts}")


# -- I/O errors, then more use of the same handle, then a crash ----------------------------------

OPS = [
    ("put", dict(content="alpha penicillin", uri="mv2://a", timestamp=1)),
    ("put", dict(content="beta aspirin", uri="mv2://b", timestamp=2)),
    ("seal", {}),
    ("delete", dict(frame_id=1)),
    ("put_many", dict(items=[{"content": f"gamma {i}", "timestamp": 10 + i} for i in range(3)])),
    ("supersede", dict(frame_id=0, content="alpha v2", timestamp=20)),
    ("put", dict(content="y" * 2500, timestamp=30)),
    ("seal", {}),
    ("put", dict(content="delta", timestamp=40)),
]


def apply_op(m, op):
    kind, args = op
    if kind == "put":
        m.put(**args)
    elif kind == "put_many":
        m.put_many(args["items"])
    elif kind == "delete":
        m.delete(args["frame_id"])
    elif kind == "supersede":
        m.supersede(args["frame_id"], args["content"], timestamp=args["timestamp"])
    elif kind == "seal":
        m.seal()


def clean_state(tmp_path, ops, name) -> list[dict]:
    p = tmp_path / name
    with mv2.create(p, wal_size=2048) as m:
        for op in ops:
            apply_op(m, op)
        return normalised(m.dump())


def fault_points(tmp_path) -> list[str]:
    seen: list[str] = []
    m = mv2.create(tmp_path / "count.mv2", wal_size=2048)
    m._file.fault = seen.append
    for op in OPS:
        apply_op(m, op)
    m.close()
    return seen


@pytest.mark.req("R-DUR-001", "R-DUR-008")
@pytest.mark.parametrize("err", [errno.EIO, pytest.param(errno.ENOSPC, marks=pytest.mark.slow),
                                 pytest.param(errno.EFBIG, marks=pytest.mark.slow)])
def test_io_error_at_every_point_then_more_use_then_crash(tmp_path, monkeypatch, err):
    points = fault_points(tmp_path)
    stats = {"runs": 0, "states": 0, "refused_after_failure": 0}
    for k in range(len(points)):
        d = tmp_path / f"run{k}"
        d.mkdir()
        rec = Recorder(str(d))
        monkeypatch.setattr(sfile, "OS", rec)
        m = mv2.create(d / NAME, wal_size=2048)
        count = {"n": 0}

        def hook(point, k=k):
            count["n"] += 1
            if count["n"] == k + 1:
                raise OSError(err, os.strerror(err))

        m._file.fault = hook
        acked, failed = [], None
        for op in OPS:
            try:
                apply_op(m, op)
            except mv2.UsageError:
                continue  # an earlier refused put shifted the ids: this operation does not apply
            except mv2.StorageIOError as exc:
                if failed is None:
                    failed = op
                else:
                    assert exc.code == "MV2-E-IO-FAILED", exc
                    stats["refused_after_failure"] += 1
                continue
            if failed is not None and m._file.failed is not None:
                pytest.fail(f"point {k}: an operation was acknowledged after the handle failed")
            acked.append(op)
        in_memory = normalised(m.dump())
        m._file.closed = True  # the process dies: nothing more is written
        os.close(m._file.fd)
        monkeypatch.setattr(sfile, "OS", sfile.OSLayer())
        # The handle's state never runs ahead of the disk: it is the acknowledged operations.
        assert in_memory == clean_state(tmp_path, [o for o in acked], f"c{k}.mv2")
        allowed = [in_memory]
        if failed is not None and failed[0] != "seal":
            allowed.append(clean_state(tmp_path, acked + [failed], f"f{k}.mv2"))
        variants = 1 if err == errno.EIO else 4
        for st in crash_states(rec, seed=k, random_per_point=variants, singles=variants - 1, cuts=variants - 1,
                               points=[len(rec.ops)]):
            stats["states"] += 1
            work = tmp_path / "work"
            materialise(st, str(work))
            with mv2.open(work / NAME) as r:
                seen = normalised(r.dump())
            assert seen in allowed, f"point {k} ({points[k]}), {st.label}: read-only view is not acknowledged"
            m2 = mv2.open(work / NAME, "a")
            assert normalised(m2.dump()) == seen, f"point {k}, {st.label}"
            m2.close()
            assert analyze(work / NAME).ok
        stats["runs"] += 1
    print(f"{errno.errorcode[err]}: {stats}")
    assert stats["runs"] == len(points) and stats["states"] >= len(points)


def test_failed_wal_append_uses_no_sequence_number(tmp_path):
    """Finding: a failed append used up a sequence number, the next put was acknowledged,
    and recovery then dropped it as a torn tail."""
    path = tmp_path / NAME
    m = mv2.create(path)
    m.put("one", timestamp=1)
    fail = {"on": True}

    def hook(point):
        if fail["on"] and point in ("wal-write", "wal-sync"):
            fail["on"] = False
            raise OSError(errno.ENOSPC, "No space left on device")

    m._file.fault = hook
    with pytest.raises(mv2.StorageIOError):
        m.put("refused", timestamp=2)
    m.put("two", timestamp=3)  # phase 1 failed: the handle is still usable
    m._file.closed = True
    os.close(m._file.fd)
    a = analyze(path)
    assert a.ok, a.first_error
    with mv2.open(path, "a") as r:
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["one", "two"]


def test_io_error_during_seal_then_put_is_refused_not_lost(tmp_path):
    """Finding: a put acknowledged after a failed seal was invisible to readers and lost."""
    path = tmp_path / NAME
    m = mv2.create(path)
    m.put("one", timestamp=1)

    def hook(point):
        if point == "wal-reset-sync":
            raise OSError(errno.EIO, "Input/output error")

    m._file.fault = hook
    with pytest.raises(mv2.StorageIOError):
        m.seal()
    with pytest.raises(mv2.StorageIOError) as exc:
        m.put("two", timestamp=2)
    assert exc.value.code == "MV2-E-IO-FAILED"
    m.close()  # releases without writing
    with mv2.open(path) as r:
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["one"]
    with mv2.open(path, "a") as w:
        w.put("two", timestamp=2)
    with mv2.open(path) as r:
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["one", "two"]


# -- damage is damage, not a torn tail ---------------------------------------------------------------

def pending_file(tmp_path, n=5) -> tuple[str, list[int]]:
    path = str(tmp_path / NAME)
    m = mv2.create(path)
    for i in range(n):
        m.put(f"record {i}", timestamp=i)
    offsets = [r.offset for r in m._snap.wal.records] if m._snap.wal.records else []
    m._file.closed = True
    os.close(m._file.fd)
    with mv2.open(path) as r:
        offsets = [r._snap.header["wal_offset"] + x.offset for x in r._snap.wal.records]
    return path, offsets


@pytest.mark.req("R-WAL-016")
def test_damage_in_the_middle_of_the_wal_is_not_a_torn_tail(tmp_path):
    path, offs = pending_file(tmp_path)
    data = bytearray(open(path, "rb").read())
    data[offs[1] + 48 + 3] ^= 0x10  # the 2nd of 5 pending records
    open(path, "wb").write(bytes(data))
    with pytest.raises(mv2.CorruptFileError) as exc:
        mv2.open(path)
    assert exc.value.code == "MV2-E-WAL-DAMAGED" and exc.value.offset == offs[1]
    with pytest.raises(mv2.CorruptFileError):
        mv2.open(path, "a")  # recovery refuses: the records after it were acknowledged
    assert open(path, "rb").read() == bytes(data)  # and changed nothing
    a = analyze(path)
    assert not a.ok and a.first_error.code == "MV2-E-WAL-DAMAGED"
    with mv2.open(path, "a", salvage=True) as m:
        assert [f["text"].split("\n")[0] for f in m.frames()] == ["record 0"]
        assert m.recovery["salvaged"]["intact_records_dropped"] == 3
    assert analyze(path).ok


@pytest.mark.req("R-WAL-015", "R-DUR-009")
def test_a_torn_tail_is_readable_without_write_access(tmp_path):
    path, offs = pending_file(tmp_path, 3)
    data = bytearray(open(path, "rb").read())
    data[offs[2] + 48 + 2] ^= 0x01  # the last record, as a torn write leaves it
    open(path, "wb").write(bytes(data))
    with mv2.open(path) as r:  # read-only: every durable record, no error
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["record 0", "record 1"]
    a = analyze(path)
    assert a.ok and [w.code for w in a.warnings] == ["MV2-W-NEEDS-RECOVERY"]
    with mv2.open(path, "a") as m:
        assert [f["text"].split("\n")[0] for f in m.frames()] == ["record 0", "record 1"]


@pytest.mark.req("R-DUR-006")
def test_a_damaged_last_commit_is_never_silently_rolled_back(tmp_path):
    path = str(tmp_path / NAME)
    with mv2.create(path) as m:
        m.put("first", timestamp=1)
        m.seal()
        m.put("second", timestamp=2)
    with mv2.open(path) as r:
        toc = r._snap.commit.toc_offset
    data = bytearray(open(path, "rb").read())
    data[toc + 5] ^= 0x04  # one bit in the last commit's TOC
    open(path, "wb").write(bytes(data))
    for opener in (lambda: mv2.open(path), lambda: mv2.open(path, "a")):
        with pytest.raises(mv2.CorruptFileError) as exc:
            opener()
        assert exc.value.code == "MV2-E-COMMIT-LOST"
    assert open(path, "rb").read() == bytes(data)
    assert analyze(path).first_error.code == "MV2-E-COMMIT-LOST"
    with mv2.open(path, rollback=True) as r:  # explicit: the previous commit
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["first"]


def test_wal_sequence_at_the_limit_is_refused_on_open(tmp_path):
    import struct

    path = str(tmp_path / NAME)
    with mv2.create(path) as m:
        m.put("x", timestamp=1)
    data = bytearray(open(path, "rb").read())
    data[40:48] = struct.pack("<Q", (1 << 64) - 1)
    open(path, "wb").write(bytes(data))
    with pytest.raises(mv2.MV2Error) as exc:
        mv2.open(path, "a")
    assert exc.value.code == "MV2-E-HDR-CHECKPOINT"


def test_zeroed_first_wal_header_is_reported(tmp_path):
    path, offs = pending_file(tmp_path, 3)
    data = bytearray(open(path, "rb").read())
    data[offs[0]:offs[0] + 48] = bytes(48)
    open(path, "wb").write(bytes(data))
    a = analyze(path)
    assert "MV2-W-WAL-HIDDEN" in [w.code for w in a.warnings]


# -- readers next to a writer ---------------------------------------------------------------------

@pytest.mark.req("R-DUR-007")
def test_a_reader_at_every_write_point_sees_an_acknowledged_state(tmp_path):
    path = tmp_path / NAME
    states: list[list[dict]] = []
    m = mv2.create(path, wal_size=2048, compact_min_dead=0)
    states.append(normalised(m.dump()))
    views: list[tuple[int, str, list[dict]]] = []

    def reader(point):
        with mv2.open(path) as r:
            views.append((len(states), point, normalised(r.dump())))

    m._file.fault = reader

    def ack():
        states.append(normalised(m.dump()))

    scenario(m, ack)
    m._file.fault = lambda p: None
    m.close()
    assert len(views) > 30
    for n, point, seen in views:
        assert seen in states[n - 1: n + 1], f"at {point} after {n - 1} acknowledgements: not an acknowledged state"
    print(f"reader at every write point: {len(views)} views, all acknowledged states")


WRITER = r"""
import sys, mv2
path = sys.argv[1]
m = mv2.open(path, "a")
for i in range(int(sys.argv[2])):
    m.put(f"doc {i}", timestamp=i)
    if i % 7 == 6:
        m.seal()
    print(i, flush=True)
m.close()
"""


@pytest.mark.req("R-DUR-007")
def test_a_reader_in_another_process_never_sees_wrong_frames(tmp_path):
    path = str(tmp_path / NAME)
    mv2.create(path, wal_size=4096, compact_min_dead=0).close()
    n = 120
    w = subprocess.Popen([sys.executable, "-c", WRITER, path, str(n)], stdout=subprocess.PIPE, text=True)
    reads = 0
    deadline = time.time() + 60
    while w.poll() is None and time.time() < deadline:
        try:
            with mv2.open(path) as r:
                texts = [f["text"].split("\n")[0] for f in r.frames()]
        except mv2.StorageIOError as exc:
            assert exc.code == "MV2-E-BUSY", exc
            continue
        assert texts == [f"doc {i}" for i in range(len(texts))], texts[-3:]
        reads += 1
    w.wait(timeout=60)
    print(f"reader in another process: {reads} reads during {n} puts, 0 wrong")
    assert w.returncode == 0 and reads > 5
    with mv2.open(path) as r:
        assert len(r.frames()) == n


BATCH = r"""
import sys, mv2
path = sys.argv[1]
m = mv2.open(path, "a")
print("ready", flush=True)
m.put_many([{"content": f"item {i} " + "q" * 400_000, "timestamp": i} for i in range(40)])
print("acked", flush=True)
m.close()
"""


@pytest.mark.req("R-DUR-002")
@pytest.mark.parametrize("kills", [pytest.param(4, id="short"), pytest.param(40, id="long", marks=pytest.mark.slow)])
def test_sigkill_during_a_large_batch_is_all_or_nothing(tmp_path, kills):
    import random

    rng = random.Random(kills)
    outcomes = {0: 0, 40: 0}
    for k in range(kills):
        path = str(tmp_path / f"b{k}.mv2")
        with mv2.create(path) as m:
            m.put("committed", timestamp=0)
        p = subprocess.Popen([sys.executable, "-c", BATCH, path], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        p.send_signal(signal.SIGKILL)
        rest = p.stdout.read()
        p.wait()
        with mv2.open(path, "a") as m:
            got = len(m.frames()) - 1
        assert got in (0, 40), f"kill {k}: {got} of 40 batch items survived"
        if "acked" in rest:
            assert got == 40
        outcomes[got] += 1
    print(f"SIGKILL mid-batch: {kills} kills, outcomes (items of 40 kept: runs) {outcomes}")
    assert sum(outcomes.values()) == kills


# -- the file changes underneath ---------------------------------------------------------------------

def test_a_writer_notices_its_file_replaced_or_removed(tmp_path):
    for how in ("replace", "remove", "truncate"):
        path = str(tmp_path / f"{how}.mv2")
        m = mv2.create(path)
        m.put("one", timestamp=1)
        if how == "replace":
            with mv2.create(path + ".other") as o:
                o.put("other", timestamp=1)
            os.replace(path + ".other", path)
        elif how == "remove":
            os.unlink(path)
        else:
            os.truncate(path, 4096)
        with pytest.raises(mv2.StorageIOError) as exc:
            m.put("two", timestamp=2)
        assert exc.value.code == "MV2-E-FILE-CHANGED", how
        m.close()


def test_a_reader_whose_file_shrinks_gets_an_error_not_a_signal(tmp_path):
    path = str(tmp_path / NAME)
    with mv2.create(path) as m:
        for i in range(20):
            m.put(f"doc {i} " + "w" * 5000, timestamp=i)
    r = mv2.open(path)
    os.truncate(path, 8192)
    with pytest.raises(mv2.MV2Error) as exc:
        for f in r.frames():
            r.blob(f["id"])
    assert exc.value.code in ("MV2-E-FILE-CHANGED", "MV2-E-SEG-BOUNDS")
    r.close()
    with pytest.raises(mv2.MV2Error):
        mv2.open(path)


class ReadOnlyDir(sfile.OSLayer):
    """A directory the writer cannot create or remove files in (as root, chmod does not stop us)."""

    def open(self, path, flags, mode=0o644):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return super().open(path, flags, mode)

    def unlink(self, path):
        raise PermissionError(errno.EACCES, "Permission denied", path)


def test_a_read_only_directory_gives_clear_errors_and_fallbacks(tmp_path, monkeypatch):
    path = str(tmp_path / NAME)
    with mv2.create(path, wal_size=1024) as m:
        m.put("seed", timestamp=0)
    open(path + sfile.GROW_SUFFIX, "wb").write(b"leftover")
    monkeypatch.setattr(sfile, "OS", ReadOnlyDir())
    m = mv2.open(path, "a", compact_min_dead=0)  # a leftover image it cannot remove is left alone
    for i in range(5):
        m.put(f"doc {i} " + "v" * 600, timestamp=i + 1)  # the WAL cannot grow: it commits instead
    m.seal()  # due to compact, which cannot: an append commit instead
    assert m.compaction_error is not None
    with pytest.raises(mv2.StorageIOError) as exc:
        m.compact()
    assert exc.value.code == "MV2-E-IO"
    m.close()
    monkeypatch.setattr(sfile, "OS", sfile.OSLayer())
    with mv2.open(path) as r:
        assert len(r.frames()) == 6
    assert analyze(path).ok


def test_a_killed_create_leaves_no_file_at_the_path(tmp_path):
    class Die(BaseException):
        pass

    path = str(tmp_path / NAME)

    def hook(point):
        if point == "create-sync":
            raise Die

    with pytest.raises(Die):
        mv2.create(path, fault=hook)
    assert not os.path.exists(path)
    with mv2.create(path) as m:  # the leftover temporary file does not stand in the way
        m.put("x", timestamp=1)
    assert sorted(os.listdir(tmp_path)) == [NAME]


@pytest.mark.req("R-FRM-008")
def test_decompressed_bytes_are_bounded_by_the_file_size(tmp_path):
    import zstandard

    path = str(tmp_path / NAME)
    with mv2.create(path) as m:
        m.put("small", timestamp=1)
    # A frame whose 32 KB zstd payload expands to 1 GiB, in a file of about 1 MB.
    bomb = zstandard.ZstdCompressor(level=19).compress(bytes(1 << 30))
    assert len(bomb) < 64 << 10
    from mv2.storage.snapshot import read_snapshot

    with read_snapshot(path) as s:
        fs = s.frames[0]
        fs.inline_payload = bomb
        fs.fields = dict(fs.fields, canonical_encoding="zstd", canonical_length=1 << 30, payload_length=len(bomb))
        with pytest.raises(mv2.MV2Error) as exc:
            s.canonical_payload(fs)
        assert exc.value.code == "MV2-E-LIMIT"
        with pytest.raises(mv2.MV2Error) as exc:
            b"".join(s.iter_canonical(fs))
        assert exc.value.code == "MV2-E-LIMIT"


def test_chunked_hash_equals_the_whole_one(tmp_path):
    """Verify hashes regions in bounded chunks (storage/source.py); the digest is the same."""
    import blake3

    from mv2.storage import source as S

    data = os.urandom(3 * 1000 + 17)
    p = tmp_path / "bytes"
    p.write_bytes(data)
    old = S._HASH_CHUNK
    S._HASH_CHUNK = 1000
    try:
        with S.Source.open(p) as src:
            assert src.blake3(5, len(data) - 5, what="x") == blake3.blake3(data[5:]).digest()
            with pytest.raises(mv2.MV2Error):
                src.blake3(5, len(data), what="x")
    finally:
        S._HASH_CHUNK = old
