"""Vector search: exact nearest neighbours by L2 distance (spec: "Search", vectors, 14.5).

Distances are Euclidean (L2), as memvid's. The answer is always the brute-force one: one
float32 matrix-vector product over precomputed norms ranks every vector, a proven rounding
bound keeps every vector that could belong to the top k, and only those get direct
distances. Its cost is one pass over the matrix (n x d x 4 bytes), so it is bound by memory
bandwidth: about 1 ms at 10 000 x 384 and 2 ms near 20 000 on an idle 2-core machine, then
linear (docs/benchmarks.md).

No graph is built per handle. An approximate graph would have to be stored in the file to
pay off (building one takes seconds at 40 000 vectors, longer than thousands of exact
queries), and the graph layout memvid reads (9.2, HNSW) is one monolithic index holding
every vector, which every commit would rewrite whole; see spec 14.5.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .rows import StackedRows

CANDIDATES_MIN = 64  # below this many vectors, exact search computes every distance directly


class VectorIndex:
    def __init__(self, ids: np.ndarray, matrix: np.ndarray, *, norms: np.ndarray | None = None,
                 allowed: np.ndarray | None = None):
        """``matrix[i]`` the vector of frame ``ids[i]``, in any order (ties are broken by id);
        ``norms[i]`` its squared norm when known; ``allowed[i]`` whether row ``i`` may be
        returned (None: all). The matrix (an array or :class:`StackedRows`) is used in place, never
        copied, unless its layout is one BLAS cannot take."""
        self.ids = np.asarray(ids, dtype=np.int64)
        self.matrix = matrix if isinstance(matrix, StackedRows) else StackedRows([np.asarray(matrix)])
        self.dimension = int(self.matrix.shape[1])
        self.norms = norms if norms is not None else self.matrix.sq_norms()
        self.allowed = None if allowed is None or allowed.all() else allowed

    def __len__(self) -> int:
        return len(self.ids) if self.allowed is None else int(self.allowed.sum())

    def exact(self, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        if self.allowed is not None:
            mask = self.allowed if mask is None else (mask & self.allowed)
        n_ok = len(self.ids) if mask is None else int(np.count_nonzero(mask))
        if not n_ok:
            return []
        k = min(k, n_ok)
        if n_ok > CANDIDATES_MIN:
            # ||m - q||² - ||q||² = ||m||² - 2 m·q: one matrix product ranks everything. Its
            # float32 rounding is bounded (a dot product of d terms errs by at most about
            # d·2⁻²⁴ of |m||q|, doubled here for safety), so every vector whose lower bound
            # is within the k-th smallest upper bound is kept, and only those get direct
            # distances. The answer is the brute-force one; near-ties only cost more candidates.
            norms = self.norms
            rough = norms - 2.0 * (self.matrix @ q)
            gamma = np.float32((self.dimension + 4) * 2.0 ** -23)
            err = gamma * (norms + 2.0 * np.sqrt(norms) * np.float32(np.sqrt(q @ q)) + np.abs(rough))
            high = rough + err
            if mask is not None:
                high[~mask] = np.inf  # rows that may not be returned never set the bound
            upper = np.partition(high, k - 1)[k - 1]
            ok = rough - err <= upper
            cand = np.flatnonzero(ok if mask is None else ok & mask)
        else:
            cand = np.arange(len(self.ids)) if mask is None else np.flatnonzero(mask)
        m, ids = self.matrix[cand], self.ids[cand]
        d = ((m - q) ** 2).sum(axis=1)
        # Every vector as close as the k-th, so that a tie at the cut goes to the lower frame id.
        part = np.flatnonzero(d <= np.partition(d, k - 1)[k - 1]) if k < len(ids) else np.arange(len(ids))
        order = part[np.lexsort((ids[part], d[part]))][:k]  # by distance, then by frame id
        return [(int(ids[i]), float(d[i])) for i in order]

    def search(self, vector, k: int, *, mask: np.ndarray | None = None, exact: bool = True) -> list[tuple[int, float]]:
        """The ``k`` nearest (frame id, squared distance), nearest first, ties to the lower id
        (``exact`` is accepted for compatibility: every search is exact)."""
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
        return self.exact(q, k, mask)
