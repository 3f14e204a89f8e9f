"""``crash/*``: files as a crash leaves them; recovery must keep exactly what was acknowledged.

* ``recover`` (required): after ``recover`` on a scratch copy, the dump's hash (computed as
  the manifest's ``dump_hash`` says: no ``pending`` members, canonical JSON) is one of the
  allowed ones: the acknowledged operations, or those plus the one in flight.
* ``verify`` (required): the recovered file verifies.
* ``idempotent`` (required): recovering the recovered file again changes no byte.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..canonical import crash_dump_hash, file_sha256
from ..model import Case, Check, Result
from ..session import Session, reply_failure, same_for_all
from ..vectors import Integrity, load_json

CHECKS = [
    Check("recover", frozenset({"recover", "dump"}), description="the recovered state is an allowed one"),
    Check("verify", frozenset({"recover", "verify"}), description="the recovered file verifies"),
    Check("idempotent", frozenset({"recover"}), description="recovering twice equals recovering once"),
]


def cases(root: Path, integrity: Integrity) -> list[Case]:
    folder = root / "crash"
    manifest = load_json(folder / "manifest.json")
    out = []
    for t in manifest["tests"]:
        path = integrity.check(folder / t["file"], t["sha256"])
        if t["expect"].get("result") != "recoverable":
            integrity.problems.append(f"{t['id']}: expect.result is {t['expect'].get('result')!r}, "
                                      "this runner knows 'recoverable'")
            continue
        out.append(Case(id=t["id"], family="crash", checks=CHECKS, run=functools.partial(run, path, t["expect"]),
                        files=[path]))
    return out


def run(path: Path, expect: dict, session: Session, active: set[str]) -> dict[str, Result]:
    copy = session.copy_in(path)
    failure = reply_failure(session.request("recover", path=copy), "recover")
    if failure:
        return same_for_all(active, failure)
    results: dict[str, Result] = {}
    if "recover" in active:
        dump, failure = session.read_dump(copy)
        if failure is None:
            got = crash_dump_hash(dump)
            frames = expect.get("frames")
            if got not in expect["dump_sha256"]:
                failure = Result.fail(f"recovered state {got[:16]}… ({len(dump['frames'])} frames) is none of the "
                                      f"{len(expect['dump_sha256'])} allowed")
            elif frames is not None and len(dump["frames"]) != frames:
                failure = Result.fail(f"{len(dump['frames'])} frames after recovery, expected {frames}")
        results["recover"] = failure or Result.ok()
    if "verify" in active:
        results["verify"] = session.verify_ok(copy)
    if "idempotent" in active:
        before = file_sha256(copy)
        failure = reply_failure(session.request("recover", path=copy), "second recover")
        if failure is None and file_sha256(copy) != before:
            failure = Result.fail("a second recovery changed the file")
        results["idempotent"] = failure or Result.ok()
    return results
