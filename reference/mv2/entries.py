"""Turning a user's put / supersede / delete into a WAL entry (spec: "Frames", 5.4–5.6; "Operation scripts").

Everything a frame will hold is decided here, before the WAL record is written, so that the
record alone determines the frame: recovery replays exactly what the writer acknowledged.
Nothing here reads a clock, a random source or the environment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import UsageError
from .format.payload import encode_payload
from .format.text import compose_search_text, default_uri, metadata_value, title_from_uri

# memvid-core's decoder limits (spec R-FRM-013): a file beyond them cannot be opened by memvid.
MAX_TAGS = 1024
MAX_LABELS = 1024
MAX_EXTRA_METADATA = 4096
MAX_PAYLOAD = 1 << 30
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass
class PutSpec:
    """A validated put: everything needed to build the WAL entry."""

    payload: bytes
    text: str | None
    uri: str
    title: str | None
    timestamp: int
    kind: str | None
    track: str | None
    tags: list[str]
    labels: list[str]
    extra_metadata: dict[str, str]
    embedding: list[float] | None


def _str_ok(value, what: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not valid Unicode text (it contains a lone surrogate)") from None
    return value


def _opt_str(value, what: str) -> str | None:
    return None if value is None else _str_ok(value, what)


def _str_list(values, what: str, limit: int) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise UsageError(f"{what} must be a list of strings")
    out = [_str_ok(v, f"{what} item") for v in values]
    if len(out) > limit:
        raise UsageError(f"{len(out)} {what} exceed the limit of {limit}", code="MV2-E-LIMIT")
    return out


def check_timestamp(ts) -> int:
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise UsageError(f"timestamp must be an integer number of Unix seconds, not {ts!r}")
    if not I64_MIN <= ts <= I64_MAX:
        raise UsageError(f"timestamp {ts} does not fit in a signed 64-bit integer")
    return ts


def make_put(frame_id: int, content, *, uri=None, title=None, timestamp=None, tags=None, labels=None,
             metadata=None, kind=None, track=None, embedding=None, dimension: int | None = None,
             extra_metadata: dict[str, str] | None = None) -> PutSpec:
    """Validate a put. ``metadata`` values are stored as JSON text; ``extra_metadata`` (already
    JSON text, as read back from a frame) is stored as given."""
    if isinstance(content, str):
        text = _str_ok(content, "text")
        payload = text.encode("utf-8")
    elif isinstance(content, (bytes, bytearray, memoryview)):
        payload = bytes(content)
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    elif content is None:
        payload, text = b"", None
    else:
        raise UsageError(f"content must be str or bytes, not {type(content).__name__}")
    if len(payload) > MAX_PAYLOAD:
        raise UsageError(f"payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte limit", code="MV2-E-LIMIT")
    if timestamp is None:
        raise UsageError("timestamp is required (pass timestamp=..., or open the memory with a clock)")
    timestamp = check_timestamp(timestamp)
    uri = _opt_str(uri, "uri")
    uri = uri if uri is not None else default_uri(frame_id)
    title = _opt_str(title, "title")
    title = title if title is not None else title_from_uri(uri)
    tags = _str_list(tags, "tags", MAX_TAGS)
    labels = _str_list(labels, "labels", MAX_LABELS)
    extra: dict[str, str] = {}
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise UsageError("metadata must be a dict")
        if len(metadata) > MAX_EXTRA_METADATA:
            raise UsageError(f"{len(metadata)} metadata entries exceed the limit of {MAX_EXTRA_METADATA}", code="MV2-E-LIMIT")
        for k, v in metadata.items():
            _str_ok(k, "metadata key")
            try:
                extra[k] = metadata_value(v)  # always JSON text, as memvid stores put(metadata=...)
            except (TypeError, ValueError) as exc:
                raise UsageError(f"metadata value for {k!r} is not JSON-serialisable: {exc}") from None
            _str_ok(extra[k], "metadata value")
    if extra_metadata is not None:
        if metadata is not None:
            raise UsageError("give metadata or extra_metadata, not both")
        extra = {_str_ok(k, "metadata key"): _str_ok(v, "metadata value") for k, v in extra_metadata.items()}
    vec = None
    if embedding is not None:
        try:
            vec = [float(x) for x in embedding]
        except (TypeError, ValueError):
            raise UsageError("embedding must be a sequence of numbers") from None
        if not vec:
            raise UsageError("embedding must not be empty")
        if not all(math.isfinite(x) for x in vec):
            raise UsageError("embedding values must be finite")
        if dimension is not None and len(vec) != dimension:
            raise UsageError(f"embedding has dimension {len(vec)}, the memory's vectors have {dimension}")
    return PutSpec(payload, text, uri, title, timestamp, _opt_str(kind, "kind"), _opt_str(track, "track"),
                   tags, labels, extra, vec)


def frame_entry(p: PutSpec, *, supersedes: int | None = None, reuse_payload_from: int | None = None,
                reused: dict | None = None, search_text_override: str | None = None,
                source_fields: bool = True) -> dict:
    """The ``WalEntryData`` of an insert. With ``reuse_payload_from``, ``reused`` is that frame:
    the new frame shares its stored bytes, so it must also share its encoding and length."""
    if reuse_payload_from is not None:
        stored, encoding, canonical_length = b"", reused["canonical_encoding"], reused["canonical_length"]
    else:
        stored, encoding, canonical_length = encode_payload(p.payload, compress=p.text is not None and len(p.payload) > 0)
    search_text = search_text_override if search_text_override is not None else compose_search_text(
        p.text, uri=p.uri, title=p.title, track=p.track, tags=p.tags, labels=p.labels, extra_metadata=p.extra_metadata)
    e = {
        "timestamp": p.timestamp, "kind": p.kind, "track": p.track, "payload": stored, "embedding": p.embedding,
        "uri": p.uri, "title": p.title, "canonical_encoding": encoding, "canonical_length": canonical_length,
        "metadata": None, "search_text": search_text, "tags": p.tags, "labels": p.labels,
        "extra_metadata": p.extra_metadata, "content_dates": [], "chunk_manifest": None, "role": "document",
        "parent_sequence": None, "chunk_index": None, "chunk_count": None, "op": "insert", "target_frame_id": None,
        "supersedes_frame_id": supersedes, "reuse_payload_from": reuse_payload_from,
    }
    if source_fields:
        e.update(source_sha256=None, source_path=None, enrichment_state="enriched")
    return {"variant": "frame", "value": e}


def tombstone_entry(frame: dict, *, timestamp: int, source_fields: bool = True) -> dict:
    """The ``WalEntryData`` that deletes ``frame`` (its fields as memvid's delete records them)."""
    e = {
        "timestamp": timestamp, "kind": frame["kind"], "track": frame["track"], "payload": b"", "embedding": None,
        "uri": frame["uri"], "title": frame["title"], "canonical_encoding": frame["canonical_encoding"],
        "canonical_length": frame["canonical_length"], "metadata": None, "search_text": None, "tags": [],
        "labels": [], "extra_metadata": {}, "content_dates": [], "chunk_manifest": None, "role": frame["role"],
        "parent_sequence": None, "chunk_index": frame["chunk_index"], "chunk_count": frame["chunk_count"],
        "op": "tombstone", "target_frame_id": frame["id"], "supersedes_frame_id": None, "reuse_payload_from": None,
    }
    if source_fields:
        e.update(source_sha256=None, source_path=None, enrichment_state="searchable")
    return {"variant": "frame", "value": e}


@dataclass(frozen=True)
class BatchRef:
    """A chunk's reference to its document's record: ``index`` in the batch being written,
    ``seq`` the WAL sequence that record gets (filled in when the batch is encoded)."""

    index: int
    seq: int = 0


def embedder_model(embedder) -> str | None:
    """The model name an embedder declares (``model_name`` or ``model``), None for a bare callable."""
    for attr in ("model_name", "model"):
        name = getattr(embedder, attr, None)
        if isinstance(name, str) and name:
            return name
    return None


def chunked_entries(frame_id: int, plan, *, uri=None, title=None, timestamp=None, tags=None, labels=None,
                    metadata=None, kind=None, track=None, embedding=None, dimension: int | None = None,
                    chunk_embeddings=None, source_fields: bool = True, parent_ref: int = 0,
                    extra_metadata: dict[str, str] | None = None) -> list[dict]:
    """The WAL entries of a chunked text as memvid writes them (spec 5.5): the document, with
    an empty payload, the chunk manifest and its first chunk as searchable text, then one
    entry per chunk, each naming the document's record (``parent_ref``, its index in the batch).
    ``uri`` and ``title``, when given, become ``<uri>#page-K`` and ``<title> (page K/N)``."""
    from .chunking import SEARCH_TEXT_LIMIT, normalize_text

    n = len(plan.chunks)
    doc = make_put(frame_id, None, uri=uri, title=title, timestamp=timestamp, tags=tags, labels=labels,
                   metadata=metadata, kind=kind, track=track, embedding=embedding, dimension=dimension,
                   extra_metadata=extra_metadata)
    parent = frame_entry(doc, search_text_override=normalize_text(plan.chunks[0], SEARCH_TEXT_LIMIT) or "",
                         source_fields=source_fields)
    parent["value"].update(chunk_manifest=plan.manifest, chunk_count=n)
    out = [parent]
    for k, text in enumerate(plan.chunks):
        spec = make_put(frame_id + 1 + k, text, uri=None if uri is None else f"{uri}#page-{k + 1}",
                        title=None if title is None else f"{title} (page {k + 1}/{n})", timestamp=timestamp,
                        tags=tags, labels=labels, metadata=metadata, kind=kind, track=track,
                        embedding=None if chunk_embeddings is None else chunk_embeddings[k], dimension=dimension,
                        extra_metadata=extra_metadata)
        e = frame_entry(spec, search_text_override=normalize_text(text, SEARCH_TEXT_LIMIT) or "",
                        source_fields=source_fields)
        if not e["value"]["search_text"]:
            e["value"]["search_text"] = None
        e["value"].update(role="document_chunk", chunk_index=k, chunk_count=n, parent_sequence=BatchRef(parent_ref))
        out.append(e)
    return out
