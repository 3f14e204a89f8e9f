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
    ("magic" / Bytes(4)) * 'ASCII "MV2" then a zero byte: `4D 56 32 00`.',
    ("version" / U16) * "`0x0201` = (spec_major << 8) | spec_minor; stored `01 02`.",
    ("spec_major" / U8) * "2.",
    ("spec_minor" / U8) * "1.",
    ("footer_offset" / U64) * "Absolute offset of the committed TOC (not of the footer, despite the name).",
    ("wal_offset" / U64) * "Absolute offset of the WAL region: always 4096.",
    ("wal_size" / U64) * "Length of the WAL region in bytes.",
    ("wal_checkpoint_pos" / U64) * "Offset *within the WAL region* of the write head at the last checkpoint.",
    ("wal_sequence" / U64) * "Sequence number of the last checkpointed WAL record; 0 if none.",
    ("toc_checksum" / Hash32) * "Copy of the committed TOC's `toc_checksum`.",
    ("reserved" / Bytes(HEADER_SIZE - DATA_FIELDS_END)) * "Zero.",
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
