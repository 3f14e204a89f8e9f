"""Applying pending WAL records to the committed frames, in memory (spec: "WAL", recovery rule).

The rule is memvid's read-write recovery, restated:

* records with ``sequence > header.wal_sequence`` are pending, applied in log order;
* an ``insert`` appends a frame with ``id = len(frames)``; an absent URI becomes
  ``mv2://frames/<id>`` and an absent title is derived from the URI; the frame's checksum is
  BLAKE3 of the record's payload; a ``supersedes_frame_id`` marks that frame superseded and
  links the two; ``reuse_payload_from`` points the new frame at an existing payload;
* a ``tombstone`` marks its target deleted;
* a ``lex`` record carries Tantivy bookkeeping and changes no frame.

Nothing here touches the file. The writer's recovery uses the same function and then
commits the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blake3

from ..errors import CorruptFileError
from ..format.payload import iter_canonical
from ..format.text import default_uri, title_from_uri
from .wal import WalRecord

FRAME_DEFAULTS = {
    # Fields a revision may lack, with the value that revision implies.
    "source_sha256": None,
    "source_path": None,
    "enrichment_state": None,
}


@dataclass(slots=True)
class FrameState:
    """One frame of the logical view: its TOC fields plus where it came from.

    A committed frame's ``fields`` is the decoded TOC's own dict until replay changes the
    frame (:meth:`writable`): copying every frame on open cost more than decoding it. Code
    that changes a frame's fields must get them through :meth:`writable`."""

    fields: dict
    pending: bool = False
    inline_payload: bytes | None = None
    """Stored payload bytes of a pending insert (they are still in the WAL, not the data area)."""
    embedding: list | None = None
    wal_sequence: int | None = None
    shared: bool = False
    """``fields`` is still the committed TOC's dict, which others read (the committer compares
    against it): copy before changing."""

    @property
    def id(self) -> int:
        return self.fields["id"]

    def writable(self) -> dict:
        if self.shared:
            self.fields = dict(self.fields)
            self.shared = False
        return self.fields


@dataclass
class ReplayResult:
    frames: list[FrameState]
    applied: int = 0
    lex_records: int = 0
    notes: list[str] = field(default_factory=list)


class Replayer:
    """Applies WAL records to a frame list, one at a time (the reader's replay and the writer's
    in-memory state use the same code, so they cannot disagree)."""

    def __init__(self, frames: list[FrameState], *, wal_offset: int = 0):
        self.frames = frames
        self.wal_offset = wal_offset
        self.seq_to_frame: dict[int, int] = {}
        self.inserted: list[int] = []
        self.applied = 0
        self.lex_records = 0

    def apply(self, rec: WalRecord) -> int | None:
        """Apply one record; return the id of the frame it inserted, if any."""
        frames = self.frames
        entry = rec.entry
        if entry["variant"] == "lex":
            self.lex_records += 1
            return None
        e = entry["value"]
        at = self.wal_offset + rec.offset
        if e["op"] == "tombstone":
            target = e.get("target_frame_id")
            if target is None or not 0 <= target < len(frames):
                raise CorruptFileError(
                    f"WAL record seq {rec.sequence}: tombstone targets frame {target}, which does not exist",
                    code="MV2-E-WAL-APPLY", offset=at,
                )
            t = frames[target].writable()
            t["status"] = "deleted"
            t["superseded_by"] = None
            self.applied += 1
            return None
        fid = len(frames)
        reuse = e.get("reuse_payload_from")
        if reuse is not None:
            if e["payload"]:
                raise CorruptFileError(f"WAL record seq {rec.sequence}: payload reuse with inline bytes", code="MV2-E-WAL-APPLY", offset=at)
            if not 0 <= reuse < len(frames):
                raise CorruptFileError(f"WAL record seq {rec.sequence}: reuses the payload of missing frame {reuse}", code="MV2-E-WAL-APPLY", offset=at)
            src = frames[reuse]
            payload_offset, payload_length = src.fields["payload_offset"], src.fields["payload_length"]
            checksum = src.fields["checksum"]
            inline = src.inline_payload
            canonical_length = e["canonical_length"]
            if canonical_length is None:
                canonical_length = src.fields["canonical_length"] if src.fields["canonical_length"] is not None else payload_length
        else:
            inline = e["payload"]
            payload_offset, payload_length = None, len(inline)
            checksum = blake3.blake3(inline).digest()
            canonical_length = e["canonical_length"]
            if canonical_length is None:
                if e["canonical_encoding"] == "zstd":
                    canonical_length = sum(len(c) for c in iter_canonical(inline, "zstd", None, frame_id=fid, offset=at))
                else:
                    canonical_length = len(inline)
        uri = e["uri"] if e["uri"] is not None else default_uri(fid)
        title = e["title"] if e["title"] is not None else title_from_uri(uri)
        parent = None
        if e["parent_sequence"] is not None:
            parent = self.seq_to_frame.get(e["parent_sequence"])
            if parent is None and e["role"] == "document_chunk":
                parent = next(
                    (c for c in reversed(self.inserted)
                     if frames[c].fields["role"] == "document" and frames[c].fields["chunk_manifest"] is not None),
                    None,
                )
        f = {
            "id": fid,
            "timestamp": e["timestamp"],
            "anchor_ts": e["timestamp"],
            "anchor_source": "frame_timestamp",
            "kind": e["kind"],
            "track": e["track"],
            "payload_offset": payload_offset,
            "payload_length": payload_length,
            "checksum": checksum,
            "uri": uri,
            "title": title,
            "canonical_encoding": e["canonical_encoding"],
            "canonical_length": canonical_length,
            "metadata": e["metadata"],
            "search_text": e["search_text"],
            "tags": list(e["tags"]),
            "labels": list(e["labels"]),
            "extra_metadata": dict(e["extra_metadata"]),
            "content_dates": list(e["content_dates"]),
            "chunk_manifest": e["chunk_manifest"],
            "role": e["role"],
            "parent_id": parent,
            "chunk_index": e["chunk_index"],
            "chunk_count": e["chunk_count"],
            "status": "active",
            "supersedes": e["supersedes_frame_id"],
            "superseded_by": None,
            "source_sha256": e.get("source_sha256"),
            "source_path": e.get("source_path"),
            "enrichment_state": e.get("enrichment_state"),
        }
        old = e["supersedes_frame_id"]
        if old is not None:
            if not 0 <= old < len(frames):
                raise CorruptFileError(f"WAL record seq {rec.sequence}: supersedes missing frame {old}", code="MV2-E-WAL-APPLY", offset=at)
            o = frames[old].writable()
            o["status"] = "superseded"
            o["superseded_by"] = fid
        frames.append(FrameState(f, pending=True, inline_payload=inline, embedding=e["embedding"], wal_sequence=rec.sequence))
        self.seq_to_frame[rec.sequence] = fid
        self.inserted.append(fid)
        self.applied += 1
        return fid

    def finish(self) -> None:
        """memvid's second pass: a chunk whose parent was not found links to the nearest
        earlier active document that has a chunk manifest."""
        frames = self.frames
        for fid in self.inserted:
            f = frames[fid].fields
            if f["role"] == "document_chunk" and f["parent_id"] is None:
                for cand in range(fid - 1, -1, -1):
                    c = frames[cand].fields
                    if c["role"] == "document" and c["chunk_manifest"] is not None and c["status"] == "active":
                        f["parent_id"] = cand
                        break


def apply_pending(committed: list[dict], records: list[WalRecord], *, wal_offset: int = 0) -> ReplayResult:
    if committed and all(k in committed[0] for k in FRAME_DEFAULTS):  # one revision: all frames alike
        frames = [FrameState(f, shared=True) for f in committed]
    else:
        frames = [FrameState(dict(FRAME_DEFAULTS, **f)) for f in committed]
    r = Replayer(frames, wal_offset=wal_offset)
    for rec in records:
        r.apply(rec)
    r.finish()
    return ReplayResult(frames, applied=r.applied, lex_records=r.lex_records)
