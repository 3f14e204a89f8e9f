"""HP/1 adapter for the reference implementation (the ``mv2`` package).

Run it as ``python conformance/adapters/reference`` or, from the repository root,
``python -m conformance.adapters.reference``. It declares every capability.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

# The HP/1 loop lives in the runner package next door; this makes it importable from a plain
# checkout, without installing anything.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import mv2  # noqa: E402
from mv2 import script  # noqa: E402
from mv2.errors import MV2Error  # noqa: E402
from mv2_conformance.serve import serve  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hp1_workload  # noqa: E402


def _error(code, offset, message) -> dict:
    return {"ok": False, "error": {"code": code, "offset": offset, "message": message}}


def _raised(exc: MV2Error) -> dict:
    return _error(exc.code, exc.offset, exc.message)


def verify(req: dict) -> dict:
    try:
        a = mv2.verify(req["path"])
    except MV2Error as exc:  # a file too broken to analyse raises instead of returning findings
        return _raised(exc)
    if a.ok:
        return {"ok": True, "warnings": [w.to_json() for w in a.warnings]}
    e = a.first_error
    return _error(e.code, e.offset, e.message)


def dump(req: dict) -> dict:
    try:
        with mv2.open(req["path"]) as m:
            text = m.dump_json()
    except MV2Error as exc:
        return _raised(exc)
    Path(req["out"]).write_text(text, encoding="utf-8")
    return {"ok": True}


def write(req: dict) -> dict:
    try:
        script.run_file(req["ops"], req["path"], wal_size=req.get("wal_size"), policy=req.get("policy"))
    except MV2Error as exc:
        return _raised(exc)
    return {"ok": True}


def recover(req: dict) -> dict:
    try:
        with mv2.open(req["path"], "a"):
            pass  # opening for writing recovers; closing commits nothing new
    except MV2Error as exc:
        return _raised(exc)
    return {"ok": True}


def find(req: dict) -> dict:
    try:
        with mv2.open(req["path"]) as m:
            if req.get("mode", "lex") == "vec":
                # Conformance asks for the true nearest vectors, so no approximate index.
                hits = m.find_vector(req["vector"], k=req["k"], exact=True)
            else:
                hits = m.find(req["query"], k=req["k"], snippet_chars=req.get("snippet_chars", 480),
                              prefilter=req.get("compat") == "memvid")
    except MV2Error as exc:
        return _raised(exc)
    return {"hits": [{"frame_id": h["frame_id"], "uri": h["uri"], "score": float(h["score"])} for h in hits]}


HELLO = {
    "protocol": 1,
    "implementation": {"name": "mv2-reference", "version": metadata.version("mv2"), "language": "python"},
    "capabilities": ["verify", "dump", "write", "recover", "find", "find-vec", "workload", "regions"],
}

if __name__ == "__main__":
    serve(HELLO, {"verify": verify, "dump": dump, "write": write, "recover": recover, "find": find,
                  **hp1_workload.HANDLERS})
