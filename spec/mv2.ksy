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

  This description covers the parts of the format with a fixed binary layout: the
  header, the WAL record framing, the commit footer, the raw TOC bytes and the `MVTI`
  time index segment. It is the machine-readable companion of the MV2 specification;
  the prose there is normative, and `tools/ksy_check.py` checks on real files that this
  description and the reference implementation's Construct schema
  (`reference/mv2/format/`) read the same values.

  What it does not cover:

  * The TOC is serde + bincode (variable-length vectors, options, enums whose layout
    depends on the TOC revision, chapter 11). It is exposed as raw bytes (`toc`) only.
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
      footer. A bincode value whose layout depends on the TOC revision; its BLAKE3 is
      `footer.toc_hash`. In a consistent file `header.footer_offset` is its offset.
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
