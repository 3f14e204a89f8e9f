"""Workloads: a list of write operations driven through an adapter one request at a time.

A workload file (``workloads/*.json``) is ``{"name", "description", "ops": [...]}``. Each op is
one HP/1 workload command: ``create`` (optionally ``wal_size``), ``open``, ``put`` (``ref``,
``uri``, ``text``, ``title``, ``timestamp``), ``put_many`` (``docs``: puts), ``delete`` (``ref``,
``timestamp``), ``supersede`` (``ref``, ``text``, ``timestamp``), ``seal``, ``close``. A ``ref``
names a document; the frame id the adapter gave it is filled in when an op refers to it.

:func:`expected_states` is the model: after the first *k* ops, which documents are active
(URI → text). An acknowledged op is one whose reply arrived; the model after the
acknowledged ops, or after one op more (the one in flight), is what a reader may see after a
crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..adapter import Adapter, Reply

FOLDER = Path(__file__).resolve().parent / "workloads"
CHANGES = ("put", "put_many", "delete", "supersede")


@dataclass
class Workload:
    name: str
    description: str
    ops: list[dict]

    @classmethod
    def load(cls, path: Path) -> "Workload":
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(d["name"], d.get("description", ""), d["ops"])


def all_workloads() -> list[Workload]:
    return [Workload.load(p) for p in sorted(FOLDER.glob("*.json"))]


def expected_states(ops: list[dict]) -> list[dict[str, str]]:
    """``states[k]``: the active documents after the first ``k`` ops (URI → text)."""
    docs: dict[str, str] = {}
    uri_of: dict[str, str] = {}
    states = [dict(docs)]
    for op in ops:
        kind = op["op"]
        if kind == "put":
            docs[op["uri"]] = op["text"]
            uri_of[op["ref"]] = op["uri"]
        elif kind == "put_many":
            for d in op["docs"]:
                docs[d["uri"]] = d["text"]
                uri_of[d["ref"]] = d["uri"]
        elif kind == "delete":
            docs.pop(uri_of[op["ref"]], None)
        elif kind == "supersede":
            docs[uri_of[op["ref"]]] = op["text"]
        states.append(dict(docs))
    return states


@dataclass
class Drive:
    """What happened when a workload ran: for each op, the request's seq and the reply."""
    seqs: list[int] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # ops the adapter declined, and why

    @property
    def failed(self) -> str | None:
        for op_reply in self.replies:
            if op_reply.kind != "result" and op_reply.kind != "skipped":
                return f"{op_reply.kind}: {op_reply.message}"
            if op_reply.kind == "result" and op_reply.data.get("ok") is False:
                return f"{(op_reply.data.get('error') or {}).get('message', 'failed')}"
        return None


def drive(adapter: Adapter, workload: Workload, path: Path, *, test_id: str) -> Drive:
    """Send every op of ``workload`` for the memory at ``path``; stop at the first failure."""
    frame_ids: dict[str, int] = {}
    out = Drive()
    for op in workload.ops:
        kind = op["op"]
        params = {k: v for k, v in op.items() if k not in ("op", "ref")}
        if "ref" in op and kind in ("delete", "supersede"):
            params["frame_id"] = frame_ids.get(op["ref"])
        if kind in ("create", "open"):
            params["path"] = str(path)
        if kind == "put_many":
            params["docs"] = [{k: v for k, v in d.items() if k != "ref"} for d in op["docs"]]
        reply = adapter.request(kind, test_id=test_id, **params)
        out.seqs.append(adapter.last_seq)
        out.replies.append(reply)
        if reply.kind == "skipped":
            out.skipped.append(f"{kind}: {reply.message}")
            continue
        if out.failed:
            break
        if kind == "put":
            frame_ids[op["ref"]] = reply.data.get("frame_id")
        elif kind == "put_many":
            for d, fid in zip(op["docs"], reply.data.get("frame_ids") or []):
                frame_ids[d["ref"]] = fid
        elif kind == "supersede":
            frame_ids[op["ref"]] = reply.data.get("frame_id")
    return out
