"""mv2 diff: logical differences frame by frame, index differences, the byte-level region view, exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

import mv2
from conftest import GOLD
from mv2 import convert as C
from mv2.cli.main import app
from mv2.diff import diff_files

runner = CliRunner()
F160 = GOLD / "memvid-sdk-2.0.160"
F123 = GOLD / "memvid-sdk-2.0.123"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _pair(tmp_path):
    """A file and a copy edited by the writer: one put, one supersede, one delete."""
    a = tmp_path / "a.mv2"
    with mv2.create(a) as m:
        m.put("first line\nsecond line\n", uri="mv2://n/0", title="Zero", timestamp=1700000000, embedding=[1.0, 0.0])
        m.put("to be deleted", uri="mv2://n/1", timestamp=1700000001, embedding=[0.0, 1.0])
        m.put("stays", uri="mv2://n/2", timestamp=1700000002, tags=["x"], embedding=[0.5, 0.5])
    b = tmp_path / "b.mv2"
    shutil.copy(a, b)
    with mv2.open(b, "a") as m:
        m.supersede(0, "first line\nsecond line changed\n", timestamp=1700000100, embedding=[1.0, 1.0])
        m.delete(1)
        m.put("brand new", uri="mv2://n/4", timestamp=1700000200, embedding=[0.2, 0.1])
    return a, b


@pytest.mark.req("R-DIF-001", "R-DIF-002")
def test_logical_diff_of_writer_edits(tmp_path):
    a, b = _pair(tmp_path)
    d = diff_files(a, b)
    assert not d.identical and not d.logically_same
    assert d.added == [3, 4] and d.removed == []
    by_id = {c.id: c for c in d.changed}
    assert sorted(by_id) == [0, 1]
    assert by_id[0].fields["status"] == ("active", "superseded") and by_id[0].fields["superseded_by"] == (None, 3)
    assert by_id[1].fields["status"] == ("active", "deleted")
    assert {(s["id"], s["a"], s["b"]) for s in d.status_changes} == {(0, "active", "superseded"), (1, "active", "deleted")}
    # The full-text index holds only active frames: the superseded and deleted ones left it.
    assert d.indexes["lex"] == {"only_in_a": [0, 1], "only_in_b": [3, 4]}
    assert d.indexes["vec"] == {"only_in_a": [0, 1], "only_in_b": [3, 4], "changed": []}
    # Frame 2 was untouched: equal records, never listed.
    assert 2 not in by_id


@pytest.mark.req("R-DIF-001")
def test_changed_text_is_a_unified_diff(tmp_path):
    a = tmp_path / "a.mv2"
    b = tmp_path / "b.mv2"
    for path, text in ((a, "alpha\nbeta\ngamma\n"), (b, "alpha\nBETA\ngamma\n")):
        with mv2.create(path) as m:
            m.put(text, uri="mv2://t", timestamp=1700000000)
    d = diff_files(a, b)
    (c,) = d.changed
    assert "-beta\n" in c.text_diff and "+BETA\n" in c.text_diff and c.text_diff.startswith("--- a/frame/0\n+++ b/frame/0\n")
    assert c.fields["payload_sha256"][0] != c.fields["payload_sha256"][1]
    r = run("diff", a, b)
    assert r.exit_code == 1 and "+BETA" in r.stdout and "~ frame 0" in r.stdout


@pytest.mark.req("R-DIF-003")
def test_identical_and_logically_same_files(tmp_path):
    src = F123 / "session.mv2"
    assert run("diff", src, src).exit_code == 0
    conv = tmp_path / "conv.mv2"
    C.convert(src, conv, "memvid-2.0.160")
    d = diff_files(src, conv)
    # Another revision, another layout: every byte may move, but the meaning is the same.
    assert d.logically_same and not d.identical
    assert d.a.revision == "memvid-2.0.123" and d.b.revision == "memvid-2.0.160"
    payloads = [r for r in d.regions if r.kind == "payload"]
    assert payloads and all(r.status in ("same", "moved") for r in payloads)
    assert any(r.name == "TOC" and r.status == "differ" for r in d.regions)
    assert run("diff", src, conv).exit_code == 1
    assert run("diff", "--logical", src, conv).exit_code == 0


@pytest.mark.req("R-DIF-002")
def test_byte_view_points_at_the_damaged_payload(tmp_path):
    src = F123 / "session.mv2"
    with mv2.open(src) as m:
        f = next(fs.fields for fs in m._snap.frames if fs.fields["payload_length"] > 16)
        fid, off, ln = f["id"], f["payload_offset"], f["payload_length"]
    bad = tmp_path / "bad.mv2"
    data = bytearray(src.read_bytes())
    data[off + ln // 2] ^= 0x40
    bad.write_bytes(bytes(data))
    d = diff_files(src, bad)
    assert d.first_byte_difference == off + ln // 2
    assert d.b.ok is False and d.b.error["code"] == "MV2-E-FRAME-HASH"
    (r,) = [r for r in d.regions if r.status != "same"]
    assert r.name == f"payload frame {fid}" and r.covered_by == "frame.checksum"
    assert r.first_difference == {"relative": ln // 2, "a": off + ln // 2, "b": off + ln // 2}
    (c,) = d.changed
    assert "MV2-E-FRAME-HASH" in c.fields["unreadable"][1]
    j = json.loads(run("diff", "--json", src, bad).stdout)
    assert j["first_byte_difference"] == off + ln // 2 and j["b"]["error"]["code"] == "MV2-E-FRAME-HASH"


@pytest.mark.req("R-DIF-001")
def test_memory_cards_are_compared():
    d = diff_files(F160 / "single.mv2", F160 / "memory-cards.mv2")
    assert d.cards["added"] and not d.cards["removed"]
    same = diff_files(F160 / "memory-cards.mv2", F160 / "memory-cards.mv2")
    assert same.identical and not any(same.cards.values())


@pytest.mark.req("R-DIF-003")
def test_diff_cannot_run(tmp_path):
    junk = tmp_path / "junk.mv2"
    junk.write_bytes(b"not a memory file" * 1000)
    for args in ((tmp_path / "missing.mv2", F160 / "single.mv2"), (junk, F160 / "single.mv2")):
        r = run("diff", *args)
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit)


def test_textconv_is_one_block_per_frame(tmp_path):
    a, b = _pair(tmp_path)
    r = run("textconv", b)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "mv2 dump_version 1: 5 frames"
    heads = [line for line in lines if line.startswith("frame ")]
    assert [h.split()[1:3] for h in heads] == [["0", "superseded"], ["1", "deleted"], ["2", "active"], ["3", "active"], ["4", "active"]]
    assert "    second line changed" in lines


@pytest.mark.req("R-DIF-003")
def test_damaged_files_are_compared_or_refused_cleanly():
    """Every crafted bad file: exit 1 (compared, differences shown) or 2 (unreadable), never a traceback."""
    ref = F160 / "single.mv2"
    bad = sorted((GOLD.parent / "invalid").glob("*.mv2")) + sorted((GOLD.parent / "crash").glob("*.mv2"))
    assert len(bad) > 30
    codes = set()
    for f in bad:
        r = run("diff", ref, f)
        assert r.exit_code in (1, 2) and isinstance(r.exception, SystemExit), (f, r.output)
        codes.add(r.exit_code)
    assert codes == {1, 2}


@pytest.mark.slow
@pytest.mark.req("R-DIF-001")
@pytest.mark.parametrize("src", sorted(F123.glob("*.mv2")), ids=lambda p: p.stem)
def test_every_old_gold_file_means_the_same_after_conversion(tmp_path, src):
    conv = tmp_path / "conv.mv2"
    C.convert(src, conv, "memvid-2.0.160")
    d = diff_files(src, conv)
    assert d.logically_same, d.to_json()["frames"]
