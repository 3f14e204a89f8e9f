"""Three-way merge of memory files that share an ancestor (spec: "Merging", 15.2–15.5).

``merge_files(base, ours, theirs, out)`` reads what each side did since BASE from its frames
alone, the way an append-only file records it (15.2):

* a frame a side added with no ``supersedes`` is a **put**;
* a frame a side added that supersedes another is a **supersede** of that frame;
* a frame that is ``deleted`` in the side and was not in BASE is a **delete**.

The operations of both sides are then replayed onto a copy of BASE by the deterministic
writer, in the order 15.3 defines: every put, then every supersede, then every delete, each
phase in an order that depends only on the operations themselves and never on which side
they came from. The same operation on both sides is applied once. Frame ids are assigned in
that order, so merging (BASE, OURS, THEIRS) and (BASE, THEIRS, OURS) gives the same bytes
(15.5). Operations of the two sides on the same frame, or puts of the same URI, conflict
(15.4); a conflict stops the merge unless ``prefer`` names the side that wins, and the
losing operation is dropped together with every operation of its side that builds on it.

Nothing reads the clock: every timestamp is a frame's own.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import shutil
import tempfile
from dataclasses import dataclass, field

from .errors import StorageIOError, UnsupportedError, UsageError
from .format.text import default_uri
from .storage.file import _fsync_dir
from .storage.snapshot import Snapshot, read_snapshot
from .storage.view import canonical_json

SIDES = ("ours", "theirs")
# Fields a side may change on a frame BASE already has: its status and its successor link.
_MUTABLE = frozenset({"status", "superseded_by", "payload_offset"})
_OPTIONAL = ("source_sha256", "source_path", "enrichment_state")


@dataclass
class Op:
    """One operation a side made since BASE."""

    side: str
    kind: str            # put | supersede | delete
    frame: int | None    # the side's id of the frame a put or supersede created
    target: int | None   # the side's id of the frame a supersede or delete acts on
    args: dict = field(default_factory=dict)  # put arguments, for put and supersede
    key: str = ""        # SHA-256 of the canonical JSON of the operation's content (15.3)

    @property
    def timestamp(self) -> int:
        return self.args.get("timestamp", 0)

    def describe(self) -> dict:
        d = {"side": self.side, "op": self.kind}
        if self.frame is not None:
            d["frame"] = self.frame
        if self.target is not None:
            d["target"] = self.target
        if "uri" in self.args:
            d["uri"] = self.args["uri"]
        return d


@dataclass
class Conflict:
    kind: str   # supersede-supersede | supersede-delete | put-uri
    frame: int | None   # output id of the frame both act on (None for put-uri)
    uri: str | None
    ours: Op
    theirs: Op

    def to_json(self) -> dict:
        return {"kind": self.kind, "frame": self.frame, "uri": self.uri,
                "ours": self.ours.describe(), "theirs": self.theirs.describe()}


@dataclass
class MergeResult:
    frames: int = 0
    applied: dict = field(default_factory=lambda: {"put": 0, "supersede": 0, "delete": 0})
    convergent: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    id_map: dict = field(default_factory=lambda: {"ours": {}, "theirs": {}})
    sha256: str | None = None

    def to_json(self) -> dict:
        return {"frames": self.frames, "applied": self.applied, "convergent": self.convergent,
                "conflicts": [c.to_json() for c in self.conflicts], "dropped": self.dropped,
                "id_map": {s: {str(k): v for k, v in sorted(m.items())} for s, m in self.id_map.items()},
                "sha256": self.sha256}


class MergeConflictError(UsageError):
    """The sides conflict and no side was preferred; ``result.conflicts`` lists them."""

    default_code = "MV2-E-MERGE-CONFLICT"

    def __init__(self, result: MergeResult):
        self.result = result
        n = len(result.conflicts)
        super().__init__(f"{n} conflict{'s' if n != 1 else ''} between OURS and THEIRS; "
                         "rerun with --ours or --theirs to choose the side that wins")


# -- reading what a side did ------------------------------------------------------------------------

def _absent(snap: Snapshot) -> dict:
    from .convert import DEFAULTS

    present = {sc.name for sc in snap.revision.frame.subcons}
    return {k: DEFAULTS[k] for k in _OPTIONAL if k not in present}


def _comparable(fields: dict, absent: dict) -> dict:
    out = {k: v for k, v in fields.items() if k not in _MUTABLE}
    for k in _OPTIONAL:
        out[k] = fields[k] if k in fields else absent.get(k)
    return out


def _put_args(snap: Snapshot, fs, vectors) -> dict:
    f = fs.fields
    return {"content": snap.canonical_payload(fs), "uri": f["uri"], "title": f["title"], "timestamp": f["timestamp"],
            "tags": list(f["tags"]), "labels": list(f["labels"]), "extra_metadata": dict(f["extra_metadata"]),
            "kind": f["kind"], "track": f["track"], "embedding": vectors.get(fs.id)}


def _key(kind: str, args: dict) -> str:
    content = dict(args)
    content["content"] = hashlib.sha256(content["content"]).hexdigest()
    return hashlib.sha256(canonical_json({"op": kind, **content}).encode("utf-8")).hexdigest()


def side_operations(base: Snapshot, side: Snapshot, name: str) -> list[Op]:
    """The operations ``side`` made since ``base`` (15.2), or MV2-E-MERGE-BASE if it does not descend from it."""
    from .index.vec import load_vectors

    nb = len(base.frames)
    label = name.upper()
    if len(side.frames) < nb:
        raise UsageError(f"{label} has {len(side.frames)} frames, fewer than BASE's {nb}: it does not descend from BASE",
                         code="MV2-E-MERGE-BASE")
    ab, asd = _absent(base), _absent(side)
    for i in range(nb):
        fb, fs = base.frames[i].fields, side.frames[i].fields
        if fb == fs:  # untouched, the common case (compared in C)
            continue
        if _comparable(fb, ab) != _comparable(fs, asd) or (fb["status"] != "active" and fs["status"] != fb["status"]):
            raise UsageError(f"frame {i} of {label} differs from frame {i} of BASE: {label} does not descend from BASE",
                             code="MV2-E-MERGE-BASE")
    vectors = load_vectors(side)
    ops: list[Op] = []
    for fs in side.frames[nb:]:
        f = fs.fields
        if f["role"] != "document":
            raise UnsupportedError(f"frame {f['id']} of {label} is a {f['role']}; merging chunked documents and "
                                   "extracted images is not supported")
        kind = "put" if f["supersedes"] is None else "supersede"
        args = _put_args(side, fs, vectors)
        ops.append(Op(name, kind, f["id"], f["supersedes"], args, _key(kind, args)))
    for fs in side.frames:
        f = fs.fields
        if f["status"] == "deleted" and (f["id"] >= nb or base.frames[f["id"]].fields["status"] != "deleted"):
            ops.append(Op(name, "delete", None, f["id"]))
    return ops


# -- the replay plan --------------------------------------------------------------------------------

@dataclass
class _Plan:
    actions: list[tuple] = field(default_factory=list)  # ("put", args) | ("supersede", out_id, args) | ("delete", out_id)
    conflicts: list[Conflict] = field(default_factory=list)
    dropped: list[Op] = field(default_factory=list)
    convergent: int = 0
    id_map: dict = field(default_factory=lambda: {"ours": {}, "theirs": {}})


def _is_default_uri(op: Op) -> bool:
    return op.args.get("uri") == default_uri(op.frame)


def plan(nbase: int, ops: dict[str, list[Op]], drop: set[int]) -> _Plan:
    """Order the operations (15.3), merge identical ones, find conflicts (15.4). ``drop`` holds
    ``id()``s of operations a resolution removed; what builds on them is dropped too."""
    p = _Plan()
    out_of = {s: {i: i for i in range(nbase)} for s in SIDES}  # side frame id -> output frame id
    live = {s: [o for o in ops[s] if id(o) not in drop] for s in SIDES}
    p.dropped = [o for s in SIDES for o in ops[s] if id(o) in drop]
    n = nbase

    # Phase 1: puts, by (timestamp, content key); the j-th identical put of each side is one frame.
    groups: dict[tuple, dict[str, list[Op]]] = {}
    for s in SIDES:
        for o in live[s]:
            if o.kind == "put":
                groups.setdefault((o.timestamp, o.key), {"ours": [], "theirs": []})[s].append(o)
    by_uri: dict[str, dict[str, Op]] = {}
    for k in sorted(groups):
        g = groups[k]
        for j in range(max(len(g["ours"]), len(g["theirs"]))):
            pair = {s: g[s][j] for s in SIDES if j < len(g[s])}
            if len(pair) == 2:
                p.convergent += 1
            else:
                (s, o), = pair.items()
                if not _is_default_uri(o):
                    by_uri.setdefault(o.args["uri"], {}).setdefault(s, o)
            any_op = next(iter(pair.values()))
            p.actions.append(("put", any_op.args))
            for s, o in pair.items():
                out_of[s][o.frame] = n
                p.id_map[s][o.frame] = n
            n += 1
    for uri in sorted(by_uri):
        if len(by_uri[uri]) == 2:
            p.conflicts.append(Conflict("put-uri", None, uri, by_uri[uri]["ours"], by_uri[uri]["theirs"]))

    # Phase 2: supersedes, smallest (timestamp, key, target) first among those whose target exists.
    waiting: dict[tuple[str, int], list[Op]] = {}
    heap: list[tuple] = []
    seq = 0

    def offer(o: Op):
        nonlocal seq
        t = out_of[o.side].get(o.target)
        if t is None:
            waiting.setdefault((o.side, o.target), []).append(o)
        else:
            heapq.heappush(heap, (o.timestamp, o.key, t, SIDES.index(o.side), seq, o))
            seq += 1

    for s in SIDES:
        for o in live[s]:
            if o.kind == "supersede":
                offer(o)
    claimed: dict[int, Op] = {}  # output id -> the supersede applied to it
    while heap:
        ts, key, t, _, _, o = heapq.heappop(heap)
        twin = None
        if heap and heap[0][:3] == (ts, key, t) and heap[0][5].side != o.side:
            twin = heapq.heappop(heap)[5]
        prev = claimed.get(t)
        if prev is not None:  # the other side superseded this frame already, differently
            ours, theirs = (prev, o) if prev.side == "ours" else (o, prev)
            p.conflicts.append(Conflict("supersede-supersede", t, None, ours, theirs))
            continue
        claimed[t] = o
        p.actions.append(("supersede", t, o.args))
        for x in (o, twin):
            if x is None:
                continue
            out_of[x.side][x.frame] = n
            p.id_map[x.side][x.frame] = n
            for w in waiting.pop((x.side, x.frame), []):
                offer(w)
        if twin is not None:
            p.convergent += 1
        n += 1
    p.dropped += [o for ws in waiting.values() for o in ws]

    # Phase 3: deletes, by output frame id; a frame both sides delete is deleted once.
    deletes: dict[int, dict[str, Op]] = {}
    for s in SIDES:
        for o in live[s]:
            if o.kind != "delete":
                continue
            t = out_of[s].get(o.target)
            if t is None:
                p.dropped.append(o)
                continue
            deletes.setdefault(t, {})[s] = o
    for t in sorted(deletes):
        d = deletes[t]
        sup = claimed.get(t)
        if sup is not None and sup.side not in d:  # superseded by one side, deleted by the other
            (s, o), = d.items()
            ours, theirs = (sup, o) if sup.side == "ours" else (o, sup)
            p.conflicts.append(Conflict("supersede-delete", t, None, ours, theirs))
            continue
        if len(d) == 2:
            p.convergent += 1
        p.actions.append(("delete", t))
    return p


def resolve(nbase: int, ops: dict[str, list[Op]], prefer: str | None) -> tuple[_Plan, list[Conflict]]:
    """Plan, and with ``prefer`` drop the other side's operation of each conflict until none is left."""
    drop: set[int] = set()
    seen: list[Conflict] = []
    while True:
        p = plan(nbase, ops, drop)
        if not p.conflicts:
            return p, seen
        seen += p.conflicts
        if prefer is None:
            return p, seen
        loser = "theirs" if prefer == "ours" else "ours"
        drop |= {id(getattr(c, loser)) for c in p.conflicts}


# -- writing ---------------------------------------------------------------------------------------

def _cards(snap: Snapshot):
    return snap.memory_cards() or []


def merge_files(base, ours, theirs, out, *, prefer: str | None = None) -> MergeResult:
    """Merge OURS and THEIRS, both descended from BASE, into OUT (15). ``prefer`` is None,
    ``"ours"`` or ``"theirs"``. Raises :class:`MergeConflictError` on unresolved conflicts;
    OUT is then left untouched. OUT may be one of the inputs (git's merge driver writes over OURS)."""
    from .memory import open as open_memory

    if prefer not in (None, "ours", "theirs"):
        raise UsageError(f"prefer must be 'ours' or 'theirs', not {prefer!r}")
    paths = {"base": os.fspath(base), "ours": os.fspath(ours), "theirs": os.fspath(theirs)}
    snaps: dict[str, Snapshot] = {}
    try:
        for name, p in paths.items():
            snaps[name] = read_snapshot(p)
        b = snaps["base"]
        ops = {s: side_operations(b, snaps[s], s) for s in SIDES}
        if _cards(snaps["ours"]) != _cards(b) or _cards(snaps["theirs"]) != _cards(b):
            raise UnsupportedError("memory cards changed since BASE; this implementation does not write memory cards (15.3)")
        nbase = len(b.frames)
    finally:
        for s in snaps.values():
            s.close()
    p, conflicts = resolve(nbase, ops, prefer)
    res = MergeResult(conflicts=conflicts, convergent=p.convergent, id_map=p.id_map,
                      dropped=[o.describe() for o in p.dropped])
    if p.conflicts:
        raise MergeConflictError(res)

    out = os.fspath(out)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".mv2-merge-", suffix=".mv2", dir=os.path.dirname(os.path.abspath(out)))
    except OSError as exc:
        raise StorageIOError(f"cannot create the merged file next to {out}: {exc.strerror}") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # an ordinary new file, not mkstemp's private one
    try:
        try:
            shutil.copyfile(paths["base"], tmp)
        except OSError as exc:
            raise StorageIOError(f"cannot copy BASE to {tmp}: {exc.strerror}") from None
        with open_memory(tmp, "a") as mem:
            puts = [dict(a) for kind, *rest in p.actions if kind == "put" for a in rest]
            mem.put_many(puts)  # one batch, in plan order
            for kind, *rest in p.actions:
                if kind == "supersede":
                    t, args = rest
                    args = dict(args)
                    mem.supersede(t, args.pop("content"), **args)
                elif kind == "delete":
                    mem.delete(rest[0])
            res.frames = mem.frame_count
        try:
            os.replace(tmp, out)  # the writer synced the file; the rename is synced with its directory
            _fsync_dir(out)
        except OSError as exc:
            raise StorageIOError(f"cannot write {out}: {exc.strerror}") from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    for kind, *_ in p.actions:
        res.applied[kind] += 1
    with open(out, "rb") as fh:
        res.sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
    return res


__all__ = ["merge_files", "side_operations", "MergeResult", "Conflict", "MergeConflictError"]
