"""Segment bodies referenced from the TOC (spec: "Segments": lex, vec, sketch and other tracks).

Segments have no header of their own except where noted; their offset, length and BLAKE3
come from the TOC. Each structure here is the full body of one segment.
"""

from __future__ import annotations

from construct import Array, Bytes, Struct, this

from .bincode import F32, U16, U32, U64, Map, Option, String, Vec

# --- vector index -------------------------------------------------------------------------------

VecDocument = Struct("frame_id" / U64, "embedding" / Vec(F32, min_item=4))
FlatVecIndex = Vec(VecDocument, min_item=16)
"""Flat form: bincode ``Vec<{frame_id u64, embedding Vec<f32>}>``. memvid writes it for the
parallel builder's vec segments and for a monolithic index of fewer than 1000 vectors, and
its reader tries this form first whatever the size."""

HNSW_M = 16
HNSW_M0 = 32
HnswZeroNode = Vec(U64, min_item=8)  # always 32 neighbour slots; u64::MAX marks an empty slot
HnswUpperNode = Struct("zero_node" / U64, "next_node" / U64, "neighbors" / Vec(U64, min_item=8))
HnswGraph = Struct(
    "metric" / Struct(),  # a unit struct: zero bytes
    "zero_layer" / Vec(HnswZeroNode, min_item=8),
    "features" / Vec(Vec(F32, min_item=4), min_item=8),
    "layers" / Vec(Vec(HnswUpperNode, min_item=24), min_item=8),
    "prng_state" / Bytes(16),  # Pcg64: u128 state, u128 increment
    "prng_increment" / Bytes(16),
    "ef_construction" / U64,
)
HnswVecIndex = Struct("graph" / HnswGraph, "ids" / Vec(U64, min_item=8), "dimension" / U32)
"""HNSW form (hnsw crate 0.11, Euclidean, M=16, M0=32): written by memvid's index rebuild
for 1000 or more vectors."""

# --- parallel-builder lexical segment (catalog lex_segments) ---------------------------------

LexSection = Struct("offset" / U64, "content" / String(), "content_lower" / String())
LexDocument = Struct(
    "frame_id" / U64,
    "tokens" / Vec(String(), min_item=8),
    "tags" / Map(String(), String()),
    "content" / String(),
    "content_lower" / String(),
    "uri" / Option(String()),
    "title" / Option(String()),
    "sections" / Vec(LexSection, min_item=24),
)
CatalogLexSegment = Vec(LexDocument, min_item=58)
"""Written by memvid's parallel builder; no reader path of memvid loads it."""

# --- sketch track (MVSK) -------------------------------------------------------------------------

SKETCH_MAGIC = b"MVSK"
SKETCH_HEADER_SIZE = 24
SketchHeader = Struct(
    "magic" / Bytes(4),
    "version" / U16,
    "entry_size" / U16,
    "entry_count" / U64,
    "flags" / U32,
    "reserved" / U32,
)
SketchEntrySmall = Struct(
    "simhash" / U64,
    "term_filter" / Bytes(16),
    "top_terms" / Array(2, U32),
)
SKETCH_SMALL = 32
"""Entries are positional: entry k describes frame k. There is no frame id field."""

def is_plain_file_name(name: str) -> bool:
    """Whether a packed Tantivy file's path is a plain file name (spec 9.1): non-empty, not
    ``.`` or ``..``, without a directory separator or a NUL."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\0")


TANTIVY_REQUIRED = ("idx", "store", "term")
"""Component files every Tantivy segment of an index with indexed, stored fields has."""


def tantivy_directory_problem(names: list[str], meta_json: bytes | None) -> str | None:
    """What keeps the listed Tantivy files from being an index directory, or None (spec 9.1):
    ``meta.json`` must be listed and be a JSON object whose segments' files are all listed
    (their ``idx``, ``store`` and ``term`` files, and the deletion bitset it names)."""
    if not names:
        return None
    if meta_json is None:
        return "meta.json is not among the Tantivy files"
    import json

    try:
        meta = json.loads(meta_json)
        segments = meta["segments"]
        listed = set(names)
        for seg in segments:
            hexid = str(seg["segment_id"]).replace("-", "")
            need = [f"{hexid}.{ext}" for ext in TANTIVY_REQUIRED]
            if seg.get("deletes"):
                need.append(f"{hexid}.{seg['deletes']['opstamp']}.del")
            missing = [n for n in need if n not in listed]
            if missing:
                return f"meta.json lists segment {hexid}, whose file {missing[0]} is not among the Tantivy files"
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return "meta.json is not a Tantivy index description"
    return None


# --- memories track (MVMC), logic mesh (MVLM), replay -----------------------------------------------

MEMORIES_MAGIC = b"MVMC"
LOGIC_MESH_MAGIC = b"MVLM"
TrackHeader = Struct("magic" / Bytes(4), "version" / U16, "length" / U64)
"""Header of the memories track and the logic mesh: magic, u16 version (1), u64 length of the
zstd-compressed body that follows."""

REPLAY_MAGIC = b"MV2RPLY!"
ReplayHeader = Struct("magic" / Bytes(8), "version" / U32, "session_count" / U32, "total_size" / U64)

# --- time index re-exported for one-stop lookups ----------------------------------------------------
from .time_index import TIME_MAGIC, TimeIndex  # noqa: E402,F401

TemporalHeaderMagic = b"MVTN"

__all__ = [
    "VecDocument", "FlatVecIndex", "HnswVecIndex", "LexDocument", "CatalogLexSegment",
    "SketchHeader", "SketchEntrySmall", "SKETCH_MAGIC", "SKETCH_HEADER_SIZE", "SKETCH_SMALL",
    "TrackHeader", "ReplayHeader", "MEMORIES_MAGIC", "LOGIC_MESH_MAGIC", "REPLAY_MAGIC",
    "TIME_MAGIC", "TimeIndex", "Array", "this",
]

from .bincode import describe  # noqa: E402

describe(VecDocument, frame_id="Frame id.", embedding="The vector.")
describe(HnswVecIndex, graph="The HNSW graph.", ids="Frame id of each graph node, by node index.", dimension="Vector dimension.")
describe(HnswGraph, metric="Unit struct (Euclidean): zero bytes.",
         zero_layer="Layer 0: per node, 32 neighbour slots; `u64::MAX` marks an empty slot.",
         features="The vectors, by node index.",
         layers="Upper layers: per node, its layer-0 index, next node and 16 neighbour slots.",
         prng_state="Pcg64 state (u128).", prng_increment="Pcg64 increment (u128).",
         ef_construction="100 in memvid.")
describe(SketchHeader, magic='ASCII "MVSK".', version="1.", entry_size="Bytes per entry (32 = small).",
         entry_count="Number of entries.", flags="0.", reserved="0.")
describe(SketchEntrySmall, simhash="64-bit SimHash of the frame's tokens.", term_filter="128-bit term filter.",
         top_terms="Hashes of the two heaviest terms, folded to u32.")
describe(LexDocument, frame_id="Frame id (the uri says `memvid://frame/<id>`).", tokens="Tokens.",
         tags="Tags as a map.", content="Indexed text.", content_lower="Lower-cased text.",
         uri="`memvid://frame/<id>`.", title="None.", sections="Text sections.")
describe(HnswUpperNode, zero_node="The node's index in layer 0 (and in `features`, `ids`).",
         next_node="Index of this node in the layer below.",
         neighbors="Always 16 neighbour slots, indexes in this layer; `u64::MAX` marks an empty slot.")
describe(LexSection, offset="Character offset of the section in the document.", content="Section text.",
         content_lower="Section text lower-cased.")
describe(TrackHeader, magic='ASCII "MVMC" or "MVLM".', version="1.",
         length="Length of the zstd-compressed body that follows.")
describe(ReplayHeader, magic='ASCII "MV2RPLY!".', version="1.", session_count="Sessions that follow.",
         total_size="Length of the whole segment.")
