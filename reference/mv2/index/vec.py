"""Vectors: where they are in a file, and the in-memory store of them (spec: 9.2).

memvid's rule, which readers follow so that both see the same vectors: if the monolithic
``indexes.vec`` segment exists, matches its checksum and decodes, it holds *all* vectors and
the catalog's vector segments are ignored; otherwise the vectors are those of the catalog
segments. Vectors carried by pending WAL records are added on top.

Vectors live in float32 matrices (:class:`VectorStore`), never as Python lists: at 384
dimensions a list-of-floats per frame costs about 10 KiB and milliseconds to build.
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptFileError
from ..format.vecseg import decode_vec_segment, encode_flat as _encode_flat
from ..storage.replay import pending_states
from .rows import StackedRows


class VectorStore:
    """Frame id → float32 vector.

    A store read from a file starts with its *base*: each segment's vectors adopted in place
    as a block (a read-only view of the bytes read, rows strided as the flat layout stores
    them; see :mod:`.rows`), their frame ids sorted for lookup. Loading therefore costs one
    read and one hash per segment, not a Python step or a copy per vector. Vectors set later
    (pending records, puts) go into an *overlay* matrix after the base, which grows by doubling
    and is found by a dict; a vector set for a frame the base holds leaves the base's row
    behind with frame id -1, which no search returns.

    Rows are numbered base first, then overlay; ``rows()`` gives every row with its frame id.
    """

    def __init__(self, dimension: int | None = None):
        self.unsupported: str | None = None  # set when the file's vectors are in a form not specified
        self._dim = dimension or 0
        self._blocks: list[np.ndarray] = []  # the base's blocks, read-only
        self._base_n = 0  # rows in the base
        self._base_ids = np.zeros(0, dtype=np.int64)  # the base's live frame ids, sorted ...
        self._base_rows = np.zeros(0, dtype=np.int64)  # ... and the row of each
        self._over = np.zeros((0, self._dim), dtype=np.float32)  # overlay rows (capacity grows)
        self._over_n = 0
        self._rows: dict[int, int] = {}  # frame id → its row in the overlay
        self._fids = np.zeros(0, dtype=np.int64)  # frame id of each row (-1: a row overridden)
        self._count = 0  # frame ids with a vector
        self._norms = np.zeros(0, dtype=np.float32)  # squared norms of rows [0, _normed)
        self._normed = 0
        self._stack: StackedRows | None = None  # the rows as one matrix, until they change

    @classmethod
    def from_segments(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> "VectorStore":
        """A store holding ``parts`` (frame ids, matrix) in order: a later part's vector of a
        frame wins over an earlier one's (and a later row over an earlier one in one part), as
        :meth:`add_many` would have it. The matrices are used in place."""
        parts = [(np.asarray(i, dtype=np.int64), m) for i, m in parts if len(i)]
        store = cls()
        if not parts:
            return store
        dims = {m.shape[1] for _, m in parts}
        if len(dims) > 1:
            raise CorruptFileError(f"vectors of dimensions {sorted(dims)} side by side", code="MV2-E-SEG-DECODE")
        ids = np.concatenate([i for i, _ in parts]) if len(parts) > 1 else parts[0][0].copy()
        # Each id's last row wins: unique over the reversed ids finds it.
        uniq, first_rev = np.unique(ids[::-1], return_index=True)
        rows = (len(ids) - 1 - first_rev).astype(np.int64)
        if len(uniq) != len(ids):
            dead = np.ones(len(ids), dtype=bool)
            dead[rows] = False
            ids[dead] = -1  # rows that lost to a later one are never returned
        store._dim = int(dims.pop())
        store._blocks = [m for _, m in parts]
        store._base_n = len(ids)
        store._fids = ids
        store._base_ids, store._base_rows = uniq, rows
        store._over = np.zeros((0, store._dim), dtype=np.float32)
        store._count = len(uniq)
        return store

    @property
    def dimension(self) -> int | None:
        return self._dim if self._count else None

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def _row(self, frame_id: int) -> int | None:
        """The row holding ``frame_id``'s vector (base rows first, then the overlay's)."""
        o = self._rows.get(frame_id)
        if o is not None:
            return self._base_n + o
        b = self._base_ids
        i = int(np.searchsorted(b, frame_id))
        return int(self._base_rows[i]) if i < len(b) and b[i] == frame_id else None

    def __contains__(self, frame_id: int) -> bool:
        return self._row(frame_id) is not None

    def _all_ids(self) -> np.ndarray:
        if not self._rows:
            return self._base_ids
        return np.union1d(self._base_ids, np.fromiter(self._rows, dtype=np.int64, count=len(self._rows)))

    def ids(self) -> list[int]:
        """The frame ids that have a vector, ascending."""
        return self._all_ids().tolist()

    def _matrix(self) -> StackedRows:
        m = self._stack
        if m is None or len(m) != self._base_n + self._over_n or (self._over_n and m.blocks[-1].base is not self._over):
            m = self._stack = StackedRows(self._blocks + [self._over[: self._over_n]], self._dim)
        return m

    def _reserve(self, extra: int, dim: int) -> None:
        if self._count == 0 and self._base_n == 0 and self._over_n == 0 and self._dim != dim:
            self._dim, self._over = dim, np.zeros((0, dim), dtype=np.float32)
        if self._over_n + extra > len(self._over):
            grown = np.zeros((max(2 * len(self._over), self._over_n + extra, 16), dim), dtype=np.float32)
            grown[: self._over_n] = self._over[: self._over_n]
            self._over = grown
        total = self._base_n + len(self._over)
        if total > len(self._fids):
            fids = np.full(total, -1, dtype=np.int64)
            fids[: self._base_n + self._over_n] = self._fids[: self._base_n + self._over_n]
            self._fids = fids

    def add_many(self, ids, matrix: np.ndarray) -> None:
        """Set the vectors of ``ids`` (later ids win over earlier ones and over stored ones)."""
        matrix = np.asarray(matrix, dtype=np.float32)
        if not len(ids):
            return
        if self._count and matrix.shape[1] != self._dim:
            raise CorruptFileError(f"vectors of dimension {matrix.shape[1]} next to vectors of dimension "
                                   f"{self._dim}", code="MV2-E-SEG-DECODE")
        self._reserve(len(ids), matrix.shape[1])
        for fid, vec in zip((int(i) for i in ids), matrix):
            o = self._rows.get(fid)
            if o is None:
                old = self._row(fid)  # a base row: left behind, no longer this frame's
                if old is not None:
                    self._fids[old] = -1
                else:
                    self._count += 1
                o = self._rows[fid] = self._over_n
                self._fids[self._base_n + o] = fid
                self._over_n += 1
            self._over[o] = vec
            r = self._base_n + o
            if r < self._normed:
                self._norms[r] = np.dot(vec, vec)

    def set(self, frame_id: int, vector) -> None:
        v = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        self.add_many([frame_id], v)

    def vector(self, frame_id: int) -> np.ndarray | None:
        """``frame_id``'s vector as a float32 row (a view: not to be written), or None."""
        o = self._rows.get(frame_id)
        if o is not None:
            return self._over[o]
        r = self._row(frame_id)
        return None if r is None else self._matrix().row(r)

    def get(self, frame_id: int) -> list[float] | None:
        v = self.vector(frame_id)
        return None if v is None else v.tolist()

    def rows(self) -> tuple[np.ndarray, StackedRows, np.ndarray]:
        """(frame id of each row, -1 for rows overridden; the rows; their squared norms). The
        norms are computed once per row, so a search after a put does not read every vector twice."""
        mat = self._matrix()
        n = len(mat)
        if self._normed < n:
            norms = np.zeros(max(len(self._norms), n), dtype=np.float32)
            norms[: self._normed] = self._norms[: self._normed]
            norms[self._normed:n] = mat.sq_norms(self._normed, n)
            self._norms, self._normed = norms, n
        return self._fids[:n], mat, self._norms[:n]

    def select(self, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        """(ids sorted ascending, their vectors) for the frame ids in ``allowed`` (all if None)."""
        ids = self._all_ids()
        if allowed is not None:
            want = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            ids = ids[np.isin(ids, want)]
        if self._rows:
            rows = np.fromiter((self._row(int(f)) for f in ids), dtype=np.int64, count=len(ids))
        else:
            rows = self._base_rows[np.searchsorted(self._base_ids, ids)]
        return ids, self._matrix().take(rows).reshape(len(ids), self._dim)


def _valid(snap, off: int, length: int, checksum: bytes) -> bytes | None:
    return snap.checked_range(off, length, checksum, what="vec segment") if length else None


def load_vectors(snap) -> VectorStore:
    """Every vector the file holds, by frame id, including those of pending records."""
    m = snap.toc["indexes"].get("vec")
    mono = _valid(snap, m["bytes_offset"], m["bytes_length"], m["checksum"]) if m else None
    parts: list | None = None
    unsupported = None
    if mono is not None:
        try:
            seg = decode_vec_segment(mono, offset=m["bytes_offset"])
            parts = [(seg.ids, seg.matrix)]
        except CorruptFileError:
            if m["compression_mode"] == "pq96":
                # An intact index in memvid's product-quantised form: its body is not specified,
                # and the catalog may not hold all its vectors. Vector search must say so.
                unsupported = "the vector index is in the product-quantised (pq96) form, which is not specified"
    if parts is None:
        parts = []
        for x in snap.toc["segment_catalog"]["vec_segments"]:
            c = x["common"]
            data = _valid(snap, c["bytes_offset"], c["bytes_length"], c["checksum"])
            if data is not None:
                try:
                    seg = decode_vec_segment(data, offset=c["bytes_offset"])
                except CorruptFileError:
                    continue
                if parts and len(seg.ids) and seg.matrix.shape[1] != parts[0][1].shape[1]:
                    continue  # a segment of another dimension: as add_many would, it is not used
                parts.append((seg.ids, seg.matrix))
    store = VectorStore.from_segments(parts)
    store.unsupported = unsupported
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
