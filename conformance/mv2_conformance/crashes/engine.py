"""Crash states from a trace, ALICE-style (pure: a :class:`~.trace.Trace` in, file-system states out).

The persistence model (what a crash may keep of what a process did), after ALICE (Pillai et
al., OSDI 2014) and CrashMonkey (Mohan et al., OSDI 2018):

* A crash may happen after any event: every prefix of the trace is a crash point.
* Up to a crash point, the page cache holds everything the process did. What reached the
  disk is what was **synced** plus any part of what was not:
  - a file's data and size are durable after ``fsync``/``fdatasync`` of it; each write and
    truncation since its last sync is *pending*, and a pending write persists (or not) in
    512-byte sectors (aligned on the file offset), independently of the others: so writes
    may be dropped, reordered (a later one kept without an earlier one) or torn (some of a
    write's sectors kept);
  - a directory entry (create, rename, link, unlink) is durable after ``fsync`` of its
    directory; pending entries may each be undone. As on Linux's journalling file systems, an
    ``fsync`` of a new file also makes the entry that created it durable;
  - ``sync``/``syncfs`` make everything durable.
* Files on memory-backed file systems are outside the model: the recorder's caller decides
  which directories are watched (the memory's directory and the implementation's temporary
  directory), so temporary copies, sidecars and index scratch there are crash state too.

:func:`plan` lists the crash states a trace allows (a point and a variant), and selects at most
``budget`` of them with a seeded sampler (section "Sampling" in docs/conformance.md):
first, at every acknowledgement, the state where only synced data survived and the state
where everything did; then a seeded random sample of the rest. When everything fits in the
budget the enumeration is exhaustive. :func:`materialize` builds the selected states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Iterator

from .trace import Event, Trace

SECTOR = 512
EXHAUSTIVE_PIECES = 6   # a file with at most this many pending sectors gets every subset
EXHAUSTIVE_NAMES = 4    # likewise for pending directory entries
DROP_WRITES = 8         # otherwise: the last writes dropped one at a time,
TORN_CUTS = 4           # the last write torn after a few sector counts,
RANDOM_MASKS = 4        # and a few random subsets of sectors


@dataclass(frozen=True)
class Piece:
    """A pending change to one file: a sector's worth of a write, or a truncation."""
    event: int        # index of the event in trace.events
    offset: int
    data: bytes = b""
    size: int | None = None  # a truncation to this size (negative: extension to at least -size)


@dataclass(frozen=True)
class NameOp:
    event: int
    kind: str
    path: str
    path2: str = ""
    ino: int = -1


@dataclass(frozen=True)
class Variant:
    """Which pending changes a state keeps. ``data``: None = all, else {ino: bitmask over that
    file's pending pieces} (a file not listed keeps all of them). ``names``: None = all, else
    a bitmask over the pending directory entries."""
    label: str
    data: tuple | None = None   # ((ino, mask), ...); () = none of any file
    names: int | None = None
    all_data: bool = True       # files not in ``data`` keep all their pieces (else none)


@dataclass(frozen=True)
class Plan:
    point: int      # events[:point] happened
    variant: Variant


@dataclass
class CrashState:
    point: int
    label: str
    files: dict[str, bytes]
    dirs: set[str]
    acks: tuple[int, ...]     # seqs of the replies written before the crash
    last_event: Event | None  # the event just before the crash


@dataclass
class _Sim:
    """The file system as the process sees it (current) and as the disk holds it (durable)."""
    names: dict[str, int] = field(default_factory=dict)
    content: dict[int, bytearray] = field(default_factory=dict)
    dnames: dict[str, int] = field(default_factory=dict)
    dcontent: dict[int, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    ddirs: set[str] = field(default_factory=set)
    pending: dict[int, list[Piece]] = field(default_factory=dict)
    pnames: list[NameOp] = field(default_factory=list)
    acks: list[int] = field(default_factory=list)

    @classmethod
    def start(cls, trace: Trace) -> "_Sim":
        s = cls()
        for n, p in enumerate(sorted(trace.initial)):
            s.names[p] = s.dnames[p] = n
            s.content[n] = bytearray(trace.initial[p])
            s.dcontent[n] = bytes(trace.initial[p])
        return s

    def step(self, i: int, e: Event) -> None:
        k = e.kind
        if k == "ack":
            self.acks.append(e.seq)
        elif k == "create":
            self.names[e.path] = e.ino
            self.content.setdefault(e.ino, bytearray())
            self.pnames.append(NameOp(i, "create", e.path, ino=e.ino))
        elif k == "write":
            buf = self.content.setdefault(e.ino, bytearray())
            _apply_write(buf, e.offset, e.data)
            self.pending.setdefault(e.ino, []).extend(_sectors(i, e.offset, e.data))
        elif k == "truncate":
            buf = self.content.setdefault(e.ino, bytearray())
            _apply_size(buf, e.size)
            self.pending.setdefault(e.ino, []).append(Piece(i, 0, size=e.size))
        elif k == "fsync":
            self.dcontent[e.ino] = bytes(self.content.get(e.ino, b""))
            self.pending.pop(e.ino, None)
            made = [op for op in self.pnames if op.kind == "create" and op.ino == e.ino]
            for op in made:  # the entry that created it becomes durable with it
                self.pnames.remove(op)
                self.dnames[op.path] = op.ino
        elif k in ("mkdir", "rmdir"):
            pass  # directories are made as their files need them when a state is written out
        elif k in ("rename", "link", "unlink"):
            _apply_name(self.names, self.dirs, NameOp(i, k, e.path, e.path2))
            self.pnames.append(NameOp(i, k, e.path, e.path2))
        elif k == "fsync_dir":
            keep = []
            for op in self.pnames:
                if _parent(op.path2 or op.path) == e.path or _parent(op.path) == e.path:
                    _apply_name(self.dnames, self.ddirs, op)
                else:
                    keep.append(op)
            self.pnames = keep
        elif k == "sync":
            for op in self.pnames:
                _apply_name(self.dnames, self.ddirs, op)
            self.pnames = []
            for ino, buf in self.content.items():
                self.dcontent[ino] = bytes(buf)
            self.pending.clear()

    def variants(self, rng: random.Random) -> list[Variant]:
        out = [Variant("everything written"), Variant("only synced data and entries", data=(), names=0, all_data=False)]
        live = set(self.names.values()) | set(self.dnames.values())
        files = {ino: ps for ino, ps in sorted(self.pending.items()) if ps and ino in live}
        if files:
            out.append(Variant("entries kept, unsynced data dropped", data=(), all_data=False))
        where = {ino: path.rsplit("/", 1)[-1] for path, ino in {**self.dnames, **self.names}.items()}
        for ino, ps in files.items():
            n = len(ps)
            full = (1 << n) - 1
            if n <= EXHAUSTIVE_PIECES:
                masks = [(m, f"sectors {m:0{n}b} of {n}") for m in range(full)]
            else:
                masks = []
                writes = sorted({p.event for p in ps})
                for ev in writes[-DROP_WRITES:]:
                    m = sum(1 << j for j, p in enumerate(ps) if p.event != ev)
                    masks.append((m, f"write of event {ev} dropped"))
                last = [j for j, p in enumerate(ps) if p.event == writes[-1]]
                if len(last) > 1:
                    for cut in sorted({max(1, len(last) * c // (TORN_CUTS + 1)) for c in range(1, TORN_CUTS + 1)}):
                        m = full & ~sum(1 << j for j in last[cut:])
                        masks.append((m, f"last write torn after {cut} of {len(last)} sectors"))
                for _ in range(RANDOM_MASKS):
                    masks.append((rng.getrandbits(n), "random sectors"))
            for m, why in masks:
                out.append(Variant(f"{where.get(ino, f'file {ino}')}: {why}", data=((ino, m),)))
        n = len(self.pnames)
        if n:
            if n <= EXHAUSTIVE_NAMES:
                masks = range((1 << n) - 1)
            else:
                full = (1 << n) - 1
                masks = [full & ~(1 << j) for j in range(n)] + [(1 << j) - 1 for j in range(n)]
            for m in masks:
                undone = [f"{op.kind} {op.path.rsplit('/', 1)[-1]}" for j, op in enumerate(self.pnames) if not m >> j & 1]
                out.append(Variant("undone: " + ", ".join(undone), names=m))
        return out

    def build(self, v: Variant) -> tuple[dict[str, bytes], set[str]]:
        names, dirs = dict(self.dnames), set(self.ddirs)
        for j, op in enumerate(self.pnames):
            if v.names is None or v.names >> j & 1:
                _apply_name(names, dirs, op)
        chosen = dict(v.data or ())
        files = {}
        for path, ino in names.items():
            if v.data is None or (ino not in chosen and v.all_data):
                files[path] = bytes(self.content.get(ino, b""))
                continue
            mask = chosen.get(ino, 0)
            buf = bytearray(self.dcontent.get(ino, b""))
            for j, p in enumerate(self.pending.get(ino, [])):
                if mask >> j & 1:
                    if p.size is not None:
                        _apply_size(buf, p.size)
                    else:
                        _apply_write(buf, p.offset, p.data)
            files[path] = bytes(buf)
        return files, dirs


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _apply_write(buf: bytearray, offset: int, data: bytes) -> None:
    if offset > len(buf):
        buf.extend(bytes(offset - len(buf)))
    buf[offset:offset + len(data)] = data


def _apply_size(buf: bytearray, size: int) -> None:
    if size < 0:  # an extension to at least -size
        if len(buf) < -size:
            buf.extend(bytes(-size - len(buf)))
    elif size < len(buf):
        del buf[size:]
    else:
        buf.extend(bytes(size - len(buf)))


def _apply_name(names: dict[str, int], dirs: set[str], op: NameOp) -> None:
    if op.kind == "create":
        names[op.path] = op.ino
    elif op.kind == "rename":
        if op.path in names:
            names[op.path2] = names.pop(op.path)
        elif op.path in dirs:
            dirs.discard(op.path)
            dirs.add(op.path2)
            prefix = op.path + "/"
            for p in [p for p in names if p.startswith(prefix)]:
                names[op.path2 + p[len(op.path):]] = names.pop(p)
    elif op.kind == "link":
        if op.path in names:
            names[op.path2] = names[op.path]
    elif op.kind == "unlink":
        names.pop(op.path, None)
    elif op.kind == "mkdir":
        dirs.add(op.path)
    elif op.kind == "rmdir":
        dirs.discard(op.path)


def _sectors(i: int, offset: int, data: bytes) -> list[Piece]:
    out, pos = [], 0
    while pos < len(data):
        a = offset + pos
        b = min(offset + len(data), (a // SECTOR + 1) * SECTOR)
        out.append(Piece(i, a, data[pos:pos + (b - a)]))
        pos += b - a
    return out


def plan(trace: Trace, *, budget: int, seed: int = 0) -> tuple[list[Plan], int]:
    """The crash states to judge, and how many the trace allows in all.

    Priority: at each acknowledgement, the synced-only and everything-written states; then, up
    to ``budget``, a sample (``random.Random(seed)``) of the other points and variants."""
    rng = random.Random(seed)
    sim = _Sim.start(trace)
    first: list[Plan] = []
    rest: list[Plan] = []
    for p in range(len(trace.events) + 1):
        if p:
            sim.step(p - 1, trace.events[p - 1])
        vs = sim.variants(rng)
        at_ack = p > 0 and trace.events[p - 1].kind == "ack"
        for n, v in enumerate(vs):
            (first if at_ack and n < 2 else rest).append(Plan(p, v))
    total = len(first) + len(rest)
    if total <= budget:
        return first + rest, total
    chosen = first[:budget]
    if len(chosen) < budget:
        chosen += rng.sample(rest, budget - len(chosen))
    chosen.sort(key=lambda pl: pl.point)
    return chosen, total


def materialize(trace: Trace, plans: list[Plan]) -> Iterator[CrashState]:
    """The file-system state of each plan, in order of crash point."""
    sim = _Sim.start(trace)
    p = 0
    for pl in sorted(plans, key=lambda pl: pl.point):
        while p < pl.point:
            sim.step(p, trace.events[p])
            p += 1
        files, dirs = sim.build(pl.variant)
        yield CrashState(point=pl.point, label=pl.variant.label, files=files, dirs=dirs, acks=tuple(sim.acks),
                         last_event=trace.events[pl.point - 1] if pl.point else None)


def final_state(trace: Trace) -> dict[str, bytes]:
    """The files as the process left them, by the trace: what the disk must hold after the
    recording if the recorder missed nothing."""
    sim = _Sim.start(trace)
    for i, e in enumerate(trace.events):
        sim.step(i, e)
    return {p: bytes(sim.content.get(ino, b"")) for p, ino in sim.names.items()}
