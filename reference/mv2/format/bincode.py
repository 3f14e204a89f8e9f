"""Bincode primitives as Construct classes (spec: conventions, "Bincode encoding").

memvid-core serialises its TOC and WAL payloads with bincode 2 through serde, configured
with fixed-width little-endian integers. This module gives every serde shape that occurs in
MV2 a Construct class, so that the schema modules can describe each structure declaratively
and the same description both parses and builds.

Hostile input is the normal case for a reader, so every class that reads a length checks it
against the bytes that remain *before* reading or allocating. A count can therefore never
cause an allocation larger than the input, nor a loop longer than the input.
"""

from __future__ import annotations

import io
from typing import Any, Callable, Iterable, Sequence

from construct import (
    Container,

    Bytes,
    Construct,
    ConstructError,
    Float32l,
    Float64l,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64sl,
    Int64ul,
    Struct,
    Subconstruct,
    stream_read,
    stream_write,
)

# Fixed-width scalars. Bincode's fixed-int config writes every integer at its full width,
# little-endian; i64 is plain two's complement (no zig-zag), usize is u64.
U8 = Int8ul
U16 = Int16ul
U32 = Int32ul
U64 = Int64ul
I64 = Int64sl
F32 = Float32l
F64 = Float64l
Hash32 = Bytes(32)
"""A ``[u8; 32]`` is a serde tuple: 32 raw bytes, no length prefix."""


class BincodeError(ConstructError):
    """A value that bincode (as memvid configures it) would reject.

    ``offset`` is the position in the parsed buffer where the bad value starts; ``kind`` is
    a short machine-readable reason (``"length"``, ``"utf8"``, ``"bool"``, ``"option"``,
    ``"enum"``, ``"order"``).
    """

    def __init__(self, message: str, *, kind: str, offset: int, path: str | None = None):
        super().__init__(message, path=path)
        self.kind = kind
        self.offset = offset


def _remaining(stream: io.IOBase) -> int:
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


def _read_count(stream, path: str, *, min_item: int, what: str) -> int:
    """Read a u64 length and prove the remaining input can hold that many items."""
    at = stream.tell()
    count = int.from_bytes(stream_read(stream, 8, path), "little")
    if min_item > 0 and count > _remaining(stream) // min_item:
        raise BincodeError(
            f"{what} length {count} exceeds the {_remaining(stream)} bytes that remain",
            kind="length",
            offset=at,
            path=path,
        )
    return count


class Bool(Construct):
    """``bool``: one byte, 0 or 1. Bincode rejects every other value."""

    def _parse(self, stream, context, path):
        at = stream.tell()
        b = stream_read(stream, 1, path)[0]
        if b > 1:
            raise BincodeError(f"bool byte is {b}, not 0 or 1", kind="bool", offset=at, path=path)
        return bool(b)

    def _build(self, obj, stream, context, path):
        if not isinstance(obj, bool):
            raise BincodeError(f"bool expected, got {obj!r}", kind="bool", offset=-1, path=path)
        stream_write(stream, b"\x01" if obj else b"\x00", 1, path)
        return obj

    def _sizeof(self, context, path):
        return 1


class Option(Subconstruct):
    """``Option<T>``: tag byte 0 (None) or 1 (Some) followed by T."""

    def _parse(self, stream, context, path):
        at = stream.tell()
        tag = stream_read(stream, 1, path)[0]
        if tag == 0:
            return None
        if tag == 1:
            return self.subcon._parsereport(stream, context, path)
        raise BincodeError(f"Option tag is {tag}, not 0 or 1", kind="option", offset=at, path=path)

    def _build(self, obj, stream, context, path):
        if obj is None:
            stream_write(stream, b"\x00", 1, path)
            return None
        stream_write(stream, b"\x01", 1, path)
        return self.subcon._build(obj, stream, context, path)

    def _sizeof(self, context, path):
        raise ConstructError("Option has no fixed size", path=path)


class Vec(Subconstruct):
    """``Vec<T>`` (and slices, ``HashSet`` excluded): u64 count, then the items.

    ``min_item`` is a lower bound on the encoded size of one item; the count is checked
    against the remaining input with it before anything is read.
    """

    def __init__(self, subcon, *, min_item: int = 1):
        super().__init__(subcon)
        self.min_item = min_item

    def _parse(self, stream, context, path):
        count = _read_count(stream, path, min_item=self.min_item, what="Vec")
        parse = self.subcon._parsereport
        return [parse(stream, context, path) for _ in range(count)]

    def _build(self, obj, stream, context, path):
        items = list(obj)
        stream_write(stream, len(items).to_bytes(8, "little"), 8, path)
        build = self.subcon._build
        return [build(item, stream, context, path) for item in items]

    def _sizeof(self, context, path):
        raise ConstructError("Vec has no fixed size", path=path)


class ByteVec(Construct):
    """``Vec<u8>``: u64 length then raw bytes (serde does not special-case it in bincode)."""

    def _parse(self, stream, context, path):
        n = _read_count(stream, path, min_item=1, what="byte vector")
        return stream_read(stream, n, path)

    def _build(self, obj, stream, context, path):
        data = bytes(obj)
        stream_write(stream, len(data).to_bytes(8, "little"), 8, path)
        stream_write(stream, data, len(data), path)
        return data

    def _sizeof(self, context, path):
        raise ConstructError("ByteVec has no fixed size", path=path)


class String(Construct):
    """``String``: u64 byte length then UTF-8. Invalid UTF-8 is rejected, as serde does."""

    def _parse(self, stream, context, path):
        at = stream.tell()
        n = _read_count(stream, path, min_item=1, what="string")
        raw = stream_read(stream, n, path)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BincodeError(
                f"string is not valid UTF-8 ({exc.reason} at byte {exc.start})",
                kind="utf8",
                offset=at + 8 + exc.start,
                path=path,
            ) from None

    def _build(self, obj, stream, context, path):
        if not isinstance(obj, str):
            raise BincodeError(f"str expected, got {type(obj).__name__}", kind="utf8", offset=-1, path=path)
        data = obj.encode("utf-8")
        stream_write(stream, len(data).to_bytes(8, "little"), 8, path)
        stream_write(stream, data, len(data), path)
        return obj

    def _sizeof(self, context, path):
        raise ConstructError("String has no fixed size", path=path)


def utf8_key(s: str) -> bytes:
    """Sort key of a ``BTreeMap<String, _>``: Rust orders ``String`` by its UTF-8 bytes."""
    return s.encode("utf-8")


class Map(Construct):
    """``BTreeMap<K, V>``: u64 count then (K, V) pairs in ascending key order.

    Parsing keeps the stored order and rejects keys that are not strictly ascending: memvid
    checks the TOC checksum over a re-encoding, which would reorder such a map and fail, so
    out-of-order bytes can never be part of a valid file. Building sorts the keys.
    """

    def __init__(self, key: Construct, value: Construct, *, sort_key: Callable[[Any], Any] = utf8_key):
        super().__init__()
        self.key = key
        self.value = value
        self.sort_key = sort_key

    def _parse(self, stream, context, path):
        count = _read_count(stream, path, min_item=2, what="map")
        out: dict = {}
        prev = None
        for _ in range(count):
            at = stream.tell()
            k = self.key._parsereport(stream, context, path)
            v = self.value._parsereport(stream, context, path)
            sk = self.sort_key(k)
            if prev is not None and not sk > prev:
                raise BincodeError(
                    f"map key {k!r} is not in strictly ascending order", kind="order", offset=at, path=path
                )
            prev = sk
            out[k] = v
        return out

    def _build(self, obj, stream, context, path):
        items = sorted(dict(obj).items(), key=lambda kv: self.sort_key(kv[0]))
        stream_write(stream, len(items).to_bytes(8, "little"), 8, path)
        for k, v in items:
            self.key._build(k, stream, context, path)
            self.value._build(v, stream, context, path)
        return obj

    def _sizeof(self, context, path):
        raise ConstructError("Map has no fixed size", path=path)


class Enum(Construct):
    """A serde unit enum: u32 variant index. Parses to the variant name.

    Unknown indices are rejected. (memvid's custom ``CanonicalEncoding`` decoder maps
    unknown values to Plain, but its TOC checksum is taken over the re-encoding, so such a
    file can never verify; rejecting is the only behaviour that does not hide corruption.)
    """

    def __init__(self, rust_name: str, variants: Sequence[str]):
        super().__init__()
        self.rust_name = rust_name
        self.variants = tuple(variants)
        self.index = {name: i for i, name in enumerate(self.variants)}

    def _parse(self, stream, context, path):
        at = stream.tell()
        v = int.from_bytes(stream_read(stream, 4, path), "little")
        if v >= len(self.variants):
            raise BincodeError(
                f"{self.rust_name} variant {v} is unknown (known: 0..{len(self.variants) - 1})",
                kind="enum",
                offset=at,
                path=path,
            )
        return self.variants[v]

    def _build(self, obj, stream, context, path):
        i = obj if isinstance(obj, int) else self.index.get(obj)
        if i is None or not 0 <= i < len(self.variants):
            raise BincodeError(f"{self.rust_name} has no variant {obj!r}", kind="enum", offset=-1, path=path)
        stream_write(stream, i.to_bytes(4, "little"), 4, path)
        return self.variants[i]

    def _sizeof(self, context, path):
        return 4


class Tagged(Construct):
    """A serde enum whose variants carry data: u32 variant index, then that variant's body.

    Parses to ``{"variant": name, "value": body}``.
    """

    def __init__(self, rust_name: str, variants: Sequence[tuple[str, Construct]]):
        super().__init__()
        self.rust_name = rust_name
        self.variants = tuple(variants)
        self.index = {name: i for i, (name, _) in enumerate(self.variants)}

    def _parse(self, stream, context, path):
        at = stream.tell()
        v = int.from_bytes(stream_read(stream, 4, path), "little")
        if v >= len(self.variants):
            raise BincodeError(f"{self.rust_name} variant {v} is unknown", kind="enum", offset=at, path=path)
        name, sub = self.variants[v]
        return {"variant": name, "value": sub._parsereport(stream, context, path)}

    def _build(self, obj, stream, context, path):
        name = obj["variant"]
        i = self.index.get(name)
        if i is None:
            raise BincodeError(f"{self.rust_name} has no variant {name!r}", kind="enum", offset=-1, path=path)
        stream_write(stream, i.to_bytes(4, "little"), 4, path)
        self.variants[i][1]._build(obj["value"], stream, context, path)
        return obj

    def _sizeof(self, context, path):
        raise ConstructError("Tagged has no fixed size", path=path)


class Exact(Subconstruct):
    """Parse the whole input and reject trailing bytes, as memvid's ``decode`` does."""

    def _parse(self, stream, context, path):
        value = self.subcon._parsereport(stream, context, path)
        left = _remaining(stream)
        if left:
            raise BincodeError(
                f"{left} trailing bytes after the value", kind="trailing", offset=stream.tell(), path=path
            )
        return value


def fields(struct: Struct) -> list[str]:
    """Names of a Struct's fields, in wire order."""
    return [sc.name for sc in struct.subcons]


def walk_types(con: Construct) -> Iterable[Construct]:
    """Every construct reachable from ``con`` (for schema introspection and docs)."""
    seen: set[int] = set()
    stack = [con]
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        yield c
        for attr in ("subcon", "key", "value"):
            sub = getattr(c, attr, None)
            if isinstance(sub, Construct):
                stack.append(sub)
        for sub in getattr(c, "subcons", ()) or ():
            stack.append(sub)
        for _, sub in getattr(c, "variants", ()) if isinstance(c, Tagged) else ():
            stack.append(sub)


__all__ = [
    "U8", "U16", "U32", "U64", "I64", "F32", "F64", "Hash32",
    "Bool", "Option", "Vec", "ByteVec", "String", "Map", "Enum", "Tagged", "Exact",
    "BincodeError", "fields", "walk_types", "utf8_key", "to_plain", "describe",
]


def to_plain(value):
    """Construct's parse result as plain dicts and lists.

    Construct's ``Container`` carries internal keys (``_io``); only those are dropped. A map
    decoded by :class:`Map` is a plain ``dict`` and keeps every key, including user keys that
    begin with an underscore.
    """
    if isinstance(value, Container):
        return {k: to_plain(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def describe(struct: Struct, **docs: str) -> Struct:
    """Attach a description to named fields of ``struct`` (used for the spec's tables)."""
    by_name = {sc.name: sc for sc in struct.subcons}
    for name, text in docs.items():
        if name not in by_name:
            raise KeyError(f"{name} is not a field of this struct")
        by_name[name].docs = text
    return struct
