"""Template HP/1 adapter: copy this file, fill in the handlers for your implementation.

HP/1 in one paragraph (conformance/protocol/README.md has the whole of it): the runner starts
this program and writes one JSON request per line on its stdin; the program answers each with
exactly one JSON line on stdout, echoing ``seq``: ``{"seq": n, "result": {...}}``, or
``{"seq": n, "skipped": "why"}`` to decline, or ``{"seq": n, "errored": {"message": "..."}}``
when something unexpected broke. stdout carries nothing else; print diagnostics to stderr.

Declare in ``CAPABILITIES`` only what you implement; the runner skips the rest. Then::

    .venv/bin/mv2-conformance run --adapter "proc:python3 path/to/adapter.py"

Start with ``verify`` and ``dump``: they cover the gold and invalid families.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

IMPLEMENTATION = {"name": "my-mv2", "version": "0.0.1", "language": "python"}
CAPABILITIES = ["verify"]  # any of: verify, dump, write, recover, find, find-vec


def verify(req: dict) -> dict:
    """Check the file at req["path"] completely; never modify it.

    Valid:   {"ok": true, "warnings": [{"code": "MV2-W-...", "offset": n, "message": "..."}]}
    Invalid: {"ok": false, "error": {"code": "MV2-E-...", "offset": n or null, "message": "..."}}
    (the first error in the order of spec chapter 10.1)."""
    raise NotImplementedError


def dump(req: dict) -> dict:
    """Write the canonical dump (spec appendix A) of req["path"] to req["out"] as UTF-8 JSON;
    return {"ok": true}, or {"ok": false, "error": {...}} if the file cannot be read."""
    raise NotImplementedError


def write(req: dict) -> dict:
    """Create req["path"] (it does not exist) with a WAL of req["wal_size"] bytes and apply the
    operation script req["ops"] (spec 13.2); return {"ok": true}."""
    raise NotImplementedError


def recover(req: dict) -> dict:
    """Recover req["path"] in place after a crash, as opening it for writing does (spec 12.3);
    return {"ok": true}."""
    raise NotImplementedError


def find(req: dict) -> dict:
    """Search req["path"]. req["mode"] is "lex" (req["query"], req["snippet_chars"], and
    req["compat"] == "memvid" for memvid's pipeline, spec 14.1) or "vec" (req["vector"]).
    Return {"hits": [{"frame_id": n, ...}, ...]}, at most req["k"], best first."""
    raise NotImplementedError


HANDLERS = {"verify": verify, "dump": dump, "write": write, "recover": recover, "find": find}


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else that prints, native code included, goes to stderr
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        seq, cmd = req.get("seq"), req.get("cmd")
        if cmd == "stop":
            return
        if cmd == "hello":
            reply = {"seq": seq, "result": {"protocol": 1, "implementation": IMPLEMENTATION, "capabilities": CAPABILITIES}}
        elif cmd not in HANDLERS:
            reply = {"seq": seq, "skipped": f"command {cmd!r} is not supported"}
        else:
            try:
                reply = {"seq": seq, "result": HANDLERS[cmd](req)}
            except NotImplementedError:
                reply = {"seq": seq, "skipped": f"{cmd} is not implemented yet"}
            except Exception as exc:  # noqa: BLE001 - the runner fails the test and shows this
                reply = {"seq": seq, "errored": {"message": f"{type(exc).__name__}: {exc}",
                                                 "traceback": traceback.format_exc(limit=5)}}
        proto.write(json.dumps(reply) + "\n")
        proto.flush()


if __name__ == "__main__":
    main()
