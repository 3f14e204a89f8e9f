"""The memories track: memory cards (spec: "Index segments", 9.5).

The track is ``"MVMC"``, a u16 version (1), a u64 length, then that many bytes: one zstd frame
that decompresses to a JSON object. The object's ``cards`` member is a list of memory cards
(subject, predicate, object triplets with provenance); its other members (``next_id``,
``slot_index``, ``enrichment_manifest``) are bookkeeping derived from the cards and the
frames they were extracted from.

This module decodes the framing, the zstd frame and the JSON, and checks the card shape that
a reader relies on (an integer ``id`` and string ``entity``, ``slot`` and ``value``). Every
other card member is carried through as stored. Decoding is bounded: the zstd frame goes
through the same streaming decoder as frame payloads, stopped at :data:`MAX_MEMORIES_JSON`.
"""

from __future__ import annotations

import json

from ..errors import CorruptFileError
from .payload import iter_canonical
from .segments import MEMORIES_MAGIC, TrackHeader

TRACK_HEADER_SIZE = 14
"""magic (4) + version (2) + length (8)."""
MEMORIES_VERSION = 1
MAX_MEMORIES_JSON = 1 << 28
"""Largest decompressed memories document this implementation materialises (256 MiB)."""

_CODE = "MV2-E-SEG-DECODE"
_CARD_STRINGS = ("entity", "slot", "value")


def _fail(message: str, offset: int | None) -> CorruptFileError:
    return CorruptFileError(f"memories track: {message}", code=_CODE, offset=offset)


def decode_memories(data, *, offset: int | None = None) -> dict:
    """Decode a memories track (the whole segment) into its JSON object.

    ``offset`` is the segment's absolute file offset, used in errors. Raises
    :class:`CorruptFileError` (``MV2-E-SEG-DECODE``) for any malformed input."""
    if len(data) < TRACK_HEADER_SIZE:
        raise _fail(f"{len(data)} bytes is shorter than its {TRACK_HEADER_SIZE}-byte header", offset)
    hdr = TrackHeader.parse(bytes(data[:TRACK_HEADER_SIZE]))
    if hdr.magic != MEMORIES_MAGIC:
        raise _fail(f"magic {bytes(hdr.magic)!r}, expected {MEMORIES_MAGIC!r}", offset)
    if hdr.version != MEMORIES_VERSION:
        raise _fail(f"version {hdr.version}, expected {MEMORIES_VERSION}", offset)
    if hdr.length != len(data) - TRACK_HEADER_SIZE:
        raise _fail(f"header says {hdr.length} body bytes, the segment holds {len(data) - TRACK_HEADER_SIZE}", offset)
    body = bytearray()
    for chunk in iter_canonical(memoryview(data)[TRACK_HEADER_SIZE:], "zstd", None, frame_id=-1, offset=offset,
                                what="memories track", code=_CODE):
        body += chunk
        if len(body) > MAX_MEMORIES_JSON:
            raise _fail(f"decompresses past the {MAX_MEMORIES_JSON}-byte limit", offset)
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _fail(f"body is not UTF-8 JSON ({type(exc).__name__})", offset) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cards"), list):
        raise _fail("body is not a JSON object with a `cards` list", offset)
    seen: set[int] = set()
    for i, card in enumerate(doc["cards"]):
        if not isinstance(card, dict):
            raise _fail(f"card {i} is not an object", offset)
        cid = card.get("id")
        if not isinstance(cid, int) or isinstance(cid, bool) or cid < 0:
            raise _fail(f"card {i} has no non-negative integer id", offset)
        if cid in seen:
            raise _fail(f"card id {cid} appears twice", offset)
        seen.add(cid)
        for name in _CARD_STRINGS:
            if not isinstance(card.get(name), str):
                raise _fail(f"card {cid} has no string {name!r}", offset)
    return doc


def memory_cards(doc: dict) -> list[dict]:
    """The cards of a decoded memories document, in id order, each as stored."""
    return sorted(doc["cards"], key=lambda c: c["id"])
