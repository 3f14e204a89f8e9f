"""Shared fixtures: the gold vectors and their oracles."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "vectors" / "gold"
GOLD_FILES = sorted(GOLD.rglob("*.mv2"))
sys.path.insert(0, str(Path(__file__).parent))  # for crafting.py
sys.path.insert(0, str(ROOT / "tools"))

import mv2.storage.snapshot as _snapshot  # noqa: E402

# Every reload after a commit checks that the writer's TOC value equals its decoded bytes.
_snapshot.CHECK_KNOWN_TOC = True


def gold_id(p: Path) -> str:
    return f"{p.parent.name}/{p.stem}"


def oracle(p: Path) -> dict:
    return json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8"))


@pytest.fixture(params=GOLD_FILES, ids=gold_id)
def gold(request) -> Path:
    return request.param


@pytest.fixture
def single_160() -> bytes:
    return (GOLD / "memvid-sdk-2.0.160" / "single.mv2").read_bytes()


@pytest.fixture
def single_123() -> bytes:
    return (GOLD / "memvid-sdk-2.0.123" / "single.mv2").read_bytes()

