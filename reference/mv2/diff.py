"""Comparing two memory files: what they mean and where their bytes differ (spec: "Merging", 15.1).

:func:`diff_files` answers two questions about files A and B:

* **Logically**, frame by frame in id order: frames only one file has, frames whose canonical
  record (Appendix A) differs, field by field, with a unified diff of their texts; status
  changes; memory cards added, removed or changed; and the documents one file's full-text or
  vector index holds and the other's does not.
* **Byte by byte**: the region map ``mv2 inspect`` prints (storage/verify.py) for each file,
  matched by region name; for each region whose bytes differ, the first differing offset in
  each file and the checksum that covers it. This is what explains a golden hash that moved.

Frames are compared one at a time, never as two materialised dumps: a frame whose TOC fields
(all but its payload offset) and payload checksum are equal in both files has equal records,
so its payload is not even read. Only frames that differ are decoded into records.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field

from .errors import MV2Error, StorageIOError, error_for
from .storage.replay import FrameState
from .storage.snapshot import Snapshot
from .storage.verify import Analysis, analyze
from .storage.view import frame_record

# Fields of a frame's TOC record that say where it is, not what it is.
_PLACEMENT = frozenset({"payload_offset"})
# Fields the two TOC revisions may lack (replay.FRAME_DEFAULTS): absent means "none".
_OPTIONAL = ("source_sha256", "source_path", "enrichment_state")


@dataclass
class FileSide:
    path: str
    size: int
    sha256: str
    revision: str | None
    generation: int | None
    frames: int
    ok: bool
    error: dict | None

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FrameChange:
    id: int
    fields: dict[str, tuple]  # name -> (value in A, value in B)
    text_diff: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "fields": {k: list(v) for k, v in self.fields.items()}, "text_diff": self.text_diff}


@dataclass
class RegionDiff:
    name: str
    kind: str
    status: str  # same | moved | differ | only-a | only-b
    covered_by: str
    a: tuple[int, int] | None  # (offset, length)
    b: tuple[int, int] | None
    first_difference: dict | None = None  # {"relative": n, "a": offset, "b": offset}

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "status": self.status, "covered_by": self.covered_by,
                "a": None if self.a is None else {"offset": self.a[0], "length": self.a[1]},
                "b": None if self.b is None else {"offset": self.b[0], "length": self.b[1]},
                "first_difference": self.first_difference}


@dataclass
class Diff:
    a: FileSide
    b: FileSide
    added: list[int] = field(default_factory=list)       # frame ids only B has
    removed: list[int] = field(default_factory=list)     # frame ids only A has
    changed: list[FrameChange] = field(default_factory=list)
    status_changes: list[dict] = field(default_factory=list)
    cards: dict = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})
    indexes: dict = field(default_factory=dict)
    regions: list[RegionDiff] | None = None
    first_byte_difference: int | None = None

    @property
    def identical(self) -> bool:
        return self.a.sha256 == self.b.sha256

    @property
    def logically_same(self) -> bool:
        idx = any(v for side in self.indexes.values() for v in side.values())
        return not (self.added or self.removed or self.changed or any(self.cards.values()) or idx)

    def to_json(self) -> dict:
        return {
            "identical": self.identical, "logically_same": self.logically_same,
            "a": self.a.to_json(), "b": self.b.to_json(),
            "frames": {"added": self.added, "removed": self.removed, "changed": [c.to_json() for c in self.changed]},
            "status_changes": self.status_changes, "memory_cards": self.cards, "indexes": self.indexes,
            "first_byte_difference": self.first_byte_difference,
            "regions": None if self.regions is None else [r.to_json() for r in self.regions],
        }


# -- whole files ------------------------------------------------------------------------------

def _sha256_and_first_difference(pa: str, pb: str) -> tuple[str, str, int | None]:
    """Both files' SHA-256 and the first offset at which their bytes differ, in one pass."""
    ha, hb = hashlib.sha256(), hashlib.sha256()
    first = None
    pos = 0
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if not ca and not cb:
                break
            ha.update(ca)
            hb.update(cb)
            if first is None and ca != cb:
                first = pos + _first_mismatch(ca, cb)
            pos += max(len(ca), len(cb))
    return ha.hexdigest(), hb.hexdigest(), first


def _first_mismatch(x, y) -> int:
    """Index of the first differing byte of two byte strings (the shorter length if one is a prefix)."""
    n = min(len(x), len(y))
    lo = 0
    # Halving on slices keeps the comparison in C: O(n log n) byte compares, no Python loop per byte.
    while n - lo > 64:
        mid = (lo + n) // 2
        if x[lo:mid] == y[lo:mid]:
            lo = mid
        else:
            n = mid
    for i in range(lo, n):
        if x[i] != y[i]:
            return i
    return n


def _side(path: str, a: Analysis, digest: str) -> FileSide:
    e = a.first_error
    return FileSide(path, a.size, digest, a.revision, a.generation, a.frame_count, a.ok,
                    None if e is None else e.to_json())


# -- frames ---------------------------------------------------------------------------------------

def _same_stored(fa: FrameState, fb: FrameState) -> bool:
    """True when two frames certainly have equal canonical records, judged from the TOC alone."""
    x, y = fa.fields, fb.fields
    if fa.pending != fb.pending:
        return False
    if x == y:  # the common case, compared in C: same fields, same place
        return x["role"] != "document" or x["chunk_manifest"] is None
    for k in x.keys() | y.keys():
        if k in _PLACEMENT:
            continue
        if x.get(k) != y.get(k):
            return False
    # A chunked document's text is its chunks' payloads: equal only if they are (they are
    # compared as frames of their own; here the document must not be declared equal early).
    return x["role"] != "document" or x["chunk_manifest"] is None


def _absent_fields(snap: Snapshot) -> dict:
    """Frame fields the file's TOC revision does not have, with the value that absence means
    (the defaults conversion gives them, spec 11.4): a 2.0.123 frame has no enrichment state,
    and is equal to a converted frame whose state is the default."""
    from .convert import DEFAULTS

    present = {sc.name for sc in snap.revision.frame.subcons}
    return {k: DEFAULTS[k] for k in _OPTIONAL if k not in present}


def _record(snap: Snapshot, fs: FrameState, absent: dict) -> dict:
    try:
        rec = frame_record(snap, fs)
    except MV2Error as exc:  # a damaged payload: say so in the record instead of stopping
        rec = {k: fs.fields.get(k) for k in ("id", "uri", "status")}
        rec["unreadable"] = f"{exc.code}: {exc.message}"
    rec.update(absent)
    return rec


def _text_diff(ta, tb, fid: int, context: int) -> str | None:
    if not isinstance(ta, str) or not isinstance(tb, str) or ta == tb:
        return None
    lines = difflib.unified_diff(ta.splitlines(keepends=True), tb.splitlines(keepends=True),
                                 f"a/frame/{fid}", f"b/frame/{fid}", n=context)
    out = "".join(x if x.endswith("\n") else x + "\n\\ No newline at end of text\n" for x in lines)
    return out or None


def _damaged_payloads(a: Analysis) -> set[int]:
    """Ids of frames whose payload failed its checksum: their TOC fields say nothing about their bytes."""
    return {int(r.name.rsplit(" ", 1)[1]) for r in a.regions if r.kind == "payload" and r.status == "bad"}


def diff_frames(sa: Snapshot, sb: Snapshot, *, context: int = 3, damaged: set[int] = frozenset()):
    """Yield ``("added", id)``, ``("removed", id)`` and ``("changed", FrameChange)`` in id order.
    Frames in ``damaged`` are always decoded (their payload is known to be unreadable in one file)."""
    na, nb = len(sa.frames), len(sb.frames)
    xa, xb = _absent_fields(sa), _absent_fields(sb)
    for i in range(min(na, nb)):
        fa, fb = sa.frames[i], sb.frames[i]
        if i not in damaged and _same_stored(fa, fb):
            continue
        ra, rb = _record(sa, fa, xa), _record(sb, fb, xb)
        if ra == rb:
            continue
        fields = {k: (ra.get(k), rb.get(k)) for k in sorted(ra.keys() | rb.keys()) if ra.get(k) != rb.get(k)}
        text = fields.pop("text", None)
        change = FrameChange(i, fields)
        if text is not None:
            change.text_diff = _text_diff(text[0], text[1], i, context)
            if change.text_diff is None:  # not both text: show the values themselves
                change.fields["text"] = text
        yield "changed", change
    for i in range(nb, na):
        yield "removed", i
    for i in range(na, nb):
        yield "added", i


# -- memory cards and indexes ---------------------------------------------------------------------

def diff_cards(sa: Snapshot, sb: Snapshot) -> dict:
    def keyed(cards):
        return {c.get("id", n): c for n, c in enumerate(cards or [])}
    ca, cb = keyed(sa.memory_cards()), keyed(sb.memory_cards())
    return {"added": [cb[k] for k in sorted(cb.keys() - ca.keys(), key=str)],
            "removed": [ca[k] for k in sorted(ca.keys() - cb.keys(), key=str)],
            "changed": [{"id": k, "a": ca[k], "b": cb[k]} for k in sorted(ca.keys() & cb.keys(), key=str) if ca[k] != cb[k]]}


def _lex_listing(snap: Snapshot) -> list[tuple[str, bytes]]:
    t = snap.toc
    listed = [(x["path"], x["common"]) for x in t["segment_catalog"]["tantivy_segments"]] or \
             [(x["path"], x) for x in t["indexes"]["lex_segments"]]
    return sorted((p, bytes(m["checksum"])) for p, m in listed)


def lex_frame_ids(snap: Snapshot) -> set[int] | None:
    """Frame ids of the documents the file's own Tantivy index holds (None: it has none usable)."""
    import tantivy

    from .index.context import _index_files
    from .index.lexsearch import LexIndex

    files = _index_files(snap)
    if files is None:
        return None
    idx = LexIndex(files)
    try:
        s = idx.searcher
        hits = s.search(tantivy.Query.all_query(), limit=max(s.num_docs, 1)).hits if s.num_docs else []
        return {int(s.doc(addr).get_first("frame_id")) for _, addr in hits}
    finally:
        idx.close()


def diff_indexes(sa: Snapshot, sb: Snapshot) -> dict:
    """Documents one file's full-text or vector index holds and the other's does not."""
    import numpy as np

    from .index.vec import load_vectors

    out: dict = {}
    # Identical Tantivy files hold identical documents: only differing indexes are opened.
    if _lex_listing(sa) != _lex_listing(sb):
        la, lb = lex_frame_ids(sa), lex_frame_ids(sb)
        la, lb = la or set(), lb or set()
        out["lex"] = {"only_in_a": sorted(la - lb), "only_in_b": sorted(lb - la)}
    else:
        out["lex"] = {"only_in_a": [], "only_in_b": []}
    va, vb = load_vectors(sa), load_vectors(sb)
    ia, ma = va.select()
    ib, mb = vb.select()
    sa_ids, sb_ids = set(ia.tolist()), set(ib.tolist())
    common = sorted(sa_ids & sb_ids)
    changed = []
    if common and ma.shape[1] == mb.shape[1]:
        pa = np.searchsorted(ia, common)
        pb = np.searchsorted(ib, common)
        neq = np.any(ma[pa] != mb[pb], axis=1)
        changed = [int(c) for c, d in zip(common, neq) if d]
    elif common:
        changed = common  # different dimensions: every shared vector differs
    out["vec"] = {"only_in_a": sorted(sa_ids - sb_ids), "only_in_b": sorted(sb_ids - sa_ids), "changed": changed}
    return out


# -- bytes ----------------------------------------------------------------------------------------

def diff_regions(aa: Analysis, ab: Analysis, pa: str, pb: str) -> list[RegionDiff]:
    """Match the two region maps by name (the n-th region of a name with the n-th) and compare bytes."""
    def keyed(a: Analysis):
        # A region whose checksum failed leaves a "gap" in verify's map over the same bytes;
        # that gap is the failed region, not a difference of its own.
        failed = [(r.offset, r.end) for r in a.regions if r.status in ("bad", "stale")]
        seen: dict[str, int] = {}
        out = {}
        for r in a.regions:
            if r.kind == "gap":
                if any(lo <= r.offset and r.end <= hi for lo, hi in failed):
                    continue
                out[(r.name, r.offset)] = r  # gaps have no identity but where they are
                continue
            n = seen.get(r.name, 0)
            seen[r.name] = n + 1
            out[(r.name, n)] = r
        return out
    ka, kb = keyed(aa), keyed(ab)
    order = sorted(ka.keys() | kb.keys(), key=lambda k: ((ka.get(k) or kb.get(k)).offset, k))
    out = []
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        for k in order:
            ra, rb = ka.get(k), kb.get(k)
            r = ra or rb
            if ra is None or rb is None:
                out.append(RegionDiff(r.name, r.kind, "only-a" if rb is None else "only-b", r.covered_by,
                                      None if ra is None else (ra.offset, ra.length),
                                      None if rb is None else (rb.offset, rb.length)))
                continue
            fa.seek(ra.offset)
            fb.seek(rb.offset)
            xa, xb = fa.read(ra.length), fb.read(rb.length)
            if xa == xb:
                status, first = ("same" if ra.offset == rb.offset else "moved"), None
            else:
                rel = _first_mismatch(xa, xb)
                status, first = "differ", {"relative": rel, "a": ra.offset + rel, "b": rb.offset + rel}
            out.append(RegionDiff(r.name, r.kind, status, ra.covered_by, (ra.offset, ra.length), (rb.offset, rb.length), first))
    return out


# -- the whole comparison -----------------------------------------------------------------------

def diff_files(a: str | os.PathLike, b: str | os.PathLike, *, byte_view: bool = True, indexes: bool = True,
               context: int = 3) -> Diff:
    """Compare two files logically (always) and byte by byte (``byte_view``).

    A file that is damaged is still compared as far as its reader goes: its verdict is in
    ``Diff.a.error`` / ``Diff.b.error``. A file that cannot be read at all raises its MV2Error."""
    pa, pb = os.fspath(a), os.fspath(b)
    try:
        ha, hb, first = _sha256_and_first_difference(pa, pb)
    except OSError as exc:
        raise StorageIOError(f"cannot read {exc.filename or pa}: {exc.strerror}", code="MV2-E-FILE-UNREADABLE") from None
    if ha == hb:  # the same bytes: nothing differs; one file is read, for its description
        an = analyze(pa, deep=False)
        if an.first_error is not None and not an.regions:  # not even readable
            e = an.first_error
            raise error_for(e.code, f"{pa}: {e.message}", e.offset)
        regions = [RegionDiff(r.name, r.kind, "same", r.covered_by, (r.offset, r.length), (r.offset, r.length))
                   for r in an.regions] if byte_view else None
        d = Diff(_side(pa, an, ha), _side(pb, an, hb), regions=regions)
        if indexes:
            d.indexes = {"lex": {"only_in_a": [], "only_in_b": []}, "vec": {"only_in_a": [], "only_in_b": [], "changed": []}}
        return d
    aa = analyze(pa, keep_snapshot=True, deep=False)  # checksums, not decompression: a diff, not a verify
    try:
        ab = analyze(pb, keep_snapshot=True, deep=False)
    except BaseException:
        if aa.snapshot is not None:
            aa.snapshot.close()
        raise
    try:
        for an, p in ((aa, pa), (ab, pb)):
            if an.snapshot is None:  # the reader could not even open it
                e = an.first_error
                raise error_for(e.code, f"{p}: {e.message}", e.offset)
        d = Diff(_side(pa, aa, ha), _side(pb, ab, hb), first_byte_difference=first)
        sa, sb = aa.snapshot, ab.snapshot
        for what, x in diff_frames(sa, sb, context=context,
                                     damaged=_damaged_payloads(aa) | _damaged_payloads(ab)):
            if what == "added":
                d.added.append(x)
            elif what == "removed":
                d.removed.append(x)
            else:
                d.changed.append(x)
                if "status" in x.fields:
                    d.status_changes.append({"id": x.id, "a": x.fields["status"][0], "b": x.fields["status"][1]})
        # A damaged track or index is reported as such; the rest of the comparison stands.
        try:
            d.cards = diff_cards(sa, sb)
        except MV2Error as exc:
            d.cards["unreadable"] = f"{exc.code}: {exc.message}"
        if indexes:
            try:
                d.indexes = diff_indexes(sa, sb)
            except MV2Error as exc:
                d.indexes = {"unreadable": {"error": f"{exc.code}: {exc.message}"}}
        if byte_view:
            d.regions = diff_regions(aa, ab, pa, pb)
        return d
    finally:
        for an in (aa, ab):
            if an.snapshot is not None:
                an.snapshot.close()


# -- the text report ------------------------------------------------------------------------------

def _short(v, width: int = 60) -> str:
    s = repr(v) if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
    return s if len(s) <= width else s[: width - 1] + "…"


def format_text(d: Diff, *, limit: int = 50) -> list[str]:
    """The comparison as lines of text (``mv2 diff``, and golden-file assertion messages)."""
    lines = []
    for tag, s in (("A", d.a), ("B", d.b)):
        verdict = "checksums ok" if s.ok else f"{s.error['code']} at byte {s.error['offset']}"
        lines.append(f"{tag}: {s.path}  {s.size} bytes  sha256 {s.sha256}  {s.revision}  generation {s.generation}  "
                     f"{s.frames} frames  {verdict}")
    if d.identical:
        lines.append("identical: same bytes")
        return lines
    lines.append(f"frames: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, "
                 f"{len(d.status_changes)} status changes" + ("  (logically the same)" if d.logically_same else ""))
    items = [f"- frame {i} (only in A)" for i in d.removed] + [f"+ frame {i} (only in B)" for i in d.added]
    for c in d.changed:
        block = [f"~ frame {c.id}"] + [f"    {k}: {_short(va)} -> {_short(vb)}" for k, (va, vb) in c.fields.items()]
        block += ["    " + x for x in (c.text_diff or "").splitlines()]
        items.append("\n".join(block))
    for item in items[:limit]:
        lines.extend(item.split("\n"))
    if len(items) > limit:
        lines.append(f"… {len(items) - limit} more frame differences (--limit N, or --json for all)")
    cards = d.cards
    if "unreadable" in cards:
        lines.append(f"memory cards: unreadable, {cards['unreadable']}")
    elif any(cards.values()):
        lines.append(f"memory cards: {len(cards['added'])} added, {len(cards['removed'])} removed, "
                     f"{len(cards['changed'])} changed")
    for name, side in sorted(d.indexes.items()):
        parts = [v if isinstance(v, str) else f"{k.replace('_', ' ')} {v[:20]}{'…' if len(v) > 20 else ''}"
                 for k, v in side.items() if v]
        if parts:
            lines.append(f"{name} index: " + "; ".join(parts))
    if d.regions is None:
        return lines
    lines.append(f"bytes: first difference at byte {d.first_byte_difference}")
    counts = {s: sum(r.status == s for r in d.regions) for s in ("same", "moved", "differ", "only-a", "only-b")}
    lines.append("regions: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    diff = [r for r in d.regions if r.status != "same"]
    if diff:
        rows = [("region", "status", "A offset", "B offset", "first diff A", "first diff B", "covered by")]
        for r in diff[:limit]:
            fd = r.first_difference or {}
            rows.append((r.name, r.status, "" if r.a is None else str(r.a[0]), "" if r.b is None else str(r.b[0]),
                         str(fd.get("a", "")), str(fd.get("b", "")), r.covered_by))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [c.ljust(w) if i in (0, 1, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
        if len(diff) > limit:
            lines.append(f"… {len(diff) - limit} more regions (--limit N, or --json for all)")
    return lines
