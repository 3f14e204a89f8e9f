"""Crash exploration of one implementation: record a workload, build its crash states, judge each.

1. **Record.** A second adapter process is started under the iotrace recorder, with its own
   temporary directory, and the workload is sent to it one op at a time. The memory's
   directory and that temporary directory are watched.
2. **Plan.** :mod:`.engine` lists the crash states the trace allows and samples ``budget`` of
   them (seeded).
3. **Judge.** Each state is written to a fresh directory and the runner's adapter is asked for
   ``state`` twice: read-only, then after recovery (``recover: true``). The oracle
   (:func:`.workload.expected_states`) says which documents the acknowledged ops left; the
   state after recovery must be that, or that plus the op in flight. Counted: acknowledged ops
   lost, states that do not open after recovery, states that needed recovery, states that left
   files beside the memory after recovery, and read-only opens that changed the file.
4. **Vectors.** The first state of each kind of failure (earliest crash point) is saved as a
   crash vector: the files, the trace slice that led to it and the workload.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..adapter import Adapter
from . import engine, recorder, trace as tracemod
from .workload import CHANGES, Drive, Workload, drive, expected_states

MEMORY = "memory.mv2"


@dataclass
class Settings:
    budget: int = 40          # crash states judged per workload
    seed: int = 0
    vectors: Path | None = None  # where to save crash vectors (None: nowhere)
    max_vectors: int = 12
    report: Path | None = None   # a JSON-lines file each exploration's summary is appended to


@dataclass
class Verdict:
    kinds: list[str]          # lost, unopenable, leftover, unexpected, ro-modified; empty = fine
    detail: str
    needs_recovery: bool = False


@dataclass
class Exploration:
    workload: str
    events: int = 0
    records: int = 0
    points: int = 0
    possible: int = 0
    explored: int = 0
    distinct: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in (
        "lost", "unopenable", "leftover", "unexpected", "ro-modified", "needs-recovery")})
    lost_ops: set[str] = field(default_factory=set)
    failures: list[dict] = field(default_factory=list)  # one per kind of failure: the first state
    problem: str | None = None  # the recording itself failed
    unseen: list[str] = field(default_factory=list)
    skipped_ops: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in ("workload", "events", "records", "points", "possible", "explored",
                                            "distinct", "counts", "problem", "unseen", "skipped_ops")}
        d["unseen"] = self.unseen[:10] + ([f"... and {len(self.unseen) - 10} more"] if len(self.unseen) > 10 else [])
        d["lost_ops"] = sorted(self.lost_ops)
        d["seconds"] = round(self.seconds, 2)
        d["failures"] = [{k: v for k, v in f.items() if k != "state"} for f in self.failures]
        return d

    def summary(self) -> str:
        c = self.counts
        return (f"{self.explored} states ({self.distinct} distinct) of {self.possible} at {self.points} crash points: "
                f"{c['lost']} lost acknowledged ops, {c['unopenable']} unopenable, {c['leftover']} with leftover files, "
                f"{c['unexpected']} other states, {c['needs-recovery']} needed recovery")


def record(argv: list[str], wl: Workload, root: Path, *, timeout: float = 120.0) -> tuple[tracemod.Trace, Drive, Path, list[Path]]:
    """Run ``wl`` under the recorder; return the trace, what the adapter answered, the memory
    path and the watched directories."""
    lib = recorder.build()
    work, tmp = root / "work", root / "tmp"
    work.mkdir(parents=True)
    tmp.mkdir()
    work, tmp = work.resolve(), tmp.resolve()
    trace_file = root / "trace.bin"
    memory = work / MEMORY
    with Adapter(argv, timeout=timeout, env=recorder.environment(lib, trace_file, tmp)) as adapter:
        result = drive(adapter, wl, memory, test_id=f"crash-explore/{wl.name}")
    raw = trace_file.read_bytes() if trace_file.exists() else b""
    tr = tracemod.events(raw, [str(work), str(tmp)])
    tr.unseen += missed(tr, [work, tmp])
    return tr, result, memory, [work, tmp]


def missed(tr: tracemod.Trace, roots: list[Path]) -> list[str]:
    """Files whose bytes on disk after the recording are not what the trace says: changes the
    recorder did not see (raw system calls, io_uring, shared mappings)."""
    want = engine.final_state(tr)
    have = {}
    for r in roots:
        for dirpath, _, files in os.walk(r):
            for f in files:
                p = os.path.join(dirpath, f)
                have[p] = Path(p).read_bytes()
    out = []
    for p in sorted(set(want) | set(have)):
        if want.get(p) != have.get(p):
            how = "not in the trace" if p not in want else "gone, by the trace it exists" if p not in have else \
                f"{len(have[p]):,} bytes on disk, {len(want[p]):,} by the trace" if len(have[p]) != len(want[p]) else \
                "other bytes on disk than by the trace"
            out.append(f"{p}: {how}")
    return out


def explore(argv: list[str], judge: Adapter, wl: Workload, root: Path, settings: Settings) -> Exploration:
    t0 = time.monotonic()
    ex = Exploration(workload=wl.name)
    tr, result, memory, roots = record(argv, wl, root / "record")
    ex.skipped_ops = result.skipped
    ex.unseen = tr.unseen
    if result.failed:
        ex.problem = f"the workload failed under the recorder: {result.failed}"
        return ex
    done = [(op, seq) for op, seq, r in zip(wl.ops, result.seqs, result.replies) if r.kind == "result"]
    ops = [op for op, _ in done]
    seqs = [seq for _, seq in done]
    model = expected_states(ops)
    ex.events = len(tr.events)
    ex.records = sum(1 for e in tr.events if e.kind != "ack")
    writes = [e for e in tr.events if e.kind == "write"]
    acked = {e.seq for e in tr.events if e.kind == "ack"}
    blind = [u for u in tr.unseen if u.startswith(str(memory) + ":")]
    if blind:
        ex.problem = f"the recorder missed changes to the memory: {blind[0]}"
        return ex
    if not writes or not set(seqs) <= acked:
        ex.problem = (f"the trace holds {len(writes)} writes and {len(acked & set(seqs))} of {len(seqs)} replies: "
                      "the recorder does not see this implementation's system calls")
        return ex
    plans, ex.possible = engine.plan(tr, budget=settings.budget, seed=settings.seed)
    ex.points = len(tr.events) + 1
    seen: dict[str, tuple] = {}
    kinds_saved: dict[tuple, dict] = {}
    for n, st in enumerate(engine.materialize(tr, plans)):
        ex.explored += 1
        a = _acked(seqs, st.acks)
        key = _state_key(st, roots)
        obs = seen.get(key)
        if obs is None:
            obs = _observe(judge, st, roots, root / "judge" / f"{n:05d}", wl.name)
            seen[key] = obs
        v = _verdict(obs, ops, model, a)
        if v.needs_recovery:
            ex.counts["needs-recovery"] += 1
        for k in v.kinds:
            ex.counts[k] += 1
        if "lost" in v.kinds:
            ex.lost_ops.update(_lost_names(obs, model, a))
        # Leftovers differ by what is left (random suffixes aside); other failures by kind.
        sig = (tuple(v.kinds), re.sub(r"\.[A-Za-z0-9]{6}\b", ".XXXXXX", v.detail) if v.kinds == ["leftover"]
               else v.detail.split(":")[0])
        if v.kinds and (sig in kinds_saved or len(kinds_saved) < settings.max_vectors):
            # One vector per kind of failure: the simplest persistence variant, then the earliest.
            f = {"point": st.point, "state": st, "label": st.label, "kinds": v.kinds, "detail": v.detail,
                 "acked_ops": a, "in_flight": ops[a]["op"] if a < len(ops) else None, "last_event": _brief(st.last_event)}
            old = kinds_saved.get(sig)
            if old is None or _simplicity(st.label) < _simplicity(old["label"]):
                if old is not None:
                    ex.failures.remove(old)
                kinds_saved[sig] = f
                ex.failures.append(f)
    ex.distinct = len(seen)
    ex.failures.sort(key=lambda f: f["point"])
    if settings.vectors is not None:
        for i, f in enumerate(ex.failures):
            f["vector"] = str(_save_vector(settings.vectors / wl.name / f"{i:02d}-{'-'.join(f['kinds'])}", f, tr, wl,
                                           roots, memory))
    ex.seconds = time.monotonic() - t0
    return ex


def _simplicity(label: str) -> int:
    """How plain a persistence variant is: a process crash (everything written) first, then a
    power loss with only synced data, then partial variants."""
    for n, start in enumerate(("everything written", "only synced", "entries kept", "undone")):
        if label.startswith(start):
            return n
    return 4


def _brief(e) -> dict | None:
    if e is None:
        return None
    d = e.to_json()
    d.pop("data", None)
    return d


def _acked(seqs: list[int], acks: tuple[int, ...]) -> int:
    got = set(acks)
    a = 0
    while a < len(seqs) and seqs[a] in got:
        a += 1
    return a


def _state_key(st: engine.CrashState, roots: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(st.files):
        h.update(p.encode() + b"\0" + hashlib.sha256(st.files[p]).digest())
    return h.hexdigest()


def _place(st: engine.CrashState, roots: list[Path], dest: Path) -> Path:
    """Write the state's files under ``dest`` (one folder per watched directory); return the
    memory's path there."""
    names = [r.name for r in roots]
    for p, data in st.files.items():
        for r, name in zip(roots, names):
            if p.startswith(str(r) + "/"):
                target = dest / name / p[len(str(r)) + 1:]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    for name in names:
        (dest / name).mkdir(parents=True, exist_ok=True)
    return dest / roots[0].name / MEMORY


def _observe(judge: Adapter, st: engine.CrashState, roots: list[Path], dest: Path, wl: str) -> dict:
    memory = _place(st, roots, dest)
    obs: dict = {"exists": memory.exists()}
    if obs["exists"]:
        before = hashlib.sha256(memory.read_bytes()).hexdigest()
        ro = judge.request("state", test_id=f"crash-explore/{wl}", path=str(memory), recover=False)
        obs["ro"] = _docs(ro)
        obs["ro_modified"] = memory.exists() and hashlib.sha256(memory.read_bytes()).hexdigest() != before
        rw = judge.request("state", test_id=f"crash-explore/{wl}", path=str(memory), recover=True)
        obs["rw"] = _docs(rw)
        obs["leftover"] = sorted(set(os.listdir(memory.parent)) - {MEMORY})
    shutil.rmtree(dest, ignore_errors=True)
    return obs


def _docs(reply) -> dict:
    if reply.kind != "result":
        return {"error": f"{reply.kind}: {reply.message}"[:300]}
    if reply.data.get("ok") is False:
        e = reply.data.get("error") or {}
        return {"error": f"{e.get('code')} {e.get('message', '')}".strip()[:300]}
    docs: dict[str, list] = {}
    for d in reply.data.get("documents", []):
        docs.setdefault(d.get("uri"), []).append(d.get("text"))
    return {"docs": docs}


def _matches(docs: dict[str, list], want: dict[str, str]) -> bool:
    if set(docs) != set(want):
        return False
    return all(len(texts) == 1 and (texts[0] is None or texts[0] == want[u]) for u, texts in docs.items())


def _verdict(obs: dict, ops: list[dict], model: list[dict], a: int) -> Verdict:
    created = a >= 1  # the first op creates the memory
    kinds: list[str] = []
    if not obs["exists"]:
        if created:
            return Verdict(["lost", "unopenable"], "the memory file is gone")
        return Verdict([], "")
    if obs.get("ro_modified"):
        kinds.append("ro-modified")
    if obs.get("leftover"):
        kinds.append("leftover")
    rw, ro = obs["rw"], obs["ro"]
    needs = "error" in ro or ro.get("docs") != rw.get("docs")
    if "error" in rw:
        if created:
            return Verdict(kinds + ["unopenable"], f"unopenable after recovery: {rw['error']}", needs)
        return Verdict(kinds, "leftover: " + ", ".join(obs.get("leftover", [])) if kinds else "", needs)
    allowed = [model[a]] + ([model[a + 1]] if a + 1 < len(model) else [])
    docs = rw["docs"]
    if any(_matches(docs, m) for m in allowed):
        return Verdict(kinds, "leftover: " + ", ".join(obs["leftover"]) if "leftover" in kinds else "", needs)
    lost = _lost_names(obs, model, a)
    if lost:
        return Verdict(kinds + ["lost"], f"lost after {a} acknowledged ops: {', '.join(sorted(lost))}", needs)
    return Verdict(kinds + ["unexpected"], f"after {a} acknowledged ops the documents are {sorted(docs)}", needs)


def _lost_names(obs: dict, model: list[dict], a: int) -> set[str]:
    """The acknowledged effects missing from the recovered documents (URIs, with what is wrong)."""
    docs = obs.get("rw", {}).get("docs", {})
    want, nxt = model[a], model[a + 1] if a + 1 < len(model) else model[a]
    lost = set()
    for uri, text in want.items():
        texts = docs.get(uri)
        if not texts:
            if uri in nxt:
                lost.add(f"{uri} (missing)")
        elif all(t is not None and t != text and t != nxt.get(uri) for t in texts):
            lost.add(f"{uri} (older text)")
    ever = set().union(*model[: a + 1])
    for uri in docs:
        if uri not in want and uri not in nxt and uri in ever:
            lost.add(f"{uri} (deleted, back)")
    return lost


def _save_vector(dest: Path, f: dict, tr: tracemod.Trace, wl: Workload, roots: list[Path], memory: Path) -> Path:
    """A crash vector: the files of the state, the trace from the acknowledgement before the last
    acknowledged op up to the crash, the workload and the verdict."""
    if dest.exists():
        shutil.rmtree(dest)
    st: engine.CrashState = f["state"]
    # The memory's directory only: the temporary directory's scratch plays no part in recovery.
    beside = engine.CrashState(st.point, st.label, {p: d for p, d in st.files.items() if p.startswith(str(roots[0]) + "/")},
                               st.dirs, st.acks, st.last_event)
    _place(beside, roots[:1], dest / "files")
    acks = [i for i, e in enumerate(tr.events[: st.point]) if e.kind == "ack"]
    start = acks[-2] + 1 if len(acks) >= 2 else 0
    with open(dest / "trace.jsonl", "w", encoding="utf-8") as out:
        for e in tr.events[start: st.point]:
            d = e.to_json()
            if "data" in d and len(d["data"]) > 8192:
                d["data"] = d["data"][:8192]
                d["data_truncated"] = True
            out.write(json.dumps(_relative(d, roots)) + "\n")
    (dest / "workload.json").write_text(json.dumps({"name": wl.name, "ops": wl.ops}, indent=1) + "\n", encoding="utf-8")
    verdict = {k: f[k] for k in ("point", "label", "kinds", "detail", "acked_ops", "in_flight")}
    verdict["last_event"] = _relative(f["last_event"], roots) if f["last_event"] else None
    verdict["memory"] = f"files/{roots[0].name}/{MEMORY}"
    (dest / "verdict.json").write_text(json.dumps(verdict, indent=1) + "\n", encoding="utf-8")
    return dest


def _relative(d: dict, roots: list[Path]) -> dict:
    d = dict(d)
    for k in ("path", "path2"):
        if k in d:
            for r in roots:
                if d[k].startswith(str(r)):
                    d[k] = r.name + d[k][len(str(r)):]
    return d
