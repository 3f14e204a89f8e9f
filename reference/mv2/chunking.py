"""Splitting a long text into a document frame and chunk frames, as memvid does (spec: "Frames", 5.5).

memvid-core splits a UTF-8 text whose normalised form has at least 2,400 characters into
chunks of about 1,200 characters. The document frame keeps an empty payload, a
``chunk_manifest`` (``chunk_chars`` and each chunk's character range in the normalised
text) and, as its searchable text, the first chunk; each chunk frame stores its text as a
zstd payload, with role ``document_chunk``, its index, the chunk count, the URI
``<uri>#page-K`` and the title ``<title> (page K/N)``. A reader that follows the manifest
(memvid, or this package's :func:`mv2.storage.view.frame_text`) sees the whole text again.

The functions here reproduce memvid's rules character for character: :func:`normalize_text`
(NFKC, control characters dropped, runs of spaces and of newlines collapsed, trimmed) and
:func:`plan_chunks` (a boundary at the first newline within 240 characters after the
target, else the sentence end nearest the target, else whitespace, else the target).
memvid chunks texts holding Markdown tables or code fences with a structure-aware chunker
instead; here every text takes the character rule, so such a text's chunk boundaries may
differ from memvid's, while the frames it gives are read the same way.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

CHUNK_CHARS = 1200
"""memvid's chunk size in characters (``DEFAULT_CHUNK_CHARS``)."""
CHUNK_MIN_CHARS = 2 * CHUNK_CHARS
"""A normalised text shorter than this is stored as one frame."""
SEARCH_TEXT_LIMIT = 32768
"""memvid truncates a chunk's searchable text to this many UTF-8 bytes, at a grapheme boundary."""

_GRAPHEME = regex.compile(r"\X")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"  # Rust's char::is_control


def normalize_text(text: str, limit: int | None = None) -> str | None:
    """memvid's ``normalize_text``: None when nothing but whitespace remains."""
    out: list[str] = []
    last_space = last_newline = False
    for ch in unicodedata.normalize("NFKC", text):
        if ch == "\r":
            ch = "\n"
        elif ch == "\t":
            ch = " "
        if _is_control(ch) and ch != "\n":
            continue
        if ch == "\n":
            if last_newline:
                continue
            while out and out[-1] == " ":
                out.pop()
            out.append("\n")
            last_newline, last_space = True, False
        elif ch.isspace():
            if last_space or (out and out[-1] == "\n"):
                continue
            out.append(" ")
            last_space, last_newline = True, False
        else:
            out.append(ch)
            last_space = last_newline = False
    trimmed = "".join(out).strip()  # Rust's trim_matches(char::is_whitespace): Python's whitespace set
    if not trimmed:
        return None
    if limit is None or len(trimmed.encode("utf-8")) <= limit:
        return trimmed
    kept, used = [], 0
    for g in _GRAPHEME.findall(trimmed):
        used += len(g.encode("utf-8"))
        if used > limit:
            break
        kept.append(g)
    return "".join(kept) or _GRAPHEME.match(trimmed).group(0)


@dataclass(frozen=True)
class ChunkPlan:
    """The normalised text's chunk ranges (character offsets) and texts."""

    ranges: list[tuple[int, int]]
    chunks: list[str]

    @property
    def manifest(self) -> dict:
        return {"chunk_chars": CHUNK_CHARS, "chunks": [{"start": a, "end": b} for a, b in self.ranges]}


def _boundary(text: str, start: int, target: int, total: int, slack: int) -> int:
    if target >= total:
        return total
    forward = min(target + slack, total)
    candidates = []
    for i in range(target, forward):
        if text[i] == "\n":
            return i + 1
        if text[i] in ".!?":
            candidates.append(i + 1)
    for i in range(target - 1, start - 1, -1):
        if text[i] == "\n":
            return i + 1
        if text[i] in ".!?":
            candidates.append(i + 1)
            break
    if candidates:
        # min_by_key(pos.saturating_sub(target)): positions before the target count as 0 and
        # the first such candidate wins ties
        return min(candidates, key=lambda p: max(p - target, 0))
    for i in range(target, forward):
        if text[i].isspace():
            return i + 1
    for i in range(target - 1, start - 1, -1):
        if text[i].isspace():
            return i + 1
    return target


def plan_chunks(text: str) -> ChunkPlan | None:
    """The chunks memvid makes of ``text``, or None when it stays one frame."""
    norm = normalize_text(text)
    if norm is None or len(norm) < CHUNK_MIN_CHARS:
        return None
    total = len(norm)
    slack = max(CHUNK_CHARS // 5, 32)
    ranges, start = [], 0
    while start < total:
        target = min(start + CHUNK_CHARS, total)
        end = _boundary(norm, start, target, total, slack)
        if end <= start:
            end = target
        ranges.append((start, end))
        start = end
    if len(ranges) <= 1:
        return None
    return ChunkPlan(ranges, [norm[a:b] for a, b in ranges])
