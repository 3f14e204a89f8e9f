"""HP/1 adapter for memvid-sdk (the Python package of memvid).

Run it as ``python conformance/adapters/memvid_sdk``. It declares only what memvid-sdk can
answer in HP/1 terms:

* ``verify``: memvid's ``verify(deep=True)``, or the exception its open raises. memvid has
  no MV2 error codes or offsets, so an error is reported with ``code`` and ``offset`` null
  and the runner's code check fails; the ``detect`` check still shows whether memvid noticed
  the damage at all.
* ``find`` and ``find-vec``: memvid's own ``find`` (lexical, and ``sem`` with a query vector).

It declares no ``dump``: memvid lists only active documents (``timeline``) and looks frames
up only by URI, so it cannot enumerate superseded or deleted frames, nor give the members of
the canonical dump. Nor ``write``: memvid's writer adds tags, labels and metadata of its own
and has no supersede-by-id, so an operation script cannot be followed faithfully. Nor
``recover``: without a dump its result could not be judged.

``workload`` (``hp1_workload.py``): memvid-sdk's own write calls one at a time, and ``state``,
the active documents of its timeline, so that crash exploration can judge its writer.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

os.environ["MEMVID_TELEMETRY"] = "0"  # set before the import: memvid reads it when it loads
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # mv2_conformance.serve from a checkout

import memvid_sdk  # noqa: E402
from mv2_conformance.serve import Skip, serve  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hp1_workload  # noqa: E402

hp1_workload.Skip = Skip  # declined commands are reported as skipped


def _open(path: str):
    return memvid_sdk.use("basic", path, mode="open", read_only=True)


def _error(message: str) -> dict:
    return {"ok": False, "error": {"code": None, "offset": None, "message": message}}


def verify(req: dict) -> dict:
    try:
        m = _open(req["path"])
        try:
            report = m.verify(deep=True)
        finally:
            m.close()
    except Exception as exc:  # noqa: BLE001 - memvid signals a bad file by raising; that is its verdict
        return _error(f"{type(exc).__name__}: {exc}")
    if report.get("overall_status") == "passed":
        return {"ok": True, "warnings": []}
    failed = [c.get("name") for c in report.get("checks", []) if c.get("status") != "passed"]
    return _error(f"verify(deep=True) says {report.get('overall_status')}: {failed}")


def find(req: dict) -> dict:
    try:
        m = _open(req["path"])
        try:
            if req.get("mode", "lex") == "vec":
                res = m.find("", k=req["k"], mode="sem", query_embedding=req["vector"])
            else:
                res = m.find(req["query"], k=req["k"], snippet_chars=req.get("snippet_chars", 480), mode="lex")
        finally:
            m.close()
    except Exception as exc:  # noqa: BLE001 - a file memvid cannot open: the find check fails with this
        return _error(f"{type(exc).__name__}: {exc}")
    return {"hits": [{"frame_id": h["frame_id"], "uri": h.get("uri"), "score": h.get("score")} for h in res["hits"]]}


HELLO = {
    "protocol": 1,
    "implementation": {"name": "memvid-sdk", "version": metadata.version("memvid-sdk"), "language": "python+rust"},
    "capabilities": ["verify", "find", "find-vec", "workload"],
}

if __name__ == "__main__":
    serve(HELLO, {"verify": verify, "find": find, **hp1_workload.HANDLERS})
