"""Preparing a snapshot for search: which index, which sketches, which text (spec: "Search").

* The Tantivy files are taken from ``segment_catalog.tantivy_segments`` when present (memvid
  prefers that list), else from ``indexes.lex_segments``; only files whose BLAKE3 matches are
  used.
* When frames changed since the commit (pending WAL records, or a writer's unsealed puts,
  supersedes and deletes), the index searched is the one the next commit would write
  (:class:`LexSearch`), so that what a reader shows is searchable; a file without Tantivy
  files gets an index built from its frames.
* Searching inactive frames (``include`` beyond ``active``) uses a transient index built from
  those frames' text: the file's own index covers active frames only.
* The sketch pre-filter uses the file's sketch track, extended with entries computed for
  pending frames, built the first time a search asks for it; a file without a sketch track
  is searched without pre-filter.
"""

from __future__ import annotations

import json

from ..format.sketch import decode_track, sketch_entry, track_body
from ..storage.view import children_of
from . import lex
from .lexsearch import FindContext, LexIndex, SketchFilter
from .unsealed import LiveIndex


def _same_lists(toc) -> bool:
    """Whether the catalog's Tantivy list names the files ``lex_segments`` does (mv2 writes
    both alike; a reader reads the catalog's when it has one)."""
    cat = toc["segment_catalog"]["tantivy_segments"]
    return not cat or {(x["path"], bytes(x["common"]["checksum"])) for x in cat} == \
        {(x["path"], bytes(x["checksum"])) for x in toc["indexes"]["lex_segments"]}


def _index_files(snap) -> list[tuple[str, bytes]] | None:
    t = snap.toc
    listed = [(x["path"], x["common"]) for x in t["segment_catalog"]["tantivy_segments"]] or \
             [(x["path"], x) for x in t["indexes"]["lex_segments"]]
    if not listed:
        return None
    got = snap.checked_ranges([(m["bytes_offset"], m["bytes_length"], m["checksum"]) for _, m in listed],
                              what="tantivy files")
    if any(data is None for data in got):
        return None
    return [(path, data) for (path, _), data in zip(listed, got)]


def stored_track(snap) -> tuple[bytes, int] | None:
    """(entries, count) of the file's sketch track, if it is present, intact and well formed."""
    m = snap.toc.get("sketch_track")
    if not m or not m["bytes_length"]:
        return None
    data = snap.checked_range(m["bytes_offset"], m["bytes_length"], m["checksum"], what="sketch track")
    return None if data is None else track_body(data)


def stored_sketches(snap) -> list[bytes] | None:
    """The entries of the file's sketch track, if it is present, intact and well formed."""
    m = snap.toc.get("sketch_track")
    if not m or not m["bytes_length"]:
        return None
    data = snap.checked_range(m["bytes_offset"], m["bytes_length"], m["checksum"], what="sketch track")
    return None if data is None else decode_track(data)


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


class _Fields:
    """The frames' field dicts, by id, without copying the frame list."""

    def __init__(self, frames):
        self._frames = frames

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, i: int) -> dict:
        return self._frames[i].fields

    def __iter__(self):
        return (fs.fields for fs in self._frames)


def lex_docs(frames, start: int, text_of, statuses=("active",)) -> list[lex.LexDoc]:
    """The full-text documents of the frames from id ``start`` on whose status is in
    ``statuses``, as a commit indexes them (extracted images have none)."""
    return [lex.LexDoc(fs.id, fs.fields["timestamp"], text_of(fs) or "", tuple(fs.fields["tags"]),
                       tuple(fs.fields["labels"]), fs.fields["track"], fs.fields["uri"])
            for fs in frames[start:] if fs.fields["status"] in statuses and fs.fields["role"] != "extracted_image"]


def _extendable(files: list[tuple[str, bytes]]) -> bool:
    """Whether a commit would extend this index by a segment rather than rebuild it
    (the test :func:`lex.extend` makes)."""
    try:
        d = dict(files)
        meta = json.loads(d["meta.json"])
        return len(meta.get("segments", [])) + 1 <= lex.MAX_SEGMENTS and lex._is_ours(meta, d)
    except Exception:  # noqa: BLE001 - anything unexpected: the commit would rebuild
        return False


class LexSearch:
    """The lexical search state of one snapshot, kept for the life of a handle.

    * With no unsealed change, the file's own index is searched, opened once.
    * After puts, supersedes or deletes that are not sealed yet, the index searched is the
      one the next commit would write, built the same way: the committed index extended by
      one segment holding the new documents, with the documents of frames that stopped
      being active deleted (spec 9.1). The committed segments are hard-linked, not
      rewritten, so this costs time in proportion to the unsealed documents, not the file,
      and the hits are exactly those the file gives once sealed. When the commit would
      rebuild the index instead (a file whose index another writer made, or one at its
      segment limit), the index of the frames as they are is built at the first such search
      and extended from then on, until a frame in it stops being active (deleted documents
      count in BM25 statistics; the rebuilt index would have none).
    * Searching superseded or deleted frames uses a transient index of those frames' text.
    """

    def __init__(self, snap, text_of, workspace=None, writable: bool = False):
        self.snap = snap
        self.text_of = text_of
        self.writable = writable  # a writer's search: it will search unsealed changes too
        self._file_extendable = False  # the file's index, once read, is one a commit extends
        # A writer's lex.Workspace of this snapshot's commit: its files are the committed
        # index, hard-linked instead of read from the file, checked and written out again.
        lex_entries = snap.toc["indexes"]["lex_segments"]
        self.workspace = workspace if workspace is not None and lex_entries and workspace.matches(lex_entries) \
            and _same_lists(snap.toc) else None
        self._file_index: LexIndex | None = None
        self._file_index_done = False
        self._base: tuple | None = None  # index, frames covered, was_active(id), extendable
        self._live: LiveIndex | None = None  # the base extended by the unsealed documents
        self._pending_ids: set[int] | None = None
        self._views: dict[tuple, tuple[int, FindContext]] = {}
        self._lowered: dict[int, str] = {}
        self._stored_sketches: list[bytes] | None | bool = False

    # -- the indexes ----------------------------------------------------------------------------
    def _committed_index(self, files=False) -> LexIndex | None:
        """The file's own index, opened once (from ``files`` when the caller read them)."""
        if not self._file_index_done:
            if files is False and self.workspace is not None:
                self._file_index = LexIndex(None, directory=self.workspace.link_into("mv2-search-"))
            else:
                if files is False:
                    files = _index_files(self.snap)
                self._file_index = LexIndex(files) if files is not None else None
                if self.writable and files is not None:
                    # Decided while the bytes are at hand: a writer's first search after a put
                    # would otherwise read and hash the whole index again to learn it.
                    self._file_extendable = _extendable(files)
            self._file_index_done = True
        return self._file_index

    def committed_workspace(self):
        """A lex.Workspace of the committed index this search unpacked, for a writer's first
        commit to extend (None when it has not unpacked one)."""
        idx = self._file_index
        entries = self.snap.toc["indexes"]["lex_segments"]
        if idx is None or not entries or not _same_lists(self.snap.toc):
            return None
        return lex.Workspace.of_directory(idx.directory, entries)

    def _base_index(self, touched=None) -> tuple:
        """The index unsealed changes extend, the number of frames it covers, whether a frame
        (by id) was active in it, and whether the commit would extend it."""
        if self._base is None:
            committed = self.snap.toc["frames"]
            if committed and self.workspace is not None and self.workspace.segment_count() + 1 <= lex.MAX_SEGMENTS:
                # A writer's own index (lex.extend made it): extendable, and its files are at hand.
                base = self._committed_index()
                self._base = (base, len(committed), lambda i: committed[i]["status"] == "active", True)
                return self._base
            if committed and self._file_index is not None and self._file_extendable:
                # A search opened the file's index already and found it one a commit extends.
                base = self._file_index
                self._base = (base, len(committed), lambda i: committed[i]["status"] == "active", True)
                return self._base
            files = _index_files(self.snap) if committed else None
            if files is not None and _extendable(files):
                base = self._committed_index(files)  # the files are read and checked once
                # Read from the committed frame table when asked: no per-frame set to build.
                self._base = (base, len(committed), lambda i: committed[i]["status"] == "active", True)
            else:
                self._base = self._rebuilt()
        elif not self._base[3] and self._deleted(self._base, touched):
            # The commit will rebuild the index without the documents of frames deleted or
            # superseded since: so must the search, as deleted documents count in BM25.
            self._drop_live()
            self._base[0].close()
            self._base = None
            self._base = self._rebuilt()
        return self._base

    def _rebuilt(self) -> tuple:
        frames = self.snap.frames
        n = len(frames)
        idx = LexIndex.of_documents(lex_docs(frames, 0, self.text_of))
        active = frozenset(fs.id for fs in frames[:n] if fs.fields["status"] == "active")
        return (idx, n, active.__contains__, False)

    def _pending_changed(self) -> set[int]:
        """Committed frames that pending WAL records (replayed on open) deactivated: the
        handle's own changes are in ``touched``, these are not. Found once per snapshot."""
        if self._pending_ids is None:
            committed = self.snap.toc["frames"]
            frames = self.snap.frames
            self._pending_ids = set() if not self.snap.pending_count else {
                i for i, f in enumerate(committed)
                if i < len(frames) and f["status"] == "active" and frames[i].fields["status"] != "active"}
        return self._pending_ids

    def _deleted(self, base, touched) -> list[int]:
        """Frames the base index holds as active that are not active any more."""
        _, covered, was_active, _ = base
        frames = self.snap.frames
        ids = range(covered) if touched is None else set(touched) | self._pending_changed()
        return sorted(i for i in ids if 0 <= i < covered and was_active(i) and frames[i].fields["status"] != "active")

    def _unsealed_index(self, touched) -> LexIndex:
        base = self._base_index(touched)
        docs = lex_docs(self.snap.frames, base[1], self.text_of)
        deleted = self._deleted(base, touched)
        live = self._live
        try:
            if live is not None and live.base is base[0] and live.sync(deleted, docs):
                return live.index
            self._drop_live()
            live = self._live = LiveIndex(base[0])
            if not live.sync(deleted, docs):
                raise RuntimeError("the unsealed documents do not fit the segment limit")
            return live.index
        except BaseException:
            self._drop_live()  # a failed sync leaves the writer in an unknown state
            raise

    def _drop_live(self) -> None:
        if self._live is not None:
            self._live.close()
            self._live = None

    # -- contexts ------------------------------------------------------------------------------
    def context(self, statuses=("active",), version: int = 0, touched=None) -> FindContext:
        """The context to search ``statuses`` with; ``version`` counts the handle's unsealed
        changes (0: none), so that a context is rebuilt only when something changed, and
        ``touched``, when given, holds every frame id whose status those changes may have
        changed (else every frame is checked)."""
        hit = self._views.get(statuses)
        if hit is not None and hit[0] == version:
            return hit[1]
        if hit is not None:
            self._release(hit[1])
        changed = version != 0 or self.snap.pending_count > 0
        if statuses != ("active",):
            index = LexIndex.of_documents(lex_docs(self.snap.frames, 0, self.text_of, statuses))
        elif not changed:
            index = self._committed_index()
            if index is None:
                index = LexIndex.of_documents(lex_docs(self.snap.frames, 0, self.text_of))
        else:
            index = self._unsealed_index(touched)
        sketch = (lambda: self._sketch()) if statuses == ("active",) else None
        ctx = FindContext(_Fields(self.snap.frames), index, None, lambda fid: chunk_context(self.snap, fid),
                          lowered=self._lowered, sketch_factory=sketch)
        self._views[statuses] = (version, ctx)
        return ctx

    def _sketch(self) -> SketchFilter | None:
        if self._stored_sketches is False:
            self._stored_sketches = stored_sketches(self.snap)
        stored = self._stored_sketches
        if stored is None:
            return None
        entries = list(stored)
        for fs in self.snap.frames[len(entries):]:
            if fs.pending:
                entries.append(sketch_entry(self.text_of(fs)))
        return SketchFilter(entries)

    def _keep(self, index) -> bool:
        return (index is self._file_index or (self._base is not None and index is self._base[0])
                or (self._live is not None and index is self._live.index))

    def _release(self, ctx: FindContext) -> None:
        if ctx.index is not None and not self._keep(ctx.index):
            ctx.index.close()

    def close(self) -> None:
        for _, ctx in self._views.values():
            self._release(ctx)
        self._views.clear()
        self._drop_live()
        if self._base is not None and self._base[0] is not self._file_index:
            self._base[0].close()
        self._base = None
        if self._file_index is not None:
            self._file_index.close()
        self._file_index = None
        self._file_index_done = False
        self._file_extendable = False


def build_context(snap, text_of, *, statuses=("active",)) -> FindContext:
    """A one-off search context (a handle keeps a :class:`LexSearch` instead)."""
    return LexSearch(snap, text_of).context(statuses)
