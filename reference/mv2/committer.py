"""What a commit contains: payloads, rebuilt indexes and the new TOC (spec: "TOC and footer", "Index segments").

A commit is planned from the logical frame list and the previous TOC, then handed to
``storage.file`` which places and syncs it. Region order within a commit is fixed: new
payloads in frame order, the time index, the Tantivy files sorted by name, the vector index,
the sketch track. Every index is rebuilt from all frames on each commit, which makes the
result a function of the frames alone and therefore reproducible.

What is kept from the previous TOC: frames (with statuses), the memories track, logic mesh,
temporal track, CLIP index, replay manifest, ticket, memory binding, enrichment queue and
merkle root. What is replaced: the Tantivy file lists, the vector index, the time index, the
sketch track. The parallel-builder catalog lists are emptied (as memvid's own index rebuild
does); their bytes stay in the file, unreferenced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import blake3

from .format.revisions import Revision
from .format.segments import SKETCH_SMALL
from .format.sketch import encode_track, sketch_entry
from .index import lex
from .index.time import encode_time_index
from .index.vec import VectorStore, encode_flat
from .storage.replay import FrameState

EMPTY_SHA256 = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@dataclass
class Plan:
    blobs: list[bytes]
    build_toc: Callable[[list[int], int], dict]


def plan_commit(frames: list[FrameState], prev_toc: dict, revision: Revision, *,
                text_of: Callable[[FrameState], str | None], vectors: VectorStore,
                sketch_cache: dict[int, bytes]) -> Plan:
    # The TOC is built from copies: a commit that fails must leave the frame state untouched,
    # so that a retry plans the same commit again.
    fields = [dict(fs.fields) for fs in frames]
    payload_blobs: list[tuple[int, bytes]] = []
    for fs in frames:
        if fs.pending and fs.fields["payload_offset"] is None and fs.inline_payload:
            payload_blobs.append((fs.id, fs.inline_payload))

    active = [fs for fs in frames if fs.fields["status"] == "active"]
    texts = {fs.id: text_of(fs) for fs in frames}
    docs = [lex.LexDoc(fs.id, fs.fields["timestamp"], texts[fs.id] or "", tuple(fs.fields["tags"]),
                       tuple(fs.fields["labels"]), fs.fields["track"], fs.fields["uri"])
            for fs in active if fs.fields["role"] != "extracted_image"]
    tantivy_files = lex.pack(docs)
    time_blob = encode_time_index(fields) if frames else None
    live_vectors = [fs.id for fs in active if fs.id in vectors]
    vec_blob = encode_flat(vectors, live_vectors) if live_vectors else None
    has_sketch = any(sc.name == "sketch_track" for sc in revision.toc.subcons)
    sketch_blob = None
    if has_sketch and frames:
        for fs in frames:
            if fs.id not in sketch_cache:
                sketch_cache[fs.id] = sketch_entry(texts[fs.id])
        sketch_blob = encode_track([sketch_cache[fs.id] for fs in frames])

    blobs = [b for _, b in payload_blobs]
    slots: dict[str, int] = {}
    if time_blob is not None:
        slots["time"] = len(blobs)
        blobs.append(time_blob)
    slots["lex"] = len(blobs)
    blobs += [data for _, data in tantivy_files]
    if vec_blob is not None:
        slots["vec"] = len(blobs)
        blobs.append(vec_blob)
    if sketch_blob is not None:
        slots["sketch"] = len(blobs)
        blobs.append(sketch_blob)

    def build_toc(offsets: list[int], data_start: int) -> dict:
        payload_at = {fid: offsets[i] for i, (fid, _) in enumerate(payload_blobs)}
        for fs, f in zip(frames, fields):
            if f["payload_offset"] is None:
                if fs.id in payload_at:
                    f["payload_offset"] = payload_at[fs.id]
                elif f["payload_length"] == 0:
                    f["payload_offset"] = 0
        for fs, f in zip(frames, fields):  # payloads shared with a frame committed in this same commit
            if f["payload_offset"] is None:
                src = next(i for i, o in enumerate(frames)
                           if o.inline_payload is fs.inline_payload and fields[i]["payload_offset"] is not None)
                f["payload_offset"] = fields[src]["payload_offset"]
        toc = dict(prev_toc)
        toc["frames"] = fields
        ix = dict(prev_toc["indexes"])
        first_id = prev_toc["segment_catalog"]["next_segment_id"]
        lex_list, tantivy_list = [], []
        for i, (name, data) in enumerate(tantivy_files):
            off = offsets[slots["lex"] + i]
            ck = blake3.blake3(data).digest()
            lex_list.append({"path": name, "bytes_offset": off, "bytes_length": len(data), "checksum": ck})
            tantivy_list.append({"common": {"segment_id": first_id + i, "bytes_offset": off, "bytes_length": len(data),
                                             "checksum": ck, "build_sequence": 0, "codec_version": 0,
                                             "compression": "none", "span": None}, "path": name})
        ix["lex_segments"] = lex_list
        if vec_blob is not None:
            dim = vectors.dimension
            ix["vec"] = {"vector_count": len(live_vectors), "dimension": dim, "bytes_offset": offsets[slots["vec"]],
                         "bytes_length": len(vec_blob), "checksum": blake3.blake3(vec_blob).digest(),
                         "compression_mode": "none", "model": (prev_toc["indexes"].get("vec") or {}).get("model")}
        else:
            ix["vec"] = {"vector_count": 0, "dimension": 0, "bytes_offset": data_start, "bytes_length": 0,
                         "checksum": EMPTY_SHA256, "compression_mode": "none",
                         "model": (prev_toc["indexes"].get("vec") or {}).get("model")}
        toc["indexes"] = ix
        if time_blob is not None:
            toc["time_index"] = {"bytes_offset": offsets[slots["time"]], "bytes_length": len(time_blob),
                                 "entry_count": (len(time_blob) - 12) // 16, "checksum": blake3.blake3(time_blob).digest()}
        else:
            toc["time_index"] = None
        if has_sketch:
            toc["sketch_track"] = None if sketch_blob is None else {
                "bytes_offset": offsets[slots["sketch"]], "bytes_length": len(sketch_blob), "entry_count": len(frames),
                "entry_size": SKETCH_SMALL, "flags": 0, "checksum": blake3.blake3(sketch_blob).digest()}
        cat = dict(prev_toc["segment_catalog"])
        cat.update(next_segment_id=first_id + len(tantivy_files), lex_segments=[], vec_segments=[], time_segments=[],
                   tantivy_segments=tantivy_list, index_segments=[])
        toc["segment_catalog"] = cat
        return toc

    return Plan(blobs, build_toc)


def empty_toc(revision: Revision) -> dict:
    """The TOC of a file with no frames, before its first commit fills in the indexes."""
    toc = {
        "toc_version": 0, "segments": [], "frames": [],
        "indexes": {"lex": None, "lex_segments": [], "vec": None, "clip": None},
        "time_index": None, "temporal_track": None, "memories_track": None, "logic_mesh": None,
        "sketch_track": None,
        "segment_catalog": {"next_segment_id": 0, "version": 1, "lex_enabled": True, "lex_segments": [],
                            "vec_segments": [], "time_segments": [], "temporal_segments": [],
                            "tantivy_segments": [], "index_segments": []},
        "ticket_ref": {"issuer": "free-tier", "seq_no": 1, "expires_in_secs": 0, "capacity_bytes": 52428800,
                       "verified": False},
        "memory_binding": None, "replay_manifest": None, "enrichment_queue": {"tasks": [], "updated_at": 0},
        "merkle_root": bytes(32), "toc_checksum": bytes(32),
    }
    return toc


__all__ = ["Plan", "plan_commit", "empty_toc", "SKETCH_HEADER_SIZE"]
