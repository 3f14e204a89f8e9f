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

from collections.abc import Sequence
from itertools import compress
from dataclasses import dataclass, field

import blake3

from ..errors import CorruptFileError
from ..format.frametable import column_value
from ..format.gcpause import paused_gc, untracked
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
    frames: "FrameTable"
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


class FrameTable(Sequence):
    """The logical frame list: the committed frames, then the pending ones.

    A committed frame's :class:`FrameState` is made when the frame is first read (a million
    of them cost 0.5 s and 150 MB on open, and most uses read a few) and then kept, so that a
    change made through :meth:`FrameState.writable` stays. Pending frames are appended."""

    __slots__ = ("_committed", "_states", "_shared", "_made")

    def __init__(self, committed):
        self._committed = committed
        self._states: list = [None] * len(committed)
        self._shared = None  # decided by the first frame read (all frames of a TOC are alike)
        self._made: list[int] = []  # ids of the committed frames whose state has been made, in that order

    def _at(self, i: int) -> FrameState:
        s = self._states[i]
        if s is None:
            f = self._committed[i]
            if self._shared is None:
                self._shared = all(k in f for k in FRAME_DEFAULTS)
            s = self._states[i] = FrameState(f, shared=True) if self._shared else FrameState(dict(FRAME_DEFAULTS, **f))
            if i < len(self._committed):
                self._made.append(i)
        return s

    def __len__(self) -> int:
        return len(self._states)

    def _fill(self, lo: int, hi: int) -> None:
        """Make the states of [lo, hi), reading the committed frames a run at a time (a lazy
        frame list decodes a run in one call, and a frame at a time costs more than that)."""
        states, n = self._states, len(self._committed)
        hi = min(hi, n)
        if lo >= hi or None not in states[lo:hi]:
            return
        fields = self._committed[lo:hi]
        if self._shared is None:
            self._shared = all(k in fields[0] for k in FRAME_DEFAULTS)
        shared = self._shared
        made = []
        with paused_gc():
            for j, f in enumerate(fields, lo):
                if states[j] is None:
                    s = states[j] = FrameState(f, shared=True) if shared else FrameState(dict(FRAME_DEFAULTS, **f))
                    made.append(s)
                    self._made.append(j)
            # A state refers to its fields and payload bytes, never back to anything that
            # refers to it: it cannot be in a cycle, so no collection need walk it.
            untracked(made)

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(len(self._states))
            if step == 1:
                self._fill(lo, hi)
                return self._states[lo:hi]
            return [self._at(j) for j in range(lo, hi, step)]
        n = len(self._states)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("frame index out of range")
        return self._at(i)

    BATCH = 1024

    def __iter__(self):
        i, step = 0, self.BATCH
        while i < len(self._states):  # the table may grow while it is iterated
            hi = min(len(self._states), i + step)
            self._fill(i, hi)
            yield from self._states[i:hi]
            i = hi

    def append(self, state: FrameState) -> None:
        self._states.append(state)

    def column(self, name: str):
        """Field ``name`` of every frame as int64 (format/frametable.py), from the committed
        frames' columns with the states changed or appended since written over them; None
        when the committed frames have no such column."""
        base = getattr(self._committed, "column", None)
        col = base(name) if base is not None else None
        if col is None:
            return None
        import numpy as np

        n = len(self._committed)
        out = np.empty(len(self._states), np.int64)
        out[:n] = col
        committed = self._committed
        for i, st in self.touched_items(n):
            if st.fields is not committed[i]:  # (a state exists only for a frame already read)
                out[i] = column_value(name, st.fields[name])
        for i, st in enumerate(self._states[n:], n):
            out[i] = column_value(name, st.fields[name])
        return out

    def touched_items(self, stop: int) -> list[tuple[int, FrameState]]:
        """(id, state) of every frame below ``stop`` whose state has been made, by id: from
        the list of those made, not a pass over every frame (a timeline reads 100 of a million)."""
        if len(self._made) * 8 >= stop:  # most of them: one C pass is cheaper than sorting
            states = self._states[:stop]
            return list(compress(enumerate(states), states))
        states = self._states
        return [(i, states[i]) for i in sorted(i for i in self._made if i < stop)]

    @property
    def committed_count(self) -> int:
        return len(self._committed)

    def touched(self, i: int) -> FrameState | None:
        """Frame ``i``'s state if anything has read it yet, else None (nothing is made)."""
        return self._states[i]

    @property
    def committed(self):
        return self._committed

    def pending_states(self) -> list[FrameState]:
        """The frames replay appended (pending ones are only ever appended): none is made."""
        return self._states[len(self._committed):]


def pending_states(frames) -> list[FrameState]:
    """The pending frames of a frame list, without touching the committed ones of a table."""
    if isinstance(frames, FrameTable):
        return frames.pending_states()
    return [fs for fs in frames if fs.pending]


def apply_pending(committed: list[dict], records: list[WalRecord], *, wal_offset: int = 0) -> ReplayResult:
    frames = FrameTable(committed)
    r = Replayer(frames, wal_offset=wal_offset)
    for rec in records:
        r.apply(rec)
    r.finish()
    return ReplayResult(frames, applied=r.applied, lex_records=r.lex_records)
