"""The memories track (spec 9.6): memory cards read as memvid reads them, checked, and carried
through our commits and compactions unchanged."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys

import pytest
import zstandard

import mv2
from conftest import GOLD, oracle
from mv2.errors import CorruptFileError
from mv2.format import memories as MEM
from mv2.storage.snapshot import read_snapshot
from mv2.storage.verify import analyze

CARDS_FILE = GOLD / "memvid-sdk-2.0.160" / "memory-cards.mv2"
WITH_CARDS = [p for p in sorted(GOLD.rglob("*.mv2")) if "memories" in oracle(p)]
# The members memvid's memories() reports, and the value it reports for a member the card lacks.
MEMVID_VIEW = ("id", "kind", "entity", "slot", "value", "polarity", "confidence", "source_frame_id", "source_uri",
               "engine", "engine_version")


def memvid_view(card: dict) -> dict:
    return {k: card.get(k) for k in MEMVID_VIEW}


def track(doc, *, magic=b"MVMC", version=1, length_delta=0, raw: bytes | None = None) -> bytes:
    body = raw if raw is not None else zstandard.ZstdCompressor(level=3).compress(json.dumps(doc).encode())
    return magic + struct.pack("<HQ", version, len(body) + length_delta) + body


def test_there_is_a_gold_file_with_cards():
    assert CARDS_FILE in WITH_CARDS


@pytest.mark.req("R-SEG-005", "R-DMP-001")
@pytest.mark.parametrize("path", WITH_CARDS, ids=lambda p: p.stem)
def test_cards_are_what_memvid_reads(path):
    want = [memvid_view(c) for c in oracle(path)["memories"]]
    with mv2.open(path) as m:
        got = m.memory_cards()
        dumped = m.dump()["memory_cards"]
    assert [memvid_view(c) for c in got] == want
    assert dumped == got and [c["id"] for c in got] == sorted(c["id"] for c in got)
    # A card may cite a frame the file does not have (memvid's extractor writes such cards).
    assert any(c["source_frame_id"] >= len(oracle(path)["timeline"]) for c in got)


def test_filters_are_case_insensitive():
    with mv2.open(CARDS_FILE) as m:
        alice = m.memory_cards(entity="ALICE")
        employers = m.memory_cards(entity="alice", slot="Employer")
    assert alice and all(c["entity"].casefold() == "alice" for c in alice)
    assert {c["value"] for c in employers} == {"Acme Corp", "Initech"}


def test_files_without_a_track_dump_without_the_member():
    with mv2.open(GOLD / "memvid-sdk-2.0.160" / "single.mv2") as m:
        assert "memory_cards" not in m.dump() and m.memory_cards() == []


@pytest.mark.req("R-SEG-005")
@pytest.mark.parametrize("name,data", [
    ("short", b"MVMC\x01\x00"),
    ("magic", track({"cards": []}, magic=b"MVMX")),
    ("version", track({"cards": []}, version=2)),
    ("length", track({"cards": []}, length_delta=1)),
    ("zstd", track(None, raw=b"\x28\xb5\x2f\xfd" + b"\xff" * 20)),
    ("truncated-zstd", track(None, raw=zstandard.ZstdCompressor().compress(b'{"cards": []}' * 50)[:-3])),
    ("not-utf8", track(None, raw=zstandard.ZstdCompressor().compress(b'{"cards": ["\xff"]}'))),
    ("not-json", track(None, raw=zstandard.ZstdCompressor().compress(b"cards"))),
    ("deep", track(None, raw=zstandard.ZstdCompressor().compress(b"[" * 100_000))),
    ("huge-int", track(None, raw=zstandard.ZstdCompressor().compress(b'{"cards": [{"id": ' + b"9" * 5000 + b"}]}"))),
    ("not-object", track([1, 2])),
    ("no-cards", track({"next_id": 0})),
    ("card-not-object", track({"cards": [3]})),
    ("negative-id", track({"cards": [{"id": -1, "entity": "a", "slot": "b", "value": "c"}]})),
    ("bool-id", track({"cards": [{"id": True, "entity": "a", "slot": "b", "value": "c"}]})),
    ("duplicate-id", track({"cards": [{"id": 1, "entity": "a", "slot": "b", "value": "c"}] * 2})),
    ("no-value", track({"cards": [{"id": 1, "entity": "a", "slot": "b"}]})),
])
def test_malformed_tracks_raise_seg_decode(name, data):
    with pytest.raises(CorruptFileError) as exc:
        MEM.decode_memories(data, offset=1234)
    assert exc.value.code == "MV2-E-SEG-DECODE" and exc.value.offset == 1234


def test_decompression_is_bounded(monkeypatch):
    monkeypatch.setattr(MEM, "MAX_MEMORIES_JSON", 1 << 20)
    bomb = zstandard.ZstdCompressor(level=19).compress(b'{"cards": [], "pad": "' + b"a" * (8 << 20) + b'"}')
    assert len(bomb) < 4096
    with pytest.raises(CorruptFileError, match="limit") as exc:
        MEM.decode_memories(track(None, raw=bomb), offset=0)
    assert exc.value.code == "MV2-E-SEG-DECODE"


def test_a_well_formed_track_decodes():
    doc = {"cards": [{"id": 2, "entity": "a", "slot": "b", "value": "c", "kind": "fact"},
                     {"id": 0, "entity": "x", "slot": "y", "value": "z", "confidence": 0.5}], "next_id": 3}
    assert MEM.memory_cards(MEM.decode_memories(track(doc))) == sorted(doc["cards"], key=lambda c: c["id"])


@pytest.mark.req("R-SEG-004")
def test_reading_cards_checks_the_tracks_checksum(tmp_path):
    data = bytearray(CARDS_FILE.read_bytes())
    with read_snapshot(CARDS_FILE) as s:
        off = s.toc["memories_track"]["bytes_offset"]
    data[off + 30] ^= 1
    path = tmp_path / "bad.mv2"
    path.write_bytes(bytes(data))
    with read_snapshot(path) as s, pytest.raises(CorruptFileError) as exc:
        s.memory_cards()
    assert exc.value.code == "MV2-E-SEG-HASH" and exc.value.offset == off
    assert analyze(path).first_error.code == "MV2-E-SEG-HASH"


@pytest.mark.req("R-SEG-006")
def test_our_commits_and_compaction_carry_the_cards(tmp_path):
    path = tmp_path / "cards.mv2"
    shutil.copy(CARDS_FILE, path)
    with mv2.open(CARDS_FILE) as m:
        before = m.memory_cards()
    with mv2.open(path, "a") as m:
        m.put("Carol joined Acme in May.", uri="mv2://notes/carol", timestamp=1700000240)
        m.seal()
        m.delete(1, timestamp=1700000300)
    with mv2.open(path) as m:
        assert m.memory_cards() == before and m.frame_count == 5
    with mv2.open(path, "a") as m:
        out = m.compact()
    assert out["after"] < out["before"]
    assert analyze(path).ok
    with mv2.open(path) as m:
        assert m.memory_cards() == before


MEMVID_CARDS = r"""
import json, sys, memvid_sdk
m = memvid_sdk.use("basic", sys.argv[1], mode="open", read_only=True)
print(json.dumps({"cards": sorted(m.memories()["cards"], key=lambda c: c["id"]),
                  "uris": [t["uri"] for t in m.timeline(limit=100)]}))
"""


@pytest.mark.interop
@pytest.mark.req("R-SEG-006")
def test_memvid_reads_the_cards_after_our_append_and_compaction(tmp_path):
    pytest.importorskip("memvid_sdk", reason="memvid-sdk is not installed (pip install -e '.[interop]')")
    path = tmp_path / "cards.mv2"
    shutil.copy(CARDS_FILE, path)
    with mv2.open(path, "a") as m:
        m.put("Carol joined Acme in May.", uri="mv2://notes/carol", timestamp=1700000240)
        m.seal()
        m.compact()
    env = dict(os.environ, MEMVID_TELEMETRY="0")
    res = subprocess.run([sys.executable, "-c", MEMVID_CARDS, str(path)], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout)
    assert got["cards"] == oracle(CARDS_FILE)["memories"]
    assert "mv2://notes/carol" in got["uris"]
