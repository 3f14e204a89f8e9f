"""Finding the last valid commit by scanning for its footer (spec: "TOC and footer", footer scan).

A commit is a TOC immediately followed by a 56-byte footer whose ``toc_hash`` is the BLAKE3
of the TOC bytes. The current commit is the *last* valid one in the file: readers locate it
from the end, never from the header, so a header that lags behind (a crash between writing
a commit and updating the header) cannot mislead them.

The scan records every footer candidate that lies after the accepted commit and failed
validation. A reader may ignore them (memvid does), but verify reports them: they are
either a newer commit that was damaged or bytes that should not be there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blake3

from ..errors import CorruptFileError
from ..format.footer import FOOTER_MAGIC, FOOTER_SIZE, Footer
from ..format.header import HEADER_SIZE
from .source import Source

MAX_REJECTED_CANDIDATES = 256
"""Bound on the footer candidates examined, so a file full of fake magics cannot make the
scan quadratic. A real file has at most a few stale footers."""


@dataclass(frozen=True)
class Commit:
    toc_offset: int
    toc_len: int
    footer_offset: int
    toc_hash: bytes
    generation: int

    @property
    def end(self) -> int:
        return self.footer_offset + FOOTER_SIZE


@dataclass
class Location:
    commit: Commit | None
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    """Candidates after the commit that failed: (offset, error code, reason)."""


def check_candidate(src: Source, pos: int, *, floor: int = HEADER_SIZE, keep_toc: bool = False,
                    known: tuple[int, int, bytes] | None = None) -> tuple[Commit | None, str, str]:
    """Validate the footer candidate at ``pos``; return (commit or None, code, reason).
    With ``keep_toc``, the source keeps the TOC bytes it hashed for the caller to decode,
    except for the TOC ``known`` names, (offset, length, BLAKE3): the commit the caller has
    just written, synced and holds the lock on. A footer at its place with its hash is that
    commit, and its 470 MB (at a million frames) are not read back to be hashed again."""
    if pos + FOOTER_SIZE > src.size:
        return None, "MV2-E-FTR-LENGTH", "footer magic too close to the end of the file"
    f = Footer.parse(src.view(pos, FOOTER_SIZE, what="footer"))
    if f.magic != FOOTER_MAGIC:
        return None, "MV2-E-FTR-MISSING", "no footer magic"
    if f.toc_len == 0 or f.toc_len > pos - floor:
        return None, "MV2-E-FTR-LENGTH", f"toc_len {f.toc_len} does not fit between byte {floor} and the footer"
    toc_offset = pos - f.toc_len
    if known is not None and known == (toc_offset, f.toc_len, bytes(f.toc_hash)):
        digest = known[2]
    else:
        if keep_toc:
            src.keep(toc_offset, f.toc_len)
        digest = blake3.blake3(src.view(toc_offset, f.toc_len, what="TOC")).digest()
    if digest != f.toc_hash:
        return None, "MV2-E-FTR-HASH", "BLAKE3 of the TOC bytes does not match the footer's toc_hash"
    return Commit(toc_offset, f.toc_len, pos, bytes(f.toc_hash), f.generation), "", ""


def find_last_commit(src: Source, *, floor: int = HEADER_SIZE, keep_toc: bool = False,
                     known: tuple[int, int, bytes] | None = None) -> Location:
    """Scan backwards from the end of the file for the last valid commit footer (with
    ``keep_toc``, the source keeps the accepted commit's TOC bytes: see Source.keep;
    ``known``: see :func:`check_candidate`)."""
    loc = Location(commit=None)
    end = src.size
    while end > floor:
        pos = src.rfind(FOOTER_MAGIC, end)
        if pos < floor:
            break
        commit, code, reason = check_candidate(src, pos, floor=floor, keep_toc=keep_toc, known=known)
        if commit is not None:
            loc.commit = commit
            return loc
        loc.rejected.append((pos, code, reason))
        if len(loc.rejected) >= MAX_REJECTED_CANDIDATES:
            break
        end = pos + len(FOOTER_MAGIC) - 1  # next candidate must start before this one
    return loc


def require_commit(loc: Location, src: Source) -> Commit:
    if loc.commit is None:
        if loc.rejected:
            off, code, reason = loc.rejected[0]
            raise CorruptFileError(f"no valid commit footer; the last candidate is bad: {reason}", code=code, offset=off)
        raise CorruptFileError("no commit footer (MV2FOOT!) in the file", code="MV2-E-FTR-MISSING", offset=src.size)
    return loc.commit
