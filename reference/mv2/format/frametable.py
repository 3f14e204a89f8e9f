"""A TOC's frame list, decoded one frame at a time when asked for (spec: "TOC and footer", frames).

At a million frames the TOC is 450 MB and decoding it whole makes a million dicts: 1.6 s and
1.2 KB a frame. Most uses of a file touch few of them: a search reads its hits, a put appends.
So a reader opens a TOC with the compiled codec's *lazy* decoder, which checks every byte of
every frame exactly as the full decoder does, but builds only:

* ``spans``: where each frame starts in the TOC bytes (and where the last ends), and
* ``columns``: the few frame fields that opening needs for all frames at once (ids and links
  for the reference checks, timestamps and status), as numpy int64 arrays. An Option's None
  is -1 and an Enum its index; see ``fastcodec_cy.LAZY_COLUMNS``.

:class:`LazyFrames` is then the ``frames`` value: a sequence that decodes frame ``i`` from its
span the first time it is read and keeps that dict, so a frame read twice is the same object
(the committer relies on identity to tell unchanged frames). Its values equal those of the
full decode; the test suite holds them to that on every gold file.
"""

from __future__ import annotations

from collections.abc import Sequence

from .frame import FrameRole, FrameStatus
from .gcpause import paused_gc

COLUMN_VALUE = {"status": FrameStatus.index.__getitem__, "role": FrameRole.index.__getitem__}
"""How a field's value becomes its column's int64, where that is not the value itself (None is -1)."""


def column_value(name: str, v) -> int:
    conv = COLUMN_VALUE.get(name)
    if conv is not None:
        return conv(v)
    return -1 if v is None else v


class LazyFrames(Sequence):
    """The frames of one TOC, each decoded from its bytes on first access."""

    __slots__ = ("_buf", "spans", "columns", "_decode", "_cache")

    BATCH = 1024
    """Frames decoded per call while iterating (one call per frame would cost more than the
    decode itself)."""

    def __init__(self, buf, spans, columns: dict, decode_range):
        self._buf = buf
        self.spans = spans
        self.columns = columns
        self._decode = decode_range  # (buf, spans, lo, hi) -> list of dicts
        self._cache: list = [None] * (len(spans) - 1)

    def __len__(self) -> int:
        return len(self._cache)

    def _at(self, i: int) -> dict:
        f = self._cache[i]
        if f is None:
            with paused_gc():
                f = self._cache[i] = self._decode(self._buf, self.spans, i, i + 1)[0]
        return f

    def _fill(self, lo: int, hi: int) -> None:
        """Decode the frames of [lo, hi) not yet decoded, a run at a time."""
        cache = self._cache
        i = lo
        while i < hi:
            if cache[i] is not None:
                i += 1
                continue
            j = i + 1
            while j < hi and cache[j] is None:
                j += 1
            with paused_gc():  # as for a whole TOC (gcpause.py): the values cannot form cycles
                cache[i:j] = self._decode(self._buf, self.spans, i, j)
            i = j

    def __getitem__(self, i):
        n = len(self._cache)
        if isinstance(i, slice):
            lo, hi, step = i.indices(n)
            if step == 1:
                self._fill(lo, max(lo, hi))
                return self._cache[lo:hi]
            return [self._at(j) for j in range(lo, hi, step)]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("frame index out of range")
        return self._at(i)

    def __iter__(self):
        n, step = len(self._cache), self.BATCH
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            self._fill(lo, hi)
            yield from self._cache[lo:hi]

    @property
    def buffer(self):
        """The TOC bytes the frames are decoded from."""
        return self._buf

    def column(self, name: str):
        """Field ``name`` of every frame as int64 (see the module docstring), or None if the
        lazy decoder does not keep that field."""
        return self.columns.get(name)

    def decoded(self, i: int) -> dict | None:
        """Frame ``i`` if it has been decoded already, else None (nothing is decoded)."""
        return self._cache[i]

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, tuple, LazyFrames)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # a sequence of dicts, compared by value

    def __repr__(self) -> str:
        return f"LazyFrames({len(self)} frames)"


def lazy_frames(buf, spans: bytearray, cols: dict[str, bytearray], decode_range) -> LazyFrames:
    """Wrap the lazy decoder's output (bytearrays of int64) as numpy columns, without copying."""
    import numpy as np  # here, not at import: the `mv2` command starts without numpy

    return LazyFrames(buf, np.frombuffer(spans, np.int64),
                      {k: np.frombuffer(v, np.int64) for k, v in cols.items()}, decode_range)


class MovedFrames(Sequence):
    """A TOC's frames with every payload offset replaced: what a rewrite of the file (a
    compaction, a WAL growth, spec 12.2 and 4.4) stores, built without decoding the frames.

    ``base`` is the lazily decoded frame list the offsets are those of, ``changed`` the frames
    (by id) that differ from it or come after it, ``offsets`` the new ``payload_offset`` of
    every frame. A frame read from it is a fresh dict; its encoding (:meth:`encoded_parts`) is
    the base's bytes with the offsets written over them in place, plus the changed frames
    encoded anew. ``payload_offset`` is a fixed-width field, so patching it is exactly what
    encoding the frame again with the new value gives (the test suite checks every one)."""

    def __init__(self, base: LazyFrames, changed: dict, offsets):
        self.base, self.changed, self.offsets = base, changed, offsets
        self._n = len(offsets)

    def __len__(self) -> int:
        return self._n

    def _with_offset(self, i: int, f: dict) -> dict:
        f = dict(f)
        f["payload_offset"] = int(self.offsets[i])
        return f

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("frame index out of range")
        f = self.changed.get(i)
        return self._with_offset(i, f if f is not None else self.base[i])

    def __iter__(self):
        known, step = len(self.base), 4096
        for lo in range(0, known, step):
            for i, f in enumerate(self.base[lo:min(known, lo + step)], lo):
                yield self._with_offset(i, self.changed.get(i, f))
        for i in range(known, self._n):
            yield self._with_offset(i, self.changed[i])

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def column(self, name: str):
        import numpy as np

        if name == "payload_offset":
            return self.offsets
        col = self.base.column(name)
        if col is None:
            return None
        out = np.empty(self._n, np.int64)
        out[:len(col)] = col
        for i, f in self.changed.items():
            out[i] = column_value(name, f[name])
        return out

    def encoded_parts(self, encode) -> list:
        """The frames' encodings as consecutive chunks; ``encode`` encodes one frame dict."""
        import numpy as np

        base, known = self.base, len(self.base)
        sp = base.spans
        s0 = int(sp[0]) if known else 0
        region = bytearray(base.buffer[s0:int(sp[known])]) if known else bytearray()
        same = np.ones(known, bool)
        same[[i for i in self.changed if i < known]] = False
        if known:
            at = (base.columns["@payload_offset"][same] - s0)[:, None] + np.arange(8)
            np.frombuffer(region, np.uint8)[at] = \
                self.offsets[:known][same].astype("<u8").view(np.uint8).reshape(-1, 8)
        view = memoryview(region)
        out: list = []
        edges = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)))
        pos = 0
        for start, stop in edges.reshape(-1, 2).tolist():
            out += [encode(self[i]) for i in range(pos, start)]
            out.append(view[int(sp[start]) - s0:int(sp[stop]) - s0])
            pos = stop
        out += [encode(self[i]) for i in range(pos, self._n)]
        return out


def movable(frames):
    """``(base, changed)`` when ``frames`` (a lazily decoded list, or a commit's frame list over
    one) can become :class:`MovedFrames`; None otherwise (then frames are copied one by one)."""
    if isinstance(frames, LazyFrames):
        base, changed = frames, {}
    else:
        base, changed = getattr(frames, "prev", None), getattr(frames, "changed", None)
        if not isinstance(base, LazyFrames) or changed is None:
            return None
    cols = base.columns
    if "@payload_offset" not in cols or "payload_offset" not in cols:
        return None
    if len(cols["payload_offset"]) and int(cols["payload_offset"].max()) == (1 << 63) - 1:
        return None  # a value past 2**63 - 1 was clamped in the column: take the exact path
    return base, changed
