"""memvid-sdk through its adapter: the expectations file lists exactly the failures it has."""

from __future__ import annotations

import importlib.util
import re

import pytest

from conformance_support import EXPECTATIONS, MEMVID, outcomes, run_suite
from mv2_conformance.expectations import Expectations

pytestmark = pytest.mark.interop

if importlib.util.find_spec("memvid_sdk") is None:
    pytest.skip("memvid-sdk is not installed (pip install -e '.[interop]')", allow_module_level=True)


def test_memvid_expectations_are_accurate():
    exp = Expectations.load(EXPECTATIONS / "memvid-sdk-2.0.160.txt")
    # The vector families; crash exploration samples states of a trace that differs from run
    # to run with memvid, so it has its own test below.
    report = run_suite(MEMVID, expectations=exp, only=["valid/*", "gold/*", "invalid/*", "crash/*"])
    assert report.implementation == {"name": "memvid-sdk", "version": "2.0.160", "language": "python+rust"}
    unexpected = [f"{r.outcome} {r.id}: {r.message}" for r in report.records if r.outcome in ("failed", "crashed", "timeout", "xpass", "warned")]
    assert unexpected == []
    # Every entry still describes a real failure (those of the families not run here aside).
    assert [u for u in report.unused_expectations if not u.startswith(("crash-explore/", "determinism/"))] == []
    got = outcomes(report)
    # What the file must keep saying: memvid reads its own 2.0.160 files as it did when they were written ...
    assert got["gold/memvid-sdk-2.0.160/deleted:find:penicillin"] == "passed"
    # ... and misses damage the format forbids, such as a wrong header TOC checksum.
    assert got["invalid/header.tochash.001:detect"] == "xfail"
    assert got["invalid/toc.checksum.001:detect"] == "passed"


def test_memvid_crash_exploration_and_determinism():
    from mv2_conformance.crashes import recorder

    try:
        recorder.build()
    except recorder.RecorderUnavailable as exc:
        pytest.skip(str(exc))
    report = run_suite(MEMVID, only=["crash-explore/mixed", "determinism/mixed"])
    got = {r.id: r for r in report.records}
    # The recorder sees memvid's native core (its writes, syncs and renames) ...
    assert got["crash-explore/mixed:recorded"].outcome == "passed"
    # ... memvid leaves NAME.manifest.wal or its hidden copy .NAME.XXXXXX beside the memory,
    # and its recovery keeps them ...
    assert got["crash-explore/mixed:clean"].outcome == "failed"
    assert re.search(r"leftover: .*(memory\.manifest\.wal|\.memory\.mv2\.)", got["crash-explore/mixed:clean"].message)
    # ... and two identical runs give different bytes (spec 13: memvid-sdk does not meet R-DET-001).
    assert got["determinism/mixed:bytes"].outcome == "failed"
    assert "first at offset" in got["determinism/mixed:bytes"].message
