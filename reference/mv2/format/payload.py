"""Frame payload encodings (spec: "Frames and payload encodings").

A frame's stored bytes are either the canonical bytes themselves (``plain``) or one zstd
frame that decompresses to them (``zstd``). ``canonical_length`` is the length of the
canonical bytes. ``checksum`` (in the frame) is BLAKE3 of the *stored* bytes.

Writers compress with zstd level 3, as one streaming frame without the content-size field and
without zstd's own content checksum, as memvid does; python-zstandard 0.25 (libzstd 1.5.7)
reproduces all 1 077 zstd payloads of the gold files exactly this way.

Decoding streams: the output is produced in bounded chunks and checked against
``canonical_length`` as it goes, so a small hostile payload that claims or expands to a huge
size is rejected without allocating that size.
"""

from __future__ import annotations

from typing import Iterator

import zstandard

from ..errors import CorruptFileError, UsageError

ZSTD_LEVEL = 3
CHUNK = 1 << 20
MAX_MATERIALISED_PAYLOAD = 1 << 30
"""Largest canonical payload this implementation returns as one ``bytes`` object."""

_DCTX = zstandard.ZstdDecompressor()
_ZSTD_STEP = 256
"""Compressed bytes fed to the decoder per step. zstd can expand a few input bytes into a
128 KiB block, so a small step keeps the output of one step to a few MiB even for a
deliberately extreme payload."""


def compressor() -> zstandard.ZstdCompressor:
    # write_content_size=False and write_checksum=False match the bytes memvid writes.
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=False, write_checksum=False)


def zstd_compress(data: bytes) -> bytes:
    """Compress as memvid does: a *streaming* zstd frame (python-zstandard's ``compressobj``).

    The one-shot ``compress()`` with the same parameters writes a single-segment frame with
    different bytes; the streaming frame reproduces every zstd payload of the gold files."""
    c = compressor().compressobj()
    return c.compress(data) + c.flush()


EXPANSION_FLOOR = 64 << 20
EXPANSION_RATIO = 64
"""A reader materialises at most ``max(EXPANSION_FLOOR, EXPANSION_RATIO x file size)`` bytes
of one payload (capped at MAX_MATERIALISED_PAYLOAD), so that a small file cannot make it
allocate gigabytes (spec 5.5, R-FRM-008)."""


def materialise_limit(file_size: int) -> int:
    return min(MAX_MATERIALISED_PAYLOAD, max(EXPANSION_FLOOR, EXPANSION_RATIO * file_size))


def encode_payload(data: bytes, *, compress: bool) -> tuple[bytes, str, int]:
    """(stored bytes, encoding, canonical_length) for canonical bytes ``data``.

    A payload that compresses so well that the file could be smaller than its expansion
    bound allows is stored plain, so that every file this writer makes stays readable under
    :func:`materialise_limit`."""
    if compress:
        packed = zstd_compress(data)
        if len(data) <= EXPANSION_FLOOR or len(packed) * EXPANSION_RATIO >= len(data):
            return packed, "zstd", len(data)
    return bytes(data), "plain", len(data)


def iter_canonical(stored, encoding: str, canonical_length: int | None, *, frame_id: int, offset: int | None = None,
                   what: str | None = None, code: str = "MV2-E-FRAME-DECODE") -> Iterator[bytes]:
    """Yield the canonical bytes of a payload in chunks; raise if they do not match the length.

    ``what`` names the bytes in messages (default ``frame <id>``) and ``code`` is the error code,
    so that other zstd-compressed structures (the memories track) decode through the same
    bounded path. With ``canonical_length`` None the caller bounds the output itself."""
    label = what if what is not None else f"frame {frame_id}"
    if encoding == "plain":
        if canonical_length is not None and canonical_length != len(stored):
            raise CorruptFileError(
                f"{label}: plain payload is {len(stored)} bytes but canonical_length is {canonical_length}",
                code=code, offset=offset,
            )
        for i in range(0, len(stored), CHUNK):
            yield bytes(stored[i : i + CHUNK])
        return
    if encoding != "zstd":
        raise CorruptFileError(f"{label}: unknown encoding {encoding!r}", code=code, offset=offset)
    if len(stored) == 0 and not canonical_length:
        return  # an empty stored payload is empty whatever its encoding (memvid decodes it so)
    produced = 0
    dobj = _DCTX.decompressobj()
    view = memoryview(stored)
    try:
        for i in range(0, len(view), _ZSTD_STEP):
            out = dobj.decompress(view[i : i + _ZSTD_STEP])
            produced += len(out)
            if canonical_length is not None and produced > canonical_length:
                raise CorruptFileError(
                    f"{label}: zstd payload expands past its canonical_length {canonical_length}",
                    code=code, offset=offset,
                )
            if out:
                yield out
            if dobj.eof:
                if dobj.unused_data or i + _ZSTD_STEP < len(view):
                    raise CorruptFileError(
                        f"{label}: bytes follow the zstd frame inside the payload",
                        code=code, offset=offset,
                    )
                break
    except zstandard.ZstdError as exc:
        raise CorruptFileError(f"{label}: zstd payload does not decode: {exc}", code=code, offset=offset) from None
    if not dobj.eof:
        raise CorruptFileError(f"{label}: zstd payload is truncated (the frame does not end)", code=code, offset=offset)
    if canonical_length is not None and produced != canonical_length:
        raise CorruptFileError(
            f"{label}: zstd payload decodes to {produced} bytes, canonical_length says {canonical_length}",
            code=code, offset=offset,
        )


def decode_payload(stored, encoding: str, canonical_length: int | None, *, frame_id: int, offset: int | None = None,
                   limit: int = MAX_MATERIALISED_PAYLOAD) -> bytes:
    """The canonical bytes of a payload as one object (for ``cat`` and blob reads)."""
    if canonical_length is not None and canonical_length > limit:
        raise UsageError(f"frame {frame_id}: payload of {canonical_length} bytes exceeds the {limit}-byte limit", code="MV2-E-LIMIT")
    out = bytearray()
    for chunk in iter_canonical(stored, encoding, canonical_length, frame_id=frame_id, offset=offset):
        out += chunk
        if len(out) > limit:
            raise UsageError(f"frame {frame_id}: payload exceeds the {limit}-byte limit", code="MV2-E-LIMIT")
    return bytes(out)
