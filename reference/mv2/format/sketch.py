"""Sketch track entries (spec: "Index segments", 9.3).

A sketch entry summarises a frame's text in 32 bytes for memvid's search pre-filter. The
computation below reproduces memvid's bit for bit (checked against every entry of the gold
files), because memvid uses the entries to *choose which frames to search*: an entry that
differs from memvid's own computation can hide a frame from memvid's ``find``.

Tokenisation follows Rust's definitions, not Python's: ``char::is_alphanumeric`` is the
Unicode ``Alphabetic`` property or a numeric general category, which the ``regex`` module
expresses exactly; Python's ``str.isalnum`` differs for combining marks in many scripts.

:func:`sketch_entry` is the definition. :func:`sketch_entries` computes the same entries for
many frames at once (verification and sealing need one per frame) with whole-array operations
across frames; tests hold it equal to :func:`sketch_entry` on random texts and on every gold
file entry.
"""

from __future__ import annotations

import struct
import unicodedata
from functools import lru_cache
from typing import Iterable

import blake3
import numpy as np
import regex

from .segments import SKETCH_HEADER_SIZE, SKETCH_MAGIC, SKETCH_SMALL

_SPLIT = regex.compile(r"[^\p{Alphabetic}\p{Nd}\p{Nl}\p{No}]")
FILTER_BITS = 128
TOP_TERMS = 2
ZERO_ENTRY = bytes(SKETCH_SMALL)


def tokens(text: str) -> list[str]:
    normalized = unicodedata.normalize("NFKC", text).lower()
    return [t for t in _SPLIT.split(normalized) if len(t.encode("utf-8")) >= 2]


def token_hash(token: str) -> int:
    return int.from_bytes(blake3.blake3(token.encode("utf-8")).digest()[:8], "little")


_BITS = np.arange(64, dtype=np.uint64)


def sketch_entry(text: str | None) -> bytes:
    """The 32-byte small sketch entry for a frame's text; all zeros when it has no tokens."""
    toks = tokens(text or "")
    if not toks:
        return ZERO_ENTRY
    tf: dict[str, int] = {}
    for t in toks:
        tf[t] = tf.get(t, 0) + 1
    hs = np.fromiter((token_hash(t) for t in tf), dtype=np.uint64, count=len(tf))
    ws = np.fromiter((min(c, 3) * 100 for c in tf.values()), dtype=np.int64, count=len(tf))
    order = np.lexsort((hs, -ws))  # weight descending, then hash ascending
    bits = ((hs[:, None] >> _BITS) & np.uint64(1)).astype(np.int64)
    acc = (ws[:, None] * (2 * bits - 1)).sum(axis=0)
    simhash = int(((acc > 0).astype(np.uint64) << _BITS).sum())  # distinct powers of two: the sum is an OR
    filt = np.zeros(FILTER_BITS, dtype=bool)
    filt[(hs % np.uint64(FILTER_BITS)).astype(np.int64)] = True
    filt[((hs >> np.uint64(16)) % np.uint64(FILTER_BITS)).astype(np.int64)] = True
    filt[((hs >> np.uint64(32)) % np.uint64(FILTER_BITS)).astype(np.int64)] = True
    top = [int(h) for h in hs[order[:TOP_TERMS]]]
    top = [(h ^ (h >> 32)) & 0xFFFFFFFF for h in top] + [0] * (TOP_TERMS - len(top))
    return struct.pack("<Q", simhash) + np.packbits(filt, bitorder="little").tobytes() + struct.pack("<II", *top)


# --- many entries at once ------------------------------------------------------------------------
#
# The batch computation gives every (frame, distinct token) pair one row: its token's hash and
# its weight ``min(count, 3)`` (the factor 100 of the definition changes no sign and no order).
# The simhash is the sign of a per-frame sum over the rows' bit matrix, the filter a scatter into
# a (frames, 128) table, the top terms the two best rows per frame.

SKETCH_BATCH_CHARS = 1 << 22
"""Text characters tokenised per round: bounds the token lists held at once (and a caller's
batch of texts, if it gathers them per round)."""
_CHUNK_ROWS = 1 << 14
"""Rows per bit matrix (64 bytes each) in the simhash sums; 3 * rows fits the int32 sums."""
_MARK = b"\x00"
"""Ends each frame's tokens in the token stream; never a token (not alphanumeric)."""

# ASCII text needs neither NFKC (ASCII is stable under it) nor Unicode properties: its
# alphanumerics are [A-Za-z0-9], lowercased by the same table that blanks every other byte.
_ASCII_FOLD = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 or c == 0 else 32
                    for c in range(256))


@lru_cache(maxsize=1 << 16)
def _hash8(token: bytes) -> bytes:
    """The first 8 bytes of a token's BLAKE3 digest (``token_hash`` as bytes), for a bounded
    number of recently seen tokens: most frames share most of their words."""
    return blake3.blake3(token).digest(length=8)


def _token_stream(texts: list[str | None]) -> list[bytes]:
    """Every frame's tokens as UTF-8, each frame's followed by ``_MARK``. Single-byte tokens of
    ASCII texts are still in the stream (the caller drops them)."""
    out: list[bytes] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.extend((" \x00 ".join(run) + " \x00").encode("ascii").translate(_ASCII_FOLD).split())
            run.clear()

    for text in texts:
        text = text or ""
        if text.isascii() and "\x00" not in text:
            run.append(text)
        else:
            flush()
            out.extend([t.encode("utf-8") for t in tokens(text)])
            out.append(_MARK)
    flush()
    return out


def _chunk_table(texts: list[str | None]) -> np.ndarray:
    """The entries of ``texts`` as a (frames, 32) byte table."""
    n = len(texts)
    table = np.zeros((n, SKETCH_SMALL), dtype=np.uint8)
    stream = _token_stream(texts)
    vocab = dict.fromkeys(stream)
    vocab = dict(zip(vocab, range(len(vocab))))
    ids = np.fromiter(map(vocab.__getitem__, stream), dtype=np.int64, count=len(stream))
    del stream
    mark = ids == vocab[_MARK]
    frame = np.cumsum(mark) - mark  # each token's frame; the marks end the frames
    keep = np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab))[ids] >= 2
    keep &= ~mark
    key = frame[keep] * len(vocab) + ids[keep]
    del ids, mark, frame, keep
    if key.size == 0:
        return table
    key, count = np.unique(key, return_counts=True)  # one row per (frame, distinct token), by frame
    fr, tok = np.divmod(key, len(vocab))
    used = np.zeros(len(vocab), dtype=bool)
    used[tok] = True
    hashes = np.zeros(len(vocab), dtype="<u8")
    words = [w for w, u in zip(vocab, used) if u]
    hashes[used] = np.frombuffer(b"".join(map(_hash8, words)), dtype="<u8")
    h = hashes[tok]
    w = np.minimum(count, 3).astype(np.int64)
    del key, count, tok, hashes, words, vocab

    frames, starts = np.unique(fr, return_index=True)
    seg = np.repeat(np.arange(len(frames)), np.diff(np.r_[starts, len(fr)]))  # each row's place in frames
    # simhash: bit j is set when the weights of the rows with bit j set outweigh the rest.
    pos = np.zeros((len(frames), 64), dtype=np.int64)
    for lo in range(0, len(h), _CHUNK_ROWS):
        hi = min(lo + _CHUNK_ROWS, len(h))
        bits = np.unpackbits(h[lo:hi].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
        bits *= w[lo:hi, None].astype(np.uint8)
        part_seg = seg[lo:hi]
        first = np.flatnonzero(np.r_[True, part_seg[1:] != part_seg[:-1]])
        pos[part_seg[first]] += np.add.reduceat(bits, first, axis=0, dtype=np.int32)
    total = np.add.reduceat(w, starts)
    table[frames, 0:8] = np.packbits(2 * pos > total[:, None], axis=1, bitorder="little")
    # term filter: three 7-bit slices of each hash.
    filt = np.zeros((n, FILTER_BITS), dtype=bool)
    for shift in (0, 16, 32):
        filt[fr, ((h >> np.uint64(shift)) % np.uint64(FILTER_BITS)).astype(np.int64)] = True
    table[:, 8:24] = np.packbits(filt, axis=1, bitorder="little")
    # top terms: each frame's row with the highest weight, then the lowest hash, twice (the
    # first taken out for the second); folded to 32 bits.
    left = w.copy()
    for k in range(TOP_TERMS):
        best = np.maximum.reduceat(left, starts)
        cand = (left > 0) & (left == best[seg])
        low = np.minimum.reduceat(np.where(cand, h, np.uint64(2**64 - 1)), starts)
        at = np.flatnonzero(cand & (h == low[seg]))
        if at.size == 0:
            break  # every frame has fewer distinct tokens
        at = at[np.r_[True, seg[at][1:] != seg[at][:-1]]]  # one row per frame, even on a hash collision
        left[at] = 0
        folded = ((h[at] ^ (h[at] >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype("<u4")
        table[fr[at], 24 + 4 * k: 28 + 4 * k] = folded.view(np.uint8).reshape(-1, 4)
    return table


def sketch_entries(texts: Iterable[str | None]) -> list[bytes]:
    """``[sketch_entry(t) for t in texts]``, computed for many frames at a time. ``texts`` is
    consumed in rounds of bounded size, so a generator keeps memory bounded too."""
    out: list[bytes] = []
    it = iter(texts)
    while True:
        chunk: list[str | None] = []
        chars = 0
        for text in it:
            chunk.append(text)
            chars += len(text or "")
            if chars >= SKETCH_BATCH_CHARS:
                break
        if not chunk:
            return out
        data = _chunk_table(chunk).tobytes()
        out.extend(data[i:i + SKETCH_SMALL] for i in range(0, len(data), SKETCH_SMALL))


def _track_header(count: int) -> bytes:
    header = SKETCH_MAGIC + struct.pack("<HHQII", 1, SKETCH_SMALL, count, 0, 0)
    assert len(header) == SKETCH_HEADER_SIZE
    return header


class SketchEntries:
    """The small entries of frames 0, 1, ... as a writer knows them between commits.

    A frame's text never changes, so its entry, once computed or read from a track whose
    checksum matched, holds for the life of the file: the track only ever grows. The entries
    are kept as the bytes of the last track plus those computed since, so that a commit at a
    million frames copies 32 MB instead of building and joining a million small objects."""

    def __init__(self):
        self._prefix = b""  # entries 0 .. _n - 1, concatenated
        self._n = 0
        self._extra: dict[int, bytes] = {}  # entries computed since, by frame id

    def __bool__(self) -> bool:
        return bool(self._n or self._extra)

    def __contains__(self, i: int) -> bool:
        return i < self._n or i in self._extra

    def seed(self, entries: bytes, count: int) -> None:
        """Take entries 0 .. count - 1 from a track's body (only before any other entry)."""
        assert not self and len(entries) == SKETCH_SMALL * count
        self._prefix, self._n = bytes(entries), count

    def missing(self, n: int) -> list[int]:
        """The frame ids below ``n`` without an entry, ascending."""
        return [i for i in range(self._n, n) if i not in self._extra]

    def update(self, pairs) -> None:
        for i, entry in pairs:
            if i >= self._n:
                self._extra[i] = entry

    def track(self, n: int) -> bytes:
        """The ``MVSK`` segment of entries 0 .. n - 1 (every one must be known)."""
        if n > self._n:
            self._prefix += b"".join(self._extra.pop(i) for i in range(self._n, n))
            self._n = n
        return _track_header(n) + self._prefix[:SKETCH_SMALL * n]


def track_body(data) -> tuple[bytes, int] | None:
    """(entries, count) of a well-formed small-entry ``MVSK`` segment, or None."""
    if len(data) < SKETCH_HEADER_SIZE or bytes(data[:4]) != SKETCH_MAGIC:
        return None
    size, count = struct.unpack_from("<HQ", data, 6)
    if size != SKETCH_SMALL or len(data) != SKETCH_HEADER_SIZE + SKETCH_SMALL * count:
        return None
    return bytes(data[SKETCH_HEADER_SIZE:]), count


def decode_track(data) -> list[bytes] | None:
    """The entries of a well-formed small-entry ``MVSK`` segment, or None if it is not one."""
    data = bytes(data)
    if len(data) < SKETCH_HEADER_SIZE or data[:4] != SKETCH_MAGIC:
        return None
    size, count = struct.unpack_from("<HQ", data, 6)
    if size != SKETCH_SMALL or len(data) != SKETCH_HEADER_SIZE + SKETCH_SMALL * count:
        return None
    return [data[SKETCH_HEADER_SIZE + SKETCH_SMALL * i: SKETCH_HEADER_SIZE + SKETCH_SMALL * (i + 1)] for i in range(count)]
