"""The reference implementation, reached only through its HP/1 adapter, passes every check."""

from __future__ import annotations

import json
import os
import shlex
import subprocess

from conformance_support import CONFORMANCE, PY, REFERENCE, ROOT, cases


def test_reference_passes_the_whole_suite(tmp_path):
    out = tmp_path / "report.json"
    env = dict(os.environ, PYTHONPATH=str(CONFORMANCE))
    res = subprocess.run([PY, "-m", "mv2_conformance", "run", "--adapter", "proc:" + shlex.join(REFERENCE),
                          "--json", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [r for r in report["results"] if r["outcome"] != "passed"] == []
    # The reference declares every capability, so every check of every vector ran.
    assert len(report["results"]) == sum(len(c.checks) for c in cases())
    assert set(report["families"]) == {"valid", "gold", "invalid", "crash", "crash-explore", "determinism"}
    assert report["implementation"]["name"] == "mv2-reference"
    n = len(report["results"])
    assert res.stdout.strip().splitlines()[-1].startswith(f"{n} passed, 0 failed, 0 xfail, 0 skipped in ")


def test_reference_adapter_runs_as_a_module_and_speaks_hp1():
    requests = '{"seq": 1, "cmd": "hello", "protocol": 1}\n{"seq": 2, "cmd": "nonsense"}\n{"seq": 3, "cmd": "stop"}\n'
    res = subprocess.run([PY, "-m", "conformance.adapters.reference"], input=requests, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    hello, unknown = [json.loads(line) for line in res.stdout.splitlines()]
    assert hello["seq"] == 1 and hello["result"]["protocol"] == 1
    assert set(hello["result"]["capabilities"]) == {"verify", "dump", "write", "recover", "find", "find-vec",
                                                    "workload", "regions"}
    assert unknown == {"seq": 2, "skipped": "command 'nonsense' is not supported"}
