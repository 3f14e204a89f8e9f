"""``invalid/*``: files that break exactly one rule; ``verify`` must say which.

* ``detect`` (required): verify reports an error, not ok.
* ``code`` (required): the error's code is the manifest's.
* ``offset`` (recommended, when the manifest gives one): the error's byte offset is the
  manifest's. A mismatch is reported as ``warned``, which does not fail a run.

One ``verify`` request answers all three, so a crash or timeout marks all three.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..model import RECOMMENDED, Case, Check, Result
from ..session import Session, reply_failure, same_for_all
from ..vectors import Integrity, load_json

VERIFY = frozenset({"verify"})


def cases(root: Path, integrity: Integrity) -> list[Case]:
    folder = root / "invalid"
    manifest = load_json(folder / "manifest.json")
    out = []
    for t in manifest["tests"]:
        path = integrity.check(folder / t["file"], t["sha256"])
        expect = t["expect"]
        if expect.get("result") != "error":
            integrity.problems.append(f"{t['id']}: expect.result is {expect.get('result')!r}, this runner knows 'error'")
            continue
        checks = [Check("detect", VERIFY, description="verify reports an error"),
                  Check("code", VERIFY, description=f"the error code is {expect['code']}")]
        if expect.get("offset") is not None:
            checks.append(Check("offset", VERIFY, RECOMMENDED, f"the error offset is {expect['offset']}"))
        out.append(Case(id=t["id"], family="invalid", checks=checks, run=functools.partial(run, path, expect),
                        files=[path]))
    return out


def run(path: Path, expect: dict, session: Session, active: set[str]) -> dict[str, Result]:
    copy = session.copy_in(path)
    reply = session.request("verify", path=copy)
    failure = reply_failure(reply, "verify") if reply.kind != "result" else None
    if failure:
        return same_for_all(active, failure)
    data = reply.data
    if data.get("ok") is True:
        return same_for_all(active, Result.fail(f"verify said ok; expected {expect['code']}"))
    err = data.get("error")
    if data.get("ok") is not False or not isinstance(err, dict):
        return same_for_all(active, Result.fail("verify's result has neither ok: true nor ok: false with an error"))
    results = {"detect": Result.ok()}
    code, offset = err.get("code"), err.get("offset")
    results["code"] = Result.ok() if code == expect["code"] else Result.fail(
        f"code {code}, expected {expect['code']}" + (f" ({err.get('message')})" if err.get("message") else ""))
    if expect.get("offset") is not None:
        results["offset"] = Result.ok() if offset == expect["offset"] else Result.fail(
            f"offset {offset}, expected {expect['offset']}")
    return {k: v for k, v in results.items() if k in active}
