"""The reference adapter's workload commands (HP/1 revision 2): one write session at a time.

``create``/``open`` start the session; ``put``, ``put_many``, ``delete``, ``supersede`` and
``seal`` act on it and answer once the reference says the change is durable (every write is
synced before its call returns); ``close`` ends it. ``state`` lists the active documents a read-only open sees (after
recovering the file first when asked to),
and ``regions`` is the region map of ``mv2 inspect``.
"""

from __future__ import annotations

import mv2
from mv2.errors import MV2Error
from mv2.storage.verify import analyze

_session: dict = {}


def _error(message: str, code=None, offset=None) -> dict:
    return {"ok": False, "error": {"code": code, "offset": offset, "message": message}}


def _guard(fn):
    def run(req: dict) -> dict:
        try:
            return fn(req)
        except MV2Error as exc:
            return _error(exc.message, exc.code, exc.offset)
    return run


def _needs_session(fn):
    def run(req: dict) -> dict:
        if _session.get("mem") is None:
            return _error("no write session: send create or open first")
        return fn(req, _session["mem"])
    return _guard(run)


def _start(mem) -> dict:
    old = _session.pop("mem", None)
    if old is not None:
        old.close()
    _session["mem"] = mem
    return {"ok": True}


@_guard
def create(req: dict) -> dict:
    kw = {"wal_size": req["wal_size"]} if req.get("wal_size") else {}
    return _start(mv2.create(req["path"], **kw))


@_guard
def open_(req: dict) -> dict:
    return _start(mv2.open(req["path"], "a"))


@_needs_session
def put(req: dict, mem) -> dict:
    return {"ok": True, "frame_id": mem.put(req["text"], uri=req.get("uri"), title=req.get("title"),
                                            timestamp=req.get("timestamp"))}


@_needs_session
def put_many(req: dict, mem) -> dict:
    items = [dict(content=d["text"], uri=d.get("uri"), title=d.get("title"), timestamp=d.get("timestamp"))
             for d in req["docs"]]
    return {"ok": True, "frame_ids": mem.put_many(items)}


@_needs_session
def delete(req: dict, mem) -> dict:
    mem.delete(req["frame_id"], timestamp=req.get("timestamp"))
    return {"ok": True}


@_needs_session
def supersede(req: dict, mem) -> dict:
    fields = {"timestamp": req["timestamp"]} if req.get("timestamp") is not None else {}
    return {"ok": True, "frame_id": mem.supersede(req["frame_id"], req["text"], **fields)}


@_needs_session
def seal(req: dict, mem) -> dict:
    mem.seal()
    return {"ok": True}


@_guard
def close(req: dict) -> dict:
    mem = _session.pop("mem", None)
    if mem is not None:
        mem.close()
    return {"ok": True}


@_guard
def state(req: dict) -> dict:
    if req.get("recover"):
        with mv2.open(req["path"], "a"):
            pass  # opening for writing recovers; closing commits nothing new
    with mv2.open(req["path"]) as m:
        docs = []
        for f in m.frames():
            if f["status"] == "active":
                payload = m.blob(f["id"])
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                docs.append({"uri": f["uri"], "text": text})
    return {"ok": True, "documents": docs}


@_guard
def regions(req: dict) -> dict:
    a = analyze(req["path"])
    return {"ok": True, "regions": [{"name": r.name, "offset": r.offset, "length": r.length} for r in a.regions]}


HANDLERS = {"create": create, "open": open_, "put": put, "put_many": put_many, "delete": delete,
            "supersede": supersede, "seal": seal, "close": close, "state": state, "regions": regions}
