"""Each kind of bad input gets its own stable error code, at the right offset, and never a traceback."""

from __future__ import annotations

import struct

import blake3
import pytest

import crafting as C
from mv2.errors import CorruptFileError, MV2Error
from mv2.format.footer import FOOTER_SIZE
from mv2.storage.snapshot import read_snapshot
from mv2.storage.source import Source
from mv2.storage.verify import analyze


def verdict(data: bytes):
    a = analyze(Source(data))
    return a.first_error


def code_of(data: bytes) -> str | None:
    e = verdict(data)
    return e.code if e else None


# --- header ------------------------------------------------------------------------------------


@pytest.mark.req("R-HDR-002")
@pytest.mark.parametrize("magic", [b"MV2\x01", b"\x00\x32\x56\x4d", b"mv2\x00", b"\xef\xbb\xbfM"])
def test_wrong_magic(single_160, magic):
    e = verdict(C.set_bytes(single_160, 0, magic))
    assert (e.code, e.offset) == ("MV2-E-HDR-MAGIC", 0)


@pytest.mark.req("R-HDR-003")
@pytest.mark.parametrize("offset,value", [(4, b"\x02\x01"), (4, b"\x01\x03"), (6, b"\x03"), (7, b"\x00")])
def test_wrong_version(single_160, offset, value):
    assert code_of(C.set_bytes(single_160, offset, value)) == "MV2-E-HDR-VERSION"


@pytest.mark.req("R-HDR-004")
def test_wal_geometry(single_160):
    assert code_of(C.set_bytes(single_160, 16, struct.pack("<Q", 0))) == "MV2-E-HDR-WAL"
    assert code_of(C.set_bytes(single_160, 24, struct.pack("<Q", 7))) == "MV2-E-HDR-WAL"
    assert code_of(C.set_bytes(single_160, 24, struct.pack("<Q", 1 << 62))) == "MV2-E-HDR-WAL"
    # a plausible WAL size that runs past the end of the file: truncation
    assert code_of(C.set_bytes(single_160, 24, struct.pack("<Q", 1 << 24))) == "MV2-E-FILE-TRUNCATED"


@pytest.mark.req("R-HDR-007")
def test_header_points_elsewhere(single_160):
    e = verdict(C.set_bytes(single_160, 8, struct.pack("<Q", 70000)))
    assert (e.code, e.offset) == ("MV2-E-HDR-TOC-PTR", 8)


@pytest.mark.req("R-HDR-008")
def test_header_toc_checksum_copy(single_160):
    e = verdict(C.flip(single_160, 60))
    assert (e.code, e.offset) == ("MV2-E-HDR-TOC-HASH", 48)


@pytest.mark.req("R-HDR-009")
def test_reserved_header_bytes(single_160):
    e = verdict(C.set_bytes(single_160, 100, b"\x01"))
    assert (e.code, e.offset) == ("MV2-E-HDR-RESERVED", 100)


@pytest.mark.req("R-HDR-005", "R-WAL-008")
def test_checkpoint_disagrees_with_wal(single_160):
    recs = C.wal_records(single_160)
    mid = recs[0][0] + 3  # not a record boundary
    assert code_of(C.set_bytes(single_160, 32, struct.pack("<Q", mid))) == "MV2-E-HDR-CHECKPOINT"
    assert code_of(C.set_bytes(single_160, 32, struct.pack("<Q", 1 << 30))) == "MV2-E-HDR-CHECKPOINT"
    assert code_of(C.set_bytes(single_160, 40, struct.pack("<Q", 7))) == "MV2-E-HDR-CHECKPOINT"


# --- truncation and trailing bytes --------------------------------------------------------------


@pytest.mark.req("R-VFY-003", "R-FTR-001")
def test_truncation_anywhere_gives_a_code(single_160):
    n = len(single_160)
    cuts = sorted({0, 1, 4, 79, 80, 4095, 4096, 4100, 69631, 69632, n - 57, n - 56, n - 55, n - 1}
                  | set(range(0, n, n // 97)))
    seen = set()
    for cut in cuts:
        e = verdict(single_160[:cut])
        assert e is not None, cut
        seen.add(e.code)
        with pytest.raises(CorruptFileError):
            read_snapshot(Source(single_160[:cut]))
    assert seen <= {"MV2-E-FILE-SHORT", "MV2-E-FILE-TRUNCATED", "MV2-E-FTR-MISSING", "MV2-E-FTR-LENGTH"}
    assert {"MV2-E-FILE-SHORT", "MV2-E-FILE-TRUNCATED", "MV2-E-FTR-MISSING"} <= seen


@pytest.mark.req("R-FTR-005")
def test_trailing_bytes_after_commit(single_160):
    data = single_160 + b"\x00" * 10
    e = verdict(data)
    assert (e.code, e.offset) == ("MV2-E-FILE-TRAILING", len(single_160))
    with read_snapshot(Source(data)) as s:  # a reader still finds the commit
        assert len(s.frames) == 1


@pytest.mark.req("R-FTR-004", "R-FTR-005")
def test_corrupt_newer_commit_then_older_valid(single_160):
    """A second commit appended and then damaged: verify names it; readers fall back to the first."""
    toc_off = struct.unpack_from("<Q", single_160, 8)[0]
    first_commit = single_160[toc_off:]
    damaged = bytearray(first_commit)
    damaged[10] ^= 0x40  # inside the copied TOC: its footer hash no longer matches
    data = single_160 + bytes(damaged)
    e = verdict(data)
    assert (e.code, e.offset) == ("MV2-E-FTR-HASH", len(data) - FOOTER_SIZE)
    with read_snapshot(Source(data)) as s:
        assert s.commit.footer_offset == len(single_160) - FOOTER_SIZE


@pytest.mark.req("R-FTR-003")
def test_footer_length_impossible(single_160):
    data = C.set_bytes(single_160, len(single_160) - 48, struct.pack("<Q", 1 << 40))
    assert code_of(data) in ("MV2-E-FTR-LENGTH",)


# --- TOC -----------------------------------------------------------------------------------------


def toc_span(data):
    toc, rev, off, gen, _ = C.parts(data)
    return off, len(data) - FOOTER_SIZE - off


@pytest.mark.req("R-TOC-003", "R-SUM-003")
def test_toc_checksum_field(single_160):
    off, n = toc_span(single_160)
    toc = bytearray(single_160[off:off + n])
    toc[-1] ^= 1  # only the checksum field; footer rehashed so the commit is found
    e = verdict(C.replace_toc_bytes(single_160, bytes(toc)))
    assert (e.code, e.offset) == ("MV2-E-TOC-HASH", off + n - 32)


@pytest.mark.req("R-ENC-005")
def test_absurd_length_in_toc(single_160):
    off, n = toc_span(single_160)
    toc = bytearray(single_160[off:off + n])
    toc[16:24] = struct.pack("<Q", (1 << 63) - 1)  # frames count
    e = verdict(C.replace_toc_bytes(single_160, bytes(toc), fix_checksum_field=True))
    assert (e.code, e.offset) == ("MV2-E-TOC-LENGTH", off + 16)


@pytest.mark.req("R-ENC-003")
def test_non_utf8_string_in_toc(single_160):
    off, n = toc_span(single_160)
    toc = bytearray(single_160[off:off + n])
    i = bytes(toc).index(b"mv2://profile/allergy")
    toc[i + 3] = 0xFF
    e = verdict(C.replace_toc_bytes(single_160, bytes(toc), fix_checksum_field=True))
    assert e.code == "MV2-E-TOC-UTF8" and e.offset == off + i + 3


@pytest.mark.req("R-ENC-002")
@pytest.mark.parametrize("what", ["option", "enum", "bool"])
def test_invalid_tag_values(single_160, what):
    off, n = toc_span(single_160)
    toc = bytearray(single_160[off:off + n])
    if what == "option":
        toc[40] = 2  # frames[0].anchor_ts tag
    elif what == "enum":
        i = bytes(toc).index(b"Allergy") + 7  # canonical_encoding u32 follows the title
        toc[i] = 9
    else:
        i = bytes(toc).rindex(b"free-tier") + 9 + 8 + 8 + 8  # ticket_ref.verified
        toc[i] = 2
    assert code_of(C.replace_toc_bytes(single_160, bytes(toc), fix_checksum_field=True)) == "MV2-E-TOC-VALUE"


@pytest.mark.req("R-ENC-004")
def test_map_out_of_order(single_160):
    def swap(toc):
        m = toc["frames"][0]["extra_metadata"]
        assert len(m) >= 2
    off, n = toc_span(single_160)
    toc = bytes(single_160[off:off + n])
    # the two keys of extra_metadata, "extractous_metadata" then "source": swap the entries
    a = toc.index(struct.pack("<Q", 19) + b"extractous_metadata")
    b = toc.index(struct.pack("<Q", 6) + b"source")
    end = b + 8 + 6 + 8 + struct.unpack_from("<Q", toc, b + 14)[0]
    swapped = toc[:a] + toc[b:end] + toc[a:b] + toc[end:]
    e = verdict(C.replace_toc_bytes(single_160, swapped, fix_checksum_field=True))
    assert e.code == "MV2-E-TOC-ORDER"


@pytest.mark.req("R-ENC-006")
def test_trailing_bytes_inside_toc(single_160):
    off, n = toc_span(single_160)
    toc = single_160[off:off + n - 32] + b"\x00" + single_160[off + n - 32:off + n]
    assert code_of(C.replace_toc_bytes(single_160, toc, fix_checksum_field=True)) in ("MV2-E-TOC-TRAILING", "MV2-E-TOC-DECODE")


@pytest.mark.req("R-TOC-002")
def test_unknown_toc_version(single_160):
    def bump(toc):
        toc["toc_version"] = 3
    assert code_of(C.rewrite_toc(single_160, bump)) == "MV2-E-UNSUPPORTED"


@pytest.mark.req("R-FRM-001")
def test_frame_ids_not_dense(single_160):
    def renumber(toc):
        toc["frames"][0]["id"] = 5
    assert code_of(C.rewrite_toc(single_160, renumber)) == "MV2-E-TOC-FRAME-ID"


@pytest.mark.req("R-FRM-002")
def test_frame_reference_out_of_range(single_160):
    def link(toc):
        toc["frames"][0]["supersedes"] = 99
    assert code_of(C.rewrite_toc(single_160, link)) == "MV2-E-TOC-REF"


# --- regions --------------------------------------------------------------------------------------


@pytest.mark.req("R-SEG-001")
def test_segment_outside_the_file(single_160):
    def move(toc):
        toc["time_index"]["bytes_offset"] = len(single_160) + 100
    e = verdict(C.rewrite_toc(single_160, move))
    assert e.code == "MV2-E-SEG-BOUNDS"


@pytest.mark.req("R-SEG-001")
def test_segment_inside_the_wal(single_160):
    def move(toc):
        toc["time_index"]["bytes_offset"] = 5000
    assert code_of(C.rewrite_toc(single_160, move)) == "MV2-E-SEG-BOUNDS"


@pytest.mark.req("R-SEG-002")
def test_overlapping_segments(single_160):
    def overlap(toc):
        lex = toc["indexes"]["lex_segments"][2]
        t = toc["time_index"]
        t["bytes_offset"] = lex["bytes_offset"] + 1
        t["checksum"] = blake3.blake3(single_160[t["bytes_offset"]:t["bytes_offset"] + t["bytes_length"]]).digest()
    e = verdict(C.rewrite_toc(single_160, overlap))
    assert e.code == "MV2-E-SEG-OVERLAP"


@pytest.mark.req("R-SUM-002")
def test_tantivy_file_changed(single_160):
    with read_snapshot(Source(single_160)) as s:
        f = s.toc["indexes"]["lex_segments"][3]
    e = verdict(C.flip(single_160, f["bytes_offset"] + 5))
    assert (e.code, e.offset) == ("MV2-E-SEG-HASH", f["bytes_offset"])


@pytest.mark.req("R-FRM-005")
def test_payload_changed(single_123):
    with read_snapshot(Source(single_123)) as s:
        f = s.toc["frames"][0]
    assert f["payload_length"] > 0
    e = verdict(C.flip(single_123, f["payload_offset"] + 2))
    assert (e.code, e.offset) == ("MV2-E-FRAME-HASH", f["payload_offset"])


@pytest.mark.req("R-FRM-006", "R-FRM-007")
def test_payload_that_does_not_decode(single_123):
    with read_snapshot(Source(single_123)) as s:
        f = s.toc["frames"][0]
    garbage = b"\x28\xb5\x2f\xfd" + b"\xff" * (f["payload_length"] - 4)
    data = C.set_bytes(single_123, f["payload_offset"], garbage)

    def rehash(toc):
        toc["frames"][0]["checksum"] = blake3.blake3(garbage).digest()
    assert code_of(C.rewrite_toc(data, rehash)) == "MV2-E-FRAME-DECODE"

    def wrong_length(toc):
        toc["frames"][0]["canonical_length"] += 1
    assert code_of(C.rewrite_toc(single_123, wrong_length)) == "MV2-E-FRAME-DECODE"


@pytest.mark.req("R-TIME-002")
def test_time_index_out_of_order():
    from conftest import GOLD

    data = (GOLD / "memvid-sdk-2.0.160" / "deleted.mv2").read_bytes()
    with read_snapshot(Source(data)) as s:
        m = s.toc["time_index"]
    off = m["bytes_offset"]
    seg = bytearray(data[off:off + m["bytes_length"]])
    seg[12:28], seg[28:44] = seg[28:44], seg[12:28]
    data = C.set_bytes(data, off, bytes(seg))

    def rehash(toc):
        toc["time_index"]["checksum"] = blake3.blake3(bytes(seg)).digest()
    assert code_of(C.rewrite_toc(data, rehash)) == "MV2-E-TIME-ORDER"


@pytest.mark.req("R-TIME-001", "R-TIME-003")
def test_time_index_disagrees_with_frames(single_160):
    def count(toc):
        toc["time_index"]["entry_count"] = 2
    assert code_of(C.rewrite_toc(single_160, count)) == "MV2-E-TIME-DECODE"

    def delete(toc):
        toc["frames"][0]["status"] = "deleted"
    assert code_of(C.rewrite_toc(single_160, delete)) == "MV2-E-TIME-MISMATCH"


@pytest.mark.req("R-TOC-004")
def test_tantivy_lists_disagree(single_160):
    def drop(toc):
        toc["segment_catalog"]["tantivy_segments"].pop()
    assert code_of(C.rewrite_toc(single_160, drop)) == "MV2-E-LEX-MISMATCH"


@pytest.mark.req("R-SKT-001")
def test_sketch_header_disagrees(single_160):
    def grow(toc):
        toc["sketch_track"]["entry_count"] = 7
    assert code_of(C.rewrite_toc(single_160, grow)) == "MV2-E-SEG-DECODE"


@pytest.mark.req("R-VEC-002")
def test_vec_segment_disagrees_with_descriptor():
    from conftest import GOLD

    data = (GOLD / "memvid-sdk-2.0.160" / "vectors-8d.mv2").read_bytes()

    def miscount(toc):
        toc["segment_catalog"]["vec_segments"][0]["vector_count"] += 1
    assert code_of(C.rewrite_toc(data, miscount)) == "MV2-E-SEG-DECODE"


# --- WAL ------------------------------------------------------------------------------------------


@pytest.mark.req("R-WAL-004")
def test_wal_record_changed(single_160):
    pos, seq, length = C.wal_records(single_160)[0]
    e = verdict(C.flip(single_160, 4096 + pos + 48 + 10))
    assert (e.code, e.offset) == ("MV2-E-WAL-HASH", 4096 + pos)


@pytest.mark.req("R-WAL-003")
def test_wal_record_length(single_160):
    pos, seq, length = C.wal_records(single_160)[0]
    assert code_of(C.set_bytes(single_160, 4096 + pos + 8, struct.pack("<I", 0x7FFFFFFF))) == "MV2-E-WAL-LENGTH"


@pytest.mark.req("R-WAL-005")
def test_wal_reserved(single_160):
    pos, seq, length = C.wal_records(single_160)[0]
    assert code_of(C.set_bytes(single_160, 4096 + pos + 12, b"\x01")) == "MV2-E-WAL-RESERVED"


@pytest.mark.req("R-WAL-006")
def test_wal_sequence_gap(single_160):
    pos, seq, length = C.wal_records(single_160)[1]
    assert code_of(C.set_bytes(single_160, 4096 + pos, struct.pack("<Q", seq + 5))) == "MV2-E-WAL-SEQ"


@pytest.mark.req("R-WAL-007")
def test_wal_payload_does_not_decode(single_160):
    pos, seq, length = C.wal_records(single_160)[0]
    data = C.set_bytes(single_160, 4096 + pos + 48, b"\x07\x00\x00\x00")  # WalEntry variant 7
    assert code_of(C.rehash_wal_record(data, pos)) == "MV2-E-WAL-DECODE"


@pytest.mark.req("R-WAL-001", "R-WAL-002")
def test_bytes_after_sentinel_are_ignored(single_160):
    recs = C.wal_records(single_160)
    end = recs[-1][0] + 48 + recs[-1][2]
    data = C.set_bytes(single_160, 4096 + end + 48, b"\xAA" * 100)  # after the sentinel
    assert code_of(data) is None


@pytest.mark.req("R-WAL-009", "R-WAL-011")
def test_pending_tombstone_of_missing_frame(single_160):
    """A pending tombstone whose target does not exist cannot be applied."""
    from mv2.format.wal import WalEntry, WalRecordHeader

    recs = C.wal_records(single_160)
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
    data = C.set_bytes(single_160, 4096 + end, header + payload)
    e = verdict(data)
    assert (e.code, e.offset) == ("MV2-E-WAL-APPLY", 4096 + end)


# --- no tracebacks, ever --------------------------------------------------------------------------


@pytest.mark.req("R-VFY-003")
def test_random_damage_never_raises_anything_else(single_160):
    import random

    rng = random.Random(7)
    for _ in range(150):
        data = bytearray(single_160)
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            i = rng.randrange(len(data))
            if op < 0.6:
                data[i] = rng.randrange(256)
            elif op < 0.8:
                del data[i:i + rng.randint(1, 300)]
            else:
                data[i:i] = rng.randbytes(rng.randint(1, 300))
        try:
            analyze(Source(bytes(data)))
            with read_snapshot(Source(bytes(data))):
                pass
        except MV2Error:
            pass


@pytest.mark.req("R-FRM-008")
def test_decompression_bomb_is_bounded():
    """A tiny zstd payload that expands to 200 MiB is refused while decoding, not after."""
    import tracemalloc

    import zstandard

    from mv2.format.payload import iter_canonical

    bomb = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(bytes(200 << 20))
    assert len(bomb) < 10_000
    tracemalloc.start()
    with pytest.raises(CorruptFileError, match="expands past"):
        for _ in iter_canonical(bomb, "zstd", 1000, frame_id=0):
            pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 << 20
