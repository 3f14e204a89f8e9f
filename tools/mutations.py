"""The negative vectors: named, reproducible ways to break a valid file, each with the error it must raise.

Each :class:`Case` names a base file (a gold file written by memvid-sdk), a recipe that breaks
exactly one rule while keeping every other checksum right, the error code a conforming
verifier must report, and, where the rule pins it down, the byte offset. The cases are
written as hypotheses about implementer mistakes (WebAssembly's ``binary.wast`` and
Wycheproof do the same), not as random damage: random damage is the fuzzer's job.

``tools/gen_vectors.py`` writes the cases to ``vectors/invalid/``; the reference tests check
every case directly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import blake3

import crafting as C

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "vectors" / "gold"
BASES = {
    "single-160": GOLD / "memvid-sdk-2.0.160" / "single.mv2",
    "single-123": GOLD / "memvid-sdk-2.0.123" / "single.mv2",
    "deleted-160": GOLD / "memvid-sdk-2.0.160" / "deleted.mv2",
    "vectors8-160": GOLD / "memvid-sdk-2.0.160" / "vectors-8d.mv2",
    "cards-160": GOLD / "memvid-sdk-2.0.160" / "memory-cards.mv2",
}


@dataclass
class Case:
    id: str  # <area>.<feature>.<nnn>, never reused
    base: str
    description: str
    code: str
    recipe: Callable[[bytes], bytes]
    offset: Callable[[bytes], int] | None = None  # offset the error must name, computed from the base
    requirements: list[str] = field(default_factory=list)

    def build(self) -> bytes:
        return self.recipe(BASES[self.base].read_bytes())


def toc_span(data: bytes) -> tuple[int, int]:
    toc, rev, off, gen, _ = C.parts(data)
    return off, len(data) - 56 - off


def _toc_bytes(data):
    off, n = toc_span(data)
    return bytearray(data[off:off + n])


def _with_toc(data, toc):
    return C.replace_toc_bytes(data, bytes(toc), fix_checksum_field=True)


def _first_wal(data):
    return C.wal_records(data)[0]


def _swap_metadata(data):
    toc = bytes(_toc_bytes(data))
    a = toc.index(struct.pack("<Q", 19) + b"extractous_metadata")
    b = toc.index(struct.pack("<Q", 6) + b"source")
    end = b + 8 + 6 + 8 + struct.unpack_from("<Q", toc, b + 14)[0]
    return _with_toc(data, toc[:a] + toc[b:end] + toc[a:b] + toc[end:])


def _misordered_key(data):
    """Offset of the key that breaks the order after :func:`_swap_metadata`: ``extractous_metadata``,
    now after ``source`` (the error names the first byte of the offending key's length)."""
    off, _ = toc_span(data)
    toc = bytes(_toc_bytes(data))
    a = toc.index(struct.pack("<Q", 19) + b"extractous_metadata")
    b = toc.index(struct.pack("<Q", 6) + b"source")
    end = b + 8 + 6 + 8 + struct.unpack_from("<Q", toc, b + 14)[0]
    return off + a + (end - b)


def _sketch_entry_changed(data):
    """The first sketch entry's simhash changed, the track's checksum made to match."""
    m = C.parts(data)[0]["sketch_track"]
    off, n = m["bytes_offset"], m["bytes_length"]
    seg = bytearray(data[off:off + n])
    seg[24] ^= 0x01
    data = C.set_bytes(data, off, bytes(seg))
    return C.rewrite_toc(data, lambda t: t["sketch_track"].__setitem__("checksum", blake3.blake3(bytes(seg)).digest()))


def _supersede_without_link(toc):
    """Frame 0 says it is superseded by itself: a link that does not point back."""
    toc["frames"][0]["status"] = "superseded"
    toc["frames"][0]["superseded_by"] = 0


def _catalog_lex(data):
    return C.parts(data)[0]["segment_catalog"]["lex_segments"][0]["common"]


def _undecodable_catalog_lex(data):
    """A catalog lexical segment whose document count is absurd, its checksum made to match."""
    import blake3

    c = _catalog_lex(data)
    off, n = c["bytes_offset"], c["bytes_length"]
    body = struct.pack("<Q", 1 << 60) + data[off + 8:off + n]
    data = C.set_bytes(data, off, body)
    return C.rewrite_toc(data, lambda t: t["segment_catalog"]["lex_segments"][0]["common"].__setitem__(
        "checksum", blake3.blake3(body).digest()))


def _memories(data):
    return C.parts(data)[0]["memories_track"]


def _memories_version_2(data):
    """The memories track header says version 2; the track's checksum is made to match."""
    m = _memories(data)
    off, n = m["bytes_offset"], m["bytes_length"]
    body = data[off:off + 4] + struct.pack("<H", 2) + data[off + 6:off + n]
    data = C.set_bytes(data, off, body)
    return C.rewrite_toc(data, lambda t: t["memories_track"].__setitem__("checksum", blake3.blake3(body).digest()))


def _rename_tantivy_file(toc):
    for x in toc["indexes"]["lex_segments"]:
        if x["path"] == "meta.json":
            x["path"] = "../escape"
    for x in toc["segment_catalog"]["tantivy_segments"]:
        if x["path"] == "meta.json":
            x["path"] = "../escape"


def _drop_store_file(toc):
    ix, cat = toc["indexes"], toc["segment_catalog"]
    ix["lex_segments"] = [x for x in ix["lex_segments"] if not x["path"].endswith(".store")]
    cat["tantivy_segments"] = [x for x in cat["tantivy_segments"] if not x["path"].endswith(".store")]


def _corrupt_newer_commit(data):
    off = struct.unpack_from("<Q", data, 8)[0]
    newer = bytearray(data[off:])
    newer[10] ^= 0x40
    return data + bytes(newer)


def _overlap(data):
    def f(toc):
        lex = toc["indexes"]["lex_segments"][2]
        t = toc["time_index"]
        t["bytes_offset"] = lex["bytes_offset"] + 1
        t["checksum"] = blake3.blake3(data[t["bytes_offset"]:t["bytes_offset"] + t["bytes_length"]]).digest()
    return C.rewrite_toc(data, f)


def _bad_zstd(data):
    with_frame = C.parts(data)[0]["frames"][0]
    garbage = b"\x28\xb5\x2f\xfd" + b"\xff" * (with_frame["payload_length"] - 4)
    data = C.set_bytes(data, with_frame["payload_offset"], garbage)

    def f(toc):
        toc["frames"][0]["checksum"] = blake3.blake3(garbage).digest()
    return C.rewrite_toc(data, f)


def _time_swapped(data):
    m = C.parts(data)[0]["time_index"]
    off = m["bytes_offset"]
    seg = bytearray(data[off:off + m["bytes_length"]])
    seg[12:28], seg[28:44] = seg[28:44], seg[12:28]
    data = C.set_bytes(data, off, bytes(seg))

    def f(toc):
        toc["time_index"]["checksum"] = blake3.blake3(bytes(seg)).digest()
    return C.rewrite_toc(data, f)


def _pending_tombstone_of_missing_frame(data):
    from mv2.format.wal import WalEntry, WalRecordHeader

    recs = C.wal_records(data)
    end = recs[-1][0] + 48 + recs[-1][2]
    entry = {"variant": "frame", "value": {
        "timestamp": 0, "kind": None, "track": None, "payload": b"", "embedding": None, "uri": None, "title": None,
        "canonical_encoding": "plain", "canonical_length": None, "metadata": None, "search_text": None, "tags": [],
        "labels": [], "extra_metadata": {}, "content_dates": [], "chunk_manifest": None, "role": "document",
        "parent_sequence": None, "chunk_index": None, "chunk_count": None, "op": "tombstone", "target_frame_id": 42,
        "supersedes_frame_id": None, "reuse_payload_from": None, "source_sha256": None, "source_path": None,
        "enrichment_state": "searchable"}}
    payload = WalEntry.build(entry)
    header = WalRecordHeader.build(dict(sequence=recs[-1][1] + 1, length=len(payload), reserved=0,
                                        checksum=blake3.blake3(payload).digest()))
    return C.set_bytes(data, 4096 + end, header + payload)


def _wal_end(data):
    r = C.wal_records(data)[-1]
    return 4096 + r[0] + 48 + r[2]


def _edit(fn):
    """A recipe that edits the decoded TOC with ``fn`` and re-encodes it consistently."""
    return lambda data: C.rewrite_toc(data, fn)


def _set(path, value):
    def f(toc):
        obj = toc
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


def _pop_tantivy(toc):
    toc["segment_catalog"]["tantivy_segments"].pop()


def _lex_file(data, i):
    return C.parts(data)[0]["indexes"]["lex_segments"][i]


def _frame0(data):
    return C.parts(data)[0]["frames"][0]


CASES: list[Case] = [
    # header
    Case("header.magic.001", "single-160", "magic with a wrong last byte", "MV2-E-HDR-MAGIC",
         lambda d: C.set_bytes(d, 0, b"MV2\x01"), lambda d: 0, ["R-HDR-002"]),
    Case("header.magic.002", "single-160", "magic byte-swapped (the other endianness)", "MV2-E-HDR-MAGIC",
         lambda d: C.set_bytes(d, 0, b"\x002VM"), lambda d: 0, ["R-HDR-002"]),
    Case("header.magic.003", "single-160", "magic in lower case", "MV2-E-HDR-MAGIC",
         lambda d: C.set_bytes(d, 0, b"mv2\x00"), lambda d: 0, ["R-HDR-002"]),
    Case("header.version.001", "single-160", "version 0x0102 (spec bytes swapped)", "MV2-E-HDR-VERSION",
         lambda d: C.set_bytes(d, 4, b"\x02\x01"), lambda d: 4, ["R-HDR-003"]),
    Case("header.version.002", "single-160", "spec minor 0", "MV2-E-HDR-VERSION",
         lambda d: C.set_bytes(d, 7, b"\x00"), lambda d: 4, ["R-HDR-003"]),
    Case("header.wal.001", "single-160", "wal_offset 0", "MV2-E-HDR-WAL",
         lambda d: C.set_bytes(d, 16, struct.pack("<Q", 0)), lambda d: 16, ["R-HDR-004"]),
    Case("header.wal.002", "single-160", "wal_size 7, smaller than a record header", "MV2-E-HDR-WAL",
         lambda d: C.set_bytes(d, 24, struct.pack("<Q", 7)), lambda d: 24, ["R-HDR-004"]),
    Case("header.wal.003", "single-160", "wal_size 2^62", "MV2-E-HDR-WAL",
         lambda d: C.set_bytes(d, 24, struct.pack("<Q", 1 << 62)), lambda d: 24, ["R-HDR-004"]),
    Case("header.reserved.001", "single-160", "a reserved header byte set (in memvid's legacy lock area)",
         "MV2-E-HDR-RESERVED", lambda d: C.set_bytes(d, 100, b"\x01"), lambda d: 100, ["R-HDR-009"]),
    Case("header.tocptr.001", "single-160", "footer_offset points elsewhere", "MV2-E-HDR-TOC-PTR",
         lambda d: C.set_bytes(d, 8, struct.pack("<Q", 70000)), lambda d: 8, ["R-HDR-007"]),
    Case("header.tochash.001", "single-160", "header copy of toc_checksum differs", "MV2-E-HDR-TOC-HASH",
         lambda d: C.flip(d, 60), lambda d: 48, ["R-HDR-008"]),
    Case("header.checkpoint.001", "single-160", "wal_checkpoint_pos inside a record", "MV2-E-HDR-CHECKPOINT",
         lambda d: C.set_bytes(d, 32, struct.pack("<Q", _first_wal(d)[0] + 3)), lambda d: 32, ["R-HDR-005", "R-WAL-008"]),
    Case("header.checkpoint.002", "single-160", "wal_sequence not the last checkpointed record", "MV2-E-HDR-CHECKPOINT",
         lambda d: C.set_bytes(d, 40, struct.pack("<Q", 7)), lambda d: 40, ["R-WAL-008"]),
    # file
    Case("file.short.001", "single-160", "4000 bytes: shorter than a header", "MV2-E-FILE-SHORT",
         lambda d: d[:4000], lambda d: 4000, ["R-VFY-003"]),
    Case("file.truncated.001", "single-160", "ends inside the WAL region", "MV2-E-FILE-TRUNCATED",
         lambda d: d[:30000], lambda d: 30000, ["R-VFY-003"]),
    Case("file.truncated.002", "single-160", "ends inside the data area: no footer", "MV2-E-FTR-MISSING",
         lambda d: d[:75000], lambda d: 75000, ["R-VFY-003"]),
    Case("file.trailing.001", "single-160", "ten zero bytes after the last footer", "MV2-E-FILE-TRAILING",
         lambda d: d + bytes(10), lambda d: len(d), ["R-FTR-005"]),
    # footer
    Case("footer.hash.001", "single-160", "a newer commit appended, then damaged; the older commit is intact",
         "MV2-E-FTR-HASH", _corrupt_newer_commit, lambda d: len(_corrupt_newer_commit(d)) - 56, ["R-FTR-004", "R-FTR-005"]),
    Case("footer.length.001", "single-160", "toc_len 2^40 in the last footer", "MV2-E-FTR-LENGTH",
         lambda d: C.set_bytes(d, len(d) - 48, struct.pack("<Q", 1 << 40)), lambda d: len(d) - 56, ["R-FTR-003"]),
    # TOC
    Case("toc.checksum.001", "single-160", "toc_checksum field wrong (footer hash right)", "MV2-E-TOC-HASH",
         lambda d: C.replace_toc_bytes(d, bytes(_toc_bytes(d)[:-1]) + bytes([_toc_bytes(d)[-1] ^ 1])),
         lambda d: sum(toc_span(d)) - 32, ["R-TOC-003", "R-SUM-003"]),
    Case("toc.length.001", "single-160", "frame count 2^63 - 1", "MV2-E-TOC-LENGTH",
         lambda d: _with_toc(d, _toc_bytes(d)[:16] + struct.pack("<Q", (1 << 63) - 1) + _toc_bytes(d)[24:]),
         lambda d: toc_span(d)[0] + 16, ["R-ENC-005"]),
    Case("toc.utf8.001", "single-160", "a URI byte replaced by 0xFF", "MV2-E-TOC-UTF8",
         lambda d: _with_toc(d, (lambda t: t.__setitem__(bytes(t).index(b"mv2://profile/allergy") + 3, 0xFF) or t)(_toc_bytes(d))),
         lambda d: toc_span(d)[0] + bytes(_toc_bytes(d)).index(b"mv2://profile/allergy") + 3, ["R-ENC-003"]),
    Case("toc.value.001", "single-160", "an Option tag of 2", "MV2-E-TOC-VALUE",
         lambda d: _with_toc(d, (lambda t: t.__setitem__(40, 2) or t)(_toc_bytes(d))), lambda d: toc_span(d)[0] + 40, ["R-ENC-002"]),
    Case("toc.value.002", "single-160", "an enum index with no variant", "MV2-E-TOC-VALUE",
         lambda d: _with_toc(d, (lambda t: t.__setitem__(bytes(t).index(b"Allergy") + 7, 9) or t)(_toc_bytes(d))), lambda d: toc_span(d)[0] + bytes(_toc_bytes(d)).index(b"Allergy") + 7, ["R-ENC-002"]),
    Case("toc.order.001", "single-160", "extra_metadata keys out of order", "MV2-E-TOC-ORDER",
         _swap_metadata, _misordered_key, ["R-ENC-004"]),
    Case("toc.trailing.001", "single-160", "one byte between the TOC value and its checksum", "MV2-E-TOC-TRAILING",
         lambda d: _with_toc(d, _toc_bytes(d)[:-32] + b"\x00" + _toc_bytes(d)[-32:]), lambda d: sum(toc_span(d)), ["R-ENC-006"]),
    Case("toc.version.001", "single-160", "toc_version 3", "MV2-E-UNSUPPORTED",
         _edit(_set(["toc_version"], 3)), lambda d: toc_span(d)[0], ["R-TOC-002"]),
    Case("toc.frameid.001", "single-160", "frames[0].id is 5", "MV2-E-TOC-FRAME-ID",
         _edit(_set(["frames", 0, "id"], 5)), lambda d: toc_span(d)[0], ["R-FRM-001"]),
    Case("toc.ref.001", "single-160", "a frame supersedes frame 99, which does not exist", "MV2-E-TOC-REF",
         _edit(_set(["frames", 0, "supersedes"], 99)), lambda d: toc_span(d)[0], ["R-FRM-002"]),
    Case("toc.link.001", "single-160", "a frame superseded by a frame that does not supersede it", "MV2-E-TOC-LINK",
         _edit(_supersede_without_link), lambda d: toc_span(d)[0], ["R-FRM-003"]),
    # segments and payloads
    Case("segment.bounds.001", "single-160", "the time index lies past the end of the file", "MV2-E-SEG-BOUNDS",
         lambda d: C.rewrite_toc(d, _set(["time_index", "bytes_offset"], len(d) + 100)), lambda d: len(d) + 100, ["R-SEG-001"]),
    Case("segment.bounds.002", "single-160", "the time index lies inside the WAL region", "MV2-E-SEG-BOUNDS",
         lambda d: C.rewrite_toc(d, _set(["time_index", "bytes_offset"], 5000)), lambda d: 5000, ["R-SEG-001"]),
    Case("segment.overlap.001", "single-160", "the time index overlaps a Tantivy file (both checksums right)",
         "MV2-E-SEG-OVERLAP", _overlap, lambda d: _lex_file(d, 2)["bytes_offset"] + 1, ["R-SEG-002"]),
    Case("segment.hash.001", "single-160", "a Tantivy file byte flipped", "MV2-E-SEG-HASH",
         lambda d: C.flip(d, _lex_file(d, 3)["bytes_offset"] + 5), lambda d: _lex_file(d, 3)["bytes_offset"], ["R-SUM-002"]),
    Case("frame.hash.001", "single-123", "a payload byte flipped", "MV2-E-FRAME-HASH",
         lambda d: C.flip(d, _frame0(d)["payload_offset"] + 2), lambda d: _frame0(d)["payload_offset"], ["R-FRM-005"]),
    Case("frame.decode.001", "single-123", "a zstd payload that does not decode (checksum right)", "MV2-E-FRAME-DECODE",
         _bad_zstd, lambda d: _frame0(d)["payload_offset"], ["R-FRM-006"]),
    Case("frame.decode.002", "single-123", "canonical_length one more than the decoded length", "MV2-E-FRAME-DECODE",
         lambda d: C.rewrite_toc(d, lambda t: t["frames"][0].__setitem__("canonical_length", t["frames"][0]["canonical_length"] + 1)),
         lambda d: _frame0(d)["payload_offset"], ["R-FRM-007"]),
    Case("time.order.001", "deleted-160", "two time-index entries swapped (checksum right)", "MV2-E-TIME-ORDER",
         _time_swapped, lambda d: C.parts(d)[0]["time_index"]["bytes_offset"], ["R-TIME-002"]),
    Case("time.decode.001", "single-160", "entry_count disagrees with the segment", "MV2-E-TIME-DECODE",
         lambda d: C.rewrite_toc(d, _set(["time_index", "entry_count"], 2)), lambda d: C.parts(d)[0]["time_index"]["bytes_offset"], ["R-TIME-001"]),
    Case("time.mismatch.001", "single-160", "the only frame deleted but still in the time index", "MV2-E-TIME-MISMATCH",
         _edit(_set(["frames", 0, "status"], "deleted")), lambda d: C.parts(d)[0]["time_index"]["bytes_offset"], ["R-TIME-003"]),
    Case("lex.mismatch.001", "single-160", "the two Tantivy file lists differ", "MV2-E-LEX-MISMATCH",
         lambda d: C.rewrite_toc(d, _pop_tantivy), lambda d: toc_span(d)[0], ["R-TOC-004"]),
    Case("lex.files.001", "single-160", "a Tantivy file named ../escape in both lists (checksums right)", "MV2-E-LEX-FILES",
         lambda d: C.rewrite_toc(d, _rename_tantivy_file), lambda d: toc_span(d)[0], ["R-LEX-006"]),
    Case("lex.files.002", "single-160", "a segment's .store file dropped from both lists (meta.json still names it)",
         "MV2-E-LEX-FILES", lambda d: C.rewrite_toc(d, _drop_store_file), lambda d: toc_span(d)[0], ["R-LEX-006"]),
    Case("sketch.decode.001", "single-160", "sketch entry_count disagrees with the segment", "MV2-E-SEG-DECODE",
         lambda d: C.rewrite_toc(d, _set(["sketch_track", "entry_count"], 7)), lambda d: C.parts(d)[0]["sketch_track"]["bytes_offset"], ["R-SKT-001"]),
    Case("sketch.mismatch.001", "single-160", "a sketch entry that is not computed from its frame's text (checksum right)",
         "MV2-E-SKETCH-MISMATCH", _sketch_entry_changed, lambda d: C.parts(d)[0]["sketch_track"]["bytes_offset"] + 24,
         ["R-SKT-003"]),
    Case("vec.decode.001", "vectors8-160", "a catalog vec segment's vector_count off by one", "MV2-E-SEG-DECODE",
         lambda d: C.rewrite_toc(d, lambda t: t["segment_catalog"]["vec_segments"][0].__setitem__(
             "vector_count", t["segment_catalog"]["vec_segments"][0]["vector_count"] + 1)), lambda d: C.parts(d)[0]["segment_catalog"]["vec_segments"][0]["common"]["bytes_offset"], ["R-VEC-002"]),
    Case("seg.decode.001", "single-160", "a catalog lexical segment claims 2^60 documents (checksum right)",
         "MV2-E-SEG-DECODE", _undecodable_catalog_lex, lambda d: _catalog_lex(d)["bytes_offset"], ["R-SEG-003"]),
    Case("memories.hash.001", "cards-160", "a byte of the memories track flipped", "MV2-E-SEG-HASH",
         lambda d: C.flip(d, _memories(d)["bytes_offset"] + 20), lambda d: _memories(d)["bytes_offset"], ["R-SEG-004"]),
    Case("memories.decode.001", "cards-160", "the memories track says version 2 (checksum right)", "MV2-E-SEG-DECODE",
         _memories_version_2, lambda d: _memories(d)["bytes_offset"], ["R-SEG-005"]),
    Case("memories.decode.002", "cards-160", "the memories manifest's card_count off by one", "MV2-E-SEG-DECODE",
         lambda d: C.rewrite_toc(d, lambda t: t["memories_track"].__setitem__("card_count", t["memories_track"]["card_count"] + 1)),
         lambda d: _memories(d)["bytes_offset"], ["R-SEG-005"]),
    # WAL
    Case("wal.hash.001", "single-160", "a WAL payload byte flipped", "MV2-E-WAL-HASH",
         lambda d: C.flip(d, 4096 + _first_wal(d)[0] + 48 + 10), lambda d: 4096 + _first_wal(d)[0], ["R-WAL-004"]),
    Case("wal.length.001", "single-160", "a WAL record length past the region", "MV2-E-WAL-LENGTH",
         lambda d: C.set_bytes(d, 4096 + _first_wal(d)[0] + 8, struct.pack("<I", 0x7FFFFFFF)),
         lambda d: 4096 + _first_wal(d)[0], ["R-WAL-003"]),
    Case("wal.reserved.001", "single-160", "a WAL record's reserved bytes set", "MV2-E-WAL-RESERVED",
         lambda d: C.set_bytes(d, 4096 + _first_wal(d)[0] + 12, b"\x01"), lambda d: 4096 + _first_wal(d)[0] + 12, ["R-WAL-005"]),
    Case("wal.seq.001", "single-160", "a gap in WAL sequence numbers", "MV2-E-WAL-SEQ",
         lambda d: C.set_bytes(d, 4096 + C.wal_records(d)[1][0], struct.pack("<Q", C.wal_records(d)[1][1] + 5)),
         lambda d: 4096 + C.wal_records(d)[1][0], ["R-WAL-006"]),
    Case("wal.decode.001", "single-160", "a WAL payload with entry variant 7 (hash right)", "MV2-E-WAL-DECODE",
         lambda d: C.rehash_wal_record(C.set_bytes(d, 4096 + _first_wal(d)[0] + 48, b"\x07\x00\x00\x00"), _first_wal(d)[0]),
         lambda d: 4096 + _first_wal(d)[0] + 48, ["R-WAL-007"]),
    Case("wal.apply.001", "single-160", "a pending tombstone of a frame that does not exist", "MV2-E-WAL-APPLY",
         _pending_tombstone_of_missing_frame, _wal_end, ["R-WAL-009", "R-WAL-011"]),
]

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
