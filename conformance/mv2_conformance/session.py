"""A case's scratch space and its guarded requests.

Every case works on copies in a fresh directory, so an implementation may open files for
writing without touching the committed vectors. After each command the session checks the
single-file promise (nothing but the memory file is left beside it) and, for commands that
only read, that the file's bytes did not change.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .adapter import Adapter, Reply
from .canonical import file_sha256
from .model import CRASHED, SKIPPED, TIMEOUT, Result

READ_ONLY_COMMANDS = {"verify", "dump", "find"}


class Session:
    def __init__(self, adapter: Adapter, root: Path, test_id: str):
        self.adapter = adapter
        self.test_id = test_id
        self.work = root / "work"  # only the memory file may live here
        self.out = root / "out"    # dumps the adapter writes for the runner
        self.inp = root / "in"     # inputs such as operation scripts
        for d in (self.work, self.out, self.inp):
            d.mkdir(parents=True)
        self._outputs = 0

    def copy_in(self, src: Path, *, to: str = "work") -> Path:
        dest = getattr(self, to) / src.name
        shutil.copyfile(src, dest)  # copyfile, not copy2: the copy is ours and writable
        return dest

    def out_path(self, stem: str) -> Path:
        self._outputs += 1
        return self.out / f"{self._outputs:02d}-{stem}"

    def request(self, cmd: str, *, path: Path | None = None, **params) -> Reply:
        """Send ``cmd`` about the memory file ``path`` and check what it left behind.

        A violation turns the reply into a ``violation`` one whose message says what happened,
        so that every check built on this reply fails with that reason."""
        before = file_sha256(path) if (cmd in READ_ONLY_COMMANDS and path is not None and path.exists()) else None
        if path is not None:
            params["path"] = str(path)
        reply = self.adapter.request(cmd, test_id=self.test_id, **params)
        if reply.kind in ("crashed", "timeout"):
            self._clear_sidecars(path)  # what a dead adapter left must not be blamed on the next command
            return reply
        problem = self._sidecars(path) or self._changed(path, before)
        if problem:
            return Reply("violation", data=reply.data, message=problem)
        return reply

    def _sidecars(self, path: Path | None) -> str | None:
        allowed = {path.name} if path is not None else set()
        extra = sorted(set(os.listdir(self.work)) - allowed)
        if extra:
            return f"files appeared beside the memory file (the format is a single file): {extra}"
        return None

    def _clear_sidecars(self, path: Path | None) -> None:
        for name in os.listdir(self.work):
            if path is None or name != path.name:
                p = self.work / name
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    @staticmethod
    def _changed(path: Path | None, before: str | None) -> str | None:
        if before is None:
            return None
        if not path.exists():
            return "a read-only command removed the file"
        if file_sha256(path) != before:
            return "a read-only command modified the file"
        return None

    def verify_ok(self, path: Path) -> Result:
        """The Result of a ``verify`` of ``path`` that must say ok."""
        reply = self.request("verify", path=path)
        failure = reply_failure(reply, "verify")
        if failure is None and reply.data.get("ok") is not True:
            failure = Result.fail("verify did not say ok")
        return failure or Result.ok()

    def read_dump(self, path: Path) -> tuple[dict | None, Result | None]:
        """Ask for the canonical dump of ``path``; return (dump, None) or (None, failure)."""
        out = self.out_path("dump.json")
        reply = self.request("dump", path=path, out=str(out))
        failure = reply_failure(reply, "dump")
        if failure:
            return None, failure
        try:
            dump = json.loads(out.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, Result.fail("dump reported success but wrote nothing")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, Result.fail(f"the dump is not UTF-8 JSON: {exc}")
        if not isinstance(dump, dict) or not isinstance(dump.get("frames"), list) or "dump_version" not in dump:
            return None, Result.fail("the dump is not {\"dump_version\": ..., \"frames\": [...]}")
        if dump["dump_version"] != 1:
            return None, Result.fail(f"dump_version {dump['dump_version']!r}; this suite checks version 1")
        return dump, None


def reply_failure(reply: Reply, what: str) -> Result | None:
    """The Result a check gets when ``reply`` is not a usable success; None when it is.

    A reply that is a result but says ``ok: false`` is a failure of the operation too: only
    ``verify`` treats an error report as an answer, and it does not call this."""
    if reply.kind == "crashed":
        return Result(CRASHED, f"{what}: {reply.message}")
    if reply.kind == "timeout":
        return Result(TIMEOUT, f"{what}: {reply.message}")
    if reply.kind == "skipped":
        return Result(SKIPPED, f"{what}: the adapter skipped it: {reply.message}")
    if reply.kind != "result":
        why = {"violation": "", "errored": "the adapter reported an error: ",
               "protocol": "the reply broke the protocol: "}.get(reply.kind, f"{reply.kind}: ")
        return Result.fail(f"{what}: {why}{reply.message}")
    if reply.data.get("ok") is False:
        err = reply.data.get("error") or {}
        return Result.fail(f"{what} failed: {err.get('code')} {err.get('message', '')}".strip())
    return None


def same_for_all(names: set[str], result: Result) -> dict[str, Result]:
    return {n: result for n in names}
