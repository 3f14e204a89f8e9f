"""memvid's command-line tool (npm @memvid/cli-linux-x64 2.0.160) through its adapter: the
expectations file lists exactly the failures it has, and crash exploration and determinism
judge how it writes. Slow: installs the npm package once
(cached under MV2_CACHE) unless MEMVID_CLI names the binary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance_support import CONFORMANCE, EXPECTATIONS, PY, cases, outcomes
from mv2_conformance.adapter import Adapter
from mv2_conformance.expectations import Expectations
from mv2_conformance.runner import run

pytestmark = pytest.mark.slow

PACKAGE = "@memvid/cli-linux-x64@2.0.160"
CLI_ADAPTER = [PY, str(CONFORMANCE / "adapters" / "memvid_cli")]


def memvid_cli() -> str:
    if os.environ.get("MEMVID_CLI"):
        return os.environ["MEMVID_CLI"]
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    base = Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2")) / "npm-memvid-cli-2.0.160"
    binary = base / "node_modules" / "@memvid" / "cli-linux-x64" / "memvid"
    if not binary.exists():
        base.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", PACKAGE], cwd=base, check=True)
    return str(binary)


def test_memvid_cli_expectations_are_accurate(monkeypatch):

    monkeypatch.setenv("MEMVID_CLI", memvid_cli())
    exp = Expectations.load(EXPECTATIONS / "memvid-cli-2.0.160.txt")
    # The vector families; crash exploration samples states of a trace that differs from run
    # to run, so it has its own test below.
    with Adapter(CLI_ADAPTER, timeout=180) as adapter:
        report = run(cases(), adapter, expectations=exp, only=["valid/*", "gold/*", "invalid/*", "crash/*"])
    assert report.implementation["name"] == "memvid-cli"
    unexpected = [f"{r.outcome} {r.id}: {r.message}" for r in report.records
                  if r.outcome in ("failed", "crashed", "timeout", "xpass", "warned")]
    assert unexpected == []
    assert [u for u in report.unused_expectations if not u.startswith(("crash-explore/", "determinism/"))] == []
    got = outcomes(report)
    # It reads its own revision as memvid-sdk 2.0.160 did, and no other.
    assert got["gold/memvid-sdk-2.0.160/deleted:find:penicillin"] == "passed"
    assert got["gold/memvid-sdk-2.0.151/single:verify"] == "xfail"
    assert got["invalid/toc.checksum.001:detect"] == "passed"


def test_memvid_cli_crash_exploration_and_determinism(monkeypatch):
    from mv2_conformance.crashes import recorder

    try:
        recorder.build()
    except recorder.RecorderUnavailable as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("MEMVID_CLI", memvid_cli())
    with Adapter(CLI_ADAPTER, timeout=180) as adapter:
        report = run(cases(), adapter, only=["crash-explore/mixed", "determinism/mixed"])
    got = {r.id: r for r in report.records}
    # The recorder, inherited through LD_PRELOAD, sees the writes of each memvid process the
    # adapter starts, and the replies the adapter sends once that process has exited ...
    assert got["crash-explore/mixed:recorded"].outcome == "passed"
    # ... every crash state opens after memvid's repair (doctor) ...
    assert got["crash-explore/mixed:openable"].outcome == "passed"
    # ... which keeps the hidden copy .NAME.XXXXXX or NAME.manifest.wal beside the memory ...
    assert got["crash-explore/mixed:clean"].outcome == "failed"
    assert re.search(r"leftover: .*(memory\.manifest\.wal|\.memory\.mv2\.)", got["crash-explore/mixed:clean"].message)
    # ... and two identical runs give different bytes (spec 13).
    assert got["determinism/mixed:bytes"].outcome == "failed"
    assert "first at offset" in got["determinism/mixed:bytes"].message
