"""mv2 merge: what a side did, the replay order, convergent operations, conflicts, determinism, commutation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

import mv2
from mv2.cli.main import app
from mv2.merge import MergeConflictError, merge_files

runner = CliRunner()
T0 = 1700000000


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def sha(p) -> str:
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def make_base(path, n=3):
    with mv2.create(path) as m:
        for i in range(n):
            m.put(f"base note {i}", uri=f"mv2://base/{i}", title=f"Base {i}", timestamp=T0 + i, tags=["base"],
                  metadata={"n": i}, embedding=[float(i), 1.0])


def side(base, path, edit):
    shutil.copy(base, path)
    with mv2.open(path, "a") as m:
        edit(m)
    return path


def frames(path) -> list[dict]:
    with mv2.open(path) as m:
        return m.frames()


CONTENT = ("uri", "title", "timestamp", "tags", "labels", "metadata", "kind", "track", "payload_sha256",
           "payload_length", "text", "status")


def content(rec: dict) -> dict:
    return {k: rec[k] for k in CONTENT}


@pytest.fixture
def sides(tmp_path):
    b = tmp_path / "base.mv2"
    make_base(b)

    def ours(m):
        m.put("ours adds a note", uri="mv2://ours/1", timestamp=T0 + 100, embedding=[0.5, 0.5])
        m.supersede(0, "base note 0, revised by ours", timestamp=T0 + 101)

    def theirs(m):
        m.put("theirs adds a note", uri="mv2://theirs/1", timestamp=T0 + 50, labels=["t"], embedding=[0.1, 0.2])
        m.supersede(1, "base note 1, revised by theirs", timestamp=T0 + 102)
        m.delete(2)

    return b, side(b, tmp_path / "ours.mv2", ours), side(b, tmp_path / "theirs.mv2", theirs)


@pytest.mark.req("R-MRG-001", "R-MRG-002", "R-MRG-007")
def test_merge_replays_both_sides_in_spec_order(tmp_path, sides):
    b, o, t = sides
    out = tmp_path / "merged.mv2"
    res = merge_files(b, o, t, out)
    assert mv2.verify(out).ok
    got = frames(out)
    # Puts by timestamp (theirs' at T0+50 before ours' at T0+100), then supersedes by timestamp, then the delete.
    assert [(f["id"], f["uri"], f["status"]) for f in got] == [
        (0, "mv2://base/0", "superseded"), (1, "mv2://base/1", "superseded"), (2, "mv2://base/2", "deleted"),
        (3, "mv2://theirs/1", "active"), (4, "mv2://ours/1", "active"), (5, "mv2://base/0", "active"),
        (6, "mv2://base/1", "active")]
    assert got[0]["superseded_by"] == 5 and got[5]["supersedes"] == 0
    assert got[1]["superseded_by"] == 6 and got[6]["supersedes"] == 1
    assert res.id_map == {"ours": {3: 4, 4: 5}, "theirs": {3: 3, 4: 6}}
    assert res.applied == {"put": 2, "supersede": 2, "delete": 1} and res.frames == 7
    # Every frame a side added is in the merged file with the same content, vectors included.
    for s, path in (("ours", o), ("theirs", t)):
        side_frames = frames(path)
        with mv2.open(path) as ms, mv2.open(out) as mm:
            for sid, mid in res.id_map[s].items():
                assert content(side_frames[sid]) == content(got[mid])
                assert ms.vector(sid) == mm.vector(mid)
    assert res.sha256 == sha(out)


@pytest.mark.req("R-MRG-004")
def test_conflicts_stop_the_merge_and_a_side_resolves_them(tmp_path):
    b = tmp_path / "base.mv2"
    make_base(b)
    o = side(b, tmp_path / "o.mv2", lambda m: (m.supersede(0, "ours' version", timestamp=T0 + 10),
                                                 m.put("same uri, ours", uri="mv2://shared", timestamp=T0 + 11),
                                                 m.delete(1)))

    def theirs(m):
        new = m.supersede(0, "theirs' version", timestamp=T0 + 20)
        m.supersede(new, "theirs' version, again", timestamp=T0 + 21)  # builds on the conflicting one
        m.put("same uri, theirs", uri="mv2://shared", timestamp=T0 + 22)
        m.supersede(1, "theirs revises what ours deleted", timestamp=T0 + 23)

    t = side(b, tmp_path / "t.mv2", theirs)
    out = tmp_path / "out.mv2"
    with pytest.raises(MergeConflictError) as ei:
        merge_files(b, o, t, out)
    assert ei.value.code == "MV2-E-MERGE-CONFLICT" and not out.exists()
    kinds = sorted((c.kind, c.frame, c.uri) for c in ei.value.result.conflicts)
    assert kinds == [("put-uri", None, "mv2://shared"), ("supersede-delete", 1, None), ("supersede-supersede", 0, None)]
    r = run("merge", b, o, t, "-o", out)
    assert r.exit_code == 1 and "CONFLICT" in r.stdout and "supersede-supersede on frame 0" in r.stdout and not out.exists()

    res = merge_files(b, o, t, out, prefer="ours")
    got = {f["text"].split("\n")[0]: f for f in frames(out)}
    assert got["ours' version"]["status"] == "active" and got["same uri, ours"]["status"] == "active"
    assert "theirs' version" not in got and "theirs' version, again" not in got and "same uri, theirs" not in got
    assert frames(out)[1]["status"] == "deleted"
    dropped = sorted((d["side"], d["op"]) for d in res.dropped)
    assert dropped == [("theirs", "put"), ("theirs", "supersede"), ("theirs", "supersede"), ("theirs", "supersede")]

    out2 = tmp_path / "out2.mv2"
    merge_files(b, o, t, out2, prefer="theirs")
    got = {f["text"].split("\n")[0]: f for f in frames(out2)}
    assert got["theirs' version, again"]["status"] == "active" and got["theirs' version"]["status"] == "superseded"
    assert "ours' version" not in got and frames(out2)[1]["status"] == "superseded"
    assert run("merge", b, o, t, "-o", out2, "--ours", "--theirs").exit_code == 2


@pytest.mark.req("R-MRG-003")
def test_the_same_operation_on_both_sides_is_applied_once(tmp_path):
    b = tmp_path / "base.mv2"
    make_base(b)

    def edit(m):
        m.put("both sides learn this", uri="mv2://both", timestamp=T0 + 5)
        m.supersede(0, "both revise frame 0 alike", timestamp=T0 + 6)
        m.delete(2)

    o, t = side(b, tmp_path / "o.mv2", edit), side(b, tmp_path / "t.mv2", edit)
    out = tmp_path / "out.mv2"
    res = merge_files(b, o, t, out)
    assert res.convergent == 3 and not res.conflicts
    # Identical edits on both sides: the merge is the edit itself, byte for byte.
    assert sha(out) == sha(o)


@pytest.mark.req("R-MRG-001")
def test_sides_must_descend_from_base(tmp_path):
    b = tmp_path / "base.mv2"
    make_base(b)
    other = tmp_path / "other.mv2"
    with mv2.create(other) as m:
        m.put("unrelated", timestamp=T0)
    r = run("merge", b, other, b, "-o", tmp_path / "out.mv2")
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    with pytest.raises(mv2.UsageError) as ei:
        merge_files(b, other, b, tmp_path / "out.mv2")
    assert ei.value.code == "MV2-E-MERGE-BASE"
    assert run("merge", b, tmp_path / "missing.mv2", b, "-o", tmp_path / "out.mv2").exit_code == 2


@pytest.mark.req("R-MRG-005")
def test_merge_is_byte_identical_across_processes(tmp_path, sides):
    b, o, t = sides
    digests = set()
    for n, env in enumerate(({"PYTHONHASHSEED": "1", "TZ": "UTC"}, {"PYTHONHASHSEED": "987", "TZ": "Asia/Tokyo", "LC_ALL": "C"})):
        out = tmp_path / f"m{n}.mv2"
        r = subprocess.run([sys.executable, "-m", "mv2.cli.main", "merge", str(b), str(o), str(t), "-o", str(out), "--json"],
                           capture_output=True, text=True, env={**os.environ, **env}, cwd=tmp_path, timeout=300)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["sha256"] == sha(out)
        digests.add(sha(out))
    merge_files(b, o, t, tmp_path / "inproc.mv2")
    digests.add(sha(tmp_path / "inproc.mv2"))
    assert len(digests) == 1


@pytest.mark.interop
@pytest.mark.req("R-MRG-007")
def test_memvid_reads_a_merged_file(tmp_path, sides):
    pytest.importorskip("memvid_sdk")
    from test_interop_write import memvid_read

    b, o, t = sides
    out = tmp_path / "merged.mv2"
    merge_files(b, o, t, out)
    got = memvid_read(out, ["ours", "theirs", "revised"])
    assert got["verify"] == "passed"
    assert got["stats"]["frame_count"] == 7 and got["stats"]["active_frame_count"] == 4
    ours = {f["uri"]: f for f in frames(out) if f["status"] == "active"}
    assert {u: f["id"] for u, f in got["frames"].items()} == {u: f["id"] for u, f in ours.items()}
    assert all(f["blob_sha256"] == ours[u]["payload_sha256"] for u, f in got["frames"].items())
    assert sorted(got["find"]["revised"]) == [5, 6]


# -- commutation (hypothesis) -----------------------------------------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["put", "supersede", "delete"]), st.integers(0, 7), st.integers(0, 3)),
               min_size=0, max_size=5)


def apply_random(m, ops, tag: str):
    """Apply generated operations, skipping any that no longer applies (an inactive target)."""
    for kind, target, word in ops:
        active = [f["id"] for f in m.frames() if f["status"] == "active"]
        ts = T0 + 1000 + word
        text = f"{['alpha', 'beta', 'gamma', 'delta'][word]} note"
        if kind == "put":
            # Words repeat across sides, so identical puts (convergent) and shared URIs (conflicts) both occur.
            m.put(text, uri=f"mv2://gen/{word}", timestamp=ts)
        elif active:
            fid = active[target % len(active)]
            if kind == "supersede":
                m.supersede(fid, f"{text} from {tag if word % 2 else 'either'}", timestamp=ts)
            else:
                m.delete(fid)


@pytest.mark.req("R-MRG-006")
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ours=OPS, theirs=OPS)
def test_merges_commute(tmp_path_factory, ours, theirs):
    d = tmp_path_factory.mktemp("commute")
    b = d / "base.mv2"
    make_base(b, 2)
    o = side(b, d / "o.mv2", lambda m: apply_random(m, ours, "ours"))
    t = side(b, d / "t.mv2", lambda m: apply_random(m, theirs, "theirs"))
    try:
        merge_files(b, o, t, d / "ot.mv2")
        conflict = False
    except MergeConflictError:
        conflict = True
    if not conflict:
        merge_files(b, t, o, d / "to.mv2")
        assert sha(d / "ot.mv2") == sha(d / "to.mv2")
        assert mv2.verify(d / "ot.mv2").ok
    else:
        with pytest.raises(MergeConflictError):
            merge_files(b, t, o, d / "to.mv2")
    merge_files(b, o, t, d / "ot-ours.mv2", prefer="ours")
    merge_files(b, t, o, d / "to-theirs.mv2", prefer="theirs")
    assert sha(d / "ot-ours.mv2") == sha(d / "to-theirs.mv2")
    assert mv2.verify(d / "ot-ours.mv2").ok


@pytest.mark.req("R-MRG-001", "R-MRG-007")
@pytest.mark.parametrize("name", ["memvid-sdk-2.0.160/memory-cards", "memvid-sdk-2.0.123/same-uri"])
def test_merge_onto_a_file_memvid_wrote(tmp_path, name):
    from conftest import GOLD

    b = tmp_path / "base.mv2"
    shutil.copy(GOLD / f"{name}.mv2", b)
    with mv2.open(b) as m:
        n, rev, active = m.frame_count, m.revision, [f["id"] for f in m.frames() if f["status"] == "active"]
    o = side(b, tmp_path / "o.mv2", lambda m: (m.put("ours", uri="mv2://o", timestamp=T0), m.delete(active[0])))
    t = side(b, tmp_path / "t.mv2", lambda m: m.supersede(active[-1], "theirs' revision", timestamp=T0 + 1))
    out = tmp_path / "out.mv2"
    merge_files(b, o, t, out)
    assert mv2.verify(out).ok
    with mv2.open(out) as m, mv2.open(b) as mb:
        got = m.frames()
        assert m.revision == rev and m.memory_cards() == mb.memory_cards()  # memvid's cards carried over
    assert [f["id"] for f in got[n:]] == [n, n + 1] and got[n]["text"].startswith("ours")
    assert got[active[0]]["status"] == "deleted" and got[active[-1]]["superseded_by"] == n + 1


CARD = r"""
import sys, memvid_sdk
m = memvid_sdk.use("basic", sys.argv[1], mode="open")
m.add_memory_cards([{"entity": "Alice", "slot": "city", "value": "Paris", "kind": "Fact", "source_frame_id": 0}])
m.seal()
m.close()
"""


@pytest.mark.interop
def test_a_side_that_changed_memory_cards_is_refused(tmp_path):
    pytest.importorskip("memvid_sdk")
    from test_interop_write import memvid

    b = tmp_path / "base.mv2"
    make_base(b)
    o = tmp_path / "o.mv2"
    shutil.copy(b, o)
    memvid(CARD, o)  # memvid-sdk adds a card; mv2's writer writes none (spec 15.3)
    r = run("merge", b, o, b, "-o", tmp_path / "out.mv2")
    assert r.exit_code == 2 and not (tmp_path / "out.mv2").exists()
    with pytest.raises(mv2.UnsupportedError, match="memory cards changed"):
        merge_files(b, o, b, tmp_path / "out.mv2")
