"""The 4096-byte file header (spec: "Header").

Only bytes 0..80 carry data; 80..4096 are reserved and zero. Nothing in the header is
covered by a checksum of its own: each field is checked against the structure it
describes (the TOC, the WAL), which ``mv2.storage.verify`` does.
"""

from __future__ import annotations

from construct import Bytes, Struct

from .bincode import U8, U16, U64, Hash32

HEADER_SIZE = 4096
MAGIC = b"MV2\x00"
SPEC_MAJOR = 2
SPEC_MINOR = 1
VERSION = (SPEC_MAJOR << 8) | SPEC_MINOR  # 0x0201, stored little-endian as 01 02
WAL_OFFSET = HEADER_SIZE
DATA_FIELDS_END = 80
LEGACY_LOCK_END = 140
"""memvid clears bytes 80..140 (a retired lock area) whenever it opens a file."""

Header = Struct(
    "magic" / Bytes(4),
    "version" / U16,
    "spec_major" / U8,
    "spec_minor" / U8,
    "footer_offset" / U64,
    "wal_offset" / U64,
    "wal_size" / U64,
    "wal_checkpoint_pos" / U64,
    "wal_sequence" / U64,
    "toc_checksum" / Hash32,
    "reserved" / Bytes(HEADER_SIZE - DATA_FIELDS_END),
)
"""The header. ``footer_offset`` is the absolute offset of the TOC (not of the footer)."""


def header_value(
    *, footer_offset: int, wal_size: int, wal_checkpoint_pos: int, wal_sequence: int, toc_checksum: bytes
) -> dict:
    """A header value with the constant fields filled in, ready for ``Header.build``."""
    return dict(
        magic=MAGIC,
        version=VERSION,
        spec_major=SPEC_MAJOR,
        spec_minor=SPEC_MINOR,
        footer_offset=footer_offset,
        wal_offset=WAL_OFFSET,
        wal_size=wal_size,
        wal_checkpoint_pos=wal_checkpoint_pos,
        wal_sequence=wal_sequence,
        toc_checksum=toc_checksum,
        reserved=bytes(HEADER_SIZE - DATA_FIELDS_END),
    )
