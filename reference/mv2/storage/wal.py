"""Scanning the embedded WAL, and telling a torn append from damage (spec 4.1, 12.3).

Records are read from region offset 0 until a sentinel (an all-zero 48-byte record header)
or until fewer than 48 bytes remain. Every record on the way must be well formed and match
its BLAKE3, whether or not it has been checkpointed: that is the rule memvid applies, and it
is what makes a flipped bit anywhere in the live log detectable.

When a record fails its checks, the scan decides what the failure is (spec 4.7):

* a **torn append**: the last append of a writer that stopped, which was never
  acknowledged. The failing record lies past the checkpoint and either its header is torn
  the way a two-phase append tears (one side of the 512-byte sector boundary it straddles is
  still all zero, R-WAL-015), or no intact record with a later sequence follows it anywhere
  in the region. The log ends there; every record before it is shown and kept.
* **damage** otherwise: the record was acknowledged (it lies before the checkpoint, or an
  acknowledged append follows it). That is an error in every mode but ``salvage``, which
  ends the log before the damage and reports what it drops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blake3
import numpy as np

from ..errors import CorruptFileError
from ..format.revisions import Revision, decode_fast
from ..format.wal import WAL_RECORD_HEADER_SIZE, WalRecordHeader
from .source import Source

_ZERO_HEADER = bytes(WAL_RECORD_HEADER_SIZE)
SECTOR = 512
"""The unit a disk writes atomically (spec 12.2): a write may tear only between sectors."""
MAX_CANDIDATES = 100_000
"""Bound on the positions examined when looking for intact records past a failure."""


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
    """(region offset, reason) of a torn append at the end of the log: never acknowledged."""
    damaged: tuple[int, str, str, list[int]] | None = None
    """In salvage mode: (region offset, code, reason, region offsets of intact records after
    it) of damage the log was cut at. Those records are dropped."""
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
    checkpoint_sequence: int = 0,
    mode: str = "strict",
) -> WalScan:
    """Scan the log. ``mode`` is ``strict`` (reading, verifying, recovering: damage is an
    error, a torn append ends the log) or ``salvage`` (damage ends the log too)."""
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
            possibly_pending = pos >= checkpoint_pos or (prev_seq is not None and prev_seq >= checkpoint_sequence)
            floor = prev_seq if prev_seq is not None else checkpoint_sequence
            if possibly_pending and torn_header(bytes(raw_header), at):
                return WalScan(records, pos, torn=(pos, f"{exc.message} (a torn append: its header is half written)"))
            later = intact_records_after(region, pos + 1, wal_size, floor) if possibly_pending or mode == "salvage" else []
            if possibly_pending and not later:
                return WalScan(records, pos, torn=(pos, f"{exc.message} (a torn append: nothing acknowledged follows it)"))
            if mode == "salvage":
                return WalScan(records, pos, damaged=(pos, exc.code, exc.message, later))
            if later:
                raise CorruptFileError(
                    f"{exc.message}; {len(later)} intact record(s) follow it, so this is damage to an acknowledged "
                    "record, not a torn append (recovery refuses; `mv2 recover --salvage` keeps the records before it)",
                    code="MV2-E-WAL-DAMAGED", offset=at) from None
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


def wal_region(src: Source, header: dict):
    return src.view(header["wal_offset"], header["wal_size"], what="WAL region", code="MV2-E-HDR-WAL")


def torn_header(raw: bytes, absolute: int) -> bool:
    """True if a 48-byte record header at ``absolute`` is what a torn second phase of an
    append leaves: it straddles a sector boundary and one side of it is still all zero."""
    first, last = absolute // SECTOR, (absolute + WAL_RECORD_HEADER_SIZE - 1) // SECTOR
    if first == last:
        return False
    k = SECTOR - absolute % SECTOR
    head, tail = raw[:k], raw[k:]
    return (not any(head)) != (not any(tail))


def intact_records_after(region, start: int, wal_size: int, floor: int, *, limit: int = 8) -> list[int]:
    """Region offsets (at most ``limit``) at or after ``start`` that hold an intact record
    header and payload with a sequence greater than ``floor``."""
    end = wal_size - WAL_RECORD_HEADER_SIZE
    if start > end:
        return []
    buf = np.frombuffer(region, dtype=np.uint8)
    found: list[int] = []
    candidates: list[int] = []
    lo, hi = np.uint64(min(floor, (1 << 64) - 1)), np.uint64(min(floor + (1 << 32), (1 << 64) - 1))
    for align in range(8):
        first = start + align
        n = (end - first) // 8 + 1
        if n <= 0:
            continue
        words = np.ndarray((n,), dtype="<u8", buffer=buf, offset=first, strides=(8,))
        hit = np.nonzero((words > lo) & (words <= hi))[0]
        candidates.extend((first + hit * 8).tolist())
        if len(candidates) > MAX_CANDIDATES:
            break
    for q in sorted(candidates)[:MAX_CANDIDATES]:
        h = WalRecordHeader.parse(region[q : q + WAL_RECORD_HEADER_SIZE])
        if h.length == 0 or h.reserved or h.length > wal_size - q - WAL_RECORD_HEADER_SIZE:
            continue
        body = region[q + WAL_RECORD_HEADER_SIZE : q + WAL_RECORD_HEADER_SIZE + h.length]
        if blake3.blake3(body).digest() == h.checksum:
            found.append(q)
            if len(found) >= limit:
                break
    return found


def checkpoint_problem(header: dict, wal: WalScan) -> tuple[str, int, str] | None:
    """(code, offset, message) if the header's checkpoint does not fit the log (R-WAL-008)."""
    cp, seq = header["wal_checkpoint_pos"], header["wal_sequence"]
    boundaries = {r.offset for r in wal.records} | {wal.head}
    if cp > wal.head and all(r.sequence > seq for r in wal.records):
        # The log wrapped to offset 0 after the checkpoint: every record is pending.
        if wal.records and wal.records[0].sequence != seq + 1:
            return ("MV2-E-HDR-CHECKPOINT", 40,
                    f"wal_sequence {seq} but the first record after the wrap has sequence {wal.records[0].sequence}")
    elif cp not in boundaries:
        return "MV2-E-HDR-CHECKPOINT", 32, f"wal_checkpoint_pos {cp} is not a record boundary of the WAL"
    else:
        before = [r for r in wal.records if r.offset < cp]
        after = [r for r in wal.records if r.offset >= cp]
        if before and before[-1].sequence != seq:
            return ("MV2-E-HDR-CHECKPOINT", 40,
                    f"wal_sequence {seq} but the record before the checkpoint has sequence {before[-1].sequence}")
        if after and after[0].sequence != seq + 1:
            return ("MV2-E-HDR-CHECKPOINT", 40,
                    f"wal_sequence {seq} but the first record after the checkpoint has sequence {after[0].sequence}")
    if seq >= (1 << 64) - 1:
        return "MV2-E-HDR-CHECKPOINT", 40, f"wal_sequence {seq} leaves no sequence number for another record"
    return None


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
