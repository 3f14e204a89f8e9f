"""Vector segment bodies as numpy arrays (spec: 9.2, "Vector index segments").

The Construct definitions in :mod:`.segments` (``FlatVecIndex``, ``HnswVecIndex``) are the
truth; this module only decodes and encodes them fast. A segment of n vectors of dimension d
is n·d floats, and walking it value by value through the interpreter costs seconds at a few
thousand vectors. So:

* the flat form whose records all have the same dimension is one regular array of records
  ``(frame_id u64, d u64, d × f32)``; it is read with one numpy view after checking that every
  length field says d and the body has exactly the right size;
* anything else (ragged dimensions, the HNSW form) goes through the generated codec, and
  when that has any doubt the interpreter decides and names the error and offset.

Vectors of different dimensions in one segment are rejected: no search can use them, and
memvid's own builder never writes them.
"""

from __future__ import annotations

import struct

import numpy as np

from ..errors import CorruptFileError
from .revisions import decode_exact, decode_fast
from .segments import FlatVecIndex, HnswVecIndex

_U64 = struct.Struct("<Q")


class VecSegment:
    """The decoded vectors of one segment: ``ids[i]`` is the frame id of ``matrix[i]``."""

    __slots__ = ("form", "ids", "matrix")

    def __init__(self, form: str, ids: np.ndarray, matrix: np.ndarray):
        self.form = form  # "flat" or "hnsw"
        self.ids = ids  # uint64, in segment order
        self.matrix = matrix  # float32, shape (len(ids), dimension); may be a read-only strided view of the bytes

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.ids)


def _record_dtype(dim: int) -> np.dtype:
    return np.dtype([("frame_id", "<u8"), ("dim", "<u8"), ("vector", "<f4", (dim,))])


def _flat_regular(data) -> VecSegment | None:
    """The flat form when every record has one dimension; None when it is not that simple."""
    if len(data) < 8:
        return None
    n = _U64.unpack_from(data, 0)[0]
    if n == 0:
        return VecSegment("flat", np.zeros(0, np.uint64), np.zeros((0, 0), np.float32)) if len(data) == 8 else None
    if len(data) < 24:
        return None
    dim = _U64.unpack_from(data, 16)[0]
    if dim == 0 or (len(data) - 8) % (16 + 4 * dim) or (len(data) - 8) // (16 + 4 * dim) != n:
        return None
    recs = np.frombuffer(data, dtype=_record_dtype(dim), count=n, offset=8)
    if not (recs["dim"] == dim).all():
        return None
    # The vectors stay a view of ``data`` (rows strided by the record size, which BLAS takes as
    # is): copying a 100k × 384 segment would cost as much as reading it.
    return VecSegment("flat", recs["frame_id"].copy(), recs["vector"])


def _uniform(form: str, ids, vectors, *, offset: int) -> VecSegment:
    dims = {len(v) for v in vectors}
    if len(dims) > 1:
        raise CorruptFileError(f"vec index mixes vectors of dimensions {sorted(dims)}", code="MV2-E-SEG-DECODE", offset=offset)
    dim = dims.pop() if dims else 0
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), dim)
    return VecSegment(form, np.asarray(ids, dtype=np.uint64), matrix)


def decode_vec_segment(data, *, offset: int = 0) -> VecSegment:
    """Decode a flat or HNSW vector segment (flat is tried first, as memvid's reader does).

    ``offset`` is the file offset of ``data[0]``, so that errors name a file offset.
    """
    seg = _flat_regular(data)
    if seg is not None:
        return seg
    data = bytes(data)
    try:
        docs = decode_fast(FlatVecIndex, data, base_offset=offset, what="vec index", default_code="MV2-E-SEG-DECODE")
        return _uniform("flat", [d["frame_id"] for d in docs], [d["embedding"] for d in docs], offset=offset)
    except CorruptFileError as flat_error:
        try:
            idx = decode_fast(HnswVecIndex, data, base_offset=offset, what="vec index (HNSW form)",
                              default_code="MV2-E-SEG-DECODE")
        except CorruptFileError:
            raise flat_error from None  # report the flat form's failure: it is the form tried first
        feats = idx["graph"]["features"]
        if len(feats) != len(idx["ids"]):
            raise CorruptFileError(f"HNSW vec index has {len(feats)} vectors but {len(idx['ids'])} ids",
                                   code="MV2-E-SEG-DECODE", offset=offset) from None
        return _uniform("hnsw", idx["ids"], feats, offset=offset)


def encode_flat(ids, matrix) -> bytes:
    """The flat form of the given vectors, in the order given (bincode ``Vec<VecDocument>``)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    n = len(ids)
    if not n:
        return _U64.pack(0)  # an empty Vec: no records, so no dimension
    dim = matrix.shape[1]
    recs = np.empty(n, dtype=_record_dtype(dim))
    recs["frame_id"] = np.asarray(ids, dtype=np.uint64)
    recs["dim"] = dim
    recs["vector"] = matrix
    return _U64.pack(n) + recs.tobytes()


def check_against_schema(data) -> None:
    """Test hook: decode with the interpreter only (the oracle the fast paths must agree with)."""
    decode_exact(FlatVecIndex, bytes(data), base_offset=0, what="vec index", default_code="MV2-E-SEG-DECODE")
