"""Structure-aware fuzzing: valid-looking files with one TOC value changed, every checksum right.

Random damage mostly trips a checksum first; this fuzzer goes past them. It decodes a file's TOC
(or, in files with pending WAL records, sometimes one of those records), changes one value
somewhere in it (a number to a boundary or nearby value, a string to another,
a list shortened, lengthened or emptied, an Option to None), re-encodes the TOC and fixes the
footer and header so that the file's own checksums all match, then drives the reader and
the writer over it:

* ``verify``, the snapshot, the canonical dump, ``timeline``, lexical and vector ``find``;
* when the file still verifies: opening it for writing, one ``put``, closing, and the result
  must verify too (or the write is refused for an implementation limit); when it does not:
  the same writes, which may refuse but only with an ``mv2`` error.

Anything other than an ``mv2`` error, or a case that takes more than ``--timeout`` seconds,
is a finding. Run::

    python tools/fuzz_toc.py --iterations 2000 --seed 1 [FILES...]

The test suite runs a short round on every change and a long one under ``pytest -m slow``.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "vectors" / "gold"
DEFAULT_BASES = ["memvid-sdk-2.0.160/single.mv2", "memvid-sdk-2.0.160/deleted.mv2", "memvid-sdk-2.0.160/vectors-8d.mv2",
                 "memvid-sdk-2.0.160/memory-cards.mv2", "memvid-sdk-2.0.160/corrections.mv2",
                 "memvid-sdk-2.0.123/single.mv2", "memvid-sdk-2.0.123/vectors-8d.mv2",
                 "memvid-sdk-2.0.160/killed-mid-batch.mv2", "memvid-sdk-2.0.123/unsealed-crash.mv2"]

INTS = [0, 1, 2, 7, 255, 256, 4095, 4096, 65535, 1 << 31, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63,
        (1 << 64) - 1, -1, -(1 << 63)]
STRINGS = ["", "x", "active", "deleted", "superseded", "zstd", "plain", "none", "pq96", "mv2://frames/0",
           "ü" * 40, "a" * 5000, "\x00"]


LIMIT_CODES = ("MV2-E-TOC-LIMIT", "MV2-E-LIMIT")


class Timeout(Exception):
    pass


def _paths(value, prefix=()):
    """Every (path, leaf-or-container) in a decoded TOC value."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _set(root, path, value):
    node = root
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def mutate(toc: dict, rng: random.Random) -> str | None:
    """Change one value of ``toc`` in place; describe the change, or None if none applies."""
    candidates = [(p, v) for p, v in _paths(toc) if p and p[-1] != "toc_checksum"]
    path, value = rng.choice(candidates)
    where = "/".join(map(str, path))
    if isinstance(value, bool):
        _set(toc, path, not value)
        return f"{where}: flipped"
    if isinstance(value, int):
        new = rng.choice(INTS + [value + rng.choice([-2, -1, 1, 2, 16, 4096]), value * 2, value // 2])
        _set(toc, path, new)
        return f"{where}: {value} -> {new}"
    if isinstance(value, str):
        new = rng.choice(STRINGS + [value[::-1], value + value])
        _set(toc, path, new)
        return f"{where}: {value[:20]!r} -> {new[:20]!r}"
    if isinstance(value, (bytes, bytearray)):
        b = bytearray(value)
        if b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        _set(toc, path, bytes(b))
        return f"{where}: a bit flipped"
    if isinstance(value, list):
        choice = rng.random()
        if value and choice < 0.35:
            del value[rng.randrange(len(value))]
            return f"{where}: an element removed"
        if value and choice < 0.7:
            value.insert(rng.randrange(len(value) + 1), _copy(rng.choice(value)))
            return f"{where}: an element duplicated"
        value.clear()
        return f"{where}: emptied"
    if isinstance(value, dict) and value is not toc and rng.random() < 0.5:
        _set(toc, path, None)
        return f"{where}: set to None"
    return None


def _copy(v):
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def forge(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    """A copy of ``data`` with one TOC value changed and every checksum fixed, or None."""
    from mv2.format.commit import encode_footer, encode_toc_with_checksum
    from mv2.storage.snapshot import read_snapshot
    from mv2.storage.source import Source

    with read_snapshot(Source(data), apply_wal=False) as s:
        toc, rev, off, gen = _copy(s.toc), s.revision.name, s.commit.toc_offset, s.commit.generation
    what = next((w for w in (mutate(toc, rng) for _ in range(8)) if w), None)  # None values are not mutated
    if what is None:
        return None
    try:
        toc_bytes = encode_toc_with_checksum(toc, rev)
    except Exception:  # noqa: BLE001 - not encodable in this revision (e.g. a negative u64): not a file
        return None
    out = bytearray(data[:off] + toc_bytes + encode_footer(toc_bytes, gen))
    out[48:80] = toc_bytes[-32:]
    return bytes(out), what


def forge_wal(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    """A copy of ``data`` with one value of one *pending* WAL record changed and its BLAKE3
    fixed (later records are moved if its length changes), or None if there is none."""
    import struct

    import blake3

    from mv2.format.wal import WAL_RECORD_HEADER_SIZE
    from mv2.storage.snapshot import read_snapshot
    from mv2.storage.source import Source

    with read_snapshot(Source(data)) as s:
        pending = [r for r in s.wal.records if r.sequence > s.header["wal_sequence"]]
        codec, wal_offset, wal_size, head = s.revision.wal_codec, s.header["wal_offset"], s.header["wal_size"], s.wal.head
        tail = pending[-1].end if pending else None
    if not pending:
        return None
    rec = rng.choice(pending)
    entry = _copy(codec.decode(rec.payload))
    what = next((w for w in (mutate(entry, rng) for _ in range(8)) if w), None)  # many values are None
    if what is None:
        return None
    try:
        payload = codec.encode(entry)
    except Exception:  # noqa: BLE001 - not encodable: not a file
        return None
    body = bytearray()
    for r in pending[pending.index(rec):]:
        p = payload if r is rec else r.payload
        body += struct.pack("<QII", r.sequence, len(p), 0) + blake3.blake3(p).digest() + p
    start = rec.offset
    if start + len(body) + WAL_RECORD_HEADER_SIZE > wal_size:
        return None
    region = bytearray(data[wal_offset:wal_offset + wal_size])
    region[start:max(tail, head) + WAL_RECORD_HEADER_SIZE] = bytes(max(tail, head) + WAL_RECORD_HEADER_SIZE - start)
    region[start:start + len(body)] = body
    return bytes(data[:wal_offset]) + bytes(region) + bytes(data[wal_offset + wal_size:]), f"WAL seq {rec.sequence}: {what}"


def exercise(data: bytes, workdir: Path) -> None:
    """Drive the reader and the writer over ``data``; raise on anything but an mv2 error."""
    import mv2
    from mv2.errors import MV2Error
    from mv2.storage.snapshot import read_snapshot
    from mv2.storage.source import Source
    from mv2.storage.view import dump
    from mv2.storage.verify import analyze

    ok = analyze(Source(data)).ok
    try:
        with read_snapshot(Source(data)) as s:
            dump(s)
    except MV2Error:
        pass
    path = workdir / "f.mv2"
    path.write_bytes(data)
    try:
        with mv2.open(path) as m:
            m.timeline(limit=50)
            m.find("the", k=5)
            m.find("penicillin OR harbor", k=5, prefilter=True)
            dim = m.stats().get("dimension")
            if dim:
                m.find_vector([0.5] * dim, k=3)
    except MV2Error:
        pass
    try:
        with mv2.open(path, "a") as m:
            m.put("fuzz note about penicillin", timestamp=1_800_000_000)
    except MV2Error as exc:
        # A valid file may still be refused for an implementation limit (a counter at 2^64 - 1
        # cannot be advanced); any other refusal of a valid file is a finding.
        if ok and exc.code not in LIMIT_CODES:
            raise
        return
    if ok and not analyze(path).ok:
        raise AssertionError(f"a valid file became invalid after a put: {analyze(path).first_error}")


def run(files: list[Path], iterations: int, seed: int, timeout: float = 20.0) -> dict:
    rng = random.Random(seed)
    bases = [(p, p.read_bytes()) for p in files]
    findings, tried = [], 0

    def on_alarm(signum, frame):
        raise Timeout

    import mv2.storage.snapshot as snapshot

    old, checked = signal.signal(signal.SIGALRM, on_alarm), snapshot.CHECK_KNOWN_TOC
    snapshot.CHECK_KNOWN_TOC = True  # a writer's view of its own commit must equal the file's
    try:
        with tempfile.TemporaryDirectory(prefix="mv2-fuzz-") as tmp:
            for i in range(iterations):
                path, data = rng.choice(bases)
                forged = forge_wal(data, rng) if rng.random() < 0.3 else None
                forged = forged or forge(data, rng)
                if forged is None:
                    continue
                tried += 1
                case, what = forged
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    exercise(case, Path(tmp))
                except Timeout:
                    findings.append({"iteration": i, "base": path.name, "change": what, "error": f"took over {timeout} s"})
                except Exception as exc:  # noqa: BLE001 - anything else is the finding
                    findings.append({"iteration": i, "base": f"{path.parent.name}/{path.name}", "change": what,
                                     "error": f"{type(exc).__name__}: {exc}"[:300],
                                     "where": traceback.format_exc().strip().splitlines()[-3][:200]})
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)
        snapshot.CHECK_KNOWN_TOC = checked
    return {"iterations": iterations, "seed": seed, "forged": tried, "findings": findings}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args(argv)
    files = args.files or [GOLD / b for b in DEFAULT_BASES]
    out = run(files, args.iterations, args.seed, args.timeout)
    print(json.dumps(out, indent=1))
    return 1 if out["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
