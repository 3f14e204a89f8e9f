"""The generated codecs agree with the Construct interpreter: same values, same bytes, same rejections."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GOLD_FILES, gold_id
from mv2.errors import CorruptFileError
from mv2.format.bincode import to_plain
from mv2.format.fastcodec import FastCodec, Invalid
from mv2.format.frame import Frame
from mv2.format.revisions import REVISIONS, TOC_CODE_FOR, decode_exact
from mv2.storage.snapshot import read_snapshot


def interpreted(con, data):
    return to_plain(decode_exact(con, data, base_offset=0, what="x", code_for=TOC_CODE_FOR, default_code="MV2-E-TOC-DECODE"))


@pytest.mark.parametrize("path", GOLD_FILES, ids=gold_id)
def test_gold_bytes_agree(path):
    with read_snapshot(path) as s:
        toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
        rev = s.revision
        assert rev.toc_codec.decode(toc) == interpreted(rev.toc, toc)
        assert rev.toc_codec.encode(rev.toc_codec.decode(toc)) == toc
        for r in s.wal.records:
            assert rev.wal_codec.decode(r.payload) == interpreted(rev.wal_entry, r.payload)
            assert rev.wal_codec.encode(r.entry) == r.payload


text = st.text(max_size=20)
opt = lambda s: st.none() | s  # noqa: E731


@st.composite
def frames(draw):
    return {
        "id": draw(st.integers(0, 2**64 - 1)), "timestamp": draw(st.integers(-(2**63), 2**63 - 1)),
        "anchor_ts": draw(opt(st.integers(-(2**63), 2**63 - 1))),
        "anchor_source": draw(opt(st.sampled_from(["explicit", "frame_timestamp", "metadata", "ingestion_clock"]))),
        "kind": draw(opt(text)), "track": draw(opt(text)), "payload_offset": draw(st.integers(0, 2**64 - 1)),
        "payload_length": draw(st.integers(0, 2**64 - 1)), "checksum": draw(st.binary(min_size=32, max_size=32)),
        "uri": draw(opt(text)), "title": draw(opt(text)), "canonical_encoding": draw(st.sampled_from(["plain", "zstd"])),
        "canonical_length": draw(opt(st.integers(0, 2**64 - 1))),
        "metadata": draw(st.none() | st.fixed_dictionaries({
            "mime": opt(text), "bytes": opt(st.integers(0, 2**64 - 1)), "hash": opt(text), "width": opt(st.integers(0, 2**32 - 1)),
            "height": opt(st.integers(0, 2**32 - 1)), "colors": opt(st.lists(text, max_size=3)), "caption": opt(text),
            "exif": st.none(), "audio": st.none(), "media": st.none()})),
        "search_text": draw(opt(text)), "tags": draw(st.lists(text, max_size=3)), "labels": draw(st.lists(text, max_size=3)),
        "extra_metadata": draw(st.dictionaries(text, text, max_size=3)), "content_dates": draw(st.lists(text, max_size=2)),
        "chunk_manifest": draw(st.none() | st.fixed_dictionaries({"chunk_chars": st.integers(0, 2**64 - 1), "chunks": st.lists(
            st.fixed_dictionaries({"start": st.integers(0, 2**64 - 1), "end": st.integers(0, 2**64 - 1)}), max_size=3)})),
        "role": draw(st.sampled_from(["document", "document_chunk", "extracted_image"])),
        "parent_id": draw(opt(st.integers(0, 2**64 - 1))), "chunk_index": draw(opt(st.integers(0, 2**32 - 1))),
        "chunk_count": draw(opt(st.integers(0, 2**32 - 1))), "status": draw(st.sampled_from(["active", "superseded", "deleted"])),
        "supersedes": draw(opt(st.integers(0, 2**64 - 1))), "superseded_by": draw(opt(st.integers(0, 2**64 - 1))),
        "source_sha256": draw(opt(st.binary(min_size=32, max_size=32))), "source_path": draw(opt(text)),
        "enrichment_state": draw(st.sampled_from(["searchable", "enriched"])),
    }


FRAME = FastCodec(Frame)


@given(frames())
@settings(max_examples=300, deadline=None)
def test_random_frames_agree(f):
    raw = Frame.build(f)
    assert FRAME.encode(f) == raw
    assert FRAME.decode(raw) == interpreted(Frame, raw)


@pytest.mark.req("R-ENC-002", "R-ENC-003", "R-ENC-004", "R-ENC-005", "R-ENC-006")
def test_damaged_bytes_are_rejected_by_both_or_neither():
    rev = REVISIONS["memvid-2.0.160"]
    path = next(p for p in GOLD_FILES if p.name == "put-loop.mv2" and "2.0.160" in p.parent.name)
    with read_snapshot(path) as s:
        toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
    rng = random.Random(3)
    agree = 0
    for _ in range(400):
        data = bytearray(toc)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data))
            data[i] = rng.choice([0, 1, 2, 0xFF, rng.randrange(256)])
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)):]
        data = bytes(data)
        try:
            fast = rev.toc_codec.decode(data)
        except Invalid:
            fast = "invalid"
        try:
            slow = interpreted(rev.toc, data)
        except CorruptFileError:
            slow = "invalid"
        assert fast == slow
        agree += 1
    assert agree == 400


# --- numpy fast paths: vector segments and the time index -------------------------------------

from mv2.format.segments import FlatVecIndex, TimeIndex  # noqa: E402
from mv2.format.time_index import ENTRY_DTYPE, decode_entries, is_sorted, time_index_size  # noqa: E402
from mv2.format.vecseg import decode_vec_segment, encode_flat  # noqa: E402


@given(st.lists(st.tuples(st.integers(0, 2**64 - 1), st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=6)),
                max_size=6))
@settings(max_examples=200, deadline=None)
def test_vec_segment_fast_path_agrees_with_schema(docs):
    """Regular and ragged flat segments: the numpy path, the generated codec and the interpreter agree."""
    data = FlatVecIndex.build([{"frame_id": f, "embedding": v} for f, v in docs])
    dims = {len(v) for _, v in docs}
    if len(dims) > 1:
        with pytest.raises(CorruptFileError) as e:
            decode_vec_segment(data, offset=100)
        assert e.value.code == "MV2-E-SEG-DECODE"
        return
    seg = decode_vec_segment(data)
    assert [int(i) for i in seg.ids] == [f for f, _ in docs]
    assert seg.matrix.tolist() == [[float(x) for x in v] for _, v in docs] or not docs
    if docs:
        assert encode_flat(seg.ids, seg.matrix) == data


@pytest.mark.parametrize("cut", [1, 7, 9, 20, 33])
def test_vec_segment_damage_gives_coded_errors(cut):
    data = FlatVecIndex.build([{"frame_id": i, "embedding": [1.0] * 4} for i in range(3)])
    for bad in (data[:-cut], data + bytes(cut), data[:16] + (99).to_bytes(8, "little") + data[24:]):
        with pytest.raises(CorruptFileError) as e:
            decode_vec_segment(bad, offset=1000)
        assert e.value.code == "MV2-E-SEG-DECODE" and e.value.offset >= 1000


def test_time_entry_dtype_is_the_schema():
    entries = [(-5, 3), (0, 0), (7, 2**64 - 1), (2**63 - 1, 1)]
    data = TimeIndex.build({"magic": b"MVTI", "count": len(entries),
                            "entries": [{"timestamp": t, "frame_id": f} for t, f in entries]})
    assert len(data) == time_index_size(len(entries)) and ENTRY_DTYPE.itemsize * len(entries) == len(data) - 12
    parsed = [(e.timestamp, e.frame_id) for e in TimeIndex.parse(data).entries]
    fast = decode_entries(data)
    assert list(zip(fast["timestamp"].tolist(), fast["frame_id"].tolist())) == parsed
    assert is_sorted(fast)
    assert not is_sorted(decode_entries(TimeIndex.build({"magic": b"MVTI", "count": 2, "entries": [
        {"timestamp": 1, "frame_id": 2}, {"timestamp": 1, "frame_id": 1}]})))
