"""The table of contents: manifests, segment catalog and the TOC revisions (spec: "TOC and footer").

The TOC is one bincode value with no magic and no length prefix of its own; its length
comes from the commit footer. Its last two fields are ``merkle_root`` and ``toc_checksum``,
so the checksum always occupies the TOC's final 32 bytes.

Several TOC *revisions* exist in the wild. They differ only in which top-level fields are
present and in the shape of a frame; each is a Construct here, selected by name from
:data:`REVISIONS`. ``revisions.py`` says how a reader tells them apart.
"""

from __future__ import annotations

from construct import Bytes, Const, Struct

from .bincode import I64, U16, U32, U64, Bool, Enum, Hash32, Option, String, Vec, describe
from .frame import Frame

# --- enums ----------------------------------------------------------------------------------

SegmentCompression = Enum("SegmentCompression", ["none", "zstd", "lz4"])
VectorCompression = Enum("VectorCompression", ["none", "pq96"])
SegmentKind = Enum("SegmentKind", ["lexical", "vector", "time", "temporal", "tantivy"])

# --- legacy segment table (always empty in practice) -----------------------------------------

SegmentMeta = Struct(
    "id" / U64,
    "frame_range" / Struct("start" / U64, "end" / U64),
    "primary_checksum" / Hash32,
    "compression" / SegmentCompression,
    "bytes_offset" / U64,
    "bytes_length" / U64,
)

# --- index manifests ------------------------------------------------------------------------

LexIndexManifest = Struct(
    "doc_count" / U64,
    "generation" / U64,
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "checksum" / Hash32,
)

LexSegmentManifest = Struct(
    "path" / String(),
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "checksum" / Hash32,
)
"""One packed Tantivy file."""

VecIndexManifest = Struct(
    "vector_count" / U64,
    "dimension" / U32,
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "checksum" / Hash32,
    "compression_mode" / VectorCompression,
    "model" / Option(String()),
)

ClipIndexManifest = Struct(
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "vector_count" / U64,
    "dimension" / U32,
    "checksum" / Hash32,
    "model_name" / String(),
)

IndexManifests = Struct(
    "lex" / Option(LexIndexManifest),
    "lex_segments" / Vec(LexSegmentManifest, min_item=56),
    "vec" / Option(VecIndexManifest),
    "clip" / Option(ClipIndexManifest),
)

TimeIndexManifest = Struct(
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "entry_count" / U64,
    "checksum" / Hash32,
)

TemporalTrackManifest = Struct(
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "entry_count" / U64,
    "anchor_count" / U64,
    "checksum" / Hash32,
    "flags" / U32,
)

MemoriesTrackManifest = Struct(
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "card_count" / U64,
    "entity_count" / U64,
    "checksum" / Hash32,
)

LogicMeshManifest = Struct(
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "node_count" / U64,
    "edge_count" / U64,
    "checksum" / Hash32,
)

SketchTrackManifest = Struct(
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "entry_count" / U64,
    "entry_size" / U16,
    "flags" / U32,
    "checksum" / Hash32,
)

# --- segment catalog --------------------------------------------------------------------------

SegmentSpan = Struct(
    "frame_start" / U64,
    "frame_end" / U64,
    "page_start" / U32,
    "page_end" / U32,
    "token_start" / U64,
    "token_end" / U64,
)

SegmentCommon = Struct(
    "segment_id" / U64,
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "checksum" / Hash32,
    "build_sequence" / U64,
    "codec_version" / U16,
    "compression" / SegmentCompression,
    "span" / Option(SegmentSpan),
)
SEGMENT_COMMON_MIN = 8 * 3 + 32 + 8 + 2 + 4 + 1

LexSegmentDescriptor = Struct("common" / SegmentCommon, "doc_count" / U64)
VecSegmentDescriptor = Struct(
    "common" / SegmentCommon,
    "vector_count" / U64,
    "dimension" / U32,
    "vector_compression" / VectorCompression,
)
TimeSegmentDescriptor = Struct("common" / SegmentCommon, "entry_count" / U64)
TemporalSegmentDescriptor = Struct(
    "common" / SegmentCommon, "entry_count" / U64, "anchor_count" / U64, "flags" / U32
)
TantivySegmentDescriptor = Struct("common" / SegmentCommon, "path" / String())

SegmentStats = Struct(
    "doc_count" / U64,
    "vector_count" / U64,
    "time_entries" / U64,
    "bytes_uncompressed" / U64,
    "build_micros" / U64,
)

IndexSegmentRef = Struct("kind" / SegmentKind, "common" / SegmentCommon, "stats" / SegmentStats)

SegmentCatalog = Struct(
    "next_segment_id" / U64,
    "version" / U32,
    "lex_enabled" / Bool(),
    "lex_segments" / Vec(LexSegmentDescriptor, min_item=SEGMENT_COMMON_MIN + 8),
    "vec_segments" / Vec(VecSegmentDescriptor, min_item=SEGMENT_COMMON_MIN + 16),
    "time_segments" / Vec(TimeSegmentDescriptor, min_item=SEGMENT_COMMON_MIN + 8),
    "temporal_segments" / Vec(TemporalSegmentDescriptor, min_item=SEGMENT_COMMON_MIN + 20),
    "tantivy_segments" / Vec(TantivySegmentDescriptor, min_item=SEGMENT_COMMON_MIN + 8),
    "index_segments" / Vec(IndexSegmentRef, min_item=SEGMENT_COMMON_MIN + 44),
)

# --- ticket, binding, replay, enrichment --------------------------------------------------------

TicketRef = Struct(
    "issuer" / String(),
    "seq_no" / I64,
    "expires_in_secs" / U64,
    "capacity_bytes" / U64,
    "verified" / Bool(),
)

# uuid::Uuid goes through serde as a byte string in non-human-readable formats: a u64
# length that is always 16, then the 16 bytes. Const makes the schema reject other lengths.
Uuid = Struct("len" / Const(16, U64), "bytes" / Bytes(16))
MemoryBinding = Struct(
    "memory_id" / Uuid,
    "memory_name" / String(),
    "bound_at" / String(),  # chrono DateTime<Utc>: RFC 3339 text
    "api_url" / String(),
)

ReplayManifest = Struct(
    "segment_offset" / U64,
    "segment_size" / U64,
    "session_count" / U32,
    "total_actions" / U64,
    "version" / U32,
)

EnrichmentTask = Struct("frame_id" / U64, "created_at" / U64, "chunks_done" / U32, "chunks_total" / U32)
EnrichmentQueue = Struct("tasks" / Vec(EnrichmentTask, min_item=24), "updated_at" / U64)

# --- the TOC, by revision ----------------------------------------------------------------------


def _toc(frame, *, tracks: bool, sketch_replay_enrichment: bool) -> Struct:
    parts = [
        ("toc_version" / U64) * "0 in every file seen.",
        ("segments" / Vec(SegmentMeta, min_item=84)) * "Legacy segment table; always empty.",
        ("frames" / Vec(frame, min_item=100)) * "Every frame ever written, in id order.",
        ("indexes" / IndexManifests) * "Lexical (Tantivy) and vector index manifests.",
        ("time_index" / Option(TimeIndexManifest)) * "The `MVTI` time index.",
        ("temporal_track" / Option(TemporalTrackManifest)) * "Temporal mention track (`MVTN`); None in SDK files.",
    ]
    if tracks:
        parts += [
            ("memories_track" / Option(MemoriesTrackManifest)) * "Memory cards (`MVMC`).",
            ("logic_mesh" / Option(LogicMeshManifest)) * "Entity graph (`MVLM`).",
        ]
    if sketch_replay_enrichment:
        parts += [("sketch_track" / Option(SketchTrackManifest)) * "Search pre-filter sketches (`MVSK`)."]
    parts += [
        ("segment_catalog" / SegmentCatalog) * "Catalog of index segments, including the Tantivy files.",
        ("ticket_ref" / TicketRef) * "Capacity ticket.",
        ("memory_binding" / Option(MemoryBinding)) * "Binding to a hosted memory; None in local files.",
    ]
    if sketch_replay_enrichment:
        parts += [
            ("replay_manifest" / Option(ReplayManifest)) * "Recorded sessions (`MV2RPLY!` segment).",
            ("enrichment_queue" / EnrichmentQueue) * "Frames awaiting background enrichment.",
        ]
    parts += [
        ("merkle_root" / Hash32) * "32 zero bytes; never computed.",
        ("toc_checksum" / Hash32) * "BLAKE3 of this TOC encoded with this field zeroed.",
    ]
    return Struct(*parts)


Toc_2_0_160 = _toc(Frame, tracks=True, sketch_replay_enrichment=True)
"""The TOC as memvid-sdk 2.0.160 (memvid-core 2.0.14x) writes it."""

TOC_CHECKSUM_SIZE = 32

# --- field descriptions (rendered into the spec's tables) ---------------------------------------

describe(IndexManifests,
         lex="Legacy monolithic lexical index; None in every SDK file.",
         lex_segments="The packed Tantivy files, sorted by path.",
         vec="Monolithic vector index, or a placeholder with length 0.",
         clip="Image-embedding index; None in SDK files.")
describe(LexSegmentManifest, path="File name inside the Tantivy directory.", bytes_offset="Absolute offset.",
         bytes_length="Length.", checksum="BLAKE3 of the file's bytes.")
describe(VecIndexManifest, vector_count="Number of vectors.", dimension="Vector dimension.",
         bytes_offset="Absolute offset.", bytes_length="Length; 0 for a placeholder.",
         checksum="BLAKE3 of the segment (SHA-256 of nothing in placeholders).",
         compression_mode="`none` or `pq96`.", model="Embedding model name, if recorded.")
describe(TimeIndexManifest, bytes_offset="Absolute offset of the `MVTI` segment.", bytes_length="Its length.",
         entry_count="Number of entries.", checksum="BLAKE3 of the segment.")
describe(SketchTrackManifest, bytes_offset="Absolute offset of the `MVSK` segment.", bytes_length="Its length.",
         entry_count="Number of entries (one per frame).", entry_size="32, 64 or 96 bytes.", flags="0.",
         checksum="BLAKE3 of the segment.")
describe(SegmentCatalog, next_segment_id="One more than the highest segment id ever assigned.",
         version="1.", lex_enabled="Whether the memory has full-text search.",
         lex_segments="Parallel-builder lexical segments (9.4).", vec_segments="Parallel-builder vector segments (9.2).",
         time_segments="Parallel-builder time blocks (8).", temporal_segments="Temporal segments; empty in SDK files.",
         tantivy_segments="The Tantivy files again, with segment ids.",
         index_segments="A mirror of the lex/vec/time/temporal descriptors; informative only.")
describe(SegmentCommon, segment_id="Catalog-wide id.", bytes_offset="Absolute offset.", bytes_length="Length.",
         checksum="BLAKE3 of the segment.", build_sequence="0 in SDK files.",
         codec_version="1 for parallel-builder segments, 0 for Tantivy files.",
         compression="`none` in every file seen.", span="Frames (and pages, tokens) the segment covers.")
describe(TicketRef, issuer="`free-tier` in SDK files.", seq_no="Ticket sequence number.",
         expires_in_secs="0 = never.", capacity_bytes="Capacity limit the writer enforces.",
         verified="Whether the ticket's signature was checked.")
describe(SegmentMeta, id="Segment id.", frame_range="Frames covered, `[start, end)`.",
         primary_checksum="BLAKE3 of the segment.", compression="Segment compression.",
         bytes_offset="Absolute offset.", bytes_length="Length.")
describe(LexIndexManifest, doc_count="Documents in the index.", generation="Index generation.",
         bytes_offset="Absolute offset of the index (a tar of the Tantivy directory).", bytes_length="Its length.",
         checksum="BLAKE3 of the index bytes.")
describe(ClipIndexManifest, bytes_offset="Absolute offset.", bytes_length="Length.",
         vector_count="Number of image embeddings.", dimension="Embedding dimension.",
         checksum="BLAKE3 of the segment.", model_name="Image-embedding model name.")
describe(TemporalTrackManifest, bytes_offset="Absolute offset of the `MVTN` segment.", bytes_length="Its length.",
         entry_count="Temporal mentions.", anchor_count="Temporal anchors.", checksum="BLAKE3 of the segment.",
         flags="Track flags.")
describe(MemoriesTrackManifest, bytes_offset="Absolute offset of the `MVMC` segment.", bytes_length="Its length.",
         card_count="Number of cards (9.6).", entity_count="Distinct entities; informative.",
         checksum="BLAKE3 of the whole segment.")
describe(LogicMeshManifest, bytes_offset="Absolute offset of the `MVLM` segment.", bytes_length="Its length.",
         node_count="Graph nodes.", edge_count="Graph edges.", checksum="BLAKE3 of the whole segment.")
describe(SegmentSpan, frame_start="First frame id covered.", frame_end="Last frame id covered (inclusive).",
         page_start="First page (0 when the input has no pages).", page_end="Last page.",
         token_start="First token position.", token_end="Last token position.")
describe(LexSegmentDescriptor, common="Offset, length, checksum and span.",
         doc_count="Number of `LexDocument`s in the segment (9.4).")
describe(VecSegmentDescriptor, common="Offset, length, checksum and span.",
         vector_count="Number of vectors in the segment.", dimension="Vector dimension.",
         vector_compression="`none` in every file seen.")
describe(TimeSegmentDescriptor, common="Offset, length, checksum and span.",
         entry_count="Entries of the `MVTI` block.")
describe(TemporalSegmentDescriptor, common="Offset, length, checksum and span.",
         entry_count="Temporal mentions.", anchor_count="Temporal anchors.", flags="Segment flags.")
describe(TantivySegmentDescriptor, common="Offset, length and checksum of one Tantivy file; span None.",
         path="File name inside the Tantivy directory; equals a `lex_segments` path.")
describe(SegmentStats, doc_count="Documents (lexical entries).", vector_count="Vectors (vector entries).",
         time_entries="Entries (time entries).", bytes_uncompressed="Segment length before compression.",
         build_micros="Build time in microseconds (wall clock; not reproducible).")
describe(IndexSegmentRef, kind="Which descriptor list the entry mirrors.",
         common="Copy of that descriptor's `SegmentCommon`.", stats="Counts of that descriptor.")
describe(Uuid, len="Serde byte-string length: always 16.", bytes="The UUID's 16 bytes, in RFC 9562 order.")
describe(MemoryBinding, memory_id="Id of the hosted memory.", memory_name="Its name.",
         bound_at="When the file was bound, RFC 3339 text (chrono `DateTime<Utc>`).", api_url="Service URL.")
describe(ReplayManifest, segment_offset="Absolute offset of the `MV2RPLY!` segment.",
         segment_size="Its length (equals the segment header's `total_size`).",
         session_count="Recorded sessions.", total_actions="Actions over all sessions.", version="1.")
describe(EnrichmentTask, frame_id="Frame awaiting enrichment.", created_at="Unix seconds when queued.",
         chunks_done="Chunks enriched so far.", chunks_total="Chunks to enrich.")
describe(EnrichmentQueue, tasks="Pending tasks; empty in every SDK file.",
         updated_at="Unix seconds of the last change; 0 when never changed.")
