"""Each kind of bad input gets its own stable error code, at the right offset, and never a traceback.

The single-fault cases live in ``tools/mutations.py`` (they are also the conformance suite's
``vectors/invalid``); this module checks each of them and adds what is not one fault: every
truncation point, random damage, decompression bombs.
"""

from __future__ import annotations

import struct

import pytest

import crafting as C
import mutations as M
from mv2.errors import CorruptFileError, MV2Error
from mv2.storage.snapshot import read_snapshot
from mv2.storage.source import Source
from mv2.storage.verify import analyze


def verdict(data: bytes):
    return analyze(Source(data)).first_error


def code_of(data: bytes) -> str | None:
    e = verdict(data)
    return e.code if e else None


@pytest.mark.parametrize("case", M.CASES, ids=lambda c: c.id)
def test_negative_case(case):
    """Every negative vector raises its code, at its offset when the rule fixes one."""
    e = verdict(case.build())
    assert e is not None, f"{case.id}: verify passed"
    assert e.code == case.code, (case.id, e)
    if case.offset is not None:
        assert e.offset == case.offset(M.BASES[case.base].read_bytes()), (case.id, e)


# Every requirement the cases check is cited here too, so that the spec's coverage check sees them.
CASE_REQUIREMENTS = sorted({r for c in M.CASES for r in c.requirements})
assert {"R-HDR-002", "R-HDR-003", "R-HDR-004", "R-HDR-005", "R-HDR-007", "R-HDR-008", "R-HDR-009", "R-WAL-008",
        "R-FTR-003", "R-FTR-004", "R-FTR-005", "R-TOC-002", "R-TOC-003", "R-TOC-004", "R-SUM-003", "R-ENC-002",
        "R-ENC-003", "R-ENC-004", "R-ENC-005", "R-ENC-006", "R-FRM-001", "R-FRM-002", "R-FRM-005", "R-FRM-006",
        "R-FRM-007", "R-SEG-001", "R-SEG-002", "R-TIME-001", "R-TIME-002", "R-TIME-003", "R-SKT-001", "R-VEC-002",
        "R-WAL-003", "R-WAL-004", "R-WAL-005", "R-WAL-006", "R-WAL-007", "R-WAL-009", "R-WAL-011"} <= set(CASE_REQUIREMENTS)


@pytest.mark.req("R-FTR-004")
def test_readers_fall_back_to_the_last_valid_commit(single_160):
    case = next(c for c in M.CASES if c.id == "footer.hash.001")
    with read_snapshot(Source(case.build())) as s:
        assert s.commit.footer_offset == len(single_160) - 56 and len(s.frames) == 1
    with read_snapshot(Source(single_160 + bytes(10))) as s:
        assert len(s.frames) == 1


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


@pytest.mark.req("R-WAL-001", "R-WAL-002")
def test_bytes_after_sentinel_are_ignored(single_160):
    recs = C.wal_records(single_160)
    end = recs[-1][0] + 48 + recs[-1][2]
    data = C.set_bytes(single_160, 4096 + end + 48, b"\xAA" * 100)  # after the sentinel
    assert code_of(data) is None


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


@pytest.mark.req("R-SKT-002")
def test_a_stale_sketch_track_is_a_warning_not_an_error(tmp_path):
    """A well-formed sketch track with fewer entries than frames (what memvid's WAL recovery
    leaves) verifies, with MV2-W-SKETCH-STALE: memvid's pre-filter would misattribute entries."""
    import blake3

    import mv2

    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        for i in range(4):
            m.put(f"document {i} about the harbor", timestamp=i)
    data = path.read_bytes()
    assert not analyze(Source(data)).warnings
    toc, *_ = C.parts(data)
    sk = toc["sketch_track"]
    off, n = sk["bytes_offset"], sk["entry_count"]
    assert n == 4
    shorter = data[off:off + 8] + struct.pack("<Q", n - 1) + data[off + 16:off + 24 + 32 * (n - 1)]
    data = C.set_bytes(data, off, shorter)

    def stale(t):
        t["sketch_track"].update(entry_count=n - 1, bytes_length=len(shorter), checksum=blake3.blake3(shorter).digest())
    a = analyze(Source(C.rewrite_toc(data, stale)))
    assert a.ok, a.first_error
    assert [w.code for w in a.warnings] == ["MV2-W-SKETCH-STALE"]
    assert a.warnings[0].offset == off


@pytest.mark.parametrize("mode,code", [("pq96", "MV2-E-UNSUPPORTED"), ("none", "MV2-E-SEG-DECODE")])
def test_an_undecodable_vector_index_is_unsupported_only_if_it_says_pq96(tmp_path, mode, code):
    """memvid's product-quantised body is not specified: a checksum-valid index that says pq96
    and is in neither specified form is unsupported, not corrupt (spec appendix B)."""
    import blake3

    import mv2

    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        for i in range(3):
            m.put(f"doc {i}", timestamp=i, embedding=[float(i), 1.0, 0.5, 0.25])
    data = path.read_bytes()
    toc, *_ = C.parts(data)
    # Our writer keeps vectors in catalog segments; move them into a monolithic index.
    seg = toc["segment_catalog"]["vec_segments"][0]["common"]
    off, ln = seg["bytes_offset"], seg["bytes_length"]
    body = bytes((i * 37 + 11) % 256 for i in range(ln))
    data = C.set_bytes(data, off, body)

    def pq(t):
        t["indexes"]["vec"].update(bytes_offset=off, bytes_length=ln, vector_count=3, dimension=4,
                                   checksum=blake3.blake3(body).digest(), compression_mode=mode)
        t["segment_catalog"]["vec_segments"] = []
    data = C.rewrite_toc(data, pq)
    e = verdict(data)
    assert e is not None and e.code == code and e.offset == off
    if mode == "pq96":  # the file still opens and searches by text; vector search says why it cannot
        path.write_bytes(data)
        with mv2.open(path) as m:
            assert m.find("doc", k=3)
            with pytest.raises(mv2.UnsupportedError, match="pq96"):
                m.find_vector([1.0, 1.0, 0.5, 0.25], k=1)


@pytest.mark.req("R-LEX-006")
@pytest.mark.parametrize("case_id", ["lex.files.001", "lex.files.002"])
def test_an_unusable_tantivy_directory_is_a_coded_error_when_searching(tmp_path, case_id):
    """Every checksum matches, yet the files are not an index: search says so with a code."""
    import mv2

    case = next(c for c in M.CASES if c.id == case_id)
    path = tmp_path / "m.mv2"
    path.write_bytes(case.build())
    with mv2.open(path) as m:
        with pytest.raises(CorruptFileError) as exc:
            m.find("penicillin")
    assert exc.value.code == "MV2-E-LEX-FILES"


def test_every_damaged_payload_is_found_where_payloads_are_hashed_by_window(tmp_path):
    """Verify hashes payloads from shared windows of the file: each payload is still checked
    against its own checksum, the damaged ones and only those fail, at their own offsets."""
    import random

    import mv2

    path = tmp_path / "p.mv2"
    rng = random.Random(7)
    with mv2.create(path) as m:
        m.put_many([{"content": f"payload {i} " + "x" * rng.randint(0, 3000), "timestamp": i} for i in range(400)])
        m.put(rng.randbytes(6_000_000).hex(), timestamp=400)  # a payload over half a window: hashed alone
    snap = read_snapshot(path)
    frames = [fr.fields for fr in snap.frames]
    snap.close()
    assert frames[400]["payload_length"] > 4 << 20
    victims = sorted(rng.sample(range(len(frames)), 5)) + [400]
    data = bytearray(path.read_bytes())
    for v in victims:
        f = frames[v]
        data[f["payload_offset"] + f["payload_length"] // 2] ^= 0x10
    bad = tmp_path / "bad.mv2"
    bad.write_bytes(bytes(data))
    a = analyze(str(bad))
    failed = sorted(x.offset for x in a.findings if x.code == "MV2-E-FRAME-HASH")
    assert failed == sorted(frames[v]["payload_offset"] for v in victims)
    assert {r.name for r in a.regions if r.kind == "payload" and r.status == "bad"} == {f"payload frame {v}" for v in victims}
    assert analyze(str(path)).ok
