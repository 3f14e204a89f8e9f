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
