"""TOC revisions and exact decoding with coded errors (spec: "Revisions and compatibility").

No byte in an MV2 file names the TOC revision (``toc_version`` is 0 in every revision seen),
so a reader decides by structure: the TOC must decode under the revision's schema, consuming
every byte. :func:`decode_toc` tries the known revisions newest first and keeps the first
that decodes exactly. memvid-2.0.123 differs from the others in the first frame;
memvid-2.0.160 from memvid-2.0.147 and memvid-2.0.131 in the vector manifest (``model``), so
a wrong guess fails within the index manifests; memvid-2.0.147 and memvid-2.0.131 differ
only in the ticket's one-byte ``verified``, so telling them apart can take a full decode.
Every revision is written as a difference from memvid-2.0.160 (:func:`_toc_variant`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from construct import ConstructError, Struct, StreamError

import blake3

from ..errors import CorruptFileError, UnsupportedError
from .bincode import BincodeError, Option, Vec, to_plain
from .fastcodec import FastCodec, Invalid
from .frame import Frame
from .frametable import lazy_frames
from .toc import (
    ClipIndexManifest,
    LexIndexManifest,
    TicketRef,
    LexSegmentManifest,
    VecIndexManifest,
    _toc,
)
from .wal import WalEntry, _wal_entry_data, wal_entry


@dataclass(frozen=True)
class Revision:
    """One TOC revision: the shapes of the TOC, a frame and a WAL record payload."""

    name: str
    toc: Struct
    frame: Struct
    wal_entry: object
    written_by: str
    releases: tuple[str, str] = ("", "")
    """The first and last memvid-sdk release seen writing this revision (inclusive)."""
    notes: str = ""

    @property
    def toc_codec(self) -> FastCodec:
        return _codec(self.toc)

    @property
    def wal_codec(self) -> FastCodec:
        return _codec(self.wal_entry)


_CODECS: dict[int, FastCodec] = {}


def _codec(con) -> FastCodec:
    c = _CODECS.get(id(con))
    if c is None:
        c = _CODECS[id(con)] = FastCodec(con)
    return c


def decode_fast(rev_con, data, **kw):
    """Decode with the generated codec; on any doubt, let the interpreter decide (and explain)."""
    try:
        return _codec(rev_con).decode(data)
    except Invalid:
        return to_plain(decode_exact(rev_con, data, **kw))


_FRAME_2_0_123 = Struct(
    *[sc for sc in Frame.subcons if sc.name not in ("source_sha256", "source_path", "enrichment_state")]
)
_VEC_NO_MODEL = Struct(*[sc for sc in VecIndexManifest.subcons if sc.name != "model"])
_INDEXES_NO_MODEL = Struct(
    "lex" / Option(LexIndexManifest),
    "lex_segments" / Vec(LexSegmentManifest, min_item=56),
    "vec" / Option(_VEC_NO_MODEL),
    "clip" / Option(ClipIndexManifest),
)
_TICKET_NO_VERIFIED = Struct(*[sc for sc in TicketRef.subcons if sc.name != "verified"])


def _toc_variant(frame, *, model: bool, verified: bool, drop: tuple[str, ...] = ()) -> Struct:
    """The 2.0.160 TOC with ``frame`` for frames, without the vec manifest's ``model`` and the
    ticket's ``verified`` when those are False, and without the top-level fields in ``drop``.
    Every revision is expressed as such a difference, so the differences are all in one place."""
    base = _toc(frame, tracks=True, sketch_replay_enrichment=True)
    subcons = []
    for sc in base.subcons:
        if sc.name in drop:
            continue
        if sc.name == "indexes" and not model:
            sc = ("indexes" / _INDEXES_NO_MODEL) * sc.docs
        elif sc.name == "ticket_ref" and not verified:
            sc = ("ticket_ref" / _TICKET_NO_VERIFIED) * sc.docs
        subcons.append(sc)
    return Struct(*subcons)


_FULL_WAL_ENTRY = WalEntry
_WAL_ENTRY_2_0_123 = wal_entry(_wal_entry_data(source_fields=False))

REVISIONS: dict[str, Revision] = {
    r.name: r
    for r in [
        Revision(
            name="memvid-2.0.160",
            toc=_toc(Frame, tracks=True, sketch_replay_enrichment=True),
            frame=Frame,
            wal_entry=_FULL_WAL_ENTRY,
            written_by="memvid-sdk 2.0.156 to 2.0.160 (memvid-core 2.0.135 and later)",
            releases=("2.0.156", "2.0.160"),
            notes="every field: the vec manifest has model, the ticket has verified",
        ),
        Revision(
            name="memvid-2.0.147",
            toc=_toc_variant(Frame, model=False, verified=True),
            frame=Frame,
            wal_entry=_FULL_WAL_ENTRY,
            written_by="memvid-sdk 2.0.147 to 2.0.153 (memvid-core 2.0.132 to 2.0.135)",
            releases=("2.0.147", "2.0.153"),
            notes="memvid-2.0.160 without the vec manifest's model",
        ),
        Revision(
            name="memvid-2.0.131",
            toc=_toc_variant(Frame, model=False, verified=False),
            frame=Frame,
            wal_entry=_FULL_WAL_ENTRY,
            written_by="memvid-sdk 2.0.131 to 2.0.144 (memvid-core 2.0.131)",
            releases=("2.0.131", "2.0.144"),
            notes="memvid-2.0.160 without the vec manifest's model and the ticket's verified",
        ),
        Revision(
            name="memvid-2.0.123",
            toc=_toc_variant(_FRAME_2_0_123, model=False, verified=False, drop=("sketch_track", "enrichment_queue")),
            frame=_FRAME_2_0_123,
            wal_entry=_WAL_ENTRY_2_0_123,
            written_by="memvid-sdk 2.0.123 to 2.0.130 (memvid-core 2.0.118)",
            releases=("2.0.123", "2.0.130"),
            notes="memvid-2.0.131 without sketch_track and enrichment_queue; "
            "frames and WAL frame records end after superseded_by / reuse_payload_from",
        ),
    ]
}
REVISION_ORDER = ["memvid-2.0.160", "memvid-2.0.147", "memvid-2.0.131", "memvid-2.0.123"]
"""Order in which a reader tries revisions: newest first. The layouts are mutually exclusive
(a TOC decodes exactly under at most one) except memvid-2.0.160 and memvid-2.0.147 when
``indexes.vec`` is None, where their bytes are the same; the order then names the newer."""


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def revision_for_release(version: str) -> str | None:
    """The revision memvid-sdk ``version`` (e.g. ``"2.0.140"``) writes, or None if unknown."""
    for name in REVISION_ORDER:
        first, last = REVISIONS[name].releases
        if _version(first) <= _version(version) <= _version(last):
            return name
    return None


_TOC_CODES = {
    "length": "MV2-E-TOC-LENGTH",
    "utf8": "MV2-E-TOC-UTF8",
    "bool": "MV2-E-TOC-VALUE",
    "option": "MV2-E-TOC-VALUE",
    "enum": "MV2-E-TOC-VALUE",
    "order": "MV2-E-TOC-ORDER",
    "trailing": "MV2-E-TOC-TRAILING",
}


def decode_exact(con, data, *, base_offset: int, what: str, code_for=None, default_code: str):
    """Parse ``data`` completely with ``con``; map every failure to a coded CorruptFileError.

    ``base_offset`` is the absolute file offset of ``data[0]`` so the error names a file
    offset. ``code_for`` maps a :class:`BincodeError` kind to an error code.
    """
    stream = io.BytesIO(data)
    try:
        value = con.parse_stream(stream)
        rest = len(data) - stream.tell()
        if rest:
            raise BincodeError(f"{rest} trailing bytes", kind="trailing", offset=stream.tell())
        return value
    except BincodeError as exc:
        code = (code_for or {}).get(exc.kind, default_code)
        raise CorruptFileError(f"{what}: {_short(exc)}", code=code, offset=base_offset + max(exc.offset, 0)) from None
    except StreamError as exc:
        code = (code_for or {}).get("truncated", default_code)
        raise CorruptFileError(f"{what} ends inside a value: {_short(exc)}", code=code, offset=base_offset + len(data)) from None
    except ConstructError as exc:
        code = (code_for or {}).get("value", default_code)
        raise CorruptFileError(f"{what}: {_short(exc)}", code=code, offset=base_offset + stream.tell()) from None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    path = ""
    for line in text:
        if line.startswith("Error in path"):
            path = line.replace("Error in path (parsing) -> ", "").replace("Error in path (building) -> ", "")
    msg = text[-1] if text else type(exc).__name__
    return f"{msg} (in {path})" if path else msg


TOC_CODE_FOR = dict(_TOC_CODES, truncated="MV2-E-TOC-TRUNCATED", value="MV2-E-TOC-VALUE")


def decode_toc(data: bytes, *, base_offset: int = 0, revision: str | None = None, lazy: bool = False):
    """Decode TOC bytes; return ``(revision, value)``.

    With ``lazy``, and the compiled codec at hand, the value's ``frames`` is a
    :class:`.frametable.LazyFrames` over ``data``: every frame checked, none built yet. It
    accepts and rejects exactly what the full decode does.

    With ``revision`` given, only that revision is tried. Otherwise each known revision is
    tried in :data:`REVISION_ORDER` and the first exact decode wins. If none decodes, the
    error reported is the one from the revision that got furthest into the bytes, which is
    the most specific account of what is wrong.
    """
    names = [revision] if revision else REVISION_ORDER
    best: CorruptFileError | None = None
    for name in names:
        rev = REVISIONS[name]
        try:
            if lazy:
                got = rev.toc_codec.decode_lazy(data)
                if got is not None:
                    value, spans, cols = got
                    value["frames"] = lazy_frames(data, spans, cols, _codec(rev.frame).decode_range)
                    return rev, value
            return rev, rev.toc_codec.decode(data)
        except Invalid:
            pass
        try:
            value = decode_exact(rev.toc, data, base_offset=base_offset, what=f"TOC ({name})",
                                 code_for=TOC_CODE_FOR, default_code="MV2-E-TOC-DECODE")
            return rev, to_plain(value)
        except CorruptFileError as exc:
            if best is None or (exc.offset or 0) > (best.offset or 0):
                best = exc
    assert best is not None
    if revision is None and len(names) > 1:
        if best.code != "MV2-E-TOC-TRAILING" and checksum_holds(data) and _frames_decode(data):
            # The writer sealed these bytes: they are a TOC, of a layout this reader does not know.
            raise UnsupportedError(f"the TOC's checksums hold but no known revision ({', '.join(names)}) decodes it; "
                                   f"closest: {best.message}", code="MV2-E-TOC-REVISION", offset=base_offset)
        best.message = f"no known TOC revision decodes these bytes; closest: {best.message}"
        best.args = (f"{best.code} at byte {best.offset}: {best.message}",)
    raise best


def _frames_decode(data: bytes) -> bool:
    """Whether some known revision decodes the TOC's first fields through the whole frame list.
    Past the frames, a layout this reader does not know is the likelier reading of bytes that do
    not decode; inside them (or as bytes left over after a complete TOC), damage is (spec 11.3)."""
    for name in REVISION_ORDER:
        head = Struct(*REVISIONS[name].toc.subcons[:3])  # toc_version, segments, frames
        try:
            head.parse_stream(io.BytesIO(data))
            return True
        except (BincodeError, ConstructError):
            continue
    return False


def checksum_holds(data: bytes) -> bool:
    """Whether the TOC's last 32 bytes are the BLAKE3 of the TOC with them zeroed (spec 6.2).
    The checksum is the final field in every revision, so this needs no decoding."""
    if len(data) < 32:
        return False
    h = blake3.blake3(memoryview(data)[:-32])
    h.update(bytes(32))
    return h.digest() == data[-32:]


def encode_toc(value, revision: str) -> bytes:
    return REVISIONS[revision].toc_codec.encode(value)
