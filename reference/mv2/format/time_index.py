"""The time index segment, ``MVTI`` (spec: "Time index").

``"MVTI"``, a u64 entry count, then that many (i64 timestamp, u64 frame_id) pairs sorted by
(timestamp, frame_id). Length is exactly 12 + 16 * count.
"""

from __future__ import annotations

import numpy as np
from construct import Array, Bytes, Struct, this

from .bincode import I64, U64

TIME_MAGIC = b"MVTI"
TIME_HEADER_SIZE = 12
TIME_ENTRY_SIZE = 16

TimeEntry = Struct(
    ("timestamp" / I64) * "The frame's timestamp (Unix seconds).",
    ("frame_id" / U64) * "The frame's id.",
)
TimeIndex = Struct(
    ("magic" / Bytes(4)) * 'ASCII "MVTI".',
    ("count" / U64) * "Number of entries.",
    ("entries" / Array(this.count, TimeEntry)) * "Entries sorted by (timestamp, frame_id).",
)
"""Parse only after checking ``len == 12 + 16 * count`` (``segments.check_time_index``)."""


def time_index_size(count: int) -> int:
    return TIME_HEADER_SIZE + TIME_ENTRY_SIZE * count


ENTRY_DTYPE = np.dtype([("timestamp", "<i8"), ("frame_id", "<u8")])
"""``TimeEntry`` as a numpy record (a test checks that the two agree field by field), so that
a verifier reads 100k entries with one view instead of 100k interpreter calls."""


def decode_entries(data) -> np.ndarray:
    """The entries of a well-formed MVTI block (its length already checked against the count)."""
    count = int.from_bytes(bytes(data[4:TIME_HEADER_SIZE]), "little")
    return np.frombuffer(data, dtype=ENTRY_DTYPE, count=count, offset=TIME_HEADER_SIZE)


def is_sorted(entries: np.ndarray) -> bool:
    """True when entries are in (timestamp, frame_id) order."""
    ts, fid = entries["timestamp"], entries["frame_id"]
    return bool(((ts[:-1] < ts[1:]) | ((ts[:-1] == ts[1:]) & (fid[:-1] <= fid[1:]))).all())
