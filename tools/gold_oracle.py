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

With ``--replay`` (a file a killed writer left with pending WAL records) the oracle is the state
after memvid's *read-write* open of a copy, which replays the pending records; its read-only
open ignores them. The oracle's ``note`` says so, and its ``file_sha256`` is the original's. If
memvid's read-write open fails (memvid-sdk 2.0.131 to 2.0.153 cannot reopen a file their killed
writer left), the oracle is memvid's read-only view and says ``"committed_only": true``.

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


def oracle(path: Path, sem_dimension: int | None, replay: bool = False) -> dict:
    import importlib.metadata
    import shutil
    import tempfile

    import memvid_sdk

    before = path.read_bytes()
    note = None
    if replay:
        ro = memvid_sdk.use("basic", str(path), mode="open", read_only=True)
        ro_count = dict(ro.stats()).get("frame_count")
        ro.close()
        tmp = Path(tempfile.mkdtemp(prefix="gold-oracle-")) / path.name
        shutil.copyfile(path, tmp)
        try:
            memvid_sdk.use("basic", str(tmp), mode="open").close()
        except Exception as exc:  # noqa: BLE001 - memvid cannot recover the file: its read-only view is all it reads
            note = (f"memvid-sdk's read-write open of a copy fails ({type(exc).__name__}: {exc}); oracle = its "
                    f"read-only view ({ro_count} frame(s)), which ignores the pending WAL records")
            opened = path
        else:
            note = ("oracle = state after memvid-sdk's read-write open of a copy (it replays pending WAL records); "
                    f"its read-only open shows only {ro_count} frame(s)")
            opened = tmp
    else:
        opened = path
    m = memvid_sdk.use("basic", str(opened), mode="open", read_only=True)
    stats = dict(m.stats())
    out: dict = {"file_sha256": sha256(before), "sdk": f"memvid-sdk {importlib.metadata.version('memvid-sdk')}",
                 "stats": {k: stats.get(k) for k in STATS_FIELDS}}
    if note:
        out["note"] = note
        if opened == path:
            out["committed_only"] = True  # readers compare their view without pending records
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
        try:
            hits = m.find("auth", k=5, mode="sem", query_embedding=q)["hits"]
        except Exception as exc:  # noqa: BLE001 - memvid-sdk 2.0.131-2.0.153: "vector index is not enabled"
            if "not enabled" not in str(exc):
                raise
            # Those releases search vectors only on a handle opened with enable_vec=True.
            mv = memvid_sdk.use("basic", str(opened), mode="open", read_only=True, enable_vec=True)
            hits = mv.find("auth", k=5, mode="sem", query_embedding=q)["hits"]
            mv.close()
        out["find_sem"] = {"dimension": int(dim), "query_embedding_seed": 0,
                           "hits": [{"frame_id": h["frame_id"], "rank": h["rank"], "score": h["score"], "uri": h["uri"]}
                                    for h in hits]}
        out["find_sem_note"] = ("find('auth', k=5, mode='sem', query_embedding=uniform(-1,1) x dim from "
                                "random.Random(0), rounded to 6 places)")
    cards = m.memories()["cards"]
    if cards:
        out["memories"] = sorted((dict(c) for c in cards), key=lambda c: c["id"])
    try:
        out["verify"] = dict(m.verify(deep=True))
    except Exception as exc:  # noqa: BLE001 - memvid's verdict on the file, kept as it gave it
        out["verify"] = {"error": f"{type(exc).__name__}: {exc}"}
    if "file_path" in out["verify"]:
        out["verify"]["file_path"] = path.name  # not the machine's path
    m.close()
    if path.read_bytes() != before:
        raise SystemExit(f"{path}: memvid-sdk modified the file while reading it; no oracle written")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--replay", action="store_true", help="oracle of the state after memvid's read-write open")
    ap.add_argument("--sem-dimension", type=int, default=None, help="query dimension for find_sem (default: memvid's)")
    args = ap.parse_args(argv)
    os.environ.setdefault("MEMVID_TELEMETRY", "0")
    out = oracle(args.file, args.sem_dimension, args.replay)
    target = args.file.with_suffix(".expected.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out['timeline'])} timeline entries, {len(out['frames_by_uri'])} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
