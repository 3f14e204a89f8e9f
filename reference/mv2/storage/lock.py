"""One writer at a time, locked on the file itself (spec: "Durability", locking).

The lock is an exclusive ``flock`` on the ``.mv2`` file's own descriptor: no lock file, no
sidecar, nothing left behind by a crash (the kernel drops the lock when the process dies).
Readers take no lock; the commit protocol keeps every byte a reader relies on intact while a
writer works.
"""

from __future__ import annotations

import fcntl
import os

from ..errors import LockedError, StorageIOError


def lock_exclusive(fd: int, path: str | os.PathLike) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LockedError(f"{os.fspath(path)} is open for writing by another process") from None
    except OSError as exc:  # a file system without locks, say: never a raw OSError
        raise StorageIOError(f"cannot lock {os.fspath(path)}: {exc.strerror or exc}") from None


def unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass


def is_current(fd: int, path: str | os.PathLike) -> bool:
    """True if ``fd`` still refers to the file at ``path``.

    A growth or compaction replaces the file by rename. A writer that opened the path just
    before another writer's rename, and locked it just after that writer let go, holds the
    lock of a file nobody will read again: it must reopen (spec 12.5, R-DUR-005)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    own = os.fstat(fd)
    return (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino)
