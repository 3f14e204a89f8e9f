"""Single-bit flips past the WAL: every covered byte is detected, nothing changes silently."""

from __future__ import annotations

import pytest

import flipcheck
from conftest import GOLD


def _run(trials: int, seed: int):
    files = sorted(GOLD.rglob("*.mv2"))
    return flipcheck.run(files, trials, seed)


@pytest.mark.req("R-SUM-002", "R-SUM-004")
def test_flips_are_detected_in_ci():
    r = _run(120, seed=11)
    assert r["outcomes"].get("silent-change", 0) == 0, r["examples"]
    assert r["outcomes"].get("crash", 0) == 0, r["examples"]
    assert r["covered_detection_rate"] == 1.0
    assert r["outcomes"]["detected"] >= 100


@pytest.mark.slow
def test_flips_are_detected_long():
    r = _run(3000, seed=2)
    assert r["outcomes"].get("silent-change", 0) == 0, r["examples"]
    assert r["outcomes"].get("crash", 0) == 0, r["examples"]
    assert r["covered_detection_rate"] == 1.0
