"""What a commit contains: payloads, rebuilt indexes and the new TOC (spec: "TOC and footer", "Index segments").

A commit is planned from the logical frame list and the previous TOC, then handed to
``storage.file`` which places and syncs it. Region order within a commit is fixed: new
payloads in frame order, the time index, the Tantivy files sorted by name, the vector index,
the sketch track. The time index, vector index and sketch track are rebuilt from all frames
on each commit. The full-text index is extended when the previous commit's index is ours (one
new segment, deletions as Tantivy bitsets, unchanged files keeping their ranges) and rebuilt
otherwise; either way the result is a function of the operations and commit points alone,
and therefore reproducible.

What is kept from the previous TOC: frames (with statuses), the memories track, logic mesh,
temporal track, CLIP index, replay manifest, ticket, memory binding, enrichment queue and
merkle root. What is replaced: the Tantivy file lists, the vector index, the time index, the
sketch track. The parallel-builder catalog lists are emptied (as memvid's own index rebuild
does); their bytes stay in the file, unreferenced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Callable

import blake3

from .format.frame import FrameStatus
from .format.frametable import LazyFrames, column_value
from .format.revisions import Revision
from .format.segments import SKETCH_SMALL
from .format.sketch import SketchEntries, sketch_entries
from .index import lex
from .index.time import encode_time_index
from .errors import CorruptFileError
from .format.vecseg import decode_vec_segment
from .index.vec import VectorStore, encode_flat
from .storage.replay import FrameState, pending_states

EMPTY_SHA256 = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@dataclass
class Plan:
    blobs: list[bytes]
    build_toc: Callable[[list[int], int], dict]
    lex_workspace: "lex.Workspace | None" = None  # the new index's files, for the writer to keep once committed


ReadChecked = Callable[[int, int, bytes], "bytes | None"]
"""``read_checked(offset, length, checksum)``: the file's bytes a manifest lists, or None if
they lie outside the file or fail the checksum (memvid leaves stale manifests; spec 7.2)."""


def _lex_files(fields: FrameFields, prev_toc: dict, docs: Callable[[int], list[lex.LexDoc]],
               read_checked: ReadChecked | None, workspace: "lex.Workspace | None" = None, keep: bool = False):
    """The Tantivy files of this commit, the previous commit's entries that it reuses, and
    (with ``keep``) the workspace holding the new files, else None.

    When the previous commit's index is one this writer made, it is extended: documents of
    frames that stopped being active are deleted, new frames are added as one new segment,
    and every file whose bytes did not change keeps its range (spec 9.1, R-LEX-005).
    Otherwise, or when the index has reached its segment limit, it is rebuilt. A
    ``workspace`` that holds the previous commit's files is extended in place of them: the
    unchanged files are then neither read from the file nor written out again."""
    prev_entries = prev_toc["indexes"]["lex_segments"]
    prev_frames = prev_toc["frames"]
    if read_checked is not None and prev_entries and prev_frames:
        known = len(prev_frames)
        # Only a changed frame can have stopped being active.
        deleted = sorted(i for i, f in fields.changed.items()
                         if i < known and f["status"] != "active" and prev_frames[i]["status"] == "active")
        new_docs = docs(known)
        if workspace is not None and workspace.matches(prev_entries):
            done = lex.extend_in(workspace, deleted, new_docs)
            if done is not None:
                files, unchanged, ws = done
                before = {e["path"]: e for e in prev_entries}
                reused = {name: before[name] for name in unchanged if name in before}
                if keep:
                    return files, reused, ws
                ws.close()
                return files, reused, None
        prev_files, intact = [], True
        for e in prev_entries:
            data = read_checked(e["bytes_offset"], e["bytes_length"], e["checksum"])
            if data is None:
                intact = False  # never build on bytes that are missing or fail their checksum
                break
            prev_files.append((e["path"], data))
        if intact:
            done = lex.extend(prev_files, deleted, new_docs, keep=keep)
            if done is not None:
                extended, ws = done if keep else (done, None)
                before = {e["path"]: e for e in prev_entries}
                old = dict(prev_files)
                # Components the extension took over are the very objects read (lex._collect_extended):
                # identity decides those without comparing hundreds of MB at a million frames.
                reused = {name: before[name] for name, data in extended
                          if name in before and (data is old[name] or data == old[name])}
                return extended, reused, ws
    if keep:
        files, ws = lex.pack(docs(0), keep=True)
        return files, {}, ws
    return lex.pack(docs(0)), {}, None


def _vec_segments(frames: list[FrameState], fields: FrameFields, prev_toc: dict, vectors: VectorStore,
                  read_checked: ReadChecked | None) -> tuple[list[dict], list[tuple[bytes, list[int]]]]:
    """The catalog vector segments of this commit (spec 9.2, R-VEC-003): the previous commit's
    segments it keeps, and the new ones to write, each with its frame ids.

    Vectors of the frames this commit adds go into one new segment. Then, while the segment
    before the last holds fewer than twice as many vectors as the last, the two are merged into
    one holding the vectors of their frames that are still active. Segment sizes therefore
    at least double from the newest to the oldest: there are O(log n) segments and each vector
    is rewritten O(log n) times over the life of a file. When the previous commit has a
    monolithic ``indexes.vec`` (memvid's own layout), or its segments cannot be read back, all
    live vectors are written as one segment."""
    is_active = (fields.column("status") == FrameStatus.index["active"]).tolist() if len(fields) else []
    known = len(prev_toc["frames"])
    mono = prev_toc["indexes"].get("vec")
    prev = list(prev_toc["segment_catalog"]["vec_segments"])

    def ids_of(x: dict) -> list[int] | None:
        """The frame ids of a kept segment, read back only when it is about to be merged."""
        c = x["common"]
        data = read_checked(c["bytes_offset"], c["bytes_length"], c["checksum"])
        if data is None or x["vector_compression"] != "none":
            return None
        try:
            return [int(i) for i in decode_vec_segment(data, offset=c["bytes_offset"]).ids]
        except CorruptFileError:
            return None

    def plausible(x: dict) -> bool:
        """A kept segment is trusted without being read back only if its descriptor agrees
        with the flat layout's size and the vectors' dimension."""
        return x["vector_compression"] == "none" and x["dimension"] == vectors.dimension and \
            x["common"]["bytes_length"] == 8 + x["vector_count"] * (16 + 4 * x["dimension"])

    if read_checked is not None and not (mono and mono["bytes_length"]) and all(plausible(x) for x in prev):
        # (descriptor of a kept segment or None for a new one, its size, its ids if known)
        seen: set[tuple[int, int]] = set()
        unique = []
        for x in prev:  # the same segment listed twice would count its vectors twice
            key = (x["common"]["bytes_offset"], x["common"]["bytes_length"])
            if key not in seen:
                seen.add(key)
                unique.append(x)
        stack: list[tuple[dict | None, int, list[int] | None]] = [(x, x["vector_count"], None) for x in unique]
        new = [fs.id for fs in frames[known:] if is_active[fs.id] and fs.id in vectors]
        if new:
            stack.append((None, len(new), new))
        intact = True
        while len(stack) >= 2 and stack[-2][1] < 2 * stack[-1][1]:
            (d1, _, older), (d2, _, newer) = stack[-2], stack[-1]
            older = older if older is not None else ids_of(d1)
            newer = newer if newer is not None else ids_of(d2)
            if older is None or newer is None:
                intact = False
                break
            merged = sorted(i for i in older + newer if 0 <= i < len(is_active) and is_active[i] and i in vectors)
            stack[-2:] = [(None, len(merged), merged)]
        if intact:
            stack = [e for e in stack if e[0] is not None or e[1]]
            kept = [d for d, _, _ in stack if d is not None]
            return kept, [(encode_flat(vectors, ids), ids) for d, _, ids in stack if d is None]
    live = [i for i in vectors.ids() if 0 <= i < len(is_active) and is_active[i]]
    return [], ([(encode_flat(vectors, live), live)] if live else [])


class FrameFields(Sequence):
    """The frames of the new TOC: the previous TOC's own dict for every committed frame that
    replay did not change (replay changes only ``status`` and ``superseded_by``), a copy of
    the frame state for the others (:attr:`changed`, by id).

    Copying every frame costs more than the rest of a small commit, and on a lazily opened
    TOC (format/frametable.py) even reading every frame does: so the unchanged frames are
    found from the frames that were ever read, and the columns the commit needs for all frames
    (:meth:`column`) are the previous TOC's, with the changed frames written over them."""

    def __init__(self, frames, prev):
        self.prev = prev
        self.known = known = len(prev)
        self._n = len(frames)
        changed: dict[int, dict] = {}
        touched = getattr(frames, "touched_items", None)
        # A frame never read was never changed: only the states made so far are candidates.
        candidates = touched(known) if touched is not None else enumerate(frames[:known])
        for i, fs in candidates:
            f = fs.fields
            if f is prev[i]:  # replay shares a frame's dict until it changes it
                continue
            if not fs.pending:
                p = prev[i]
                if p["status"] == f["status"] and p["superseded_by"] == f["superseded_by"] \
                        and p["payload_offset"] == f["payload_offset"]:
                    continue
            changed[i] = dict(f)
        for i, fs in enumerate(frames[known:], known):
            changed[i] = dict(fs.fields)
        self.changed = changed

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("frame index out of range")
        f = self.changed.get(i)
        return f if f is not None else self.prev[i]

    def __iter__(self):
        changed, prev, known = self.changed, self.prev, self.known
        step = 4096
        for lo in range(0, known, step):  # unchanged frames a run at a time (one decode call)
            hi = min(known, lo + step)
            for i, f in enumerate(prev[lo:hi], lo):
                yield changed.get(i, f)
        for i in range(known, self._n):
            yield changed[i]

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def column(self, name: str):
        """Field ``name`` of every frame as int64 (None as -1, an Enum as its index), taken from
        the previous TOC's columns where it has them: no unchanged frame is read."""
        import numpy as np

        conv = partial(column_value, name)
        cols = getattr(self.prev, "columns", None)
        if cols is not None and name in cols:
            out = np.empty(self._n, np.int64)
            out[:self.known] = cols[name]
        else:
            out = np.fromiter((conv(f[name]) for f in self.prev), np.int64, self.known)
            out = np.concatenate([out, np.empty(self._n - self.known, np.int64)])
        for i, f in self.changed.items():
            out[i] = conv(f[name])
        return out


def _frame_fields(frames: list[FrameState], prev: list[dict]) -> FrameFields:
    return FrameFields(frames, prev)


def plan_commit(frames: list[FrameState], prev_toc: dict, revision: Revision, *,
                text_of: Callable[[FrameState], str | None], vectors: VectorStore,
                sketch_cache: SketchEntries, read_checked: ReadChecked | None = None,
                vector_model: str | None = None, lex_workspace: "lex.Workspace | None" = None,
                keep_lex_workspace: bool = False) -> Plan:
    """Plan a commit of ``frames`` on top of ``prev_toc``. With ``read_checked``, the previous
    commit's indexes can be extended rather than rebuilt. ``vector_model`` names the embedding
    model in the vec manifest; without it the previous commit's name is kept."""
    # The TOC is built from copies: a commit that fails must leave the frame state untouched,
    # so that a retry plans the same commit again.
    fields = _frame_fields(frames, prev_toc["frames"])
    payload_blobs: list[tuple[int, bytes]] = []
    pending = pending_states(frames)
    for fs in pending:
        if fs.fields["payload_offset"] is None and fs.inline_payload:
            payload_blobs.append((fs.id, fs.inline_payload))

    def docs(start: int) -> list[lex.LexDoc]:
        """The full-text documents of the active frames with ids from ``start`` on."""
        return [lex.LexDoc(fs.id, fs.fields["timestamp"], text_of(fs) or "", tuple(fs.fields["tags"]),
                           tuple(fs.fields["labels"]), fs.fields["track"], fs.fields["uri"])
                for fs in frames[start:] if fs.fields["status"] == "active" and fs.fields["role"] != "extracted_image"]

    tantivy_files, reused_lex, new_ws = _lex_files(fields, prev_toc, docs, read_checked, lex_workspace,
                                                   keep_lex_workspace)
    try:
        time_blob = encode_time_index(fields) if frames else None
        kept_vec, new_vec = _vec_segments(frames, fields, prev_toc, vectors, read_checked)
        has_sketch = any(sc.name == "sketch_track" for sc in revision.toc.subcons)
        sketch_blob = None
        if has_sketch and frames:
            new = [frames[i] for i in sketch_cache.missing(len(frames))]  # ids, not states: none made
            sketch_cache.update(zip((fs.id for fs in new), sketch_entries(text_of(fs) for fs in new)))
            sketch_blob = sketch_cache.track(len(frames))

        blobs = [b for _, b in payload_blobs]
        slots: dict[str, int] = {}
        if time_blob is not None:
            slots["time"] = len(blobs)
            blobs.append(time_blob)
        lex_slot = {}
        for name, data in tantivy_files:
            if name not in reused_lex:
                lex_slot[name] = len(blobs)
                blobs.append(data)
        slots["vec"] = len(blobs)
        blobs += [data for data, _ in new_vec]
        if sketch_blob is not None:
            slots["sketch"] = len(blobs)
            blobs.append(sketch_blob)

        def build_toc(offsets: list[int], data_start: int) -> dict:
            payload_at = {fid: offsets[i] for i, (fid, _) in enumerate(payload_blobs)}
            # Only a frame put since the last commit lacks a payload offset; the others keep theirs.
            placed = [(fs, fields.changed[fs.id]) for fs in pending]
            for fs, f in placed:
                if f["payload_offset"] is None:
                    if fs.id in payload_at:
                        f["payload_offset"] = payload_at[fs.id]
                    elif f["payload_length"] == 0:
                        f["payload_offset"] = 0
            for fs, f in placed:  # payloads shared with a frame committed in this same commit
                if f["payload_offset"] is None:
                    src = next(g for o, g in placed if o.inline_payload is fs.inline_payload and g["payload_offset"] is not None)
                    f["payload_offset"] = src["payload_offset"]
            toc = dict(prev_toc)
            # Over a lazily decoded TOC the new frames stay a view of it (the next reload decodes
            # the new TOC lazily in turn); over a list they become a list, so that views never
            # stack up commit after commit.
            toc["frames"] = fields if isinstance(fields.prev, LazyFrames) else list(fields)
            ix = dict(prev_toc["indexes"])
            first_id = prev_toc["segment_catalog"]["next_segment_id"]
            lex_list, tantivy_list = [], []
            for i, (name, data) in enumerate(tantivy_files):
                if name in reused_lex:
                    off, ck = reused_lex[name]["bytes_offset"], bytes(reused_lex[name]["checksum"])
                else:
                    off, ck = offsets[lex_slot[name]], blake3.blake3(data).digest()
                lex_list.append({"path": name, "bytes_offset": off, "bytes_length": len(data), "checksum": ck})
                tantivy_list.append({"common": {"segment_id": first_id + i, "bytes_offset": off, "bytes_length": len(data),
                                                 "checksum": ck, "build_sequence": 0, "codec_version": 0,
                                                 "compression": "none", "span": None}, "path": name})
            ix["lex_segments"] = lex_list
            # Vectors live in catalog segments; indexes.vec is the empty placeholder that makes
            # readers use them (memvid's put_many layout).
            vec_list = [dict(x) for x in kept_vec]
            next_id = first_id + len(tantivy_files)
            for i, (data, ids) in enumerate(new_vec):
                vec_list.append({"common": {"segment_id": next_id, "bytes_offset": offsets[slots["vec"] + i],
                                            "bytes_length": len(data), "checksum": blake3.blake3(data).digest(),
                                            "build_sequence": 0, "codec_version": 1, "compression": "none",
                                            "span": {"frame_start": ids[0], "frame_end": ids[-1], "page_start": 0,
                                                     "page_end": 0, "token_start": 0, "token_end": 0}},
                                 "vector_count": len(ids), "dimension": vectors.dimension, "vector_compression": "none"})
                next_id += 1
            total = sum(x["vector_count"] for x in vec_list)
            ix["vec"] = {"vector_count": total, "dimension": vectors.dimension if total else 0, "bytes_offset": data_start,
                         "bytes_length": 0, "checksum": EMPTY_SHA256, "compression_mode": "none",
                         "model": vector_model or (prev_toc["indexes"].get("vec") or {}).get("model")}
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
            cat.update(next_segment_id=next_id, lex_segments=[], vec_segments=vec_list, time_segments=[],
                       tantivy_segments=tantivy_list, index_segments=[])
            toc["segment_catalog"] = cat
            return toc

        return Plan(blobs, build_toc, new_ws)
    except BaseException:
        if new_ws is not None:
            new_ws.close()  # a plan that fails leaves no scratch files behind
        raise


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
