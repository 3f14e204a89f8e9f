"""Start-up time of the ``mv2`` command: ``mv2 --help`` and a one-shot ``mv2 find`` on a 50,000-frame file.

    .venv/bin/python tools/bench/startup.py [--frames 50000] [--runs 7]

Each command runs as a fresh process, as a user types it; the report gives the median wall
time and the median CPU time (user + system) of the runs, beside a bare ``python -c pass`` for
scale. The CPU time is the steadier number on a shared machine. The memory file is built once
(documents of the benchmark corpus, repeated with distinct URIs until there are enough) and
kept under ``out/bench/``. Targets: ``--help`` within 0.3 s, the find within 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def build(path: Path, frames: int) -> None:
    import mv2
    from corpus import load

    docs = load(10_000)
    tmp = path.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    with mv2.create(tmp) as mem:
        batch = []
        for i in range(frames):
            d = docs[i % len(docs)]
            batch.append({"content": d["text"], "uri": f"{d['uri']}/{i // len(docs)}", "title": d["title"],
                          "timestamp": 1700000000 + 60 * i})
            if len(batch) == 5000:
                mem.put_many(batch)
                batch.clear()
        mem.put_many(batch)
    os.replace(tmp, path)


# As an installed command runs: with its bytecode cached (a PYTHONDONTWRITEBYTECODE in the
# caller's environment would make every run compile every module again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"MEMVID_TELEMETRY": "0"}


def timed(cmd: list[str], runs: int) -> dict:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)  # warm the caches
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')}")
    return {"wall_s": round(statistics.median(walls), 3), "cpu_s": round(statistics.median(cpus), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    mv2_cmd = [str(Path(sys.executable).parent / "mv2")]
    path = ROOT / "out" / "bench" / f"startup-{a.frames}.mv2"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        print(f"building {path} ({a.frames:,} frames) ...", file=sys.stderr)
        build(path, a.frames)
    res = {
        "python -c pass": timed([sys.executable, "-c", "pass"], a.runs),
        "mv2 --help": timed(mv2_cmd + ["--help"], a.runs),
        f"mv2 find ({a.frames:,} frames)": timed(mv2_cmd + ["find", str(path), "socket timeout", "-k", "10"], a.runs),
    }
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        for name, r in res.items():
            print(f"{name:32} wall {r['wall_s']:.3f} s   cpu {r['cpu_s']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
