"""HP/1 adapter for memvid's command-line tool (npm ``@memvid/cli-linux-x64``, binary ``memvid``).

Run it as ``python conformance/adapters/memvid_cli``, with the binary on ``PATH`` or named by
``MEMVID_CLI``. Install it with ``npm install --ignore-scripts @memvid/cli-linux-x64@2.0.160``
(the binary is ``node_modules/@memvid/cli-linux-x64/memvid``). Like the memvid-sdk adapter it
declares only what the tool can answer in HP/1 terms:

* ``verify``: ``memvid verify --deep --json``; a non-zero exit, or a report whose
  ``overall_status`` is not ``passed``, is an error with ``code`` and ``offset`` null (memvid
  has no MV2 codes).
* ``find``: ``memvid find --query Q --top-k K --snippet-chars N --json`` (lexical) and
  ``memvid vec-search --vector CSV --limit K --json`` (vectors).

No ``dump``, ``write`` or ``recover``, for the reasons the memvid-sdk adapter gives. Each call
runs the binary once; its stderr (warnings about embedding models it cannot download) is
ignored unless the call fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # mv2_conformance.serve from a checkout

from mv2_conformance.serve import serve  # noqa: E402

BINARY = os.environ.get("MEMVID_CLI") or shutil.which("memvid") or "memvid"
TIMEOUT = 120


def _run(*args: str) -> tuple[int, str, str]:
    env = dict(os.environ, MEMVID_TELEMETRY="0")
    try:
        p = subprocess.run([BINARY, *args], capture_output=True, text=True, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return 124, "", f"memvid {args[0]} did not finish in {TIMEOUT} s"
    return p.returncode, p.stdout, p.stderr


def _error(message: str) -> dict:
    return {"ok": False, "error": {"code": None, "offset": None, "message": message}}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _json(stdout: str):
    starts = [i for i in (stdout.find("{"), stdout.find("[")) if i >= 0]
    return json.loads(stdout[min(starts):]) if starts else None


def verify(req: dict) -> dict:
    rc, out, err = _run("verify", "--deep", "--json", req["path"])
    try:
        report = _json(out)
    except json.JSONDecodeError:
        report = None
    if rc != 0 or not isinstance(report, dict):
        return _error(f"memvid verify exited {rc}: {_last_line(err or out)}")
    if report.get("overall_status") == "passed":  # memvid's verdict, as the memvid-sdk adapter takes it
        return {"ok": True, "warnings": []}
    failed = [c.get("name") for c in report.get("checks", []) if c.get("status") != "passed"]
    return _error(f"memvid verify says {report.get('overall_status')}: {failed}")


def find(req: dict) -> dict:
    if req.get("mode", "lex") == "vec":
        args = ["vec-search", "--vector", ",".join(repr(float(x)) for x in req["vector"]), "--limit", str(req["k"]),
                "--json", req["path"]]
    else:
        args = ["find", "--query", req["query"], "--top-k", str(req["k"]), "--snippet-chars",
                str(req.get("snippet_chars", 480)), "--json", req["path"]]
    rc, out, err = _run(*args)
    try:
        res = _json(out)
    except json.JSONDecodeError:
        res = None
    if rc != 0 or not isinstance(res, (dict, list)):
        return _error(f"memvid {args[0]} exited {rc}: {_last_line(err or out)}")
    hits = res if isinstance(res, list) else res.get("hits", [])  # vec-search prints a bare list
    return {"hits": [{"frame_id": h.get("frame_id"), "uri": h.get("uri"), "score": h.get("score", h.get("distance"))}
                     for h in hits]}


def _version() -> str:
    rc, out, _ = _run("--version")
    return out.split()[-1] if rc == 0 and out.split() else "unknown"


HELLO = {
    "protocol": 1,
    "implementation": {"name": "memvid-cli", "version": _version(), "language": "rust"},
    "capabilities": ["verify", "find", "find-vec"],
}

if __name__ == "__main__":
    serve(HELLO, {"verify": verify, "find": find})
