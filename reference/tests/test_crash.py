"""Crash safety, tested by crashing: no acknowledged operation is ever lost.

Two methods:

* **Every point, with power loss.** A scenario runs with a hook that stops it before its
  k-th write or sync, for every k. Writes not yet synced are then undone, as if the machine
  lost power (the worst case a correct sync discipline must survive). The file is reopened for
  writing, which recovers it, and must contain exactly the operations acknowledged before the
  crash, or those plus the one in flight. It must then verify.
* **Real kills.** A child process writes and reports each acknowledged operation; the parent
  kills it with SIGKILL at a random moment and checks the file the same way.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

import mv2
import mv2.storage.file as sfile
from mv2.storage.verify import analyze


class Crash(BaseException):
    """Stops the writer mid-operation, like a process that dies."""


class PowerLoss:
    """Journals every write since the last sync so a crash can undo the unsynced ones."""

    def __init__(self, monkeypatch):
        self.journal: list[tuple[int, int, bytes, int]] = []
        real_pwrite, real_fsync = sfile._pwrite_all, os.fsync

        def pwrite_all(fd, data, offset):
            size = os.fstat(fd).st_size
            old = os.pread(fd, len(data), offset)
            self.journal.append((fd, offset, old, size))
            real_pwrite(fd, data, offset)

        def fsync(fd):
            real_fsync(fd)
            self.journal = [j for j in self.journal if j[0] != fd]

        monkeypatch.setattr(sfile, "_pwrite_all", pwrite_all)
        monkeypatch.setattr(os, "fsync", fsync)
        self._real_pwrite = real_pwrite

    def lose_unsynced(self):
        for fd, offset, old, size in reversed(self.journal):
            try:
                self._real_pwrite(fd, old, offset)
                os.ftruncate(fd, size)
            except OSError:
                pass  # the descriptor's file was replaced (a rename); nothing to undo there
        self.journal.clear()


def scenario(m, ack):
    """Puts, a seal, a delete, a supersede, a batch, a growth of the WAL, a final seal."""
    for i in range(3):
        m.put(f"document {i} about penicillin", uri=f"mv2://d/{i}", timestamp=100 + i, tags=[f"t{i}"])
        ack()
    m.seal()
    ack()
    m.delete(1)
    ack()
    m.supersede(0, "document 0, second version", timestamp=200)
    ack()
    m.put_many([{"content": f"batch {i}", "timestamp": 300 + i} for i in range(4)])
    ack()
    m.put("x" * 6000, uri="mv2://big", timestamp=400)  # larger than the WAL: it grows
    ack()
    m.seal()
    ack()


def normalised(dump: dict) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "pending"} for f in dump["frames"]]


# Writer policies the crash sweep runs under: the default (a full WAL grows, carrying its
# pending records), and one that commits whenever the WAL fills and compacts after every
# commit that leaves dead bytes, so that compaction's rewrite is crashed at every point too.
POLICIES = {"grow": {}, "commit-and-compact": {"wal_grow_limit": 2048, "compact_min_dead": 0}}


def expected_states(tmp_path, policy) -> list[list[dict]]:
    """The logical state after each acknowledged step of a run without crashes."""
    states = []
    m = mv2.create(tmp_path / "clean.mv2", wal_size=2048, **policy)
    states.append(normalised(m.dump()))
    scenario(m, lambda: states.append(normalised(m.dump())))
    m.close()
    return states


def count_points(tmp_path, policy) -> tuple[int, set[str]]:
    seen: list[str] = []
    m = mv2.create(tmp_path / "count.mv2", wal_size=2048, fault=seen.append, **policy)
    scenario(m, lambda: None)
    m.close()
    return len(seen), set(seen)


def abandon(m) -> None:
    """Drop a memory without letting it write anything more (the process is 'dead')."""
    if m is not None and m._file is not None and not m._file.closed:
        os.close(m._file.fd)
        m._file.closed = True


@pytest.mark.req("R-WAL-009", "R-WAL-010", "R-WAL-012", "R-DUR-001", "R-DUR-002")
@pytest.mark.parametrize("policy", POLICIES)
def test_crash_at_every_write_and_sync_point_with_power_loss(tmp_path, monkeypatch, policy):
    states = expected_states(tmp_path, POLICIES[policy])
    total, points = count_points(tmp_path, POLICIES[policy])
    assert total > 30
    assert {"grow-write", "grow-sync", "grow-rename"} <= points
    if policy == "commit-and-compact":
        assert {"compact-write", "compact-sync", "compact-rename"} <= points
    outcomes = {"exact": 0, "plus_in_flight": 0, "nothing_written": 0}
    for k in range(total):
        d = tmp_path / f"crash{k}"
        d.mkdir()
        path = d / "m.mv2"
        power = PowerLoss(monkeypatch)
        calls = [0]
        acked = [0]

        def hook(point, k=k):
            if calls[0] == k:
                raise Crash(point)
            calls[0] += 1
        m = None
        try:
            m = mv2.create(path, wal_size=2048, fault=hook, **POLICIES[policy])
            scenario(m, lambda: acked.__setitem__(0, acked[0] + 1))
            m.close()
        except Crash:
            pass
        power.lose_unsynced()
        abandon(m)
        monkeypatch.undo()
        if not path.exists() or os.path.getsize(path) < 4096 + 2048 + 56:
            assert acked[0] == 0, f"crash point {k}: file lost after {acked[0]} acknowledged steps"
            outcomes["nothing_written"] += 1
            continue
        try:
            with mv2.open(path, "a") as rec:
                got = normalised(rec.dump())
        except mv2.CorruptFileError:
            # Only acceptable if the crash hit the file's creation, before anything was acknowledged.
            assert acked[0] == 0, f"crash point {k}: unrecoverable after {acked[0]} acknowledged steps"
            outcomes["nothing_written"] += 1
            continue
        n = acked[0]
        if got == states[n]:
            outcomes["exact"] += 1
        else:
            assert n + 1 < len(states) and got == states[n + 1], f"crash point {k} (after {n} acks): state lost or corrupted"
            outcomes["plus_in_flight"] += 1
        a = analyze(path)
        assert a.ok, f"crash point {k}: {a.first_error}"
        assert not os.path.exists(str(path) + sfile.GROW_SUFFIX)
    assert outcomes["exact"] > 0 and sum(outcomes.values()) == total


def test_io_error_mid_commit_leaves_the_last_commit_readable(tmp_path):
    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        m.put("committed", timestamp=1)
    fail = {"on": False}

    def hook(point):
        if fail["on"] and point == "commit-write":
            raise OSError(28, "No space left on device")
    m = mv2.open(path, "a", fault=hook)
    m.put("acknowledged but not committed", timestamp=2)
    fail["on"] = True
    with pytest.raises(mv2.StorageIOError, match="No space left"):
        m.seal()
    a = analyze(path)  # the file is still the last commit plus a pending WAL record
    assert a.ok, a.first_error
    with mv2.open(path) as r:
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["committed", "acknowledged but not committed"]
    fail["on"] = False
    m.seal()
    m.close()
    with mv2.open(path) as r:
        assert [f["pending"] for f in r.frames()] == [False, False]


CHILD = r"""
import json, sys, mv2
path = sys.argv[1]
m = mv2.open(path, "a", **json.loads(sys.argv[3]))
i = int(sys.argv[2])
while True:
    if i % 7 == 3:
        m.put_many([{"content": f"batch {i} {j}", "uri": f"mv2://k/{i}/{j}", "timestamp": i} for j in range(5)])
    else:
        m.put(f"doc {i} " * (1 + i % 13), uri=f"mv2://k/{i}", timestamp=i)
    if i % 11 == 0:
        m.seal()
    print(i, flush=True)
    i += 1
"""


def _kill_run(path, seed: int, start: int, policy: dict) -> set[int]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(start), json.dumps(policy)],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(random.Random(seed).uniform(0.3, 1.2))
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    return {int(x) for x in out.split()}


def _check_after_kills(path, acked: set[int]) -> None:
    with mv2.open(path, "a") as m:  # recovery
        uris = {f["uri"] for f in m.frames()}
    for i in acked:
        want = f"mv2://k/{i}/0" if i % 7 == 3 else f"mv2://k/{i}"
        assert want in uris, f"acknowledged operation {i} lost"
    a = analyze(path)
    assert a.ok, a.first_error


KILL_POLICIES = {"grow": {}, "commit-and-compact": {"wal_grow_limit": 8192, "compact_min_dead": 0}}


@pytest.mark.req("R-DUR-001")
@pytest.mark.parametrize("policy", KILL_POLICIES)
def test_sigkill_never_loses_an_acknowledged_put(tmp_path, policy):
    path = tmp_path / "k.mv2"
    mv2.create(path, wal_size=8192).close()
    acked: set[int] = set()
    start = 0
    for seed in range(3):
        got = _kill_run(path, seed, start, KILL_POLICIES[policy])
        acked |= got
        _check_after_kills(path, acked)
        start = max(acked | {start}) + 1000


@pytest.mark.slow
@pytest.mark.parametrize("policy", KILL_POLICIES)
def test_sigkill_many_times(tmp_path, policy):
    path = tmp_path / "k.mv2"
    mv2.create(path, wal_size=8192).close()
    acked: set[int] = set()
    start = 0
    for seed in range(40):
        acked |= _kill_run(path, seed, start, KILL_POLICIES[policy])
        _check_after_kills(path, acked)
        start = max(acked | {start}) + 1000


@pytest.mark.req("R-DUR-004")
def test_a_failed_compaction_does_not_fail_the_commit(tmp_path):
    path = tmp_path / "m.mv2"
    fail = {"on": True}

    def hook(point):
        if fail["on"] and point == "compact-write":
            raise OSError(28, "No space left on device")
    with mv2.create(path, wal_size=4096, compact_min_dead=0, fault=hook) as m:
        m.put("first", timestamp=1)
        m.seal()
        m.put("second", timestamp=2)
        m.seal()  # leaves dead bytes: compaction is tried and fails; the commit stands
        assert isinstance(m.compaction_error, mv2.StorageIOError)
        assert not os.path.exists(str(path) + sfile.GROW_SUFFIX)
        a = analyze(path)
        assert a.ok and any(r.kind == "gap" for r in a.regions)
        fail["on"] = False
        m.put("third", timestamp=3)
        m.seal()
        assert m.compaction_error is None
    a = analyze(path)
    assert a.ok and not any(r.kind == "gap" for r in a.regions)
    with mv2.open(path) as r:
        assert [f["text"].split("\n")[0] for f in r.frames()] == ["first", "second", "third"]
