"""Benchmark of mv2 diff and mv2 merge on large files (not part of the tests).

    python tools/bench/diff_merge.py                 # 100,000 frames
    python tools/bench/diff_merge.py --frames 10000 --edits 100

Builds a base file of N short frames, a copy with E edits (puts, supersedes, deletes), and
times: ``diff_files`` of the two (logical and byte view, the way ``mv2 diff`` runs), the same
without the byte view, and a three-way merge whose sides each made E edits. Prints a markdown
table with the machine's description.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))

import mv2  # noqa: E402
from mv2.diff import diff_files  # noqa: E402
from mv2.merge import merge_files  # noqa: E402

T0 = 1700000000


def build(path: Path, n: int) -> None:
    with mv2.create(path) as m:
        for lo in range(0, n, 10000):
            m.put_many([dict(content=f"note {i} about topic {i % 97}", uri=f"mv2://n/{i}", timestamp=T0 + i)
                        for i in range(lo, min(n, lo + 10000))])


def edit(src: Path, dst: Path, n: int, edits: int, salt: int) -> None:
    shutil.copy(src, dst)
    with mv2.open(dst, "a") as m:
        for j in range(edits):
            target = (j * 7919 + salt) % n
            if j % 3 == 0:
                m.put(f"new note {salt}-{j}", uri=f"mv2://new/{salt}/{j}", timestamp=T0 + n + j)
            elif m.frame(target)["status"] == "active":
                if j % 3 == 1:
                    m.supersede(target, f"note {target} revised by {salt}", timestamp=T0 + n + j)
                else:
                    m.delete(target)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--edits", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        base, a, b = d / "base.mv2", d / "a.mv2", d / "b.mv2"
        t_build = timed(lambda: build(base, args.frames))
        edit(base, a, args.frames, args.edits, 1)
        edit(base, b, args.frames, args.edits, 2)
        rows = [
            ("write the base file", t_build),
            ("diff base vs one side (logical + bytes)", timed(lambda: diff_files(base, a))),
            ("diff base vs one side (logical only)", timed(lambda: diff_files(base, a, byte_view=False))),
            ("diff a file with itself", timed(lambda: diff_files(base, base))),
            ("merge the two sides", timed(lambda: merge_files(base, a, b, d / "m.mv2", prefer="ours"))),
        ]
        size = os.path.getsize(base)
    print(f"{args.frames:,} frames ({size:,} bytes), {args.edits} edits per side; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print("| step | seconds |\n|---|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.2f} |")


if __name__ == "__main__":
    main()
