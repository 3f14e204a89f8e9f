"""The Frame record and its nested metadata (spec: "Frames and payload encodings").

A frame is one entry of ``Toc.frames``; its wire order is the field order below. The
nested types (``DocMetadata`` and friends) are rarely populated by memvid-sdk but are part of
the format, so they are described in full.
"""

from __future__ import annotations

from construct import Struct

from .bincode import F32, F64, I64, U8, U32, U64, ByteVec, Enum, Hash32, Map, Option, String, Vec

# --- enums (u32 variant index) -------------------------------------------------------------

FrameStatus = Enum("FrameStatus", ["active", "superseded", "deleted"])
FrameRole = Enum("FrameRole", ["document", "document_chunk", "extracted_image"])
AnchorSource = Enum("AnchorSource", ["explicit", "frame_timestamp", "metadata", "ingestion_clock"])
EnrichmentState = Enum("EnrichmentState", ["searchable", "enriched"])
CanonicalEncoding = Enum("CanonicalEncoding", ["plain", "zstd"])

# --- DocMetadata --------------------------------------------------------------------------

DocGps = Struct("latitude" / F64, "longitude" / F64)

DocExif = Struct(
    "make" / Option(String()),
    "model" / Option(String()),
    "lens" / Option(String()),
    "datetime" / Option(String()),
    "gps" / Option(DocGps),
)

AudioSegment = Struct("start_seconds" / F32, "end_seconds" / F32, "label" / Option(String()))

DocAudio = Struct(
    "duration_secs" / Option(F32),
    "sample_rate_hz" / Option(U32),
    "channels" / Option(U8),
    "bitrate_kbps" / Option(U32),
    "codec" / Option(String()),
    "segments" / Vec(AudioSegment, min_item=9),
    "tags" / Map(String(), String()),
)

MediaManifest = Struct(
    "kind" / String(),
    "mime" / String(),
    "bytes" / U64,
    "filename" / Option(String()),
    "duration_ms" / Option(U64),
    "width" / Option(U32),
    "height" / Option(U32),
    "codec" / Option(String()),
)

DocMetadata = Struct(
    "mime" / Option(String()),
    "bytes" / Option(U64),
    "hash" / Option(String()),
    "width" / Option(U32),
    "height" / Option(U32),
    "colors" / Option(Vec(String(), min_item=8)),
    "caption" / Option(String()),
    "exif" / Option(DocExif),
    "audio" / Option(DocAudio),
    "media" / Option(MediaManifest),
)

TextChunkRange = Struct("start" / U64, "end" / U64)
TextChunkManifest = Struct("chunk_chars" / U64, "chunks" / Vec(TextChunkRange, min_item=16))

# --- Frame ----------------------------------------------------------------------------------

Frame = Struct(
    "id" / U64,
    "timestamp" / I64,
    "anchor_ts" / Option(I64),
    "anchor_source" / Option(AnchorSource),
    "kind" / Option(String()),
    "track" / Option(String()),
    "payload_offset" / U64,
    "payload_length" / U64,
    "checksum" / Hash32,
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
    "parent_id" / Option(U64),
    "chunk_index" / Option(U32),
    "chunk_count" / Option(U32),
    "status" / FrameStatus,
    "supersedes" / Option(U64),
    "superseded_by" / Option(U64),
    "source_sha256" / Option(Hash32),
    "source_path" / Option(String()),
    "enrichment_state" / EnrichmentState,
)
"""One frame as stored in the TOC (revision memvid-2.0.160)."""

FRAME_MIN_SIZE = 129
"""Encoded size of a frame whose Options are all None and whose lists are empty."""

__all__ = [
    "Frame", "FRAME_MIN_SIZE", "DocMetadata", "TextChunkManifest", "FrameStatus", "FrameRole",
    "AnchorSource", "EnrichmentState", "CanonicalEncoding", "ByteVec",
]
