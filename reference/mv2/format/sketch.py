"""Sketch track entries (spec: "Index segments", 9.3).

A sketch entry summarises a frame's text in 32 bytes for memvid's search pre-filter. The
computation below reproduces memvid's bit for bit (checked against every entry of the gold
files), because memvid uses the entries to *choose which frames to search*: an entry that
differs from memvid's own computation can hide a frame from memvid's ``find``.

Tokenisation follows Rust's definitions, not Python's: ``char::is_alphanumeric`` is the
Unicode ``Alphabetic`` property or a numeric general category, which the ``regex`` module
expresses exactly; Python's ``str.isalnum`` differs for combining marks in many scripts.
"""

from __future__ import annotations

import struct
import unicodedata

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


def encode_track(entries: list[bytes]) -> bytes:
    """A whole ``MVSK`` segment of small entries, entry k describing frame k."""
    header = SKETCH_MAGIC + struct.pack("<HHQII", 1, SKETCH_SMALL, len(entries), 0, 0)
    assert len(header) == SKETCH_HEADER_SIZE
    return header + b"".join(entries)


def decode_track(data) -> list[bytes] | None:
    """The entries of a well-formed small-entry ``MVSK`` segment, or None if it is not one."""
    data = bytes(data)
    if len(data) < SKETCH_HEADER_SIZE or data[:4] != SKETCH_MAGIC:
        return None
    size, count = struct.unpack_from("<HQ", data, 6)
    if size != SKETCH_SMALL or len(data) != SKETCH_HEADER_SIZE + SKETCH_SMALL * count:
        return None
    return [data[SKETCH_HEADER_SIZE + SKETCH_SMALL * i: SKETCH_HEADER_SIZE + SKETCH_SMALL * (i + 1)] for i in range(count)]
