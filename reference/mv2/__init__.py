"""mv2: reference reader/writer for the MV2 single-file AI-memory format.

    import mv2
    with mv2.create("memory.mv2") as mem:
        mem.put("hello", uri="mv2://notes/1", timestamp=1700000000)
    mem = mv2.open("memory.mv2")          # read-only
"""

from .errors import CorruptFileError, LockedError, MV2Error, NotFoundError, StorageIOError, UnsupportedError, UsageError
from .memory import DEFAULT_WAL_SIZE, Memory, create, open, verify, wall_clock

__all__ = [
    "create", "open", "verify", "wall_clock", "Memory", "DEFAULT_WAL_SIZE",
    "MV2Error", "CorruptFileError", "UnsupportedError", "UsageError", "NotFoundError", "LockedError", "StorageIOError",
]
