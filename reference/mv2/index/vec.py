"""Vectors: where they are in a file, and the flat segment a writer emits (spec: 9.2).

memvid's rule, which readers follow so that both see the same vectors: if the monolithic
``indexes.vec`` segment exists, matches its checksum and decodes, it holds *all* vectors and
the catalog's vector segments are ignored; otherwise the vectors are those of the catalog
segments. Vectors carried by pending WAL records are added on top.
"""

from __future__ import annotations

import struct

import blake3
import numpy as np

from ..errors import CorruptFileError
from ..format.revisions import decode_exact
from ..format.segments import FlatVecIndex, HnswVecIndex


def decode_vec_segment(data: bytes, *, offset: int = 0) -> dict[int, list[float]]:
    """Frame id → vector from a flat or HNSW vector segment (flat is tried first, as memvid does)."""
    try:
        docs = decode_exact(FlatVecIndex, data, base_offset=offset, what="vec index", default_code="MV2-E-SEG-DECODE")
        return {d.frame_id: list(d.embedding) for d in docs}
    except CorruptFileError:
        idx = decode_exact(HnswVecIndex, data, base_offset=offset, what="vec index", default_code="MV2-E-SEG-DECODE")
        return {fid: list(vec) for fid, vec in zip(idx.ids, idx.graph.features)}


def _valid(snap, off: int, length: int, checksum: bytes) -> bytes | None:
    if not length or not snap.source.contains(off, length):
        return None
    data = snap.source.read(off, length, what="vec segment")
    return data if blake3.blake3(data).digest() == bytes(checksum) else None


def load_vectors(snap) -> dict[int, list[float]]:
    """Every vector the file holds, by frame id, including those of pending records."""
    out: dict[int, list[float]] = {}
    m = snap.toc["indexes"].get("vec")
    mono = _valid(snap, m["bytes_offset"], m["bytes_length"], m["checksum"]) if m else None
    loaded = False
    if mono is not None:
        try:
            out.update(decode_vec_segment(mono, offset=m["bytes_offset"]))
            loaded = True
        except CorruptFileError:
            loaded = False
    if not loaded:
        for x in snap.toc["segment_catalog"]["vec_segments"]:
            c = x["common"]
            data = _valid(snap, c["bytes_offset"], c["bytes_length"], c["checksum"])
            if data is not None:
                try:
                    out.update(decode_vec_segment(data, offset=c["bytes_offset"]))
                except CorruptFileError:
                    continue
    for fr in snap.frames:
        if fr.pending and fr.embedding is not None:
            out[fr.id] = list(fr.embedding)
    return out


def encode_flat(vectors: dict[int, list[float]]) -> bytes:
    """A flat vector segment, sorted by frame id (bincode ``Vec<VecDocument>``)."""
    parts = [struct.pack("<Q", len(vectors))]
    for fid in sorted(vectors):
        v = np.asarray(vectors[fid], dtype="<f4")
        parts.append(struct.pack("<QQ", fid, len(v)) + v.tobytes())
    return b"".join(parts)
