"""A recording file layer and the crash states it implies (spec 12.1's fault model).

The writer makes every system call that changes a file through ``mv2.storage.file.OS``.
:class:`Recorder` stands in for it: it performs each call for real and appends it to a
trace, with the bytes written. :func:`crash_states` then rebuilds, from that trace, the
files a crash at any point could leave behind, ALICE-style:

* every prefix of the trace (a crash at every call);
* of the writes since each file's last ``fsync``, every 512-byte sector independently on
  disk or not (so a write may tear at any sector boundary, and later sectors may land while
  earlier ones do not); a file whose size grew may or may not keep its new size, its
  unwritten sectors reading as zeros;
* of the directory changes since the directory's last sync (create, link, rename, unlink),
  any prefix persisted, the rest undone.

Exhaustive enumeration is impossible past a few sectors, so each crash point yields a
bounded, seeded sample: nothing on disk, everything on disk, every single sector of the
pending writes lost alone (up to a bound), a cut at every sector boundary of the last
write, and random subsets.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import mv2.storage.file as sfile

SECTOR = 512


@dataclass
class Op:
    kind: str  # create | write | truncate | fsync | link | replace | unlink | fsync_dir | ack
    file: int | None = None
    offset: int = 0
    data: bytes = b""
    size: int = 0
    name: str = ""
    name2: str = ""


class Recorder(sfile.OSLayer):
    """Performs the writer's system calls and records them (one directory, by file name)."""

    def __init__(self, directory: str):
        self.dir = os.path.abspath(directory)
        self.ops: list[Op] = []
        self.initial: dict[str, bytes] = {}
        self.ino: dict[int, int] = {}  # inode -> logical file id
        self.names: dict[str, int] = {}  # durable-at-start directory entries
        self.next_id = 0
        for name in sorted(os.listdir(self.dir)):
            p = os.path.join(self.dir, name)
            if os.path.isfile(p):
                fid = self._new(os.stat(p).st_ino)
                self.initial[name] = open(p, "rb").read()
                self.names[name] = fid
        self.initial_ids = dict(self.names)

    def _new(self, ino: int) -> int:
        fid = self.next_id
        self.next_id += 1
        self.ino[ino] = fid
        return fid

    def _fid(self, fd: int) -> int:
        ino = os.fstat(fd).st_ino
        if ino not in self.ino:
            self._new(ino)
        return self.ino[ino]

    def _name(self, path: str) -> str:
        return os.path.basename(path)

    def ack(self) -> None:
        self.ops.append(Op("ack"))

    # -- the calls -------------------------------------------------------------------------------
    def open(self, path, flags, mode=0o644):
        existed = os.path.exists(path)
        fd = os.open(path, flags, mode)
        if not existed:
            fid = self._new(os.fstat(fd).st_ino)
            self.ops.append(Op("create", fid, name=self._name(path)))
        elif flags & os.O_TRUNC:
            self.ops.append(Op("truncate", self._fid(fd), size=0))
        return fd

    def pwrite(self, fd, data, offset):
        self.ops.append(Op("write", self._fid(fd), offset=offset, data=bytes(data)))
        sfile._pwrite_all(fd, data, offset)

    def fsync(self, fd):
        os.fsync(fd)
        self.ops.append(Op("fsync", self._fid(fd)))

    def ftruncate(self, fd, size):
        os.ftruncate(fd, size)
        self.ops.append(Op("truncate", self._fid(fd), size=size))

    def link(self, src, dst):
        os.link(src, dst)
        self.ops.append(Op("link", name=self._name(src), name2=self._name(dst)))

    def replace(self, src, dst):
        os.replace(src, dst)
        self.ops.append(Op("replace", name=self._name(src), name2=self._name(dst)))

    def unlink(self, path):
        os.unlink(path)
        self.ops.append(Op("unlink", name=self._name(path)))

    def fsync_dir(self, path):
        sfile._fsync_dir(path)
        self.ops.append(Op("fsync_dir"))


@dataclass
class _File:
    durable: bytearray
    pending: list[Op] = field(default_factory=list)


@dataclass
class CrashState:
    point: int  # number of trace operations that happened
    acked: int  # acknowledgements before the crash
    files: dict[str, bytes]
    label: str


def _apply(buf: bytearray, op: Op, keep: list[bool] | None, shrink_ok: bool) -> None:
    if op.kind == "truncate":
        del buf[op.size:]
        return
    end = op.offset + len(op.data)
    if keep is None or all(keep):
        if end > len(buf):
            buf.extend(bytes(end - len(buf)))
        buf[op.offset:end] = op.data
        return
    s0 = op.offset - op.offset % SECTOR
    for i, k in enumerate(keep):
        if not k:
            continue
        lo = max(op.offset, s0 + i * SECTOR)
        hi = min(end, s0 + (i + 1) * SECTOR)
        if hi > len(buf):
            buf.extend(bytes(hi - len(buf)))
        buf[lo:hi] = op.data[lo - op.offset: hi - op.offset]


def _sector_start(offset: int, i: int) -> int:
    return (offset - offset % SECTOR) + i * SECTOR


def sectors(op: Op) -> int:
    if op.kind != "write" or not op.data:
        return 0
    first = op.offset // SECTOR
    last = (op.offset + len(op.data) - 1) // SECTOR
    return last - first + 1


def _build(rec: Recorder, point: int, masks, dir_keep: int, grow: dict) -> dict[str, bytes]:
    """Files after the first ``point`` operations, with ``masks[(op index)]`` choosing the
    sectors of each unsynced write that reached the disk."""
    files: dict[int, _File] = {}
    for name, fid in rec.initial_ids.items():
        files[fid] = _File(bytearray(rec.initial[name]))
    durable_dir = dict(rec.initial_ids)
    dir_pending: list[Op] = []
    index_of: dict[int, int] = {}
    for i, op in enumerate(rec.ops[:point]):
        index_of[id(op)] = i
        if op.kind == "create":
            files[op.file] = _File(bytearray())
            dir_pending.append(op)
        elif op.kind in ("write", "truncate"):
            files[op.file].pending.append(op)
        elif op.kind == "fsync":
            f = files[op.file]
            for p in f.pending:
                _apply(f.durable, p, None, False)
            f.pending.clear()
        elif op.kind in ("link", "replace", "unlink"):
            dir_pending.append(op)
        elif op.kind == "fsync_dir":
            for d in dir_pending:
                _dir_apply(durable_dir, d)
            dir_pending.clear()
    names = dict(durable_dir)
    for d in dir_pending[:dir_keep]:
        _dir_apply(names, d)
    out = {}
    for name, fid in names.items():
        f = files[fid]
        buf = bytearray(f.durable)
        size_before = len(buf)
        for p in f.pending:
            _apply(buf, p, masks.get(index_of[id(p)]), False)
        if not grow.get(fid, True) and len(buf) > size_before:
            del buf[size_before:]
        out[name] = bytes(buf)
    return out


def _dir_apply(names: dict, op: Op) -> None:
    if op.kind == "create":
        names[op.name] = op.file
    elif op.kind == "link":
        if op.name in names:
            names[op.name2] = names[op.name]
    elif op.kind == "replace":
        if op.name in names:
            names[op.name2] = names.pop(op.name)
    elif op.kind == "unlink":
        names.pop(op.name, None)


def crash_states(rec: Recorder, *, seed: int, random_per_point: int, singles: int = 4, cuts: int = 8,
                 points: list[int] | None = None):
    """Yield :class:`CrashState` s for crashes at every point (or at ``points``)."""
    rng = random.Random(seed)
    total = len(rec.ops)
    acked_at = []
    n = 0
    for op in rec.ops:
        acked_at.append(n)
        if op.kind == "ack":
            n += 1
    acked_at.append(n)
    for point in (points if points is not None else range(total + 1)):
        if point < total and rec.ops[point].kind == "ack":
            continue  # the same disk state as the next point
        acked = acked_at[point]
        unsynced = _unsynced(rec, point)
        dir_ops = _dir_pending(rec, point)
        seen = set()

        def emit(label, masks, dir_keep, grow):
            files = _build(rec, point, masks, dir_keep, grow)
            key = tuple(sorted((k, hash(v)) for k, v in files.items()))
            if key in seen:
                return None
            seen.add(key)
            return CrashState(point, acked, files, label)

        full = {i: [True] * sectors(rec.ops[i]) for i in unsynced}
        none = {i: [False] * sectors(rec.ops[i]) for i in unsynced}
        fids = {rec.ops[i].file for i in unsynced}
        variants = [("all", full, len(dir_ops), {}), ("none", none, 0, {f: False for f in fids}),
                    ("none-dir-kept", none, len(dir_ops), {})]
        flat = [(i, s) for i in unsynced for s in range(sectors(rec.ops[i]))]
        for i, s in rng.sample(flat, min(singles, len(flat))):
            m = {j: list(v) for j, v in full.items()}
            m[i][s] = False
            variants.append((f"lose sector {s} of op {i}", m, len(dir_ops), {}))
        if unsynced:
            last = unsynced[-1]
            ns = sectors(rec.ops[last])
            for cut in sorted(rng.sample(range(1, ns), min(cuts, ns - 1))) if ns > 1 else []:
                m = {j: list(v) for j, v in full.items()}
                m[last] = [s < cut for s in range(ns)]
                variants.append((f"op {last} torn after sector {cut}", m, len(dir_ops), {}))
        for r in range(random_per_point):
            m = {i: [rng.random() < 0.5 for _ in range(sectors(rec.ops[i]))] for i in unsynced}
            grow = {f: rng.random() < 0.5 for f in fids}
            variants.append((f"random {r}", m, rng.randint(0, len(dir_ops)), grow))
        for label, masks, dir_keep, grow in variants:
            st = emit(label, masks, dir_keep, grow)
            if st is not None:
                yield st


def _unsynced(rec: Recorder, point: int) -> list[int]:
    pending: dict[int, list[int]] = {}
    for i, op in enumerate(rec.ops[:point]):
        if op.kind == "write":
            pending.setdefault(op.file, []).append(i)
        elif op.kind == "fsync":
            pending.pop(op.file, None)
    return sorted(i for v in pending.values() for i in v)


def _dir_pending(rec: Recorder, point: int) -> list[int]:
    out = []
    for i, op in enumerate(rec.ops[:point]):
        if op.kind in ("create", "link", "replace", "unlink"):
            out.append(i)
        elif op.kind == "fsync_dir":
            out.clear()
    return out


def materialise(state: CrashState, directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    for name, data in state.files.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
