"""Text rules shared by readers and writers (spec: "Frames", 5.4 and 5.6).

These functions reproduce, character for character, the text memvid derives from a frame's
fields, so that a file written here searches and previews exactly like one memvid wrote:

* :func:`compose_search_text` builds ``search_text`` from the input text and the frame's
  fields;
* :func:`title_from_uri` is the default title;
* :func:`rust_trim` trims what Rust's ``str::trim`` trims (Unicode ``White_Space``), which is
  not quite what Python's ``str.strip`` trims.
"""

from __future__ import annotations

import json

# Unicode White_Space, the set Rust's str::trim removes.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"


def rust_trim(s: str) -> str:
    return s.strip(_WHITE_SPACE)


def default_uri(frame_id: int) -> str:
    return f"mv2://frames/{frame_id}"


def _ascii_upper(s: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in s)


def _ascii_lower(s: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in s)


def title_from_uri(uri: str) -> str | None:
    """The title memvid derives from a URI (spec 5.6)."""
    s = rust_trim(uri)
    if not s:
        return None
    if "://" in s:
        s = s.split("://", 1)[1]
    s = s.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    seg = rust_trim(s.rsplit("/", 1)[-1])
    if not seg:
        return None
    stem = rust_trim(seg.rsplit(".", 1)[0]) if "." in seg else seg
    if not stem:
        return None
    words = []
    for part in stem.replace("-", " ").replace("_", " ").split(" "):
        if part:
            words.append(_ascii_upper(part[0]) + _ascii_lower(part[1:]))
    return " ".join(words) or None


def metadata_value(value) -> str:
    """How a metadata value is stored in ``extra_metadata``: as compact JSON text, as memvid does
    (``"intake"`` for a string, ``3`` for a number)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def compose_search_text(
    text: str | None,
    *,
    uri: str | None,
    title: str | None,
    track: str | None,
    tags: list[str],
    labels: list[str],
    extra_metadata: dict[str, str],
    content_dates: list[str] = (),
    doc_metadata_json: str | None = None,
) -> str | None:
    """``search_text`` as memvid builds it: the trimmed text, then one line per present field."""
    parts: list[str] = []
    if text is not None and rust_trim(text):
        parts.append(rust_trim(text))
    if title is not None and rust_trim(title):
        parts.append(f"title: {rust_trim(title)}")
    if uri is not None and rust_trim(uri):
        parts.append(f"uri: {rust_trim(uri)}")
    if track is not None and rust_trim(track):
        parts.append(f"track: {rust_trim(track)}")
    if tags:
        parts.append("tags: " + " ".join(tags))
    if labels:
        parts.append("labels: " + " ".join(labels))
    for key in sorted(extra_metadata, key=lambda k: k.encode("utf-8")):
        value = extra_metadata[key]
        if rust_trim(value):
            parts.append(f"{key}: {value}")
    if content_dates:
        parts.append("dates: " + " ".join(content_dates))
    if doc_metadata_json is not None:
        parts.append(f"metadata: {doc_metadata_json}")
    return "\n".join(parts) if parts else None
