"""Encoding a commit: TOC with its checksum, footer, header (spec: "TOC and footer", "Checksums").

Pure functions: given a TOC value they produce the exact bytes a writer appends and the
header it installs. ``toc_checksum`` is BLAKE3 of the TOC encoded with the checksum field set
to 32 zero bytes; because the checksum is the TOC's last field, that is BLAKE3 of the stored
bytes with their last 32 bytes zeroed. The footer's ``toc_hash`` is BLAKE3 of the stored TOC.
"""

from __future__ import annotations

import blake3

from .footer import FOOTER_MAGIC, Footer
from .header import Header, header_value
from .revisions import REVISIONS

ZERO32 = bytes(32)


def toc_checksum_of(toc_bytes: bytes) -> bytes:
    h = blake3.blake3(memoryview(toc_bytes)[:-32])
    h.update(ZERO32)
    return h.digest()


def encode_toc_with_checksum(toc: dict, revision: str) -> bytes:
    """Encode ``toc`` (any ``toc_checksum`` it holds is replaced) with its checksum filled in."""
    value = dict(toc, toc_checksum=ZERO32)
    raw = REVISIONS[revision].toc_codec.encode(value)
    return raw[:-32] + toc_checksum_of(raw)


def encode_footer(toc_bytes: bytes, generation: int) -> bytes:
    return Footer.build(dict(magic=FOOTER_MAGIC, toc_len=len(toc_bytes),
                             toc_hash=blake3.blake3(toc_bytes).digest(), generation=generation))


def encode_header(*, toc_offset: int, toc_bytes: bytes, wal_size: int, wal_checkpoint_pos: int, wal_sequence: int) -> bytes:
    return Header.build(header_value(footer_offset=toc_offset, wal_size=wal_size, wal_checkpoint_pos=wal_checkpoint_pos,
                                     wal_sequence=wal_sequence, toc_checksum=bytes(toc_bytes[-32:])))
