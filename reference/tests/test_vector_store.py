"""The vector store (index/vec.py, spec 9.2): a file's vectors adopted in place from their
segments give exactly what setting them one by one gives, and a handle reads them only when
a vector search or a write needs them."""

from __future__ import annotations

import numpy as np
import pytest

import mv2
from mv2.format.vecseg import decode_vec_segment, encode_flat
from mv2.index.vec import VectorStore
from mv2.index.vecsearch import VectorIndex


def _one_by_one(parts):
    s = VectorStore()
    for ids, mat in parts:
        s.add_many(ids, mat)
    return s


def _same(a: VectorStore, b: VectorStore):
    assert a.ids() == b.ids() and len(a) == len(b) and a.dimension == b.dimension
    for f in a.ids():
        assert a.get(f) == b.get(f)
    ia, ma = a.select()
    ib, mb = b.select()
    assert ia.tolist() == ib.tolist() and np.array_equal(ma, mb)
    some = set(a.ids()[::3])
    assert a.select(some)[0].tolist() == sorted(some)
    assert np.array_equal(a.select(some)[1], b.select(some)[1])


@pytest.mark.parametrize("seed", range(6))
def test_adopted_segments_equal_vectors_set_one_by_one(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 9))
    parts = []
    for _ in range(int(rng.integers(1, 5))):
        n = int(rng.integers(0, 40))
        ids = rng.integers(0, 60, size=n)  # repeats inside and across parts: the last one wins
        mat = rng.normal(size=(n, d)).astype(np.float32)
        # As read from a file: a read-only strided view of the flat records.
        seg = decode_vec_segment(memoryview(encode_flat(ids, mat)).toreadonly())
        parts.append((seg.ids, seg.matrix))
    adopted, plain = VectorStore.from_segments(parts), _one_by_one(parts)
    _same(adopted, plain)
    # Later sets (a put, a pending record) override adopted rows and add new ones, norms included.
    extra_ids = [int(rng.integers(0, 80)) for _ in range(10)]
    extra = rng.normal(size=(10, d)).astype(np.float32)
    for s in (adopted, plain):
        s.rows()  # norms computed before the override must follow it
        s.add_many(extra_ids, extra)
    _same(adopted, plain)
    for s in (adopted, plain):
        ids, mat, norms = s.rows()
        live = ids >= 0  # rows left behind by a later vector of their frame say -1
        assert sorted(ids[live].tolist()) == s.ids()  # every frame's vector exactly once
        got = mat[np.flatnonzero(live)]
        assert np.array_equal(got, np.array([s.get(int(f)) for f in ids[live]], dtype=np.float32))
        assert np.allclose(norms[live], (got ** 2).sum(axis=1))


def test_segments_of_two_dimensions_are_refused():
    with pytest.raises(mv2.CorruptFileError):
        VectorStore.from_segments([(np.array([1]), np.ones((1, 2), np.float32)),
                                   (np.array([2]), np.ones((1, 3), np.float32))])


def test_a_strided_matrix_is_searched_in_place():
    rng = np.random.default_rng(1)
    ids = np.arange(500)
    mat = rng.normal(size=(500, 12)).astype(np.float32)
    seg = decode_vec_segment(encode_flat(ids, mat))
    assert not seg.matrix.flags.c_contiguous  # the records' header sits between rows
    ix = VectorIndex(seg.ids, seg.matrix)
    assert np.shares_memory(ix.matrix.blocks[0], seg.matrix)
    plain = VectorIndex(ids, mat)
    for q in rng.normal(size=(10, 12)).astype(np.float32):
        assert ix.exact(q, 10) == plain.exact(q, 10)


def test_vectors_are_read_only_when_needed(tmp_path):
    rng = np.random.default_rng(2)
    vecs = rng.normal(size=(300, 8)).astype(np.float32)
    path = tmp_path / "v.mv2"
    with mv2.create(path) as m:
        m.put_many([{"content": f"doc {i} harbor", "timestamp": i, "embedding": vecs[i].tolist()} for i in range(200)])
    with mv2.open(path) as m:
        m.find("harbor")
        m.timeline(limit=5)
        assert m._vector_store is None  # open, lexical search and the timeline never read vectors
        assert [h["frame_id"] for h in m.find_vector(vecs[7].tolist(), k=1)] == [7]
    with mv2.open(path, "a") as m:
        # Puts before anything read the vectors: the store, read then, holds old and new.
        m.put_many([{"content": f"doc {i}", "timestamp": i, "embedding": vecs[i].tolist()} for i in range(200, 300)])
        for i in (5, 250):
            assert [h["frame_id"] for h in m.find_vector(vecs[i].tolist(), k=1)] == [i]
        m.seal()
        assert m.find_vector(vecs[299].tolist(), k=1)[0]["frame_id"] == 299
    with mv2.open(path) as m:
        assert m.stats()["vector_count"] == 300
        got = [h["frame_id"] for h in m.find_vector(vecs[123].tolist(), k=5)]
        want = np.argsort(((vecs - vecs[123]) ** 2).sum(axis=1), kind="stable")[:5].tolist()
        assert got == want
