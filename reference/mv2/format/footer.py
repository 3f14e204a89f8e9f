"""The 56-byte commit footer that ends every committed file (spec: "TOC and footer")."""

from __future__ import annotations

from construct import Bytes, Struct

from .bincode import U64, Hash32

FOOTER_MAGIC = b"MV2FOOT!"
FOOTER_SIZE = 56

Footer = Struct(
    ("magic" / Bytes(8)) * 'ASCII "MV2FOOT!".',
    ("toc_len" / U64) * "Length of the TOC, which ends where this footer begins.",
    ("toc_hash" / Hash32) * "BLAKE3-256 of the TOC bytes exactly as stored.",
    ("generation" / U64) * "Commit counter. Covered by no checksum.",
)
