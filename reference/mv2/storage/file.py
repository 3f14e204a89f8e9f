"""Writing a file durably: create, append WAL records, commit, grow the WAL, recover (spec 12).

Every operation writes in an order that leaves a readable file with every acknowledged
change at any instant a crash can strike, under the fault model of spec 12.1: unsynced
512-byte sectors reach the disk in any combination, a write may tear between sectors, a
write or sync may fail and the process go on. "Sync" is ``fsync``.

* **append** (put, put_many, delete, supersede), in two phases: (1) every byte of the
  records except the first record's 48-byte header, and a sentinel after them → sync;
  (2) that header, into the slot that held the sentinel → sync → acknowledge. Until phase 2
  lands the slot is still a sentinel, so readers and recovery see none of the batch: a batch
  is atomic. A torn phase 2 leaves a header with one side of a sector boundary zero, which
  recovery recognises (R-WAL-015).
* **commit** (seal): payloads and index segments appended after the current end of the
  file → sync → TOC and footer → sync → a sentinel at WAL offset 0 → sync → header bytes
  8–79 → sync. A valid footer therefore implies that everything its TOC references is
  durable; nothing the previous commit owns is overwritten.
* **create**: header, a zeroed WAL and the first commit are written to a temporary file →
  sync → hard-linked to the path (which fails if it exists) → directory sync. A crash leaves
  no half-made file at the path.
* **grow the WAL / compact**: a complete new image of the file is written to a temporary
  file beside it → sync → renamed over the original → directory sync.
* **recover** (on every open for writing): drop bytes after the last valid commit, repair a
  stale header, cut a torn WAL tail, then replay pending records (the caller commits them).
  Damage is never repaired silently (MV2-E-WAL-DAMAGED, MV2-E-COMMIT-LOST).

A handle whose write or sync fails refuses every later write (``MV2-E-IO-FAILED``): after a
failed sync nobody knows which bytes reached the disk, and going on could acknowledge into a
state that recovery discards. The one exception is a failure in phase 1 of an append, which
leaves nothing visible: the handle stays usable and the sequence numbers are not used up.
Before acknowledging, a writer checks that its path still names its file (R-DUR-005).

This module moves bytes and enforces that order; what the bytes are is decided by the layers
above (the memory builds indexes and the TOC).
"""

from __future__ import annotations

import bisect
import copy
import os
import struct
from dataclasses import dataclass
from typing import Callable

from ..errors import CorruptFileError, LockedError, StorageIOError, UsageError
from ..format.commit import FrameEncodings, encode_footer, encode_header, encode_toc_with_checksum
from ..format.footer import FOOTER_SIZE
from ..format.header import HEADER_SIZE, WAL_OFFSET
from ..format.frametable import MovedFrames, movable
from ..format.references import live_bytes, live_intervals, toc_references
from ..format.revisions import REVISIONS, Revision
from ..format.wal import WAL_RECORD_HEADER_SIZE, WalRecordHeader
from .lock import is_current, lock_exclusive, unlock
from .snapshot import Snapshot, read_snapshot
from .wal import checkpoint_problem
from .source import Source
from .wal import WalRecord

import blake3

SENTINEL = bytes(WAL_RECORD_HEADER_SIZE)
GROW_SUFFIX = ".mv2-grow"
CREATE_SUFFIX = ".mv2-create"
MAX_SEQUENCE = (1 << 64) - 1
COPY_CHUNK = 8 << 20
LOCK_ATTEMPTS = 5


def _fsync_dir(path: str) -> None:
    d = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    try:
        os.fsync(d)
    finally:
        os.close(d)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


class OSLayer:
    """The system calls the writer makes, in one place so that tests can record and fault
    them (the crash-state tests replay a recorded trace; spec 12.7)."""

    def open(self, path: str, flags: int, mode: int = 0o644) -> int:
        return os.open(path, flags, mode)

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        _pwrite_all(fd, data, offset)

    def pwrite_parts(self, fd: int, parts, offset: int) -> None:
        """Write ``parts`` one after another from ``offset`` (what joining them and writing
        once would do, without copying a 450 MB TOC to put its footer after it)."""
        for part in parts:
            self.pwrite(fd, part, offset)
            offset += len(part)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def replace(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def link(self, src: str, dst: str) -> None:
        os.link(src, dst)

    def unlink(self, path: str) -> None:
        os.unlink(path)

    def fsync_dir(self, path: str) -> None:
        _fsync_dir(path)

    def close(self, fd: int) -> None:
        os.close(fd)


OS = OSLayer()


def _oserror(what: str, exc: OSError, code: str = "MV2-E-IO") -> StorageIOError:
    return StorageIOError(f"{what}: {exc.strerror or exc}", code=code)


@dataclass
class CommitResult:
    toc_offset: int
    toc: dict
    offsets: list[int]
    generation: int


class WritableFile:
    """An open, locked file and its durable write operations."""

    def __init__(self, path: str, fd: int, *, revision: Revision, wal_size: int, end: int,
                 generation: int, wal_head: int, wal_sequence: int, next_seq: int, toc_offset: int,
                 fault: Callable[[str], None] | None = None):
        self.path = path
        self.fd = fd
        self.revision = revision
        self.wal_size = wal_size
        self.end = end  # end of the last commit = end of the file
        self.generation = generation
        self.wal_head = wal_head
        self.wal_sequence = wal_sequence  # last sequence the header records as committed
        self.frame_encodings = FrameEncodings()  # frames' TOC bytes, reused across commits
        self.last_toc: tuple[int, bytes, dict] | None = None  # (offset, bytes, value) of our last commit
        self.repaired = False  # whether opening it repaired what a crash left (see _recover)
        self.next_seq = next_seq
        self.toc_offset = toc_offset
        self.checkpoint_pos = 0  # where pending records start; 0 after any commit of ours
        self.compaction_error: StorageIOError | None = None  # why the last commit could not compact
        self.fault = fault or (lambda point: None)
        self.closed = False
        self.failed: str | None = None  # why this handle refuses writes (a write or sync failed)

    # -- low-level ---------------------------------------------------------------------------
    # ``fault(point)`` is a test hook called before every write and sync: it may raise an
    # OSError (reported as StorageIOError, like a real one) or stop the process outright.
    def _poison(self, why: str) -> None:
        if self.failed is None:
            self.failed = why

    def _guard(self) -> None:
        if self.closed:
            raise UsageError("the file is closed")
        if self.failed is not None:
            raise StorageIOError(f"an earlier write to {self.path} failed ({self.failed}); this handle refuses further "
                                 "writes. Close it and open the file again, which recovers it", code="MV2-E-IO-FAILED")

    def _write(self, data, offset: int, point: str, *, poison: bool = True) -> None:
        """Write ``data`` (bytes, or a tuple of byte strings written back to back) at ``offset``."""
        try:
            self.fault(point)
            if isinstance(data, tuple):
                OS.pwrite_parts(self.fd, data, offset)
            else:
                OS.pwrite(self.fd, data, offset)
        except OSError as exc:
            size = sum(map(len, data)) if isinstance(data, tuple) else len(data)
            msg = f"write of {size} bytes at {offset} failed: {exc.strerror or exc}"
            if poison:
                self._poison(msg)
            raise StorageIOError(msg) from None

    def _sync(self, point: str, *, poison: bool = True) -> None:
        try:
            self.fault(point)
            OS.fsync(self.fd)
        except OSError as exc:
            msg = f"fsync failed: {exc.strerror or exc}"
            if poison:
                self._poison(msg)
            raise StorageIOError(msg) from None

    def _check_identity(self) -> None:
        """Before acknowledging: the path must still name this file, at its full length
        (R-DUR-005). A file replaced, removed or truncated underneath would make the write
        one that nobody reads."""
        try:
            st = os.stat(self.path)
            own = os.fstat(self.fd)
        except OSError:
            st = own = None
        if st is None or (st.st_dev, st.st_ino) != (own.st_dev, own.st_ino) or own.st_size < self.end:
            why = (f"{self.path} was replaced, removed or truncated by another process" if st is not None or own is None
                   else f"{self.path} was removed")
            self._poison(why)
            raise StorageIOError(f"{why}: the change just written went to a file nobody will read, and is not "
                                 "acknowledged", code="MV2-E-FILE-CHANGED")

    @property
    def data_start(self) -> int:
        return WAL_OFFSET + self.wal_size

    # -- WAL -----------------------------------------------------------------------------------
    def wal_room(self) -> int:
        return self.wal_size - self.wal_head

    @staticmethod
    def records_size(payloads: list[bytes]) -> int:
        return sum(WAL_RECORD_HEADER_SIZE + len(p) for p in payloads)

    def append(self, payloads: list[bytes]) -> list[int]:
        """Append records at the WAL head in two phases (module docstring); return their
        sequences. The caller checks :meth:`wal_room` first (and commits or grows when short)."""
        self._guard()
        size = self.records_size(payloads)
        if size > self.wal_room():
            raise UsageError(f"{size} bytes of WAL records do not fit in the {self.wal_room()} bytes left", code="MV2-E-LIMIT")
        if self.next_seq + len(payloads) - 1 > MAX_SEQUENCE:
            raise UsageError("the WAL sequence numbers are used up", code="MV2-E-LIMIT")
        buf = bytearray()
        seqs = list(range(self.next_seq, self.next_seq + len(payloads)))
        for seq, p in zip(seqs, payloads):
            buf += WalRecordHeader.build(dict(sequence=seq, length=len(p), reserved=0, checksum=blake3.blake3(p).digest()))
            buf += p
        if self.wal_head + len(buf) + WAL_RECORD_HEADER_SIZE <= self.wal_size:
            buf += SENTINEL
        at = WAL_OFFSET + self.wal_head
        # Phase 1: the slot at the head still holds the sentinel, so nothing written here is
        # visible yet; a failure leaves the handle as it was.
        self._write(bytes(buf[WAL_RECORD_HEADER_SIZE:]), at + WAL_RECORD_HEADER_SIZE, "wal-write", poison=False)
        self._sync("wal-sync", poison=False)
        # Phase 2: the first header makes the whole batch visible at once.
        self._write(bytes(buf[:WAL_RECORD_HEADER_SIZE]), at, "wal-commit")
        self._sync("wal-commit-sync")
        self._check_identity()
        self.next_seq += len(payloads)
        self.wal_head += size
        return seqs

    # -- commit --------------------------------------------------------------------------------
    def commit(self, blobs: list[bytes], build_toc: Callable[[list[int], int], dict], *,
               compact_min_dead: int | None = None, wal_size: int | None = None) -> CommitResult:
        """Commit ``blobs`` and a TOC that ``build_toc(offsets, data_start)`` describes.

        The blobs' offsets are those of an append after the current end of the file. The
        commit is written as a compacted image instead (spec 12.6; the same TOC with every
        offset moved to where its bytes land) if ``compact_min_dead`` is given and the commit
        would leave at least that many dead bytes, and at least as many as live ones, or if
        ``wal_size`` asks for a WAL region of another size (a WAL that grew, given back).
        """
        self._guard()
        pos = self.end
        offsets = []
        for b in blobs:
            offsets.append(pos)
            pos += len(b)
        toc = build_toc(offsets, self.data_start)
        self.compaction_error = None
        resize = wal_size is not None and wal_size != self.wal_size
        if compact_min_dead is not None or resize:
            live, dead = self._live_dead(toc, pos)
            if resize or (dead and dead >= max(live, compact_min_dead)):
                try:
                    new_toc = self._install_image(toc, extra=b"".join(blobs), extra_at=self.end,
                                                  wal_size=wal_size or self.wal_size, carry_wal=False,
                                                  point="compact")
                    return CommitResult(self.toc_offset, new_toc, [], self.generation)
                except StorageIOError as exc:
                    if self.failed is not None:
                        raise
                    # The image needs room for all live bytes, and a writable directory; an
                    # append needs only the new bytes. The old file is intact, so commit the
                    # ordinary way instead.
                    self.compaction_error = exc
        toc_bytes = self._encode_toc(toc)
        generation = self.generation + 1
        data = b"".join(blobs)
        if data:
            # The data first: once the footer below is durable, so is everything it references.
            # Until the footer is written nothing refers to these bytes, so a failure here
            # leaves the handle usable: a later commit writes them again.
            try:
                self._write(data, self.end, "commit-write", poison=False)
                self._sync("commit-sync", poison=False)
            except StorageIOError:
                try:
                    OS.ftruncate(self.fd, self.end)
                except OSError:
                    pass
                raise
        self._write((toc_bytes, encode_footer(toc_bytes, generation)), pos, "commit-footer")
        self._sync("commit-footer-sync")
        toc_offset = pos
        self.end = toc_offset + len(toc_bytes) + FOOTER_SIZE
        self.generation = generation
        self._reset_wal_and_header(toc_offset, toc_bytes)
        self._check_identity()
        toc["toc_checksum"] = toc_bytes[-32:]
        self.last_toc = (toc_offset, toc_bytes, toc)
        return CommitResult(toc_offset, toc, offsets, generation)

    def _encode_toc(self, toc: dict) -> bytes:
        try:
            return encode_toc_with_checksum(toc, self.revision.name, self.frame_encodings)
        except (struct.error, OverflowError) as exc:
            # Values carried over from a damaged TOC (a count near 2^64, say) can make the new
            # one unencodable; nothing has been written yet.
            raise CorruptFileError(f"the new TOC cannot be encoded: {exc}", code="MV2-E-TOC-LIMIT") from None

    def _reset_wal_and_header(self, toc_offset: int, toc_bytes: bytes) -> None:
        # Every record is now in the commit: restart the log at offset 0.
        self._write(SENTINEL, WAL_OFFSET, "wal-reset")
        self._sync("wal-reset-sync")
        self.wal_sequence = self.next_seq - 1
        header = encode_header(toc_offset=toc_offset, toc_bytes=toc_bytes, wal_size=self.wal_size,
                               wal_checkpoint_pos=0, wal_sequence=self.wal_sequence)
        # Only bytes 8..80 change; magic and version are never rewritten.
        self._write(header[8:80], 8, "header-write")
        self._sync("header-sync")
        self.wal_head = 0
        self.checkpoint_pos = 0
        self.toc_offset = toc_offset

    # -- create ------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str, *, wal_size: int, revision: str, blobs: list[bytes],
               build_toc: Callable[[list[int], int], dict], fault=None) -> tuple["WritableFile", CommitResult]:
        if wal_size < 4 * WAL_RECORD_HEADER_SIZE or wal_size % 8:
            raise UsageError(f"wal_size {wal_size} must be a multiple of 8 and at least {4 * WAL_RECORD_HEADER_SIZE}")
        if os.path.lexists(path):
            raise UsageError(f"{path} already exists")
        fault = fault or (lambda point: None)
        tmp = path + CREATE_SUFFIX
        try:
            fd = OS.open(tmp, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _oserror(f"cannot create {tmp}", exc) from None
        try:
            # A leftover from a create that crashed is ours to reuse, unless someone holds it.
            lock_exclusive(fd, tmp)
            OS.ftruncate(fd, 0)
            data_start = WAL_OFFSET + wal_size
            offsets, pos = [], data_start
            for b in blobs:
                offsets.append(pos)
                pos += len(b)
            toc = build_toc(offsets, data_start)
            toc_bytes = encode_toc_with_checksum(toc, revision)
            header = encode_header(toc_offset=pos, toc_bytes=toc_bytes, wal_size=wal_size, wal_checkpoint_pos=0, wal_sequence=0)
            image = header + bytes(wal_size) + b"".join(blobs) + toc_bytes + encode_footer(toc_bytes, 0)
            f = cls(path, fd, revision=REVISIONS[revision], wal_size=wal_size, end=len(image), generation=0,
                    wal_head=0, wal_sequence=0, next_seq=1, toc_offset=pos, fault=fault)
            f._write(image, 0, "create-write")
            f._sync("create-sync")
            try:
                fault("create-link")
                OS.link(tmp, path)  # atomic, and refuses an existing path
            except FileExistsError:
                raise UsageError(f"{path} already exists") from None
            except OSError as exc:
                raise _oserror(f"cannot create {path}", exc) from None
            try:
                OS.unlink(tmp)
                fault("create-dirsync")
                OS.fsync_dir(path)
            except OSError as exc:
                raise _oserror(f"cannot sync the directory of {path}", exc) from None
        except BaseException as exc:
            if not isinstance(exc, (KeyboardInterrupt, SystemExit)) and not _is_crash(exc):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        toc["toc_checksum"] = toc_bytes[-32:]
        return f, CommitResult(pos, toc, offsets, 0)

    # -- open and recover ----------------------------------------------------------------------
    @classmethod
    def open(cls, path: str, *, fault=None, salvage: bool = False, rollback: bool = False) -> tuple["WritableFile", Snapshot]:
        """Lock the file, repair what a crash left, and return it with its snapshot.

        The snapshot's frames include pending records; the caller commits them. ``salvage``
        lets recovery cut the WAL at damage (dropping the intact records after it, which it
        reports); ``rollback`` lets it discard a damaged newest commit. Both lose data and are
        never the default."""
        for _attempt in range(LOCK_ATTEMPTS):
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                raise UsageError(f"{path} does not exist", code="MV2-E-NOT-FOUND") from None
            except OSError as exc:
                raise StorageIOError(f"cannot open {path} for writing: {exc.strerror}") from None
            try:
                lock_exclusive(fd, path)
            except BaseException:
                os.close(fd)
                raise
            if is_current(fd, path):
                break
            os.close(fd)  # replaced by another writer's growth or compaction: open the new file
        else:
            raise LockedError(f"{path} keeps being replaced by another writer")
        try:
            snap = read_snapshot(path, wal_mode="salvage" if salvage else "strict", rollback=rollback)
            problem = checkpoint_problem(snap.header, snap.wal) if not snap.header_stale else None
            if problem:
                snap.close()
                code, off, msg = problem
                raise CorruptFileError(f"{msg}; recovery cannot tell which records are committed", code=code, offset=off)
            f = cls(path, fd, revision=snap.revision, wal_size=snap.header["wal_size"], end=snap.commit.end,
                    generation=snap.commit.generation, wal_head=snap.wal.head,
                    wal_sequence=snap.header["wal_sequence"], next_seq=0, toc_offset=snap.commit.toc_offset,
                    fault=fault)
            last_seq = snap.wal.records[-1].sequence if snap.wal.records else 0
            f.next_seq = max(last_seq, snap.header["wal_sequence"]) + 1
            f.checkpoint_pos = snap.header["wal_checkpoint_pos"]
            try:
                f.repaired = f._recover(snap)
                f.seed_frame_encodings(snap)
            except BaseException:
                snap.close()
                raise
            return f, snap
        except BaseException:
            os.close(fd)
            raise

    def seed_frame_encodings(self, snap: Snapshot) -> None:
        """Let the first commit reuse the committed frames' bytes instead of encoding them
        again (format/commit.py: FrameEncodings.seed); only the compiled codec can find them."""
        frames = snap.toc["frames"]
        if frames and snap.revision.toc_codec.accelerated:
            toc_bytes = getattr(frames, "buffer", None)  # a lazily decoded TOC holds its bytes
            if toc_bytes is None:
                toc_bytes = snap.source.read(snap.commit.toc_offset, snap.commit.toc_len, what="TOC")
            self.frame_encodings.seed(frames, toc_bytes, snap.revision)
            # The memory reloads right after opening; it may take this value rather than decode
            # the same bytes again (and so keep the frames whose bytes were just seeded).
            self.last_toc = (snap.commit.toc_offset, toc_bytes, snap.toc)

    def _recover(self, snap: Snapshot) -> bool:
        """Repair what a crash left; True when the memory file's bytes were changed (the
        snapshot read before is then not the file any more)."""
        changed = False
        # A WAL growth, compaction or create that stopped before its rename leaves its
        # temporary image; the original file is intact and authoritative, so the image is
        # discarded (we hold the lock). In a directory we cannot write, it stays: it is
        # never read, and the next growth truncates it.
        for suffix in (GROW_SUFFIX, CREATE_SUFFIX):
            leftover = self.path + suffix
            if os.path.exists(leftover):
                try:
                    if suffix == CREATE_SUFFIX and _held_by_another(leftover):
                        continue  # someone is creating it right now (and will find the path taken)
                    OS.unlink(leftover)
                    OS.fsync_dir(self.path)
                except OSError:
                    pass
        try:
            size = os.fstat(self.fd).st_size
            if size > self.end:
                # An interrupted commit, or bytes a newer commit could not make valid: what they
                # describe is still in the WAL (or was never acknowledged). The header never
                # names them: a header that does is refused before this (MV2-E-COMMIT-LOST).
                self.fault("recover-truncate")
                changed = True
                OS.ftruncate(self.fd, self.end)
                self._sync("recover-truncate-sync")
        except OSError as exc:
            self._poison(str(exc))
            raise _oserror("recovery could not truncate the interrupted commit", exc) from None
        cut = snap.wal.torn or snap.wal.damaged
        if cut is not None:
            pos = cut[0]
            changed = True
            self._write(SENTINEL[: min(WAL_RECORD_HEADER_SIZE, self.wal_size - pos)], WAL_OFFSET + pos, "recover-torn")
            self._sync("recover-torn-sync")
            self.wal_head = pos
        if snap.header_stale:
            changed = True
            toc_bytes = snap.source.read(snap.commit.toc_offset, snap.commit.toc_len, what="TOC")
            self._reset_wal_and_header(snap.commit.toc_offset, toc_bytes)
        return changed

    # -- images: grow the WAL, drop dead bytes ------------------------------------------------
    def rewrite(self, toc: dict, *, wal_size: int | None = None, carry_wal: bool = False,
                point: str = "grow") -> dict:
        """Replace the file by an image of its current commit; return the TOC it holds.

        With a larger ``wal_size`` this grows the WAL; with ``carry_wal`` the pending WAL
        records are copied to the same positions of the new WAL, so nothing needs committing
        first. This requires a log that starts at offset 0 (true after any commit of ours)."""
        wal_size = wal_size or self.wal_size
        if wal_size < self.wal_size:
            raise UsageError("the WAL can only grow")
        if self.wal_head != self.checkpoint_pos and not carry_wal:
            raise UsageError("pending WAL records would be lost: commit first or carry them")
        if carry_wal and self.checkpoint_pos:
            raise UsageError("the WAL does not start at offset 0: commit before rewriting")
        return self._install_image(toc, extra=b"", extra_at=self.toc_offset, wal_size=wal_size,
                                   carry_wal=carry_wal, point=point)

    def _live_dead(self, toc: dict, hi: int) -> tuple[int, int]:
        lo = self.data_start
        live = live_bytes(toc, lo, hi)
        return live, (hi - lo) - live

    def dead_bytes(self, toc: dict) -> tuple[int, int]:
        """(live, dead) bytes of the data area: referenced by ``toc`` (the current commit's), or by nothing."""
        return self._live_dead(toc, self.toc_offset)

    def _install_image(self, toc: dict, *, extra: bytes, extra_at: int, wal_size: int, carry_wal: bool,
                       point: str) -> dict:
        """Write the image of ``toc`` to a temporary file and rename it over the file (spec 12.2).

        The image is: a header, a WAL region of ``wal_size`` bytes, the *live* bytes of the data
        area (every range ``toc`` references, in offset order, packed), the TOC with its offsets
        moved accordingly, and a footer with the next generation. ``toc`` may reference bytes
        not yet in the file: ``extra``, as if it had been appended at ``extra_at`` (a commit).
        Without ``carry_wal`` the WAL region is zeroed and the TOC must reflect every record.

        Crash safety: the image is written to ``<path>.mv2-grow``, synced, and renamed over the
        file, then the directory is synced. Until the rename the old file is intact; after it,
        the new one is complete. Recovery deletes a leftover temporary image.
        """
        lo, hi = self.data_start, extra_at + len(extra)
        new_toc = _copy_for_remap(toc)
        moved = new_toc["frames"] if isinstance(new_toc["frames"], MovedFrames) else None
        # Moved frames' payloads are columns: the frames themselves are neither read nor copied.
        refs = toc_references(new_toc, frames=[] if moved is not None else None)
        spans = live_intervals(refs, lo, hi, payloads=None if moved is None else
                               (moved.offsets, moved.column("payload_length")))
        firsts = [a for a, _ in spans]
        starts, pos = [], WAL_OFFSET + wal_size
        for a, b in spans:
            starts.append(pos)
            pos += b - a
        data_end = pos

        def remap(off: int) -> int:
            if off < lo:
                return off  # placeholders that point before the data area (e.g. 0) stay as they are
            i = bisect.bisect_right(firsts, off) - 1
            if i >= 0 and off <= spans[i][1]:
                return starts[i] + off - spans[i][0]
            # A zero-length reference between live ranges keeps its place in the order.
            return starts[i + 1] if i + 1 < len(spans) else data_end

        for r in refs:
            r.holder[r.off_key] = remap(r.offset)
        if moved is not None:
            moved.offsets = _remap_array(moved.offsets, lo, spans, starts, data_end)
        toc_bytes = self._encode_toc(new_toc)
        generation = self.generation + 1
        sequence = self.wal_sequence if carry_wal else self.next_seq - 1
        header = encode_header(toc_offset=data_end, toc_bytes=toc_bytes, wal_size=wal_size,
                               wal_checkpoint_pos=0, wal_sequence=sequence)
        self._guard()
        tmp = self.path + GROW_SUFFIX
        try:
            fd = OS.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            raise _oserror(f"cannot write the new image {tmp}", exc) from None
        renamed = False
        try:
            lock_exclusive(fd, tmp)
            try:
                self.fault(f"{point}-write")
                wal = bytearray(wal_size)
                if carry_wal and self.wal_head:
                    wal[: self.wal_head] = os.pread(self.fd, self.wal_head, WAL_OFFSET)
                OS.pwrite(fd, header + bytes(wal), 0)
                out = WAL_OFFSET + wal_size
                for a, b in spans:
                    while a < b:
                        if a >= extra_at:  # bytes of this commit, not yet in the file
                            chunk = extra[a - extra_at: b - extra_at]
                        else:  # copied in bounded chunks: the data area may be large
                            chunk = os.pread(self.fd, min(min(b, extra_at) - a, COPY_CHUNK), a)
                            if not chunk:
                                raise OSError(5, "the file ended inside a referenced range")
                        OS.pwrite(fd, chunk, out)
                        a += len(chunk)
                        out += len(chunk)
                OS.pwrite(fd, toc_bytes + encode_footer(toc_bytes, generation), data_end)
                self.fault(f"{point}-sync")
                OS.fsync(fd)
                self.fault(f"{point}-rename")
                OS.replace(tmp, self.path)
                renamed = True
                self.fault(f"{point}-dirsync")
                OS.fsync_dir(self.path)
            except OSError as exc:
                if renamed:
                    # The new image is at the path but its rename may not be durable: the
                    # handle cannot tell which file a crash would leave.
                    self._poison(f"syncing the directory after a rename failed: {exc.strerror or exc}")
                raise StorageIOError(f"rewriting the file failed: {exc.strerror or exc}") from None
        except BaseException as exc:  # a process that dies leaves the temporary image; recovery removes it
            try:
                os.close(fd)
            except OSError:
                pass
            if not renamed and not _is_crash(exc):
                try:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                except OSError:
                    pass
            if renamed and not _is_crash(exc):
                self._poison("the file was replaced but the handle could not switch to it")
            raise
        old = self.fd
        self.fd = fd
        unlock(old)
        os.close(old)
        self.wal_size = wal_size
        self.end = data_end + len(toc_bytes) + FOOTER_SIZE
        self.generation = generation
        if not carry_wal:
            self.wal_head = self.checkpoint_pos = 0  # a zeroed WAL: every record is in the TOC
            self.wal_sequence = sequence
        self.toc_offset = data_end
        new_toc["toc_checksum"] = toc_bytes[-32:]
        self.last_toc = (data_end, toc_bytes, new_toc)
        return new_toc

    def close(self) -> None:
        if not self.closed:
            unlock(self.fd)
            os.close(self.fd)
            self.closed = True


def _held_by_another(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        lock_exclusive(fd, path)
        unlock(fd)
        return False
    except LockedError:
        return True
    finally:
        os.close(fd)


def _is_crash(exc: BaseException) -> bool:
    """A test's simulated process death: it must leave the files exactly as they are."""
    return not isinstance(exc, Exception)


def _remap_array(off, lo: int, spans, starts, data_end: int):
    """``remap`` of :meth:`WritableFile._install_image`, for a column of offsets at once."""
    import numpy as np

    off = np.asarray(off, np.int64)
    if not spans:
        return np.where(off < lo, off, data_end)
    firsts = np.array([a for a, _ in spans], np.int64)
    ends = np.array([b for _, b in spans], np.int64)
    st = np.array(starts, np.int64)
    i = np.searchsorted(firsts, off, side="right") - 1
    ic = np.clip(i, 0, None)
    inside = (i >= 0) & (off <= ends[ic])
    nxt = np.clip(i + 1, 0, len(spans) - 1)
    after = np.where(i + 1 < len(spans), st[nxt], data_end)
    return np.where(off < lo, off, np.where(inside, st[ic] + off - firsts[ic], after))


def _copy_for_remap(toc: dict) -> dict:
    """A copy of ``toc`` whose offset-holding dicts are private: frames are copied one level
    deep (their only offset is a top-level field), the rest, which is small, fully. Frames of
    a lazily decoded TOC become :class:`MovedFrames` instead: their offsets as a column."""
    t = dict(toc)
    m = movable(toc["frames"])
    if m is not None:
        base, changed = m
        frames = toc["frames"]
        t["frames"] = MovedFrames(base, {i: dict(f) for i, f in changed.items()},
                                  frames.column("payload_offset").copy())
    else:
        t["frames"] = [dict(f) for f in toc["frames"]]
    for key, value in toc.items():
        if key != "frames" and isinstance(value, (dict, list)):
            t[key] = copy.deepcopy(value)
    return t


def shift_offsets(toc: dict, data_start: int, delta: int) -> dict:
    """A copy of ``toc`` with every absolute offset at or after ``data_start`` moved by ``delta``
    (what growing the WAL requires; spec 4.4). Mirrors and placeholders move too."""
    t = _copy_for_remap(toc)
    moved = t["frames"] if isinstance(t["frames"], MovedFrames) else None
    for r in toc_references(t, frames=[] if moved is not None else None):
        if r.offset >= data_start:
            r.holder[r.off_key] += delta
    if moved is not None:
        import numpy as np

        moved.offsets = np.where(moved.offsets >= data_start, moved.offsets + delta, moved.offsets)
    return t


def wal_record(sequence: int, payload: bytes, entry: dict, offset: int = 0) -> WalRecord:
    """A WalRecord for an entry the writer just appended (for in-memory replay)."""
    return WalRecord(sequence, offset, len(payload), payload, entry)


__all__ = ["WritableFile", "CommitResult", "shift_offsets", "wal_record", "SENTINEL", "struct"]
