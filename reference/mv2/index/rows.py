"""Several float32 matrices of one width addressed as one, without copying them (spec 9.2).

A file's vectors sit in several catalog segments; each is adopted as a view of the bytes read
(:mod:`..format.vecseg`). Joining them into one matrix would mean writing every vector again
into memory the process has never touched, which costs more than reading the file (on a
fresh process, 400 ms for 150 MB against 15 ms for the read itself). Vector search needs only
a matrix-vector product over all rows and the rows of a few candidates, so the blocks are
kept apart and those two operations work block by block.
"""

from __future__ import annotations

import numpy as np


def _blasable(m: np.ndarray) -> bool:
    """Whether BLAS can use ``m`` as it is: float32 rows of unit element stride whose row
    stride is a whole number of floats (a flat segment's records have a 16-byte header)."""
    return (m.dtype == np.float32 and m.ndim == 2 and m.strides[1] == 4
            and m.strides[0] % 4 == 0 and m.strides[0] >= 4 * m.shape[1])


class StackedRows:
    """The rows of ``blocks`` one after another, as one read-only (n, d) float32 matrix."""

    __slots__ = ("blocks", "starts", "shape")
    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, blocks: list[np.ndarray], dimension: int | None = None):
        if dimension is None:
            dimension = next((b.shape[1] for b in blocks if np.ndim(b) == 2), 0)
        self.blocks = [b if _blasable(b) else np.ascontiguousarray(b, dtype=np.float32).reshape(len(b), dimension)
                       for b in blocks if np.size(b)]
        if any(b.shape[1] != dimension for b in self.blocks):
            raise ValueError("blocks of different widths")
        self.starts = np.cumsum([0] + [len(b) for b in self.blocks])
        self.shape = (int(self.starts[-1]), int(dimension))

    def __len__(self) -> int:
        return self.shape[0]

    def __matmul__(self, q: np.ndarray) -> np.ndarray:
        if len(self.blocks) == 1:
            return self.blocks[0] @ q
        if not self.blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([b @ q for b in self.blocks])

    def sq_norms(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Squared norms of rows [start, stop)."""
        stop = self.shape[0] if stop is None else stop
        out = [np.einsum("ij,ij->i", b[max(start - s, 0):stop - s], b[max(start - s, 0):stop - s])
               for b, s in zip(self.blocks, self.starts.tolist()) if s < stop and s + len(b) > start]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def row(self, r: int) -> np.ndarray:
        b = int(np.searchsorted(self.starts, r, side="right")) - 1
        return self.blocks[b][r - int(self.starts[b])]

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows, in the given order, as a new contiguous matrix."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(self.blocks) == 1:
            return np.ascontiguousarray(self.blocks[0][rows])
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for b in np.unique(which).tolist():
            sel = which == b
            out[sel] = self.blocks[b][rows[sel] - self.starts[b]]
        return out

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            return self.row(int(rows))
        return self.take(rows)
