"""HP/1 client: runs an adapter process and exchanges one JSON line per request and reply.

The adapter is a long-lived child. Each request carries a ``seq`` that the reply echoes. A
request that gets no reply within its deadline, or whose adapter exits, is answered here
with a ``timeout`` or ``crashed`` reply, and the adapter is started again (and greeted
again) so that one bad vector does not end the run.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from . import PROTOCOL_REVISION, PROTOCOL_VERSION, SUITE_VERSION

KNOWN_CAPABILITIES = ("verify", "dump", "write", "recover", "find", "find-vec", "workload", "regions")
# Revision 2 of HP/1 added the workload commands (a write session driven one operation at a
# time, and ``state``, what a reader sees) and ``regions``; an adapter of revision 1 simply
# does not declare their capabilities.
WORKLOAD_COMMANDS = ("create", "open", "put", "put_many", "delete", "supersede", "seal", "close", "state")
COMMANDS = ("hello", "verify", "dump", "write", "recover", "find", "stop", *WORKLOAD_COMMANDS, "regions")
STDERR_KEEP = 200  # lines of the adapter's stderr kept to explain a crash


class AdapterError(Exception):
    """The adapter cannot be used at all (bad connector, failed handshake)."""


@dataclass
class Reply:
    """What became of one request.

    ``kind``: ``result`` (``data`` holds the result object), ``skipped`` (the adapter declined,
    ``message`` says why), ``errored`` (the adapter reported an unexpected failure),
    ``crashed``, ``timeout``, ``protocol`` (the reply was not valid HP/1), or ``violation``
    (set by the session: the command broke the single-file or read-only rule)."""

    kind: str
    data: dict = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "result"


def parse_connector(spec: str) -> list[str]:
    """``proc:<command line>`` → argv. Only ``proc:`` exists: every adapter is a process."""
    if not spec.startswith("proc:"):
        raise AdapterError(f"unknown connector {spec!r}: use proc:<command line>")
    argv = shlex.split(spec[len("proc:"):])
    if not argv:
        raise AdapterError("proc: needs a command line")
    return argv


class Adapter:
    """One adapter process, restarted on demand. Use as a context manager."""

    def __init__(self, argv: list[str], *, timeout: float = 60.0, hello_timeout: float = 60.0,
                 env: dict[str, str] | None = None):
        self.argv = argv
        self.env = env  # the adapter's environment (None: the runner's own)
        self.timeout = timeout
        self.hello_timeout = hello_timeout
        self.info: dict = {}
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_KEEP)
        self._seq = 0
        self.last_seq = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> dict:
        """Spawn the adapter and run the handshake; return the ``hello`` result."""
        try:
            # A new session gives the adapter its own process group, so that a timeout kills
            # whatever it spawned too, and nothing else.
            self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, start_new_session=True, env=self.env)
        except OSError as exc:
            raise AdapterError(f"cannot start adapter {self.argv[0]!r}: {exc}") from None
        self._lines = queue.Queue()
        threading.Thread(target=self._pump_stdout, args=(self._proc, self._lines), daemon=True).start()
        threading.Thread(target=self._pump_stderr, args=(self._proc,), daemon=True).start()
        reply = self._exchange({"cmd": "hello", "protocol": PROTOCOL_VERSION, "revision": PROTOCOL_REVISION,
                                 "suite": SUITE_VERSION}, self.hello_timeout)
        if not reply.ok:
            self._kill()
            raise AdapterError(f"handshake failed ({reply.kind}): {reply.message}")
        try:
            self.info = check_hello(reply.data)
        except AdapterError:
            self._kill()
            raise
        return self.info

    def close(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                self._send({"cmd": "stop", "seq": self._next_seq()})
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                pass
        self._kill()

    def __enter__(self) -> "Adapter":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def capabilities(self) -> set[str]:
        return set(self.info.get("capabilities", ()))

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    # -- requests -------------------------------------------------------------------------------
    def request(self, cmd: str, *, test_id: str | None = None, **params) -> Reply:
        """Send one command; on a crash, timeout or protocol error restart the adapter."""
        if cmd not in COMMANDS:
            raise ValueError(f"not an HP/1 command: {cmd!r}")  # keeps the runner within the documented protocol
        if self._proc is None or self._proc.poll() is not None:
            self._restart()
        self._stderr.clear()  # what the adapter says about this request only
        reply = self._exchange({"cmd": cmd, "id": test_id, **params}, self.timeout)
        if reply.kind in ("crashed", "timeout", "protocol"):
            self._restart()
        return reply

    def _restart(self) -> None:
        self._kill()
        self.restarts += 1
        self.start()

    def _exchange(self, msg: dict, timeout: float) -> Reply:
        seq = self._next_seq()
        if msg["cmd"] != "hello":
            self.last_seq = seq  # what a reply in a system-call trace is matched with
        msg = {"seq": seq, **msg}
        try:
            self._send(msg)
        except (OSError, ValueError):
            return self._crashed("the adapter closed its stdin")
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Reply("timeout", message=f"no reply to {msg['cmd']!r} within {timeout:g} s")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                return self._crashed(f"the adapter exited during {msg['cmd']!r}")
            return parse_reply(line, seq)

    def _crashed(self, what: str) -> Reply:
        try:
            code = self._proc.wait(timeout=5) if self._proc is not None else None
        except subprocess.TimeoutExpired:
            code = None  # it closed stdout but lives on; the restart kills it
        time.sleep(0.05)  # let the stderr pump catch the last lines
        tail = self.stderr_tail()
        return Reply("crashed", message=f"{what} (exit status {code})" + (f"; stderr: {tail}" if tail else ""))

    def _send(self, msg: dict) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(msg, ensure_ascii=False) + "\n").encode("utf-8"))
        self._proc.stdin.flush()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _kill(self) -> None:
        p, self._proc = self._proc, None
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                p.kill()
        p.wait()
        for stream in (p.stdin, p.stdout, p.stderr):
            try:
                stream.close()
            except OSError:
                pass

    @staticmethod
    def _pump_stdout(proc: subprocess.Popen, lines: queue.Queue) -> None:
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", errors="replace"))
        lines.put(None)  # end of stream: the adapter is gone

    def _pump_stderr(self, proc: subprocess.Popen) -> None:
        for raw in proc.stderr:
            self._stderr.append(raw.decode("utf-8", errors="replace").rstrip("\n"))


def parse_reply(line: str, seq: int) -> Reply:
    """One line of adapter output → Reply; anything that is not a well-formed reply to ``seq``
    is a protocol violation."""
    try:
        msg = json.loads(line)
    except json.JSONDecodeError:
        return Reply("protocol", message=f"not JSON: {line[:200]!r}")
    if not isinstance(msg, dict) or msg.get("seq") != seq:
        return Reply("protocol", message=f"expected a reply with seq {seq}, got {line[:200]!r}")
    kinds = [k for k in ("result", "skipped", "errored") if k in msg]
    if len(kinds) != 1:
        return Reply("protocol", message=f"a reply has exactly one of result, skipped, errored: {line[:200]!r}")
    kind = kinds[0]
    if kind == "result":
        if not isinstance(msg["result"], dict):
            return Reply("protocol", message="result must be an object")
        return Reply("result", data=msg["result"])
    if kind == "skipped":
        return Reply("skipped", message=str(msg["skipped"]))
    err = msg["errored"]
    return Reply("errored", message=err.get("message", str(err)) if isinstance(err, dict) else str(err))


def check_hello(result: dict) -> dict:
    if result.get("protocol") != PROTOCOL_VERSION:
        raise AdapterError(f"adapter speaks protocol {result.get('protocol')!r}, this runner {PROTOCOL_VERSION}")
    impl = result.get("implementation")
    if not isinstance(impl, dict) or not impl.get("name") or not impl.get("version"):
        raise AdapterError("hello must name the implementation: {\"implementation\": {\"name\": ..., \"version\": ...}}")
    caps = result.get("capabilities")
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise AdapterError("hello must list capabilities (a list of strings)")
    unknown = sorted(set(caps) - set(KNOWN_CAPABILITIES))
    if unknown:
        raise AdapterError(f"unknown capabilities {unknown}; known: {list(KNOWN_CAPABILITIES)}")
    return result
