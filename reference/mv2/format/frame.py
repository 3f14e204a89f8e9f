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
    ("id" / U64) * "Frame id; equals the frame's index in `Toc.frames`.",
    ("timestamp" / I64) * "Caller-supplied time of the frame, Unix seconds.",
    ("anchor_ts" / Option(I64)) * "Temporal anchor; memvid sets it to `timestamp`.",
    ("anchor_source" / Option(AnchorSource)) * "Where `anchor_ts` came from; memvid sets `frame_timestamp`.",
    ("kind" / Option(String())) * "Free-form kind label.",
    ("track" / Option(String())) * "Free-form track (stream) name.",
    ("payload_offset" / U64) * "Absolute offset of the stored payload. Meaningless when `payload_length` is 0.",
    ("payload_length" / U64) * "Length of the stored payload (after compression).",
    ("checksum" / Hash32) * "BLAKE3-256 of the stored payload bytes (BLAKE3 of nothing for an empty payload).",
    ("uri" / Option(String())) * "Frame URI; `mv2://frames/<id>` when the writer was given none.",
    ("title" / Option(String())) * "Title; derived from the URI when the writer was given none.",
    ("canonical_encoding" / CanonicalEncoding) * "How the stored payload encodes the canonical bytes: `plain` or `zstd`.",
    ("canonical_length" / Option(U64)) * "Length of the canonical (decoded) payload.",
    ("metadata" / Option(DocMetadata)) * "Structured document metadata (MIME type, media, EXIF...).",
    ("search_text" / Option(String())) * "The text that is indexed and searched; see *Where text lives*.",
    ("tags" / Vec(String(), min_item=8)) * "Tags, in writer order.",
    ("labels" / Vec(String(), min_item=8)) * "Labels, in writer order.",
    ("extra_metadata" / Map(String(), String())) * "Free key/value metadata; keys in UTF-8 byte order.",
    ("content_dates" / Vec(String(), min_item=8)) * "Dates found in the content, as text.",
    ("chunk_manifest" / Option(TextChunkManifest)) * "For a chunked document: chunk size and character ranges.",
    ("role" / FrameRole) * "`document`, `document_chunk` or `extracted_image`.",
    ("parent_id" / Option(U64)) * "For a chunk: id of its document frame.",
    ("chunk_index" / Option(U32)) * "For a chunk: its position, from 0.",
    ("chunk_count" / Option(U32)) * "For a chunked document and its chunks: number of chunks.",
    ("status" / FrameStatus) * "`active`, `superseded` or `deleted`.",
    ("supersedes" / Option(U64)) * "Id of the frame this one replaces.",
    ("superseded_by" / Option(U64)) * "Id of the frame that replaced this one.",
    ("source_sha256" / Option(Hash32)) * "Hash of the original input. Despite the name, memvid stores BLAKE3 here.",
    ("source_path" / Option(String())) * "Path of the original input file.",
    ("enrichment_state" / EnrichmentState) * "`searchable` or `enriched`.",
)
"""One frame as stored in the TOC (revision memvid-2.0.160)."""

FRAME_MIN_SIZE = 129
"""Encoded size of a frame whose Options are all None and whose lists are empty."""

__all__ = [
    "Frame", "FRAME_MIN_SIZE", "DocMetadata", "TextChunkManifest", "FrameStatus", "FrameRole",
    "AnchorSource", "EnrichmentState", "CanonicalEncoding", "ByteVec",
]

from .bincode import describe  # noqa: E402

describe(DocGps, latitude="Degrees, WGS 84.", longitude="Degrees, WGS 84.")
describe(DocExif, make="Camera make.", model="Camera model.", lens="Lens.", datetime="Capture time, as EXIF text.",
         gps="Position.")
describe(AudioSegment, start_seconds="Segment start.", end_seconds="Segment end.", label="Segment label.")
describe(DocAudio, duration_secs="Duration.", sample_rate_hz="Sample rate.", channels="Channel count.",
         bitrate_kbps="Bit rate.", codec="Codec name.", segments="Labelled time segments.",
         tags="Audio tags (ID3 and the like).")
describe(MediaManifest, kind="Media kind (`image`, `audio`, `video`...).", mime="MIME type.",
         bytes="Size of the original media.", filename="Original file name.", duration_ms="Duration.",
         width="Pixels.", height="Pixels.", codec="Codec name.")
describe(DocMetadata, mime="MIME type of the input.", bytes="Size of the input.", hash="Hash of the input, as text.",
         width="Image width.", height="Image height.", colors="Dominant colours.", caption="Caption.",
         exif="EXIF data of an image.", audio="Audio properties.", media="Media description.")
describe(TextChunkRange, start="First character (Unicode scalar value) of the chunk.",
         end="One past its last character.")
describe(TextChunkManifest, chunk_chars="Target chunk size in characters.",
         chunks="Character ranges of the chunks, in `chunk_index` order.")
