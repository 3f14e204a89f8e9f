"""Runs selected cases against one adapter and turns their results into report records.

For each case: the checks that are selected and whose capabilities the adapter declared run
in a fresh scratch directory; the others are ``skipped``. A failed RECOMMENDED check becomes
``warned``; then the expectations file turns listed non-passes into ``xfail`` and listed
passes into ``xpass``.
"""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable

from .adapter import Adapter, AdapterError
from .expectations import Expectations
from .model import FAILED, NOT_PASSED, PASSED, RECOMMENDED, SKIPPED, WARNED, XFAIL, XPASS, Case, Check, CheckRecord, Result
from .report import Report
from .session import Session, same_for_all


def selected(cases: Iterable[Case], only: list[str] | None) -> list[tuple[Case, list[Check]]]:
    """Cases with their selected checks. A pattern selects a check when it matches (as a glob)
    the check's test id or its case id, or is a prefix of the test id."""
    out = []
    for case in cases:
        checks = [c for c in case.checks if not only or any(_matches(p, case, c) for p in only)]
        if checks:
            out.append((case, checks))
    return out


def _matches(pattern: str, case: Case, check: Check) -> bool:
    tid = case.check_id(check)
    return fnmatch.fnmatchcase(tid, pattern) or fnmatch.fnmatchcase(case.id, pattern) or tid.startswith(pattern)


def run(cases: Iterable[Case], adapter: Adapter, *, only: list[str] | None = None,
        expectations: Expectations | None = None, keep: Path | None = None,
        on_record: Callable[[CheckRecord], None] | None = None) -> Report:
    """Run the cases; ``keep`` names a directory to leave the scratch copies in (for debugging)."""
    caps = adapter.capabilities
    report = Report(implementation=adapter.info.get("implementation", {}), capabilities=sorted(caps),
                    expectations=expectations.source if expectations else "")
    start = time.monotonic()
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="mv2-conformance-", dir=keep))  # fresh even inside a reused --keep
    restarts_before = adapter.restarts
    try:
        for n, (case, checks) in enumerate(selected(cases, only)):
            active = {c.name for c in checks if c.needs <= caps}
            t = time.monotonic()
            results = _run_case(case, adapter, scratch / f"{n:04d}", active, keep is None) if active else {}
            share = (time.monotonic() - t) / max(len(active), 1)
            for c in checks:
                if c.name in active:
                    res = results.get(c.name) or Result.fail("the runner produced no result for this check")
                else:
                    missing = ", ".join(sorted(c.needs - caps))
                    res = Result(SKIPPED, f"the adapter does not declare: {missing}")
                rec = _record(case, c, res, share if c.name in active else 0.0, expectations)
                report.records.append(rec)
                if on_record:
                    on_record(rec)
    finally:
        if keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    report.seconds = time.monotonic() - start
    report.restarts = adapter.restarts - restarts_before
    if expectations:
        report.unused_expectations = [f"{e.pattern} (line {e.line})"
                                      for e in expectations.unused([r.id for r in report.records])]
    return report


def _run_case(case: Case, adapter: Adapter, root: Path, active: set[str], clean: bool) -> dict[str, Result]:
    session = Session(adapter, root, case.id)
    try:
        return case.run(session, active)
    except AdapterError:
        raise  # the adapter cannot be restarted: nothing further can run
    except Exception:  # noqa: BLE001 - an adapter's odd reply must not end the run; say where it broke
        last = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return same_for_all(active, Result.fail(f"the runner could not judge the replies: {last}"))
    finally:
        if clean:
            shutil.rmtree(root, ignore_errors=True)


def _record(case: Case, check: Check, res: Result, seconds: float, expectations: Expectations | None) -> CheckRecord:
    outcome = res.outcome
    if outcome == FAILED and check.level == RECOMMENDED:
        outcome = WARNED
    tid = case.check_id(check)
    reason = expectations.reason_for(tid) if expectations else None
    if reason:
        if outcome in NOT_PASSED:
            outcome = XFAIL
        elif outcome == PASSED:
            outcome = XPASS
    return CheckRecord(id=tid, family=case.family, level=check.level, outcome=outcome, message=res.message,
                       reason=reason or "", seconds=seconds)
