"""The user API: a memory file you put frames into, replace, delete and read (spec: "Durability", "Frames").

    import mv2
    with mv2.create("notes.mv2") as mem:
        fid = mem.put("The user is allergic to penicillin.", uri="mv2://profile/allergy",
                      title="Allergy", timestamp=1700000000, tags=["health"])
    with mv2.open("notes.mv2") as mem:          # read-only
        print(mem.frame(fid)["text"])

Every change is durable when the call returns: it is in the file's write-ahead log, synced.
``seal()`` folds the log into a new commit (indexes, TOC); ``close()`` seals. A put without
``timestamp`` records the current time (or the time the memory's ``clock`` gives); puts with
explicit timestamps, as operation scripts carry, read no clock and give the same bytes
everywhere. ``supersede`` and ``delete`` without a timestamp keep the old frame's.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

import numpy as np

from .chunking import plan_chunks
from .entries import BatchRef, check_timestamp, chunked_entries, embedder_model, frame_entry, make_put, tombstone_entry
from .errors import NotFoundError, StorageIOError, UnsupportedError, UsageError
from .format.revisions import REVISIONS
from .format.sketch import SketchEntries
from .format.wal import WAL_RECORD_HEADER_SIZE
from .index.time import timeline as _timeline
from .index.vec import VectorStore, load_vectors
from .storage.file import WritableFile, wal_record
from .storage.replay import FrameState, Replayer, pending_states
from .storage.snapshot import Snapshot, read_snapshot
from .storage.verify import analyze
from .storage.view import canonical_json, dump as _dump, frame_record, frame_text

DEFAULT_WAL_SIZE = 64 << 10
"""WAL size of a new file, as memvid-sdk 2.0.160 chooses: a memory of a few notes stays under
100 KB. A session that puts more grows the WAL on demand (doubling, its records carried
over, up to :data:`WAL_GROW_LIMIT`) and gives the room back when it closes; any size is
valid (spec 4.4)."""
NEW_FILE_REVISION = "memvid-2.0.160"
WAL_GROW_LIMIT = 64 << 20
"""A full WAL grows (doubling, pending records carried over) up to this size; past it, the
writer commits instead. Growing is cheaper than committing: a commit rebuilds every index."""
COMPACT_MIN_DEAD = 1 << 20
"""After a commit, the file is rewritten without its dead bytes (indexes and TOCs of earlier
commits) once they are at least this many and at least as many as the live bytes. The file
then stays under about twice its live size, and each byte is copied O(1) times on average."""


def wall_clock() -> int:
    """A clock you may pass explicitly: the current Unix time in whole seconds."""
    import time

    return int(time.time())


class Memory:
    """An open memory file. Create with :func:`create`, open with :func:`open`."""

    def __init__(self, path: str, snap: Snapshot, file: WritableFile | None, *, clock, embedder=None,
                 wal_grow_limit: int = WAL_GROW_LIMIT, compact_min_dead: int = COMPACT_MIN_DEAD):
        self.path = path
        self._wal_grow_limit = wal_grow_limit
        self._compact_min_dead = compact_min_dead
        self._wal_base = file.wal_size if file is not None else 0  # the WAL size close() returns to
        self._embedder = embedder
        self._search_cache: dict = {}
        self._lex_search = None  # index.context.LexSearch of this snapshot, made on the first find
        self._version = 0  # changes since the snapshot was read: search state is kept per version
        self._touched: set[int] = set()  # frames those changes superseded or deleted
        self._snap = snap
        self._file = file
        self._clock = clock
        self._dirty = False
        self._closed = False
        self._sketch_cache = SketchEntries()  # sketch track entries, for the next commit
        self._vector_store: VectorStore | None = None  # loaded on first use: see _vectors
        self._lex_ws = None  # index.lex.Workspace: the last commit's Tantivy files, for the next commit
        self._model = (snap.toc["indexes"].get("vec") or {}).get("model")
        self._replayer = Replayer(snap.frames, wal_offset=snap.header["wal_offset"])
        self.recovery: dict = {}
        self.compaction_error: StorageIOError | None = None  # why the last commit could not compact
        self._vector_model: str | None = None

    # -- state ---------------------------------------------------------------------------------
    @property
    def writable(self) -> bool:
        return self._file is not None

    @property
    def revision(self) -> str:
        return self._snap.revision.name

    @property
    def frame_count(self) -> int:
        return len(self._snap.frames)

    def _require_writable(self) -> WritableFile:
        if self._closed:
            raise UsageError("the memory is closed")
        if self._file is None:
            raise UsageError("the memory was opened read-only; open it with mode='a' to write", code="MV2-E-READ-ONLY")
        self._file._guard()  # a handle whose write failed refuses every later write (spec 12.2)
        return self._file

    def _require_open(self) -> None:
        if self._closed:
            raise UsageError("the memory is closed")

    @property
    def _vectors(self) -> VectorStore:
        """The file's vectors, read on first use rather than at open: a handle that never runs a
        vector search or writes does not pay for reading and hashing them (at 100k vectors of
        dimension 384, 150 MB). Once loaded, the store follows this handle's puts and commits."""
        if self._vector_store is None:
            self._vector_store = load_vectors(self._snap)
        return self._vector_store

    def _dimension(self) -> int | None:
        return self._vectors.dimension

    def _frame_state(self, frame_id) -> FrameState:
        if isinstance(frame_id, bool) or not isinstance(frame_id, int):
            raise UsageError(f"frame id must be an integer, not {frame_id!r}")
        if not 0 <= frame_id < len(self._snap.frames):
            raise NotFoundError(f"no frame with id {frame_id} (the memory has {len(self._snap.frames)})")
        return self._snap.frames[frame_id]

    def _timestamp(self, ts) -> int:
        if ts is None:
            ts = self._clock() if self._clock is not None else wall_clock()
        return check_timestamp(ts)

    @property
    def embedder(self):
        """The callable that embeds texts for puts and queries (None: vectors only when given)."""
        return self._embedder

    @embedder.setter
    def embedder(self, value) -> None:
        self._embedder = value

    @property
    def model(self) -> str | None:
        """The embedding model the memory's vectors are bound to (the vector index's ``model``)."""
        return self._model

    def _bind_model(self, *, writing: bool) -> str | None:
        """The embedder's model name, after checking it against the one the vectors were made
        with: vectors of two models are not comparable (their nearest neighbours are noise)."""
        name = embedder_model(self._embedder)
        if name is not None and self._model is not None and name != self._model:
            raise UsageError(f"the memory's vectors were made by the embedding model {self._model!r}, "
                             f"not {name!r}: use that model, or another memory", code="MV2-E-VEC-MODEL")
        if writing and name is not None and self._model is None:
            self._model = name
        return name

    def _embed(self, texts: list[str]) -> list[list[float]]:
        self._bind_model(writing=True)
        embed_many = getattr(self._embedder, "embed_many", None)
        vecs = embed_many(texts) if embed_many is not None else [self._embedder(t) for t in texts]
        return [list(map(float, v)) for v in vecs]

    # -- writing --------------------------------------------------------------------------------
    def put(self, content: str | bytes, *, uri: str | None = None, title: str | None = None,
            timestamp: int | None = None, tags: Iterable[str] | None = None, labels: Iterable[str] | None = None,
            metadata: dict | None = None, kind: str | None = None, track: str | None = None,
            embedding: Iterable[float] | None = None, chunk: bool = False) -> int:
        """Store one frame; return its id. Durable when it returns.

        Without ``timestamp`` the frame records the current time (the memory's ``clock``, or
        the wall clock). With ``chunk=True`` a text of 2,400 characters or more is stored as
        memvid stores it: a document frame and chunk frames of about 1,200 characters
        (:mod:`mv2.chunking`); the id returned is the document's. With an embedder and no
        ``embedding``, the text (each chunk's, for a chunked text) is embedded."""
        return self.put_many([dict(content=content, uri=uri, title=title, timestamp=timestamp, tags=tags,
                                   labels=labels, metadata=metadata, kind=kind, track=track, embedding=embedding,
                                   chunk=chunk)])[0]

    def put_many(self, items: Iterable[dict]) -> list[int]:
        """Store many frames with one WAL write and one sync; return their ids in order (for a
        chunked text, its document frame's id).

        Each item is a dict with the keyword arguments of :meth:`put` and ``content``."""
        f = self._require_writable()
        rev = self._snap.revision
        source_fields = _has_source_fields(rev)
        dim = self._dimension()
        prepared = []
        for item in items:
            item = dict(item)
            if "content" not in item:
                raise UsageError("each item needs 'content' (str or bytes)")
            unknown = set(item) - {"content", "uri", "title", "timestamp", "tags", "labels", "metadata", "extra_metadata",
                                   "kind", "track", "embedding", "chunk"}
            if unknown:
                raise UsageError(f"unknown put fields: {sorted(unknown)}")
            item["timestamp"] = self._timestamp(item.get("timestamp"))
            plan = plan_chunks(_as_text(item["content"])) if item.pop("chunk", False) else None
            prepared.append((item, plan))
        if self._embedder is not None:
            # One call for every text of the batch: a model embeds a batch much faster than its items.
            wanted = []
            for item, plan in prepared:
                if item.get("embedding") is None:
                    texts = plan.chunks if plan is not None else [_as_text(item["content"])]
                    if all(t is not None for t in texts):
                        wanted.append((item, plan, texts))
            flat = self._embed([t for _, _, texts in wanted for t in texts]) if wanted else []
            pos = 0
            for item, plan, texts in wanted:
                vecs, pos = flat[pos: pos + len(texts)], pos + len(texts)
                if plan is None:
                    item["embedding"] = vecs[0]
                else:
                    item["chunk_embeddings"] = vecs
        records: list[dict] = []
        firsts: list[int] = []
        base = len(self._snap.frames)
        for item, plan in prepared:
            firsts.append(len(records))
            chunk_vecs = item.pop("chunk_embeddings", None)
            content = item.pop("content")
            fid = base + len(records)
            if plan is None:
                spec = make_put(fid, content, dimension=dim, **item)
                if spec.embedding is not None:
                    spec.embedding = _f32(spec.embedding)
                    dim = dim or len(spec.embedding)
                records.append(frame_entry(spec, source_fields=source_fields))
                continue
            entries = chunked_entries(fid, plan, dimension=dim, chunk_embeddings=chunk_vecs,
                                      source_fields=source_fields, parent_ref=len(records), **item)
            for e in entries:
                v = e["value"]["embedding"]
                if v is not None:
                    e["value"]["embedding"] = _f32(v)
                    dim = dim or len(v)
            records.extend(entries)
        ids = self._append(records)
        return [ids[i] for i in firsts]

    def supersede(self, frame_id: int, content: str | bytes | None = None, *, chunk: bool = False, **fields) -> int:
        """Store a new version of frame ``frame_id``; the old one becomes ``superseded``.

        Fields not given are taken from the old frame (as memvid's update does); with no
        ``content`` the new frame shares the old payload and text. New content replaces a
        chunked document's chunks: the old ones are deleted, and with ``chunk=True`` a long
        text is chunked again (:meth:`put`). With an embedder, new content is embedded."""
        self._require_writable()
        old = self._frame_state(frame_id).fields
        if old["status"] != "active":
            raise UsageError(f"frame {frame_id} is {old['status']}; only an active frame can be superseded")
        unknown = set(fields) - {"uri", "title", "timestamp", "tags", "labels", "metadata", "extra_metadata", "kind",
                                 "track", "embedding"}
        if unknown:
            raise UsageError(f"unknown supersede fields: {sorted(unknown)}")
        fid = len(self._snap.frames)
        ts = fields.get("timestamp")
        if ts is None:
            ts = self._clock() if self._clock else old["timestamp"]
        args = dict(uri=fields.get("uri", old["uri"]), title=fields.get("title", old["title"]), timestamp=ts,
                    tags=fields.get("tags", old["tags"]), labels=fields.get("labels", old["labels"]),
                    kind=fields.get("kind", old["kind"]), track=fields.get("track", old["track"]),
                    embedding=fields.get("embedding", self._vectors.get(frame_id)))
        if "metadata" in fields:
            args["metadata"] = fields["metadata"]
        elif "extra_metadata" in fields:  # stored text as read from a frame (a merge replaying one)
            args["extra_metadata"] = fields["extra_metadata"]
        else:
            args["extra_metadata"] = old["extra_metadata"]
        new_content = content is not None
        old_chunks = [fs for fs in self._snap.frames if old["chunk_manifest"] is not None and fs.fields["parent_id"] == frame_id
                      and fs.fields["role"] == "document_chunk" and fs.fields["status"] == "active"]
        if new_content and (old_chunks or chunk):
            return self._supersede_document(frame_id, content, old_chunks, args, chunk=chunk,
                                            embedding_given="embedding" in fields)
        if new_content and "embedding" not in fields and self._embedder is not None:
            text = _as_text(content)
            if text is not None:
                args["embedding"] = self._embed([text])[0]
        reuse = None
        override = None
        if content is None:
            # Same payload, new fields: share the old payload and rebuild the text from it when
            # it is text; otherwise keep the old searchable text as it was.
            reuse = frame_id
            base = self._snap.canonical_payload(self._snap.frames[frame_id]) if old["payload_length"] else b""
            try:
                content = base.decode("utf-8") if base else None
            except UnicodeDecodeError:
                content = None
            if content is None:
                override = old["search_text"]
        spec = make_put(fid, content, dimension=self._dimension(), **args)
        if spec.embedding is not None:
            spec.embedding = _f32(spec.embedding)
        entry = frame_entry(spec, supersedes=frame_id, reuse_payload_from=reuse, reused=old, search_text_override=override,
                            source_fields=_has_source_fields(self._snap.revision))
        return self._append([entry])[0]

    def _supersede_document(self, frame_id: int, content, old_chunks, args: dict, *, chunk: bool,
                            embedding_given: bool) -> int:
        """A new version of a (possibly chunked) document: its old chunks deleted, the new text
        chunked when asked and long enough, all in one WAL write."""
        source_fields = _has_source_fields(self._snap.revision)
        entries = [tombstone_entry(fs.fields, timestamp=args["timestamp"], source_fields=source_fields) for fs in old_chunks]
        fid = len(self._snap.frames)
        text = _as_text(content)
        plan = plan_chunks(text) if chunk else None
        if not embedding_given:
            args["embedding"] = None  # the old vector belongs to the old text
        if plan is None:
            if not embedding_given and self._embedder is not None and text is not None:
                args["embedding"] = self._embed([text])[0]
            spec = make_put(fid, content, dimension=self._dimension(), **args)
            if spec.embedding is not None:
                spec.embedding = _f32(spec.embedding)
            entries.append(frame_entry(spec, supersedes=frame_id, source_fields=source_fields))
        else:
            vecs = self._embed(plan.chunks) if self._embedder is not None else None
            new = chunked_entries(fid, plan, dimension=self._dimension(), chunk_embeddings=vecs,
                                  source_fields=source_fields, parent_ref=len(entries), **args)
            new[0]["value"]["supersedes_frame_id"] = frame_id
            for e in new:
                if e["value"]["embedding"] is not None:
                    e["value"]["embedding"] = _f32(e["value"]["embedding"])
            entries.extend(new)
        ids = self._append(entries)
        return ids[0]

    def delete(self, frame_id: int, *, timestamp: int | None = None) -> None:
        """Tombstone frame ``frame_id``. It stays in the file with status ``deleted``."""
        self._require_writable()
        fs = self._frame_state(frame_id)
        if fs.fields["status"] != "active":
            raise UsageError(f"frame {frame_id} is already {fs.fields['status']}")
        ts = check_timestamp(timestamp) if timestamp is not None else fs.fields["timestamp"]
        self._append([tombstone_entry(fs.fields, timestamp=ts, source_fields=_has_source_fields(self._snap.revision))])

    def _append(self, entries: list[dict]) -> list[int]:
        f = self._require_writable()
        if not entries:
            return []
        rev = self._snap.revision
        # A chunk names its document by the WAL sequence of the document's record, known
        # only once the batch's first sequence is (a commit or growth may come first).
        linked = [i for i, e in enumerate(entries) if isinstance(e["value"]["parent_sequence"], BatchRef)]

        def encode(first_seq: int) -> list[bytes]:
            for i in linked:
                v = entries[i]["value"]
                v["parent_sequence"] = BatchRef(v["parent_sequence"].index, first_seq + v["parent_sequence"].index)
            return [rev.wal_codec.encode(_wire(e)) for e in entries]

        seq0 = f.next_seq
        payloads = encode(seq0)
        need = f.records_size(payloads)
        if need > f.wal_room():
            pending = self._dirty or any(fs.pending for fs in self._snap.frames)
            carried = _grown_size(f.wal_size, f.wal_head + need)
            if not pending and f.wal_head and need + WAL_RECORD_HEADER_SIZE <= f.wal_size:
                # Only committed records fill the log (memvid keeps them after its commits): a
                # commit restarts the log at offset 0, which costs less than doubling the file's WAL.
                self._dirty = True
                self.seal()
            else:
                grown = False
                if carried <= self._wal_grow_limit and f.checkpoint_pos == 0:
                    try:
                        self._grow(carried, carry=True)
                        grown = True
                    except StorageIOError:
                        if f.failed is not None:
                            raise
                        # No room for a new image, or a directory we cannot write: the file
                        # is as it was, so commit and reuse the log instead.
                if not grown:
                    if pending:
                        self._dirty = True
                        self.seal()
                    if need > f.wal_room():
                        self._grow(_grown_size(f.wal_size, need), carry=False)
        if linked and f.next_seq != seq0:
            payloads = encode(f.next_seq)  # fixed-width integers: the size is unchanged
        head = f.wal_head
        seqs = f.append(payloads)
        ids = []
        pos = head
        for seq, p, e in zip(seqs, payloads, entries):
            e = _wire(e)
            rec = wal_record(seq, p, e, offset=pos)
            pos += 48 + len(p)
            fid = self._replayer.apply(rec)
            self._version += 1
            v = e["value"]
            for key in ("target_frame_id", "supersedes_frame_id"):
                if v.get(key) is not None:
                    self._touched.add(v[key])
            if fid is not None:
                ids.append(fid)
                if e["value"]["embedding"] is not None:
                    self._vectors.set(fid, e["value"]["embedding"])
        self._dirty = True
        return ids

    def _grow(self, size: int, *, carry: bool) -> None:
        self._file.rewrite(self._snap.toc, wal_size=size, carry_wal=carry, point="grow")
        self._reload()

    def seal(self) -> None:
        """Commit every change since the last commit: payloads, indexes, TOC, footer, header."""
        f = self._require_writable()
        if not self._dirty:
            return
        self._seal_with(compact_min_dead=self._compact_min_dead)

    def set_vector_model(self, name: str) -> None:
        """Name the embedding model of the file's vectors (the vec manifest's ``model``, spec 9.2);
        the next commit records it."""
        self._require_writable()
        if not isinstance(name, str) or not name:
            raise UsageError("the vector model name must be a non-empty string")
        if "model" not in _field_names(self._snap.revision.toc, "indexes", "vec"):
            raise UnsupportedError(f"revision {self.revision} records no vector model")
        if self._model is not None and self._model != name:
            raise UsageError(f"the memory's vectors were made by the embedding model {self._model!r}, not {name!r}",
                             code="MV2-E-VEC-MODEL")
        self._vector_model = self._model = name  # bound like an embedder's model (R-VEC-004)
        self._dirty = True

    def _seal_with(self, *, compact_min_dead: int, wal_size: int | None = None) -> None:
        f = self._file
        from . import committer  # writers only: a reader never loads the commit planner

        if not self._sketch_cache:
            self._seed_sketches()
        if self._lex_ws is None and self._lex_search is not None:
            # A search unpacked the committed index already: the commit extends those files.
            self._lex_ws = self._lex_search.committed_workspace()
        plan = committer.plan_commit(self._snap.frames, self._snap.toc, self._snap.revision,
                                     text_of=lambda fs: frame_text(self._snap, fs), vectors=self._vectors,
                                     sketch_cache=self._sketch_cache, vector_model=self._vector_model,
                                     read_checked=lambda off, ln, ck: self._snap.checked_range(off, ln, ck, what="index segment"),
                                     lex_workspace=self._lex_ws, keep_lex_workspace=True)
        build_toc = plan.build_toc
        if self._model is not None:
            def build_toc(*args, _build=plan.build_toc):
                toc = _build(*args)
                toc["indexes"]["vec"]["model"] = self._model  # the model the vectors are bound to
                return toc
        try:
            f.commit(plan.blobs, build_toc, compact_min_dead=compact_min_dead, wal_size=wal_size)
        except BaseException:
            if plan.lex_workspace is not None and plan.lex_workspace is not self._lex_ws:
                plan.lex_workspace.close()  # the old one still holds the file's index
            raise
        self._keep_lex_workspace(plan.lex_workspace)
        self.compaction_error = f.compaction_error
        self._reload()

    def _keep_lex_workspace(self, ws) -> None:
        old, self._lex_ws = self._lex_ws, ws
        if old is not None and old is not ws:
            old.close()

    def _seed_sketches(self) -> None:
        """Reuse the sketch entries the file already holds (a pure function of each frame's text)
        instead of recomputing them for every committed frame on a process's first commit."""
        from .index.context import stored_track

        committed = len(self._snap.frames) - len(pending_states(self._snap.frames))  # pending ones are appended
        stored = stored_track(self._snap)
        if stored is not None and stored[1] == committed:
            self._sketch_cache.seed(*stored)

    def compact(self) -> dict:
        """Commit, then rewrite the file without dead bytes (whatever their amount).

        Returns ``{"before": size, "after": size}`` in bytes. Frames, deleted and superseded
        ones included, are all kept: only superseded copies of indexes and TOCs go."""
        f = self._require_writable()
        before = os.path.getsize(self.path)
        if self._dirty:
            self._seal_with(compact_min_dead=0)
        if f.dead_bytes(self._snap.toc)[1]:
            f.rewrite(self._snap.toc, point="compact")
            self._reload()
        return {"before": before, "after": os.path.getsize(self.path)}

    def _reload(self) -> None:
        self._drop_search_cache()
        self._snap.close()
        # The TOC just committed is taken as written rather than decoded again, once its bytes
        # in the file are found to be exactly those written.
        self._snap = read_snapshot(self.path, revision=self._file.revision.name if self._file else None,
                                   known_toc=self._file.last_toc if self._file else None)
        if self._file is not None:
            self._file.seed_frame_encodings(self._snap)  # the next commit reuses this TOC's bytes
        self._replayer = Replayer(self._snap.frames, wal_offset=self._snap.header["wal_offset"])
        self._dirty = self._snap.pending_count > 0  # a WAL growth carries pending records over

    # -- reading --------------------------------------------------------------------------------
    def frame(self, ref: int | str, *, index_lines: bool = False) -> dict:
        """A frame by id, or by URI (the newest frame with that URI), as in the canonical dump,
        except that ``text`` is without the title/uri/tags lines memvid appends for its index
        (``index_lines=True`` keeps them, as the dump does)."""
        self._require_open()
        if isinstance(ref, str):
            matches = [fs for fs in self._snap.frames if fs.fields["uri"] == ref]
            if not matches:
                raise NotFoundError(f"no frame with URI {ref!r}")
            fs = matches[-1]
        else:
            fs = self._frame_state(ref)
        return self._shown(frame_record(self._snap, fs), fs, index_lines)

    def _shown(self, rec: dict, fs: FrameState, index_lines: bool) -> dict:
        if not index_lines:
            from .display import strip_index_lines

            rec["text"] = strip_index_lines(rec["text"], fs.fields)
        return rec

    def blob(self, ref: int | str) -> bytes:
        """A frame's canonical payload bytes."""
        rec = self.frame(ref)
        return self._snap.canonical_payload(self._snap.frames[rec["id"]])

    def frames(self, *, index_lines: bool = False) -> list[dict]:
        """Every frame, as :meth:`frame` gives it."""
        self._require_open()
        return [self._shown(frame_record(self._snap, fs), fs, index_lines) for fs in self._snap.frames]

    def timeline(self, *, since: int | None = None, until: int | None = None, reverse: bool = False,
                 limit: int | None = None, as_of_frame: int | None = None, as_of_ts: int | None = None,
                 index_lines: bool = False) -> list[dict]:
        """Active documents in time order, as memvid's timeline; with ``as_of_frame`` /
        ``as_of_ts``, the documents that were active then (:meth:`as_of`). Previews are without
        the lines memvid appends to a text for its index, unless ``index_lines`` (as memvid shows them)."""
        self._require_open()
        if limit is not None and limit < 0:
            raise UsageError("limit must be >= 0")
        from .display import strip_index_lines as _strip

        def strip_index_lines(text, fields):
            return text if index_lines else _strip(text, fields)

        if as_of_frame is None and as_of_ts is None:
            view = self._search_cache.get("time")
            if view is None:
                from .index.time import TimelineView

                view = self._search_cache["time"] = TimelineView(self._snap)  # kept: O(k + log n) per call
            return [e.to_json() for e in _timeline(self._snap, lambda fs: strip_index_lines(frame_text(self._snap, fs), fs.fields),
                                                     since=since, until=until, reverse=reverse, limit=limit, view=view)]
        visible = self.as_of(frame=as_of_frame, timestamp=as_of_ts)
        rows = sorted((self._snap.frames[i].fields["timestamp"], i) for i in visible
                      if self._snap.frames[i].fields["role"] == "document")
        rows = [(t, i) for t, i in rows if (since is None or t >= since) and (until is None or t <= until)]
        if reverse:
            rows.reverse()
        out = []
        for t, i in rows[: limit if limit is not None else None]:
            f = self._snap.frames[i].fields
            text = strip_index_lines(frame_text(self._snap, self._snap.frames[i]), f) or ""
            out.append({"frame_id": i, "timestamp": t, "uri": f["uri"], "preview": text[:120]})
        return out

    def dump(self) -> dict:
        self._require_open()
        return _dump(self._snap)

    def dump_json(self) -> str:
        return canonical_json(self.dump())

    def memory_cards(self, *, entity: str | None = None, slot: str | None = None) -> list[dict]:
        """The memory cards of the file's memories track (spec 9.5), in id order, each as
        stored; empty when there is none. ``entity`` and ``slot`` filter case-insensitively.
        mv2 carries cards through its commits unchanged; it does not write new ones."""
        self._require_open()
        cards = self._snap.memory_cards() or []
        if entity is not None:
            cards = [c for c in cards if c["entity"].casefold() == entity.casefold()]
        if slot is not None:
            cards = [c for c in cards if c["slot"].casefold() == slot.casefold()]
        return cards

    def vector(self, frame_id: int) -> list[float] | None:
        self._frame_state(frame_id)
        return self._vectors.get(frame_id)

    def stats(self) -> dict:
        self._require_open()
        frames = self._snap.frames
        return {"frame_count": len(frames), "active_frame_count": int(self._status_mask(("active",)).sum()),
                "pending_frames": len(pending_states(frames)), "vector_count": len(self._vectors),
                "dimension": self._dimension(), "revision": self.revision, "generation": self._snap.commit.generation,
                "wal_size": self._snap.header["wal_size"], "file_size": os.path.getsize(self.path)}

    # -- search ---------------------------------------------------------------------------------
    def _drop_search_cache(self) -> None:
        if self._lex_search is not None:
            self._lex_search.close()
            self._lex_search = None
        self._search_cache.clear()
        self._version = 0
        self._touched = set()

    def _lex_context(self, statuses: tuple):
        # Kept for the snapshot's life; unsealed changes are searched as the next commit
        # would index them, at a cost that grows with them, not with the file.
        if self._lex_search is None:
            from .index.context import LexSearch

            self._lex_search = LexSearch(self._snap, lambda fs: frame_text(self._snap, fs), workspace=self._lex_ws,
                                         writable=self._file is not None)
        return self._lex_search.context(statuses, self._version, self._touched)

    def _status_mask(self, statuses: tuple) -> np.ndarray:
        """Whether each frame's status is one of ``statuses``; from the frame table's status
        column when it has one (a lazily opened file: no frame is read)."""
        frames = self._snap.frames
        column = getattr(frames, "column", None)
        col = column("status") if column is not None else None
        if col is not None:
            from .format.frame import FrameStatus

            return np.isin(col, [FrameStatus.index[s] for s in statuses])
        return np.fromiter((fs.fields["status"] in statuses for fs in frames), dtype=bool, count=len(frames))

    def _vector_index(self, statuses: tuple):
        from .index.vecsearch import VectorIndex

        key = ("vec", statuses)
        hit = self._search_cache.get(key)
        if hit is None or hit[0] != self._version:
            # The store's rows are searched in place, with a mask of the allowed statuses.
            frames = self._snap.frames
            ids, matrix, norms = self._vectors.rows()
            ok = self._status_mask(statuses)
            allowed = np.zeros(len(ids), dtype=bool)
            known = (ids >= 0) & (ids < len(frames))
            allowed[known] = ok[ids[known]]
            hit = self._search_cache[key] = (self._version, VectorIndex(ids, matrix, norms=norms, allowed=allowed))
        return hit[1]

    def _statuses(self, include) -> tuple:
        known = ("active", "superseded", "deleted")
        if isinstance(include, str):
            include = (include,)
        chosen = set(include or ())
        if not chosen or not chosen <= set(known):
            raise UsageError("include must name statuses among 'active', 'superseded', 'deleted'")
        return tuple(x for x in known if x in chosen)

    def as_of(self, *, frame: int | None = None, timestamp: int | None = None) -> set[int]:
        """Ids of the frames that were active once frame ``frame`` (or every frame with a
        timestamp up to ``timestamp``) had been written. A frame superseded later is shown as it
        was; deletions record no position, so a deleted frame is absent at every point."""
        self._require_open()
        if frame is None and timestamp is None:
            raise UsageError("as_of needs a frame id or a timestamp")
        def seen(fid: int) -> bool:
            f = self._snap.frames[fid].fields
            return (frame is None or fid <= frame) and (timestamp is None or f["timestamp"] <= timestamp)
        out = set()
        for fs in self._snap.frames:
            f = fs.fields
            if not seen(fs.id) or f["status"] == "deleted":
                continue
            succ = f["superseded_by"]
            if f["status"] == "superseded" and succ is not None and seen(succ):
                continue
            out.add(fs.id)
        return out

    def find(self, query: str, *, k: int = 10, mode: str = "lex", since: int | None = None, until: int | None = None,
             include=("active",), vector=None, snippet_chars: int = 480, prefilter: bool = False,
             as_of_frame: int | None = None, as_of_ts: int | None = None, index_lines: bool = False) -> list[dict]:
        """Search. ``mode`` is ``lex`` (BM25 over the Tantivy index, memvid's pipeline), ``vec``
        (nearest vectors to ``vector``, or to the embedder's vector of ``query``) or ``hybrid``
        (reciprocal rank fusion of both). ``prefilter=True`` applies memvid's sketch pre-filter so that
        lexical hits equal memvid-sdk's (it loses recall). ``as_of_frame`` / ``as_of_ts`` search the memory as it
        was then (:meth:`as_of`). Hits: frame_id, uri, title, score, snippet, rank; vector hits also
        ``distance`` (squared L2) and ``similarity`` (cosine). Snippets stop where the index lines
        memvid appends to a text begin, unless ``index_lines``."""
        hits = self._find(query, k=k, mode=mode, since=since, until=until, include=include, vector=vector,
                          snippet_chars=snippet_chars, prefilter=prefilter, as_of_frame=as_of_frame, as_of_ts=as_of_ts)
        if not index_lines:
            from .display import strip_snippet

            for h in hits:
                h["snippet"] = strip_snippet(h["snippet"], self._snap.frames[h["frame_id"]].fields)
        return hits

    def _find(self, query: str, *, k: int = 10, mode: str = "lex", since: int | None = None, until: int | None = None,
              include=("active",), vector=None, snippet_chars: int = 480, prefilter: bool = False,
              as_of_frame: int | None = None, as_of_ts: int | None = None) -> list[dict]:
        from .index import hybrid

        self._require_open()
        statuses = self._statuses(include)
        visible = None
        if as_of_frame is not None or as_of_ts is not None:
            visible = self.as_of(frame=as_of_frame, timestamp=as_of_ts)
            statuses = ("active", "superseded")
        if mode == "lex":
            from .index.lexsearch import lexical_find

            ctx = self._lex_context(statuses)
            return [h.to_json() for h in lexical_find(ctx, query, k=k, snippet_chars=snippet_chars, prefilter=prefilter,
                                                      statuses=statuses, since=since, until=until, visible=visible)]
        if mode == "vec":
            qv = self._query_vector(query, vector)
            return [] if qv is None else self._vec_hits(qv, k, statuses, since, until, visible=visible)
        if mode == "hybrid":
            lex_hits = self._find(query, k=max(k, 10) * 2, mode="lex", since=since, until=until, include=include,
                                 snippet_chars=snippet_chars, prefilter=prefilter, as_of_frame=as_of_frame,
                                 as_of_ts=as_of_ts)
            qv = self._query_vector(query, vector, required=False)
            vec_hits = self._vec_hits(qv, max(k, 10) * 2, statuses, since, until, visible=visible) if qv is not None else []
            return hybrid.fuse(lex_hits, vec_hits, k)
        raise UsageError(f"mode must be 'lex', 'vec' or 'hybrid', not {mode!r}")

    def find_vector(self, vector, k: int = 10, *, include=("active",), since: int | None = None,
                    until: int | None = None, exact: bool = False) -> list[dict]:
        """The ``k`` frames whose vectors are nearest (L2) to ``vector``."""
        self._require_open()
        return self._vec_hits(vector, k, self._statuses(include), since, until, exact=exact)

    def _query_vector(self, query, vector, *, required: bool = True):
        if vector is not None:
            return vector
        if self._embedder is not None:
            self._bind_model(writing=False)
            return self._embed([query])[0] if self._vectors else None
        if required:
            raise UsageError("vector search needs a query vector: pass vector=..., or open the memory with an embedder")
        return None

    def _vec_hits(self, vector, k, statuses, since, until, *, exact: bool = False, visible: set[int] | None = None) -> list[dict]:
        if self._vectors.unsupported:
            raise UnsupportedError(self._vectors.unsupported)
        idx = self._vector_index(statuses)
        mask = None
        if since is not None or until is not None or visible is not None:
            frames = self._snap.frames
            column = getattr(frames, "column", None)
            col = column("timestamp") if column is not None else None
            if col is not None:  # a lazily opened file: no frame read
                known = (idx.ids >= 0) & (idx.ids < len(frames))
                ts = np.zeros(len(idx.ids), dtype=np.int64)
                ts[known] = col[idx.ids[known]]
            else:
                ts = np.asarray([frames[i].fields["timestamp"] if 0 <= i < len(frames) else 0 for i in idx.ids.tolist()],
                                dtype=np.int64)
            mask = np.ones(len(ts), dtype=bool)
            if since is not None:
                mask &= ts >= since
            if until is not None:
                mask &= ts <= until
            if visible is not None:
                mask &= np.isin(idx.ids, np.fromiter(visible, dtype=np.int64, count=len(visible)))
        out = []
        q = np.asarray(vector, dtype=np.float32).ravel()
        qn = float(np.linalg.norm(q)) or 1.0
        for rank, (fid, dist) in enumerate(idx.search(vector, k, mask=mask, exact=exact), 1):
            f = self._snap.frames[fid].fields
            text = frame_text(self._snap, self._snap.frames[fid]) or ""
            v = self._vectors.vector(fid)
            sim = float(v @ q) / ((float(np.linalg.norm(v)) or 1.0) * qn)
            out.append({"rank": rank, "frame_id": fid, "uri": f["uri"], "title": f["title"], "score": -dist,
                        "distance": dist, "similarity": sim, "snippet": text[:240]})
        return out

    def ask(self, question: str, *, k: int = 5, answerer=None, mode: str | None = None, **find_args) -> dict:
        """Retrieve passages for ``question`` and answer from them, citing frame ids. With no
        ``answerer`` the answer is extractive (the best-matching sentences); an ``answerer(question,
        passages)`` callable may synthesise one instead (nothing here uses a network)."""
        from .answer import answer as _answer, question_query

        if not isinstance(question, str):
            raise UsageError("question must be a string")
        if mode is None:
            mode = "hybrid" if (self._embedder is not None and self._vectors) else "lex"
        query = question_query(question)
        if query is None:
            return _answer(question, [], answerer=answerer)
        # The question's content words are ORed: a question rarely repeats every word of its answer.
        hits = self.find(query, k=k, mode=mode, **find_args)
        return _answer(question, hits, answerer=answerer)

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        """Seal (when writable) and release the file."""
        if self._closed:
            return
        try:
            if self._file is not None and self._file.failed is None:
                if self._file.wal_size > self._wal_base:
                    # The WAL grew to hold this session's records; once they are committed it
                    # is empty, so the last commit gives the extra space back (spec 4.4).
                    self._seal_with(compact_min_dead=self._compact_min_dead, wal_size=self._wal_base)
                else:
                    self.seal()
        finally:
            self._closed = True
            self._drop_search_cache()
            self._keep_lex_workspace(None)
            self._snap.close()
            if self._file is not None:
                self._file.close()

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self._file is not None:
            # Do not commit on an exception: what was acknowledged is in the WAL already.
            self._closed = True
            self._drop_search_cache()
            self._keep_lex_workspace(None)
            self._snap.close()
            self._file.close()
            return
        self.close()


def _as_text(content) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, (bytes, bytearray, memoryview)):
        try:
            return bytes(content).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _wire(entry: dict) -> dict:
    """The entry as the WAL codec takes it: a chunk's batch reference becomes a sequence number."""
    ref = entry["value"]["parent_sequence"]
    if not isinstance(ref, BatchRef):
        return entry
    return {"variant": entry["variant"], "value": {**entry["value"], "parent_sequence": ref.seq}}


def _has_source_fields(rev) -> bool:
    return any(sc.name == "source_sha256" for sc in rev.frame.subcons)


def _field_names(con, *path: str) -> set[str]:
    """The field names of the struct at ``path`` inside a revision's schema."""
    for name in (None, *path):
        while not hasattr(con, "subcons"):
            con = con.subcon  # through Renamed and Option
        if name is not None:
            con = next(sc for sc in con.subcons if sc.name == name)
    while not hasattr(con, "subcons"):
        con = con.subcon
    return {sc.name for sc in con.subcons}


def _f32(values: list[float]) -> list[float]:
    # The WAL stores f32: keep exactly the values recovery will read back.
    return [float(x) for x in np.asarray(values, dtype=np.float32)]


def create(path: str | os.PathLike, *, wal_size: int = DEFAULT_WAL_SIZE, clock: Callable[[], int] | None = None,
           embedder=None, fault=None, overwrite: bool = False, **policy) -> Memory:
    """Create a new, empty memory file and open it for writing. The file must not exist,
    unless ``overwrite=True``: then an existing file is replaced (never one that another
    process has open for writing).

    ``policy`` may set ``wal_grow_limit`` and ``compact_min_dead`` (see the module constants);
    both change the bytes written, so a deterministic replay must use the same values."""
    path = os.fspath(path)
    if overwrite:
        _remove_existing(path)
    from . import committer

    rev = REVISIONS[NEW_FILE_REVISION]
    plan = committer.plan_commit([], committer.empty_toc(rev), rev, text_of=lambda fs: None, vectors=VectorStore(), sketch_cache=SketchEntries())
    f, _ = WritableFile.create(path, wal_size=wal_size, revision=rev.name, blobs=plan.blobs, build_toc=plan.build_toc,
                               fault=fault)
    return Memory(path, read_snapshot(path), f, clock=clock, embedder=embedder, **policy)


def open(path: str | os.PathLike, mode: str = "r", *, clock: Callable[[], int] | None = None, embedder=None,
         fault=None, salvage: bool = False, rollback: bool = False, **policy) -> Memory:  # noqa: A001
    """Open a memory file: ``mode="r"`` to read (never writes), ``"a"`` to write (takes the lock
    and recovers what a crash left, committing any pending WAL records).

    Recovery never discards acknowledged data on its own. ``salvage=True`` lets it cut a
    damaged WAL (``MV2-E-WAL-DAMAGED``) before the damage; ``rollback=True`` lets it (or a
    read-only open) fall back to the last valid commit when the newest one is damaged
    (``MV2-E-COMMIT-LOST``). ``recovery`` on the memory says what was done."""
    path = os.fspath(path)
    if mode == "r":
        return Memory(path, read_snapshot(path, rollback=rollback), None, clock=clock, embedder=embedder)
    if mode != "a":
        raise UsageError(f"mode must be 'r' or 'a', not {mode!r}")
    f, snap = WritableFile.open(path, fault=fault, salvage=salvage, rollback=rollback)
    mem = Memory(path, snap, f, clock=clock, embedder=embedder, **policy)
    mem.recovery = {"pending_records": snap.pending_count, "torn_tail": snap.wal.torn, "header_was_stale": snap.header_stale}
    if snap.wal.damaged is not None:
        pos, code, reason, later = snap.wal.damaged
        mem.recovery["salvaged"] = {"damage_at": snap.header["wal_offset"] + pos, "code": code, "reason": reason,
                                    "intact_records_dropped": len(later)}
    if snap.notes:
        mem.recovery["notes"] = list(snap.notes)
    if snap.pending_count:
        mem._dirty = True
        mem.seal()
    elif f.repaired:
        mem._reload()  # recovery repaired the header or the WAL tail: read the file as it is now
    return mem


def _remove_existing(path: str) -> None:
    from .storage.lock import lock_exclusive

    if not os.path.lexists(path):
        return
    if not os.path.isfile(path):
        raise UsageError(f"{path} exists and is not a regular file; it is not replaced")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise StorageIOError(f"cannot open {path}: {exc.strerror}") from None
    try:
        lock_exclusive(fd, path)  # LockedError if a writer has it open
        os.unlink(path)
    except OSError as exc:
        raise StorageIOError(f"cannot remove {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def verify(path: str | os.PathLike):
    """Verify a file; returns the analysis (``.ok``, ``.first_error``, ``.warnings``)."""
    return analyze(os.fspath(path))


def _grown_size(size: int, need: int) -> int:
    """The WAL size after doubling until ``need`` bytes of records and a sentinel fit."""
    while size < need + WAL_RECORD_HEADER_SIZE:
        size *= 2
    return size
