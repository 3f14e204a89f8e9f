"""The logical view of a file and its canonical JSON dump (spec: "Canonical dump").

The dump is what a file *means*, independent of where bytes sit: two files with the same
frames dump identically even if their layouts, WAL sizes, TOC revisions or commit counts
differ. It is the unit of comparison for conformance, conversion and crash tests.

Where a frame's text and payload live:

* ``text`` is the frame's ``search_text`` when that is non-empty. Otherwise, for a chunked
  document (role ``document`` with a chunk manifest) it is its chunks' payloads joined in
  chunk order; otherwise it is the canonical payload as UTF-8 (``null`` if it is not UTF-8).
* ``payload_sha256`` is SHA-256 of the frame's own canonical payload: the stored bytes,
  decompressed if the encoding is zstd. This is exactly what memvid-sdk's ``blob()`` returns,
  including the empty payload of a frame written by ``put(text=...)`` in 2.0.160.
"""

from __future__ import annotations

import hashlib
import json

from .replay import FrameState
from .snapshot import Snapshot

DUMP_VERSION = 1


def _hex(b) -> str | None:
    return None if b is None else bytes(b).hex()


def payload_sha256(snap: Snapshot, frame: FrameState) -> str:
    h = hashlib.sha256()
    for chunk in snap.iter_canonical(frame):
        h.update(chunk)
    return h.hexdigest()


def children_of(snap: Snapshot, parent_id: int) -> list[FrameState]:
    kids = [f for f in snap.frames if f.fields.get("parent_id") == parent_id and f.fields["role"] == "document_chunk"]
    return sorted(kids, key=lambda f: (f.fields.get("chunk_index") or 0, f.id))


def frame_text(snap: Snapshot, frame: FrameState) -> str | None:
    f = frame.fields
    if f["search_text"]:
        return f["search_text"]
    if f["role"] == "document" and f["chunk_manifest"] is not None:
        parts = [snap.canonical_payload(c) for c in children_of(snap, f["id"])]
        data = b"".join(parts)
    else:
        if f["payload_length"] == 0:
            return "" if f["search_text"] is None else f["search_text"]
        data = snap.canonical_payload(frame)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def frame_record(snap: Snapshot, frame: FrameState, *, with_text: bool = True) -> dict:
    f = frame.fields
    rec = {
        "id": f["id"],
        "uri": f["uri"],
        "title": f["title"],
        "timestamp": f["timestamp"],
        "anchor_ts": f["anchor_ts"],
        "anchor_source": f["anchor_source"],
        "status": f["status"],
        "kind": f["kind"],
        "track": f["track"],
        "role": f["role"],
        "tags": list(f["tags"]),
        "labels": list(f["labels"]),
        "metadata": dict(f["extra_metadata"]),
        "doc_metadata": f["metadata"],
        "content_dates": list(f["content_dates"]),
        "parent_id": f["parent_id"],
        "chunk_index": f["chunk_index"],
        "chunk_count": f["chunk_count"],
        "chunk_manifest": f["chunk_manifest"],
        "supersedes": f["supersedes"],
        "superseded_by": f["superseded_by"],
        "encoding": f["canonical_encoding"],
        "payload_length": f["canonical_length"] if f["canonical_length"] is not None else f["payload_length"],
        "payload_sha256": payload_sha256(snap, frame),
        "source_sha256": _hex(f.get("source_sha256")),
        "source_path": f.get("source_path"),
        "enrichment_state": f.get("enrichment_state"),
        "pending": frame.pending,
    }
    if with_text:
        rec["text"] = frame_text(snap, frame)
    return rec


def dump(snap: Snapshot) -> dict:
    out = {"dump_version": DUMP_VERSION, "frames": [frame_record(snap, fr) for fr in snap.frames]}
    cards = snap.memory_cards()
    if cards is not None:  # present only when the file has a memories track (appendix A)
        out["memory_cards"] = cards
    return out


def canonical_json(obj) -> str:
    """Canonical JSON text: sorted keys, no insignificant whitespace, UTF-8, final newline."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
