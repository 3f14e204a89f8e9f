"""memvid's command-line tool's workload commands (HP/1 revision 2), so that crash exploration
can judge how the ``memvid`` binary writes.

The tool has no session: every change is one invocation of the binary on the memory file,
which opens it for writing, commits and exits. So an operation is acknowledged when the
adapter replies, after that process has exited (with status 0). The recorder, loaded with
``LD_PRELOAD``, follows it: the binary is dynamically linked against glibc and inherits the
adapter's environment.

* ``create``: ``memvid create --no-vector PATH`` (lexical index only, as the memvid-sdk
  adapter asks; the tool has no WAL size option, so ``wal_size`` is not followed).
* ``open``: nothing to run; the session only remembers the path (each later invocation opens
  the file for writing, memvid's recovery included).
* ``put``: ``memvid put`` with the text on stdin, ``--uri``, ``--title``, ``--timestamp`` and
  memvid's enrichments turned off. Its JSON report gives no frame id, so the id is the newest
  frame of the timeline with that URI.
* ``put_many``: ``memvid put-many`` with a JSON batch on stdin. memvid's batch has no
  timestamp member (memvid stamps the frames with the clock), and the frame ids it prints are
  not those of the frames, so they are looked up by URI as for ``put``.
* ``delete``: ``memvid delete --frame-id N --yes``.
* ``supersede``: ``memvid update --frame-id N --input /dev/stdin --timestamp T`` with the new
  text on stdin (without ``--input`` memvid keeps the old text); its report names the new
  frame.
* ``seal``: declined. The tool has no seal: every invocation commits before it exits.
* ``close``: ends the session; nothing to run.
* ``state``: the active documents of ``memvid timeline --json``; with ``recover`` first
  ``memvid doctor PATH`` (the tool's repair workflow, its only command that opens a memory for
  writing without adding to it). The text is the part of the preview before memvid's appended
  ``title:`` line, when the preview holds it whole.
"""

from __future__ import annotations

import json

_session: dict = {}
_run = None   # set by __main__: run the binary with arguments (and stdin), give (status, stdout, stderr)
_json = None  # set by __main__: the JSON value memvid printed


class Skip(Exception):
    pass


class Failed(Exception):
    pass


def _error(message: str) -> dict:
    return {"ok": False, "error": {"code": None, "offset": None, "message": message}}


def _guard(fn):
    def run(req: dict) -> dict:
        try:
            return fn(req)
        except Failed as exc:
            return _error(str(exc))
    return run


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _call(*args: str, stdin: str | None = None):
    rc, out, err = _run(*args, stdin=stdin)
    if rc != 0:
        raise Failed(f"memvid {args[0]} exited {rc}: {_last_line(err or out)}")
    try:
        return _json(out)
    except json.JSONDecodeError:
        return None


def _path() -> str:
    path = _session.get("path")
    if path is None:
        raise Failed("no write session: send create or open first")
    return path


def _timeline(path: str) -> list[dict]:
    entries = _call("timeline", "--json", "--limit", "1000000", path)
    if not isinstance(entries, list):
        raise Failed("memvid timeline printed no list")
    return entries


def _frame_of(path: str, uri: str) -> int:
    ids = [e["frame_id"] for e in _timeline(path) if e.get("uri") == uri]
    if not ids:
        raise Failed(f"memvid's timeline has no frame with URI {uri} after it said the put was done")
    return max(ids)


@_guard
def create(req: dict) -> dict:
    _call("create", "--no-vector", req["path"])
    _session["path"] = req["path"]
    return {"ok": True}


@_guard
def open_(req: dict) -> dict:
    _session["path"] = req["path"]
    return {"ok": True}


@_guard
def put(req: dict) -> dict:
    path = _path()
    args = ["put", path, "--json", "--no-auto-tag", "--no-extract-dates", "--no-extract-triplets", "--no-enrich"]
    for flag, key in (("--uri", "uri"), ("--title", "title"), ("--timestamp", "timestamp")):
        if req.get(key) is not None:
            args += [flag, str(req[key])]
    _call(*args, stdin=req["text"])
    return {"ok": True, "frame_id": _frame_of(path, req["uri"])}


@_guard
def put_many(req: dict) -> dict:
    path = _path()
    batch = [{"title": d.get("title") or "", "label": "doc", "text": d["text"], "uri": d.get("uri")} for d in req["docs"]]
    _call("put-many", path, "--json", stdin=json.dumps(batch))
    entries = _timeline(path)
    ids = []
    for d in req["docs"]:
        found = [e["frame_id"] for e in entries if e.get("uri") == d.get("uri")]
        if not found:
            raise Failed(f"memvid's timeline has no frame with URI {d.get('uri')} after put-many")
        ids.append(max(found))
    return {"ok": True, "frame_ids": ids}


@_guard
def delete(req: dict) -> dict:
    _call("delete", _path(), "--frame-id", str(req["frame_id"]), "--yes", "--json")
    return {"ok": True}


@_guard
def supersede(req: dict) -> dict:
    # Without --input, update keeps the frame's old payload and changes only its metadata.
    args = ["update", _path(), "--frame-id", str(req["frame_id"]), "--input", "/dev/stdin", "--json"]
    if req.get("timestamp") is not None:
        args += ["--timestamp", str(req["timestamp"])]
    report = _call(*args, stdin=req["text"])
    frame = report.get("frame") if isinstance(report, dict) else None
    if not isinstance(frame, dict) or not isinstance(frame.get("id"), int):
        raise Failed("memvid update printed no new frame")
    return {"ok": True, "frame_id": frame["id"]}


def seal(req: dict) -> dict:
    raise Skip("memvid's command-line tool has no seal: every invocation commits before it exits")


def close(req: dict) -> dict:
    _session.pop("path", None)
    return {"ok": True}


@_guard
def state(req: dict) -> dict:
    if req.get("recover"):
        _call("doctor", "--json", req["path"])
    docs = []
    for e in _timeline(req["path"]):
        text, sep, _ = (e.get("preview") or "").partition("\ntitle: ")
        docs.append({"uri": e.get("uri"), "text": text if sep else None})
    return {"ok": True, "documents": docs}


HANDLERS = {"create": create, "open": open_, "put": put, "put_many": put_many, "delete": delete,
            "supersede": supersede, "seal": seal, "close": close, "state": state}
