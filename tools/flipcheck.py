"""Single-bit-flip detection experiment (spec: "Checksums", coverage figure).

For each trial: pick a file, a byte past the WAL region and a bit, flip it in memory, run
``mv2 verify``'s analysis and the canonical dump, and classify the outcome:

* ``detected``        verify fails;
* ``harmless``        verify passes and the dump is unchanged (the byte is not covered by
                      any checksum and nothing reads it: orphaned bytes, the footer's
                      generation counter);
* ``silent-change``   verify passes but the dump differs: the failure this project exists
                      to prevent. Must be zero.

Trials are seeded and reproducible. Usage::

    python tools/flipcheck.py --trials 1000 --seed 1 DIR_OR_FILES...
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
from collections import Counter
from pathlib import Path

from mv2.errors import MV2Error
from mv2.storage.snapshot import read_snapshot
from mv2.storage.source import Source
from mv2.storage.verify import analyze
from mv2.storage.view import canonical_json, dump


def dump_text(data: bytes) -> str | None:
    try:
        with read_snapshot(Source(data)) as s:
            return canonical_json(dump(s))
    except MV2Error:
        return None


def wal_end(data: bytes) -> int:
    wal_offset, wal_size = struct.unpack_from("<QQ", data, 16)
    return wal_offset + wal_size


def run(files: list[Path], trials: int, seed: int) -> dict:
    rng = random.Random(seed)
    originals = {}
    for f in files:
        data = f.read_bytes()
        a = analyze(Source(data))
        start = wal_end(data)
        originals[f] = (data, dump_text(data), start, a.uncovered_ranges(start))
    outcomes: Counter = Counter()
    by_code: Counter = Counter()
    covered_outcomes: Counter = Counter()
    examples = []
    eligible = [f for f in files if len(originals[f][0]) > originals[f][2]]
    weights = [len(originals[f][0]) - originals[f][2] for f in eligible]
    for i in range(trials):
        f = rng.choices(eligible, weights=weights)[0] if i % 2 else rng.choice(eligible)
        data, base_dump, start, uncovered = originals[f]
        pos = rng.randrange(start, len(data))
        bit = rng.randrange(8)
        mutated = bytearray(data)
        mutated[pos] ^= 1 << bit
        mutated = bytes(mutated)
        covered = not any(a <= pos < b for a, b, _ in uncovered)
        try:
            a = analyze(Source(mutated))
            verdict_ok = a.ok
            code = a.first_error.code if a.first_error else None
        except Exception as exc:  # a traceback is itself a failure of the reader
            outcomes["crash"] += 1
            examples.append({"file": f.name, "offset": pos, "bit": bit, "crash": repr(exc)})
            continue
        if not verdict_ok:
            outcome = "detected"
            by_code[code] += 1
        else:
            outcome = "harmless" if dump_text(mutated) == base_dump else "silent-change"
            if outcome == "silent-change" or (covered and len(examples) < 20):
                examples.append({"file": f.name, "offset": pos, "bit": bit, "outcome": outcome, "covered": covered})
        outcomes[outcome] += 1
        covered_outcomes[(covered, outcome)] += 1
    covered_total = sum(v for (c, _), v in covered_outcomes.items() if c)
    covered_detected = covered_outcomes[(True, "detected")]
    return {
        "trials": trials,
        "seed": seed,
        "files": len(files),
        "outcomes": dict(outcomes),
        "detected_by_code": dict(by_code.most_common()),
        "covered_trials": covered_total,
        "covered_detected": covered_detected,
        "covered_detection_rate": covered_detected / covered_total if covered_total else None,
        "overall_detection_rate": outcomes["detected"] / trials if trials else None,
        "uncovered_trials": {str(k[1]): v for k, v in covered_outcomes.items() if not k[0]},
        "examples": examples[:20],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    files = []
    for p in args.paths:
        files += sorted(p.rglob("*.mv2")) if p.is_dir() else [p]
    report = run(files, args.trials, args.seed)
    json.dump(report, sys.stdout, indent=1)
    print()
    bad = report["outcomes"].get("silent-change", 0) + report["outcomes"].get("crash", 0)
    return 1 if bad or report["covered_detection_rate"] not in (None, 1.0) else 0


if __name__ == "__main__":
    sys.exit(main())
