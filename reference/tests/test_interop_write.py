"""memvid-sdk reads what mv2 writes, appends to it, and mv2 reads memvid's appends and crash files.

These tests need memvid-sdk (the ``interop`` extra; CI installs it). They run memvid in a
subprocess so that its native library's state cannot leak between tests, and with
``MEMVID_TELEMETRY=0``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

import mv2
from conftest import GOLD, oracle

pytestmark = pytest.mark.interop
memvid_sdk = pytest.importorskip("memvid_sdk", reason="memvid-sdk is not installed (pip install -e '.[interop]')")

READ = r"""
import json, sys, hashlib, memvid_sdk
path, queries, vector = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
m = memvid_sdk.use("basic", path, mode="open", read_only=True)
out = {"stats": {k: v for k, v in dict(m.stats()).items() if k in ("frame_count", "active_frame_count", "has_lex_index", "has_vec_index", "has_time_index")}}
out["timeline"] = [dict(frame_id=t["frame_id"], timestamp=t["timestamp"], uri=t["uri"], preview=t["preview"]) for t in m.timeline(limit=100000)]
out["frames"] = {}
for t in out["timeline"]:
    f = m.frame(t["uri"])
    b = m.blob(t["uri"])
    out["frames"][t["uri"]] = {"id": f["id"], "title": f.get("title"), "tags": f.get("tags"), "labels": f.get("labels"),
                               "extra_metadata": f.get("extra_metadata"), "blob_sha256": hashlib.sha256(b).hexdigest()}
out["find"] = {q: [h["frame_id"] for h in m.find(q, k=10, mode="lex")["hits"]] for q in queries}
if vector:
    out["sem"] = [h["frame_id"] for h in m.find("", k=3, mode="sem", query_embedding=vector)["hits"]]
out["verify"] = m.verify(deep=True)["overall_status"]
print(json.dumps(out))
"""

APPEND = r"""
import sys, memvid_sdk
m = memvid_sdk.use("basic", sys.argv[1], mode="open")
m.put(title="Appended by memvid", label="memvid", text="memvid wrote this zebra note", uri="mv2://memvid/zebra", timestamp=1700009999)
m.seal()
m.close()
"""


def memvid(code: str, *args) -> dict | None:
    env = dict(os.environ, MEMVID_TELEMETRY="0")
    res = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout) if res.stdout.strip() else None


def memvid_read(path, queries=(), vector=None) -> dict:
    return memvid(READ, path, json.dumps(list(queries)), json.dumps(vector))


def build(path):
    with mv2.create(path) as m:
        m.put("The user is allergic to penicillin.", uri="mv2://profile/allergy", title="Allergy", timestamp=1700000000,
              tags=["health"], labels=["medical"], metadata={"source": "intake"}, embedding=[1.0, 0.0, 0.0, 0.0])
        m.put("Deploy the harbor service with kubernetes.", uri="mv2://ops/deploy", timestamp=1700000100,
              embedding=[0.0, 1.0, 0.0, 0.0], track="ops", kind="howto")
        m.put(bytes(range(200)), uri="mv2://bin/blob", timestamp=1700000200, embedding=[0.0, 0.0, 1.0, 0.0])
        m.seal()
        m.put("Aspirin is fine for the user.", uri="mv2://profile/aspirin", timestamp=1700000300, embedding=[0.9, 0.1, 0.0, 0.0])
        m.delete(1)
        m.supersede(0, "The user is allergic to penicillin and amoxicillin.", timestamp=1700000400)


@pytest.mark.req("R-LEX-001", "R-LEX-003", "R-VEC-001", "R-SKT-001")
def test_memvid_reads_our_file(tmp_path):
    path = tmp_path / "ours.mv2"
    build(path)
    with mv2.open(path) as m:
        ours_timeline = m.timeline(index_lines=True)  # memvid's previews keep the index lines
        ours = {f["uri"]: f for f in m.frames()}
        newest = {}
        for f in m.frames():
            newest[f["uri"]] = f
    got = memvid_read(path, ["penicillin", "amoxicillin", "harbor", "aspirin", "zebra"], [1.0, 0.0, 0.0, 0.0])
    assert got["verify"] == "passed"
    assert got["stats"]["frame_count"] == 5 and got["stats"]["active_frame_count"] == 3
    assert got["timeline"] == ours_timeline
    for uri, f in got["frames"].items():
        assert f["id"] == newest[uri]["id"]
        assert f["blob_sha256"] == newest[uri]["payload_sha256"]
        assert f["title"] == newest[uri]["title"] and f["tags"] == newest[uri]["tags"]
        assert (f["extra_metadata"] or {}) == newest[uri]["metadata"]  # memvid reports an empty map as None
    assert got["find"]["penicillin"] == [4]  # frame 0 is superseded: only its replacement is found
    assert got["find"]["amoxicillin"] == [4]
    assert got["find"]["harbor"] == []  # frame 1 is deleted
    assert got["find"]["aspirin"] == [3]
    assert got["find"]["zebra"] == []
    assert got["sem"][:2] == [4, 3]  # nearest (1,0,0,0): frame 4 (inherited from frame 0), then frame 3
    assert set(got["sem"]) <= {2, 3, 4}
    assert ours["mv2://bin/blob"]["payload_sha256"] == hashlib.sha256(bytes(range(200))).hexdigest()


def test_we_read_memvids_appends_to_our_file(tmp_path):
    path = tmp_path / "ours.mv2"
    build(path)
    memvid(APPEND, path)
    a = mv2.verify(path)
    assert a.ok, a.first_error
    got = memvid_read(path, ["zebra", "amoxicillin"])
    with mv2.open(path) as m:
        assert m.timeline(index_lines=True) == got["timeline"]
        assert m.frame("mv2://memvid/zebra")["id"] == got["find"]["zebra"][0]
    # and we can keep writing after memvid, and memvid still reads it
    with mv2.open(path, "a") as m:
        m.put("mv2 again after memvid", uri="mv2://ours/again", timestamp=1700010000)
    got = memvid_read(path, ["again", "zebra"])
    assert got["verify"] == "passed"
    assert got["find"]["again"] and got["find"]["zebra"]
    assert mv2.verify(path).ok


@pytest.mark.req("R-WAL-011")
@pytest.mark.parametrize("name", ["killed-mid-batch", "unsealed-crash"])
def test_memvids_crash_files_recover_to_all_their_frames(tmp_path, name):
    src = GOLD / "memvid-sdk-2.0.160" / f"{name}.mv2"
    exp = oracle(src)
    path = tmp_path / src.name
    shutil.copy(src, path)
    with mv2.open(path, "a") as m:
        assert len(m.frames()) == exp["stats"]["frame_count"]
        assert m.recovery["pending_records"] == (32 if name == "killed-mid-batch" else 0)
    a = mv2.verify(path)
    assert a.ok, a.first_error
    got = memvid_read(path)
    assert got["stats"]["frame_count"] == exp["stats"]["frame_count"]
    assert [t["frame_id"] for t in got["timeline"]] == [t["frame_id"] for t in exp["timeline"]]
    assert got["verify"] == "passed"


def test_appending_to_a_file_memvid_wrote(tmp_path):
    src = GOLD / "memvid-sdk-2.0.160" / "vectors-8d.mv2"
    path = tmp_path / src.name
    shutil.copy(src, path)
    before = oracle(src)
    with mv2.open(path, "a") as m:
        n = len(m.frames())
        dim = m.stats()["dimension"]
        m.put("a new note about quasars", uri="mv2://ours/quasar", timestamp=1800000000, embedding=[0.5] * dim)
    got = memvid_read(path, ["quasars"])
    assert got["verify"] == "passed"
    assert got["stats"]["frame_count"] == n + 1
    assert got["find"]["quasars"] == [n]
    assert [t["frame_id"] for t in got["timeline"]][:-1] == [t["frame_id"] for t in before["timeline"]]


def _scenarios():
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "tools"))
    import gen_vectors

    return gen_vectors


@pytest.mark.parametrize("name", sorted(_scenarios().scenarios()))
def test_memvid_reads_every_golden_vector(tmp_path, name):
    gv = _scenarios()
    sc = gv.scenarios()[name]
    gv.produce(name, sc, tmp_path)
    path = tmp_path / f"{name}.mv2"
    with mv2.open(path) as m:
        ours = m.timeline(index_lines=True)  # as memvid shows previews
        frames = m.frames()
    got = memvid_read(path)
    assert got["verify"] == "passed"
    assert got["stats"]["frame_count"] == len(frames)
    assert got["timeline"] == ours
    newest = {f["uri"]: f for f in frames}
    for uri, f in got["frames"].items():
        assert f["blob_sha256"] == newest[uri]["payload_sha256"]


@pytest.mark.req("R-SRCH-001")
@pytest.mark.parametrize("name", ["put-loop", "delete", "multi-seal", "supersede-chain", "unicode", "wal-full"])
def test_memvid_and_mv2_find_agree_on_our_files(tmp_path, name):
    gv = _scenarios()
    gv.produce(name, gv.scenarios()[name], tmp_path)
    path = tmp_path / f"{name}.mv2"
    queries = ["penicillin", "harbor ledger", "policy", "naïve", "audit OR token", "vector NOT quantum", "tag:roadmap"]
    got = memvid_read(path, queries)
    with mv2.open(path) as m:
        for q in queries:
            assert [h["frame_id"] for h in m.find(q, k=10, prefilter=True)] == got["find"][q], q


@pytest.mark.req("R-DUR-004")
@pytest.mark.parametrize("name", ["vectors-8d", "put-loop", "deleted", "corrections", "batch-300"])
def test_memvid_reads_compacted_files_as_before(tmp_path, name):
    """Compaction changes offsets only: memvid sees the same timeline, blobs, hits and vectors."""
    path = tmp_path / f"{name}.mv2"
    shutil.copy(GOLD / "memvid-sdk-2.0.160" / f"{name}.mv2", path)
    with mv2.open(path, "a") as m:  # memvid's own read-only view of its file ignores pending records
        m.seal()
        dim = m.stats()["dimension"]
        queries = [w for f in m.frames()[:3] for w in (f["text"] or "").split()[:2]] + ["zebra"]
    vector = [0.5] * dim if dim else None
    before = memvid_read(path, queries, vector)
    with mv2.open(path, "a") as m:
        out = m.compact()
    got = memvid_read(path, queries, vector)
    assert got == before
    assert got["verify"] == "passed"
    assert out["after"] <= out["before"]


def test_memvid_reads_a_file_we_compacted_while_writing(tmp_path):
    path = tmp_path / "ours.mv2"
    with mv2.create(path, wal_size=4096, compact_min_dead=0, wal_grow_limit=4096) as m:
        for i in range(30):
            m.put(f"entry {i} about the harbor ledger", uri=f"mv2://e/{i}", timestamp=1700000000 + i,
                  embedding=[float(i), 1.0, 0.0, 0.0])
            m.seal()
    with mv2.open(path) as m:
        ours = m.timeline(index_lines=True)  # as memvid shows previews
        hits = [h["frame_id"] for h in m.find("harbor", k=10, prefilter=True)]
    got = memvid_read(path, ["harbor"], [29.0, 1.0, 0.0, 0.0])
    assert got["verify"] == "passed" and got["timeline"] == ours
    assert got["find"]["harbor"] == hits and got["sem"][0] == 29


def test_appending_to_a_memvid_file_whose_log_is_full_of_committed_records(tmp_path):
    """memvid keeps committed records in its WAL. When they leave no room, a commit restarts
    the log at offset 0: the WAL keeps its size, and memvid reads the result."""
    src = GOLD / "memvid-sdk-2.0.160" / "vectors-384d.mv2"
    path = tmp_path / src.name
    shutil.copy(src, path)
    points: list[str] = []
    with mv2.open(path, "a", fault=points.append) as m:
        st = m.stats()
        data_start, old_toc = 4096 + st["wal_size"], m._file.toc_offset
        room = st["wal_size"] - m._file.wal_head
        n = len(m.frames())
        # The first record does not fit after memvid's committed ones, but fits in the WAL.
        words = " ".join(f"w{(k * 104729) % 100003}" for k in range(room // 5))
        texts = ["appended note about quasars " + words]
        m.put(texts[0], uri="mv2://ours/0", timestamp=1800000000, embedding=[0.5] * st["dimension"])
        assert room < m._file.wal_head < st["wal_size"]
        assert m.stats()["wal_size"] == st["wal_size"]  # restarted, not grown
        assert m.stats()["generation"] == st["generation"] + 1  # by one commit, which appended:
        assert path.read_bytes()[data_start:old_toc] == src.read_bytes()[data_start:old_toc]  # memvid's bytes stay
        assert "commit-write" in points and not any(p.startswith("grow") for p in points)  # no whole-file rewrite
    got = memvid_read(path, ["quasars"])
    assert got["verify"] == "passed"
    assert got["stats"]["frame_count"] == n + len(texts)
    assert mv2.verify(path).ok


@pytest.mark.req("R-LEX-005", "R-VEC-003")
def test_memvid_reads_indexes_extended_over_many_commits(tmp_path):
    """Twenty commits, deletions among them: memvid sees segmented Tantivy indexes with
    deletion bitsets and geometric vector segments as we do."""
    path = tmp_path / "many.mv2"
    words = "harbor ledger zebra amber falcon cedar meadow quartz".split()
    with mv2.create(path) as m:
        for i in range(40):
            m.put(f"{words[i % 8]} {words[(i * 3) % 8]} entry {i}", uri=f"mv2://n/{i}", timestamp=1700000000 + i,
                  embedding=[float(i % 5), float(i % 3), 1.0, float(i) / 40])
            if i % 9 == 8:
                m.delete(i - 4, timestamp=1700001000 + i)
            if i % 2:
                m.seal()
        ours = m.timeline(index_lines=True)  # as memvid shows previews
    vector = [4.0, 2.0, 1.0, 0.9]
    got = memvid_read(path, words, vector)
    assert got["verify"] == "passed" and got["timeline"] == ours
    with mv2.open(path) as m:
        for w in words:
            assert [h["frame_id"] for h in m.find(w, k=10, prefilter=True)] == got["find"][w], w
        assert [h["frame_id"] for h in m.find_vector(vector, k=3)] == got["sem"]
