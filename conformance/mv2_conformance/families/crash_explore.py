"""``crash-explore/*``: how an implementation *writes*: crash states of a recorded workload.

For each workload in ``crashes/workloads/``, the implementation runs it under the system-call
recorder and :mod:`..crashes.explore` judges a seeded sample of the crash states the trace
allows (``--crash-states``, ``--crash-seed``). Checks, all required:

* ``recorded``: the recorder saw the implementation write and sync, and saw every reply (a
  blind recorder would make every other check pass vacuously);
* ``durable``: no state loses an acknowledged operation;
* ``openable``: every state after the create was acknowledged opens after recovery;
* ``atomic``: no state shows part of an operation (some documents of a batch): R-DUR-002
  allows the acknowledged operations and the one in flight, "and nothing else";
* ``clean``: after recovery, nothing but the memory is left in its directory, and no
  read-only open changed a byte.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from ..crashes import recorder
from ..crashes.explore import Exploration, Settings, explore
from ..crashes.workload import Workload, all_workloads
from ..model import SKIPPED, Case, Check, Result
from ..session import Session, same_for_all
from ..vectors import Integrity

NEEDS = frozenset({"workload"})
CHECKS = [
    Check("recorded", NEEDS, description="the recorder saw the writes, syncs and replies"),
    Check("durable", NEEDS, description="no crash state loses an acknowledged operation"),
    Check("openable", NEEDS, description="every crash state opens after recovery"),
    Check("atomic", NEEDS, description="no crash state shows part of an operation"),
    Check("clean", NEEDS, description="recovery leaves nothing beside the memory"),
]

SETTINGS = Settings()
REPORTS: list[tuple[str, Exploration]] = []  # (implementation, exploration) of this process's runs


def cases(root: Path, integrity: Integrity) -> list[Case]:
    return [Case(id=f"crash-explore/{wl.name}", family="crash-explore", checks=CHECKS,
                 run=functools.partial(run, wl)) for wl in all_workloads()]


def run(wl: Workload, session: Session, active: set[str]) -> dict[str, Result]:
    try:
        recorder.build()
    except recorder.RecorderUnavailable as exc:
        return same_for_all(active, Result(SKIPPED, str(exc)))
    # The runner's adapter judges; the recorded one is a second process, started by explore.
    ex = explore(session.adapter.argv, session.adapter, wl, session.out.parent / "explore", SETTINGS)
    REPORTS.append((session.adapter.info.get("implementation", {}).get("name", "?"), ex))
    if SETTINGS.report is not None:
        SETTINGS.report.parent.mkdir(parents=True, exist_ok=True)
        with open(SETTINGS.report, "a", encoding="utf-8") as out:
            out.write(json.dumps({"implementation": session.adapter.info.get("implementation", {}), **ex.to_json()}) + "\n")
    if ex.problem:
        return {"recorded": Result.fail(ex.problem), **same_for_all(active - {"recorded"}, Result(SKIPPED, ex.problem))}
    summary = ex.summary()
    c = ex.counts

    def judged(kind: str, what: str) -> Result:
        if not c[kind]:
            return Result.ok()
        first = next((f for f in ex.failures if kind in f["kinds"]), None)
        where = f"; first at crash point {first['point']} ({first['label']}): {first['detail']}" if first else ""
        return Result.fail(f"{c[kind]} {what}{where} [{summary}]")

    results = {"recorded": Result.ok(),
               "durable": judged("lost", "states lose acknowledged operations"),
               "openable": judged("unopenable", "states do not open after recovery"),
               "atomic": judged("unexpected", "states are neither the acknowledged operations nor those and the one in flight"),
               "clean": judged("leftover", "states leave files beside the memory after recovery")}
    if c["ro-modified"] and results["clean"].outcome != "failed":
        results["clean"] = Result.fail(f"{c['ro-modified']} states were changed by a read-only open [{summary}]")
    return {k: v for k, v in results.items() if k in active}
