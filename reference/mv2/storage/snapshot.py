"""Opening a file for reading: header, last commit, TOC, WAL and pending records (spec: "Reading a file").

:func:`read_snapshot` performs the reader algorithm of the spec, in order:

1. decode the header and check the fields a reader depends on;
2. find the last valid commit by the footer scan (never trusting ``header.footer_offset``);
3. decode the TOC, choosing the revision by structure;
4. scan the WAL (every live record must be intact);
5. apply the pending records (``sequence > header.wal_sequence``) in memory.

It never writes. The result holds the source open; close it (or use ``with``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import blake3

from ..errors import CorruptFileError
from ..format.bincode import to_plain
from ..format.footer import FOOTER_SIZE
from ..format.header import HEADER_SIZE, MAGIC, SPEC_MAJOR, SPEC_MINOR, VERSION, WAL_OFFSET, Header
from ..format.memories import decode_memories, memory_cards
from ..format.payload import decode_payload, iter_canonical
from ..format.gcpause import paused_gc
from ..format.revisions import REVISION_ORDER, REVISIONS, Revision, decode_toc
from ..format.wal import WAL_RECORD_HEADER_SIZE
from .locate import Commit, Location, find_last_commit, require_commit
from .replay import FrameState, apply_pending
from .source import Source
from .wal import WalScan, scan_wal

CHECK_KNOWN_TOC = False
"""When set (the test suite sets it), a ``known_toc`` given to :func:`read_snapshot` is also
decoded from the file and the two values must be equal."""

MAX_WAL_SIZE = 1 << 40
"""Largest WAL region a reader accepts; anything larger is a damaged header, not a real file."""


@dataclass
class Snapshot:
    source: Source
    header: dict
    location: Location
    commit: Commit
    revision: Revision
    toc: dict
    wal: WalScan
    frames: list[FrameState]
    pending_count: int
    header_stale: bool = False
    """The header predates the last commit (a writer stopped between the two); see
    :func:`header_is_stale`. No WAL record is pending in that case."""
    notes: list[str] = field(default_factory=list)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- geometry ----------------------------------------------------------------------------
    @property
    def data_start(self) -> int:
        return self.header["wal_offset"] + self.header["wal_size"]

    @property
    def committed_frames(self) -> list[dict]:
        return self.toc["frames"]

    # -- payloads ----------------------------------------------------------------------------
    def stored_payload(self, frame: FrameState, *, check: bool = True):
        """The stored (possibly compressed) bytes of a frame's payload, zero-copy when in the file.

        Bytes read from the data area are checked against the frame's BLAKE3 first, so that a
        damaged payload is an error and never silently wrong data (``check=False`` is for a
        verifier that has just checked them). A pending frame's bytes come from its WAL record,
        which its own BLAKE3 covers."""
        f = frame.fields
        if frame.inline_payload is not None:
            return frame.inline_payload
        data = self.source.view(f["payload_offset"], f["payload_length"], what=f"payload of frame {f['id']}")
        if check and f["payload_length"] and blake3.blake3(data).digest() != bytes(f["checksum"]):
            raise CorruptFileError(f"payload of frame {f['id']}: its BLAKE3 does not match the frame's checksum",
                                   code="MV2-E-FRAME-HASH", offset=f["payload_offset"])
        return data

    def iter_canonical(self, frame: FrameState, *, check: bool = True):
        f = frame.fields
        return iter_canonical(self.stored_payload(frame, check=check), f["canonical_encoding"], f["canonical_length"],
                              frame_id=f["id"], offset=f["payload_offset"])

    def canonical_payload(self, frame: FrameState) -> bytes:
        f = frame.fields
        return decode_payload(self.stored_payload(frame), f["canonical_encoding"], f["canonical_length"],
                              frame_id=f["id"], offset=f["payload_offset"])

    def checked_range(self, offset: int, length: int, checksum, *, what: str) -> bytes | None:
        """The bytes a manifest lists, or None if they lie outside the file or fail its BLAKE3
        (memvid leaves stale manifests behind, spec 7.2, and readers treat those as absent)."""
        if not self.source.contains(offset, length):
            return None
        data = self.source.read(offset, length, what=what)
        return data if blake3.blake3(data).digest() == bytes(checksum) else None

    # -- memory cards ------------------------------------------------------------------------
    def memory_cards(self) -> list[dict] | None:
        """The committed memory cards in id order (9.5), or None when the file has no memories
        track. The track's BLAKE3 is checked before its bytes are decoded."""
        m = self.toc.get("memories_track")
        if m is None or m["bytes_length"] == 0:
            return None
        off, ln = m["bytes_offset"], m["bytes_length"]
        if off < self.data_start or off + ln > self.commit.toc_offset:
            raise CorruptFileError(f"memories track [{off}, {off + ln}) lies outside the data area", code="MV2-E-SEG-BOUNDS", offset=off)
        data = self.source.view(off, ln, what="memories track")
        if blake3.blake3(data).digest() != bytes(m["checksum"]):
            raise CorruptFileError(f"memories track: BLAKE3 of [{off}, {off + ln}) does not match memories_track.checksum",
                                   code="MV2-E-SEG-HASH", offset=off)
        return memory_cards(decode_memories(data, offset=off))


def check_frame_links(frames: list[dict], toc_offset: int) -> None:
    """Frame ids are dense and every link names an existing frame (R-FRM-001, R-FRM-002).
    Everything that follows looks frames up by id, so a reader refuses a TOC that breaks this."""
    n = len(frames)
    for i, f in enumerate(frames):
        if f["id"] != i:
            raise CorruptFileError(f"frames[{i}] has id {f['id']}", code="MV2-E-TOC-FRAME-ID", offset=toc_offset)
    for f in frames:
        for key in ("parent_id", "supersedes", "superseded_by"):
            v = f.get(key)
            if v is not None and not 0 <= v < n:
                raise CorruptFileError(f"frame {f['id']} {key} = {v}, but there are {n} frames",
                                       code="MV2-E-TOC-REF", offset=toc_offset)


def check_header(h: dict, file_size: int) -> None:
    """The header checks every reader must make before trusting any header field."""
    if h["magic"] != MAGIC:
        raise CorruptFileError(f"header magic is {bytes(h['magic'])!r}, not {MAGIC!r}", code="MV2-E-HDR-MAGIC", offset=0)
    if h["version"] != VERSION or h["spec_major"] != SPEC_MAJOR or h["spec_minor"] != SPEC_MINOR:
        raise CorruptFileError(
            f"header version {h['version']:#06x} / spec {h['spec_major']}.{h['spec_minor']} is not 2.1",
            code="MV2-E-HDR-VERSION", offset=4,
        )
    if h["wal_offset"] != WAL_OFFSET:
        raise CorruptFileError(f"wal_offset is {h['wal_offset']}, not {WAL_OFFSET}", code="MV2-E-HDR-WAL", offset=16)
    if h["wal_size"] < WAL_RECORD_HEADER_SIZE or h["wal_size"] > MAX_WAL_SIZE:
        raise CorruptFileError(f"wal_size {h['wal_size']} is outside [{WAL_RECORD_HEADER_SIZE}, {MAX_WAL_SIZE}]",
                               code="MV2-E-HDR-WAL", offset=24)
    if h["wal_offset"] + h["wal_size"] + FOOTER_SIZE > file_size:
        raise CorruptFileError(
            f"the file ends at byte {file_size}, before the end of its WAL region ({h['wal_offset'] + h['wal_size']}) "
            "and a commit footer: it is truncated",
            code="MV2-E-FILE-TRUNCATED", offset=file_size,
        )
    if h["wal_checkpoint_pos"] > h["wal_size"]:
        raise CorruptFileError(
            f"wal_checkpoint_pos {h['wal_checkpoint_pos']} lies past the WAL region of {h['wal_size']} bytes",
            code="MV2-E-HDR-CHECKPOINT", offset=32,
        )


def header_is_stale(header: dict, commit: Commit, toc: dict) -> bool:
    """True when the header describes an earlier commit than the last one in the file.

    A writer appends a commit, syncs it, and only then updates the header. If it stops in
    between, both ``footer_offset`` and ``toc_checksum`` still name the previous commit. Every
    writer makes a commit reflect every WAL record written before it (spec R-WAL-012), so in
    that state no record is pending. A header with only one of the two fields differing is
    not stale but damaged, and is treated as written.
    """
    return header["footer_offset"] != commit.toc_offset and bytes(header["toc_checksum"]) != bytes(toc["toc_checksum"])


def read_header(src: Source) -> dict:
    if src.size < HEADER_SIZE + FOOTER_SIZE:
        raise CorruptFileError(f"file is {src.size} bytes, shorter than a header and a footer: it is truncated or not an MV2 file",
                               code="MV2-E-FILE-SHORT", offset=src.size)
    h = to_plain(Header.parse(src.view(0, HEADER_SIZE, what="header")))
    check_header(h, src.size)
    return h


def read_snapshot(path_or_source, *, apply_wal: bool = True, wal_mode: str = "strict", revision: str | None = None,
                  known_toc: tuple[int, bytes, dict] | None = None) -> Snapshot:
    """Read a file. ``known_toc`` is ``(offset, bytes, value)`` of a TOC the caller has just
    written (a writer reloading after its commit): if the file's last commit is that TOC, byte
    for byte, its value is taken instead of decoding the bytes again."""
    with paused_gc():  # a frame state per frame: many allocations, no cycles (format/gcpause.py)
        return _read_snapshot(path_or_source, apply_wal=apply_wal, wal_mode=wal_mode, revision=revision,
                              known_toc=known_toc)


def _toc_value(src: Source, commit: Commit, revision: str | None, known_toc):
    data = src.read(commit.toc_offset, commit.toc_len, what="TOC")
    # Only for the newest revision: the writer's values carry that revision's fields, which an
    # older revision's encoding drops, so for an older one the decoded value is the truth.
    if known_toc is not None and revision == REVISION_ORDER[0] and known_toc[0] == commit.toc_offset \
            and known_toc[1] == data:
        if CHECK_KNOWN_TOC:
            decoded = decode_toc(data, base_offset=commit.toc_offset, revision=revision)[1]
            assert decoded == known_toc[2], "the writer's TOC value differs from its decoded bytes"
        return REVISIONS[revision], known_toc[2]
    return decode_toc(data, base_offset=commit.toc_offset, revision=revision)


def _read_snapshot(path_or_source, *, apply_wal: bool, wal_mode: str, revision: str | None, known_toc=None) -> Snapshot:
    src = path_or_source if isinstance(path_or_source, Source) else Source.open(path_or_source)
    try:
        header = read_header(src)
        data_start = header["wal_offset"] + header["wal_size"]
        location = find_last_commit(src, floor=data_start)
        commit = require_commit(location, src)
        rev, toc = _toc_value(src, commit, revision, known_toc)
        check_frame_links(toc["frames"], commit.toc_offset)
        wal = scan_wal(
            src,
            wal_offset=header["wal_offset"],
            wal_size=header["wal_size"],
            revision=rev,
            checkpoint_pos=header["wal_checkpoint_pos"],
            mode=wal_mode,
        )
        stale = header_is_stale(header, commit, toc)
        pending = wal.pending(header["wal_sequence"]) if apply_wal and not stale else []
        replay = apply_pending(toc["frames"], pending, wal_offset=header["wal_offset"])
        return Snapshot(src, header, location, commit, rev, toc, wal, replay.frames, len(pending), header_stale=stale)
    except BaseException:
        if not isinstance(path_or_source, Source):
            src.close()
        raise


def open_snapshot(path: str | os.PathLike, **kw) -> Snapshot:
    return read_snapshot(path, **kw)
