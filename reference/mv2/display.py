"""Frame text as people read it (spec: "Frames", 5.4): without the lines memvid appends for its index.

memvid's ``search_text`` is the frame's text followed by ``title: …``, ``uri: …``, ``tags: …``
and one line per metadata entry (:func:`mv2.format.text.compose_search_text`), so that a
query for a title word finds the frame. Those lines are part of what is indexed and of the
canonical dump; in previews, snippets and ``frame()["text"]`` they are noise. The functions
here remove exactly the lines the frame's own fields produce, and nothing else: a text that
does not end with them is returned unchanged.
"""

from __future__ import annotations

import json

from .format.text import compose_search_text


def _doc_metadata_json(meta) -> str | None:
    if not meta:
        return None
    try:
        return json.dumps(meta, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return None


def index_suffixes(fields: dict) -> list[str]:
    """The index lines a frame's fields give, fullest first (put_many frames carry only title and uri)."""
    full = compose_search_text(None, uri=fields.get("uri"), title=fields.get("title"), track=fields.get("track"),
                               tags=list(fields.get("tags") or []), labels=list(fields.get("labels") or []),
                               extra_metadata=dict(fields.get("extra_metadata") or {}),
                               content_dates=list(fields.get("content_dates") or []),
                               doc_metadata_json=_doc_metadata_json(fields.get("metadata")))
    short = compose_search_text(None, uri=fields.get("uri"), title=fields.get("title"), track=None, tags=[], labels=[],
                                extra_metadata={})
    return [s for s in dict.fromkeys((full, short)) if s]


def strip_index_lines(text: str | None, fields: dict) -> str | None:
    """``text`` without the index lines memvid appended to it."""
    if not text:
        return text
    for suffix in index_suffixes(fields):
        if text == suffix:
            return ""
        if text.endswith("\n" + suffix):
            return text[: -len(suffix) - 1]
    return text


def strip_snippet(snippet: str | None, fields: dict) -> str | None:
    """A snippet cut where the index lines begin, unless nothing would remain."""
    if not snippet:
        return snippet
    for suffix in index_suffixes(fields):
        first = "\n" + suffix.split("\n", 1)[0]
        at = snippet.find(first)
        if at > 0:
            return snippet[:at]
    return snippet


def document_text(snap, frame, *, index_lines: bool = False) -> str | None:
    """The text a frame shows: for a chunked document its chunks joined (the whole text), else
    its text; without the index lines unless ``index_lines``."""
    from .storage.view import children_of, frame_text

    f = frame.fields
    if f["role"] == "document" and f["chunk_manifest"] is not None:
        kids = children_of(snap, f["id"])
        if kids:
            parts = []
            for c in kids:
                try:
                    parts.append(snap.canonical_payload(c).decode("utf-8"))
                except UnicodeDecodeError:
                    parts = None
                    break
            if parts is not None:
                return "".join(parts)
    text = frame_text(snap, frame)
    return text if index_lines else strip_index_lines(text, f)
