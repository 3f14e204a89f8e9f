"""Record what memvid-sdk itself reads back from a file: the oracle ``NAME.expected.json`` of a gold vector.

    MEMVID_TELEMETRY=0 python tools/gold_oracle.py FILE.mv2 [--sem-dimension D]

writes ``FILE.expected.json`` next to the file, in the format of every oracle under
``vectors/gold/`` (see ``vectors/gold/README.md``):

* ``file_sha256``, ``sdk`` (the installed memvid-sdk);
* ``stats``: frame and active-frame counts, which indexes memvid reports, its WAL size;
* ``timeline``: memvid's timeline (frame id, timestamp, URI, preview), all of it;
* ``frames_by_uri``: for each URI of the timeline, ``frame(uri)`` (a fixed subset of fields)
  and the length and SHA-256 of ``blob(uri)``;
* ``find``: the hits (frame id, rank, URI) of lexical ``find(q, k=10)`` for a fixed query
  list, with memvid's default snippet length;
* ``find_sem`` (with vectors): ``find("auth", k=5, mode="sem")`` for a query vector drawn
  uniformly from [-1, 1] with ``random.Random(0)``, rounded to 6 places;
* ``memories`` (with memory cards): ``memories()["cards"]``, sorted by card id;
* ``verify``: ``verify(deep=True)``, as memvid returns it.

memvid opens the file read-only; this tool checks that the file's bytes did not change (memvid
has been seen to rewrite header bytes when opening) and refuses to write an oracle if they did.
Gold vectors are frozen: run this once, when a file is added.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from pathlib import Path

QUERIES = ["auth", "memory frame", "penicillin"]
FRAME_FIELDS = ("extra_metadata", "id", "kind", "labels", "mime", "payload_length", "tags", "timestamp", "title",
                "track", "uri")
STATS_FIELDS = ("active_frame_count", "frame_count", "has_lex_index", "has_time_index", "has_vec_index", "wal_bytes")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def oracle(path: Path, sem_dimension: int | None) -> dict:
    import importlib.metadata

    import memvid_sdk

    before = path.read_bytes()
    m = memvid_sdk.use("basic", str(path), mode="open", read_only=True)
    stats = dict(m.stats())
    out: dict = {"file_sha256": sha256(before), "sdk": f"memvid-sdk {importlib.metadata.version('memvid-sdk')}",
                 "stats": {k: stats.get(k) for k in STATS_FIELDS}}
    out["timeline"] = [{"frame_id": t["frame_id"], "preview": t["preview"], "timestamp": t["timestamp"], "uri": t["uri"]}
                       for t in m.timeline(limit=1_000_000)]
    frames = {}
    for t in out["timeline"]:
        f = dict(m.frame(t["uri"]))
        blob = bytes(m.blob(t["uri"]))
        frames[t["uri"]] = {"blob_len": len(blob), "blob_sha256": sha256(blob),
                            "frame": {k: f.get(k) for k in FRAME_FIELDS if k in f}}
    out["frames_by_uri"] = frames
    out["find"] = {q: [{"frame_id": h["frame_id"], "rank": h["rank"], "uri": h["uri"]}
                       for h in m.find(q, k=10, mode="lex")["hits"]] for q in QUERIES}
    dim = sem_dimension or stats.get("effective_vec_dimension")
    if dim:
        rng = random.Random(0)
        q = [round(rng.uniform(-1, 1), 6) for _ in range(int(dim))]
        hits = m.find("auth", k=5, mode="sem", query_embedding=q)["hits"]
        out["find_sem"] = {"dimension": int(dim), "query_embedding_seed": 0,
                           "hits": [{"frame_id": h["frame_id"], "rank": h["rank"], "score": h["score"], "uri": h["uri"]}
                                    for h in hits]}
        out["find_sem_note"] = ("find('auth', k=5, mode='sem', query_embedding=uniform(-1,1) x dim from "
                                "random.Random(0), rounded to 6 places)")
    cards = m.memories()["cards"]
    if cards:
        out["memories"] = sorted((dict(c) for c in cards), key=lambda c: c["id"])
    out["verify"] = dict(m.verify(deep=True))
    if "file_path" in out["verify"]:
        out["verify"]["file_path"] = path.name  # not the machine's path
    m.close()
    if path.read_bytes() != before:
        raise SystemExit(f"{path}: memvid-sdk modified the file while reading it; no oracle written")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--sem-dimension", type=int, default=None, help="query dimension for find_sem (default: memvid's)")
    args = ap.parse_args(argv)
    os.environ.setdefault("MEMVID_TELEMETRY", "0")
    out = oracle(args.file, args.sem_dimension)
    target = args.file.with_suffix(".expected.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out['timeline'])} timeline entries, {len(out['frames_by_uri'])} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
