"""The compiled codec (``format/_codec_c``) gives exactly what the generated Python gives.

Both come from one Construct schema through one generator walk (``fastcodec`` and
``fastcodec_cy``). These tests pin the two together: the committed Cython source is what the
generator gives today, the built module covers every revision, and on gold files, random
frames and damaged bytes the two decoders return equal values or both reject.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from conftest import GOLD_FILES, gold_id
from mv2.format import fastcodec
from mv2.format.fastcodec import FastCodec, Invalid
from mv2.format.frame import Frame
from mv2.format.revisions import REVISIONS
from mv2.storage.snapshot import read_snapshot
from test_fastcodec import frames

ROOT = Path(__file__).resolve().parents[2]
NO_ACCEL = bool(os.environ.get("MV2_NO_ACCELERATOR")) or os.environ.get("MV2_PURE_CODEC", "") not in ("", "0")
needs_accel = pytest.mark.skipif(NO_ACCEL, reason="installed with MV2_NO_ACCELERATOR, or switched off by MV2_PURE_CODEC")


def pair(con):
    return FastCodec(con, pure=True), FastCodec(con)


def outcome(codec, data):
    try:
        return codec.decode(data)
    except Invalid:
        return "invalid"


def test_committed_cython_source_is_generated_from_the_schema():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_codec.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_fingerprints_identify_the_schema():
    a, b = FastCodec(Frame, pure=True), FastCodec(Frame, pure=True)
    assert a.fingerprint == b.fingerprint and a.source == b.source  # no global counters in names
    other = REVISIONS["memvid-2.0.123"].frame
    assert FastCodec(other, pure=True).fingerprint != a.fingerprint


@needs_accel
def test_the_accelerator_is_built_and_covers_every_revision():
    assert fastcodec._ACCEL is not None, "mv2.format._codec_c was not built (see setup.py)"
    for name, rev in REVISIONS.items():
        for con in (rev.toc, rev.frame, rev.wal_entry):
            assert FastCodec(con).accelerated, name


def test_pure_codec_can_be_forced_by_environment():
    code = "from mv2.format.revisions import REVISIONS; print(REVISIONS['memvid-2.0.160'].toc_codec.accelerated)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "MV2_PURE_CODEC": "1"})
    assert r.stdout.strip() == "False", r.stderr


@needs_accel
@pytest.mark.parametrize("path", GOLD_FILES, ids=gold_id)
def test_gold_tocs_and_wal_records_decode_identically(path):
    with read_snapshot(path) as s:
        toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
        pure, fast = pair(s.revision.toc)
        assert fast.accelerated
        assert fast.decode(toc) == pure.decode(toc)
        wpure, wfast = pair(s.revision.wal_entry)
        for r in s.wal.records:
            assert wfast.decode(r.payload) == wpure.decode(r.payload)


FRAME_PURE, FRAME_FAST = pair(Frame)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@needs_accel
@given(frames())
@settings(max_examples=300, deadline=None)
def test_random_frames_decode_identically(f):
    raw = FRAME_PURE.encode(f)
    assert _same(FRAME_FAST.decode(raw), FRAME_PURE.decode(raw))


@needs_accel
@pytest.mark.parametrize("seed", range(3))
def test_damaged_bytes_are_rejected_by_both_or_neither(seed):
    """Flipped, zeroed and saturated bytes, truncations and extensions of real TOCs: the two
    decoders agree on every input, value for value."""
    rng = random.Random(seed)
    checked = 0
    for path in [p for p in GOLD_FILES if p.suffix == ".mv2"][seed::3][:6]:
        try:
            with read_snapshot(path) as s:
                toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
                pure, fast = pair(s.revision.toc)
        except Exception:  # noqa: BLE001 - gold files that are corrupt on purpose have no TOC to damage
            continue
        for _ in range(150):
            data = bytearray(toc)
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(data))
                data[i] = rng.choice([0, 1, 2, 0x7F, 0x80, 0xFF, rng.randrange(256)])
            r = rng.random()
            if r < 0.15:
                del data[rng.randrange(len(data)):]
            elif r < 0.25:
                data += bytes(rng.randrange(1, 9))
            data = bytes(data)
            a, b = outcome(pure, data), outcome(fast, data)
            assert _same(a, b)
            checked += 1
    assert checked >= 300


@needs_accel
def test_edge_inputs_agree():
    pure, fast = pair(REVISIONS["memvid-2.0.160"].toc)
    for data in (b"", b"\x00", bytes(7), bytes(8), b"\xff" * 64, bytes(4096)):
        assert _same(outcome(pure, data), outcome(fast, data))
    # A memoryview and a bytearray decode like bytes (the reader passes views of its buffer).
    path = next(p for p in GOLD_FILES if p.name == "put-loop.mv2" and "2.0.160" in p.parent.name)
    with read_snapshot(path) as s:
        toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
    assert fast.decode(memoryview(toc)) == fast.decode(bytearray(toc)) == pure.decode(toc)


_SCRIPT = r"""
import hashlib, shutil, sys
import mv2
src, dst = sys.argv[1], sys.argv[2]
shutil.copy(src, dst)
with mv2.open(dst, "a") as m:
    reused = m._file.frame_encodings._base is not None
    m.put("a fact written after the file was opened", uri="t://after-open", timestamp=1800000000)
    m.seal()
    if m._snap.frames:
        m.delete(0)
    m.put("and another, after a delete", uri="t://second", timestamp=1800000001)
    m.seal()
    # Changes to committed frames deep in the file, after a reload: a delete, a supersede, and
    # the frames they change read (or not) in between.
    n = m.frame_count
    if n > 3:
        m.delete(n // 2)
        m.supersede(n - 3, "a correction of an older fact", timestamp=1800000002)
        m.frame(1)
    m.put("the last fact", uri="t://third", timestamp=1800000003)
    m.seal()
    # Rewrites of the whole file, whose frames move: a compaction, and a WAL growth (a record
    # larger than the WAL region), then a commit on top.
    m.delete(m.frame_count - 1)
    from mv2.storage.file import _copy_for_remap
    moved = type(_copy_for_remap(m._snap.toc)["frames"]).__name__  # what the rewrite below takes
    m.compact()
    m.put(bytes(range(256)) * 20000, uri="t://big", timestamp=1800000004)
    m.seal()
print(reused, hashlib.sha256(open(dst, "rb").read()).hexdigest(), moved)
"""


@needs_accel
@pytest.mark.parametrize("name", ["put-loop.mv2", "corrections.mv2", "batch-300.mv2"])
def test_appends_reusing_committed_frame_bytes_write_the_pure_codecs_bytes(tmp_path, name):
    """A writer seeds its frame encodings from the TOC it opened and reuses them on commit;
    the file it writes is byte-identical to the one the pure codec (which encodes every
    frame again) writes for the same operations."""
    src = next((p for p in GOLD_FILES if p.name == name and "2.0.160" in p.parent.name), None)
    if src is None:
        pytest.skip(f"no 2.0.160 gold file {name}")
    out = {}
    for mode, env in (("fast", {}), ("pure", {"MV2_PURE_CODEC": "1"})):
        r = subprocess.run([sys.executable, "-c", _SCRIPT, str(src), str(tmp_path / f"{mode}.mv2")],
                           capture_output=True, text=True, env={**os.environ, "MEMVID_TELEMETRY": "0", **env})
        assert r.returncode == 0, r.stderr
        out[mode] = r.stdout.split()
    assert out["fast"][0] == "True" and out["pure"][0] == "False"
    assert out["fast"][2] == "MovedFrames" and out["pure"][2] == "list"  # the compaction patched bytes in place
    assert out["fast"][1] == out["pure"][1]


@needs_accel
def test_decoded_values_are_not_traversed_by_the_collector():
    """The compiled decoders untrack what they build (it holds no cycles), so a large decoded
    TOC adds nothing to the host process's garbage collections."""
    import gc

    path = next(p for p in GOLD_FILES if p.name == "batch-300.mv2" and "2.0.160" in p.parent.name)
    with read_snapshot(path) as s:
        toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
        value = FastCodec(s.revision.toc).decode(toc)
    frames = value["frames"]
    assert len(frames) == 300
    assert not gc.is_tracked(value) and not gc.is_tracked(frames)
    assert not any(gc.is_tracked(f) or gc.is_tracked(f["tags"]) or gc.is_tracked(f["extra_metadata"]) for f in frames)
    frames[0]["extra_metadata"]["k"] = "v"  # still an ordinary dict
    frames[0]["new"] = []
    assert gc.is_tracked(frames[0])  # storing a container tracks a dict again (CPython's rule)


@needs_accel
def test_compiled_functions_survive_hostile_bytes():
    """Every compiled decoder and span function, on mutated real TOCs and WAL payloads (huge
    counts and lengths planted, truncations) and on random bytes: a value or a rejection,
    never another exception, a crash or a read outside the buffer. (``tools/gen_codec.py``'s
    output is compiled without bounds checks; the checks are the generated ones.)"""
    A = fastcodec._ACCEL
    seeds = []
    for path in GOLD_FILES[::4]:
        try:
            with read_snapshot(path) as s:
                seeds.append(s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc"))
                seeds += [r.payload for r in s.wal.records[:3]]
        except Exception:  # noqa: BLE001 - corrupt gold files
            continue
    rng = random.Random(11)
    fns = list(A.DECODERS.values()) + list(A.SPANS.values()) + list(A.LAZY.values())
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        k = rng.random()
        if k < 0.35 and data:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif k < 0.6 and data:
            i = rng.randrange(len(data))
            data[i:i + 8] = rng.choice([b"\xff" * 8, (2**63).to_bytes(8, "little"), len(data).to_bytes(8, "little")])
        elif k < 0.8:
            del data[rng.randrange(len(data) + 1):]
        else:
            data = bytearray(rng.randbytes(rng.randrange(300)))
        view = memoryview(bytes(data))
        for f in fns:
            try:
                f(view)
            except (A.Bad, UnicodeDecodeError):
                pass
