"""The embedded write-ahead log: record framing and record payloads (spec: "WAL").

The WAL region starts at ``header.wal_offset`` and is ``header.wal_size`` bytes long.
Records are packed from region offset 0. Each is a 48-byte record header followed by a
bincode payload; a record header of all zeros (the *sentinel*) ends the log.
"""

from __future__ import annotations

from construct import Struct

from .bincode import F32, I64, U32, U64, ByteVec, Enum, Hash32, Map, Option, String, Tagged, Vec, describe
from .frame import AnchorSource, CanonicalEncoding, DocMetadata, EnrichmentState, FrameRole, TextChunkManifest  # noqa: F401

WAL_RECORD_HEADER_SIZE = 48
WAL_DEFAULT_SIZE = 64 * 1024
"""Size memvid-sdk 2.0.160 gives a new file's WAL; 2.0.123 used 4 MiB."""

WalRecordHeader = Struct(
    ("sequence" / U64) * "Record sequence number: 1 for the first record ever, +1 per record.",
    ("length" / U32) * "Payload length in bytes; never 0.",
    ("reserved" / U32) * "Zero.",
    ("checksum" / Hash32) * "BLAKE3-256 of the payload.",
)

FrameWalOp = Enum("FrameWalOp", ["insert", "tombstone"])


def _wal_entry_data(*, source_fields: bool) -> Struct:
    parts = [
        "timestamp" / I64,
        "kind" / Option(String()),
        "track" / Option(String()),
        "payload" / ByteVec(),  # stored bytes, already compressed when the encoding says so
        "embedding" / Option(Vec(F32, min_item=4)),
        "uri" / Option(String()),
        "title" / Option(String()),
        "canonical_encoding" / CanonicalEncoding,
        "canonical_length" / Option(U64),
        "metadata" / Option(DocMetadata),
        "search_text" / Option(String()),
        "tags" / Vec(String(), min_item=8),
        "labels" / Vec(String(), min_item=8),
        "extra_metadata" / Map(String(), String()),
        "content_dates" / Vec(String(), min_item=8),
        "chunk_manifest" / Option(TextChunkManifest),
        "role" / FrameRole,
        "parent_sequence" / Option(U64),
        "chunk_index" / Option(U32),
        "chunk_count" / Option(U32),
        "op" / FrameWalOp,
        "target_frame_id" / Option(U64),
        "supersedes_frame_id" / Option(U64),
        "reuse_payload_from" / Option(U64),
    ]
    if source_fields:
        parts += [
            "source_sha256" / Option(Hash32),
            "source_path" / Option(String()),
            "enrichment_state" / EnrichmentState,
        ]
    return Struct(*parts)


WalEntryData = _wal_entry_data(source_fields=True)

EmbeddedLexSegment = Struct(
    "path" / String(),
    "bytes_offset" / U64,
    "bytes_length" / U64,
    "checksum" / Hash32,
)

LexWalBatch = Struct(
    "generation" / U64,
    "doc_count" / U64,
    "checksum" / Hash32,
    "segments" / Vec(EmbeddedLexSegment, min_item=56),
)


def wal_entry(entry_data: Struct) -> Tagged:
    return Tagged("WalEntry", [("frame", entry_data), ("lex", LexWalBatch)])


WalEntry = wal_entry(WalEntryData)
"""A record payload: variant 0 is a frame operation, variant 1 a Tantivy checkpoint."""

describe(WalEntryData,
         timestamp="Frame timestamp (tombstones: the time of deletion).", kind="Frame kind.", track="Frame track.",
         payload="Stored payload bytes (compressed when the encoding is zstd); empty for tombstones.",
         embedding="The frame's vector, if any.", uri="Frame URI, or None for the default.", title="Frame title.",
         canonical_encoding="Encoding of `payload`.", canonical_length="Decoded payload length.",
         metadata="Document metadata.", search_text="Indexed text.", tags="Tags.", labels="Labels.",
         extra_metadata="Key/value metadata.", content_dates="Detected dates.", chunk_manifest="Chunk manifest.",
         role="Frame role.", parent_sequence="For a chunk: WAL sequence of its parent document's record.",
         chunk_index="For a chunk: its index.", chunk_count="Number of chunks.",
         op="`insert` or `tombstone`.", target_frame_id="For a tombstone: the frame to delete.",
         supersedes_frame_id="For a replacement: the frame it supersedes.",
         reuse_payload_from="Share the payload of this existing frame instead of `payload`.",
         source_sha256="Hash of the original input (BLAKE3).", source_path="Original input path.",
         enrichment_state="`searchable` or `enriched`.")
describe(LexWalBatch, generation="Commit generation of the checkpoint.", doc_count="Tantivy document count.",
         checksum="BLAKE3 over, per file sorted by path, BLAKE3(file) then the path.",
         segments="The packed Tantivy files at this checkpoint.")
describe(EmbeddedLexSegment, path="File name inside the Tantivy directory.", bytes_offset="Absolute offset.",
         bytes_length="Length.", checksum="BLAKE3 of the file's bytes.")
