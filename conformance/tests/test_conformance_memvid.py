"""memvid-sdk through its adapter: the expectations file lists exactly the failures it has."""

from __future__ import annotations

import importlib.util

import pytest

from conformance_support import EXPECTATIONS, MEMVID, outcomes, run_suite
from mv2_conformance.expectations import Expectations

pytestmark = pytest.mark.interop

if importlib.util.find_spec("memvid_sdk") is None:
    pytest.skip("memvid-sdk is not installed (pip install -e '.[interop]')", allow_module_level=True)


def test_memvid_expectations_are_accurate():
    exp = Expectations.load(EXPECTATIONS / "memvid-sdk-2.0.160.txt")
    report = run_suite(MEMVID, expectations=exp)
    assert report.implementation == {"name": "memvid-sdk", "version": "2.0.160", "language": "python+rust"}
    unexpected = [f"{r.outcome} {r.id}: {r.message}" for r in report.records if r.outcome in ("failed", "crashed", "timeout", "xpass", "warned")]
    assert unexpected == []
    assert report.unused_expectations == []  # every entry still describes a real failure
    got = outcomes(report)
    # What the file must keep saying: memvid reads its own 2.0.160 files as it did when they were written ...
    assert got["gold/memvid-sdk-2.0.160/deleted:find:penicillin"] == "passed"
    # ... and misses damage the format forbids, such as a wrong header TOC checksum.
    assert got["invalid/header.tochash.001:detect"] == "xfail"
    assert got["invalid/toc.checksum.001:detect"] == "passed"
