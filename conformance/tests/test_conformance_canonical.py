"""The runner's canonical JSON and hashes agree with the manifests', and dump differences are located."""

from __future__ import annotations

import copy
import json

from conformance_support import ROOT
from mv2_conformance.canonical import canonical_text, crash_dump_hash, first_difference, sha256_hex

VALID = ROOT / "vectors" / "valid"


def _dumps():
    manifest = json.loads((VALID / "manifest.json").read_text(encoding="utf-8"))
    for v in manifest["vectors"]:
        yield v, json.loads((VALID / v["dump"]).read_text(encoding="utf-8"))


def test_canonical_text_reproduces_every_expected_dump_hash():
    for v, dump in _dumps():
        assert sha256_hex(canonical_text(dump).encode("utf-8")) == v["dump_sha256"], v["name"]


def test_crash_hash_ignores_pending_and_nothing_else():
    _, dump = next((v, d) for v, d in _dumps() if v["name"] == "delete")
    flipped = copy.deepcopy(dump)
    flipped["frames"][0]["pending"] = not flipped["frames"][0]["pending"]
    assert crash_dump_hash(flipped) == crash_dump_hash(dump)
    flipped["frames"][0]["timestamp"] += 1
    assert crash_dump_hash(flipped) != crash_dump_hash(dump)


def test_first_difference_names_the_place():
    want = {"dump_version": 1, "frames": [{"id": 0, "tags": ["a"], "pending": False}]}
    assert first_difference(copy.deepcopy(want), want) is None
    got = copy.deepcopy(want)
    got["frames"][0]["tags"] = ["a", "b"]
    assert first_difference(got, want) == "$.frames[0].tags: 2 items, expected 1"
    got = copy.deepcopy(want)
    got["frames"][0]["pending"] = 0  # false and 0 are different dump values
    assert first_difference(got, want).startswith("$.frames[0].pending: got 0")
    got = copy.deepcopy(want)
    del got["frames"][0]["id"]
    assert first_difference(got, want) == "$.frames[0]: member 'id' missing"
    assert first_difference({"x": 1.0}, {"x": 1}) is None  # JSON does not tell 1 from 1.0
