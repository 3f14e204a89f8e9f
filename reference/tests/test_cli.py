"""The command line: outputs agree with the oracles, exit codes follow the contract."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from conftest import GOLD, oracle
from mv2.cli.main import app

runner = CliRunner()
F160 = GOLD / "memvid-sdk-2.0.160"
F123 = GOLD / "memvid-sdk-2.0.123"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.req("R-VFY-002")
def test_verify_exit_codes(tmp_path):
    ok = run("verify", F160 / "deleted.mv2")
    assert ok.exit_code == 0 and ok.stdout.startswith("ok ")
    bad = tmp_path / "bad.mv2"
    data = bytearray((F160 / "single.mv2").read_bytes())
    data[0] = 0
    bad.write_bytes(bytes(data))
    r = run("verify", bad)
    assert r.exit_code == 1 and r.stdout.startswith("MV2-E-HDR-MAGIC at byte 0")
    assert run("verify", tmp_path / "missing.mv2").exit_code == 2
    assert run("verify", tmp_path).exit_code == 2
    j = json.loads(run("verify", bad, "--json").stdout)
    assert j["ok"] is False and j["error"]["code"] == "MV2-E-HDR-MAGIC" and j["error"]["offset"] == 0


def test_inspect_maps_regions():
    r = run("inspect", F160 / "single.mv2", "--json")
    assert r.exit_code == 0
    info = json.loads(r.stdout)
    names = {x["name"] for x in info["regions"]}
    assert {"header", "WAL region", "TOC", "footer", "time index", "sketch track"} <= names
    assert info["revision"] == "memvid-2.0.160" and info["toc_offset"] == 78420
    plain = run("inspect", F160 / "single.mv2")
    assert "time index" in plain.stdout and "ok" in plain.stdout


@pytest.mark.req("R-DMP-002")
def test_dump_is_canonical_json():
    r = run("dump", F123 / "unicode.mv2")
    assert r.exit_code == 0
    text = r.stdout
    obj = json.loads(text)
    assert text == json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert obj["dump_version"] == 1 and len(obj["frames"]) == 6


def test_cat_returns_blob_bytes():
    exp = oracle(F123 / "same-uri.mv2")
    uri, o = next(iter(exp["frames_by_uri"].items()))
    r = runner.invoke(app, ["cat", str(F123 / "same-uri.mv2"), uri])
    assert r.exit_code == 0
    assert hashlib.sha256(r.stdout_bytes).hexdigest() == o["blob_sha256"]
    by_id = runner.invoke(app, ["cat", str(F123 / "same-uri.mv2"), str(o["frame"]["id"])])
    assert by_id.stdout_bytes == r.stdout_bytes
    assert run("cat", F123 / "same-uri.mv2", "999").exit_code == 1
    assert run("cat", F123 / "same-uri.mv2", "mv2://nope").exit_code == 1


@pytest.mark.req("R-TIME-004")
def test_timeline_filters():
    exp = oracle(F160 / "put-loop.mv2")["timeline"]
    r = run("timeline", F160 / "put-loop.mv2", "--json")
    got = json.loads(r.stdout)["entries"]
    assert [e["frame_id"] for e in got] == [t["frame_id"] for t in exp]
    mid = exp[len(exp) // 2]["timestamp"]
    r = run("timeline", F160 / "put-loop.mv2", "--json", "--since", mid, "--reverse", "--limit", 3)
    got = json.loads(r.stdout)["entries"]
    want = [t for t in exp if t["timestamp"] >= mid][::-1][:3]
    assert [e["frame_id"] for e in got] == [t["frame_id"] for t in want]


def test_compact_command(tmp_path):
    import shutil

    path = tmp_path / "m.mv2"
    shutil.copy(F160 / "put-loop.mv2", path)
    before = json.loads(run("dump", path).stdout)
    r = run("compact", path, "--json")
    assert r.exit_code == 0, r.stdout
    rep = json.loads(r.stdout)
    assert rep["after"] == path.stat().st_size and rep["after"] <= rep["before"]
    assert json.loads(run("dump", path).stdout) == before
    assert run("verify", path).exit_code == 0
    assert run("compact", tmp_path / "missing.mv2").exit_code == 2
