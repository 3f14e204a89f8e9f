"""Every place a TOC points into the file (spec: 2.3, "What the TOC references"; 7, "Checksums").

One enumeration serves three users, so that they cannot disagree about what a TOC
references: the verifier (which bytes must lie in the data area and match which checksum),
the WAL grower (which offsets move when the data area moves), and compaction (which bytes
are live and must be copied; everything else in the data area is dead).

A reference is a (holder, offset key, length key) triple into the plain TOC value; holders
are the TOC's own dicts, so callers can rewrite offsets in place on a copy.
"""

from __future__ import annotations

from operator import itemgetter

from dataclasses import dataclass


@dataclass(frozen=True)
class Ref:
    name: str  # human name for messages and the region map
    kind: str  # region kind: payload, lex, catalog-vec, time, ...
    holder: dict  # the TOC dict that holds the fields
    off_key: str
    len_key: str
    ck_key: str | None  # the checksum field, when the format has one for these bytes
    covered_by: str  # where the checksum lives, for the spec's coverage table

    @property
    def offset(self) -> int:
        return self.holder[self.off_key]

    @property
    def length(self) -> int:
        return self.holder[self.len_key]

    @property
    def checksum(self) -> bytes | None:
        return bytes(self.holder[self.ck_key]) if self.ck_key else None


_CATALOG = (("lex_segments", "catalog-lex"), ("vec_segments", "catalog-vec"), ("time_segments", "catalog-time"),
            ("temporal_segments", "catalog-temporal"))
_TRACKS = (("time_index", "time"), ("temporal_track", "temporal"), ("memories_track", "memories"),
           ("logic_mesh", "logic-mesh"), ("sketch_track", "sketch"))


def toc_references(toc: dict, *, frames=None) -> list[Ref]:
    """Every (offset, length) the TOC holds, in TOC order, zero-length ones included.

    ``frames`` replaces ``toc["frames"]`` when given (a reader passes only committed frames:
    a pending frame's payload lives in its WAL record, not in the data area).
    """
    out: list[Ref] = []
    for f in toc["frames"] if frames is None else frames:
        out.append(Ref(f"payload frame {f['id']}", "payload", f, "payload_offset", "payload_length", "checksum",
                       "frame.checksum"))
    ix = toc["indexes"]
    for x in ix["lex_segments"]:
        out.append(Ref(f"tantivy {x['path']}", "lex", x, "bytes_offset", "bytes_length", "checksum", "lex_segments.checksum"))
    cat = toc["segment_catalog"]
    for x in cat["tantivy_segments"]:
        out.append(Ref(f"tantivy {x['path']}", "lex", x["common"], "bytes_offset", "bytes_length", "checksum",
                       "tantivy_segments.checksum"))
    for key, kind in _CATALOG:
        for x in cat[key]:
            c = x["common"]
            out.append(Ref(f"{kind} segment {c['segment_id']}", kind, c, "bytes_offset", "bytes_length", "checksum",
                           f"segment_catalog.{key}.checksum"))
    for x in cat["index_segments"]:
        c = x["common"]
        out.append(Ref(f"index segment {c['segment_id']} (mirror)", "mirror", c, "bytes_offset", "bytes_length", "checksum",
                       "segment_catalog.index_segments.checksum"))
    for key, kind, name in (("lex", "lex-legacy", "lex index (legacy)"), ("vec", "vec", "vec index"),
                            ("clip", "clip", "clip index")):
        m = ix.get(key)
        if m is not None:
            out.append(Ref(name, kind, m, "bytes_offset", "bytes_length", "checksum", f"indexes.{key}.checksum"))
    for key, kind in _TRACKS:
        m = toc.get(key)
        if m is not None:
            out.append(Ref(key.replace("_", " "), kind, m, "bytes_offset", "bytes_length", "checksum", f"{key}.checksum"))
    m = toc.get("replay_manifest")
    if m is not None:
        out.append(Ref("replay segment", "replay", m, "segment_offset", "segment_size", None, "nothing"))
    for x in toc.get("segments", []):
        out.append(Ref("legacy segment", "legacy", x, "bytes_offset", "bytes_length", None, "nothing"))
    return out


def live_intervals(refs: list[Ref], lo: int, hi: int, *, payloads=None) -> list[tuple[int, int]]:
    """The union of the non-empty references inside [lo, hi), as sorted disjoint [start, end) pairs.

    ``payloads``, ``(offsets, lengths)`` as int64 arrays, adds the frames' payloads given as
    columns (format/frametable.py: a rewrite of a lazily decoded TOC) to ``refs``."""
    if payloads is not None:
        import numpy as np

        off, ln = (np.asarray(x).astype(np.uint64) for x in payloads)
        end = off + ln
        ok = (ln > 0) & (end >= off) & (off >= np.uint64(lo)) & (end <= np.uint64(hi))
        kept = [(r.offset, r.offset + r.length) for r in refs if r.length and lo <= r.offset and r.offset + r.length <= hi]
        a = np.concatenate((off[ok].astype(np.int64), np.array([x for x, _ in kept], dtype=np.int64)))
        b = np.concatenate((end[ok].astype(np.int64), np.array([y for _, y in kept], dtype=np.int64)))
        if not len(a):
            return []
        order = np.lexsort((b, a))
        a, b = a[order], b[order]
        reach = np.maximum.accumulate(b)
        first = np.flatnonzero(np.concatenate(([True], a[1:] > reach[:-1])))  # touching ranges merge
        last = np.concatenate((first[1:] - 1, [len(a) - 1]))
        return list(zip(a[first].tolist(), reach[last].tolist()))
    spans = sorted((r.offset, r.offset + r.length) for r in refs if r.length and lo <= r.offset and r.offset + r.length <= hi)
    out: list[list[int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def live_bytes(toc: dict, lo: int, hi: int) -> int:
    """The size of the union of the non-empty references inside [lo, hi): what
    :func:`live_intervals` covers, computed with arrays (a writer asks on every commit)."""
    import numpy as np

    frames = toc["frames"]
    m = len(frames)
    # Frames in column passes (no per-frame tuples: at 100 000 frames a list of them cost half
    # a second, mostly in the collector). Fields are u64, so the sums are checked for wrapping.
    column = getattr(frames, "column", None)
    cols = (column("payload_offset"), column("payload_length")) if column is not None else (None, None)
    if cols[0] is not None and cols[1] is not None:
        # Columns of a lazily decoded TOC (format/frametable.py): no frame is read. A value
        # past 2**63 - 1 is clamped there, and lies past ``hi`` either way.
        off = np.maximum(cols[0], 0).astype(np.uint64)
        ln = cols[1].astype(np.uint64)
    else:
        off = np.fromiter((x or 0 for x in map(itemgetter("payload_offset"), frames)), np.uint64, m)
        ln = np.fromiter(map(itemgetter("payload_length"), frames), np.uint64, m)
    end = off + ln
    ok = (ln > 0) & (end >= off) & (off >= np.uint64(lo)) & (end <= np.uint64(hi))
    # The other references are few; filtered before the arrays are built: a damaged TOC can
    # hold values past 64 bits.
    kept = [(r.offset, r.offset + r.length) for r in toc_references(toc, frames=[])
            if r.length > 0 and lo <= r.offset and r.offset + r.length <= hi]
    a = np.concatenate((off[ok].astype(np.int64), np.array([o for o, _ in kept], dtype=np.int64)))
    b = np.concatenate((end[ok].astype(np.int64), np.array([e for _, e in kept], dtype=np.int64)))
    if not len(a):
        return 0
    order = np.argsort(a, kind="stable")
    a, b = a[order], b[order]
    reach = np.maximum.accumulate(b)
    starts = np.concatenate(([True], a[1:] > reach[:-1]))  # an interval that begins after all before it end
    first = np.flatnonzero(starts)
    last = np.concatenate((first[1:] - 1, [len(a) - 1]))
    return int((reach[last] - a[first]).sum())

