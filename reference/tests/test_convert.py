"""Converting between TOC revisions: memvid releases open each other's files through mv2."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mv2
from conftest import GOLD, oracle
from mv2 import convert as C
from mv2.cli.main import app
from mv2.errors import UsageError
from mv2.format.revisions import REVISIONS, decode_toc
from mv2.storage.snapshot import read_snapshot
from mv2.storage.view import dump

G123 = sorted((GOLD / "memvid-sdk-2.0.123").glob("*.mv2"))
G160 = sorted((GOLD / "memvid-sdk-2.0.160").glob("*.mv2"))
LOST_160_TO_123 = {"source_sha256", "enrichment_state"}


def dump_of(path) -> dict:
    with read_snapshot(path) as s:
        return dump(s)


def masked(d: dict, fields) -> list[dict]:
    return [{k: (None if k in fields else v) for k, v in f.items() if k != "pending"} for f in d["frames"]]


@pytest.mark.req("R-REV-003", "R-REV-004")
@pytest.mark.parametrize("src", G123, ids=lambda p: p.stem)
def test_123_to_160_and_back_is_lossless(src, tmp_path):
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    mid, back = tmp_path / "mid.mv2", tmp_path / "back.mv2"
    c = C.convert(src, mid, "memvid-2.0.160")
    assert c.losses == [] and c.source_revision == "memvid-2.0.123"
    a = mv2.verify(mid)
    assert a.ok and a.revision == "memvid-2.0.160", a.first_error
    assert C.convert(mid, back, "memvid-2.0.123").losses == []
    assert dump_of(back) == dump_of(src)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # the source is never modified


@pytest.mark.req("R-REV-003", "R-REV-004")
@pytest.mark.parametrize("src", G160, ids=lambda p: p.stem)
def test_160_to_123_reports_what_it_loses(src, tmp_path):
    out = tmp_path / "out.mv2"
    report = C.check(src)
    lost = report["memvid-2.0.123"]
    if lost:
        with pytest.raises(UsageError, match="would lose"):
            C.convert(src, out, "memvid-2.0.123")
        assert not out.exists()  # refused before anything was written
    c = C.convert(src, out, "memvid-2.0.123", allow_loss=True)
    assert c.losses == lost
    assert {x.rsplit(".", 1)[1] for x in lost} <= LOST_160_TO_123
    with read_snapshot(out) as s:  # validation against the 2.0.123 schema
        toc = s.source.read(s.commit.toc_offset, s.commit.toc_len, what="toc")
    assert decode_toc(toc, revision="memvid-2.0.123")[0].name == "memvid-2.0.123"
    assert mv2.verify(out).ok
    assert masked(dump_of(out), LOST_160_TO_123) == masked(dump_of(src), LOST_160_TO_123)


def test_convert_is_deterministic_and_refuses_to_overwrite(tmp_path):
    src = GOLD / "memvid-sdk-2.0.123" / "put-loop.mv2"
    a, b = tmp_path / "a.mv2", tmp_path / "b.mv2"
    assert C.convert(src, a, "memvid-2.0.160").sha256 == C.convert(src, b, "memvid-2.0.160").sha256
    with pytest.raises(UsageError, match="never overwrites"):
        C.convert(src, a, "memvid-2.0.160")
    with pytest.raises(UsageError, match="unknown revision"):
        C.convert(src, tmp_path / "c.mv2", "memvid-9.9.9")


def test_pending_records_are_committed_into_the_converted_file(tmp_path):
    src = GOLD / "memvid-sdk-2.0.160" / "killed-mid-batch.mv2"
    out = tmp_path / "out.mv2"
    C.convert(src, out, "memvid-2.0.123", allow_loss=True)
    with mv2.open(out) as m:
        assert len(m.frames()) == oracle(src)["stats"]["frame_count"] and not any(f["pending"] for f in m.frames())


@pytest.mark.req("R-REV-001")
def test_inspect_names_the_revision_and_writer(tmp_path):
    runner = CliRunner()
    info = json.loads(runner.invoke(app, ["inspect", str(G123[0]), "--json"]).stdout)
    assert info["revision"] == "memvid-2.0.123" and info["spec_version"] == "2.1"
    assert info["writer"].startswith("memvid-core") and info["tantivy_version"] == "0.24.2"
    ours = tmp_path / "ours.mv2"
    with mv2.create(ours) as m:
        m.put("x", timestamp=1)
    info = json.loads(runner.invoke(app, ["inspect", str(ours), "--json"]).stdout)
    assert info["writer"] == "mv2 reference writer"


def test_cli_convert(tmp_path):
    runner = CliRunner()
    src = str(GOLD / "memvid-sdk-2.0.160" / "single.mv2")
    r = runner.invoke(app, ["convert", "--check", src, "--json"])
    assert json.loads(r.stdout)["revisions"]["memvid-2.0.160"] == []
    r = runner.invoke(app, ["convert", src, str(tmp_path / "o.mv2"), "--target", "memvid-2.0.123"])
    assert r.exit_code == 2 and "would lose" in r.output
    r = runner.invoke(app, ["convert", src, str(tmp_path / "o.mv2"), "--target", "memvid-2.0.123", "--allow-loss", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["losses"]


READ = r"""
import json, sys, hashlib, memvid_sdk
m = memvid_sdk.use("basic", sys.argv[1], mode="open", read_only=True)
out = {"frame_count": dict(m.stats())["frame_count"],
       "timeline": [[t["frame_id"], t["timestamp"], t["uri"], t["preview"]] for t in m.timeline(limit=100000)],
       "blobs": {t["uri"]: hashlib.sha256(m.blob(t["uri"])).hexdigest() for t in m.timeline(limit=100000)},
       "find": {q: [h["frame_id"] for h in m.find(q, k=10, mode="lex", snippet_chars=int(sys.argv[3]))["hits"]] for q in json.loads(sys.argv[2])},
       "verify": m.verify(deep=True)["overall_status"]}
print(json.dumps(out))
"""


def run_memvid(python: str, path, queries, snippet_chars: int) -> dict:
    res = subprocess.run([python, "-c", READ, str(path), json.dumps(queries), str(snippet_chars)], capture_output=True,
                         text=True, env=dict(os.environ, MEMVID_TELEMETRY="0"), timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout)


@pytest.mark.interop
@pytest.mark.req("R-REV-004")
@pytest.mark.parametrize("src", G123, ids=lambda p: p.stem)
def test_memvid_160_reads_converted_123_files_as_123_did(src, tmp_path):
    """memvid-sdk 2.0.160 cannot open a 2.0.123 file; after conversion it reads what 2.0.123 read."""
    pytest.importorskip("memvid_sdk")
    exp = oracle(src)
    out = tmp_path / src.name
    C.convert(src, out, "memvid-2.0.160")
    # 2.0.123 cut 240-character passages by default; ask 2.0.160 for the same to compare hits.
    got = run_memvid(sys.executable, out, list(exp.get("find", {})), 240)
    assert got["verify"] == "passed"
    assert got["frame_count"] == exp["stats"]["frame_count"]
    assert got["timeline"] == [[t["frame_id"], t["timestamp"], t["uri"], t["preview"]] for t in exp["timeline"]]
    for uri, o in exp["frames_by_uri"].items():
        assert got["blobs"][uri] == o["blob_sha256"]
    for q, hits in exp.get("find", {}).items():
        assert got["find"][q] == [h["frame_id"] for h in hits], q


def _venv_123() -> str:
    """A virtual environment with memvid-sdk 2.0.123 (created once, cached)."""
    base = Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2")) / "venv-memvid-2.0.123"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "memvid-sdk==2.0.123"], check=True,
                       env=dict(os.environ, MEMVID_TELEMETRY="0"))
    return str(py)


@pytest.mark.slow
@pytest.mark.parametrize("src", G160, ids=lambda p: p.stem)
def test_memvid_123_reads_converted_160_files(src, tmp_path):
    """Opt-in (pytest -m slow): installs memvid-sdk 2.0.123 in its own venv and reads our conversions."""
    exp = oracle(src)
    out = tmp_path / src.name
    C.convert(src, out, "memvid-2.0.123", allow_loss=True)
    got = run_memvid(_venv_123(), out, [], 240)
    assert got["verify"] == "passed"
    assert got["frame_count"] == exp["stats"]["frame_count"]
    assert [t[:3] for t in got["timeline"]] == [[t["frame_id"], t["timestamp"], t["uri"]] for t in exp["timeline"]]


def test_revisions_known():
    assert set(REVISIONS) == {"memvid-2.0.160", "memvid-2.0.147", "memvid-2.0.131", "memvid-2.0.123"}
