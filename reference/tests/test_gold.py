"""Every gold file reads exactly as memvid-sdk reads it, verifies, and round-trips through the schema."""

from __future__ import annotations

import hashlib
import os

import pytest

from conftest import applies_wal, oracle, producer_release
from mv2.format.bincode import to_plain
from mv2.format.revisions import REVISIONS, decode_exact, decode_toc, revision_for_release
from mv2.index.time import timeline
from mv2.storage.snapshot import read_snapshot
from mv2.storage.verify import analyze
from mv2.storage.view import dump, frame_text

KNOWN_WARNINGS = {"MV2-W-STALE-MANIFEST", "MV2-W-STALE-MIRROR", "MV2-W-SKETCH-STALE"}


@pytest.mark.req("R-TOC-001", "R-ENC-006", "R-REV-001")
def test_toc_rebuilds_to_identical_bytes(gold):
    data = gold.read_bytes()
    with read_snapshot(gold) as s:
        off, n = s.commit.toc_offset, s.commit.toc_len
    raw = data[off:off + n]
    rev, value = decode_toc(raw)
    assert rev.toc.build(value) == raw
    assert rev.name == revision_for_release(producer_release(gold))


@pytest.mark.req("R-WAL-007", "R-REV-002")
def test_wal_records_rebuild_to_identical_bytes(gold):
    with read_snapshot(gold) as s:
        if not s.wal.records:
            pytest.skip("an all-zero WAL (memvid's doctor writes one): nothing to rebuild")
        for r in s.wal.records:
            value = decode_exact(s.revision.wal_entry, r.payload, base_offset=0, what="wal", default_code="MV2-E-WAL-DECODE")
            assert s.revision.wal_entry.build(value) == r.payload


@pytest.mark.req("R-VFY-002", "R-SUM-002", "R-SUM-004", "R-TOC-005")
def test_verify_passes(gold):
    a = analyze(gold)
    assert a.ok, a.first_error
    assert {w.code for w in a.warnings} <= KNOWN_WARNINGS


@pytest.mark.req("R-WAL-010", "R-DMP-001", "R-FRM-009", "R-FRM-010")
def test_dump_agrees_with_memvid(gold):
    exp = oracle(gold)
    with read_snapshot(gold, apply_wal=applies_wal(gold)) as s:
        d = dump(s)
    frames = d["frames"]
    assert len(frames) == exp["stats"]["frame_count"]
    assert sum(f["status"] == "active" for f in frames) == exp["stats"]["active_frame_count"]
    by_id = {f["id"]: f for f in frames}
    for uri, o in exp["frames_by_uri"].items():
        newest = max((f for f in frames if f["uri"] == uri), key=lambda f: f["id"])
        assert newest["id"] == o["frame"]["id"]
        assert newest["payload_sha256"] == o["blob_sha256"]
        assert newest["payload_length"] == o["blob_len"]
        for key in ("title", "kind", "track", "timestamp", "tags", "labels"):
            if key in o["frame"]:
                assert newest[key] == o["frame"][key], key
        if "extra_metadata" in o["frame"]:
            assert newest["metadata"] == o["frame"]["extra_metadata"]
    for t in exp["timeline"]:
        f = by_id[t["frame_id"]]
        assert (f["timestamp"], f["uri"]) == (t["timestamp"], t["uri"])


@pytest.mark.req("R-TIME-004")
def test_timeline_equals_memvids(gold):
    exp = oracle(gold)
    with read_snapshot(gold, apply_wal=applies_wal(gold)) as s:
        got = timeline(s, lambda fr: frame_text(s, fr))
    assert [e.to_json() for e in got] == [
        {"frame_id": t["frame_id"], "timestamp": t["timestamp"], "uri": t["uri"], "preview": t["preview"]}
        for t in exp["timeline"]
    ]


@pytest.mark.req("R-TIME-003")
def test_time_index_lists_active_documents(gold):
    with read_snapshot(gold) as s:
        m = s.toc["time_index"]
        if m is None:
            pytest.skip("no time index in this file")
        from mv2.format.time_index import TimeIndex

        entries = TimeIndex.parse(s.source.read(m["bytes_offset"], m["bytes_length"], what="t")).entries
        committed = s.toc["frames"]
        expect = sorted((f["timestamp"], f["id"]) for f in committed if f["status"] == "active" and f["role"] == "document")
        assert [(e.timestamp, e.frame_id) for e in entries] == expect


@pytest.mark.req("R-VFY-001")
def test_reading_never_modifies_the_file(gold, tmp_path):
    copy = tmp_path / gold.name
    copy.write_bytes(gold.read_bytes())
    os.chmod(copy, 0o444)  # a read-only file must be fully readable
    before = (hashlib.sha256(copy.read_bytes()).hexdigest(), os.stat(copy).st_mtime_ns)
    with read_snapshot(copy) as s:
        dump(s)
    analyze(copy)
    after = (hashlib.sha256(copy.read_bytes()).hexdigest(), os.stat(copy).st_mtime_ns)
    assert before == after


def test_pending_records_are_marked():
    from conftest import GOLD

    with read_snapshot(GOLD / "memvid-sdk-2.0.160" / "killed-mid-batch.mv2") as s:
        pending = [fr for fr in s.frames if fr.pending]
        assert len(s.toc["frames"]) == 1 and len(pending) == 32
        assert all(fr.id >= 1 for fr in pending)
    with read_snapshot(GOLD / "memvid-sdk-2.0.160" / "killed-mid-batch.mv2", apply_wal=False) as s:
        assert len(s.frames) == 1  # memvid's read-only view


def test_plain_conversion_drops_construct_internals(single_160):
    from mv2.storage.source import Source

    with read_snapshot(Source(single_160)) as s:
        def walk(v):
            if isinstance(v, dict):
                assert not any(str(k).startswith("_") for k in v)
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(s.toc)
        walk(to_plain(s.toc))
    assert set(REVISIONS) >= {"memvid-2.0.160", "memvid-2.0.147", "memvid-2.0.131", "memvid-2.0.123"}


@pytest.mark.req("R-SUM-001")
def test_checksums_are_plain_blake3_256(gold):
    import blake3

    empty = bytes.fromhex("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")
    assert blake3.blake3(b"").digest() == empty
    with read_snapshot(gold) as s:
        for f in s.toc["frames"]:
            stored = s.source.read(f["payload_offset"], f["payload_length"], what="payload") if f["payload_length"] else b""
            assert f["checksum"] == blake3.blake3(stored).digest()
            if not f["payload_length"]:
                assert f["checksum"] == empty


@pytest.mark.req("R-FRM-014")
def test_writer_compression_reproduces_memvids_payloads(gold):
    from mv2.format.payload import encode_payload

    with read_snapshot(gold) as s:
        for fs in s.frames:
            f = fs.fields
            if fs.pending or f["canonical_encoding"] != "zstd" or not f["payload_length"]:
                continue
            stored = s.source.read(f["payload_offset"], f["payload_length"], what="payload")
            assert encode_payload(s.canonical_payload(fs), compress=True)[0] == stored
