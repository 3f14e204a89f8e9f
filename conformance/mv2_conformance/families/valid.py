"""``valid/*``: write a file from an operation script, then read it back.

``dump`` (required): the implementation's canonical dump of the file it wrote equals the
expected dump. ``verify`` (required): its own verify accepts that file, so that a writer
that does not reproduce the reference bytes still has its checksums and structure checked.
``sha256`` (required, named separately): the file is byte-identical to the reference
writer's; a writer that does not aim at byte-exact reproduction lists ``valid/*:sha256`` in
its expectations file.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..canonical import file_sha256, first_difference
from ..model import Case, Check, Result
from ..session import Session, reply_failure, same_for_all
from ..vectors import Integrity, load_json

CHECKS = [
    Check("dump", frozenset({"write", "dump"}), description="the written file dumps as expected"),
    Check("verify", frozenset({"write", "verify"}), description="the written file verifies"),
    Check("sha256", frozenset({"write"}), description="the written file is byte-identical to the reference writer's"),
]


def cases(root: Path, integrity: Integrity) -> list[Case]:
    folder = root / "valid"
    manifest = load_json(folder / "manifest.json")
    out = []
    for v in manifest["vectors"]:
        dump_file = integrity.check(folder / v["dump"], v["dump_sha256"])
        ops_file = folder / v["ops"]
        if "ops_sha256" in v:
            ops_file = integrity.check(ops_file, v["ops_sha256"])
        elif not ops_file.is_file():
            integrity.problems.append(f"missing: {ops_file}")
        out.append(Case(id=f"valid/{v['name']}", family="valid", checks=CHECKS,
                        run=functools.partial(run, v, ops_file, dump_file), files=[ops_file, dump_file]))
    return out


def run(v: dict, ops_file: Path, dump_file: Path, session: Session, active: set[str]) -> dict[str, Result]:
    ops = session.copy_in(ops_file, to="inp")
    target = session.work / f"{v['name']}.mv2"
    reply = session.request("write", path=target, ops=str(ops), wal_size=v["wal_size"], policy=v.get("policy", {}))
    failure = reply_failure(reply, "write")
    if failure:
        return same_for_all(active, failure)
    if not target.is_file():
        return same_for_all(active, Result.fail("write reported success but created no file"))
    results = {}
    if "sha256" in active:
        got = file_sha256(target)
        results["sha256"] = Result.ok() if got == v["sha256"] else Result.fail(
            f"SHA-256 {got[:16]}…, the reference writer's is {v['sha256'][:16]}…")
    if "verify" in active:
        results["verify"] = session.verify_ok(target)
    if "dump" in active:
        dump, failure = session.read_dump(target)
        if failure:
            results["dump"] = failure
        else:
            diff = first_difference(dump, load_json(dump_file))
            results["dump"] = Result.ok() if diff is None else Result.fail(f"dump differs: {diff}")
    return results
