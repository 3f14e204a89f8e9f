"""What a reader can place in a file whose TOC it cannot decode (spec 11.3, "Unknown revisions").

When the TOC's checksums hold but no known revision decodes it, the file is most likely
valid, in a layout this reader does not know. Everything outside the TOC still has a known
shape: the header, the WAL records (their headers and BLAKE3 need no decoding), the TOC's
extent and the commit footer. :func:`map_without_toc` locates and checks those, so that
``mv2 inspect`` can show them and ``verify`` can say what holds before it gives up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CorruptFileError
from ..format.wal import WAL_RECORD_HEADER_SIZE, WalRecordHeader
from .locate import Commit, find_last_commit, require_commit
from .snapshot import read_header
from .source import Source
from .wal import _check_record


@dataclass
class PartialMap:
    header: dict
    commit: Commit
    wal_records: list[tuple[int, int, int]] = field(default_factory=list)
    """(sequence, offset inside the WAL region, record length including its header)."""
    wal_problem: CorruptFileError | None = None


def map_without_toc(src: Source) -> PartialMap:
    """The header, the last commit and the WAL records, without decoding the TOC or any record."""
    header = read_header(src)
    commit = require_commit(find_last_commit(src, floor=header["wal_offset"] + header["wal_size"]), src)
    out = PartialMap(header, commit)
    size = header["wal_size"]
    region = src.view(header["wal_offset"], size, what="WAL region", code="MV2-E-HDR-WAL")
    pos, prev = 0, None
    while pos + WAL_RECORD_HEADER_SIZE <= size:
        raw = region[pos:pos + WAL_RECORD_HEADER_SIZE]
        if not any(raw):
            break
        try:
            _check_record(region, pos, size, raw, header["wal_offset"] + pos, prev)
        except CorruptFileError as exc:
            out.wal_problem = exc
            break
        h = WalRecordHeader.parse(raw)
        out.wal_records.append((h.sequence, pos, WAL_RECORD_HEADER_SIZE + h.length))
        prev = h.sequence
        pos += WAL_RECORD_HEADER_SIZE + h.length
    return out
