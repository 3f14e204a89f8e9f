"""memvid's Node.js SDK (npm @memvid/sdk 2.0.159) through its adapter: the expectations file
lists exactly the failures it has. Slow: installs the npm package once (cached under
MV2_CACHE) unless MEMVID_NODE_SDK names its directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance_support import CONFORMANCE, EXPECTATIONS, outcomes
from mv2_conformance.adapter import Adapter
from mv2_conformance.expectations import Expectations
from mv2_conformance.runner import run

pytestmark = pytest.mark.slow

PACKAGE = "@memvid/sdk@2.0.159"


def memvid_node_sdk() -> str:
    if os.environ.get("MEMVID_NODE_SDK"):
        return os.environ["MEMVID_NODE_SDK"]
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node and npm are not installed")
    base = Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2")) / "npm-memvid-sdk-2.0.159"
    sdk = base / "node_modules" / "@memvid" / "sdk"
    if not (sdk / "package.json").exists():
        base.mkdir(parents=True, exist_ok=True)
        # --ignore-scripts: onnxruntime's post-install step downloads from outside; not needed here.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--legacy-peer-deps", "--ignore-scripts", PACKAGE],
                       cwd=base, check=True)
    return str(sdk)


def test_memvid_node_sdk_expectations_are_accurate(monkeypatch):
    from conformance_support import cases

    monkeypatch.setenv("MEMVID_NODE_SDK", memvid_node_sdk())
    exp = Expectations.load(EXPECTATIONS / "memvid-node-sdk-2.0.159.txt")
    with Adapter(["node", str(CONFORMANCE / "adapters" / "memvid_node" / "adapter.mjs")], timeout=180) as adapter:
        report = run(cases(), adapter, expectations=exp)
    assert report.implementation == {"name": "memvid-node-sdk", "version": "2.0.159", "language": "javascript+rust"}
    unexpected = [f"{r.outcome} {r.id}: {r.message}" for r in report.records
                  if r.outcome in ("failed", "crashed", "timeout", "xpass", "warned")]
    assert unexpected == []
    assert report.unused_expectations == []
    got = outcomes(report)
    assert got["gold/memvid-sdk-2.0.160/deleted:find:penicillin"] == "passed"
    assert got["gold/memvid-sdk-2.0.140/single:verify"] == "xfail"
    assert got["invalid/toc.checksum.001:detect"] == "passed"
