"""A lazily opened TOC (``format/frametable.py``) is the fully decoded TOC, frame for frame.

Readers open a TOC with the compiled codec's lazy decoder: every frame is checked, none is
built until it is read. These tests hold that path to the full decode: the same values on
every gold file, the same columns as the fields, the same acceptance of damaged bytes, the
same reference checks with the same codes, and a frame table whose changes stay.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

from conftest import GOLD_FILES, gold_id
from mv2.errors import CorruptFileError
from mv2.format import fastcodec
from mv2.format.fastcodec import FastCodec, Invalid
from mv2.format.frame import FrameRole, FrameStatus
from mv2.format.frametable import LazyFrames
from mv2.format.revisions import REVISIONS, decode_toc, encode_toc
from mv2.storage.replay import FrameState, FrameTable, apply_pending, pending_states
from mv2.storage.snapshot import check_frame_links, read_snapshot

needs_accel = pytest.mark.skipif(bool(os.environ.get("MV2_NO_ACCELERATOR"))
                                 or os.environ.get("MV2_PURE_CODEC", "") not in ("", "0"),
                                 reason="the lazy decoder is part of the compiled codec")

COLUMN_OF = {
    "status": lambda v: FrameStatus.variants.index(v),
    "role": lambda v: FrameRole.variants.index(v),
}


def _toc_bytes(path):
    with read_snapshot(path) as s:
        return s.revision, s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")


def _gold_tocs():
    out = []
    for p in GOLD_FILES:
        try:
            out.append((p, *_toc_bytes(p)))
        except CorruptFileError:
            continue  # corrupt on purpose
    return out


GOLD_TOCS = _gold_tocs()


@needs_accel
@pytest.mark.parametrize("path,rev,toc", GOLD_TOCS, ids=[gold_id(p) for p, _, _ in GOLD_TOCS])
def test_lazy_toc_equals_the_full_decode(path, rev, toc):
    full = rev.toc_codec.decode(toc)
    got, lazy = decode_toc(toc, lazy=True)
    assert got is rev and isinstance(lazy["frames"], LazyFrames)
    frames = lazy["frames"]
    assert {k: v for k, v in lazy.items() if k != "frames"} == {k: v for k, v in full.items() if k != "frames"}
    assert len(frames) == len(full["frames"])
    # Random access first (each frame decoded alone), then iteration (in runs), then slices.
    order = list(range(len(frames)))
    random.Random(len(toc)).shuffle(order)
    for i in order[: len(order) // 2]:
        assert frames[i] == full["frames"][i]
    assert list(frames) == full["frames"] and frames == full["frames"]
    assert frames[1:3] == full["frames"][1:3] and frames[::2] == full["frames"][::2]
    if len(frames):
        assert frames[-1] == full["frames"][-1] and frames[0] is frames[0]  # decoded once, kept
    # Each column holds its field, None as -1 and an Enum as its index.
    for name, col in frames.columns.items():
        assert col.dtype == np.int64 and len(col) == len(frames)
        if name.startswith("@"):  # where the field lies: its 8 bytes there are its value
            assert [int.from_bytes(toc[p:p + 8], "little") for p in col.tolist()] == \
                [f[name[1:]] for f in full["frames"]], name
            assert all(frames.spans[i] <= p < frames.spans[i + 1] for i, p in enumerate(col.tolist()))
            continue
        conv = COLUMN_OF.get(name, lambda v: -1 if v is None else v)
        assert col.tolist() == [conv(f[name]) for f in full["frames"]], name
    assert "id" in frames.columns and "timestamp" in frames.columns


@needs_accel
@pytest.mark.parametrize("seed", range(3))
def test_lazy_decoder_accepts_exactly_what_the_full_decoder_accepts(seed):
    """Flipped, zeroed and saturated bytes, truncations and extensions of real TOCs."""
    rng = random.Random(seed)
    accepted = rejected = 0
    for _, rev, toc in GOLD_TOCS[seed::3][:8]:
        codec = rev.toc_codec
        for _ in range(120):
            data = bytearray(toc)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.choice([0, 1, 2, 0x7F, 0x80, 0xC3, 0xFF, rng.randrange(256)])
            r = rng.random()
            if r < 0.15:
                del data[rng.randrange(len(data)):]
            elif r < 0.25:
                data += bytes(rng.randrange(1, 9))
            data = bytes(data)
            try:
                full = codec.decode(data)
            except Invalid:
                full = None
            try:
                value, spans, cols = codec.decode_lazy(data)
            except Invalid:
                value = None
            assert (full is None) == (value is None)
            if full is None:
                rejected += 1
                continue
            accepted += 1
            frames = LazyFrames(data, np.frombuffer(spans, np.int64), {}, FastCodec(rev.frame).decode_range)
            assert list(frames) == full["frames"]
    assert accepted >= 50 and rejected >= 50, (accepted, rejected)


@needs_accel
def test_invalid_utf8_and_enum_values_inside_a_frame_are_rejected_lazily():
    """The checks the lazy path makes without building values: UTF-8 past ASCII, Enum range."""
    rev = REVISIONS["memvid-2.0.160"]
    path, _, toc = next(t for t in GOLD_TOCS if t[1] is rev and len(rev.toc_codec.decode(t[2])["frames"]) >= 2)
    value = rev.toc_codec.decode(toc)
    value["frames"][1]["title"] = "caf\u00e9 \u2603"
    good = encode_toc(value, rev.name)
    assert decode_toc(good, lazy=True)[1]["frames"][1]["title"] == "caf\u00e9 \u2603"
    i = good.index("caf\u00e9".encode())
    bad = good[:i + 3] + b"\xc3\x28" + good[i + 5:]  # é's bytes replaced by an invalid sequence
    with pytest.raises(Invalid):
        rev.toc_codec.decode(bad)
    with pytest.raises(Invalid):
        rev.toc_codec.decode_lazy(bad)
    with pytest.raises(CorruptFileError):
        decode_toc(bad, lazy=True)


def _crafted(mutate):
    rev = REVISIONS["memvid-2.0.160"]
    _, _, toc = next(t for t in GOLD_TOCS if t[1] is rev and len(rev.toc_codec.decode(t[2])["frames"]) >= 3)
    value = rev.toc_codec.decode(toc)
    mutate(value["frames"])
    data = encode_toc(value, rev.name)
    return value["frames"], decode_toc(data, revision=rev.name, lazy=True)[1]["frames"]


def _code(frames):
    try:
        check_frame_links(frames, 1234)
    except CorruptFileError as exc:
        return exc.code, exc.offset, str(exc)
    return None


@needs_accel
@pytest.mark.parametrize("mutate", [
    lambda fr: None,
    lambda fr: fr[1].update(id=7),
    lambda fr: fr[2].update(id=2**64 - 1),
    lambda fr: fr[0].update(parent_id=len(fr)),
    lambda fr: fr[1].update(supersedes=2**64 - 1),
    lambda fr: fr[2].update(superseded_by=2**63),
    lambda fr: fr[2].update(parent_id=0, supersedes=1, superseded_by=None),
], ids=["intact", "bad-id", "huge-id", "parent-past-end", "supersedes-huge", "superseded-by-2^63", "links-ok"])
def test_reference_checks_on_columns_match_the_checks_on_dicts(mutate):
    eager, lazy = _crafted(mutate)
    assert isinstance(lazy, LazyFrames)
    assert _code(lazy) == _code(eager)


def test_frame_table_keeps_changes_and_appends():
    committed = [{"id": i, "status": "active", "superseded_by": None, "source_sha256": None, "source_path": None,
                  "enrichment_state": None} for i in range(5)]
    t = FrameTable(committed)
    assert len(t) == 5 and t.touched(3) is None
    assert t[3].fields is committed[3] and t[3] is t[3] and t.touched(3) is t[3]
    t[3].writable()["status"] = "deleted"
    assert t[3].fields["status"] == "deleted" and committed[3]["status"] == "active"  # copy on write
    t.append(FrameState({"id": 5}, pending=True))
    assert len(t) == 6 and t[-1].id == 5 and [fs.id for fs in t] == list(range(6))
    assert [fs.id for fs in t[4:]] == [4, 5] and [fs.id for fs in pending_states(t)] == [5]
    fresh = FrameTable(committed)
    fresh.append(FrameState({"id": 5}, pending=True))
    assert [fs.id for fs in pending_states(fresh)] == [5]
    assert all(fresh.touched(i) is None for i in range(5))  # finding the pending ones made no state
    with pytest.raises(IndexError):
        t[6]
    # A revision without the newer fields gets their defaults, on a copy.
    old = FrameTable([{"id": 0, "status": "active"}])
    assert old[0].fields["source_path"] is None and "source_path" not in old.committed[0]
    assert apply_pending(committed, []).frames[2].fields is committed[2]


@needs_accel
def test_a_snapshot_decodes_only_the_frames_it_is_asked_for():
    path = max((t for t in GOLD_TOCS if t[1].name == "memvid-2.0.160"), key=lambda t: len(t[2]))[0]
    with read_snapshot(path) as s:
        frames = s.toc["frames"]
        assert isinstance(frames, LazyFrames) and len(frames) >= 2
        assert all(frames.decoded(i) is None for i in range(len(frames)))
        s.frames[1]
        assert frames.decoded(1) is not None and frames.decoded(0) is None


@needs_accel
def test_range_decoders_survive_hostile_spans():
    """The compiled range decoders check the spans they are given (they are built without
    bounds checks): out-of-range, reversed and misaligned spans are a rejection."""
    A = fastcodec._ACCEL
    _, rev, toc = max(GOLD_TOCS, key=lambda t: len(t[2]))
    _, spans, _ = rev.toc_codec.decode_lazy(toc)
    sp = np.frombuffer(spans, np.int64)
    rng = random.Random(5)
    fns = list(A.RANGES.values())
    for _ in range(400):
        s = sp.copy()
        k = rng.random()
        if k < 0.3:
            s[rng.randrange(len(s))] = rng.choice([-1, len(toc) + 1, 2**62, 0])
        elif k < 0.6:
            i = rng.randrange(len(s))
            s[i] += rng.randint(-3, 3)
        lo = rng.randrange(-1, len(s) + 1)
        hi = rng.randrange(-1, len(s) + 2)
        for f in fns:
            try:
                f(toc, s, lo, hi)
            except (A.Bad, UnicodeDecodeError, ValueError):
                pass


@needs_accel
def test_a_commit_reads_only_the_frames_it_changes(tmp_path, monkeypatch):
    """A put and a delete on a lazily opened file, then a commit: the commit takes every other
    frame's bytes, time-index entry and liveness from the previous TOC without decoding it,
    and the file it writes holds the same frames as a full decode of the old one says."""
    import shutil

    import mv2
    import mv2.storage.snapshot as snapshot
    from mv2.format.commit import FrameEncodings

    # The suite's cross-checks decode every frame on purpose; this test counts decodes.
    monkeypatch.setattr(snapshot, "CHECK_KNOWN_TOC", False)
    monkeypatch.setattr(FrameEncodings, "CHECK", False)
    src = max((t for t in GOLD_TOCS if t[1].name == "memvid-2.0.160"), key=lambda t: len(t[2]))[0]
    dst = tmp_path / "f.mv2"
    shutil.copy(src, dst)
    with mv2.open(dst, "a") as m:  # the first commit replaces memvid's index with one it can extend
        m.put("a first fact", uri="t://first", timestamp=1_700_000_000)
    with mv2.open(dst, "a", compact_min_dead=1 << 62) as m:  # a compaction rewrites every frame
        lazy = m._snap.toc["frames"]
        n = len(lazy)
        assert isinstance(lazy, LazyFrames) and n >= 8
        before = [dict(f) for f in decode_toc(lazy.buffer)[1]["frames"]]
        m.delete(n // 2)
        m.put("a fact put after open", uri="t://lazy", timestamp=1_800_000_000)
        m.seal()
        decoded = {i for i in range(n) if lazy.decoded(i) is not None}
        assert decoded <= {n // 2, n - 1}, sorted(decoded)
    with read_snapshot(dst) as s:
        after = list(s.toc["frames"])
    assert len(after) == n + 1 and after[n]["uri"] == "t://lazy" and after[n - 1]["uri"] == "t://first"
    assert after[n // 2]["status"] == "deleted"
    assert [f for i, f in enumerate(after[:n]) if i != n // 2] == [f for i, f in enumerate(before) if i != n // 2]
    from mv2.storage.verify import analyze
    assert analyze(str(dst)).ok


@needs_accel
def test_frame_table_columns_follow_replay():
    """A table's columns are the committed columns with replayed changes written over them:
    equal, field by field, to the columns of its frames' fields."""
    from mv2.format.frametable import column_value

    _, rev, toc = max((t for t in GOLD_TOCS if t[1].name == "memvid-2.0.160"), key=lambda t: len(t[2]))
    lazy = decode_toc(toc, lazy=True)[1]["frames"]
    t = FrameTable(lazy)
    n = len(t)
    t[n // 2].writable()["status"] = "deleted"
    t[1]  # read, not changed
    t.append(FrameState(dict(lazy[0], id=n, status="active", role="extracted_image", timestamp=-5), pending=True))
    for name in ("id", "timestamp", "status", "role", "parent_id", "payload_offset"):
        assert t.column(name).tolist() == [column_value(name, fs.fields[name]) for fs in t], name
    assert t.column("status")[n // 2] == FrameStatus.index["deleted"]
    assert FrameTable([dict(f) for f in lazy]).column("status") is None  # no columns: callers read fields
