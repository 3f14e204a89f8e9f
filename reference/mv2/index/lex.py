"""The lexical index: building a Tantivy directory deterministically and packing it (spec: 9.1).

memvid embeds a Tantivy 0.25 index as one data-area range per index file. Tantivy names its
segments with random UUIDs and lists its files in hash-set order, so the same documents give
different bytes on every run. This module removes both sources of randomness:

* documents are added by one indexing thread with a memory budget large enough that one
  commit produces one segment, so no background merge ever runs;
* after the commit, the files are collected from what the commit wrote synchronously:
  ``meta.json`` and the component files of the segments it lists. Each segment is renamed to
  the first 32 hex digits of BLAKE3 over its component files (extensions and bytes), which
  depend only on the documents; ``meta.json`` is rewritten to match, and ``.managed.json`` is
  generated, sorted. (Tantivy's garbage collector may rewrite its own ``.managed.json`` on a
  background thread after the commit returns, so that file is never read.)

Tantivy's own component files are then byte-identical from run to run (checked by the
determinism tests). ``docstore_compression`` is set to ``none`` because memvid's Tantivy
cannot read a compressed store (spec R-LEX-003).
"""

from __future__ import annotations

import json
import os
import shutil
import weakref
import tempfile
from dataclasses import dataclass
from pathlib import Path

import blake3
import tantivy

from ..format.segments import is_plain_file_name

SHM = "/dev/shm"
SHM_HEADROOM = 64 << 20


def scratch_root(need: int) -> str | None:
    """Where a scratch copy of an index of about ``need`` bytes goes: a memory-backed file
    system when the machine has one with room to spare, else the default temporary directory.

    Tantivy syncs every file it commits, and a commit here writes a few dozen files; on a disk
    that is most of a small commit's cost, and these copies never need to survive. Containers
    often mount a small ``/dev/shm`` (64 MiB), hence the check of its free space."""
    try:
        if not os.access(SHM, os.W_OK | os.X_OK):
            return None
        st = os.statvfs(SHM)
    except OSError:
        return None
    return SHM if st.f_bavail * st.f_frsize >= 2 * need + SHM_HEADROOM else None


SCRATCH_PREFIXES = ("mv2-search-", "mv2-lex-")
_swept: set[str] = set()


def _sweep(root: str) -> None:
    """Remove scratch directories whose process is gone (once per process and directory).

    A process that is killed, or leaves through ``os._exit``, never removes its scratch
    copies, and on ``/dev/shm`` they hold memory until the machine restarts. Each directory
    is named ``<prefix><pid>-<random>``; one whose process no longer exists, and which
    belongs to this user, is removed by the next process that makes one."""
    if root in _swept:
        return
    _swept.add(root)
    try:
        names = os.listdir(root)
    except OSError:
        return
    me = os.getuid() if hasattr(os, "getuid") else None
    for name in names:
        prefix = next((p for p in SCRATCH_PREFIXES if name.startswith(p)), None)
        if prefix is None:
            continue
        pid_text = name[len(prefix):].partition("-")[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # still running (or a process of another user: PermissionError below)
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, OSError):
            continue
        path = os.path.join(root, name)
        try:
            if me is not None and os.lstat(path).st_uid != me:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)


def scratch_path(prefix: str, need: int = 0, *, root: str | None = None) -> str:
    """A new scratch directory (the caller removes it), named after this process."""
    root = root if root is not None else (scratch_root(need) or tempfile.gettempdir())
    _sweep(root)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root)


class scratch_dir:
    """A scratch directory for a ``with`` block (see :func:`scratch_path`)."""

    def __init__(self, prefix: str, need: int):
        self.name = scratch_path(prefix, need)

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.name, ignore_errors=True)


HEAP_BYTES = 1 << 30
"""Indexing memory budget: with one thread, Tantivy flushes a segment only when this is
exhausted, so every commit of fewer than roughly a million short documents is one segment."""


@dataclass(frozen=True)
class LexDoc:
    frame_id: int
    timestamp: int
    content: str
    tags: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    track: str | None = None
    uri: str | None = None


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("content", stored=True, tokenizer_name="memvid_default", index_option="position")
    for name in ("tags", "labels", "track"):
        sb.add_text_field(name, stored=True, tokenizer_name="memvid_default", index_option="basic")
    sb.add_text_field("uri", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("timestamp", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("frame_id", stored=True, indexed=True)
    return sb.build()


def register_tokenizers(index: tantivy.Index) -> None:
    analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.stemmer("english"))
                .build())
    index.register_tokenizer("memvid_default", analyzer)
    index.register_tokenizer("raw", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).build())


def _ascii_lower(s: str) -> str:
    if s.isascii():  # the common case, without a per-character loop
        return s.lower()
    return "".join(c.lower() if c.isascii() else c for c in s)


def build_directory(docs: list[LexDoc], directory: Path) -> None:
    """Write a Tantivy index of ``docs`` into an empty ``directory``."""
    index = tantivy.Index(schema(), path=str(directory))
    del index
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["index_settings"]["docstore_compression"] = "none"
    meta_path.write_text(json.dumps(meta))
    index = tantivy.Index.open(str(directory))
    register_tokenizers(index)
    writer = index.writer(heap_size=HEAP_BYTES, num_threads=1)
    add_documents(writer, docs)
    writer.commit()
    writer.wait_merging_threads()
    del writer, index


def add_documents(writer, docs: list[LexDoc]) -> None:
    """Add ``docs`` to a Tantivy writer in order (an empty text adds no document)."""
    for d in docs:
        if not d.content.strip():
            continue  # memvid indexes no document for an empty text
        doc = tantivy.Document()
        # Field order as memvid adds them: content, timestamp, frame_id, tags, labels, track, uri.
        doc.add_text("content", d.content)
        doc.add_integer("timestamp", d.timestamp)
        doc.add_unsigned("frame_id", d.frame_id)
        for t in d.tags:
            doc.add_text("tags", _ascii_lower(t))
        for t in d.labels:
            doc.add_text("labels", _ascii_lower(t))
        if d.track is not None:
            doc.add_text("track", _ascii_lower(d.track))
        if d.uri is not None:
            doc.add_text("uri", _ascii_lower(d.uri))
        writer.add_document(doc)


BASE_EXTENSIONS = ("fast", "fieldnorm", "idx", "pos", "store", "term")
"""A segment's component files; a segment with deletions also has ``<segment>.<opstamp>.del``."""


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def _content_name(parts: list[tuple[str, bytes]]) -> str:
    """A segment's deterministic name: the first 32 hex digits of BLAKE3 over its component
    files (extension, NUL, bytes), which depend only on the documents."""
    h = blake3.blake3()
    for ext, data in parts:
        h.update(ext.encode() + b"\0")
        h.update(data)
    return h.hexdigest()[:32]


def _read_parts(directory: Path, hexid: str) -> list[tuple[str, bytes]]:
    return [(ext, (directory / f"{hexid}.{ext}").read_bytes()) for ext in BASE_EXTENSIONS
            if (directory / f"{hexid}.{ext}").exists()]


def _packed(out: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The packed files with ``.managed.json`` generated (listing them, sorted), sorted by name."""
    out[".managed.json"] = json.dumps(sorted(out), separators=(",", ":")).encode()
    return sorted(out.items())


class Kept:
    """A packed file an extension left as it was: only its size is known, its bytes stay in
    the file (the writer reuses its range) and in the workspace directory."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size

    def __len__(self) -> int:
        return self.size


class Workspace:
    """A scratch directory holding exactly the packed files of the last index a writer
    committed, as :func:`unpack` would write them, kept between its commits.

    Extending the index again then hard-links these files into a new directory instead of
    reading every file from the memory file, checking it and writing it out: at a million
    frames the index is 380 MB, and a commit's cost would otherwise grow with it. The files
    are named by content (:func:`_content_name`) and Tantivy never rewrites a file, so a
    workspace whose file names and checksums equal the previous commit's manifest holds that
    commit's bytes."""

    def __init__(self, directory: str, checksums: dict[str, bytes], sizes: dict[str, int]):
        self.directory = directory
        self.checksums = checksums  # file name → BLAKE3 of its bytes
        self.sizes = sizes  # file name → its length, as the manifest records it
        # A handle dropped without close() must not leave its files behind for the life of
        # the process (on /dev/shm they hold memory): they go with the last reference.
        self._remove = weakref.finalize(self, shutil.rmtree, directory, True)

    def matches(self, entries: list[dict]) -> bool:
        """Whether this holds the files ``entries`` (a commit's ``lex_segments``) list, and
        they look intact: every file there with its size, ``meta.json`` with its checksum (a
        scratch file changed underneath is never built on: the caller reads the memory file)."""
        if {e["path"]: (bytes(e["checksum"]), e["bytes_length"]) for e in entries} != \
                {n: (c, self.sizes[n]) for n, c in self.checksums.items()}:
            return False
        try:
            # (.managed.json aside: Tantivy's collector may rewrite it, and it is never packed)
            if any(os.path.getsize(os.path.join(self.directory, n)) != size for n, size in self.sizes.items()
                   if n != ".managed.json"):
                return False
            meta = (Path(self.directory) / "meta.json").read_bytes()
        except OSError:
            return False
        return blake3.blake3(meta).digest() == self.checksums.get("meta.json")

    def close(self) -> None:
        self._remove()

    def segment_count(self) -> int:
        return len(json.loads((Path(self.directory) / "meta.json").read_text()).get("segments", []))

    def link_into(self, prefix: str) -> str:
        """A new scratch directory next to this one holding the same files, hard-linked
        (``meta.json`` and ``.managed.json`` copied: Tantivy replaces those)."""
        d = scratch_path(prefix, 0, root=str(Path(self.directory).parent))
        try:
            for name in self.checksums:
                src, dst = os.path.join(self.directory, name), os.path.join(d, name)
                if name in ("meta.json", ".managed.json"):
                    shutil.copyfile(src, dst)
                else:
                    os.link(src, dst)
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise
        return d

    @classmethod
    def of_directory(cls, directory: str, entries: list[dict]) -> "Workspace | None":
        """A workspace of the files ``entries`` (a commit's ``lex_segments``, already checked)
        hard-linked from ``directory``, where they were unpacked; None if that fails."""
        tmp = cls(directory, {e["path"]: bytes(e["checksum"]) for e in entries},
                  {e["path"]: e["bytes_length"] for e in entries})
        tmp._remove.detach()  # the directory is not this object's
        try:
            return cls(tmp.link_into("mv2-lex-"), tmp.checksums, tmp.sizes)
        except OSError:
            return None


def _settle(directory: Path, packed: list[tuple[str, object]], kept: dict[str, bytes] | None = None) -> Workspace:
    """Make ``directory`` hold exactly ``packed`` (files marked :class:`Kept` are there
    already, under their names) and return it as a workspace; ``kept`` gives the checksums of
    the kept files."""
    want = dict(packed)
    for name in os.listdir(directory):
        if name not in want or name in ("meta.json", ".managed.json"):
            os.unlink(directory / name)  # Tantivy's own names, locks and files no longer listed
    checksums, sizes = {}, {}
    for name, data in packed:
        sizes[name] = len(data)
        if isinstance(data, Kept):
            checksums[name] = kept[name]
            continue
        checksums[name] = blake3.blake3(data).digest()
        if name in ("meta.json", ".managed.json") or not (directory / name).exists():
            (directory / name).write_bytes(data)
    return Workspace(str(directory), checksums, sizes)


def collect(directory: Path) -> list[tuple[str, bytes]]:
    """The packed files of a committed index, with deterministic names, sorted by name.

    Only what the commit wrote synchronously is read: ``meta.json`` and the component files of
    the segments it lists. Tantivy's garbage collector runs on a background thread after a
    commit and may rewrite ``.managed.json`` (in hash-set order) at any moment, so that file is
    never read: it is generated here, listing the packed files, sorted."""
    meta_text = (directory / "meta.json").read_text()
    meta = json.loads(meta_text)
    out: dict[str, bytes] = {}
    for seg in meta["segments"]:
        old = seg["segment_id"].replace("-", "")
        parts = _read_parts(directory, old)
        new = _content_name(parts)
        if any(name.startswith(new) for name in out):
            raise RuntimeError("two Tantivy segments have identical contents")
        for ext, data in parts:
            out[f"{new}.{ext}"] = data
        meta_text = meta_text.replace(_dashed(old), _dashed(new))
    out["meta.json"] = meta_text.encode()
    return _packed(out)


MAX_SEGMENTS = 7
"""Most Tantivy segments an index extended by :func:`extend` may have. Tantivy's default merge
policy merges once 8 segments of similar size exist, on a background thread, in an order taken
from an unordered map: the merged bytes would not be reproducible. The commit that would make
an 8th segment rebuilds the index as one segment instead."""

def _empty_meta() -> dict:
    with scratch_dir("mv2-lex-", 0) as tmp:
        build_directory([], Path(tmp))
        return json.loads((Path(tmp) / "meta.json").read_text())


_EMPTY_META: dict | None = None


def _is_ours(meta: dict, files: dict[str, bytes]) -> bool:
    """Whether ``files`` is an index this module wrote: our schema and settings, and every
    segment named by the hash of its files (memvid names segments by random UUIDs)."""
    global _EMPTY_META
    if _EMPTY_META is None:
        _EMPTY_META = _empty_meta()
    if meta.get("schema") != _EMPTY_META["schema"] or meta.get("index_settings") != _EMPTY_META["index_settings"]:
        return False
    for seg in meta["segments"]:
        hexid = seg["segment_id"].replace("-", "")
        parts = [(ext, files[f"{hexid}.{ext}"]) for ext in BASE_EXTENSIONS if f"{hexid}.{ext}" in files]
        if not parts or _content_name(parts) != hexid:
            return False
    return True


def extend(prev: list[tuple[str, bytes]], deleted: list[int], docs: list[LexDoc], keep: bool = False):
    """The packed files of ``prev`` with the documents of the ``deleted`` frame ids deleted and
    ``docs`` added as one new segment; None when the index must be rebuilt instead (``prev``
    was not written by this module, or the result would exceed :data:`MAX_SEGMENTS`).

    Unchanged segment files keep their names and bytes, so a writer can reuse their ranges.
    The new segment is named by the hash of its files; a deletion adds Tantivy's
    ``<segment>.<opstamp>.del`` bitset. ``meta.json`` lists the segments in a fixed order:
    those of ``prev`` in their order, then the new one."""
    try:
        return _extend(prev, deleted, docs, keep)
    except Exception:  # noqa: BLE001 - any doubt about the old index (even a checksum-valid
        # one that Tantivy or our reading of it rejects) means: rebuild from the frames.
        return None


def _extend(prev: list[tuple[str, bytes]], deleted: list[int], docs: list[LexDoc], keep: bool = False):
    files = dict(prev)
    if "meta.json" not in files:
        return None
    meta = json.loads(files["meta.json"])
    order = [seg["segment_id"] for seg in meta.get("segments", [])]
    adding = [d for d in docs if d.content.strip()]
    if len(order) + bool(adding) > MAX_SEGMENTS or not _is_ours(meta, files):
        return None
    if not adding and not deleted and not keep:
        return sorted(prev)
    tmp = scratch_path("mv2-lex-", sum(len(b) for _, b in prev) + 4 * sum(len(d.content) for d in adding))
    try:
        d = Path(tmp)
        unpack(prev, d)
        out = _extend_directory(d, order, files, deleted, adding)
        result = (out, _settle(d, out)) if keep else out
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # kept or not, a failed extension leaves nothing
        raise
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _extend_directory(d: Path, order: list[str], known: dict, deleted: list[int], adding: list[LexDoc]):
    if adding or deleted:
        index = tantivy.Index.open(str(d))
        register_tokenizers(index)
        writer = index.writer(heap_size=HEAP_BYTES, num_threads=1)
        for fid in sorted(set(deleted)):
            # By query: tantivy-py converts an integer term to i64, which matches no u64 value.
            writer.delete_documents_by_query(index.parse_query(f"frame_id:{fid}", ["frame_id"]))
        add_documents(writer, adding)
        writer.commit()
        writer.wait_merging_threads()
        del writer, index
    return _collect_extended(d, order, known)


def extend_in(ws: Workspace, deleted: list[int], docs: list[LexDoc]):
    """:func:`extend` on the files of ``ws`` (which :meth:`Workspace.matches` the previous
    commit): (packed files, names left unchanged, the new workspace), or None when the index
    must be rebuilt. Unchanged files come back as :class:`Kept` and are neither read nor
    written; the new workspace links them from the old one."""
    try:
        meta = json.loads((Path(ws.directory) / "meta.json").read_text())
        order = [seg["segment_id"] for seg in meta.get("segments", [])]
        adding = [d for d in docs if d.content.strip()]
        if len(order) + bool(adding) > MAX_SEGMENTS:
            return None
        known = {name: Kept(ws.sizes[name]) for name in ws.checksums if name not in ("meta.json", ".managed.json")}
        tmp = ws.link_into("mv2-lex-")
    except Exception:  # noqa: BLE001 - a workspace that cannot be read: extend from the file
        return None
    try:
        d = Path(tmp)
        out = _extend_directory(d, order, known, deleted, adding)
        kept = {name: ws.checksums[name] for name, data in out if isinstance(data, Kept)}
        new_ws = _settle(d, out, kept)
    except Exception:  # noqa: BLE001 - any doubt: the caller extends from the file's bytes
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    unchanged = {name for name, data in out if isinstance(data, Kept) or
                 (name in ws.checksums and new_ws.checksums[name] == ws.checksums[name])}
    return out, unchanged, new_ws


CHECK_KNOWN_PARTS = False
"""When set (the test suite sets it), components taken from the packed files are compared with
the files Tantivy left on disk."""


def _collect_extended(directory: Path, order: list[str], known: dict[str, bytes] | None = None) -> list[tuple[str, bytes]]:
    """The packed files after an extension. Tantivy writes a segment's component files once
    and never changes them (deletes go to a new ``.del`` file), so the components of the
    segments that were there before are taken from ``known``, the packed files the index was
    unpacked from, instead of being read back: at a million frames they are most of the index."""
    meta = json.loads((directory / "meta.json").read_text())
    rank = {sid: i for i, sid in enumerate(order)}
    meta["segments"].sort(key=lambda seg: (rank.get(seg["segment_id"], len(order)), seg["segment_id"]))
    if sum(seg["segment_id"] not in rank for seg in meta["segments"]) > 1:
        raise RuntimeError("one commit produced more than one Tantivy segment")
    out: dict[str, bytes] = {}
    for seg in meta["segments"]:
        old = seg["segment_id"].replace("-", "")
        if known is not None and seg["segment_id"] in rank:
            parts = [(ext, known[f"{old}.{ext}"]) for ext in BASE_EXTENSIONS if f"{old}.{ext}" in known]
            if CHECK_KNOWN_PARTS:
                on_disk = dict(_read_parts(directory, old))
                assert [e for e, _ in parts] == list(on_disk), f"segment {old} changed on disk"
                for ext, data in parts:
                    assert (len(data) == len(on_disk[ext]) if isinstance(data, Kept) else data == on_disk[ext]), \
                        f"segment {old} changed on disk"
        else:
            parts = _read_parts(directory, old)
        new = old if seg["segment_id"] in rank else _content_name(parts)
        for ext, data in parts:
            out[f"{new}.{ext}"] = data
        if seg.get("deletes"):
            stamp = seg["deletes"]["opstamp"]
            out[f"{new}.{stamp}.del"] = (directory / f"{old}.{stamp}.del").read_bytes()
        seg["segment_id"] = _dashed(new)
    out["meta.json"] = json.dumps(meta, indent=2).encode()
    return _packed(out)


def pack(docs: list[LexDoc], keep: bool = False):
    """The packed Tantivy files for ``docs``: (file name, bytes), sorted by name; with
    ``keep``, also their :class:`Workspace`."""
    tmp = scratch_path("mv2-lex-", 4 * sum(len(d.content) for d in docs))
    try:
        d = Path(tmp)
        build_directory(docs, d)
        out = collect(d)
        result = (out, _settle(d, out)) if keep else out
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def unpack(files: list[tuple[str, bytes]], directory: Path) -> None:
    """Write packed Tantivy files into ``directory`` so Tantivy can open it (spec R-LEX-002)."""
    for name, data in files:
        if not is_plain_file_name(name) or os.sep in name:
            raise ValueError(f"unsafe Tantivy file name {name!r}")
        (directory / name).write_bytes(data)
