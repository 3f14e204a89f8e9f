"""Misbehaving HP/1 adapters for the runner's self-tests: ``fake_adapter.py MODE [TARGET]``.

Apart from its fault, each fake answers honestly by calling the reference adapter's
handlers, so a test can show that the fault is caught where it happens and that the run goes
on afterwards. The fault applies to requests whose test id contains TARGET (all if absent):

* ``lie``: ok to everything, an empty dump, an empty file for ``write``, no hits;
* ``crash``: exits without answering; ``hang``: never answers;
* ``sidecar``: leaves ``<file>.lock`` beside the memory file;
* ``modify``: changes a byte of the file during ``verify``;
* ``garbage``: answers with a line that is not JSON;
* ``badhello``: claims protocol 2 in the handshake.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

CONFORMANCE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(CONFORMANCE))

from mv2_conformance.serve import serve  # noqa: E402


def _reference():
    spec = importlib.util.spec_from_file_location("reference_adapter", CONFORMANCE / "adapters" / "reference" / "__main__.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def lie(req: dict) -> dict:
    cmd = req["cmd"]
    if cmd == "dump":
        Path(req["out"]).write_text('{"dump_version":1,"frames":[]}\n', encoding="utf-8")
    elif cmd == "write":
        Path(req["path"]).write_bytes(b"")
    elif cmd == "find":
        return {"hits": []}
    return {"ok": True}


def main() -> None:
    mode = sys.argv[1]
    target = sys.argv[2] if len(sys.argv) > 2 else ""
    ref = _reference()
    honest = {"verify": ref.verify, "dump": ref.dump, "write": ref.write, "recover": ref.recover, "find": ref.find}
    # Only the read and whole-file commands: the crash families have fake_writer.py.
    caps = [c for c in ref.HELLO["capabilities"] if c in honest]
    hello = dict(ref.HELLO, implementation={"name": f"fake-{mode}", "version": "0"}, capabilities=caps)
    if mode == "badhello":
        hello["protocol"] = 2
    if mode == "notantivy":  # an honest implementation without a full-text index (spec 9.1)
        hello["capabilities"] = [c for c in hello["capabilities"] if c != "find"]

    def handler(cmd):
        def handle(req: dict) -> dict:
            if target not in (req.get("id") or ""):
                return honest[cmd](req)
            if mode == "lie":
                return lie(req)
            if mode == "crash":
                os._exit(3)
            if mode == "hang":
                time.sleep(3600)
            if mode == "garbage":
                os.write(proto_fd, b"this is not json\n")
                return {"ok": True}  # a second line, for a request that was never asked
            if mode == "sidecar":
                Path(req["path"] + ".lock").write_bytes(b"")
            if mode == "modify" and cmd == "verify":
                with open(req["path"], "r+b") as f:
                    f.seek(100)
                    f.write(b"\x01")
            return honest[cmd](req)
        return handle

    # serve() writes replies to os.dup(1), which takes the lowest free descriptor: this one.
    proto_fd = os.dup(1)
    os.close(proto_fd)
    serve(hello, {cmd: handler(cmd) for cmd in honest})


if __name__ == "__main__":
    main()
