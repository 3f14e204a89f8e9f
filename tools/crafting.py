"""Build deliberately broken files, one fault at a time (used by the negative vectors and the tests).

Each helper takes the bytes of a valid file and returns new bytes in which exactly one rule is
broken, with every *other* checksum recomputed, so that a test sees the error it aims at and
not an earlier one (a flipped TOC byte would otherwise always surface as a footer hash error).
"""

from __future__ import annotations

import struct

import blake3

from mv2.format.commit import encode_footer, encode_toc_with_checksum, toc_checksum_of
from mv2.format.footer import FOOTER_SIZE
from mv2.format.wal import WAL_RECORD_HEADER_SIZE
from mv2.storage.snapshot import read_snapshot
from mv2.storage.source import Source


def parts(data: bytes):
    """(snapshot info) the toc dict, revision name, toc offset, generation."""
    with read_snapshot(Source(data), apply_wal=False) as s:
        return s.toc, s.revision.name, s.commit.toc_offset, s.commit.generation, s.header


def replace_toc_bytes(data: bytes, toc_bytes: bytes, *, fix_checksum_field: bool = False) -> bytes:
    """Put ``toc_bytes`` where the current TOC is, with a matching footer and header."""
    _, _, off, gen, _ = parts(data)
    if fix_checksum_field:
        toc_bytes = toc_bytes[:-32] + toc_checksum_of(toc_bytes)
    out = bytearray(data[:off] + toc_bytes + encode_footer(toc_bytes, gen))
    out[48:80] = toc_bytes[-32:]
    return bytes(out)


def rewrite_toc(data: bytes, mutate) -> bytes:
    """Decode the TOC, let ``mutate(toc)`` change it, and re-encode it consistently."""
    toc, rev, off, gen, _ = parts(data)
    mutate(toc)
    return replace_toc_bytes(data, encode_toc_with_checksum(toc, rev))


def set_bytes(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


def flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    return set_bytes(data, offset, bytes([data[offset] ^ (1 << bit)]))


def region_bytes(data: bytes, offset: int, length: int) -> bytes:
    return data[offset:offset + length]


def wal_records(data: bytes):
    """[(region offset, seq, length)] of the WAL records before the sentinel."""
    wal_offset, wal_size = struct.unpack_from("<QQ", data, 16)
    pos, out = 0, []
    while pos + WAL_RECORD_HEADER_SIZE <= wal_size:
        seq, length = struct.unpack_from("<QI", data, wal_offset + pos)
        if seq == 0 and length == 0:
            break
        out.append((pos, seq, length))
        pos += WAL_RECORD_HEADER_SIZE + length
    return out


def rehash_wal_record(data: bytes, region_pos: int) -> bytes:
    """Recompute the BLAKE3 of the WAL record at ``region_pos`` after its payload changed."""
    wal_offset = struct.unpack_from("<Q", data, 16)[0]
    at = wal_offset + region_pos
    length = struct.unpack_from("<I", data, at + 8)[0]
    payload = data[at + WAL_RECORD_HEADER_SIZE: at + WAL_RECORD_HEADER_SIZE + length]
    return set_bytes(data, at + 16, blake3.blake3(payload).digest())


def footer_offset(data: bytes) -> int:
    return len(data) - FOOTER_SIZE
