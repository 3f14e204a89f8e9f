"""Verification: every checksum, every structural invariant, a map of every region (spec: "Checksums", "Verification").

:func:`analyze` runs the checks in the order the spec lists them and stops at the first
error that makes later checks meaningless (an undecodable header or TOC). Other errors are
collected; the *first* in check order is the file's verdict. Warnings record writer
defects that memvid-sdk itself produces and tolerates (stale manifests), which do not make
a file invalid.

Besides the verdict, the analysis produces the region map used by ``mv2 inspect``: every
byte range the file's structures claim, which checksum covers it and whether it matched.
Bytes that no structure claims are listed as ``unreferenced``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import blake3
import numpy as np

from ..errors import CODES, CorruptFileError, MV2Error, UnsupportedError
from ..format.bincode import to_plain
from ..format.footer import FOOTER_SIZE
from ..format.gcpause import paused_gc
from ..format.header import DATA_FIELDS_END, HEADER_SIZE
from ..format.references import toc_references
from ..format.memories import decode_memories
from ..format.segments import is_plain_file_name, tantivy_directory_problem
from ..format.revisions import decode_exact
from ..format.vecseg import decode_vec_segment
from ..format.segments import (
    SKETCH_HEADER_SIZE,
    SKETCH_MAGIC,
    SKETCH_SMALL,
    CatalogLexSegment,
    SketchHeader,
)
from ..format.time_index import ENTRY_DTYPE, TIME_ENTRY_SIZE, TIME_HEADER_SIZE, TIME_MAGIC, decode_entries, is_sorted
from ..format.wal import WAL_RECORD_HEADER_SIZE
from ..format.sketch import SKETCH_BATCH_CHARS, sketch_entries
from .wal import checkpoint_problem, intact_records_after, wal_region
from .snapshot import Snapshot, check_frame_links, read_snapshot
from .view import frame_text
from .source import Source, digest

EMPTY_BLAKE3 = blake3.blake3(b"").digest()
EMPTY_SHA256 = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@dataclass
class Finding:
    code: str
    offset: int | None
    message: str
    severity: str = "error"

    @property
    def kind(self) -> str:
        return CODES[self.code].kind

    def to_json(self) -> dict:
        return {"code": self.code, "offset": self.offset, "message": self.message, "severity": self.severity}


@dataclass
class Region:
    name: str
    kind: str
    offset: int
    length: int
    covered_by: str
    status: str = "unchecked"  # ok | bad | stale | uncovered | unchecked
    checksum: bytes | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "offset": self.offset, "length": self.length,
                "covered_by": self.covered_by, "status": self.status}


@dataclass
class Analysis:
    path: str
    size: int = 0
    findings: list[Finding] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    revision: str | None = None
    generation: int | None = None
    frame_count: int = 0
    pending: int = 0
    snapshot: Snapshot | None = None
    header: dict | None = None
    """The header, when there is no snapshot but the header could be read (an unknown revision)."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def first_error(self) -> Finding | None:
        errs = self.errors
        return errs[0] if errs else None

    def uncovered_ranges(self, start: int = 0) -> list[tuple[int, int, str]]:
        """Byte ranges at or after ``start`` that no checksum covers, with the reason."""
        out = []
        for r in self.regions:
            if r.status == "uncovered" and r.end > start:
                out.append((max(r.offset, start), r.end, r.name))
        return sorted(out)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "ok": self.ok,
            "error": self.first_error.to_json() if self.first_error else None,
            "warnings": [w.to_json() for w in self.warnings],
            "revision": self.revision,
            "generation": self.generation,
            "frames": self.frame_count,
            "pending_wal_records": self.pending,
            "size": self.size,
        }


class _Stop(Exception):
    pass


class _Verifier:
    def __init__(self, path_or_source, *, deep: bool = True):
        self.src = path_or_source if isinstance(path_or_source, Source) else Source.open(path_or_source)
        self.a = Analysis(path=self.src.name, size=self.src.size)
        self.deep = deep

    # -- helpers ------------------------------------------------------------------------------
    def fail(self, code: str, offset: int | None, message: str, *, fatal: bool = False) -> None:
        self.a.findings.append(Finding(code, offset, message))
        if fatal:
            raise _Stop

    def warn(self, code: str, offset: int | None, message: str) -> None:
        self.a.findings.append(Finding(code, offset, message, "warning"))

    def region(self, name, kind, offset, length, covered_by, checksum=None) -> Region:
        r = Region(name, kind, offset, length, covered_by, checksum=checksum)
        self.a.regions.append(r)
        return r

    # -- the checks, in spec order ----------------------------------------------------------------
    def run(self) -> Analysis:
        try:
            self.snapshot()
            self.header_against_toc()
            self.wal_checkpoint()
            self.frames()
            self.regions_and_checksums()
            self.time_index()
            self.lex_lists()
            self.sketch()
            self.memories()
            self.vec_and_catalog()
            self.payload_decoding()
            self.gaps()
        except _Stop:
            pass
        except MV2Error as exc:  # a check ran into bytes it could not even read
            self.fail(exc.code, exc.offset, exc.message)
        self.a.regions.sort(key=lambda r: (r.offset, -r.length, r.name))
        return self.a

    def snapshot(self) -> None:
        try:
            snap = read_snapshot(self.src)
        except CorruptFileError as exc:
            self.fail(exc.code, exc.offset, exc.message, fatal=True)
        except UnsupportedError as exc:
            if exc.code == "MV2-E-TOC-REVISION":
                self.map_without_toc()
            self.fail(exc.code, exc.offset, exc.message, fatal=True)
        self.s = snap
        a = self.a
        a.snapshot = snap
        a.revision = snap.revision.name
        a.generation = snap.commit.generation
        a.frame_count = len(snap.frames)
        a.pending = snap.pending_count
        c = snap.commit
        # The commit found must be the end of the file: a newer damaged commit or stray bytes
        # after it mean the file is not what its last writer acknowledged.
        if c.end != self.src.size:
            newer = [r for r in snap.location.rejected if r[0] >= c.end]
            if newer:
                off, code, reason = newer[-1]
                self.fail(code, off, f"commit footer at byte {off} is invalid ({reason}); an older commit at byte {c.footer_offset} is the last valid one")
            else:
                self.fail("MV2-E-FILE-TRAILING", c.end, f"{self.src.size - c.end} bytes follow the last valid commit footer")
        h = snap.header
        self.region("header", "header", 0, DATA_FIELDS_END, "structure (each field checked against the TOC and WAL)", None).status = "ok"
        self.region("header reserved", "header", DATA_FIELDS_END, HEADER_SIZE - DATA_FIELDS_END, "must be zero").status = "ok"
        self.region("WAL region", "wal", h["wal_offset"], h["wal_size"], "per-record BLAKE3 up to the sentinel").status = "ok"
        self.region("TOC", "toc", c.toc_offset, c.toc_len, "footer.toc_hash and toc.toc_checksum").status = "ok"
        self.region("footer", "footer", c.footer_offset, FOOTER_SIZE - 8, "self-validating (magic, length, hash)").status = "ok"
        self.region("footer generation", "footer", c.footer_offset + FOOTER_SIZE - 8, 8, "nothing").status = "uncovered"

    def map_without_toc(self) -> None:
        """An unknown revision: place what needs no TOC (storage/partial.py)."""
        from .partial import map_without_toc

        m = map_without_toc(self.src)
        h, c = m.header, m.commit
        self.a.generation = c.generation
        self.a.header = dict(h, toc_offset=c.toc_offset, toc_len=c.toc_len)
        self.region("header", "header", 0, DATA_FIELDS_END, "structure (fields not checked against the TOC)")
        self.region("header reserved", "header", DATA_FIELDS_END, HEADER_SIZE - DATA_FIELDS_END, "must be zero")
        self.region("WAL region", "wal", h["wal_offset"], h["wal_size"], "per-record BLAKE3 up to the sentinel")
        for seq, off, length in m.wal_records:
            self.region(f"WAL record seq {seq}", "wal-record", h["wal_offset"] + off, length, "record BLAKE3").status = "ok"
        data_start = h["wal_offset"] + h["wal_size"]
        self.region("data area (laid out by the TOC)", "data", data_start, c.toc_offset - data_start, "the TOC's manifests")
        self.region("TOC (unknown revision)", "toc", c.toc_offset, c.toc_len, "footer.toc_hash and toc.toc_checksum").status = "ok"
        self.region("footer", "footer", c.footer_offset, FOOTER_SIZE - 8, "self-validating (magic, length, hash)").status = "ok"
        self.region("footer generation", "footer", c.footer_offset + FOOTER_SIZE - 8, 8, "nothing").status = "uncovered"
        if m.wal_problem is not None:
            self.fail(m.wal_problem.code, m.wal_problem.offset, m.wal_problem.message)

    def header_against_toc(self) -> None:
        s, h, c = self.s, self.s.header, self.s.commit
        toc_bytes = self.src.view(c.toc_offset, c.toc_len, what="TOC")
        body = blake3.blake3(toc_bytes[:-32])
        body.update(bytes(32))
        if body.digest() != s.toc["toc_checksum"]:
            self.fail("MV2-E-TOC-HASH", c.toc_offset + c.toc_len - 32,
                      "toc_checksum is not BLAKE3 of the TOC with its checksum field zeroed")
        if s.header_stale:
            self.warn("MV2-W-NEEDS-RECOVERY", 8,
                      f"the header names the commit before the last one (byte {h['footer_offset']}): a writer stopped "
                      "between its commit and the header update. Nothing is lost; `mv2 recover FILE` rewrites the header")
        elif h["footer_offset"] != c.toc_offset:
            self.fail("MV2-E-HDR-TOC-PTR", 8, f"header footer_offset {h['footer_offset']} but the last commit's TOC starts at {c.toc_offset}")
        if h["toc_checksum"] != s.toc["toc_checksum"] and not s.header_stale:
            self.fail("MV2-E-HDR-TOC-HASH", 48, "header toc_checksum differs from the TOC's toc_checksum")
        reserved = bytes(h["reserved"])
        if any(reserved):
            first = next(i for i, b in enumerate(reserved) if b)
            self.fail("MV2-E-HDR-RESERVED", DATA_FIELDS_END + first, "header reserved bytes are not zero")
        if s.toc["toc_version"] != 0:
            self.fail("MV2-E-UNSUPPORTED", c.toc_offset, f"toc_version {s.toc['toc_version']} (only 0 is defined)")

    def wal_checkpoint(self) -> None:
        h, wal = self.s.header, self.s.wal
        problem = checkpoint_problem(h, wal) if not self.s.header_stale else None
        if problem:
            self.fail(*problem)
        if wal.torn is not None:
            pos, reason = wal.torn
            self.warn("MV2-W-NEEDS-RECOVERY", h["wal_offset"] + pos,
                      f"the WAL ends in an append that never completed ({reason}): a writer crashed. Every "
                      "acknowledged record before it is intact; `mv2 recover FILE` drops the torn bytes")
        else:
            last = wal.records[-1].sequence if wal.records else h["wal_sequence"]
            hidden = intact_records_after(wal_region(self.src, h), wal.head + 1, h["wal_size"], max(last, h["wal_sequence"]), limit=1)
            if hidden:
                self.warn("MV2-W-WAL-HIDDEN", h["wal_offset"] + hidden[0],
                          "an intact WAL record with a sequence past the checkpoint lies after the sentinel: an append "
                          "that never completed, or a sentinel written over acknowledged records (spec 7.1)")
        for r in wal.records:
            self.region(f"WAL record seq {r.sequence}", "wal-record", h["wal_offset"] + r.offset,
                        WAL_RECORD_HEADER_SIZE + r.length, "record BLAKE3").status = "ok"

    def frames(self) -> None:
        # The reader has checked the committed frames; pending records add frames and links.
        frames = [fr.fields for fr in self.s.frames]
        try:
            check_frame_links(frames, self.s.commit.toc_offset)
        except CorruptFileError as exc:
            self.fail(exc.code, exc.offset, exc.message)
            return
        # R-FRM-003: a superseded frame names its replacement, which names it back; only a
        # superseded frame names a replacement (a tombstone clears the link, 4.6).
        for f in frames:
            sb = f["superseded_by"]
            if f["status"] == "superseded" and (sb is None or frames[sb]["supersedes"] != f["id"]):
                self.fail("MV2-E-TOC-LINK", self.s.commit.toc_offset,
                          f"frame {f['id']} is superseded, but superseded_by = {sb} does not name a frame that supersedes it")
                return
            if sb is not None and f["status"] != "superseded":
                self.fail("MV2-E-TOC-LINK", self.s.commit.toc_offset,
                          f"frame {f['id']} is {f['status']} but names superseded_by = {sb}")
                return

    # -- regions -------------------------------------------------------------------------------
    # Regions a reader reads. Mirrors (index_segments) are checked separately; replay and legacy
    # segments carry no checksum. Zero-length payloads, vector, clip and track segments are
    # placeholders (memvid points them anywhere), so they are not regions.
    _NOT_READ = frozenset({"mirror", "replay", "legacy"})
    _PLACEHOLDER_KINDS = frozenset({"payload", "vec", "clip", "time", "temporal", "memories", "logic-mesh", "sketch"})

    def _authoritative(self) -> list[tuple[str, str, int, int, bytes, str]]:
        """(name, kind, offset, length, checksum, covered_by) of every region a reader may read."""
        committed = [fr.fields for fr in self.s.frames if not fr.pending]
        return [(r.name, r.kind, r.offset, r.length, r.checksum, r.covered_by)
                for r in toc_references(self.s.toc, frames=committed)
                if r.kind not in self._NOT_READ and (r.length or r.kind not in self._PLACEHOLDER_KINDS)]

    def regions_and_checksums(self) -> None:
        lo, hi = self.s.data_start, self.s.commit.toc_offset
        regs: dict[tuple[int, int, bytes], Region] = {}
        to_hash: list[Region] = []
        for name, kind, off, ln, ck, cov in self._authoritative():
            key = (off, ln, bytes(ck))
            if key in regs:  # the same bytes listed twice (mirrors, shared payloads)
                continue
            r = self.region(name, kind, off, ln, cov, bytes(ck))
            regs[key] = r
            if not (lo <= off and off + ln <= hi):
                r.status = "bad"
                continue
            to_hash.append(r)
        self._hash_regions(to_hash)
        good = [r for r in regs.values() if r.status == "ok"]
        for r in regs.values():
            if r.status != "bad":
                continue
            inside = lo <= r.offset and r.end <= hi
            # Only index manifests go stale (memvid rewrites indexes and leaves old manifests);
            # a frame's payload is immutable, so a payload that fails its checksum is damage.
            overlapped = r.kind != "payload" and lo <= r.offset < hi and any(g.offset < r.end and r.offset < g.end for g in good)
            if not inside and not overlapped:
                self.fail("MV2-E-SEG-BOUNDS", r.offset,
                          f"{r.name} [{r.offset}, {r.end}) lies outside the data area [{lo}, {hi})")
            elif overlapped:
                # The manifest points at bytes a later commit reused or moved (memvid-sdk
                # leaves such manifests after WAL growth or rebuilds); memvid treats the index
                # as absent, and so do we.
                r.status = "stale"
                self.warn("MV2-W-STALE-MANIFEST", r.offset, f"{r.name} [{r.offset}, {r.end}) points at bytes another structure owns; treated as absent")
            else:
                code = "MV2-E-FRAME-HASH" if r.kind == "payload" else "MV2-E-SEG-HASH"
                self.fail(code, r.offset, f"{r.name}: BLAKE3 of [{r.offset}, {r.end}) does not match {r.covered_by}")
        good.sort(key=lambda r: (r.offset, r.end))
        for prev, cur in zip(good, good[1:]):
            if cur.offset < prev.end:
                self.fail("MV2-E-SEG-OVERLAP", cur.offset, f"{cur.name} [{cur.offset}, {cur.end}) overlaps {prev.name} [{prev.offset}, {prev.end})")
        self.live = {r.name: r for r in good}
        self.stale_names = {r.name for r in regs.values() if r.status == "stale"}
        # index_segments mirrors the catalog lists; memvid never reads it. A differing entry
        # is a stale mirror, not a problem with any bytes a reader uses.
        cat = self.s.toc["segment_catalog"]
        catalog = {}
        for key in ("lex_segments", "vec_segments", "time_segments", "temporal_segments"):
            for x in cat[key]:
                catalog[x["common"]["segment_id"]] = x["common"]
        stale = [x for x in cat["index_segments"] if catalog.get(x["common"]["segment_id"]) != x["common"]]
        if stale:
            self.warn("MV2-W-STALE-MIRROR", self.s.commit.toc_offset,
                      f"{len(stale)} of {len(cat['index_segments'])} index_segments entries differ from the catalog they mirror")

    WINDOW = 8 << 20

    def _hash_regions(self, regions: list[Region]) -> None:
        """Set each region's status by its BLAKE3. Regions are taken in file order and read a
        window of up to 8 MiB at a time, each hashed from a view of it: a file of 100,000
        payloads costs a few dozen reads and no per-payload read call. A window is read only
        where the regions fill at least half of it; a large region is hashed in chunks."""
        src = self.src
        todo = sorted(regions, key=lambda r: (r.offset, r.length))
        i = 0
        while i < len(todo):
            r = todo[i]
            if r.length > self.WINDOW // 2:
                r.status = "ok" if src.blake3(r.offset, r.length, what=r.name) == r.checksum else "bad"
                i += 1
                continue
            j, end, used = i, r.offset, 0
            while j < len(todo) and todo[j].length <= self.WINDOW // 2 and todo[j].end - r.offset <= self.WINDOW:
                end = max(end, todo[j].end)
                used += todo[j].length
                j += 1
            if j - i > 1 and 2 * used >= end - r.offset:
                view = memoryview(src.read_span(r.offset, end - r.offset, what="payloads"))
                for x in todo[i:j]:
                    a = x.offset - r.offset
                    x.status = "ok" if digest(view[a:a + x.length]) == x.checksum else "bad"
            else:
                for x in todo[i:j]:
                    x.status = "ok" if src.blake3(x.offset, x.length, what=x.name) == x.checksum else "bad"
            i = j

    def _bytes(self, name: str):
        r = self.live.get(name)
        return None if r is None else self.src.view(r.offset, r.length, what=name)

    def _track(self, key: str, name: str):
        """(manifest, bytes) of a track the TOC lists under ``key`` whose checksum matched, else None."""
        m = self.s.toc.get(key)
        data = None if m is None else self._bytes(name)
        return None if data is None else (m, data)

    def time_index(self) -> None:
        found = self._track("time_index", "time index")
        if found is None:
            return
        m, data = found
        off = m["bytes_offset"]
        if len(data) < TIME_HEADER_SIZE or bytes(data[:4]) != TIME_MAGIC:
            self.fail("MV2-E-TIME-DECODE", off, "time index does not start with MVTI and a count")
            return
        count = int.from_bytes(data[4:12], "little")
        if len(data) != TIME_HEADER_SIZE + TIME_ENTRY_SIZE * count or count != m["entry_count"]:
            self.fail("MV2-E-TIME-DECODE", off, f"time index count {count} disagrees with its length {len(data)} or the manifest's {m['entry_count']}")
            return
        entries = decode_entries(data)
        if not is_sorted(entries):
            self.fail("MV2-E-TIME-ORDER", off, "time index entries are not sorted by (timestamp, frame_id)")
        expect = np.array(sorted((f["timestamp"], f["id"]) for f in self.s.committed_frames
                                 if f["status"] == "active" and f["role"] == "document"), dtype=ENTRY_DTYPE)
        if not np.array_equal(np.sort(entries, order=("timestamp", "frame_id")), expect):
            self.fail("MV2-E-TIME-MISMATCH", off, f"time index holds {len(entries)} entries; the TOC has {len(expect)} active documents, or their timestamps differ")

    def lex_lists(self) -> None:
        t = self.s.toc
        a = [(x["path"], x["bytes_offset"], x["bytes_length"], bytes(x["checksum"])) for x in t["indexes"]["lex_segments"]]
        b = [(x["path"], x["common"]["bytes_offset"], x["common"]["bytes_length"], bytes(x["common"]["checksum"]))
             for x in t["segment_catalog"]["tantivy_segments"]]
        if b and sorted(a) != sorted(b):
            self.fail("MV2-E-LEX-MISMATCH", self.s.commit.toc_offset, "indexes.lex_segments and segment_catalog.tantivy_segments list different Tantivy files")
        paths = [p for p, *_ in a]
        if len(set(paths)) != len(paths):
            self.fail("MV2-E-LEX-MISMATCH", self.s.commit.toc_offset, "a Tantivy file path is listed twice")
        bad = [p for p in paths if not is_plain_file_name(p)]
        if bad:
            self.fail("MV2-E-LEX-FILES", self.s.commit.toc_offset, f"Tantivy file name {bad[0]!r} is not a plain file name")
            return
        meta = next(((off, ln) for p, off, ln, _ in a if p == "meta.json"), None)
        if meta is not None and "tantivy meta.json" not in self.live:
            return  # its checksum failed (reported) or it is stale: nothing more to say about it
        problem = tantivy_directory_problem(paths, None if meta is None else bytes(self.src.view(*meta, what="meta.json")))
        if problem:
            self.fail("MV2-E-LEX-FILES", self.s.commit.toc_offset, problem)

    def sketch(self) -> None:
        found = self._track("sketch_track", "sketch track")
        if found is None:
            return
        m, data = found
        off = m["bytes_offset"]
        if len(data) < SKETCH_HEADER_SIZE:
            self.fail("MV2-E-SEG-DECODE", off, "sketch track shorter than its header")
            return
        hdr = SketchHeader.parse(data)
        if hdr.magic != SKETCH_MAGIC or hdr.entry_size == 0 or len(data) != SKETCH_HEADER_SIZE + hdr.entry_size * hdr.entry_count \
                or hdr.entry_count != m["entry_count"] or hdr.entry_size != m["entry_size"]:
            self.fail("MV2-E-SEG-DECODE", off, "sketch track header disagrees with its manifest or length")
            return
        committed = [fr for fr in self.s.frames if not fr.pending]
        if hdr.entry_count != len(committed):
            self.warn("MV2-W-SKETCH-STALE", off, f"sketch track has {hdr.entry_count} entries for {len(committed)} frames; memvid's search pre-filter will misattribute entries")
            return
        if not self.deep or hdr.entry_size != SKETCH_SMALL:
            return  # only the small entry's computation is specified (9.3)
        # R-SKT-003: entry k is computed from frame k's text. Entries are computed many frames
        # at a time; a frame whose text cannot be read ends the batch, and its error is raised
        # only after the entries before it are compared, as a frame-by-frame check would.
        k = 0
        while k < len(committed):
            texts, chars, unreadable = [], 0, None
            try:
                for fr in committed[k:]:
                    texts.append(frame_text(self.s, fr))
                    chars += len(texts[-1] or "")
                    if chars >= SKETCH_BATCH_CHARS:
                        break
            except MV2Error as exc:
                unreadable = exc
            at = SKETCH_HEADER_SIZE + SKETCH_SMALL * k
            got = b"".join(sketch_entries(texts))
            stored = bytes(data[at:at + len(got)])
            if got != stored:
                pair = np.frombuffer(got + stored, dtype=np.uint8).reshape(2, -1, SKETCH_SMALL)
                j = int(np.flatnonzero((pair[0] != pair[1]).any(axis=1))[0])
                self.fail("MV2-E-SKETCH-MISMATCH", off + at + SKETCH_SMALL * j,
                          f"sketch entry {k + j} is not the entry computed from frame {committed[k + j].id}'s text")
                return
            if unreadable is not None:
                raise unreadable
            k += len(texts)

    def memories(self) -> None:
        found = self._track("memories_track", "memories track")
        if found is None:
            return
        m, data = found
        off = m["bytes_offset"]
        try:
            doc = decode_memories(data, offset=off)
        except CorruptFileError as exc:
            self.fail(exc.code, exc.offset, exc.message)
            return
        if len(doc["cards"]) != m["card_count"]:
            self.fail("MV2-E-SEG-DECODE", off, f"memories track holds {len(doc['cards'])} cards; its manifest says {m['card_count']}")

    def vec_and_catalog(self) -> None:
        t = self.s.toc
        vm = t["indexes"].get("vec")
        if vm is not None and vm["bytes_length"]:
            data = self._bytes("vec index")
            if data is not None:
                self._decode_vec(bytes(data), vm["bytes_offset"], vm["vector_count"], vm["dimension"],
                                 vm["compression_mode"])
        elif vm is not None and bytes(vm["checksum"]) not in (EMPTY_BLAKE3, EMPTY_SHA256):
            self.fail("MV2-E-SEG-HASH", self.s.commit.toc_offset, "empty vec index placeholder carries a checksum other than the empty-input hash")
        cat = t["segment_catalog"]
        for x in cat["vec_segments"]:
            c = x["common"]
            data = self._bytes(f"catalog-vec segment {c['segment_id']}")
            if data is not None:
                self._decode_vec(bytes(data), c["bytes_offset"], x["vector_count"], x["dimension"],
                                 x["vector_compression"])
        for x in cat["lex_segments"]:
            c = x["common"]
            data = self._bytes(f"catalog-lex segment {c['segment_id']}")
            if data is not None:
                docs = decode_exact(CatalogLexSegment, bytes(data), base_offset=c["bytes_offset"],
                                    what="catalog lex segment", default_code="MV2-E-SEG-DECODE")
                if len(docs) != x["doc_count"]:
                    self.fail("MV2-E-SEG-DECODE", c["bytes_offset"], f"catalog lex segment holds {len(docs)} documents, its descriptor says {x['doc_count']}")
        for x in cat["time_segments"]:
            c = x["common"]
            data = self._bytes(f"catalog-time segment {c['segment_id']}")
            if data is not None:
                if bytes(data[:4]) != TIME_MAGIC or len(data) != TIME_HEADER_SIZE + TIME_ENTRY_SIZE * int.from_bytes(data[4:12], "little") \
                        or int.from_bytes(data[4:12], "little") != x["entry_count"]:
                    self.fail("MV2-E-SEG-DECODE", c["bytes_offset"], "catalog time segment is not a well-formed MVTI block matching its descriptor")

    def _decode_vec(self, data: bytes, off: int, count: int, dim: int, compression: str = "none") -> None:
        try:
            seg = decode_vec_segment(data, offset=off)
        except CorruptFileError:
            if compression != "pq96":
                raise
            # memvid stores most "pq96" indexes uncompressed (fewer than 100 vectors) and tries
            # that form first; a body in the product-quantised form is not specified (appendix B).
            self.fail("MV2-E-UNSUPPORTED", off, "vector index in the product-quantised (pq96) form, which this "
                      "version of the specification does not describe")
            return
        if len(seg) != count or (len(seg) and seg.dimension != dim):
            self.fail("MV2-E-SEG-DECODE", off, f"vec index holds {len(seg)} vectors of dimension "
                      f"{seg.dimension}, its manifest says {count} of {dim}")

    def payload_decoding(self) -> None:
        if not self.deep:
            return
        for fr in self.s.frames:
            f = fr.fields
            name = f"payload frame {f['id']}"
            if not fr.pending and f["payload_length"] and name not in self.live:
                continue  # its checksum already failed
            try:
                for _ in self.s.iter_canonical(fr, check=False):  # its checksum was checked above
                    pass
            except CorruptFileError as exc:
                self.fail(exc.code, exc.offset, exc.message)

    def gaps(self) -> None:
        """Name every byte of the data area that no live structure claims."""
        lo, hi = self.s.data_start, self.s.commit.toc_offset
        claimed = sorted((r.offset, r.end) for r in self.a.regions if r.status == "ok" and lo <= r.offset < hi)
        pos = lo
        for a, b in claimed:
            if a > pos:
                self.region("unreferenced", "gap", pos, a - pos, "nothing").status = "uncovered"
            pos = max(pos, b)
        if hi > pos:
            self.region("unreferenced", "gap", pos, hi - pos, "nothing").status = "uncovered"


def analyze(path_or_source, *, deep: bool = True, keep_snapshot: bool = False) -> Analysis:
    """Run every check; the returned analysis holds the verdict, warnings and region map.

    With ``keep_snapshot`` the decoded snapshot stays open on ``analysis.snapshot`` (the
    caller closes it); otherwise the file is closed before returning.
    """
    owned = not isinstance(path_or_source, Source)
    v = _Verifier(path_or_source, deep=deep)
    with paused_gc():  # a region and a finding per frame: no cycles, many allocations
        a = v.run()
    if not keep_snapshot:
        a.snapshot = None
        if owned:
            v.src.close()
    return a


def verify(path) -> Analysis:
    return analyze(path)
