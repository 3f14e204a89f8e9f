"""Time index queries and the timeline (spec: "Time index").

The time index lists every active frame of role ``document`` as (timestamp, frame_id),
sorted. This module loads it from the file's ``MVTI`` segment, merges the frames that
pending WAL records add (memvid rebuilds the index when it replays them), and answers range
queries by binary search.

``timeline`` reproduces memvid's: the index entries, plus active ``extracted_image`` frames
the index omits, filtered by ``since <= timestamp <= until``, optionally reversed, limited,
with inactive frames skipped and a preview of the first 120 characters of the frame's text.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..format.time_index import TIME_HEADER_SIZE, decode_entries, time_index_size

PREVIEW_CHARS = 120


@dataclass(frozen=True)
class TimelineEntry:
    frame_id: int
    timestamp: int
    uri: str | None
    preview: str

    def to_json(self) -> dict:
        return {"frame_id": self.frame_id, "timestamp": self.timestamp, "uri": self.uri, "preview": self.preview}


class TimeIndex:
    """Sorted (timestamp, frame_id) pairs with range lookup."""

    def __init__(self, entries):
        self.entries = sorted(entries)
        self._ts = [t for t, _ in self.entries]

    @classmethod
    def from_frames(cls, frames) -> "TimeIndex":
        return cls((f["timestamp"], f["id"]) for f in frames if f["status"] == "active" and f["role"] == "document")

    @classmethod
    def from_segment(cls, data: bytes, extra=()) -> "TimeIndex | None":
        """The index an MVTI block holds, or None when the block is not well formed."""
        if len(data) < TIME_HEADER_SIZE or len(data) != time_index_size(int.from_bytes(data[4:TIME_HEADER_SIZE], "little")):
            return None
        e = decode_entries(data)
        return cls(list(zip(e["timestamp"].tolist(), e["frame_id"].tolist())) + list(extra))

    def range(self, since: int | None = None, until: int | None = None) -> list[tuple[int, int]]:
        lo = 0 if since is None else bisect.bisect_left(self._ts, since)
        hi = len(self.entries) if until is None else bisect.bisect_right(self._ts, until)
        return self.entries[lo:hi]

    def __len__(self) -> int:
        return len(self.entries)


def load_time_index(snap) -> TimeIndex:
    """The file's time index, with the frames that pending WAL records insert merged in."""
    m = snap.toc["time_index"]
    # Check the frames, not ``snap.pending_count``: a writable memory adds frames to its
    # snapshot as they are acknowledged, after the count was taken at open.
    pending = [fr.fields for fr in snap.frames if fr.pending]
    if m is None or not m["bytes_length"] or pending or snap.pending_count:
        # No index, or pending records changed statuses: derive it as memvid's rebuild would.
        if m is None and not pending:
            return TimeIndex(())
        return TimeIndex.from_frames([fr.fields for fr in snap.frames])
    data = snap.source.read(m["bytes_offset"], m["bytes_length"], what="time index")
    return TimeIndex.from_segment(data) or TimeIndex.from_frames([fr.fields for fr in snap.frames])


def timeline(snap, text_of, *, since=None, until=None, reverse=False, limit=None) -> list[TimelineEntry]:
    """memvid's timeline over a snapshot. ``text_of(frame_state)`` gives a frame's text."""
    frames = snap.frames
    if snap.toc["time_index"] is None and not any(fr.pending for fr in frames):
        entries = [(f.fields["timestamp"], f.id) for f in frames if f.fields["status"] == "active"]
    else:
        entries = list(load_time_index(snap).entries)
        have = {fid for _, fid in entries}
        entries += [(f.fields["timestamp"], f.id) for f in frames
                    if f.fields["status"] == "active" and f.fields["role"] == "extracted_image" and f.id not in have]
    entries = [(t, fid) for t, fid in entries
               if (since is None or t >= since) and (until is None or t <= until)]
    if reverse:
        entries.reverse()
    out = []
    for t, fid in entries:
        if limit is not None and len(out) >= limit:
            break
        if not 0 <= fid < len(frames):
            continue
        fr = frames[fid]
        if fr.fields["status"] != "active":
            continue
        text = text_of(fr) or ""
        out.append(TimelineEntry(fid, fr.fields["timestamp"], fr.fields["uri"] or f"mv2://frames/{fid}", text[:PREVIEW_CHARS]))
    return out


def encode_time_index(frames) -> bytes:
    """The ``MVTI`` segment for a frame list: its active documents, sorted (spec 8)."""
    import numpy as np

    from ..format.time_index import ENTRY_DTYPE

    docs = [(f["timestamp"], f["id"]) for f in frames if f["status"] == "active" and f["role"] == "document"]
    entries = np.array(docs, dtype=ENTRY_DTYPE) if docs else np.zeros(0, dtype=ENTRY_DTYPE)
    entries.sort(order=("timestamp", "frame_id"))
    return b"MVTI" + len(entries).to_bytes(8, "little") + entries.tobytes()
