"""Read-only, bounds-checked access to a file's bytes (spec: "Conventions", reader rules).

The reader never writes: the file is opened ``O_RDONLY`` and mapped ``ACCESS_READ``, so a
write through this object is impossible rather than merely avoided. Every read names the
region it is for, and a read outside the file raises a coded error instead of returning
short data.
"""

from __future__ import annotations

import mmap
import os
from typing import Union

from ..errors import StorageIOError, error_for

BytesLike = Union[bytes, bytearray, memoryview]


class Source:
    """The bytes of one file (or one in-memory buffer), read-only."""

    def __init__(self, data: BytesLike, *, name: str = "<memory>", _mm: mmap.mmap | None = None):
        self._mm = _mm
        self._view = memoryview(data)
        self.name = name
        self.size = len(self._view)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Source":
        try:
            fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise StorageIOError(f"cannot open {os.fspath(path)!r}: {exc.strerror}", code="MV2-E-FILE-UNREADABLE") from None
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                return cls(b"", name=os.fspath(path))
            mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise StorageIOError(f"cannot map {os.fspath(path)!r}: {exc}", code="MV2-E-FILE-UNREADABLE") from None
        finally:
            os.close(fd)
        return cls(mm, name=os.fspath(path), _mm=mm)

    def close(self) -> None:
        try:
            self._view.release()
        except ValueError:
            pass
        if self._mm is not None:
            try:
                self._mm.close()
            except BufferError:
                # A view is still referenced (typically by a traceback being handled): the
                # mapping is closed when that view is freed. Never mask the caller's error.
                pass
            self._mm = None

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def contains(self, offset: int, length: int) -> bool:
        return 0 <= offset and 0 <= length and offset + length <= self.size

    def view(self, offset: int, length: int, *, what: str, code: str = "MV2-E-SEG-BOUNDS") -> memoryview:
        """A zero-copy view of ``length`` bytes at ``offset``; an error if they are not all there."""
        if not self.contains(offset, length):
            raise error_for(
                code,
                f"{what} [{offset}, {offset + length}) lies outside the file of {self.size} bytes",
                offset,
            )
        return self._view[offset : offset + length]

    def read(self, offset: int, length: int, *, what: str, code: str = "MV2-E-SEG-BOUNDS") -> bytes:
        return bytes(self.view(offset, length, what=what, code=code))

    def rfind(self, needle: bytes, end: int) -> int:
        """Last occurrence of ``needle`` that ends at or before ``end``; -1 if none."""
        if self._mm is not None:
            return self._mm.rfind(needle, 0, end)
        return bytes(self._view[:end]).rfind(needle)
