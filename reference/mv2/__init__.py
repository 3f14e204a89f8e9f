"""mv2: reference reader/writer for the MV2 single-file AI-memory format.

    import mv2
    with mv2.create("memory.mv2") as mem:
        mem.put("hello", uri="mv2://notes/1", timestamp=1700000000)
    mem = mv2.open("memory.mv2")          # read-only
"""

from .errors import CorruptFileError, LockedError, MV2Error, NotFoundError, StorageIOError, UnsupportedError, UsageError

_FROM_MEMORY = ("DEFAULT_WAL_SIZE", "Memory", "create", "open", "verify", "wall_clock")

__all__ = [
    "create", "open", "verify", "wall_clock", "Memory", "DEFAULT_WAL_SIZE",
    "MV2Error", "CorruptFileError", "UnsupportedError", "UsageError", "NotFoundError", "LockedError", "StorageIOError",
]


def __getattr__(name: str):
    # The writer and its NumPy and Tantivy imports load on first use, so that a
    # command such as `mv2 --help` starts in a fraction of the time.
    if name == "__version__":
        from importlib.metadata import version

        return version("mv2")
    if name in _FROM_MEMORY:
        from . import memory

        value = getattr(memory, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mv2' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FROM_MEMORY))
