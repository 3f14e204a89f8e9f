"""Crash exploration: the recorder, the crash-state engine, and the crash-explore and
determinism families on toy writers whose faults are known, and on the reference."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance_support import CONFORMANCE, PY, REFERENCE, ROOT, outcomes, run_suite
from mv2_conformance.crashes import engine, recorder, trace
from mv2_conformance.crashes.explore import Settings
from mv2_conformance.crashes.workload import expected_states
from mv2_conformance.families import crash_explore
from mv2_conformance.adapter import Adapter
from mv2_conformance.families.determinism import layout_region, region_at

FAKE_WRITER = str(CONFORMANCE / "tests" / "fakes" / "fake_writer.py")
ONLY = ["crash-explore/mixed", "determinism/mixed"]


def _recorder():
    try:
        return recorder.build()
    except recorder.RecorderUnavailable as exc:
        pytest.skip(str(exc))


def _record(tmp_path: Path, script: str) -> trace.Trace:
    lib = _recorder()
    watched = (tmp_path / "w").resolve()
    watched.mkdir()
    out = tmp_path / "trace.bin"
    env = recorder.environment(lib, out, tmp_path)
    subprocess.run([PY, "-c", textwrap.dedent(script), str(watched)], env=env, check=True, timeout=60,
                   stdout=subprocess.PIPE)  # a reply goes to a pipe, as an adapter's does
    return trace.events(out.read_bytes(), [str(watched)])


def test_recorder_sees_every_kind_of_change_with_its_data(tmp_path):
    tr = _record(tmp_path, """
        import os, sys
        d = sys.argv[1]
        fd = os.open(d + "/a", os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b"hello")
        os.pwrite(fd, b"XY", 1)
        os.writev(fd, [b"12", b"34"])
        os.lseek(fd, 100, 0)
        os.write(fd, b"far")
        os.ftruncate(fd, 50)
        os.fsync(fd)
        os.fdatasync(os.dup(fd))
        src = os.open(d + "/a", os.O_RDONLY)
        dst = os.open(d + "/b", os.O_WRONLY | os.O_CREAT, 0o644)
        os.copy_file_range(src, dst, 5, 0, 0)
        os.sendfile(dst, src, 0, 3)
        with open(d + "/c", "w") as f:
            f.write("text")
        os.replace(d + "/c", d + "/e")
        os.link(d + "/e", d + "/g")
        os.unlink(d + "/b")
        dfd = os.open(d, os.O_RDONLY)
        os.fsync(dfd)
        print('{"seq": 7, "result": {"ok": true}}', flush=True)
    """)
    kinds = [(e.kind, os.path.basename(e.path), os.path.basename(e.path2)) for e in tr.events]
    writes = [(e.offset, e.data) for e in tr.events if e.kind == "write"]
    assert ("create", "a", "") in kinds and ("create", "b", "") in kinds and ("create", "c", "") in kinds
    assert writes[:4] == [(0, b"hello"), (1, b"XY"), (5, b"1234"), (100, b"far")]
    assert (0, b"hXYlo") in writes  # copy_file_range, recorded with the bytes copied
    assert any(e.kind == "truncate" and e.size == 50 for e in tr.events)
    assert sum(1 for e in tr.events if e.kind == "fsync") == 2  # fsync and fdatasync through a dup
    assert ("rename", "c", "e") in kinds and ("link", "e", "g") in kinds and ("unlink", "b", "") in kinds and ("fsync_dir", "w", "") in kinds
    assert [e.seq for e in tr.events if e.kind == "ack"] == [7]  # the reply, after everything it covers
    assert tr.events[-1].kind == "ack"


def _ev(kind, **kw):
    return trace.Event(kind, 0, **kw)


def _states(events, budget=10_000, seed=0, initial=None):
    tr = trace.Trace(initial=initial or {}, events=events, roots=["/m"])
    plans, total = engine.plan(tr, budget=budget, seed=seed)
    return list(engine.materialize(tr, plans)), total


def test_engine_unsynced_writes_persist_by_sector_in_any_subset():
    events = [_ev("create", path="/m/f", ino=0), _ev("write", ino=0, offset=0, data=b"a" * 1000)]
    states, _ = _states(events)
    end = {s.files.get("/m/f") for s in states if s.point == 2}
    # Nothing, either sector alone, or both; and the file's entry itself may be undone.
    assert end == {None, b"", b"a" * 512, bytes(512) + b"a" * 488, b"a" * 1000}


def test_engine_sync_makes_data_and_the_new_entry_durable_but_not_a_rename():
    events = [_ev("create", path="/m/f", ino=0), _ev("write", ino=0, offset=0, data=b"x" * 10), _ev("fsync", ino=0),
              _ev("rename", path="/m/f", path2="/m/g"), _ev("ack", seq=1)]
    states, _ = _states(events)
    synced = [s for s in states if s.point == 3]
    assert {tuple(sorted(s.files.items())) for s in synced} == {(("/m/f", b"x" * 10),)}
    after = {tuple(sorted(s.files)) for s in states if s.point == 5}
    assert after == {("/m/f",), ("/m/g",)}  # the rename may be undone: its directory was not synced
    events.insert(4, _ev("fsync_dir", path="/m"))
    states, _ = _states(events)
    assert {tuple(sorted(s.files)) for s in states if s.point == 6} == {("/m/g",)}
    assert all(s.acks == (1,) for s in states if s.point == 6)


def test_engine_samples_within_budget_reproducibly_and_keeps_the_states_at_acks():
    events = [_ev("create", path="/m/f", ino=0)]
    for i in range(30):
        events += [_ev("write", ino=0, offset=4096 * i, data=bytes([i]) * 3000), _ev("ack", seq=i)]
    tr = trace.Trace(initial={}, events=events, roots=["/m"])
    plans, total = engine.plan(tr, budget=100, seed=3)
    assert len(plans) == 100 < total
    assert plans == engine.plan(tr, budget=100, seed=3)[0]
    assert plans != engine.plan(tr, budget=100, seed=4)[0]
    at_acks = {(p.point, p.variant.label) for p in plans if events[p.point - 1].kind == "ack"}
    for n, e in enumerate(events, 1):
        if e.kind == "ack":
            assert (n, "everything written") in at_acks and (n, "only synced data and entries") in at_acks
    small, total_small = engine.plan(trace.Trace({}, events[:3], ["/m"]), budget=10_000)
    assert len(small) == total_small  # exhaustive when it fits


def test_model_of_a_workload():
    ops = [{"op": "create"}, {"op": "put", "ref": "a", "uri": "u:a", "text": "1"},
           {"op": "put_many", "docs": [{"ref": "b", "uri": "u:b", "text": "2"}]},
           {"op": "supersede", "ref": "a", "text": "1b"}, {"op": "delete", "ref": "b"}, {"op": "close"}]
    assert expected_states(ops) == [{}, {}, {"u:a": "1"}, {"u:a": "1", "u:b": "2"}, {"u:a": "1b", "u:b": "2"},
                                    {"u:a": "1b"}, {"u:a": "1b"}]


@pytest.mark.parametrize("mode, failing", [
    ("synced", set()),
    ("nosync", {"crash-explore/mixed:durable", "crash-explore/mixed:openable"}),
    ("torn", {"crash-explore/mixed:atomic"}),
    ("stray", {"crash-explore/mixed:clean"}),
    ("random", {"determinism/mixed:bytes"}),
])
def test_families_catch_each_kind_of_writer_fault(mode, failing):
    _recorder()
    report = run_suite([PY, FAKE_WRITER, mode], only=ONLY)
    got = outcomes(report)
    assert {k for k, v in got.items() if v != "passed"} == failing, report.text()
    assert set(got) == {f"crash-explore/mixed:{c}" for c in ("recorded", "durable", "openable", "atomic", "clean")} | {
        "determinism/mixed:bytes"}


def test_a_blind_recorder_fails_recorded_instead_of_passing(monkeypatch, tmp_path):
    _recorder()
    # A statically linked or io_uring writer would look like this: nothing but replies.
    monkeypatch.setattr(recorder, "environment", lambda lib, t, d: dict(os.environ, TMPDIR=str(d)))
    got = outcomes(run_suite([PY, FAKE_WRITER, "synced"], only=["crash-explore/mixed"]))
    assert got["crash-explore/mixed:recorded"] == "failed"
    assert {got[f"crash-explore/mixed:{c}"] for c in ("durable", "openable", "atomic", "clean")} == {"skipped"}


def test_determinism_names_the_region_of_a_difference():
    data = (ROOT / "vectors" / "gold" / "memvid-sdk-2.0.160" / "single.mv2").read_bytes()
    assert layout_region(data, 10).startswith("header footer_offset")
    assert layout_region(data, 50).startswith("header toc_checksum")
    assert layout_region(data, 5000).startswith("WAL")
    assert layout_region(data, len(data) - 1).startswith("footer")
    assert layout_region(data, len(data) - 57).startswith("TOC")

    # With an adapter that declares regions, the finer map names the region.
    class Stand:
        test_id = "determinism/x"

    with Adapter(REFERENCE) as adapter:
        Stand.adapter = adapter
        gold = ROOT / "vectors" / "gold" / "memvid-sdk-2.0.160" / "single.mv2"
        name = region_at(Stand, gold, data, len(data) - 1)
    assert name != layout_region(data, len(data) - 1) and "(" in name


@pytest.mark.req("R-DUR-001", "R-DUR-002")
def test_reference_loses_nothing_in_any_crash_state_of_the_mixed_workload(tmp_path):
    _recorder()
    vectors, report_file = tmp_path / "vectors", tmp_path / "crash.jsonl"
    env = dict(os.environ, PYTHONPATH=str(CONFORMANCE))
    res = subprocess.run([PY, "-m", "mv2_conformance", "run", "--adapter", "proc:" + shlex.join(REFERENCE),
                          "--only", "crash-explore/mixed", "--crash-states", "1000",
                          "--crash-vectors", str(vectors), "--crash-report", str(report_file)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    (ex,) = [json.loads(line) for line in report_file.read_text().splitlines()]
    assert ex["explored"] == ex["possible"] > 100  # small enough to be exhaustive
    assert {k: ex["counts"][k] for k in ("lost", "unopenable", "leftover", "ro-modified")} == {
        "lost": 0, "unopenable": 0, "leftover": 0, "ro-modified": 0}
    assert ex["failures"] == [] and not vectors.exists()  # a vector is saved only for a failure


def test_settings_reach_the_family_from_the_command_line(tmp_path):
    from mv2_conformance import cli

    before = crash_explore.SETTINGS
    try:
        cli.main(["run", "--adapter", f"proc:{PY} {FAKE_WRITER} synced", "--only", "crash-explore/mixed",
                  "--crash-states", "7", "--crash-seed", "5", "--crash-report", str(tmp_path / "r.jsonl")])
        assert crash_explore.SETTINGS == Settings(budget=7, seed=5, report=tmp_path / "r.jsonl")
        assert json.loads((tmp_path / "r.jsonl").read_text())["explored"] == 7
    finally:
        crash_explore.SETTINGS = before


if sys.platform != "linux":  # pragma: no cover - the recorder interposes glibc's functions
    pytestmark = pytest.mark.skip("the system-call recorder needs Linux")


@pytest.mark.slow
@pytest.mark.req("R-DUR-001", "R-DUR-002")
def test_reference_full_crash_exploration(tmp_path):
    """Every crash state of every workload (the traces are small enough to be exhaustive)."""
    _recorder()
    before = crash_explore.SETTINGS
    crash_explore.SETTINGS = Settings(budget=1_000_000, report=tmp_path / "crash.jsonl", vectors=tmp_path / "vectors")
    try:
        report = run_suite(REFERENCE, only=["crash-explore"])
    finally:
        crash_explore.SETTINGS = before
    explorations = [json.loads(line) for line in (tmp_path / "crash.jsonl").read_text().splitlines()]
    assert {e["workload"] for e in explorations} == {"mixed", "grow"}
    for e in explorations:
        assert e["explored"] == e["possible"]
        assert {k: e["counts"][k] for k in ("lost", "unopenable", "leftover", "ro-modified")} == {
            "lost": 0, "unopenable": 0, "leftover": 0, "ro-modified": 0}, e
    assert [r.id for r in report.records if r.outcome != "passed"] == []


def test_a_failure_is_saved_as_a_crash_vector_that_reproduces_it(tmp_path):
    _recorder()
    from mv2_conformance import cli

    before = crash_explore.SETTINGS
    try:
        cli.main(["run", "--adapter", f"proc:{PY} {FAKE_WRITER} torn", "--only", "crash-explore/mixed",
                  "--crash-vectors", str(tmp_path / "v"), "--crash-report", str(tmp_path / "r.jsonl")])
    finally:
        crash_explore.SETTINGS = before
    (f,) = json.loads((tmp_path / "r.jsonl").read_text())["failures"]
    v = Path(f["vector"])
    verdict = json.loads((v / "verdict.json").read_text())
    assert verdict["kinds"] == ["unexpected"] and verdict["in_flight"] == "put_many"
    assert verdict["label"] == "everything written"  # the plainest variant that shows it: a process crash
    trace_slice = [json.loads(line) for line in (v / "trace.jsonl").read_text().splitlines()]
    # From the last acknowledged operation up to the crash, with paths relative to the vector.
    assert trace_slice[-1] == verdict["last_event"] | ({"data": trace_slice[-1]["data"]} if "data" in trace_slice[-1] else {})
    assert any(e["kind"] == "ack" for e in trace_slice) and any(e["kind"] == "write" for e in trace_slice)
    assert all(e.get("path", "work/").startswith("work/") for e in trace_slice)
    assert json.loads((v / "workload.json").read_text())["name"] == "mixed"
    # The saved file reproduces it: the toy writer's reader shows half the batch.
    lines = (v / verdict["memory"]).read_bytes().decode().splitlines()
    assert sum('"mv2://crash/batch/' in line for line in lines) == 1
