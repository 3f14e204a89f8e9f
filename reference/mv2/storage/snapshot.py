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
from itertools import chain
from operator import itemgetter
from dataclasses import dataclass, field

import blake3

from ..errors import CorruptFileError, MV2Error, StorageIOError, UsageError
from ..format.bincode import to_plain
from ..format.footer import FOOTER_SIZE
from ..format.header import HEADER_SIZE, MAGIC, SPEC_MAJOR, SPEC_MINOR, VERSION, WAL_OFFSET, Header
from ..format.memories import decode_memories, memory_cards
from ..format.payload import decode_payload, iter_canonical, materialise_limit
from ..format.gcpause import paused_gc
from ..format.revisions import REVISION_ORDER, REVISIONS, Revision, decode_toc
from ..format.wal import WAL_RECORD_HEADER_SIZE
from .locate import Commit, Location, find_last_commit, require_commit
from .replay import FrameState, apply_pending
from .source import Source, digest
from .wal import WalScan, scan_wal

CHECK_KNOWN_TOC = False
"""When set (the test suite sets it), a ``known_toc`` given to :func:`read_snapshot` is also
decoded from the file and the two values must be equal."""

MAX_WAL_SIZE = 1 << 40
"""Largest WAL region a reader accepts; anything larger is a damaged header, not a real file."""


_SMALL_PART = 1 << 20  # checked_ranges gives parts smaller than this as bytes


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
        chunks = iter_canonical(self.stored_payload(frame, check=check), f["canonical_encoding"], f["canonical_length"],
                                frame_id=f["id"], offset=f["payload_offset"])
        return _bounded(chunks, materialise_limit(self.source.size), f["id"])

    def canonical_payload(self, frame: FrameState) -> bytes:
        f = frame.fields
        return decode_payload(self.stored_payload(frame), f["canonical_encoding"], f["canonical_length"],
                              frame_id=f["id"], offset=f["payload_offset"], limit=materialise_limit(self.source.size))

    def checked_range(self, offset: int, length: int, checksum, *, what: str) -> bytes | None:
        """The bytes a manifest lists, or None if they lie outside the file or fail its BLAKE3
        (memvid leaves stale manifests behind, spec 7.2, and readers treat those as absent)."""
        if not self.source.contains(offset, length):
            return None
        data = self.source.read(offset, length, what=what)
        return data if digest(data) == bytes(checksum) else None

    def checked_ranges(self, ranges: list[tuple[int, int, bytes]], *, what: str) -> list:
        """:meth:`checked_range` of each (offset, length, checksum). Ranges that lie close
        together (a commit writes its Tantivy files side by side) are read with one read of
        the span that covers them, so that a first search reads its index and nothing more:
        not a read-ahead window of the data area, five times the index's size on a small file."""
        inside = [(o, n) for o, n, _ in ranges if self.source.contains(o, n)]
        if len(ranges) > 1 and len(inside) == len(ranges):
            lo, hi = min(o for o, _ in inside), max(o + n for o, n in inside)
            if hi - lo <= 2 * sum(n for _, n in inside) + 4096:
                span = memoryview(self.source.read_span(lo, hi - lo, what=what))
                # Small parts as bytes (callers parse them: meta.json), large ones as views of
                # the span (callers hash and write them), as read() gives large reads.
                parts = [span[o - lo:o - lo + n] for o, n, _ in ranges]
                parts = [bytes(p) if len(p) < _SMALL_PART else p for p in parts]
                return [p if digest(p) == bytes(c) else None for p, (_, _, c) in zip(parts, ranges)]
        return [self.checked_range(o, n, c, what=what) for o, n, c in ranges]

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


def _bounded(chunks, limit: int, frame_id: int):
    """The chunks of one payload, refusing to produce more than ``limit`` bytes (R-FRM-008)."""
    produced = 0
    for chunk in chunks:
        produced += len(chunk)
        if produced > limit:
            raise UsageError(f"frame {frame_id}: payload expands past {limit} bytes, the reader's bound for a file of "
                             "this size (spec 5.5)", code="MV2-E-LIMIT")
        yield chunk


def check_frame_links(frames: list[dict], toc_offset: int) -> None:
    """Frame ids are dense and every link names an existing frame (R-FRM-001, R-FRM-002).
    Everything that follows looks frames up by id, so a reader refuses a TOC that breaks this.
    (Each check is one pass in C over the frames; the loops that name the culprit run only
    when a check has failed.)"""
    n = len(frames)
    cols = getattr(frames, "columns", None)
    if cols is not None and _links_hold(cols, n):
        return
    if list(map(itemgetter("id"), frames)) != list(range(n)):
        i = next(i for i, f in enumerate(frames) if f["id"] != i)
        raise CorruptFileError(f"frames[{i}] has id {frames[i]['id']}", code="MV2-E-TOC-FRAME-ID", offset=toc_offset)
    keys = ("parent_id", "supersedes", "superseded_by")
    if not frames or keys[0] not in frames[0]:
        return
    links = [v for v in chain.from_iterable(map(itemgetter(*keys), frames)) if v is not None]
    if links and (max(links) >= n or min(links) < 0):
        for f in frames:
            for key in keys:
                v = f[key]
                if v is not None and not 0 <= v < n:
                    raise CorruptFileError(f"frame {f['id']} {key} = {v}, but there are {n} frames",
                                           code="MV2-E-TOC-REF", offset=toc_offset)


def _links_hold(cols: dict, n: int) -> bool:
    """The checks of :func:`check_frame_links` on a lazy frame list's columns (None is -1
    there): True when they all hold; otherwise the caller's loops find and name the culprit."""
    import numpy as np  # only lazy frame lists have columns, and they come with numpy

    if not np.array_equal(cols["id"], np.arange(n, dtype=np.int64)):
        return False
    for key in ("parent_id", "supersedes", "superseded_by"):
        c = cols.get(key)
        if c is not None and n and (int(c.max()) >= n or int(c.min()) < -1):
            return False
    return True


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


def header_state(header: dict, commit: Commit, toc: dict) -> str:
    """How the header relates to the last valid commit (spec 12.4):

    * ``current``: it names that commit;
    * ``stale``: it names an earlier one (a writer stopped between a durable commit and the
      header update). Every writer makes a commit reflect every WAL record written before it
      (R-WAL-012), so in that state no record is pending;
    * ``ahead``: it names a commit *after* the last valid one. A writer updates the header
      only once its commit is durable, so no crash leaves this: the newest commit was damaged
      or cut off, and reading the earlier one would silently roll back acknowledged data
      (``MV2-E-COMMIT-LOST``, R-DUR-006);
    * ``damaged``: only one of ``footer_offset`` and ``toc_checksum`` differs.
    """
    off_differs = header["footer_offset"] != commit.toc_offset
    ck_differs = bytes(header["toc_checksum"]) != bytes(toc["toc_checksum"])
    if not off_differs and not ck_differs:
        return "current"
    if off_differs and ck_differs:
        return "ahead" if header["footer_offset"] > commit.toc_offset else "stale"
    return "damaged"


def header_is_stale(header: dict, commit: Commit, toc: dict) -> bool:
    return header_state(header, commit, toc) == "stale"


def read_header(src: Source) -> dict:
    if src.size < HEADER_SIZE + FOOTER_SIZE:
        raise CorruptFileError(f"file is {src.size} bytes, shorter than a header and a footer: it is truncated or not an MV2 file",
                               code="MV2-E-FILE-SHORT", offset=src.size)
    h = to_plain(Header.parse(src.view(0, HEADER_SIZE, what="header")))
    check_header(h, src.size)
    return h


READ_ATTEMPTS = 12
"""How often a reader re-reads a file that changed while it was being read (spec 12.5)."""


def read_snapshot(path_or_source, *, apply_wal: bool = True, wal_mode: str = "strict", revision: str | None = None,
                  known_toc: tuple[int, bytes, dict] | None = None, rollback: bool = False) -> Snapshot:
    """Read a file. ``known_toc`` is ``(offset, bytes, value)`` of a TOC the caller has just
    written (a writer reloading after its commit): if the file's last commit is that TOC, byte
    for byte, its value is taken instead of decoding the bytes again.

    A path is read as a consistent snapshot even while a writer in another process works on
    it (spec 12.5, R-DUR-007): after reading, the reader checks that the header, the size and
    the identity of the file are what they were when it began, and reads again if not. An
    error is reported only when the file did not change, or when two reads in a row agree on
    it; a file that keeps changing gives ``MV2-E-BUSY``, which is worth retrying.

    ``rollback`` accepts a file whose newest commit is damaged (``MV2-E-COMMIT-LOST``) and
    reads the last valid commit instead, without pending records: an explicit choice to lose
    what the damaged commit held."""
    kw = dict(apply_wal=apply_wal, wal_mode=wal_mode, revision=revision, known_toc=known_toc, rollback=rollback)
    if isinstance(path_or_source, Source):
        with paused_gc():
            return _read_snapshot(path_or_source, **kw)
    path = os.fspath(path_or_source)
    previous: tuple[str, int | None] | None = None
    for attempt in range(READ_ATTEMPTS):
        src = Source.open(path)
        try:
            with paused_gc():  # a frame state per frame: many allocations, no cycles (format/gcpause.py)
                snap = _read_snapshot(src, **kw)
        except MV2Error as exc:
            changed = _changed(src, path)
            src.close()
            if isinstance(exc, StorageIOError) and exc.code != "MV2-E-FILE-CHANGED":
                raise
            key = (exc.code, exc.offset)
            if not changed and key == previous:
                raise
            previous = None if changed else key
            _pause(attempt)
            continue
        except BaseException:
            src.close()
            raise
        if not _changed(src, path):
            return snap
        snap.close()
        previous = None
        _pause(attempt)
    raise StorageIOError(f"{path} kept changing while it was read ({READ_ATTEMPTS} attempts): a writer is active; retry",
                         code="MV2-E-BUSY")


def _pause(attempt: int) -> None:
    import time

    time.sleep(0.0005 * (attempt + 1))


def _changed(src: Source, path: str) -> bool:
    """True if the file at ``path`` is no longer the bytes ``src`` began reading: another
    inode, another size, or other header bytes (a commit or a recovery happened)."""
    try:
        st = os.stat(path)
    except OSError:
        return True
    if (st.st_dev, st.st_ino) != src.identity or st.st_size != src.size:
        return True
    try:
        return os.pread(src._fd, HEADER_PREFIX, 0) != src.first_bytes
    except (OSError, TypeError):
        return True


HEADER_PREFIX = 80
"""The header bytes a writer ever rewrites (8..80) and those before them."""




def _toc_value(src: Source, commit: Commit, revision: str | None, known_toc, known):
    same = known is not None and known == (commit.toc_offset, commit.toc_len, commit.toc_hash)
    # The file's last commit is the writer's own (check_candidate found its footer, hash and
    # place): its bytes are the writer's, used rather than read back from the file.
    data = known_toc[1] if same else src.read(commit.toc_offset, commit.toc_len, what="TOC")
    # Only for the newest revision: the writer's values carry that revision's fields, which an
    # older revision's encoding drops, so for an older one the decoded value is the truth.
    if same and revision == REVISION_ORDER[0] and not REVISIONS[revision].toc_codec.lazy_available:
        if CHECK_KNOWN_TOC:
            decoded = decode_toc(data, base_offset=commit.toc_offset, revision=revision)[1]
            assert decoded == known_toc[2], "the writer's TOC value differs from its decoded bytes"
        return REVISIONS[revision], known_toc[2]
    # A lazy decode checks every frame and builds none (format/frametable.py): cheaper than
    # taking the writer's value, whose frames are its own objects, and it shares nothing with it.
    rev, value = decode_toc(data, base_offset=commit.toc_offset, revision=revision, lazy=True)
    if CHECK_KNOWN_TOC and same and revision == REVISION_ORDER[0]:
        assert value == known_toc[2], "the writer's TOC value differs from its decoded bytes"
    return rev, value


def _read_snapshot(src: Source, *, apply_wal: bool, wal_mode: str, revision: str | None, known_toc=None,
                   rollback: bool = False) -> Snapshot:
    src.first_bytes = bytes(src.view(0, min(HEADER_PREFIX, src.size), what="header"))
    header = read_header(src)
    data_start = header["wal_offset"] + header["wal_size"]
    known = (known_toc[0], len(known_toc[1]), digest(known_toc[1])) if known_toc is not None else None
    location = find_last_commit(src, floor=data_start, keep_toc=True, known=known)
    try:
        commit = require_commit(location, src)
        rev, toc = _toc_value(src, commit, revision, known_toc, known)  # decodes the bytes the footer check hashed
    finally:
        src.forget()
    src.read_ahead(data_start, commit.toc_offset)  # the committed data area: append-only
    check_frame_links(toc["frames"], commit.toc_offset)
    state = header_state(header, commit, toc)
    notes = []
    if state == "ahead":
        if not rollback:
            raise CorruptFileError(
                f"the header names a commit at byte {header['footer_offset']}, but the last valid commit starts at byte "
                f"{commit.toc_offset}: the newest commit is damaged or was cut off. Reading the earlier one would "
                "silently lose acknowledged data (open with rollback to read it anyway)",
                code="MV2-E-COMMIT-LOST", offset=min(header["footer_offset"], max(src.size - 1, 0)))
        notes.append(f"rolled back: the commit the header names (byte {header['footer_offset']}) is damaged")
    wal = scan_wal(
        src,
        wal_offset=header["wal_offset"],
        wal_size=header["wal_size"],
        revision=rev,
        checkpoint_pos=header["wal_checkpoint_pos"],
        checkpoint_sequence=header["wal_sequence"],
        mode="salvage" if wal_mode == "salvage" else "strict",
    )
    stale = state in ("stale", "ahead")
    pending = wal.pending(header["wal_sequence"]) if apply_wal and not stale else []
    replay = apply_pending(toc["frames"], pending, wal_offset=header["wal_offset"])
    return Snapshot(src, header, location, commit, rev, toc, wal, replay.frames, len(pending), header_stale=stale,
                    notes=notes)


def open_snapshot(path: str | os.PathLike, **kw) -> Snapshot:
    return read_snapshot(path, **kw)
