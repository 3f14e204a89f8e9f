"""Scanning the embedded WAL (spec: "WAL").

Records are read from region offset 0 until a sentinel (an all-zero 48-byte record header)
or until fewer than 48 bytes remain. Every record on the way must be well formed and match
its BLAKE3, whether or not it has been checkpointed: that is the rule memvid applies, and it
is what makes a flipped bit anywhere in the live log detectable.

Two modes:

* ``strict`` (reading, verifying): the first bad record is an error.
* ``recover`` (opening for write): a bad record *at or after the checkpoint* ends the log.
  Such a record was being appended when the writer stopped; it was never acknowledged,
  because a writer acknowledges only after the record and its sentinel are synced. A bad
  record before the checkpoint is still an error: it was acknowledged and checkpointed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blake3

from ..errors import CorruptFileError
from ..format.revisions import Revision, decode_fast
from ..format.wal import WAL_RECORD_HEADER_SIZE, WalRecordHeader
from .source import Source

_ZERO_HEADER = bytes(WAL_RECORD_HEADER_SIZE)


@dataclass
class WalRecord:
    sequence: int
    offset: int  # region-relative offset of the record header
    length: int
    payload: bytes
    entry: dict  # {"variant": "frame"|"lex", "value": {...}}

    @property
    def end(self) -> int:
        return self.offset + WAL_RECORD_HEADER_SIZE + self.length


@dataclass
class WalScan:
    records: list[WalRecord]
    head: int
    """Region-relative offset where the next record would go (the sentinel's position)."""
    torn: tuple[int, str] | None = None
    """In recover mode: (region offset, reason) of a discarded torn tail record."""
    notes: list[str] = field(default_factory=list)

    def pending(self, checkpoint_sequence: int) -> list[WalRecord]:
        return [r for r in self.records if r.sequence > checkpoint_sequence]


def scan_wal(
    src: Source,
    *,
    wal_offset: int,
    wal_size: int,
    revision: Revision,
    checkpoint_pos: int = 0,
    mode: str = "strict",
) -> WalScan:
    region = src.view(wal_offset, wal_size, what="WAL region", code="MV2-E-HDR-WAL")
    records: list[WalRecord] = []
    pos = 0
    prev_seq = None
    while pos + WAL_RECORD_HEADER_SIZE <= wal_size:
        raw_header = region[pos : pos + WAL_RECORD_HEADER_SIZE]
        if raw_header == _ZERO_HEADER:
            return WalScan(records, pos)
        at = wal_offset + pos
        try:
            _check_record(region, pos, wal_size, raw_header, at, prev_seq)
        except CorruptFileError as exc:
            if mode == "recover" and pos >= checkpoint_pos:
                return WalScan(records, pos, torn=(pos, exc.message))
            raise
        h = WalRecordHeader.parse(raw_header)
        payload = bytes(region[pos + WAL_RECORD_HEADER_SIZE : pos + WAL_RECORD_HEADER_SIZE + h.length])
        entry = decode_fast(
            revision.wal_entry,
            payload,
            base_offset=at + WAL_RECORD_HEADER_SIZE,
            what=f"WAL record seq {h.sequence}",
            default_code="MV2-E-WAL-DECODE",
        )
        records.append(WalRecord(h.sequence, pos, h.length, payload, entry))
        prev_seq = h.sequence
        pos += WAL_RECORD_HEADER_SIZE + h.length
    return WalScan(records, pos)


def _check_record(region, pos: int, wal_size: int, raw_header, at: int, prev_seq: int | None) -> None:
    h = WalRecordHeader.parse(raw_header)
    room = wal_size - pos - WAL_RECORD_HEADER_SIZE
    if h.length == 0 or h.length > room:
        raise CorruptFileError(
            f"WAL record length {h.length} is zero or exceeds the {room} bytes left in the region",
            code="MV2-E-WAL-LENGTH", offset=at,
        )
    if h.sequence == 0:
        raise CorruptFileError("WAL record has sequence 0", code="MV2-E-WAL-SEQ", offset=at)
    if prev_seq is not None and h.sequence != prev_seq + 1:
        raise CorruptFileError(
            f"WAL record sequence {h.sequence} does not follow {prev_seq}", code="MV2-E-WAL-SEQ", offset=at
        )
    payload = region[pos + WAL_RECORD_HEADER_SIZE : pos + WAL_RECORD_HEADER_SIZE + h.length]
    if blake3.blake3(payload).digest() != h.checksum:
        raise CorruptFileError(
            f"WAL record seq {h.sequence}: BLAKE3 of the payload does not match the record header",
            code="MV2-E-WAL-HASH", offset=at,
        )
    if h.reserved != 0:
        raise CorruptFileError(
            f"WAL record seq {h.sequence}: reserved bytes are {h.reserved:#x}, not zero",
            code="MV2-E-WAL-RESERVED", offset=at + 12,
        )
