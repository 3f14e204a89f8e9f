"""Operation scripts: JSON Lines describing writes (spec: "Operation scripts").

One JSON object per line::

    {"op":"put","uri":"mv2://a","title":"A","text":"hello","timestamp":1700000000,"tags":["x"]}
    {"op":"put","bytes_b64":"AAEC","timestamp":1700000001}
    {"op":"supersede","frame_id":0,"text":"hello again","timestamp":1700000002}
    {"op":"delete","frame_id":1}
    {"op":"seal"}

A script is checked completely before anything is written: syntax, field types, and whether
each ``frame_id`` names an existing, active frame at that point of the script. An invalid
script therefore leaves the file as it was. Consecutive ``put`` operations are written as one
batch (one WAL write, one sync); that grouping is part of the format of a script, so the
same script always produces the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

PUT_FIELDS = {"uri", "title", "timestamp", "tags", "labels", "metadata", "kind", "track", "embedding"}
CONTENT_FIELDS = {"text", "bytes_b64"}
OPS = {"put", "supersede", "delete", "seal"}


@dataclass
class Op:
    line: int
    op: str
    args: dict


def _err(line: int, msg: str) -> UsageError:
    return UsageError(f"line {line}: {msg}")


def parse(text: str) -> list[Op]:
    ops = []
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _err(n, f"not JSON: {exc.msg}") from None
        if not isinstance(obj, dict) or obj.get("op") not in OPS:
            raise _err(n, f"each line must be an object whose 'op' is one of {sorted(OPS)}")
        op = obj.pop("op")
        allowed = {"put": PUT_FIELDS | CONTENT_FIELDS, "supersede": PUT_FIELDS | CONTENT_FIELDS | {"frame_id"},
                   "delete": {"frame_id", "timestamp"}, "seal": set()}[op]
        unknown = set(obj) - allowed
        if unknown:
            raise _err(n, f"unknown fields for {op}: {sorted(unknown)}")
        if "text" in obj and "bytes_b64" in obj:
            raise _err(n, "give text or bytes_b64, not both")
        if op == "put" and not (set(obj) & CONTENT_FIELDS):
            raise _err(n, "put needs text or bytes_b64")
        if "text" in obj:
            if not isinstance(obj["text"], str):
                raise _err(n, "text must be a string")
            try:
                obj["text"].encode("utf-8")
            except UnicodeEncodeError:
                raise _err(n, "text is not valid Unicode (a lone surrogate escape)") from None
        if "bytes_b64" in obj:
            try:
                obj["content"] = base64.b64decode(obj.pop("bytes_b64"), validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise _err(n, "bytes_b64 is not valid base64") from None
        if "text" in obj:
            obj["content"] = obj.pop("text")
        if op in ("supersede", "delete"):
            fid = obj.get("frame_id")
            if isinstance(fid, bool) or not isinstance(fid, int):
                raise _err(n, "frame_id must be an integer")
        ops.append(Op(n, op, obj))
    return ops


def check(ops: list[Op], statuses: list[str]) -> None:
    """Simulate ids and statuses through the script; reject references to missing or inactive frames."""
    st = list(statuses)
    for o in ops:
        if o.op == "put":
            st.append("active")
        elif o.op in ("supersede", "delete"):
            fid = o.args["frame_id"]
            if not 0 <= fid < len(st):
                raise _err(o.line, f"frame {fid} does not exist at this point of the script")
            if st[fid] != "active":
                raise _err(o.line, f"frame {fid} is {st[fid]} at this point of the script")
            st[fid] = "superseded" if o.op == "supersede" else "deleted"
            if o.op == "supersede":
                st.append("active")


def apply(mem, ops: list[Op]) -> list[int]:
    """Apply ``ops`` to an open writable memory; return the ids of the frames they create."""
    check(ops, [f["status"] for f in mem.frames()])
    precheck_values(ops)
    ids: list[int] = []
    batch: list[dict] = []

    def flush():
        if batch:
            ids.extend(mem.put_many(batch))
            batch.clear()

    for o in ops:
        try:
            if o.op == "put":
                batch.append(dict(o.args))
                continue
            flush()
            if o.op == "supersede":
                args = dict(o.args)
                fid = args.pop("frame_id")
                content = args.pop("content", None)
                ids.append(mem.supersede(fid, content, **args))
            elif o.op == "delete":
                mem.delete(o.args["frame_id"], timestamp=o.args.get("timestamp"))
            elif o.op == "seal":
                mem.seal()
        except UsageError as exc:
            raise _err(o.line, exc.message) from None
    try:
        flush()
    except UsageError as exc:
        raise UsageError(f"in the final batch of puts: {exc.message}", code=exc.code) from None
    return ids


def precheck_values(ops: list[Op]) -> None:
    """Run every put's and supersede's field validation without writing (types, limits, timestamps)."""
    from .entries import make_put

    for o in ops:
        if o.op not in ("put", "supersede"):
            continue
        args = {k: v for k, v in o.args.items() if k in PUT_FIELDS}
        if o.op == "supersede" and args.get("timestamp") is None:
            args["timestamp"] = 0  # inherited from the superseded frame; only the other fields are checked here
        try:
            make_put(0, o.args.get("content"), **args)
        except UsageError as exc:
            raise _err(o.line, exc.message) from None


def run_file(script: str | Path, target: str | Path, *, wal_size: int | None = None, policy: dict | None = None) -> list[int]:
    """``mv2 apply``: apply a script to ``target``, creating it if it does not exist.

    ``policy`` holds writer parameters that change bytes (``wal_grow_limit``,
    ``compact_min_dead``; spec 4.4 and 12.6)."""
    try:
        text = Path(script).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{script} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"cannot read {script}: {exc.strerror}") from None
    return run_text(text, target, wal_size=wal_size, policy=policy)


def run_text(text: str, target: str | Path, *, wal_size: int | None = None, policy: dict | None = None) -> list[int]:
    """:func:`run_file` for a script already read (``mv2 apply -`` reads standard input)."""
    import os

    from .memory import DEFAULT_WAL_SIZE, create, open as open_memory

    ops = parse(text)
    precheck_values(ops)
    policy = dict(policy or {})
    unknown = set(policy) - {"wal_grow_limit", "compact_min_dead"}
    if unknown:
        raise UsageError(f"unknown writer policy parameters: {sorted(unknown)}")
    if os.path.exists(target):
        mem = open_memory(target, "a", **policy)
    else:
        check(ops, [])
        mem = create(target, wal_size=wal_size or DEFAULT_WAL_SIZE, **policy)
    with mem:
        return apply(mem, ops)
