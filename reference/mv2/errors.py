"""Error classes and the registry of stable error codes (spec: "Error codes").

Every failure the package reports is an :class:`MV2Error` carrying a stable ``code`` (for
example ``MV2-E-TOC-HASH``), the absolute byte ``offset`` it concerns when there is one, and
a message for people. Codes are part of the public contract: tests, the conformance
manifests and other implementations match on them, never on messages. A code is never
renamed or reused; retired codes stay in :data:`CODES` marked as such.

The classes split failures by what the caller can do about them:

* :class:`CorruptFileError` — the bytes are not a valid MV2 file (malformed structure or a
  checksum that does not match). Verify exits 1 for these.
* :class:`UnsupportedError` — the bytes may be valid but use something this implementation
  does not implement.
* :class:`UsageError` — the caller asked for something invalid (unknown frame id, ...).
* :class:`LockedError` — another writer holds the file.
* :class:`StorageIOError` — the operating system failed a read or write.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeInfo:
    code: str
    kind: str  # "malformed" | "invalid" | "unsupported" | "usage" | "io"
    title: str
    section: str  # spec chapter that defines the rule


_ENTRIES = [
    # file as a whole
    ("MV2-E-FILE-SHORT", "malformed", "file is shorter than the header plus the WAL plus a footer", "layout"),
    ("MV2-E-FILE-TRUNCATED", "malformed", "the file ends inside its WAL region", "layout"),
    ("MV2-E-FILE-TRAILING", "invalid", "bytes follow the last valid commit footer", "toc-footer"),
    ("MV2-E-FILE-UNREADABLE", "io", "the file could not be opened or read", "layout"),
    # header
    ("MV2-E-HDR-MAGIC", "malformed", "header magic is not MV2\\0", "header"),
    ("MV2-E-HDR-VERSION", "malformed", "header version or spec bytes are not 2.1", "header"),
    ("MV2-E-HDR-WAL", "malformed", "WAL offset or size in the header is impossible", "header"),
    ("MV2-E-HDR-RESERVED", "invalid", "header reserved bytes 80..4096 are not zero", "header"),
    ("MV2-E-HDR-TOC-PTR", "invalid", "header footer_offset does not point at the committed TOC", "header"),
    ("MV2-E-HDR-TOC-HASH", "invalid", "header toc_checksum differs from the TOC's own checksum", "header"),
    ("MV2-E-HDR-CHECKPOINT", "invalid", "header WAL checkpoint does not match the WAL contents", "wal"),
    # footer
    ("MV2-E-FTR-MISSING", "malformed", "no valid commit footer was found", "toc-footer"),
    ("MV2-E-FTR-HASH", "invalid", "a commit footer's TOC hash does not match (a newer commit is corrupt)", "toc-footer"),
    ("MV2-E-FTR-LENGTH", "malformed", "a commit footer's TOC length is impossible", "toc-footer"),
    # TOC
    ("MV2-E-TOC-DECODE", "malformed", "the TOC bytes do not decode as any known TOC revision", "toc-footer"),
    ("MV2-E-TOC-TRUNCATED", "malformed", "the TOC ends inside a value", "toc-footer"),
    ("MV2-E-TOC-LENGTH", "malformed", "a length inside the TOC exceeds the bytes that remain", "toc-footer"),
    ("MV2-E-TOC-UTF8", "malformed", "a string inside the TOC is not valid UTF-8", "toc-footer"),
    ("MV2-E-TOC-VALUE", "malformed", "a bool, Option tag or enum inside the TOC has an invalid value", "toc-footer"),
    ("MV2-E-TOC-ORDER", "malformed", "a map inside the TOC is not in ascending key order", "toc-footer"),
    ("MV2-E-TOC-TRAILING", "malformed", "bytes follow the TOC value inside the TOC region", "toc-footer"),
    ("MV2-E-TOC-HASH", "invalid", "the TOC's toc_checksum does not match its contents", "checksums"),
    ("MV2-E-TOC-LIMIT", "invalid", "a TOC count exceeds an implementation limit", "limits"),
    ("MV2-E-TOC-FRAME-ID", "invalid", "frame ids are not dense (frames[i].id != i)", "frames"),
    ("MV2-E-TOC-REF", "invalid", "a frame refers to a frame id that does not exist", "frames"),
    ("MV2-E-TOC-LINK", "invalid", "a superseded frame and the frame that replaced it do not name each other", "frames"),
    # WAL
    ("MV2-E-WAL-LENGTH", "malformed", "a WAL record length is zero or runs past the WAL region", "wal"),
    ("MV2-E-WAL-HASH", "invalid", "a WAL record's BLAKE3 does not match its payload", "wal"),
    ("MV2-E-WAL-SEQ", "invalid", "WAL record sequence numbers are not consecutive", "wal"),
    ("MV2-E-WAL-DECODE", "malformed", "a WAL record payload does not decode", "wal"),
    ("MV2-E-WAL-RESERVED", "invalid", "a WAL record's reserved bytes are not zero", "wal"),
    ("MV2-E-WAL-APPLY", "invalid", "a pending WAL record cannot be applied (e.g. unknown target frame)", "wal"),
    ("MV2-E-WAL-DAMAGED", "invalid", "a damaged WAL record is followed by intact ones: damage, not a torn append (recovery refuses unless told to salvage)", "durability"),
    ("MV2-E-COMMIT-LOST", "invalid", "the header names a commit after the last valid one: the newest commit is damaged or missing (no crash produces this)", "durability"),
    # segments and payloads
    ("MV2-E-SEG-BOUNDS", "invalid", "a region lies outside the data area or the file", "layout"),
    ("MV2-E-SEG-OVERLAP", "invalid", "two live regions overlap", "layout"),
    ("MV2-E-SEG-HASH", "invalid", "a segment's BLAKE3 does not match its manifest", "checksums"),
    ("MV2-E-SEG-DECODE", "malformed", "a segment's bytes do not decode", "segments"),
    ("MV2-E-FRAME-HASH", "invalid", "a frame payload's BLAKE3 does not match the frame checksum", "checksums"),
    ("MV2-E-FRAME-DECODE", "malformed", "a frame payload does not decompress to its canonical length", "frames"),
    ("MV2-E-TIME-DECODE", "malformed", "the time index segment is malformed", "time-index"),
    ("MV2-E-TIME-ORDER", "invalid", "time index entries are not sorted by (timestamp, frame_id)", "time-index"),
    ("MV2-E-TIME-MISMATCH", "invalid", "time index entries disagree with the frames", "time-index"),
    ("MV2-E-LEX-MISMATCH", "invalid", "the two lists of Tantivy files in the TOC disagree", "lex-vec"),
    ("MV2-E-LEX-FILES", "malformed", "the Tantivy files do not form an index directory (a name that is not a plain file name, or files Tantivy cannot open)", "lex-vec"),
    ("MV2-E-SKETCH-MISMATCH", "invalid", "the sketch track disagrees with the frames", "segments"),
    # warnings: writer defects memvid-sdk itself produces; they do not make a file invalid
    ("MV2-W-STALE-MANIFEST", "warning", "a manifest points at bytes another structure owns; the index is absent", "checksums"),
    ("MV2-W-STALE-MIRROR", "warning", "index_segments entries differ from the catalog they mirror", "toc-footer"),
    ("MV2-W-SKETCH-STALE", "warning", "the sketch track's entry count differs from the frame count", "segments"),
    ("MV2-W-NEEDS-RECOVERY", "warning", "a writer crashed: the WAL ends in an append that never completed, or the header predates the last commit; every acknowledged change is readable, and opening for writing (mv2 recover) repairs the file", "durability"),
    ("MV2-W-WAL-HIDDEN", "warning", "intact WAL records with sequences past the checkpoint lie after the sentinel: an append that never completed, or a sentinel written over records", "checksums"),
    # unsupported
    ("MV2-E-UNSUPPORTED", "unsupported", "the file uses a feature this implementation does not implement", "conformance"),
    ("MV2-E-TOC-REVISION", "unsupported", "the TOC's checksums hold but no known TOC revision decodes it", "revisions"),
    # usage and environment
    ("MV2-E-USAGE", "usage", "invalid argument or operation", "api"),
    ("MV2-E-NOT-FOUND", "usage", "no frame with that id or URI", "api"),
    ("MV2-E-LOCKED", "usage", "another writer holds the file lock", "durability"),
    ("MV2-E-READ-ONLY", "usage", "the memory was opened read-only", "api"),
    ("MV2-E-LIMIT", "usage", "a value exceeds a format limit", "limits"),
    ("MV2-E-VEC-MODEL", "usage", "a query or vector comes from another embedding model than the one the file's vectors are bound to", "lex-vec"),
    ("MV2-E-IO", "io", "the operating system failed a read, write or sync", "durability"),
    ("MV2-E-IO-FAILED", "io", "an earlier write or sync of this handle failed; it refuses further writes: reopen the file, which recovers it", "durability"),
    ("MV2-E-FILE-CHANGED", "io", "the file was truncated, replaced or removed by another process while in use (retry, or reopen)", "durability"),
    ("MV2-E-BUSY", "io", "the file kept changing while being read (an active writer): retry", "durability"),
    # merging (spec 15)
    ("MV2-E-MERGE-BASE", "usage", "a side of a merge does not descend from its BASE", "merge"),
    ("MV2-E-MERGE-CONFLICT", "usage", "the sides of a merge conflict and no side was chosen", "merge"),
    # importing a Memvid V1 memory (docs: import-v1)
    ("MV2-E-V1-MISSING", "io", "a file of the V1 memory (video, index JSON or FAISS index) is missing or unreadable", "import-v1"),
    ("MV2-E-V1-FORMAT", "malformed", "the file is not part of a Memvid V1 memory (index JSON, FAISS index or QR video)", "import-v1"),
    ("MV2-E-V1-MISMATCH", "invalid", "the V1 video and index do not belong together, or disagree where both are authoritative", "import-v1"),
]

CODES: dict[str, CodeInfo] = {c: CodeInfo(c, k, t, s) for c, k, t, s in _ENTRIES}


class MV2Error(Exception):
    """Base of every error this package raises on purpose."""

    default_code = "MV2-E-USAGE"

    def __init__(self, message: str, *, code: str | None = None, offset: int | None = None):
        code = code or self.default_code
        if code not in CODES:
            raise ValueError(f"unregistered error code {code}")
        self.code = code
        self.offset = offset
        self.message = message
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{code}{where}: {message}")

    @property
    def kind(self) -> str:
        return CODES[self.code].kind

    def to_json(self) -> dict:
        return {"code": self.code, "kind": self.kind, "offset": self.offset, "message": self.message}


class CorruptFileError(MV2Error):
    """The bytes are not a valid MV2 file."""

    default_code = "MV2-E-TOC-DECODE"


class UnsupportedError(MV2Error):
    default_code = "MV2-E-UNSUPPORTED"


class UsageError(MV2Error):
    default_code = "MV2-E-USAGE"


class NotFoundError(UsageError):
    default_code = "MV2-E-NOT-FOUND"


class LockedError(MV2Error):
    default_code = "MV2-E-LOCKED"


class StorageIOError(MV2Error):
    default_code = "MV2-E-IO"


def error_for(code: str, message: str, offset: int | None = None) -> MV2Error:
    """The right subclass for a registered code."""
    kind = CODES[code].kind
    cls = {
        "malformed": CorruptFileError,
        "invalid": CorruptFileError,
        "unsupported": UnsupportedError,
        "usage": UsageError,
        "io": StorageIOError,
    }[kind]
    if code == "MV2-E-NOT-FOUND":
        cls = NotFoundError
    elif code == "MV2-E-LOCKED":
        cls = LockedError
    return cls(message, code=code, offset=offset)
