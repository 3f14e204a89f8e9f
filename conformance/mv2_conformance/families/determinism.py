"""``determinism/*``: the same workload, run twice in two adapter processes, gives the same bytes.

Each run starts a fresh adapter process and writes the memory at the same path (the first
file is moved aside before the second run), so nothing but the implementation's own
choices can differ. ``bytes`` (required) fails with the first differing offset and the
region holding it: from the adapter's ``regions`` map when it declares that capability,
otherwise from the file's own layout (header, WAL, data, TOC, footer; spec chapter 2).
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

from ..adapter import Adapter
from ..canonical import file_sha256
from ..crashes.workload import Workload, all_workloads, drive
from ..model import Case, Check, Result
from ..session import Session
from ..vectors import Integrity

CHECKS = [Check("bytes", frozenset({"workload"}), description="two runs of the workload give identical bytes")]
FOOTER = 56  # "MV2FOOT!", TOC length, TOC BLAKE3, generation
HEADER_FIELDS = [("magic", 0, 4), ("version", 4, 6), ("spec_major", 6, 7), ("spec_minor", 7, 8), ("footer_offset", 8, 16), ("wal_offset", 16, 24),
                 ("wal_size", 24, 32), ("wal_checkpoint_pos", 32, 40), ("wal_sequence", 40, 48),
                 ("toc_checksum", 48, 80)]  # spec 3


def cases(root: Path, integrity: Integrity) -> list[Case]:
    return [Case(id=f"determinism/{wl.name}", family="determinism", checks=CHECKS, run=functools.partial(run, wl))
            for wl in all_workloads()]


def run(wl: Workload, session: Session, active: set[str]) -> dict[str, Result]:
    folder = session.out.parent / "det"
    folder.mkdir()
    target = folder / "memory.mv2"
    runs = []
    for n in range(2):
        with Adapter(session.adapter.argv, timeout=session.adapter.timeout) as adapter:
            result = drive(adapter, wl, target, test_id=f"determinism/{wl.name}")
        if result.failed:
            return {"bytes": Result.fail(f"run {n + 1}: the workload failed: {result.failed}")}
        if not target.is_file():
            return {"bytes": Result.fail(f"run {n + 1} wrote no file")}
        runs.append(target.rename(folder / f"run{n + 1}.mv2"))
    a, b = (p.read_bytes() for p in runs)
    if a == b:
        return {"bytes": Result.ok()}
    at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    region = region_at(session, runs[0], a, at)
    sizes = f"{len(a):,} and {len(b):,} bytes" if len(a) != len(b) else f"both {len(a):,} bytes"
    return {"bytes": Result.fail(f"the two runs differ ({sizes}; SHA-256 {file_sha256(runs[0])[:12]}… and "
                                 f"{file_sha256(runs[1])[:12]}…): first at offset {at:,}, in {region}")}


def region_at(session: Session, path: Path, data: bytes, offset: int) -> str:
    if "regions" in session.adapter.capabilities:
        reply = session.adapter.request("regions", test_id=session.test_id, path=str(path))
        if reply.ok and reply.data.get("ok") is not False:
            inside = [r for r in reply.data.get("regions", []) if r["offset"] <= offset < r["offset"] + r["length"]]
            if inside:
                r = min(inside, key=lambda r: r["length"])  # the most specific region
                return f"{r['name']} ({r['offset']:,}+{r['length']:,})"
    return layout_region(data, offset)


def layout_region(data: bytes, offset: int) -> str:
    """The coarse region of ``offset`` from the header's offsets (spec 2.1) and the footer."""
    if len(data) < 4096 or data[:4] != b"MV2\0":
        return "a file that does not start with an MV2 header"
    toc, wal_off, wal_size = struct.unpack_from("<QQQ", data, 8)
    spans = [("header", 0, 4096), ("WAL", wal_off, wal_off + wal_size), ("data", wal_off + wal_size, toc),
             ("TOC", toc, len(data) - FOOTER), ("footer", len(data) - FOOTER, len(data))]
    for name, lo, hi in spans:
        if lo <= offset < hi:
            if name == "header":
                field = next((f for f, a, b in HEADER_FIELDS if a <= offset < b), "reserved")
                return f"header {field} ({lo:,}..{hi:,})"
            return f"{name} ({lo:,}..{hi:,})"
    return "past the footer"
