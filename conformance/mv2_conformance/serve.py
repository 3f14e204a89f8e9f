"""The adapter side of HP/1 for Python adapters: read requests, call handlers, write replies.

A handler takes the request object and returns the result object. It raises :class:`Skip`
to decline a request; any other exception becomes an ``errored`` reply, which always fails
the test. The protocol stream gets a private copy of file descriptor 1, and descriptor 1
itself is pointed at stderr, so that whatever the implementation prints (native libraries
included) cannot corrupt the replies.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Callable


class Skip(Exception):
    """Decline this request; the message says why (reported as ``skipped``)."""


def serve(hello: dict, handlers: dict[str, Callable[[dict], dict]]) -> None:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except json.JSONDecodeError as exc:
            _send(proto, {"seq": None, "errored": {"message": f"request is not JSON: {exc}"}})
            continue
        seq, cmd = req.get("seq"), req.get("cmd")
        if cmd == "stop":
            break
        if cmd == "hello":
            _send(proto, {"seq": seq, "result": hello})
            continue
        handler = handlers.get(cmd)
        if handler is None:
            _send(proto, {"seq": seq, "skipped": f"command {cmd!r} is not supported"})
            continue
        try:
            reply = {"seq": seq, "result": handler(req)}
        except Skip as exc:
            reply = {"seq": seq, "skipped": str(exc)}
        except Exception as exc:  # noqa: BLE001 - reported to the runner, which fails the test
            reply = {"seq": seq, "errored": {"message": f"{type(exc).__name__}: {exc}",
                                             "traceback": traceback.format_exc(limit=5)}}
        _send(proto, reply)


def _send(proto, msg: dict) -> None:
    proto.write(json.dumps(msg, ensure_ascii=False) + "\n")
    proto.flush()
