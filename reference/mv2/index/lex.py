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
import tempfile
from dataclasses import dataclass
from pathlib import Path

import blake3
import tantivy

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
    writer.commit()
    writer.wait_merging_threads()
    del writer, index


SEGMENT_EXTENSIONS = ("fast", "fieldnorm", "idx", "pos", "store", "term", "del")


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


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
        parts = []
        for ext in SEGMENT_EXTENSIONS:
            p = directory / f"{old}.{ext}"
            if p.exists():
                parts.append((ext, p.read_bytes()))
        h = blake3.blake3()
        for ext, data in parts:
            h.update(ext.encode() + b"\0")
            h.update(data)
        new = h.hexdigest()[:32]
        if any(name.startswith(new) for name in out):
            raise RuntimeError("two Tantivy segments have identical contents")
        for ext, data in parts:
            out[f"{new}.{ext}"] = data
        meta_text = meta_text.replace(_dashed(old), _dashed(new))
    out["meta.json"] = meta_text.encode()
    out[".managed.json"] = json.dumps(sorted(out), separators=(",", ":")).encode()
    return sorted(out.items())


def pack(docs: list[LexDoc]) -> list[tuple[str, bytes]]:
    """The packed Tantivy files for ``docs``: (file name, bytes), sorted by name."""
    with tempfile.TemporaryDirectory(prefix="mv2-lex-", ignore_cleanup_errors=True) as tmp:
        d = Path(tmp)
        build_directory(docs, d)
        return collect(d)


def unpack(files: list[tuple[str, bytes]], directory: Path) -> None:
    """Write packed Tantivy files into ``directory`` so Tantivy can open it (spec R-LEX-002)."""
    for name, data in files:
        if "/" in name or "\\" in name or name in ("", ".", "..") or os.sep in name:
            raise ValueError(f"unsafe Tantivy file name {name!r}")
        (directory / name).write_bytes(data)
