"""Commits extend the indexes instead of rebuilding them (spec 9.1 R-LEX-005, 9.2 R-VEC-003),
and re-encode only the frames that changed; the results equal a rebuild's."""

from __future__ import annotations

import json
import random

import pytest

import mv2
from conftest import GOLD_FILES
from mv2.format.commit import FrameEncodings, encode_toc_with_checksum
from mv2.index import lex
from mv2.storage.snapshot import read_snapshot
from mv2.storage.verify import analyze

WORDS = "harbor ledger zebra amber falcon cedar meadow quartz river signal tundra violet".split()


def text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(8))


def write(path, ops):
    with mv2.create(path) as m:
        for op in ops:
            if op[0] == "put":
                m.put(op[1], timestamp=op[2], embedding=op[3])
            elif op[0] == "delete":
                m.delete(op[1], timestamp=op[2])
            else:
                m.seal()


def random_ops(seed: int, n: int = 60, seal_every: int = 3):
    rng = random.Random(seed)
    ops, alive = [], []
    for i in range(n):
        ops.append(("put", text(rng), 1000 + i, [rng.uniform(-1, 1) for _ in range(6)]))
        alive.append(i)
        if i % 7 == 6:
            victim = alive.pop(rng.randrange(len(alive)))
            ops.append(("delete", victim, 5000 + i))
        if i % seal_every == seal_every - 1:
            ops.append(("seal",))
    return ops


def lex_meta(path) -> tuple[dict, list[dict]]:
    with read_snapshot(path) as s:
        files = s.toc["indexes"]["lex_segments"]
        meta = next(f for f in files if f["path"] == "meta.json")
        return json.loads(s.source.read(meta["bytes_offset"], meta["bytes_length"], what="meta")), files


@pytest.mark.req("R-LEX-005", "R-VEC-003")
@pytest.mark.parametrize("seed", [0, 1])
def test_extended_indexes_answer_as_a_rebuild_does(tmp_path, seed):
    ops = random_ops(seed)
    inc, once = tmp_path / "inc.mv2", tmp_path / "once.mv2"
    write(inc, ops)
    write(once, [op for op in ops if op[0] != "seal"])  # one commit: everything built at once
    assert analyze(inc).ok and analyze(once).ok
    with mv2.open(inc) as a, mv2.open(once) as b:
        assert a.dump()["frames"] == b.dump()["frames"]
        for w in WORDS:
            assert {h["frame_id"] for h in a.find(w, k=100)} == {h["frame_id"] for h in b.find(w, k=100)}, w
        q = [0.3, -0.2, 0.5, 0.1, -0.7, 0.2]
        assert [h["frame_id"] for h in a.find_vector(q, k=10)] == [h["frame_id"] for h in b.find_vector(q, k=10)]
        assert a.stats()["vector_count"] >= b.stats()["vector_count"]


@pytest.mark.req("R-LEX-005")
def test_the_index_grows_by_segments_and_never_reaches_eight(tmp_path):
    path = tmp_path / "m.mv2"
    counts, shared = [], 0
    m = mv2.create(path)
    for i in range(20):
        m.put(f"note {i} about the harbor", timestamp=i)
        if i == 9:
            m.delete(3, timestamp=100)
        m.seal()
        meta, files = lex_meta(path)
        counts.append(len(meta["segments"]))
        if i == 9:  # the deletion is a Tantivy bitset beside the segment that held frame 3
            assert [f["path"] for f in files if f["path"].endswith(".del")] and \
                sum((s["deletes"] or {}).get("num_deleted_docs", 0) for s in meta["segments"]) == 1
        if i:
            shared += len({(f["bytes_offset"], f["bytes_length"]) for f in files} & prev)
        prev = {(f["bytes_offset"], f["bytes_length"]) for f in files}
    m.close()
    assert max(counts) == lex.MAX_SEGMENTS and counts[:7] == [1, 2, 3, 4, 5, 6, 7] and counts[7] == 1
    assert shared > 100  # unchanged segment files keep their ranges from commit to commit
    with mv2.open(path) as r:
        assert sorted(h["frame_id"] for h in r.find("harbor", k=50)) == [i for i in range(20) if i != 3]


@pytest.mark.req("R-VEC-003")
def test_vector_segments_at_least_double_from_newest_to_oldest(tmp_path):
    path = tmp_path / "m.mv2"
    m = mv2.create(path)
    for i in range(100):
        m.put(f"v {i}", timestamp=i, embedding=[float(i), 1.0])
        if i == 50:
            m.delete(7, timestamp=500)
        m.seal()
        with read_snapshot(path) as s:
            sizes = [x["vector_count"] for x in s.toc["segment_catalog"]["vec_segments"]]
            assert s.toc["indexes"]["vec"]["bytes_length"] == 0 and s.toc["indexes"]["vec"]["vector_count"] == sum(sizes)
        assert all(a >= 2 * b for a, b in zip(sizes, sizes[1:])), sizes
    m.close()
    assert len(sizes) <= 7 and sum(sizes) in (99, 100)  # frame 7's vector goes at the merge after its deletion
    with mv2.open(path) as r:
        assert [h["frame_id"] for h in r.find_vector([42.0, 1.0], k=1)] == [42]
        assert 7 not in {h["frame_id"] for h in r.find_vector([7.0, 1.0], k=5)}


def test_a_memvid_index_is_rebuilt_then_extended(tmp_path):
    """memvid's segments have random names: the first commit rebuilds, the next ones extend."""
    import shutil

    src = next(p for p in GOLD_FILES if p.name == "put-loop.mv2" and "2.0.160" in str(p))
    path = tmp_path / src.name
    shutil.copy(src, path)
    with mv2.open(path, "a") as m:
        m.put("first of ours", timestamp=1800000000)
        m.seal()
        assert len(lex_meta(path)[0]["segments"]) == 1
        m.put("second of ours", timestamp=1800000001)
        m.seal()
        assert len(lex_meta(path)[0]["segments"]) == 2
    assert analyze(path).ok


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cached_frame_encodings_give_the_same_toc_bytes(path):
    with read_snapshot(path, apply_wal=False) as s:
        toc, rev = s.toc, s.revision.name
        stored = bytes(s.source.read(s.commit.toc_offset, s.commit.toc_len, what="TOC"))
    cache = FrameEncodings()
    assert encode_toc_with_checksum(toc, rev, cache) == stored == encode_toc_with_checksum(toc, rev)
    if toc["frames"]:  # a changed frame is re-encoded, the others come from the cache
        changed = dict(toc, frames=[dict(toc["frames"][0], status="deleted")] + toc["frames"][1:])
        assert encode_toc_with_checksum(changed, rev, cache) == encode_toc_with_checksum(changed, rev)
        assert encode_toc_with_checksum(toc, rev, cache) == stored


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_live_bytes_is_the_size_of_the_live_intervals(path):
    from mv2.format.references import live_bytes, live_intervals, toc_references

    with read_snapshot(path, apply_wal=False) as s:
        lo, hi = s.data_start, s.commit.toc_offset
        want = sum(b - a for a, b in live_intervals(toc_references(s.toc), lo, hi))
        assert live_bytes(s.toc, lo, hi) == want
        assert live_bytes(s.toc, lo, lo + (hi - lo) // 2) == sum(
            b - a for a, b in live_intervals(toc_references(s.toc), lo, lo + (hi - lo) // 2))


def test_index_scratch_space_falls_back_when_memory_space_is_short(tmp_path, monkeypatch):
    """A small /dev/shm (containers mount 64 MiB) must not make commits or searches fail."""
    import os
    from collections import namedtuple

    Stat = namedtuple("Stat", "f_bavail f_frsize")
    monkeypatch.setattr(lex, "SHM", str(tmp_path))
    monkeypatch.setattr(os, "statvfs", lambda p: Stat(1, 4096))  # 4 KiB free
    assert lex.scratch_root(1 << 20) is None
    monkeypatch.setattr(os, "statvfs", lambda p: Stat(1 << 20, 4096))  # 4 GiB free
    assert lex.scratch_root(1 << 20) == str(tmp_path)
    monkeypatch.setattr(lex, "SHM", str(tmp_path / "missing"))
    assert lex.scratch_root(0) is None
    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        m.put("harbor ledger", timestamp=1)
        m.seal()
        m.put("harbor zebra", timestamp=2)
        assert {h["frame_id"] for h in m.find("harbor")} == {0, 1}
    assert analyze(path).ok


def test_an_index_that_looks_like_ours_but_does_not_open_is_rebuilt():
    """Checksums can be made to match anything: extending must never trust the old files
    beyond what Tantivy accepts, and falls back to a rebuild."""
    files = dict(lex.pack([lex.LexDoc(i, i, f"doc {i} harbor") for i in range(5)]))
    meta = json.loads(files["meta.json"])
    old = meta["segments"][0]["segment_id"].replace("-", "")
    parts = {ext: files.pop(f"{old}.{ext}") for ext in lex.BASE_EXTENSIONS if f"{old}.{ext}" in files}
    parts["term"] = b"\x00garbage" * 16
    new = lex._content_name([(ext, parts[ext]) for ext in lex.BASE_EXTENSIONS if ext in parts])
    files.update({f"{new}.{ext}": data for ext, data in parts.items()})
    meta["segments"][0]["segment_id"] = lex._dashed(new)
    files["meta.json"] = json.dumps(meta).encode()
    forged = sorted(files.items())
    assert lex._is_ours(meta, files)  # it passes every check short of opening it
    with pytest.raises(Exception):  # what Tantivy does with it
        lex._extend(forged, [1], [lex.LexDoc(9, 9, "new harbor doc")])
    assert lex.extend(forged, [1], [lex.LexDoc(9, 9, "new harbor doc")]) is None


@pytest.mark.parametrize("target", ["lex", "vec"])
def test_a_commit_over_index_ranges_outside_the_file_rebuilds(tmp_path, target):
    """The previous commit's index ranges may lie outside the file (memvid leaves stale
    manifests): the next commit rebuilds that index instead of failing."""
    import crafting as C

    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        for i in range(4):
            m.put(f"harbor note {i}", timestamp=i, embedding=[float(i), 1.0])
    data = path.read_bytes()

    def far(t):
        if target == "lex":
            t["indexes"]["lex_segments"][0]["bytes_offset"] = len(data) + 4096
        else:
            t["segment_catalog"]["vec_segments"][0]["common"]["bytes_offset"] = len(data) + 4096
    path.write_bytes(C.rewrite_toc(data, far))
    with mv2.open(path, "a") as m:
        m.put("harbor note 4", timestamp=4, embedding=[4.0, 1.0])
    assert analyze(path).ok
    with mv2.open(path) as m:
        assert {h["frame_id"] for h in m.find("harbor", k=10)} == set(range(5))
        assert [h["frame_id"] for h in m.find_vector([4.0, 1.0], k=1)] == [4]


@pytest.mark.parametrize("name", ["memvid-sdk-2.0.123/single.mv2", "memvid-sdk-2.0.123/vectors-8d.mv2",
                                  "memvid-sdk-2.0.160/single.mv2"])
def test_after_a_commit_the_memory_shows_what_the_file_holds(tmp_path, name):
    """A writer's view after its commit equals a fresh reader's, in every revision (an older
    revision drops fields the writer's values carry, so its TOC is decoded, not reused)."""
    import shutil

    from conftest import GOLD

    path = tmp_path / "m.mv2"
    shutil.copy(GOLD / name, path)
    m = mv2.open(path, "a")
    m.put("a new note about the harbor", timestamp=1_800_000_000)
    m.seal()
    live = m.dump()
    m.close()
    with mv2.open(path) as r:
        assert r.dump() == live


@pytest.mark.parametrize("seed", range(3))
def test_a_writer_that_keeps_its_index_files_writes_the_same_bytes(tmp_path, seed, monkeypatch):
    """A handle keeps the Tantivy files of its last commit (lex.Workspace) and extends them at
    its next commit instead of reading them back from the file. Commit after commit, through
    deletes, supersedes, the segment limit's rebuild and compaction, it writes the same bytes as
    writers that open the file afresh for every commit."""
    import hashlib

    used = []
    real = lex.extend_in
    monkeypatch.setattr(lex, "extend_in", lambda *a: used.append(1) or real(*a))
    rng = random.Random(seed)
    words = ["harbor", "lantern", "pythons", "python", "zebra", "quiet", "ledger", "orbit"]
    script = []
    for step in range(12):
        ops = [("put", " ".join(rng.choice(words) for _ in range(rng.randint(1, 6))), 100 * step + j)
               for j in range(rng.randint(1, 4))]
        if step > 2 and rng.random() < 0.5:
            ops.append(("delete", rng.randrange(3), None))
        if step > 2 and rng.random() < 0.4:
            ops.append(("supersede", rng.randrange(3, 6), 100 * step + 50))
        script.append(ops)

    def apply(m, ops):
        for kind, a, b in ops:
            live = [e["frame_id"] for e in m.timeline()]
            if kind == "put":
                m.put(a, timestamp=b)
            elif live:
                target = live[a % len(live)]
                if kind == "delete":
                    m.delete(target)
                else:
                    m.supersede(target, "replaced text " + words[a], timestamp=b)

    def run(path, fresh: bool) -> list[str]:
        digests = []
        with mv2.create(path, compact_min_dead=1 << 12) as m:
            m.put("first note", timestamp=0)
        m = mv2.open(path, "a", compact_min_dead=1 << 12)
        for ops in script:
            if fresh:
                m.close()
                m = mv2.open(path, "a", compact_min_dead=1 << 12)
            apply(m, ops)
            m.seal()
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        hits = [h["frame_id"] for h in m.find("harbor pythons", k=20)]
        m.close()
        return digests + [str(hits)]

    kept = run(tmp_path / "kept.mv2", fresh=False)
    assert used, "the kept index files were never extended"
    assert kept == run(tmp_path / "fresh.mv2", fresh=True)
    assert analyze(str(tmp_path / "kept.mv2")).ok


def test_a_writer_and_its_searches_share_the_index_files_instead_of_reading_them(tmp_path, monkeypatch):
    """A find after a commit searches the files the commit left in its workspace, and a commit
    after a find extends the files that find unpacked: neither reads the Tantivy files back
    from the memory file. The hits are those of a fresh reader."""
    from mv2.index import context

    path = tmp_path / "s.mv2"
    with mv2.create(path) as m:
        m.put_many([{"content": f"note {i} about harbors and {'pythons' if i % 7 == 0 else 'lanterns'}",
                     "timestamp": i} for i in range(400)])
    calls = {"read index files": 0, "extend from bytes": 0, "extend kept files": 0}

    def spy(module, name, key):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, **k: calls.__setitem__(key, calls[key] + 1) or real(*a, **k))

    spy(context, "_index_files", "read index files")
    spy(lex, "extend", "extend from bytes")
    spy(lex, "extend_in", "extend kept files")
    m = mv2.open(path, "a")
    assert m.find("pythons", k=3)  # unpacks the committed index: the one read of it
    m.put("one more note about pythons", timestamp=1000)
    m.seal()  # extends the files that find unpacked
    m.put("and another about pythons", timestamp=1001)
    m.seal()  # extends its own workspace
    hits = [h["frame_id"] for h in m.find("pythons", k=5)]  # searches the workspace's files
    m.close()
    assert calls == {"read index files": 1, "extend from bytes": 0, "extend kept files": 2}
    with mv2.open(path) as fresh:
        assert [h["frame_id"] for h in fresh.find("pythons", k=5)] == hits
    assert hits[:2] == [401, 400]


@pytest.mark.parametrize("damage", ["meta", "truncate", "remove"])
def test_a_kept_index_file_changed_underneath_is_not_built_on(tmp_path, monkeypatch, damage):
    """A scratch file of the writer's workspace that changed (another process, a full memory
    file system) makes the next commit extend the index from the memory file's checked bytes."""
    import os

    path = tmp_path / "d.mv2"
    m = mv2.create(path)
    m.put_many([{"content": f"note {i} about harbors", "timestamp": i} for i in range(200)])
    m.seal()
    ws = m._lex_ws
    assert ws is not None and ws.matches(m._snap.toc["indexes"]["lex_segments"])
    big = max((n for n in ws.sizes if n.endswith(".store")), key=ws.sizes.get)
    target = os.path.join(ws.directory, "meta.json" if damage == "meta" else big)
    if damage == "meta":
        with open(target, "r+b") as f:
            f.seek(10)
            f.write(b"#")
    elif damage == "truncate":
        os.truncate(target, ws.sizes[big] // 2)
    else:
        os.unlink(target)
    from_bytes = []
    real = lex.extend
    monkeypatch.setattr(lex, "extend", lambda *a, **k: from_bytes.append(1) or real(*a, **k))
    m.put("one more note about harbors", timestamp=500)
    m.seal()
    assert from_bytes
    hits = [h["frame_id"] for h in m.find("harbors", k=3)]
    m.close()
    assert analyze(str(path)).ok
    with mv2.open(path) as fresh:
        assert [h["frame_id"] for h in fresh.find("harbors", k=3)] == hits
