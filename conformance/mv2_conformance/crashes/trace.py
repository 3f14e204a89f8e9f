"""Reading an iotrace recording into file-system events (pure: bytes in, events out).

``iotrace.c`` appends one record per interposed call. Each record is a 72-byte little-endian
header followed by up to three byte strings::

    u32 magic "MVRT" · u32 size (whole record) · u16 op · u16 flags · i32 pid · u64 seq ·
    i32 fd · i32 fd2 · i64 a · i64 b · i64 ret · i32 errno · u32 path_len · u32 path2_len ·
    u32 data_len · path · path2 · data

:func:`events` turns the records into :class:`Event`s the crash-state engine understands:
descriptors are resolved to files (inode numbers of our own, which follow renames), calls
that failed or touch files outside the watched directories are dropped, directory syncs are
told apart from file syncs, and each adapter reply (a JSON line written to a pipe) becomes an
``ack`` event carrying the request's ``seq``.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field

HEADER = struct.Struct("<IIHHiQiiqqqiIII")
MAGIC = 0x5452564D
(OP_OPEN, OP_CLOSE, OP_WRITE, OP_PWRITE, OP_LSEEK, OP_FTRUNCATE, OP_TRUNCATE, OP_FSYNC, OP_FDATASYNC,
 OP_SYNC_RANGE, OP_SYNCFS, OP_SYNC, OP_RENAME, OP_UNLINK, OP_RMDIR, OP_MKDIR, OP_DUP, OP_FALLOCATE,
 OP_MMAP, OP_PIPE_WRITE, OP_LINK) = range(1, 22)
OP_NAMES = {v: k[3:].lower() for k, v in globals().items() if k.startswith("OP_")}

O_CREAT, O_TRUNC, O_DIRECTORY, O_ACCMODE = 0o100, 0o1000, 0o200000, 0o3


class TraceError(Exception):
    """The recording is not an iotrace file (or was cut inside a record)."""


@dataclass(frozen=True)
class Record:
    op: int
    pid: int
    seq: int
    fd: int
    fd2: int
    a: int
    b: int
    ret: int
    err: int
    path: str
    path2: str
    data: bytes

    @property
    def name(self) -> str:
        return OP_NAMES.get(self.op, f"op{self.op}")


def records(raw: bytes) -> list[Record]:
    out, pos = [], 0
    while pos < len(raw):
        if len(raw) - pos < HEADER.size:
            raise TraceError(f"the trace ends inside a record header at {pos}")
        (magic, size, op, _flags, pid, seq, fd, fd2, a, b, ret, err, plen, p2len,
         dlen) = HEADER.unpack_from(raw, pos)
        if magic != MAGIC or size != HEADER.size + plen + p2len + dlen or pos + size > len(raw):
            raise TraceError(f"not an iotrace record at {pos}")
        p = pos + HEADER.size
        path = raw[p:p + plen].decode("utf-8", "surrogateescape")
        path2 = raw[p + plen:p + plen + p2len].decode("utf-8", "surrogateescape")
        data = raw[p + plen + p2len:pos + size]
        out.append(Record(op, pid, seq, fd, fd2, a, b, ret, err, path, path2, bytes(data)))
        pos += size
    return out


@dataclass(frozen=True)
class Event:
    """One step the engine replays. ``kind`` is one of: ``create`` (path, ino), ``write``
    (ino, offset, data), ``truncate`` (ino, size), ``fsync`` (ino), ``fsync_dir`` (path),
    ``rename`` (path → path2), ``link`` (path2 becomes another name of path), ``unlink`` (path), ``mkdir`` (path), ``rmdir`` (path),
    ``sync`` (everything), ``ack`` (seq: the adapter replied to request ``seq``),
    ``mmap`` (ino: a shared writable mapping; its stores are invisible to the trace)."""

    kind: str
    index: int  # position of the record in the recording (for trace slices)
    path: str = ""
    path2: str = ""
    ino: int = -1
    offset: int = 0
    size: int = 0
    data: bytes = b""
    seq: int = -1

    def to_json(self) -> dict:
        d = {"kind": self.kind, "record": self.index}
        for k in ("path", "path2"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        if self.ino >= 0:
            d["ino"] = self.ino
        if self.kind == "write":
            d.update(offset=self.offset, length=len(self.data), data=self.data.hex())
        if self.kind == "truncate":
            d["size"] = self.size
        if self.kind == "ack":
            d["seq"] = self.seq
        return d


@dataclass
class Trace:
    """The watched files as they were before the recording, and the events after."""

    initial: dict[str, bytes]
    events: list[Event]
    roots: list[str]
    unseen: list[str] = field(default_factory=list)  # why some writes may be missing (mmap)


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def events(raw: bytes, roots: list[str], initial: dict[str, bytes] | None = None) -> Trace:
    """Events touching files under ``roots`` (absolute, real paths), plus every reply."""
    roots = [os.path.normpath(r) for r in roots]
    initial = dict(initial or {})
    names: dict[str, int] = {}  # path → ino, as the process sees the namespace
    for n, p in enumerate(sorted(initial)):
        names[p] = n
    next_ino = len(names)
    fds: dict[tuple[int, int], tuple[str, int]] = {}  # (pid, fd) → ("file", ino) or ("dir", path)
    dirs: set[str] = set()
    pipes: dict[tuple[int, int], bytearray] = {}
    out: list[Event] = []
    unseen: list[str] = []
    watched: set[int] = set()

    def add(kind: str, i: int, **kw) -> None:
        out.append(Event(kind, i, **kw))

    for i, r in enumerate(records(raw)):
        if r.op == OP_PIPE_WRITE:
            buf = pipes.setdefault((r.pid, r.fd), bytearray())
            buf += r.data
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                seq = _reply_seq(line)
                if seq is not None:
                    add("ack", i, seq=seq)
            continue
        if r.ret < 0 and r.op not in (OP_SYNC,):
            continue  # a call that failed changed nothing
        key = (r.pid, r.fd)
        if r.op == OP_OPEN:
            path = os.path.normpath(r.path)
            if (r.a & O_DIRECTORY) or path in dirs or (path not in names and os.path.isdir(path)):
                fds[(r.pid, r.ret)] = ("dir", path)
                continue
            ino = names.get(path)
            if ino is None:
                ino = next_ino
                next_ino += 1
                names[path] = ino
                if _under(path, roots):
                    add("create", i, path=path, ino=ino)
            elif r.a & O_TRUNC and r.a & O_ACCMODE and _under(path, roots):
                add("truncate", i, ino=ino, size=0)
            fds[(r.pid, r.ret)] = ("file", ino)
            continue
        if r.op == OP_CLOSE:
            fds.pop(key, None)
            continue
        if r.op == OP_DUP:
            if key in fds:
                fds[(r.pid, r.fd2)] = fds[key]
            continue
        if r.op in (OP_RENAME, OP_LINK, OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_TRUNCATE):
            path, path2 = os.path.normpath(r.path), os.path.normpath(r.path2) if r.path2 else ""
            named = _under(path, roots) or bool(path2 and _under(path2, roots))
            if r.op == OP_RENAME:
                if path in dirs:
                    dirs.discard(path)
                    dirs.add(path2)
                    _move_dir(names, path, path2)
                elif path in names:
                    names[path2] = names.pop(path)
                if named:
                    add("rename", i, path=path, path2=path2)
            elif r.op == OP_LINK:
                if path in names:
                    names[path2] = names[path]
                if named:
                    add("link", i, path=path, path2=path2)
            elif r.op == OP_UNLINK:
                names.pop(path, None)
                if named:
                    add("unlink", i, path=path)
            elif r.op == OP_MKDIR:
                dirs.add(path)
                if named:
                    add("mkdir", i, path=path)
            elif r.op == OP_RMDIR:
                dirs.discard(path)
                if named:
                    add("rmdir", i, path=path)
            elif r.op == OP_TRUNCATE and path in names and named:
                add("truncate", i, ino=names[path], size=r.a)
            continue
        if r.op in (OP_SYNC, OP_SYNCFS):
            add("sync", i)
            continue
        target = fds.get(key)
        if target is None:
            continue
        what, ref = target
        if what == "dir":
            if r.op in (OP_FSYNC, OP_FDATASYNC) and _under(ref, roots):
                add("fsync_dir", i, path=ref)
            continue
        ino = ref
        path = _path_of(names, ino)
        if not (_under(path, roots) if path is not None else ino in watched):
            continue  # outside the watched directories (an unlinked watched file is still followed)
        watched.add(ino)
        if r.op in (OP_WRITE, OP_PWRITE):
            if r.data:
                add("write", i, ino=ino, offset=r.a, data=r.data)
        elif r.op == OP_FTRUNCATE:
            add("truncate", i, ino=ino, size=r.a)
        elif r.op == OP_FALLOCATE:
            if r.fd2 == 0:  # mode 0 extends the size; other modes keep it or punch holes
                add("truncate", i, ino=ino, size=-(r.a + r.b))  # negative: "at least"
        elif r.op in (OP_FSYNC, OP_FDATASYNC):
            add("fsync", i, ino=ino)
        elif r.op == OP_SYNC_RANGE:
            pass  # sync_file_range is no durability barrier (no metadata, no cache flush)
        elif r.op == OP_MMAP:
            add("mmap", i, ino=ino)
            unseen.append(f"shared writable mapping of {path} (record {i}): its stores are not in the trace")
    return Trace(initial=initial, events=out, roots=roots, unseen=unseen)


def _path_of(names: dict[str, int], ino: int) -> str | None:
    for p, n in names.items():
        if n == ino:
            return p
    return None


def _move_dir(names: dict[str, int], old: str, new: str) -> None:
    prefix = old.rstrip("/") + "/"
    for p in [p for p in names if p.startswith(prefix)]:
        names[new + p[len(old):]] = names.pop(p)


def _reply_seq(line: bytes) -> int | None:
    try:
        msg = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(msg, dict) and isinstance(msg.get("seq"), int) and any(k in msg for k in ("result", "skipped", "errored")):
        return msg["seq"]
    return None
