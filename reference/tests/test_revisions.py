"""Every TOC revision memvid shipped: told apart by structure, appended to in place, converted
to every other, and an unknown one reported as such rather than as corruption (spec 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mv2
from conftest import GOLD, GOLD_FILES, gold_id, oracle, producer_release
from crafting import replace_toc_bytes
from mv2 import convert as C
from mv2.cli.main import app
from mv2.errors import CorruptFileError, UnsupportedError
from mv2.format.revisions import REVISION_ORDER, REVISIONS, decode_toc, revision_for_release
from mv2.storage.snapshot import read_snapshot
from mv2.storage.verify import analyze
from mv2.storage.view import dump

# One file per group that has vectors, a same-URI history and (for 2.0.151 and 2.0.160) deletes.
GROUP_FILES = {
    "memvid-2.0.123": GOLD / "memvid-sdk-2.0.123" / "vectors-8d.mv2",
    "memvid-2.0.131": GOLD / "memvid-sdk-2.0.140" / "vectors-8d.mv2",
    "memvid-2.0.147": GOLD / "memvid-sdk-2.0.151" / "deleted.mv2",
    "memvid-2.0.160": GOLD / "memvid-sdk-2.0.160" / "deleted.mv2",
}
# A release of each group, to open what mv2 writes in that group's revision (slow tests).
GROUP_RELEASE = {"memvid-2.0.123": "2.0.123", "memvid-2.0.131": "2.0.140", "memvid-2.0.147": "2.0.151",
                 "memvid-2.0.160": "2.0.160"}
NEW_GROUPS = ["memvid-sdk-2.0.140", "memvid-sdk-2.0.151"]


def toc_bytes(path) -> bytes:
    with read_snapshot(path, apply_wal=False) as s:
        return s.source.read(s.commit.toc_offset, s.commit.toc_len, what="TOC")


def frames_view(path, lost=()) -> list[dict]:
    """The canonical dump's frames, without fields a conversion was allowed to lose."""
    with read_snapshot(path) as s:
        d = dump(s)
    return [{k: (None if k in lost else v) for k, v in f.items() if k != "pending"} for f in d["frames"]]


@pytest.mark.req("R-REV-001")
@pytest.mark.parametrize("gold", GOLD_FILES, ids=gold_id)
def test_each_toc_decodes_under_exactly_its_own_revision(gold):
    raw = toc_bytes(gold)
    fits = set()
    for name in REVISION_ORDER:
        try:
            decode_toc(raw, revision=name)
            fits.add(name)
        except CorruptFileError:
            pass
    own = revision_for_release(producer_release(gold))
    rev, value = decode_toc(raw)
    assert rev.name == own
    if value["indexes"]["vec"] is None:
        # The one ambiguity of spec 11.3: without a vec manifest 2.0.147 and 2.0.160 are the same bytes.
        assert fits <= {own, "memvid-2.0.147", "memvid-2.0.160"} and own in fits
    else:
        assert fits == {own}


@pytest.mark.req("R-REV-001")
def test_without_a_vec_manifest_147_and_160_are_the_same_bytes(tmp_path):
    from crafting import rewrite_toc
    from mv2.format.revisions import encode_toc

    def drop_vec(toc):
        toc["indexes"]["vec"] = None

    path = tmp_path / "no-vec.mv2"
    path.write_bytes(rewrite_toc((GOLD / "memvid-sdk-2.0.151" / "single.mv2").read_bytes(), drop_vec))
    raw = toc_bytes(path)
    v147 = decode_toc(raw, revision="memvid-2.0.147")[1]
    v160 = decode_toc(raw, revision="memvid-2.0.160")[1]
    assert v147 == v160 and encode_toc(v147, "memvid-2.0.147") == encode_toc(v160, "memvid-2.0.160") == raw
    assert decode_toc(raw)[0].name == "memvid-2.0.160"  # the order names the newer (spec 11.3)
    with pytest.raises(CorruptFileError):
        decode_toc(raw, revision="memvid-2.0.131")


def test_releases_map_to_revisions():
    assert revision_for_release("2.0.131") == revision_for_release("2.0.144") == "memvid-2.0.131"
    assert revision_for_release("2.0.147") == revision_for_release("2.0.153") == "memvid-2.0.147"
    assert revision_for_release("2.0.156") == "memvid-2.0.160" and revision_for_release("2.0.130") == "memvid-2.0.123"
    assert revision_for_release("2.0.145") is None  # no release seen there: unknown, not guessed


def _unknown_revision(src: Path, tmp_path: Path, *, seal: bool = True) -> Path:
    """``src`` with a u32 field more after the frames: a layout no revision has. With ``seal``
    the TOC's own checksum is recomputed (as a writer of that layout would); the footer always is."""
    import io

    from construct import Struct

    data = src.read_bytes()
    raw = toc_bytes(src)
    with read_snapshot(src, apply_wal=False) as s:
        stream = io.BytesIO(raw)
        Struct(*s.revision.toc.subcons[:3]).parse_stream(stream)  # toc_version, segments, frames
    at = stream.tell()
    out = tmp_path / f"unknown-{src.parent.name}-{src.stem}.mv2"
    out.write_bytes(replace_toc_bytes(data, raw[:at] + b"\x07\x00\x00\x00" + raw[at:], fix_checksum_field=seal))
    return out


@pytest.mark.req("R-REV-005")
@pytest.mark.parametrize("src", [GOLD / "memvid-sdk-2.0.160" / "unsealed-crash.mv2",
                                 GOLD / "memvid-sdk-2.0.151" / "killed-mid-batch.mv2"], ids=gold_id)
def test_an_unknown_revision_is_not_corruption(src, tmp_path):
    path = _unknown_revision(src, tmp_path)
    with pytest.raises(UnsupportedError) as e:
        read_snapshot(path)
    assert e.value.code == "MV2-E-TOC-REVISION"
    a = analyze(path)
    assert a.first_error.code == "MV2-E-TOC-REVISION" and a.first_error.kind == "unsupported"
    with read_snapshot(src, apply_wal=False) as s:
        commit, records, data_start = s.commit, s.wal.records, s.data_start
    names = {r.name: r for r in a.regions}
    assert names["TOC (unknown revision)"].offset == commit.toc_offset
    assert names["footer"].offset == commit.footer_offset + 4 and a.generation == commit.generation  # 4 bytes inserted
    assert names["data area (laid out by the TOC)"].offset == data_start
    assert [n for n in names if n.startswith("WAL record seq")] == [f"WAL record seq {r.sequence}" for r in records]
    runner = CliRunner()
    r = runner.invoke(app, ["verify", str(path)])
    assert r.exit_code == 2 and "MV2-E-TOC-REVISION" in r.stdout
    r = runner.invoke(app, ["inspect", str(path), "--json"])
    info = json.loads(r.stdout)
    assert r.exit_code == 2 and info["spec_version"] == "2.1" and info["toc_offset"] == commit.toc_offset
    assert len(info["regions"]) == len(a.regions)
    assert runner.invoke(app, ["dump", str(path)]).exit_code == 2


@pytest.mark.req("R-REV-005")
def test_sealed_damage_inside_the_frames_or_after_a_complete_toc_is_corruption(tmp_path):
    src = GOLD / "memvid-sdk-2.0.151" / "single.mv2"
    data, raw = src.read_bytes(), toc_bytes(src)
    inside = bytearray(raw)
    inside[bytes(raw).index(b"mv2://single") + 2] = 0xFF  # a URI that is not UTF-8
    trailing = raw[:-32] + b"\x00" + raw[-32:]
    for bad, code in ((bytes(inside), "MV2-E-TOC-UTF8"), (trailing, "MV2-E-TOC-TRAILING")):
        path = tmp_path / f"{code}.mv2"
        path.write_bytes(replace_toc_bytes(data, bad, fix_checksum_field=True))
        assert analyze(path).first_error.code == code
        assert CliRunner().invoke(app, ["verify", str(path)]).exit_code == 1


@pytest.mark.req("R-REV-005")
def test_an_undecodable_toc_whose_checksum_fails_is_corrupt(tmp_path):
    path = _unknown_revision(GOLD / "memvid-sdk-2.0.140" / "single.mv2", tmp_path, seal=False)
    a = analyze(path)
    assert a.first_error.kind == "malformed" and a.first_error.code.startswith("MV2-E-TOC-")
    assert CliRunner().invoke(app, ["verify", str(path)]).exit_code == 1


@pytest.mark.req("R-REV-006")
@pytest.mark.parametrize("src", [p for g in NEW_GROUPS for p in sorted((GOLD / g).glob("*.mv2"))], ids=gold_id)
def test_a_commit_keeps_the_files_revision(src, tmp_path):
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    own = revision_for_release(producer_release(src))
    with mv2.open(path, "a") as m:
        assert m.revision == own
        dim = m.stats()["dimension"]
        m.put("appended after the release wrote the file", uri="mv2://appended", timestamp=1_800_000_000,
              embedding=[0.25] * dim if dim else None)
    a = analyze(path)
    assert a.ok and a.revision == own, a.first_error
    assert decode_toc(toc_bytes(path), revision=own)[0].name == own
    with mv2.open(path) as m:
        assert [h["frame_id"] for h in m.find("appended", k=3)] == [len(m.frames()) - 1]


@pytest.mark.req("R-REV-003", "R-REV-004")
@pytest.mark.parametrize("target", REVISION_ORDER)
@pytest.mark.parametrize("source", REVISION_ORDER)
def test_convert_bridges_every_pair(source, target, tmp_path):
    src = GROUP_FILES[source]
    out, back = tmp_path / "out.mv2", tmp_path / "back.mv2"
    c = C.convert(src, out, target, allow_loss=True)
    assert c.source_revision == source
    assert c.losses == C.check(src)[target]  # named before writing, the same as written
    lost = {x.rsplit(".", 1)[1] for x in c.losses}
    assert lost <= {"source_sha256", "source_path", "enrichment_state", "model", "verified"}
    a = analyze(out)
    assert a.ok and a.revision == target, a.first_error
    # Frame fields only the target has take their defaults (spec 11.4); the source's dump has none.
    added = {sc.name for sc in REVISIONS[target].frame.subcons} - {sc.name for sc in REVISIONS[source].frame.subcons}
    assert frames_view(out, lost | added) == frames_view(src, lost | added)
    with mv2.open(src) as ms, mv2.open(out) as mo:
        for q in ("auth", "memory frame"):
            assert [h["frame_id"] for h in mo.find(q, k=10)] == [h["frame_id"] for h in ms.find(q, k=10)]
        dim = ms.stats()["dimension"]
        if dim:
            v = [0.1] * dim
            assert [h["frame_id"] for h in mo.find_vector(v, k=5)] == [h["frame_id"] for h in ms.find_vector(v, k=5)]
    if not c.losses:
        C.convert(out, back, source)
        assert frames_view(back) == frames_view(src)


# -- opened by the releases themselves (slow: each release in its own virtual environment) ------------

def release_python(version: str) -> str:
    """A virtual environment with memvid-sdk ``version`` (created once, cached under MV2_CACHE)."""
    base = Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2")) / f"venv-memvid-{version}"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"memvid-sdk=={version}"], check=True,
                       env=dict(os.environ, MEMVID_TELEMETRY="0"))
    return str(py)


READ = r"""
import json, sys, memvid_sdk
path, queries, dim = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
m = memvid_sdk.use("basic", path, mode="open", read_only=True, enable_vec=bool(dim))
out = {"timeline": [[t["frame_id"], t["timestamp"], t["uri"]] for t in m.timeline(limit=100000)],
       "find": {q: [h["frame_id"] for h in m.find(q, k=10, mode="lex")["hits"]] for q in queries},
       "verify": m.verify(deep=True)["overall_status"]}
if dim:
    out["sem"] = [h["frame_id"] for h in m.find("", k=5, mode="sem", query_embedding=[0.1] * dim)["hits"]]
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.req("R-REV-004", "R-REV-006")
@pytest.mark.parametrize("target", REVISION_ORDER)
@pytest.mark.parametrize("source", REVISION_ORDER)
def test_the_target_release_opens_every_conversion(source, target, tmp_path):
    src = GROUP_FILES[source]
    out = tmp_path / "out.mv2"
    C.convert(src, out, target, allow_loss=True)
    exp = oracle(src)
    with mv2.open(out) as m:
        dim = m.stats()["dimension"] or 0
    res = subprocess.run([release_python(GROUP_RELEASE[target]), "-c", READ, str(out), json.dumps(list(exp["find"])),
                          str(dim)], capture_output=True, text=True, env=dict(os.environ, MEMVID_TELEMETRY="0"),
                         timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout)
    assert got["verify"] == "passed"
    assert got["timeline"] == [[t["frame_id"], t["timestamp"], t["uri"]] for t in exp["timeline"]]
    if "find_sem" in exp:  # the source's own release ranked the same frames for its query; here a fixed one
        with mv2.open(out) as m:
            assert got["sem"] == [h["frame_id"] for h in m.find_vector([0.1] * dim, k=5, exact=True)]


@pytest.mark.req("R-REV-004")
@pytest.mark.parametrize("source", ["memvid-2.0.160", "memvid-2.0.131"])
def test_convert_can_rebuild_the_indexes(source, tmp_path):
    src = GROUP_FILES[source]
    before = src.read_bytes()
    a, b = tmp_path / "a.mv2", tmp_path / "b.mv2"
    c = C.convert(src, a, "memvid-2.0.123", allow_loss=True, rebuild_indexes=True)
    assert C.convert(src, b, "memvid-2.0.123", allow_loss=True, rebuild_indexes=True).sha256 == c.sha256
    assert src.read_bytes() == before  # the rebuild commit is made on a copy
    an = analyze(a)
    assert an.ok and an.revision == "memvid-2.0.123", an.first_error
    lost = {x.rsplit(".", 1)[1] for x in c.losses} | {"source_sha256", "source_path", "enrichment_state"}
    assert frames_view(a, lost) == frames_view(src, lost)
    with read_snapshot(src) as s_src, read_snapshot(a) as s_out:
        old = {e["path"] for e in s_src.toc["indexes"]["lex_segments"] if e["path"][0] != "." and e["path"] != "meta.json"}
        new = {e["path"] for e in s_out.toc["indexes"]["lex_segments"] if e["path"][0] != "." and e["path"] != "meta.json"}
    assert old and new and not old & new  # new segments, not the source's files
    with mv2.open(src) as ms, mv2.open(a) as mo:
        if ms.stats()["dimension"]:
            v = [0.1] * ms.stats()["dimension"]
            assert [h["frame_id"] for h in mo.find_vector(v, k=5)] == [h["frame_id"] for h in ms.find_vector(v, k=5)]
        assert {h["frame_id"] for h in mo.find("auth", k=50)} == {h["frame_id"] for h in ms.find("auth", k=50)}


def test_cli_convert_rebuilds_indexes_on_request(tmp_path):
    out = tmp_path / "out.mv2"
    r = CliRunner().invoke(app, ["convert", str(GROUP_FILES["memvid-2.0.147"]), str(out), "--target", "memvid-2.0.131",
                                 "--rebuild-indexes", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["losses"] == [] and analyze(out).revision == "memvid-2.0.131"
