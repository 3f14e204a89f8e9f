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


def sketch_entry(text: str | None) -> bytes:
    """The 32-byte small sketch entry for a frame's text; all zeros when it has no tokens."""
    toks = tokens(text or "")
    if not toks:
        return ZERO_ENTRY
    tf: dict[str, int] = {}
    for t in toks:
        tf[t] = tf.get(t, 0) + 1
    weighted = sorted(((token_hash(t), min(c, 3) * 100) for t, c in tf.items()), key=lambda hw: (-hw[1], hw[0]))
    acc = [0] * 64
    for h, w in weighted:
        for i in range(64):
            acc[i] += w if (h >> i) & 1 else -w
    simhash = 0
    for i, v in enumerate(acc):
        if v > 0:
            simhash |= 1 << i
    filt = bytearray(FILTER_BITS // 8)
    for h, _ in weighted:
        for b in (h % FILTER_BITS, (h >> 16) % FILTER_BITS, (h >> 32) % FILTER_BITS):
            filt[b // 8] |= 1 << (b % 8)
    top = [((h ^ (h >> 32)) & 0xFFFFFFFF) for h, _ in weighted[:TOP_TERMS]]
    top += [0] * (TOP_TERMS - len(top))
    return struct.pack("<Q", simhash) + bytes(filt) + struct.pack("<II", *top)


def sketch_track(texts: list[str | None]) -> bytes:
    """A whole ``MVSK`` segment with one entry per frame, in frame order."""
    header = SKETCH_MAGIC + struct.pack("<HHQII", 1, SKETCH_SMALL, len(texts), 0, 0)
    assert len(header) == SKETCH_HEADER_SIZE
    return header + b"".join(sketch_entry(t) for t in texts)
