"""Vector search: HNSW through hnswlib, with an exact fallback (spec: "Search", vectors).

Distances are Euclidean (L2), as memvid's. The HNSW graph is built in memory the first time
a memory is searched by vector, from the vectors the file holds (``index/vec.py``), with
memvid's parameters M = 16 and ef_construction = 100, one thread and a fixed seed, so that
results are reproducible. Up to ``EXACT_MAX`` vectors, and for filtered searches, the answer is exact instead: one
matrix-vector product over precomputed norms picks candidates, whose distances are then
recomputed directly. At 10 000 × 384 that costs about 0.35 ms on a 2-core machine and at
32 768 about 1.2 ms: on the benchmark's synthetic vectors (docs/benchmarks.md), whose
neighbourhoods are nearly flat, HNSW needs ef ≈ 1000 (1.7 ms at 14 000 vectors) to reach
recall@10 0.95, so below this size exact search is both faster and right. Above it, HNSW
searches with ``ef`` = max(256, 8 k); pass ``exact=True`` for the true answer at any size.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 100
EXACT_MAX = 32_768
HNSW_EF_MIN = 256
CANDIDATES_MIN = 64  # below this many vectors, exact search computes every distance directly
SEED = 100


class VectorIndex:
    def __init__(self, ids: np.ndarray, matrix: np.ndarray):
        """``ids`` ascending, ``matrix[i]`` the vector of ``ids[i]`` (see ``VectorStore.select``)."""
        self.ids = np.asarray(ids, dtype=np.int64)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.dimension = int(self.matrix.shape[1]) if self.matrix.ndim == 2 else 0
        self.norms = np.einsum("ij,ij->i", self.matrix, self.matrix)
        self._hnsw = None

    def __len__(self) -> int:
        return len(self.ids)

    def _graph(self):
        if self._hnsw is None:
            import hnswlib

            g = hnswlib.Index(space="l2", dim=self.dimension)
            g.init_index(max_elements=len(self.ids), ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M, random_seed=SEED)
            g.add_items(self.matrix, np.arange(len(self.ids)), num_threads=1)
            self._hnsw = g
        return self._hnsw

    def exact(self, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        m = self.matrix if mask is None else self.matrix[mask]
        ids = self.ids if mask is None else self.ids[mask]
        if not len(ids):
            return []
        k = min(k, len(ids))
        if len(ids) > CANDIDATES_MIN:
            # ||m - q||² - ||q||² = ||m||² - 2 m·q: one matrix product ranks everything. Its
            # float32 rounding is bounded (a dot product of d terms errs by at most about
            # d·2⁻²⁴ of |m||q|, doubled here for safety), so every vector whose lower bound
            # is within the k-th smallest upper bound is kept, and only those get direct
            # distances. The answer is the brute-force one; near-ties only cost more candidates.
            norms = self.norms if mask is None else self.norms[mask]
            rough = norms - 2.0 * (m @ q)
            gamma = np.float32((self.dimension + 4) * 2.0 ** -23)
            err = gamma * (norms + 2.0 * np.sqrt(norms) * np.float32(np.sqrt(q @ q)) + np.abs(rough))
            upper = np.partition(rough + err, k - 1)[k - 1]
            cand = np.flatnonzero(rough - err <= upper)
            m, ids = m[cand], ids[cand]
        d = ((m - q) ** 2).sum(axis=1)
        # Every vector as close as the k-th, so that a tie at the cut goes to the lower frame id.
        part = np.flatnonzero(d <= np.partition(d, k - 1)[k - 1]) if k < len(ids) else np.arange(len(ids))
        order = part[np.lexsort((ids[part], d[part]))][:k]  # by distance, then by frame id
        return [(int(ids[i]), float(d[i])) for i in order]

    def search(self, vector, k: int, *, mask: np.ndarray | None = None, exact: bool = False) -> list[tuple[int, float]]:
        if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
            raise UsageError(f"k must be a positive integer, not {k!r}")
        try:
            q = np.asarray(vector, dtype=np.float32).reshape(-1)
        except (TypeError, ValueError):
            raise UsageError("the query vector must be a sequence of numbers") from None
        if not len(self.ids):
            return []
        if q.shape[0] != self.dimension:
            raise UsageError(f"the query vector has dimension {q.shape[0]}; this memory's vectors have {self.dimension}")
        if not np.all(np.isfinite(q)):
            raise UsageError("the query vector contains NaN or infinite values")
        if exact or mask is not None or len(self.ids) <= EXACT_MAX:
            return self.exact(q, k, mask)
        g = self._graph()
        k = min(k, len(self.ids))
        g.set_ef(max(HNSW_EF_MIN, 8 * k))
        labels, dists = g.knn_query(q.reshape(1, -1), k=k, num_threads=1)
        return [(int(self.ids[i]), float(d)) for i, d in zip(labels[0], dists[0])]
