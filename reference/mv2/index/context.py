"""Preparing a snapshot for search: which index, which sketches, which text (spec: "Search").

* The Tantivy files are taken from ``segment_catalog.tantivy_segments`` when present (memvid
  prefers that list), else from ``indexes.lex_segments``; only files whose BLAKE3 matches are
  used.
* When pending WAL records add frames, or the file has no Tantivy files, the index is rebuilt
  from the frames (as memvid's recovery does), so that what a reader shows is searchable.
* Searching inactive frames (``include`` beyond ``active``) uses a transient index built from
  those frames' text: the file's own index covers active frames only.
* The sketch pre-filter uses the file's sketch track, extended with entries computed for
  pending frames; a file without a sketch track is searched without pre-filter.
"""

from __future__ import annotations


from ..format.sketch import decode_track, sketch_entry
from ..storage.view import children_of
from . import lex
from .lexsearch import FindContext, LexIndex, SketchFilter


def _index_files(snap) -> list[tuple[str, bytes]] | None:
    t = snap.toc
    listed = [(x["path"], x["common"]) for x in t["segment_catalog"]["tantivy_segments"]] or \
             [(x["path"], x) for x in t["indexes"]["lex_segments"]]
    if not listed:
        return None
    files = []
    for path, m in listed:
        data = snap.checked_range(m["bytes_offset"], m["bytes_length"], m["checksum"], what=f"tantivy {path}")
        if data is None:
            return None
        files.append((path, data))
    return files


def stored_sketches(snap) -> list[bytes] | None:
    """The entries of the file's sketch track, if it is present, intact and well formed."""
    m = snap.toc.get("sketch_track")
    if not m or not m["bytes_length"]:
        return None
    data = snap.checked_range(m["bytes_offset"], m["bytes_length"], m["checksum"], what="sketch track")
    return None if data is None else decode_track(data)


def _sketch_entries(snap, text_of) -> list[bytes] | None:
    entries = stored_sketches(snap)
    if entries is None:
        return None
    for fs in snap.frames[len(entries):]:
        if fs.pending:
            entries.append(sketch_entry(text_of(fs)))
    return entries


def chunk_context(snap, frame_id: int):
    """(start, end, text) of the passage memvid cuts snippets from (its resolve_chunk_context)."""
    fs = snap.frames[frame_id]
    f = fs.fields

    def lossy(fr) -> bytes:
        return snap.canonical_payload(fr)

    if f["role"] == "document_chunk" and f["parent_id"] is not None and 0 <= f["parent_id"] < len(snap.frames):
        parent = snap.frames[f["parent_id"]]
        if parent.fields["chunk_manifest"] is not None and f["chunk_index"] is not None:
            kids = children_of(snap, parent.id)
            idx = f["chunk_index"]
            if idx < len(kids):
                payloads = [lossy(k) for k in kids]
                offset = sum(len(p) for p in payloads[:idx])
                b = payloads[idx]
                return offset, offset + len(b), b.decode("utf-8", errors="replace")
    if f["role"] == "document" and f["chunk_manifest"] is not None:
        kids = children_of(snap, frame_id)
        if kids:
            b = lossy(kids[0])
            return 0, len(b), b.decode("utf-8", errors="replace")
    if f["search_text"] is not None:
        return 0, len(f["search_text"].encode("utf-8")), f["search_text"]
    b = lossy(fs)
    return 0, len(b), b.decode("utf-8", errors="replace")


def build_context(snap, text_of, *, statuses=("active",)) -> FindContext:
    frames = [fs.fields for fs in snap.frames]
    index = None
    pending = any(fs.pending for fs in snap.frames)
    if statuses == ("active",) and not pending:
        files = _index_files(snap)
        if files is not None:
            index = LexIndex(files)
    if index is None:
        docs = [lex.LexDoc(fs.id, fs.fields["timestamp"], text_of(fs) or "", tuple(fs.fields["tags"]),
                           tuple(fs.fields["labels"]), fs.fields["track"], fs.fields["uri"])
                for fs in snap.frames if fs.fields["status"] in statuses]
        index = LexIndex(lex.pack(docs))
    sketch = None
    if statuses == ("active",):
        entries = _sketch_entries(snap, text_of)
        if entries is not None:
            sketch = SketchFilter(entries)
    return FindContext(frames, index, sketch, lambda fid: chunk_context(snap, fid))
