"""Encoding a commit: TOC with its checksum, footer, header (spec: "TOC and footer", "Checksums").

Pure functions: given a TOC value they produce the exact bytes a writer appends and the
header it installs. ``toc_checksum`` is BLAKE3 of the TOC encoded with the checksum field set
to 32 zero bytes; because the checksum is the TOC's last field, that is BLAKE3 of the stored
bytes with their last 32 bytes zeroed. The footer's ``toc_hash`` is BLAKE3 of the stored TOC.
"""

from __future__ import annotations

import operator
import struct

import blake3
import numpy as np

from .footer import FOOTER_MAGIC, Footer
from .header import Header, header_value
from .revisions import REVISIONS, Revision, _codec

ZERO32 = bytes(32)
_U64 = struct.Struct("<Q")


class FrameEncodings:
    """Encoded frames from earlier commits, reused while a frame's fields are unchanged.

    A commit re-encodes the whole TOC, and frames are most of it; but a committed frame is
    immutable except for its status links and, after a compaction, its payload offset. The
    cache keeps each frame's fields (a shallow copy) with its bytes and reuses the bytes when
    the fields compare equal, so a commit encodes only new and changed frames. The bytes are
    those the TOC codec would produce: bincode concatenates a struct's fields, so the frames
    of a TOC are the frame encodings one after another."""

    CHECK = False
    """When set (the test suite sets it), every reused encoding is compared with a fresh one."""

    def __init__(self) -> None:
        self._revision: str | None = None
        self._by_id: dict[int, tuple[dict, bytes]] = {}
        self._base: tuple[list[dict], memoryview, list[int]] | None = None

    def seed(self, frames: list[dict], toc_bytes: bytes, revision: Revision) -> bool:
        """Take the encodings of ``frames`` from the TOC bytes they were decoded from.

        A writer that opens a file would otherwise encode every committed frame again on its
        first commit (18 µs a frame). A frame's bytes are reused while the TOC still holds
        that very dict: replay copies a frame before changing it (storage/replay.py), so an
        unchanged identity means unchanged fields."""
        spans = getattr(frames, "spans", None)  # a lazily decoded TOC has found them already
        if spans is None or getattr(frames, "buffer", None) is not toc_bytes:
            spans = _codec(revision.toc).frame_spans(toc_bytes)
        if spans is None or len(spans) != len(frames) + 1:
            return False
        self._revision, self._by_id = revision.name, {}
        self._base = (frames, memoryview(toc_bytes), spans)
        return True

    def encode(self, frames: list[dict], revision: Revision) -> bytes:
        return b"".join(self.encode_parts(frames, revision))

    def encode_parts(self, frames: list[dict], revision: Revision) -> list:
        """The frames' encodings as consecutive byte chunks (joined, they are ``encode``)."""
        if revision.name != self._revision:
            self._revision, self._by_id, self._base = revision.name, {}, None
        enc = _codec(revision.frame).encode
        patched = getattr(frames, "encoded_parts", None)
        if patched is not None:  # a rewrite's moved frames (format/frametable.py: MovedFrames)
            out = patched(enc)
            if self.CHECK:
                assert b"".join(out) == b"".join(enc(f) for f in frames), "patched TOC bytes differ"
            return out
        base, raw, spans = self._base or ((), b"", ())
        # Frame k of a TOC has id k (R-FRM-001), so frames[k] is reusable when it is base[k].
        # Reusable frames come in runs (usually one run: everything but the new frames), and
        # each run is one slice of the old TOC: no per-frame objects on a large file.
        m = min(len(base), len(frames))
        changed = getattr(frames, "changed", None)
        if changed is not None and getattr(frames, "prev", None) is base:
            # A commit's frame list over the TOC these bytes are (committer.FrameFields): every
            # frame it has not changed is the base's own, so nothing need be compared or read.
            same = np.ones(m, bool)
            same[[i for i in changed if i < m]] = False
        else:
            same = np.fromiter(map(operator.is_, base, frames), bool, m) if m else np.zeros(0, bool)
        edges = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)))
        out: list = []
        pos = 0
        for start, stop in edges.reshape(-1, 2).tolist():
            self._encode_each(frames[pos:start], enc, out)
            run = raw[spans[start]:spans[stop]]
            if self.CHECK:
                assert bytes(run) == b"".join(enc(f) for f in frames[start:stop]), "reused TOC bytes differ"
            out.append(run)
            pos = stop
        self._encode_each(frames[pos:], enc, out)
        return out

    def _encode_each(self, frames: list[dict], enc, out: list) -> None:
        for f in frames:
            hit = self._by_id.get(f["id"])
            if hit is not None and hit[0] == f:
                out.append(hit[1])
                continue
            b = enc(f)
            self._by_id[f["id"]] = (dict(f), b)
            out.append(b)


def toc_checksum_of(toc_bytes: bytes) -> bytes:
    h = blake3.blake3(memoryview(toc_bytes)[:-32])
    h.update(ZERO32)
    return h.digest()


def encode_toc_with_checksum(toc: dict, revision: str, frames: FrameEncodings | None = None) -> bytes:
    """Encode ``toc`` (any ``toc_checksum`` it holds is replaced) with its checksum filled in.

    With ``frames``, frame encodings are taken from that cache where possible; the bytes are
    the same either way (tested)."""
    rev = REVISIONS[revision]
    value = dict(toc, toc_checksum=ZERO32)
    names = [sc.name for sc in rev.toc.subcons[:3]]
    if frames is None or names != ["toc_version", "segments", "frames"] or value["segments"]:
        raw = rev.toc_codec.encode(value)
    else:
        # toc_version (u64) and an empty segments Vec (u64 0) come first, then the frames Vec.
        head = rev.toc_codec.encode(dict(value, frames=[]))
        # The checksum is hashed over the chunks and the TOC joined once: at a million frames
        # each extra copy of the TOC is half a gigabyte.
        parts = [head[:16], _U64.pack(len(value["frames"])), *frames.encode_parts(value["frames"], rev), head[24:-32]]
        h = blake3.blake3()
        for part in parts:
            h.update(part)
        h.update(ZERO32)
        return b"".join((*parts, h.digest()))
    return raw[:-32] + toc_checksum_of(raw)


def encode_footer(toc_bytes: bytes, generation: int) -> bytes:
    return Footer.build(dict(magic=FOOTER_MAGIC, toc_len=len(toc_bytes),
                             toc_hash=blake3.blake3(toc_bytes, max_threads=blake3.blake3.AUTO).digest(),
                             generation=generation))


def encode_header(*, toc_offset: int, toc_bytes: bytes, wal_size: int, wal_checkpoint_pos: int, wal_sequence: int) -> bytes:
    return Header.build(header_value(footer_offset=toc_offset, wal_size=wal_size, wal_checkpoint_pos=wal_checkpoint_pos,
                                     wal_sequence=wal_sequence, toc_checksum=bytes(toc_bytes[-32:])))
