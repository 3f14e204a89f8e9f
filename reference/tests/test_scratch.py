"""Scratch copies of Tantivy indexes never outlive their process for long (index/lex.py).

A process killed, or leaving through ``os._exit``, cannot remove its scratch directories;
on a memory-backed ``/dev/shm`` they would hold memory until the machine restarts. The
next process that makes a scratch directory removes those whose process is gone.
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import GOLD_FILES
from mv2.index import lex

SCRIPT = r"""
import os, sys
import mv2
h = mv2.open(sys.argv[1])
h.find("the", k=3)  # opens the committed Tantivy index in a scratch directory
print(os.getpid(), flush=True)
os._exit(0)        # no cleanup runs
"""


def _mine(pid: int) -> list[str]:
    roots = {lex.scratch_root(0) or "", __import__("tempfile").gettempdir()}
    return [os.path.join(r, n) for r in roots if r and os.path.isdir(r)
            for n in os.listdir(r) if any(n.startswith(f"{p}{pid}-") for p in lex.SCRATCH_PREFIXES)]


def test_directories_of_a_process_that_is_gone_are_removed_by_the_next_one(tmp_path):
    path = next(p for p in GOLD_FILES if p.name == "batch-300.mv2" and "2.0.160" in p.parent.name)
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True,
                       env={**os.environ, "MEMVID_TELEMETRY": "0"})
    assert r.returncode == 0, r.stderr
    dead = int(r.stdout.split()[0])
    left = _mine(dead)
    assert left, "the exiting process left no scratch directory (nothing to test)"
    # A live process's directory is kept: ours, made by hand under the same naming.
    ours = lex.scratch_path("mv2-search-")
    try:
        lex._swept.clear()
        made = lex.scratch_path("mv2-search-")  # sweeps the roots it uses
        lex._swept.clear()
        lex._sweep(os.path.dirname(left[0]))
        assert not _mine(dead), "the dead process's scratch directories are still there"
        assert os.path.isdir(ours) and os.path.isdir(made)
        assert os.path.basename(made).startswith(f"mv2-search-{os.getpid()}-")
    finally:
        for d in (ours, made):
            __import__("shutil").rmtree(d, ignore_errors=True)
