"""Vectors: where they are in a file, and the in-memory store of them (spec: 9.2).

memvid's rule, which readers follow so that both see the same vectors: if the monolithic
``indexes.vec`` segment exists, matches its checksum and decodes, it holds *all* vectors and
the catalog's vector segments are ignored; otherwise the vectors are those of the catalog
segments. Vectors carried by pending WAL records are added on top.

Vectors live in one float32 matrix (:class:`VectorStore`), never as Python lists: at 384
dimensions a list-of-floats per frame costs about 10 KiB and milliseconds to build.
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptFileError
from ..format.vecseg import decode_vec_segment, encode_flat as _encode_flat
from ..storage.replay import pending_states


class VectorStore:
    """Frame id → float32 vector, kept as rows of one matrix that grows by doubling."""

    def __init__(self, dimension: int | None = None):
        self.unsupported: str | None = None  # set when the file's vectors are in a form not specified
        self._rows: dict[int, int] = {}
        self._mat = np.zeros((0, dimension or 0), dtype=np.float32)
        self._fids = np.zeros(0, dtype=np.int64)  # frame id of each row
        self._norms = np.zeros(0, dtype=np.float32)  # squared norms of rows [0, _normed)
        self._normed = 0
        self._n = 0

    @property
    def dimension(self) -> int | None:
        return self._mat.shape[1] if self._n else None

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __contains__(self, frame_id: int) -> bool:
        return frame_id in self._rows

    def ids(self) -> list[int]:
        """The frame ids that have a vector, ascending."""
        return sorted(self._rows)

    def _reserve(self, extra: int, dim: int) -> None:
        if self._n == 0 and self._mat.shape[1] != dim:
            self._mat = np.zeros((0, dim), dtype=np.float32)
        if self._n + extra > len(self._mat):
            grown = np.zeros((max(2 * len(self._mat), self._n + extra, 16), dim), dtype=np.float32)
            grown[: self._n] = self._mat[: self._n]
            self._mat = grown
            fids = np.zeros(len(grown), dtype=np.int64)
            fids[: self._n] = self._fids[: self._n]
            self._fids = fids

    def add_many(self, ids, matrix: np.ndarray) -> None:
        """Set the vectors of ``ids`` (later ids win over earlier ones and over stored ones)."""
        matrix = np.asarray(matrix, dtype=np.float32)
        if not len(ids):
            return
        if self._n and matrix.shape[1] != self._mat.shape[1]:
            raise CorruptFileError(f"vectors of dimension {matrix.shape[1]} next to vectors of dimension "
                                   f"{self._mat.shape[1]}", code="MV2-E-SEG-DECODE")
        self._reserve(len(ids), matrix.shape[1])
        for fid, row in zip((int(i) for i in ids), matrix):
            r = self._rows.get(fid)
            if r is None:
                r = self._rows[fid] = self._n
                self._fids[r] = fid
                self._n += 1
            self._mat[r] = row
            if r < self._normed:
                self._norms[r] = np.dot(row, row)

    def set(self, frame_id: int, vector) -> None:
        v = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        self.add_many([frame_id], v)

    def get(self, frame_id: int) -> list[float] | None:
        r = self._rows.get(frame_id)
        return None if r is None else self._mat[r].tolist()

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame id of each row, the rows, their squared norms): views, not copies; norms
        are computed once per row, so a search after a put does not read every vector twice."""
        n = self._n
        if self._normed < n:
            norms = np.zeros(len(self._mat), dtype=np.float32)
            norms[: self._normed] = self._norms[: self._normed]
            tail = self._mat[self._normed:n]
            norms[self._normed:n] = np.einsum("ij,ij->i", tail, tail)
            self._norms, self._normed = norms, n
        return self._fids[:n], self._mat[:n], self._norms[:n]

    def select(self, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        """(ids sorted ascending, their vectors) for the frame ids in ``allowed`` (all if None)."""
        ids = sorted(f for f in self._rows if allowed is None or f in allowed)
        rows = np.fromiter((self._rows[f] for f in ids), dtype=np.int64, count=len(ids))
        dim = self._mat.shape[1]
        return np.asarray(ids, dtype=np.int64), self._mat[rows].reshape(len(ids), dim)


def _valid(snap, off: int, length: int, checksum: bytes) -> bytes | None:
    return snap.checked_range(off, length, checksum, what="vec segment") if length else None


def load_vectors(snap) -> VectorStore:
    """Every vector the file holds, by frame id, including those of pending records."""
    store = VectorStore()
    m = snap.toc["indexes"].get("vec")
    mono = _valid(snap, m["bytes_offset"], m["bytes_length"], m["checksum"]) if m else None
    loaded = False
    if mono is not None:
        try:
            seg = decode_vec_segment(mono, offset=m["bytes_offset"])
            store.add_many(seg.ids, seg.matrix)
            loaded = True
        except CorruptFileError:
            loaded = False
            if m["compression_mode"] == "pq96":
                # An intact index in memvid's product-quantised form: its body is not specified,
                # and the catalog may not hold all its vectors. Vector search must say so.
                store.unsupported = "the vector index is in the product-quantised (pq96) form, which is not specified"
    if not loaded:
        for x in snap.toc["segment_catalog"]["vec_segments"]:
            c = x["common"]
            data = _valid(snap, c["bytes_offset"], c["bytes_length"], c["checksum"])
            if data is not None:
                try:
                    seg = decode_vec_segment(data, offset=c["bytes_offset"])
                    store.add_many(seg.ids, seg.matrix)
                except CorruptFileError:
                    continue
    for fr in pending_states(snap.frames):
        if fr.embedding is not None:
            try:
                store.set(fr.id, fr.embedding)
            except CorruptFileError:
                continue  # a pending vector of another dimension: no search could use it
    return store


def encode_flat(store: VectorStore, ids) -> bytes:
    """A flat vector segment holding the vectors of ``ids``, sorted by frame id."""
    chosen, matrix = store.select(set(ids))
    return _encode_flat(chosen, matrix)
