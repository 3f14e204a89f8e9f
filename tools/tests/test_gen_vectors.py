"""The committed golden vectors are exactly what the writer produces today."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gen_vectors  # noqa: E402


@pytest.mark.req("R-DET-001")
def test_vectors_are_reproduced():
    assert gen_vectors.run(write=False) == []


@pytest.mark.req("R-DUR-001")
def test_negative_and_crash_vectors_are_reproduced():
    assert gen_vectors.negative(write=False) == []
    assert gen_vectors.crash(write=False) == []


def test_every_vector_verifies(tmp_path):
    import mv2

    for name, sc in gen_vectors.scenarios().items():
        gen_vectors.produce(name, sc, tmp_path)
        a = mv2.verify(tmp_path / f"{name}.mv2")
        assert a.ok, (name, a.first_error)
        assert not a.warnings, (name, a.warnings)


def test_scenarios_do_what_they_say(tmp_path):
    """The growth, full-WAL and compaction vectors really grow, commit and compact."""
    import mv2

    sc = gen_vectors.scenarios()
    stats, gaps = {}, {}
    for name in ("wal-full", "wal-grow-pending", "compaction"):
        gen_vectors.produce(name, sc[name], tmp_path)
        with mv2.open(tmp_path / f"{name}.mv2") as m:
            stats[name] = m.stats()
        gaps[name] = sum(r.length for r in mv2.verify(tmp_path / f"{name}.mv2").regions if r.kind == "gap")
    assert not any(op["op"] == "seal" for op in sc["wal-full"]["ops"])
    assert stats["wal-full"]["wal_size"] == 4096 and stats["wal-full"]["generation"] > 2  # it committed on its own
    # Three doublings (4 -> 32 KiB) carrying pending records, no commit, then the closing commit
    # gives the growth back: the WAL is 4 KiB again.
    assert stats["wal-grow-pending"]["generation"] == 4 and stats["wal-grow-pending"]["wal_size"] == 4096
    assert gaps["wal-full"] > 0
    # With compaction, dead bytes never outnumber live ones after a commit; without it (the
    # same operations, default policy) they pile up.
    plain = dict(sc["compaction"], policy={})
    gen_vectors.produce("no-compaction", plain, tmp_path)
    size = {n: (tmp_path / f"{n}.mv2").stat().st_size for n in ("compaction", "no-compaction")}
    live = size["compaction"] - gaps["compaction"]
    assert gaps["compaction"] < live and size["compaction"] < size["no-compaction"]


def test_the_many_commits_vector_has_segments_deletions_and_merged_vectors(tmp_path):
    import json

    from mv2.storage.snapshot import read_snapshot

    gen_vectors.produce("many-commits", gen_vectors.scenarios()["many-commits"], tmp_path)
    with read_snapshot(tmp_path / "many-commits.mv2") as s:
        lex = s.toc["indexes"]["lex_segments"]
        meta_entry = next(x for x in lex if x["path"] == "meta.json")
        meta = json.loads(s.source.read(meta_entry["bytes_offset"], meta_entry["bytes_length"], what="meta.json"))
        sizes = [x["vector_count"] for x in s.toc["segment_catalog"]["vec_segments"]]
        seals = sum(op["op"] == "seal" for op in gen_vectors.scenarios()["many-commits"]["ops"])
    # More commits than the segment limit: it was rebuilt once and has grown again since.
    assert seals > 7 and 1 < len(meta["segments"]) < seals
    assert any(x["path"].endswith(".del") for x in lex)
    assert len(sizes) > 1 and all(a >= 2 * b for a, b in zip(sizes, sizes[1:]))
