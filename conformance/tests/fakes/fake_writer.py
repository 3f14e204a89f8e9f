"""A toy implementation of the HP/1 workload commands, for the crash families' self-tests:
``fake_writer.py MODE``.

It keeps a "memory" as a log of JSON lines, one per operation: reading stops at the first
line that is not whole JSON (a torn write), and recovery cuts the file there. Modes:

* ``synced``: each line is synced before the reply, and the create is synced with its
  directory: every check passes;
* ``nosync``: never syncs: a power loss loses acknowledged operations;
* ``torn``: writes a batch as one line per document, synced once: a crash between them shows
  half a batch;
* ``stray``: keeps a ``<file>.journal`` beside the memory that recovery does not remove;
* ``random``: each line carries random bytes, so two runs differ.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mv2_conformance.serve import serve  # noqa: E402

MODE = sys.argv[1]
session: dict = {}


def _append(docs: list[dict] | None = None, **line) -> None:
    lines = [{"op": "put", "docs": [d]} for d in docs] if MODE == "torn" and docs else [dict(line, docs=docs or [])]
    if MODE == "random":
        lines = [dict(x, noise=os.urandom(8).hex()) for x in lines]
    for x in lines:
        os.write(session["fd"], (json.dumps(x) + "\n").encode())
    if MODE != "nosync":
        os.fsync(session["fd"])
    session["next"] += len(docs or [])


def _replay(path: str) -> tuple[dict, int]:
    data = Path(path).read_bytes()
    docs, ids, good = {}, [], 0
    for raw in data.splitlines(keepends=True):
        try:
            line = json.loads(raw)
        except ValueError:
            break
        if not raw.endswith(b"\n") or not isinstance(line, dict):
            break
        good += len(raw)
        for d in line.get("docs", []):
            ids.append(d["uri"])
            docs[d["uri"]] = d["text"]
        if line.get("op") == "delete":
            docs.pop(ids[line["frame_id"]], None)
    return docs, good


def create(req):
    fd = os.open(req["path"], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b'{"op": "header"}\n')
    if MODE == "stray":
        Path(req["path"] + ".journal").write_bytes(b"journal\n")
    if MODE != "nosync":
        os.fsync(fd)
        d = os.open(os.path.dirname(req["path"]), os.O_RDONLY)
        os.fsync(d)
        os.close(d)
    session.update(fd=fd, next=0)
    return {"ok": True}


def put(req):
    fid = session["next"]
    _append([{"uri": req["uri"], "text": req["text"]}], op="put")
    return {"ok": True, "frame_id": fid}


def put_many(req):
    first = session["next"]
    _append([{"uri": d["uri"], "text": d["text"]} for d in req["docs"]], op="put")
    return {"ok": True, "frame_ids": list(range(first, first + len(req["docs"])))}


def delete(req):
    _append(op="delete", frame_id=req["frame_id"])
    return {"ok": True}


def nothing(req):
    return {"ok": True}


def close(req):
    if "fd" in session:
        os.close(session.pop("fd"))
    return {"ok": True}


def state(req):
    try:
        docs, good = _replay(req["path"])
    except (OSError, ValueError, KeyError, IndexError) as exc:
        return {"ok": False, "error": {"code": None, "offset": None, "message": str(exc)}}
    if req.get("recover"):
        with open(req["path"], "r+b") as f:
            f.truncate(good)
    return {"ok": True, "documents": [{"uri": u, "text": t} for u, t in docs.items()]}


HELLO = {"protocol": 1, "implementation": {"name": f"fake-writer-{MODE}", "version": "0"}, "capabilities": ["workload"]}

if __name__ == "__main__":
    serve(HELLO, {"create": create, "put": put, "put_many": put_many, "delete": delete, "seal": nothing,
                  "close": close, "state": state})
