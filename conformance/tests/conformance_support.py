"""Shared helpers for the conformance tests: paths, adapter command lines, an in-process run.

Not a conftest.py on purpose: reference/tests imports names from its own conftest module,
and a second module of that name in another test directory would shadow it.
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFORMANCE = Path(__file__).resolve().parents[1]
ROOT = CONFORMANCE.parent
if str(CONFORMANCE) not in sys.path:
    sys.path.insert(0, str(CONFORMANCE))  # the runner package, installed or not

from mv2_conformance.adapter import Adapter  # noqa: E402
from mv2_conformance.expectations import Expectations  # noqa: E402
from mv2_conformance.runner import run  # noqa: E402
from mv2_conformance.vectors import load_cases  # noqa: E402

PY = sys.executable
REFERENCE = [PY, str(CONFORMANCE / "adapters" / "reference")]
MEMVID = [PY, str(CONFORMANCE / "adapters" / "memvid_sdk")]
FAKE = str(CONFORMANCE / "tests" / "fakes" / "fake_adapter.py")
EXPECTATIONS = CONFORMANCE / "expectations"

_CASES = None


def cases():
    global _CASES
    if _CASES is None:
        _CASES = load_cases(ROOT / "vectors")
    return _CASES


def fake(mode: str, target: str = "") -> list[str]:
    return [PY, FAKE, mode] + ([target] if target else [])


def run_suite(argv: list[str], only=None, expectations: Expectations | None = None, timeout: float = 60.0):
    with Adapter(argv, timeout=timeout) as adapter:
        return run(cases(), adapter, only=only, expectations=expectations)


def outcomes(report) -> dict[str, str]:
    return {r.id: r.outcome for r in report.records}
