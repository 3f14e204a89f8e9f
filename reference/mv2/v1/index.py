"""The index JSON Memvid V1 writes beside its video (``NAME_index.json``).

V1's ``IndexManager.save`` writes four keys: ``metadata`` (one ``{id, text, frame, length}``
per chunk that was embedded, in id order), ``chunk_to_frame`` and ``frame_to_chunks`` (the
same mapping both ways, keys as strings) and ``config`` (the settings it ran with, including
``embedding.model`` and ``embedding.dimension``). Chunks V1 refused to embed (empty, or over
8,192 characters after stripping) are in the video but have no entry, so from the first such
chunk on the chunk ``id`` trails the ``frame`` number. There are no timestamps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import CorruptFileError, MV2Error

MAX_INDEX_JSON_BYTES = 1 << 32
MAX_SKIPPED = 1 << 20
"""Frame numbers an index may skip (chunks V1 did not embed) before it is not taken for a V1
index: each is a whole video frame, so a real memory skips few."""
MAX_FRAME = 1 << 31


@dataclass(frozen=True)
class Chunk:
    id: int
    frame: int
    text: str


@dataclass
class V1Index:
    chunks: list[Chunk]   # in id order
    model: str            # config.embedding.model
    dimension: int | None
    index_type: str | None

    def by_frame(self) -> dict[int, Chunk]:
        return {c.frame: c for c in self.chunks}


def _bad(name: str, why: str) -> MV2Error:
    return CorruptFileError(f"{name}: {why}; not a Memvid V1 index", code="MV2-E-V1-FORMAT")


def parse_index(data: bytes, *, name: str = "index JSON") -> V1Index:
    """Validate and parse a V1 index JSON; every inconsistency is an ``MV2-E-V1-FORMAT``."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(name, "not UTF-8 JSON") from None
    if not isinstance(doc, dict) or not {"metadata", "chunk_to_frame", "frame_to_chunks"} <= set(doc):
        raise _bad(name, "no metadata, chunk_to_frame and frame_to_chunks keys")
    meta, c2f, f2c = doc["metadata"], doc["chunk_to_frame"], doc["frame_to_chunks"]
    if not isinstance(meta, list) or not isinstance(c2f, dict) or not isinstance(f2c, dict):
        raise _bad(name, "metadata is not a list or a mapping is not an object")
    chunks: list[Chunk] = []
    frames: set[int] = set()
    for pos, m in enumerate(meta):
        if not isinstance(m, dict) or not isinstance(m.get("text"), str) \
                or any(type(m.get(k)) is not int for k in ("id", "frame")):
            raise _bad(name, f"metadata[{pos}] is not {{id: int, text: str, frame: int}}")
        if m["id"] != pos:
            raise _bad(name, f"metadata[{pos}] has id {m['id']} (V1 numbers chunks 0, 1, 2, ...)")
        if not 0 <= m["frame"] < MAX_FRAME or m["frame"] in frames or (chunks and m["frame"] <= chunks[-1].frame):
            raise _bad(name, f"chunk {pos} has frame {m['frame']}, not after the previous chunk's")
        frames.add(m["frame"])
        chunks.append(Chunk(id=m["id"], frame=m["frame"], text=m["text"]))
    # The two mappings must say exactly what the metadata says: they are how V1 finds frames.
    if chunks and chunks[-1].frame + 1 - len(chunks) > MAX_SKIPPED:
        raise _bad(name, f"its frame numbers skip {chunks[-1].frame + 1 - len(chunks)} frames")
    want_c2f = {str(c.id): c.frame for c in chunks}
    want_f2c = {str(c.frame): [c.id] for c in chunks}
    if c2f != want_c2f or f2c != want_f2c:
        raise _bad(name, "chunk_to_frame / frame_to_chunks disagree with metadata")
    config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    emb = config.get("embedding") if isinstance(config.get("embedding"), dict) else {}
    model = emb.get("model") if isinstance(emb.get("model"), str) else "all-MiniLM-L6-v2"  # V1's only default
    dim = emb.get("dimension") if type(emb.get("dimension")) is int else None
    ix = config.get("index") if isinstance(config.get("index"), dict) else {}
    return V1Index(chunks=chunks, model=model, dimension=dim, index_type=ix.get("type") if isinstance(ix.get("type"), str) else None)
