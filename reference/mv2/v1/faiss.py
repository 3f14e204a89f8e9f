"""The FAISS index file Memvid V1 writes beside its video: ``IndexIDMap(IndexFlatL2)``.

V1 saves its vectors with ``faiss.write_index`` (``NAME_index.faiss``). For the flat index it
uses by default the file is small and fixed, so it is read here directly rather than through
faiss: every field little-endian, in this order (FAISS ``index_write.cpp``)::

    "IxMp"  header            IndexIDMap
    "IxF2"  header            IndexFlatL2 inside it
    u64 n*d, f32[n*d]         the vectors, row after row
    u64 n,   i64[n]           the id of each row (V1: the chunk id)

    header = i32 d, i64 ntotal, i64 dummy, i64 dummy, u8 is_trained, i32 metric_type
             [+ f32 metric_arg when metric_type > 1]

Anything else (an ``IVF`` index, which V1 builds only when configured to) is refused with a
clear error instead of being guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from construct import Bytes, Const, ConstructError, Int8ul, Int32sl, Int32ul, Int64sl, Int64ul, If, Struct, this

from ..errors import CorruptFileError, UnsupportedError

METRIC_L2 = 1

Header = Struct(
    "d" / Int32sl,
    "ntotal" / Int64sl,
    "dummy1" / Int64sl,
    "dummy2" / Int64sl,
    "is_trained" / Int8ul,
    "metric_type" / Int32ul,
    "metric_arg" / If(this.metric_type > 1, Bytes(4)),
)

IdMapFlat = Struct(
    "map_magic" / Const(b"IxMp"),
    "map_header" / Header,
    "flat_magic" / Const(b"IxF2"),
    "flat_header" / Header,
    "code_count" / Int64ul,
)

VECTORS_OFFSET = 4 + 33 + 4 + 33 + 8  # two magics, two L2 headers (no metric_arg), the float count
MAX_FAISS_BYTES = 1 << 34  # 16 GiB: far above any V1 memory; bounds what a corrupt count may ask for


@dataclass
class FlatIndex:
    """The rows of a V1 FAISS index: ``ids[i]`` is the chunk id of ``vectors[i]``."""

    dimension: int
    ids: np.ndarray      # int64, shape (n,)
    vectors: np.ndarray  # float32, shape (n, d)


def read_flat_index(data: bytes, *, name: str = "FAISS index") -> FlatIndex:
    """Parse an ``IndexIDMap(IndexFlatL2)`` file; every length is checked against the bytes."""
    magic = data[:4]
    if magic != b"IxMp":
        raise UnsupportedError(f"{name}: not an IndexIDMap file (starts with {magic!r}); "
                               "only V1's default Flat index can be imported", code="MV2-E-V1-FORMAT") \
            if magic[:2] == b"Ix" else CorruptFileError(f"{name}: not a FAISS index file", code="MV2-E-V1-FORMAT", offset=0)
    if data[37:41] not in (b"IxF2", b""):
        raise UnsupportedError(f"{name}: the IndexIDMap wraps {data[37:41]!r}, not a flat L2 index (IxF2); "
                               "only V1's default Flat index can be imported", code="MV2-E-V1-FORMAT")
    try:
        head = IdMapFlat.parse(data)
    except ConstructError:
        raise CorruptFileError(f"{name}: the index header is truncated or malformed", code="MV2-E-V1-FORMAT", offset=0) from None
    d, n = head.flat_header.d, head.flat_header.ntotal
    for h in (head.map_header, head.flat_header):
        if h.metric_type != METRIC_L2:
            raise UnsupportedError(f"{name}: metric {h.metric_type} is not L2", code="MV2-E-V1-FORMAT")
    if d <= 0 or n < 0 or head.map_header.d != d or head.map_header.ntotal != n:
        raise CorruptFileError(f"{name}: dimension {d} / count {n} are impossible or disagree with the ID map's",
                               code="MV2-E-V1-FORMAT", offset=4)
    pos = VECTORS_OFFSET
    if head.code_count != n * d or n * d * 4 > min(len(data), MAX_FAISS_BYTES):
        raise CorruptFileError(f"{name}: {head.code_count} stored floats for {n} vectors of dimension {d}",
                               code="MV2-E-V1-FORMAT", offset=pos - 8)
    vec_end = pos + n * d * 4
    if len(data) < vec_end + 8:
        raise CorruptFileError(f"{name}: the file ends inside the vectors", code="MV2-E-V1-FORMAT", offset=len(data))
    id_count = int.from_bytes(data[vec_end:vec_end + 8], "little")
    if id_count != n:
        raise CorruptFileError(f"{name}: {id_count} ids for {n} vectors", code="MV2-E-V1-FORMAT", offset=vec_end)
    end = vec_end + 8 + 8 * n
    if len(data) != end:
        raise CorruptFileError(f"{name}: {len(data) - end:+d} bytes after the ID map (expected the file to end at {end})",
                               code="MV2-E-V1-FORMAT", offset=min(end, len(data)))
    vectors = np.frombuffer(data, dtype="<f4", count=n * d, offset=pos).reshape(n, d).astype(np.float32)
    ids = np.frombuffer(data, dtype="<i8", count=n, offset=vec_end + 8).astype(np.int64)
    if len(set(ids.tolist())) != n:
        raise CorruptFileError(f"{name}: an id appears twice in the ID map", code="MV2-E-V1-FORMAT", offset=vec_end + 8)
    if not np.isfinite(vectors).all():
        raise CorruptFileError(f"{name}: a vector holds NaN or infinity", code="MV2-E-V1-FORMAT", offset=pos)
    return FlatIndex(dimension=d, ids=ids, vectors=vectors)
