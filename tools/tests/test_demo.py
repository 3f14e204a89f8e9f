"""The README's first command: tools/demo.py tells its story and every step shows what it should."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_and_cleans_up(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "MEMVID_TELEMETRY": "0"}
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py")], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert res.stderr == ""  # nothing unexplained
    assert "Every step showed what it should." in out
    assert re.search(r"acknowledged \d+, lost 0;", out)
    shas = re.findall(r"sha256 ([0-9a-f]{64})", out)
    assert len(shas) == 3 and len(set(shas)) == 1
    # Every warning printed is followed by its explanation.
    for code in re.findall(r"- (MV2-W-[A-Z-]+) \(", out):
        line = out.split(code, 1)[1].split("\n")[1]
        assert line.strip() and "see spec" not in line, code
    assert list(tmp_path.iterdir()) == []  # the temporary directory is gone
