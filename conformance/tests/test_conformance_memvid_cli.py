"""memvid's command-line tool (npm @memvid/cli-linux-x64 2.0.160) through its adapter: the
expectations file lists exactly the failures it has. Slow: installs the npm package once
(cached under MV2_CACHE) unless MEMVID_CLI names the binary."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance_support import CONFORMANCE, EXPECTATIONS, PY, outcomes
from mv2_conformance.adapter import Adapter
from mv2_conformance.expectations import Expectations
from mv2_conformance.runner import run

pytestmark = pytest.mark.slow

PACKAGE = "@memvid/cli-linux-x64@2.0.160"


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
    from conformance_support import cases

    monkeypatch.setenv("MEMVID_CLI", memvid_cli())
    exp = Expectations.load(EXPECTATIONS / "memvid-cli-2.0.160.txt")
    with Adapter([PY, str(CONFORMANCE / "adapters" / "memvid_cli")], timeout=180) as adapter:
        report = run(cases(), adapter, expectations=exp)
    assert report.implementation["name"] == "memvid-cli"
    unexpected = [f"{r.outcome} {r.id}: {r.message}" for r in report.records
                  if r.outcome in ("failed", "crashed", "timeout", "xpass", "warned")]
    assert unexpected == []
    assert report.unused_expectations == []
    got = outcomes(report)
    # It reads its own revision as memvid-sdk 2.0.160 did, and no other.
    assert got["gold/memvid-sdk-2.0.160/deleted:find:penicillin"] == "passed"
    assert got["gold/memvid-sdk-2.0.151/single:verify"] == "xfail"
    assert got["invalid/toc.checksum.001:detect"] == "passed"
