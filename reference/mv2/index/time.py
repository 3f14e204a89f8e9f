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

from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from ..format.time_index import TIME_HEADER_SIZE, decode_entries, is_sorted, time_index_size
from ..storage.replay import pending_states

PREVIEW_CHARS = 120


@dataclass(frozen=True)
class TimelineEntry:
    frame_id: int
    timestamp: int
    uri: str | None
    preview: str

    def to_json(self) -> dict:
        return {"frame_id": self.frame_id, "timestamp": self.timestamp, "uri": self.uri, "preview": self.preview}


def _checked(snap, m: dict):
    """The time index segment's bytes if they match its checksum, else None (R-TIME-005): a
    damaged index is not used, and the timeline is derived from the frame table instead, as
    memvid's rebuild would make it, so that no damaged byte reorders or drops an entry."""
    return snap.checked_range(m["bytes_offset"], m["bytes_length"], m["checksum"], what="time index")


class TimelineView:
    """The timeline of one snapshot, kept for the life of a handle: ``timeline(limit=k)``
    costs O(k + log n) (plus the frames put since, and any frames it skips as no longer
    active), not a sort of the whole index per call.

    The order is memvid's: the time index's entries, sorted by (timestamp, frame id), then
    the active ``extracted_image`` frames it omits, in frame order. The sorted part is two
    numpy arrays (timestamps, frame ids), built once from the ``MVTI`` segment (or, when
    pending records changed the frames, from the frames, as memvid rebuilds it); frames
    added after that are kept in a short sorted list and merged on the fly."""

    def __init__(self, snap):
        self.snap = snap
        frames = snap.frames
        m = snap.toc["time_index"]
        self.covered = len(frames)
        self.unindexed = m is None and not pending_states(frames)
        if self.unindexed:
            return  # memvid's timeline over a file without a time index: active frames, in id order
        entries = None
        if m is not None and m["bytes_length"] and not snap.pending_count and len(frames) == len(snap.toc["frames"]):
            data = _checked(snap, m)
            if data is not None and len(data) >= TIME_HEADER_SIZE and len(data) == time_index_size(int.from_bytes(data[4:TIME_HEADER_SIZE], "little")):
                entries = decode_entries(data)
        if entries is None:
            docs = [(f.fields["timestamp"], f.id) for f in frames if f.fields["status"] == "active" and f.fields["role"] == "document"]
            ts = np.fromiter((t for t, _ in docs), dtype=np.int64, count=len(docs))
            fid = np.fromiter((i for _, i in docs), dtype=np.int64, count=len(docs))
        else:
            ts = entries["timestamp"].astype(np.int64)
            fid = entries["frame_id"].astype(np.int64, casting="unsafe")
        if entries is not None and is_sorted(entries):
            self.ts, self.fid = ts, fid  # the index is sorted (R-TIME-002): one pass checks it, no sort
        else:
            order = np.lexsort((fid, ts))
            self.ts, self.fid = ts[order], fid[order]
        indexed = set()
        column = getattr(frames, "column", None)
        role = column("role") if column is not None else None
        if role is not None:  # a lazily opened file: no frame read
            from ..format.frame import FrameRole, FrameStatus

            mask = (role == FrameRole.index["extracted_image"]) & (column("status") == FrameStatus.index["active"])
            images = np.flatnonzero(mask).tolist()
        else:
            images = [f.id for f in frames if f.fields["role"] == "extracted_image" and f.fields["status"] == "active"]
        if images:
            indexed = set(self.fid[np.isin(self.fid, np.asarray(images, dtype=np.int64))].tolist())
        self.images = [i for i in images if i not in indexed]

    def _added(self):
        """(sorted documents, extracted images) among the frames added since the view was built."""
        docs, images = [], []
        for f in self.snap.frames[self.covered:]:
            if f.fields["status"] != "active":
                continue
            if f.fields["role"] == "document":
                docs.append((f.fields["timestamp"], f.id))
            elif f.fields["role"] == "extracted_image":
                images.append(f.id)
        docs.sort()
        return docs, images

    def entries(self, since=None, until=None, reverse=False):
        """(timestamp, frame id) in timeline order, lazily."""
        frames = self.snap.frames
        if self.unindexed and len(frames) > self.covered:
            self.__init__(self.snap)  # frames put since: the timeline is now the sorted one, as memvid rebuilds it
        if self.unindexed:
            seq = [(f.fields["timestamp"], f.id) for f in frames if f.fields["status"] == "active"]
            seq = [(t, i) for t, i in seq if (since is None or t >= since) and (until is None or t <= until)]
            yield from (reversed(seq) if reverse else seq)
            return
        added, added_images = self._added()
        lo = 0 if since is None else int(np.searchsorted(self.ts, since, side="left"))
        hi = len(self.ts) if until is None else int(np.searchsorted(self.ts, until, side="right"))
        extra = [(t, i) for t, i in added if (since is None or t >= since) and (until is None or t <= until)]
        images = [(frames[i].fields["timestamp"], i) for i in self.images + added_images]
        images = [(t, i) for t, i in images if (since is None or t >= since) and (until is None or t <= until)]
        if reverse:
            yield from reversed(images)
            yield from _merge_desc(self.ts, self.fid, lo, hi, extra)
        else:
            yield from _merge_asc(self.ts, self.fid, lo, hi, extra)
            yield from images


def _merge_asc(ts, fid, lo, hi, extra):
    j = 0
    for i in range(lo, hi):
        e = (int(ts[i]), int(fid[i]))
        while j < len(extra) and extra[j] <= e:
            yield extra[j]
            j += 1
        yield e
    yield from extra[j:]


def _merge_desc(ts, fid, lo, hi, extra):
    j = len(extra) - 1
    for i in range(hi - 1, lo - 1, -1):
        e = (int(ts[i]), int(fid[i]))
        while j >= 0 and extra[j] >= e:
            yield extra[j]
            j -= 1
        yield e
    while j >= 0:
        yield extra[j]
        j -= 1


def timeline(snap, text_of, *, since=None, until=None, reverse=False, limit=None, view: TimelineView | None = None) -> list[TimelineEntry]:
    """memvid's timeline over a snapshot. ``text_of(frame_state)`` gives a frame's text;
    ``view``, a :class:`TimelineView` of the same snapshot kept between calls."""
    frames = snap.frames
    view = view if view is not None else TimelineView(snap)
    out = []
    for t, fid in view.entries(since, until, reverse):
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
    """The ``MVTI`` segment for a frame list: its active documents, sorted (spec 8).

    Every commit writes it, so it is built in column passes that run in C (a list of tuples
    cost 4 µs a frame at 100 000 frames, most of it in the collector)."""
    import numpy as np

    from ..format.time_index import ENTRY_DTYPE

    n = len(frames)
    column = getattr(frames, "column", None)
    if column is not None:  # a commit's frame list (committer.FrameFields): its columns, no frame read
        from ..format.frame import FrameRole, FrameStatus

        keep = (column("status") == FrameStatus.index["active"]) & (column("role") == FrameRole.index["document"])
        ts = column("timestamp")[keep]
        ids = column("id")[keep].astype(np.uint64)
    else:
        keep = np.fromiter(map(("active", "document").__eq__, map(itemgetter("status", "role"), frames)), bool, n)
        ts = np.fromiter(map(itemgetter("timestamp"), frames), np.int64, n)[keep]
        ids = np.fromiter(map(itemgetter("id"), frames), np.uint64, n)[keep]
    order = np.lexsort((ids, ts))  # by timestamp, then frame id
    entries = np.empty(len(order), dtype=ENTRY_DTYPE)
    entries["timestamp"] = ts[order]
    entries["frame_id"] = ids[order]
    return b"MVTI" + len(entries).to_bytes(8, "little") + entries.tobytes()
