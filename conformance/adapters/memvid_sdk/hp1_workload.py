"""memvid-sdk's workload commands (HP/1 revision 2), so that crash exploration can judge how
memvid-sdk writes.

``create``/``open`` start a read-write session (``use("basic", ..., mode="create"|"open")``);
``put`` and ``put_many`` call memvid's own (``put_many`` returns no frame ids, so they are
looked up by URI afterwards); ``delete`` is memvid's ``remove``; ``seal`` and ``close`` are
memvid's. ``supersede`` is declined: memvid-sdk has no supersede by frame id. ``state`` lists
the active documents of memvid's ``timeline``, after a read-write open (memvid's recovery)
when ``recover`` is true; the text is the part of the preview before memvid's appended
``title:`` line, when the preview holds it whole.
"""

from __future__ import annotations

import memvid_sdk

_session: dict = {}


class Skip(Exception):
    pass


def _error(message: str) -> dict:
    return {"ok": False, "error": {"code": None, "offset": None, "message": message}}


def _guard(fn):
    def run(req: dict) -> dict:
        try:
            return fn(req)
        except Exception as exc:  # noqa: BLE001 - memvid signals every failure by raising
            return _error(f"{type(exc).__name__}: {exc}")
    return run


def _start(m) -> dict:
    old = _session.pop("mem", None)
    if old is not None:
        old.close()
    _session["mem"] = m
    return {"ok": True}


def _mem():
    m = _session.get("mem")
    if m is None:
        raise RuntimeError("no write session: send create or open first")
    return m


@_guard
def create(req: dict) -> dict:
    return _start(memvid_sdk.use("basic", req["path"], mode="create", enable_lex=True, enable_vec=False))


@_guard
def open_(req: dict) -> dict:
    return _start(memvid_sdk.use("basic", req["path"], mode="open"))


def _put_args(d: dict) -> dict:
    return dict(title=d.get("title") or "", label="doc", text=d["text"], uri=d.get("uri"), timestamp=d.get("timestamp"),
                auto_tag=False, extract_dates=False, enable_embedding=False)


@_guard
def put(req: dict) -> dict:
    return {"ok": True, "frame_id": int(_mem().put(**_put_args(req)))}


@_guard
def put_many(req: dict) -> dict:
    m = _mem()
    m.put_many([{"title": d.get("title") or "", "label": "doc", "text": d["text"], "uri": d.get("uri"),
                 "timestamp": d.get("timestamp")} for d in req["docs"]])
    return {"ok": True, "frame_ids": [int(m.frame(d["uri"])["id"]) for d in req["docs"]]}


@_guard
def delete(req: dict) -> dict:
    _mem().remove(req["frame_id"])
    return {"ok": True}


def supersede(req: dict) -> dict:
    raise Skip("memvid-sdk has no supersede by frame id")


@_guard
def seal(req: dict) -> dict:
    _mem().seal()
    return {"ok": True}


@_guard
def close(req: dict) -> dict:
    m = _session.pop("mem", None)
    if m is not None:
        m.close()
    return {"ok": True}


@_guard
def state(req: dict) -> dict:
    if req.get("recover"):
        memvid_sdk.use("basic", req["path"], mode="open").close()  # a read-write open replays the WAL
    m = memvid_sdk.use("basic", req["path"], mode="open", read_only=True)
    try:
        docs = []
        for e in m.timeline(limit=1_000_000):
            preview = e.get("preview") or ""
            text, sep, _ = preview.partition("\ntitle: ")
            docs.append({"uri": e.get("uri"), "text": text if sep else None})
    finally:
        m.close()
    return {"ok": True, "documents": docs}


HANDLERS = {"create": create, "open": open_, "put": put, "put_many": put_many, "delete": delete,
            "supersede": supersede, "seal": seal, "close": close, "state": state}
