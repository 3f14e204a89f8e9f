"""The index a search sees before a commit, kept up to date across finds (spec 14.1, R-SRCH-010).

A writer's unsealed puts, supersedes and deletes must be searchable with the hits the file
gives once sealed. The next commit extends the committed index by one segment of the new
documents and deletes the documents of frames that stopped being active (9.1). This module
keeps that index live for a handle, in a private directory that hard-links the committed
segment files, with one Tantivy writer kept open:

* a find after new puts adds only the documents put since the previous find, as one more
  segment, and deletes only the documents of frames deactivated since;
* BM25 statistics are sums over segments (documents, tokens per field, document frequency
  per term, deleted documents included), so several small segments score every document
  exactly as the one segment the commit writes;
* ties are ordered by document address (segment, then document), so ``meta.json`` is
  rewritten after every commit to list the segments as the commit will: the committed ones
  in their order, then the new ones in the order they were written (frame order). Tantivy
  itself lists them in hash-map order;
* Tantivy's merge policy merges once eight segments exist, which would drop deleted
  documents from the statistics: the directory never holds more than :data:`lex.MAX_SEGMENTS`;
  past that, and whenever an unsealed document stops being active (the commit will not hold
  it, and a deleted document still counts), the directory is made again from the committed
  files with the unsealed documents in one segment.

What remains per find is Tantivy's cost of writing a segment (a few milliseconds, mostly
allocating and clearing its indexing tables), independent of the file's size.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import CorruptFileError
from . import lex
from .lexsearch import LexIndex


def _link_copy(src: str, dst: str) -> None:
    """``dst`` holding ``src``'s index files: hard links (Tantivy never rewrites a file it has
    written; a commit adds files and replaces ``meta.json`` by renaming), copies where links
    are not possible, and a copy of ``meta.json``, which is rewritten here."""
    for name in os.listdir(src):
        if name.startswith("."):
            continue  # lock files and .managed.json: Tantivy's own bookkeeping
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if name == "meta.json":
            shutil.copyfile(s, d)
            continue
        try:
            os.link(s, d)
        except OSError:
            shutil.copyfile(s, d)


class LiveIndex:
    """The committed index ``base`` extended by unsealed documents, searchable after each sync."""

    def __init__(self, base: LexIndex):
        self.base = base
        d = lex.scratch_path("mv2-search-", root=str(Path(base.directory).parent))
        try:
            _link_copy(base.directory, d)
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise
        self.index = LexIndex(None, directory=d)  # owns d from here on
        self._meta_path = Path(d) / "meta.json"
        self._order = [seg["segment_id"] for seg in json.loads(self._meta_path.read_text())["segments"]]
        try:
            self._writer = self.index.index.writer(heap_size=lex.HEAP_BYTES, num_threads=1)
        except ValueError as exc:
            self.index.close()
            raise CorruptFileError(f"the Tantivy files do not work as an index: {exc}", code="MV2-E-LEX-FILES") from None
        self.added: list[int] = []  # frame ids of the unsealed documents given so far, in order
        self.deleted: set[int] = set()  # committed frame ids whose documents are deleted

    def sync(self, deleted: list[int], docs: list[lex.LexDoc]) -> bool:
        """Bring the index to ``docs`` (every unsealed document, in frame order) and the
        ``deleted`` committed frames. False when that cannot be done incrementally (a document
        given before is gone, or one more segment would pass the limit): the caller then makes
        a new :class:`LiveIndex`."""
        ids = [d.frame_id for d in docs]
        n = len(self.added)
        if ids[:n] != self.added:
            return False
        new = [d for d in docs[n:] if d.content.strip()]
        gone = sorted(set(deleted) - self.deleted)
        if not new and not gone:
            self.added = ids
            return True
        if new and len(self._order) + 1 > lex.MAX_SEGMENTS:
            return False
        w = self._writer
        try:
            for fid in gone:
                # By query: tantivy-py converts an integer term to i64, which matches no u64 value.
                w.delete_documents_by_query(self.index.index.parse_query(f"frame_id:{fid}", ["frame_id"]))
            lex.add_documents(w, new)
            w.commit()
        except ValueError as exc:
            raise CorruptFileError(f"the Tantivy files do not work as an index: {exc}", code="MV2-E-LEX-FILES") from None
        appended = self._reorder()
        self.index.refresh(appended=appended)
        self.added = ids
        self.deleted.update(gone)
        return True

    def _reorder(self) -> bool:
        """Rewrite ``meta.json`` with the segments in the commit's order (see the module text);
        True when the segments before the commit kept their positions."""
        meta = json.loads(self._meta_path.read_text())
        rank = {sid: i for i, sid in enumerate(self._order)}
        fresh = [seg for seg in meta["segments"] if seg["segment_id"] not in rank]
        if len(fresh) > 1:
            raise RuntimeError("one commit produced more than one Tantivy segment")
        meta["segments"].sort(key=lambda seg: rank.get(seg["segment_id"], len(rank)))
        order = [seg["segment_id"] for seg in meta["segments"]]
        appended = order[:len(self._order)] == self._order
        self._order = order
        tmp = self._meta_path.with_name("meta.json.mv2-tmp")
        tmp.write_text(json.dumps(meta, separators=(",", ":")))
        os.replace(tmp, self._meta_path)
        return appended

    def close(self) -> None:
        w, self._writer = self._writer, None
        if w is not None:
            try:
                w.wait_merging_threads()
            except ValueError:
                pass
            del w
        self.index.close()
