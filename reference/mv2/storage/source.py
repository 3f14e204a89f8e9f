"""Read-only, bounds-checked access to a file's bytes (spec: "Conventions", reader rules; 12.5).

The reader never writes: the file is opened ``O_RDONLY``, so a write through this object is
impossible rather than merely avoided. Every read names the region it is for, and a read
outside the file raises a coded error instead of returning short data.

Bytes are read with ``pread``, not through a memory map. A mapped file that another process
truncates kills the reader with ``SIGBUS`` the moment it touches a page past the new end; a
``pread`` of the same range returns short, which this class reports as
``MV2-E-FILE-CHANGED`` (the file changed underneath the reader: retry). The file's size is
taken once, at open: the reader works on the prefix that existed then.
"""

from __future__ import annotations

import os
from typing import Union

import blake3 as _blake3

from ..errors import StorageIOError, error_for

BytesLike = Union[bytes, bytearray, memoryview]

_RFIND_CHUNK = 1 << 20
_HASH_CHUNK = 8 << 20
_BIG_READ = 8 << 20  # reads at least this long (more than the read-ahead window) come back as a read-only memoryview, not bytes


_THREADED_HASH = 1 << 20  # from this size on, BLAKE3 hashes on every core (the digest is the same)


def digest(data: BytesLike) -> bytes:
    """BLAKE3 of ``data``; a large one is hashed by all cores (150 MB: 10 ms instead of 20)."""
    if len(data) >= _THREADED_HASH:
        return _blake3.blake3(data, max_threads=_blake3.blake3.AUTO).digest()
    return _blake3.blake3(data).digest()


class Source:
    """The bytes of one file (or one in-memory buffer), read-only."""

    def __init__(self, data: BytesLike | None = None, *, name: str = "<memory>", _fd: int | None = None,
                 _size: int | None = None):
        self._fd = _fd
        self._view = memoryview(data) if data is not None else None
        self.name = name
        self.size = len(self._view) if self._view is not None else int(_size or 0)
        self.identity: tuple[int, int] | None = None  # (device, inode) of an opened file
        self.first_bytes: bytes = b""  # the header prefix as first read (to notice a writer's changes)
        self._kept: tuple[int, int, bytes] | None = None  # see keep()
        self._ahead: tuple[int, int] | None = None  # see read_ahead()
        self._window: tuple[int, bytes] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Source":
        try:
            fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise StorageIOError(f"cannot open {os.fspath(path)!r}: {exc.strerror}", code="MV2-E-FILE-UNREADABLE") from None
        try:
            st = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            raise StorageIOError(f"cannot stat {os.fspath(path)!r}: {exc.strerror}", code="MV2-E-FILE-UNREADABLE") from None
        src = cls(name=os.fspath(path), _fd=fd, _size=st.st_size)
        src.identity = (st.st_dev, st.st_ino)
        return src

    def close(self) -> None:
        if self._view is not None:
            try:
                self._view.release()
            except ValueError:
                pass
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def contains(self, offset: int, length: int) -> bool:
        return 0 <= offset and 0 <= length and offset + length <= self.size

    def _pread(self, offset: int, length: int) -> BytesLike:
        if self._fd is None:
            raise StorageIOError(f"{self.name} is closed", code="MV2-E-FILE-UNREADABLE")
        if length >= _BIG_READ:
            return self._pread_into(offset, length)
        parts, pos, left = [], offset, length
        try:
            while left:
                chunk = os.pread(self._fd, left, pos)
                if not chunk:
                    raise StorageIOError(
                        f"{self.name} ended at byte {pos} while reading [{offset}, {offset + length}): it was truncated "
                        "or replaced by another process while being read; retry", code="MV2-E-FILE-CHANGED", offset=pos)
                parts.append(chunk)
                pos += len(chunk)
                left -= len(chunk)
        except OSError as exc:
            raise StorageIOError(f"reading {self.name} at byte {pos} failed: {exc.strerror or exc}",
                                 code="MV2-E-FILE-UNREADABLE", offset=pos) from None
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _pread_into(self, offset: int, length: int) -> memoryview:
        """A large read, into a numpy buffer: numpy asks the kernel for huge pages for large
        arrays, so filling one costs a fifth of filling a fresh ``bytes`` of the same size
        (150 MB: 15 ms against 70 ms), which is most of reading a big TOC or vector segment."""
        import numpy as np

        view = memoryview(np.empty(length, dtype=np.uint8))
        self._fill(view, offset)
        return view.toreadonly()

    def _fill(self, view: memoryview, offset: int) -> None:
        """Fill ``view`` with the bytes at ``offset``; a short file is a changed file."""
        if self._fd is None:
            raise StorageIOError(f"{self.name} is closed", code="MV2-E-FILE-UNREADABLE")
        pos, length = 0, len(view)
        try:
            while pos < length:
                n = os.preadv(self._fd, [view[pos:]], offset + pos)
                if not n:
                    raise StorageIOError(
                        f"{self.name} ended at byte {offset + pos} while reading [{offset}, {offset + length}): it was "
                        "truncated or replaced by another process while being read; retry",
                        code="MV2-E-FILE-CHANGED", offset=offset + pos)
                pos += n
        except OSError as exc:
            raise StorageIOError(f"reading {self.name} at byte {offset + pos} failed: {exc.strerror or exc}",
                                 code="MV2-E-FILE-UNREADABLE", offset=offset + pos) from None

    def keep(self, offset: int, length: int) -> None:
        """Keep the next read of exactly this range until :meth:`forget`, so that a reader that
        hashes a range (the footer's check of the TOC) and then decodes it reads the bytes
        once, and decodes the very bytes it hashed. At a million frames the TOC is 450 MB."""
        self._kept = (offset, length, b"")

    def forget(self) -> None:
        self._kept = None

    READ_AHEAD = 4 << 20

    def read_ahead(self, lo: int, hi: int) -> None:
        """Allow small reads inside [lo, hi) to be served from one read of up to 4 MiB.

        Only for bytes that cannot change while this source is open: a commit's data area
        (append-only; a rewrite of the file makes a new inode, and this source keeps reading
        the old one). Never the header or the WAL, which writers rewrite in place. A reader
        of 100,000 small payloads then makes a few dozen reads instead of 100,000."""
        self._ahead = (lo, hi)
        self._window = None

    def _bytes(self, offset: int, length: int) -> bytes:
        k = self._kept
        if k is not None and k[0] == offset and k[1] == length:
            if not k[2] and length:
                self._kept = (offset, length, self._pread(offset, length))
            return self._kept[2]
        a = self._ahead
        if a is not None and 0 < length <= self.READ_AHEAD // 8 and a[0] <= offset and offset + length <= a[1]:
            w = self._window
            if w is None or not (w[0] <= offset and offset + length <= w[0] + len(w[1])):
                w = self._window = (offset, self._pread(offset, min(self.READ_AHEAD, a[1] - offset)))
            return w[1][offset - w[0]:offset - w[0] + length]
        return self._pread(offset, length) if length else b""

    def _check(self, offset: int, length: int, what: str, code: str) -> None:
        if not self.contains(offset, length):
            raise error_for(
                code,
                f"{what} [{offset}, {offset + length}) lies outside the file of {self.size} bytes",
                offset,
            )

    def view(self, offset: int, length: int, *, what: str, code: str = "MV2-E-SEG-BOUNDS") -> memoryview:
        """``length`` bytes at ``offset``; an error if they are not all there."""
        self._check(offset, length, what, code)
        if self._view is not None:
            return self._view[offset : offset + length]
        return memoryview(self._bytes(offset, length))

    def blake3(self, offset: int, length: int, *, what: str, code: str = "MV2-E-SEG-BOUNDS") -> bytes:
        """BLAKE3 of ``length`` bytes at ``offset``, read in bounded chunks (a verifier hashes
        every region of a file without holding a large one in memory at once)."""
        self._check(offset, length, what, code)
        if length <= _HASH_CHUNK:  # most regions: one read (often from the read-ahead window)
            return digest(self.view(offset, length, what=what, code=code))
        h = _blake3.blake3(max_threads=_blake3.blake3.AUTO)
        pos, end = offset, offset + length
        if self._view is not None:
            while pos < end:
                n = min(_HASH_CHUNK, end - pos)
                h.update(self._view[pos:pos + n])
                pos += n
            return h.digest()
        # One buffer, filled again for each chunk: memory the process has never touched costs
        # more to fault in than the read itself (a fresh 8 MiB per chunk hashed 470 MB at
        # 430 MB/s; a reused one at page-cache speed).
        import numpy as np

        buf = memoryview(np.empty(min(_HASH_CHUNK, length), dtype=np.uint8))
        while pos < end:
            n = min(_HASH_CHUNK, end - pos)
            self._fill(buf[:n], pos)
            h.update(buf[:n])
            pos += n
        return h.digest()

    def read(self, offset: int, length: int, *, what: str, code: str = "MV2-E-SEG-BOUNDS") -> BytesLike:
        """``length`` bytes at ``offset``: ``bytes``, or for a read of 8 MiB or more a read-only
        memoryview (which supports what callers do with them: slicing, hashing, decoding)."""
        self._check(offset, length, what, code)
        if self._view is not None:
            return bytes(self._view[offset : offset + length])
        return self._bytes(offset, length)  # already a bytes object: no copy

    def read_span(self, offset: int, length: int, *, what: str, code: str = "MV2-E-SEG-BOUNDS") -> BytesLike:
        """Like :meth:`read`, but always exactly these bytes in one read, never a read-ahead
        window: for a caller that already knows the whole range it needs."""
        self._check(offset, length, what, code)
        if self._view is not None:
            return bytes(self._view[offset : offset + length])
        return self._pread(offset, length) if length else b""

    def rfind(self, needle: bytes, end: int) -> int:
        """Last occurrence of ``needle`` that ends at or before ``end``; -1 if none."""
        end = min(end, self.size)
        if self._view is not None:
            return bytes(self._view[:end]).rfind(needle)
        hi = end
        while hi > 0:
            lo = max(0, hi - _RFIND_CHUNK)
            chunk = self._pread(lo, hi - lo)
            i = chunk.rfind(needle)
            if i >= 0:
                return lo + i
            if lo == 0:
                break
            hi = lo + len(needle) - 1  # a match may straddle the chunk boundary
        return -1
