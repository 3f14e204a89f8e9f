meta:
  id: mv2
  title: MV2 single-file AI memory (memvid-core / memvid-sdk)
  application:
    - memvid-core
    - memvid-sdk
  file-extension: mv2
  license: Apache-2.0
  ks-version: '0.10'
  endian: le
doc: |
  MV2 is a single-file memory: a 4096-byte header, an embedded write-ahead log (WAL),
  a data area of payloads and index segments, and at least one commit (a TOC followed by
  a 56-byte commit footer). All integers are little-endian.

  This description covers the header, the WAL record framing, the commit footer, the
  whole TOC of every known revision (type `toc`, with the revision as a parameter), the
  `MVTI` time index segment and the framing of the memories track. It is the machine-readable companion of the MV2 specification;
  the prose there is normative, and `tools/ksy_check.py` checks on real files that this
  description and the reference implementation's Construct schema
  (`reference/mv2/format/`) read the same values.

  What it does not cover:

  * No byte names the TOC revision (chapter 11), so the root exposes the TOC as raw
    bytes (`toc`); a tool instantiates the `toc` type on them with a revision from the
    `toc_revision` enum, newest first, and keeps the first that consumes every byte.
  * The time index is found through the TOC (`Toc.time_index`: bytes_offset,
    bytes_length), so it cannot be located from here. `time_index` is a type that a
    tool instantiates on the byte slice the TOC names.
  * The footer is read from the last 56 bytes of the file. A reader proper finds the
    current commit with a backwards footer scan (spec 6.4), which also copes with
    bytes after the last commit; this description does not.
  * WAL record payloads (bincode `WalEntry`) are exposed as raw bytes.
  * Checksums (BLAKE3) are exposed, not verified.
doc-ref:
  - spec/index.md
  - spec/02-layout.md
seq:
  - id: header
    size: 4096
    type: header
    doc: The 4096-byte file header at offset 0.
    doc-ref: spec/03-header.md
instances:
  footer:
    pos: _io.size - 56
    size: 56
    type: footer
    doc: |
      The commit footer, read from the last 56 bytes of the file. In a file whose last
      commit is its end (every file memvid writes) this is the current commit.
    doc-ref: spec/06-toc-footer.md#64-commit-footer
  toc:
    pos: _io.size - 56 - footer.toc_len
    size: footer.toc_len
    doc: |
      The TOC of the commit that `footer` ends: the `toc_len` bytes right before the
      footer. A bincode value whose layout depends on the TOC revision (the `toc` type,
      instantiated on these bytes with a revision); its BLAKE3 is `footer.toc_hash`. In a
      consistent file `header.footer_offset` is its offset.
    doc-ref:
      - spec/06-toc-footer.md
      - spec/11-revisions.md
  wal:
    pos: header.wal_offset
    size: header.wal_size
    type: wal_region
    doc: |
      The WAL region `[wal_offset, wal_offset + wal_size)`, parsed in a substream of
      exactly `wal_size` bytes so that no record is read past its end.
    doc-ref: spec/04-wal.md
types:
  header:
    doc: |
      The file header. Only bytes 0..80 carry data. No checksum covers it; each field is
      checked against the structure it describes.
    doc-ref: spec/03-header.md
    seq:
      - id: magic
        contents: [0x4d, 0x56, 0x32, 0x00]
        doc: ASCII "MV2" then a zero byte (`4D 56 32 00`).
        doc-ref: spec/03-header.md
      - id: version
        type: u2
        valid: 0x0201
        doc: (spec_major << 8) | spec_minor, i.e. 0x0201, stored `01 02`.
        doc-ref: spec/03-header.md
      - id: spec_major
        type: u1
        valid: 2
        doc: Major version of the format; 2.
        doc-ref: spec/03-header.md
      - id: spec_minor
        type: u1
        valid: 1
        doc: Minor version of the format; 1.
        doc-ref: spec/03-header.md
      - id: footer_offset
        type: u8
        doc: |
          Absolute offset of the committed TOC (not of the footer, despite the name).
          A reader locates the commit by the footer scan, not by this field.
        doc-ref: spec/03-header.md
      - id: wal_offset
        type: u8
        doc: Absolute offset of the WAL region; always 4096 (right after the header).
        doc-ref: spec/03-header.md
      - id: wal_size
        type: u8
        doc: |
          Length of the WAL region in bytes (65 536 in new memvid-sdk 2.0.160 files,
          4 194 304 in 2.0.123 files; doubled when the log grows).
        doc-ref: spec/04-wal.md
      - id: wal_checkpoint_pos
        type: u8
        doc: |
          Byte offset *within the WAL region* (not a sequence number) of the write head
          at the last checkpoint: a record boundary or the sentinel.
        doc-ref: spec/04-wal.md#43-checkpoint
      - id: wal_sequence
        type: u8
        doc: Sequence number of the last checkpointed WAL record; 0 if none.
        doc-ref: spec/04-wal.md#43-checkpoint
      - id: toc_checksum
        size: 32
        doc: Copy of the committed TOC's last field, `toc_checksum`.
        doc-ref: spec/07-checksums.md
      - id: reserved
        size: 4016
        doc: Bytes 80..4096; zero. memvid clears bytes 80..140 (a retired lock area) on open.
        doc-ref: spec/03-header.md
  footer:
    doc: The 56-byte commit footer that follows every TOC.
    doc-ref: spec/06-toc-footer.md#64-commit-footer
    seq:
      - id: magic
        contents: "MV2FOOT!"
        doc: ASCII "MV2FOOT!".
        doc-ref: spec/06-toc-footer.md#64-commit-footer
      - id: toc_len
        type: u8
        doc: Length of the TOC, which ends where this footer begins.
        doc-ref: spec/06-toc-footer.md#64-commit-footer
      - id: toc_hash
        size: 32
        doc: BLAKE3-256 of the TOC bytes exactly as stored.
        doc-ref: spec/07-checksums.md
      - id: generation
        type: u8
        doc: Commit counter (0 after memvid's create, +1 per commit). Covered by no checksum.
        doc-ref: spec/06-toc-footer.md#64-commit-footer
  wal_region:
    doc: |
      The embedded write-ahead log. Records are packed back to back from region offset
      0; the log ends at the sentinel (a record header whose 48 bytes are all zero) or
      where fewer than 48 bytes remain in the region. Bytes after the sentinel (older
      records from before the log wrapped, or zeros) are not parsed.
    doc-ref: spec/04-wal.md#41-record-framing
    seq:
      - id: records
        type: wal_record
        repeat: until
        repeat-until: _.header.is_sentinel or _io.size - _io.pos < 48
        if: _io.size >= 48
        doc: |
          The records of the log, in log order. When the log ends at a sentinel, the
          sentinel is the last element (with an empty payload); `num_records` counts the
          records before it.
        doc-ref: spec/04-wal.md#41-record-framing
    instances:
      has_sentinel:
        value: '_io.size >= 48 ? records.last.header.is_sentinel : false'
        doc: True if the log ends at a sentinel rather than at the end of the region.
        doc-ref: spec/04-wal.md#41-record-framing
      num_records:
        value: '_io.size >= 48 ? records.size - (has_sentinel ? 1 : 0) : 0'
        doc: Number of records before the sentinel (the live log).
        doc-ref: spec/04-wal.md#41-record-framing
  wal_record:
    doc: A 48-byte record header followed by `length` payload bytes.
    doc-ref: spec/04-wal.md#41-record-framing
    seq:
      - id: header
        type: wal_record_header
        doc: The record header.
        doc-ref: spec/04-wal.md#41-record-framing
      - id: payload
        size: header.length
        doc: |
          The record payload: a bincode `WalEntry` (variant 0 a frame operation, 1 a
          Tantivy checkpoint) whose layout depends on the TOC revision. Empty for the
          sentinel.
        doc-ref: spec/04-wal.md#42-record-payloads
  wal_record_header:
    doc: The 48-byte header of a WAL record.
    doc-ref: spec/04-wal.md#41-record-framing
    seq:
      - id: sequence
        type: u8
        doc: Record sequence number; 1 for the first record ever, +1 per record.
        doc-ref: spec/04-wal.md#41-record-framing
      - id: length
        type: u4
        doc: Payload length in bytes; never 0 except in the sentinel.
        doc-ref: spec/04-wal.md#41-record-framing
      - id: reserved
        type: u4
        doc: Zero.
        doc-ref: spec/04-wal.md#41-record-framing
      - id: checksum
        size: 32
        doc: BLAKE3-256 of the payload.
        doc-ref: spec/07-checksums.md
    instances:
      is_sentinel:
        value: |
          sequence == 0 and length == 0 and reserved == 0
          and checksum == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        doc: |
          True if all 48 bytes are zero: the sentinel that ends the log. A header with
          sequence 0 and length 0 but another byte set is not a sentinel; it is a
          malformed record (MV2-E-WAL-LENGTH).
        doc-ref: spec/04-wal.md#41-record-framing
  time_index:
    doc: |
      The `MVTI` time index segment. It is located by the TOC's `time_index` manifest
      (bytes_offset, bytes_length, entry_count, checksum = BLAKE3 of the whole segment),
      which this description does not decode: instantiate this type on the
      `bytes_length` bytes at `bytes_offset`. The segment is exactly 12 + 16 * count
      bytes; this type reads 12 + 16 * count bytes and does not itself reject a longer
      slice.
    doc-ref: spec/08-time-index.md
    seq:
      - id: magic
        contents: "MVTI"
        doc: ASCII "MVTI".
        doc-ref: spec/08-time-index.md
      - id: count
        type: u8
        doc: Number of entries; equals the manifest's entry_count.
        doc-ref: spec/08-time-index.md
      - id: entries
        type: time_entry
        repeat: expr
        repeat-expr: count
        doc: Entries sorted by (timestamp, frame_id) ascending.
        doc-ref: spec/08-time-index.md
  track_header:
    doc: |
      The framing of the memories track (`MVMC`) and the logic mesh (`MVLM`). It is located
      by the TOC's `memories_track` or `logic_mesh` manifest, which this description does not
      decode: instantiate this type on the `bytes_length` bytes at `bytes_offset`. The
      segment is exactly 14 + length bytes; the body is one zstd frame (for the memories
      track, of a JSON document of memory cards).
    doc-ref: spec/09-segments.md#96-memories-track
    seq:
      - id: magic
        size: 4
        doc: ASCII "MVMC" (memories) or "MVLM" (logic mesh).
        doc-ref: spec/09-segments.md#96-memories-track
      - id: version
        type: u2
        doc: 1.
        doc-ref: spec/09-segments.md#96-memories-track
      - id: length
        type: u8
        doc: Number of body bytes that follow.
        doc-ref: spec/09-segments.md#96-memories-track
      - id: body
        size: length
        doc: One zstd frame.
        doc-ref: spec/09-segments.md#96-memories-track
  time_entry:
    doc: One time index entry. There is no byte-offset field (Appendix B).
    doc-ref: spec/08-time-index.md
    seq:
      - id: timestamp
        type: s8
        doc: The frame's timestamp (signed Unix seconds).
        doc-ref: spec/08-time-index.md
      - id: frame_id
        type: u8
        doc: The frame's id.
        doc-ref: spec/08-time-index.md
  bstr:
    doc: "bincode String: a u64 byte length, then that many bytes of UTF-8."
    seq:
      - id: len
        type: u8
      - id: value
        type: str
        size: len
        encoding: UTF-8
  toc:
    doc: |
      The table of contents: one bincode value (spec 1.4, chapter 6). No byte names its
      revision, so it takes the revision as a parameter: instantiate it on the `toc` bytes
      with each revision of `toc_revision`, newest first, and keep the first that consumes
      every byte (spec 11). Fields that only some revisions have carry an `if:` on
      `revision`. bincode's Option is an `opt_*` type (a tag byte, then the value when the
      tag is 1), its Vec a `vec_*` type (a u64 count, then the elements), its String a
      `bstr` (a u64 byte length, then UTF-8), its map a `map_*` type (a u64 count, then
      key/value pairs in ascending key order), and a unit enum a u4 with an `enum`.
    doc-ref:
      - spec/06-toc-footer.md
      - spec/11-revisions.md
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    seq:
      - id: toc_version
        type: u8
        doc: "0 in every file seen."
      - id: segments
        type: vec_segment_meta
        doc: "Legacy segment table; always empty."
      - id: frames
        type: vec_frame(revision)
        doc: "Every frame ever written, in id order."
      - id: indexes
        type: index_manifests(revision)
        doc: "Lexical (Tantivy) and vector index manifests."
      - id: time_index
        type: opt_time_index_manifest
        doc: "The `MVTI` time index."
      - id: temporal_track
        type: opt_temporal_track_manifest
        doc: "Temporal mention track (`MVTN`); None in SDK files."
      - id: memories_track
        type: opt_memories_track_manifest
        doc: "Memory cards (`MVMC`)."
      - id: logic_mesh
        type: opt_logic_mesh_manifest
        doc: "Entity graph (`MVLM`)."
      - id: sketch_track
        type: opt_sketch_track_manifest
        if: revision >= 131
        doc: "Search pre-filter sketches (`MVSK`)."
      - id: segment_catalog
        type: segment_catalog
        doc: "Catalog of index segments, including the Tantivy files."
      - id: ticket_ref
        type: ticket_ref(revision)
        doc: "Capacity ticket."
      - id: memory_binding
        type: opt_memory_binding
        doc: "Binding to a hosted memory; None in local files."
      - id: replay_manifest
        type: opt_replay_manifest
        doc: "Recorded sessions (`MV2RPLY!` segment)."
      - id: enrichment_queue
        type: enrichment_queue
        if: revision >= 131
        doc: "Frames awaiting background enrichment."
      - id: merkle_root
        size: 32
        doc: "32 zero bytes; never computed."
      - id: toc_checksum
        size: 32
        doc: "BLAKE3 of this TOC encoded with this field zeroed."
  segment_meta:
    seq:
      - id: id
        type: u8
        doc: "Segment id."
      - id: frame_range
        type: frame_range
        doc: "Frames covered, `[start, end)`."
      - id: primary_checksum
        size: 32
        doc: "BLAKE3 of the segment."
      - id: compression
        type: u4
        enum: segment_compression
        valid:
          max: segment_compression::lz4
        doc: "Segment compression."
      - id: bytes_offset
        type: u8
        doc: "Absolute offset."
      - id: bytes_length
        type: u8
        doc: "Length."
  frame_range:
    seq:
      - id: start
        type: u8
      - id: end
        type: u8
  vec_segment_meta:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: segment_meta
        repeat: expr
        repeat-expr: count
  frame:
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    seq:
      - id: id
        type: u8
        doc: "Frame id; equals the frame's index in `Toc.frames`."
      - id: timestamp
        type: s8
        doc: "Caller-supplied time of the frame, Unix seconds."
      - id: anchor_ts
        type: opt_s8
        doc: "Temporal anchor; memvid sets it to `timestamp`."
      - id: anchor_source
        type: opt_anchor_source
        doc: "Where `anchor_ts` came from; memvid sets `frame_timestamp`."
      - id: kind
        type: opt_bstr
        doc: "Free-form kind label."
      - id: track
        type: opt_bstr
        doc: "Free-form track (stream) name."
      - id: payload_offset
        type: u8
        doc: "Absolute offset of the stored payload. Meaningless when `payload_length` is 0."
      - id: payload_length
        type: u8
        doc: "Length of the stored payload (after compression)."
      - id: checksum
        size: 32
        doc: "BLAKE3-256 of the stored payload bytes (BLAKE3 of nothing for an empty payload)."
      - id: uri
        type: opt_bstr
        doc: "Frame URI; `mv2://frames/<id>` when the writer was given none."
      - id: title
        type: opt_bstr
        doc: "Title; derived from the URI when the writer was given none."
      - id: canonical_encoding
        type: u4
        enum: canonical_encoding
        valid:
          max: canonical_encoding::zstd
        doc: "How the stored payload encodes the canonical bytes: `plain` or `zstd`."
      - id: canonical_length
        type: opt_u8
        doc: "Length of the canonical (decoded) payload."
      - id: metadata
        type: opt_doc_metadata
        doc: "Structured document metadata (MIME type, media, EXIF...)."
      - id: search_text
        type: opt_bstr
        doc: "The text that is indexed and searched; see *Where text lives*."
      - id: tags
        type: vec_bstr
        doc: "Tags, in writer order."
      - id: labels
        type: vec_bstr
        doc: "Labels, in writer order."
      - id: extra_metadata
        type: map_bstr_bstr
        doc: "Free key/value metadata; keys in UTF-8 byte order."
      - id: content_dates
        type: vec_bstr
        doc: "Dates found in the content, as text."
      - id: chunk_manifest
        type: opt_text_chunk_manifest
        doc: "For a chunked document: chunk size and character ranges."
      - id: role
        type: u4
        enum: frame_role
        valid:
          max: frame_role::extracted_image
        doc: "`document`, `document_chunk` or `extracted_image`."
      - id: parent_id
        type: opt_u8
        doc: "For a chunk: id of its document frame."
      - id: chunk_index
        type: opt_u4
        doc: "For a chunk: its position, from 0."
      - id: chunk_count
        type: opt_u4
        doc: "For a chunked document and its chunks: number of chunks."
      - id: status
        type: u4
        enum: frame_status
        valid:
          max: frame_status::deleted
        doc: "`active`, `superseded` or `deleted`."
      - id: supersedes
        type: opt_u8
        doc: "Id of the frame this one replaces."
      - id: superseded_by
        type: opt_u8
        doc: "Id of the frame that replaced this one."
      - id: source_sha256
        type: opt_b32
        if: revision >= 131
        doc: "Hash of the original input. Despite the name, memvid stores BLAKE3 here."
      - id: source_path
        type: opt_bstr
        if: revision >= 131
        doc: "Path of the original input file."
      - id: enrichment_state
        type: u4
        enum: enrichment_state
        valid:
          max: enrichment_state::enriched
        if: revision >= 131
        doc: "`searchable` or `enriched`."
  opt_s8:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: s8
        if: tag == 1
  opt_anchor_source:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: u4
        enum: anchor_source
        valid:
          max: anchor_source::ingestion_clock
        if: tag == 1
  opt_bstr:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: bstr
        if: tag == 1
  opt_u8:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: u8
        if: tag == 1
  doc_metadata:
    seq:
      - id: mime
        type: opt_bstr
        doc: "MIME type of the input."
      - id: bytes
        type: opt_u8
        doc: "Size of the input."
      - id: hash
        type: opt_bstr
        doc: "Hash of the input, as text."
      - id: width
        type: opt_u4
        doc: "Image width."
      - id: height
        type: opt_u4
        doc: "Image height."
      - id: colors
        type: opt_vec_bstr
        doc: "Dominant colours."
      - id: caption
        type: opt_bstr
        doc: "Caption."
      - id: exif
        type: opt_doc_exif
        doc: "EXIF data of an image."
      - id: audio
        type: opt_doc_audio
        doc: "Audio properties."
      - id: media
        type: opt_media_manifest
        doc: "Media description."
  opt_u4:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: u4
        if: tag == 1
  vec_bstr:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: bstr
        repeat: expr
        repeat-expr: count
  opt_vec_bstr:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: vec_bstr
        if: tag == 1
  doc_exif:
    seq:
      - id: make
        type: opt_bstr
        doc: "Camera make."
      - id: model
        type: opt_bstr
        doc: "Camera model."
      - id: lens
        type: opt_bstr
        doc: "Lens."
      - id: datetime
        type: opt_bstr
        doc: "Capture time, as EXIF text."
      - id: gps
        type: opt_doc_gps
        doc: "Position."
  doc_gps:
    seq:
      - id: latitude
        type: f8
        doc: "Degrees, WGS 84."
      - id: longitude
        type: f8
        doc: "Degrees, WGS 84."
  opt_doc_gps:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: doc_gps
        if: tag == 1
  opt_doc_exif:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: doc_exif
        if: tag == 1
  doc_audio:
    seq:
      - id: duration_secs
        type: opt_f4
        doc: "Duration."
      - id: sample_rate_hz
        type: opt_u4
        doc: "Sample rate."
      - id: channels
        type: opt_u1
        doc: "Channel count."
      - id: bitrate_kbps
        type: opt_u4
        doc: "Bit rate."
      - id: codec
        type: opt_bstr
        doc: "Codec name."
      - id: segments
        type: vec_audio_segment
        doc: "Labelled time segments."
      - id: tags
        type: map_bstr_bstr
        doc: "Audio tags (ID3 and the like)."
  opt_f4:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: f4
        if: tag == 1
  opt_u1:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: u1
        if: tag == 1
  audio_segment:
    seq:
      - id: start_seconds
        type: f4
        doc: "Segment start."
      - id: end_seconds
        type: f4
        doc: "Segment end."
      - id: label
        type: opt_bstr
        doc: "Segment label."
  vec_audio_segment:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: audio_segment
        repeat: expr
        repeat-expr: count
  map_bstr_bstr:
    doc: "bincode map (a BTreeMap): a u64 entry count, then key, value, key, value..., keys ascending."
    seq:
      - id: count
        type: u8
      - id: entries
        type: map_bstr_bstr_entry
        repeat: expr
        repeat-expr: count
  map_bstr_bstr_entry:
    seq:
      - id: key
        type: bstr
      - id: value
        type: bstr
  opt_doc_audio:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: doc_audio
        if: tag == 1
  media_manifest:
    seq:
      - id: kind
        type: bstr
        doc: "Media kind (`image`, `audio`, `video`...)."
      - id: mime
        type: bstr
        doc: "MIME type."
      - id: bytes
        type: u8
        doc: "Size of the original media."
      - id: filename
        type: opt_bstr
        doc: "Original file name."
      - id: duration_ms
        type: opt_u8
        doc: "Duration."
      - id: width
        type: opt_u4
        doc: "Pixels."
      - id: height
        type: opt_u4
        doc: "Pixels."
      - id: codec
        type: opt_bstr
        doc: "Codec name."
  opt_media_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: media_manifest
        if: tag == 1
  opt_doc_metadata:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: doc_metadata
        if: tag == 1
  text_chunk_manifest:
    seq:
      - id: chunk_chars
        type: u8
        doc: "Target chunk size in characters."
      - id: chunks
        type: vec_text_chunk_range
        doc: "Character ranges of the chunks, in `chunk_index` order."
  text_chunk_range:
    seq:
      - id: start
        type: u8
        doc: "First character (Unicode scalar value) of the chunk."
      - id: end
        type: u8
        doc: "One past its last character."
  vec_text_chunk_range:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: text_chunk_range
        repeat: expr
        repeat-expr: count
  opt_text_chunk_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: text_chunk_manifest
        if: tag == 1
  opt_b32:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        size: 32
        if: tag == 1
  vec_frame:
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: frame(revision)
        repeat: expr
        repeat-expr: count
  index_manifests:
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    seq:
      - id: lex
        type: opt_lex_index_manifest
        doc: "Legacy monolithic lexical index; None in every SDK file."
      - id: lex_segments
        type: vec_lex_segment_manifest
        doc: "The packed Tantivy files, sorted by path."
      - id: vec
        type: opt_vec_index_manifest(revision)
        doc: "Monolithic vector index, or a placeholder with length 0."
      - id: clip
        type: opt_clip_index_manifest
        doc: "Image-embedding index; None in SDK files."
  lex_index_manifest:
    seq:
      - id: doc_count
        type: u8
        doc: "Documents in the index."
      - id: generation
        type: u8
        doc: "Index generation."
      - id: bytes_offset
        type: u8
        doc: "Absolute offset of the index (a tar of the Tantivy directory)."
      - id: bytes_length
        type: u8
        doc: "Its length."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the index bytes."
  opt_lex_index_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: lex_index_manifest
        if: tag == 1
  lex_segment_manifest:
    seq:
      - id: path
        type: bstr
        doc: "File name inside the Tantivy directory."
      - id: bytes_offset
        type: u8
        doc: "Absolute offset."
      - id: bytes_length
        type: u8
        doc: "Length."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the file's bytes."
  vec_lex_segment_manifest:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: lex_segment_manifest
        repeat: expr
        repeat-expr: count
  vec_index_manifest:
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    seq:
      - id: vector_count
        type: u8
        doc: "Number of vectors."
      - id: dimension
        type: u4
        doc: "Vector dimension."
      - id: bytes_offset
        type: u8
        doc: "Absolute offset."
      - id: bytes_length
        type: u8
        doc: "Length; 0 for a placeholder."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the segment (SHA-256 of nothing in placeholders)."
      - id: compression_mode
        type: u4
        enum: vector_compression
        valid:
          max: vector_compression::pq96
        doc: "`none` or `pq96`."
      - id: model
        type: opt_bstr
        if: revision >= 160
        doc: "Embedding model name, if recorded (memvid-2.0.160 only)."
  opt_vec_index_manifest:
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: vec_index_manifest(revision)
        if: tag == 1
  clip_index_manifest:
    seq:
      - id: bytes_offset
        type: u8
        doc: "Absolute offset."
      - id: bytes_length
        type: u8
        doc: "Length."
      - id: vector_count
        type: u8
        doc: "Number of image embeddings."
      - id: dimension
        type: u4
        doc: "Embedding dimension."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the segment."
      - id: model_name
        type: bstr
        doc: "Image-embedding model name."
  opt_clip_index_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: clip_index_manifest
        if: tag == 1
  time_index_manifest:
    seq:
      - id: bytes_offset
        type: u8
        doc: "Absolute offset of the `MVTI` segment."
      - id: bytes_length
        type: u8
        doc: "Its length."
      - id: entry_count
        type: u8
        doc: "Number of entries."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the segment."
  opt_time_index_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: time_index_manifest
        if: tag == 1
  temporal_track_manifest:
    seq:
      - id: bytes_offset
        type: u8
        doc: "Absolute offset of the `MVTN` segment."
      - id: bytes_length
        type: u8
        doc: "Its length."
      - id: entry_count
        type: u8
        doc: "Temporal mentions."
      - id: anchor_count
        type: u8
        doc: "Temporal anchors."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the segment."
      - id: flags
        type: u4
        doc: "Track flags."
  opt_temporal_track_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: temporal_track_manifest
        if: tag == 1
  memories_track_manifest:
    seq:
      - id: bytes_offset
        type: u8
        doc: "Absolute offset of the `MVMC` segment."
      - id: bytes_length
        type: u8
        doc: "Its length."
      - id: card_count
        type: u8
        doc: "Number of cards (9.6)."
      - id: entity_count
        type: u8
        doc: "Distinct entities; informative."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the whole segment."
  opt_memories_track_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: memories_track_manifest
        if: tag == 1
  logic_mesh_manifest:
    seq:
      - id: bytes_offset
        type: u8
        doc: "Absolute offset of the `MVLM` segment."
      - id: bytes_length
        type: u8
        doc: "Its length."
      - id: node_count
        type: u8
        doc: "Graph nodes."
      - id: edge_count
        type: u8
        doc: "Graph edges."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the whole segment."
  opt_logic_mesh_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: logic_mesh_manifest
        if: tag == 1
  sketch_track_manifest:
    seq:
      - id: bytes_offset
        type: u8
        doc: "Absolute offset of the `MVSK` segment."
      - id: bytes_length
        type: u8
        doc: "Its length."
      - id: entry_count
        type: u8
        doc: "Number of entries (one per frame)."
      - id: entry_size
        type: u2
        doc: "32, 64 or 96 bytes."
      - id: flags
        type: u4
        doc: "0."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the segment."
  opt_sketch_track_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: sketch_track_manifest
        if: tag == 1
  segment_catalog:
    seq:
      - id: next_segment_id
        type: u8
        doc: "One more than the highest segment id ever assigned."
      - id: version
        type: u4
        doc: "1."
      - id: lex_enabled
        type: u1
        valid:
          max: 1
        doc: "Whether the memory has full-text search."
      - id: lex_segments
        type: vec_lex_segment_descriptor
        doc: "Parallel-builder lexical segments (9.4)."
      - id: vec_segments
        type: vec_vec_segment_descriptor
        doc: "Parallel-builder vector segments (9.2)."
      - id: time_segments
        type: vec_time_segment_descriptor
        doc: "Parallel-builder time blocks (8)."
      - id: temporal_segments
        type: vec_temporal_segment_descriptor
        doc: "Temporal segments; empty in SDK files."
      - id: tantivy_segments
        type: vec_tantivy_segment_descriptor
        doc: "The Tantivy files again, with segment ids."
      - id: index_segments
        type: vec_index_segment_ref
        doc: "A mirror of the lex/vec/time/temporal descriptors; informative only."
  lex_segment_descriptor:
    seq:
      - id: common
        type: segment_common
        doc: "Offset, length, checksum and span."
      - id: doc_count
        type: u8
        doc: "Number of `LexDocument`s in the segment (9.4)."
  segment_common:
    seq:
      - id: segment_id
        type: u8
        doc: "Catalog-wide id."
      - id: bytes_offset
        type: u8
        doc: "Absolute offset."
      - id: bytes_length
        type: u8
        doc: "Length."
      - id: checksum
        size: 32
        doc: "BLAKE3 of the segment."
      - id: build_sequence
        type: u8
        doc: "0 in SDK files."
      - id: codec_version
        type: u2
        doc: "1 for parallel-builder segments, 0 for Tantivy files."
      - id: compression
        type: u4
        enum: segment_compression
        valid:
          max: segment_compression::lz4
        doc: "`none` in every file seen."
      - id: span
        type: opt_segment_span
        doc: "Frames (and pages, tokens) the segment covers."
  segment_span:
    seq:
      - id: frame_start
        type: u8
        doc: "First frame id covered."
      - id: frame_end
        type: u8
        doc: "Last frame id covered (inclusive)."
      - id: page_start
        type: u4
        doc: "First page (0 when the input has no pages)."
      - id: page_end
        type: u4
        doc: "Last page."
      - id: token_start
        type: u8
        doc: "First token position."
      - id: token_end
        type: u8
        doc: "Last token position."
  opt_segment_span:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: segment_span
        if: tag == 1
  vec_lex_segment_descriptor:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: lex_segment_descriptor
        repeat: expr
        repeat-expr: count
  vec_segment_descriptor:
    seq:
      - id: common
        type: segment_common
        doc: "Offset, length, checksum and span."
      - id: vector_count
        type: u8
        doc: "Number of vectors in the segment."
      - id: dimension
        type: u4
        doc: "Vector dimension."
      - id: vector_compression
        type: u4
        enum: vector_compression
        valid:
          max: vector_compression::pq96
        doc: "`none` in every file seen."
  vec_vec_segment_descriptor:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: vec_segment_descriptor
        repeat: expr
        repeat-expr: count
  time_segment_descriptor:
    seq:
      - id: common
        type: segment_common
        doc: "Offset, length, checksum and span."
      - id: entry_count
        type: u8
        doc: "Entries of the `MVTI` block."
  vec_time_segment_descriptor:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: time_segment_descriptor
        repeat: expr
        repeat-expr: count
  temporal_segment_descriptor:
    seq:
      - id: common
        type: segment_common
        doc: "Offset, length, checksum and span."
      - id: entry_count
        type: u8
        doc: "Temporal mentions."
      - id: anchor_count
        type: u8
        doc: "Temporal anchors."
      - id: flags
        type: u4
        doc: "Segment flags."
  vec_temporal_segment_descriptor:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: temporal_segment_descriptor
        repeat: expr
        repeat-expr: count
  tantivy_segment_descriptor:
    seq:
      - id: common
        type: segment_common
        doc: "Offset, length and checksum of one Tantivy file; span None."
      - id: path
        type: bstr
        doc: "File name inside the Tantivy directory; equals a `lex_segments` path."
  vec_tantivy_segment_descriptor:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: tantivy_segment_descriptor
        repeat: expr
        repeat-expr: count
  index_segment_ref:
    seq:
      - id: kind
        type: u4
        enum: segment_kind
        valid:
          max: segment_kind::tantivy
        doc: "Which descriptor list the entry mirrors."
      - id: common
        type: segment_common
        doc: "Copy of that descriptor's `SegmentCommon`."
      - id: stats
        type: segment_stats
        doc: "Counts of that descriptor."
  segment_stats:
    seq:
      - id: doc_count
        type: u8
        doc: "Documents (lexical entries)."
      - id: vector_count
        type: u8
        doc: "Vectors (vector entries)."
      - id: time_entries
        type: u8
        doc: "Entries (time entries)."
      - id: bytes_uncompressed
        type: u8
        doc: "Segment length before compression."
      - id: build_micros
        type: u8
        doc: "Build time in microseconds (wall clock; not reproducible)."
  vec_index_segment_ref:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: index_segment_ref
        repeat: expr
        repeat-expr: count
  ticket_ref:
    params:
      - id: revision
        type: u2
        doc: The TOC revision, as the number of the memvid release that introduced it (123, 131, 147, 160).
    seq:
      - id: issuer
        type: bstr
        doc: "`free-tier` in SDK files."
      - id: seq_no
        type: s8
        doc: "Ticket sequence number."
      - id: expires_in_secs
        type: u8
        doc: "0 = never."
      - id: capacity_bytes
        type: u8
        doc: "Capacity limit the writer enforces."
      - id: verified
        type: u1
        valid:
          max: 1
        if: revision >= 147
        doc: "Whether the ticket's signature was checked."
  memory_binding:
    seq:
      - id: memory_id
        type: uuid
        doc: "Id of the hosted memory."
      - id: memory_name
        type: bstr
        doc: "Its name."
      - id: bound_at
        type: bstr
        doc: "When the file was bound, RFC 3339 text (chrono `DateTime<Utc>`)."
      - id: api_url
        type: bstr
        doc: "Service URL."
  uuid:
    seq:
      - id: len
        type: u8
        valid: 16
        doc: "Serde byte-string length: always 16."
      - id: bytes
        size: 16
        doc: "The UUID's 16 bytes, in RFC 9562 order."
  opt_memory_binding:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: memory_binding
        if: tag == 1
  replay_manifest:
    seq:
      - id: segment_offset
        type: u8
        doc: "Absolute offset of the `MV2RPLY!` segment."
      - id: segment_size
        type: u8
        doc: "Its length (equals the segment header's `total_size`)."
      - id: session_count
        type: u4
        doc: "Recorded sessions."
      - id: total_actions
        type: u8
        doc: "Actions over all sessions."
      - id: version
        type: u4
        doc: "1."
  opt_replay_manifest:
    doc: "bincode Option: a tag byte, 0 = None, 1 = Some followed by the value."
    seq:
      - id: tag
        type: u1
        valid:
          max: 1
      - id: value
        type: replay_manifest
        if: tag == 1
  enrichment_queue:
    seq:
      - id: tasks
        type: vec_enrichment_task
        doc: "Pending tasks; empty in every SDK file."
      - id: updated_at
        type: u8
        doc: "Unix seconds of the last change; 0 when never changed."
  enrichment_task:
    seq:
      - id: frame_id
        type: u8
        doc: "Frame awaiting enrichment."
      - id: created_at
        type: u8
        doc: "Unix seconds when queued."
      - id: chunks_done
        type: u4
        doc: "Chunks enriched so far."
      - id: chunks_total
        type: u4
        doc: "Chunks to enrich."
  vec_enrichment_task:
    doc: "bincode Vec: a u64 element count, then the elements."
    seq:
      - id: count
        type: u8
      - id: items
        type: enrichment_task
        repeat: expr
        repeat-expr: count
enums:
  toc_revision:
    123: memvid_2_0_123
    131: memvid_2_0_131
    147: memvid_2_0_147
    160: memvid_2_0_160
  segment_compression:
    0: none
    1: zstd
    2: lz4
  anchor_source:
    0: explicit
    1: frame_timestamp
    2: metadata
    3: ingestion_clock
  canonical_encoding:
    0: plain
    1: zstd
  frame_role:
    0: document
    1: document_chunk
    2: extracted_image
  frame_status:
    0: active
    1: superseded
    2: deleted
  enrichment_state:
    0: searchable
    1: enriched
  vector_compression:
    0: none
    1: pq96
  segment_kind:
    0: lexical
    1: vector
    2: time
    3: temporal
    4: tantivy
