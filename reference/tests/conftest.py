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
from mv2.format.commit import FrameEncodings as _FrameEncodings  # noqa: E402

_FrameEncodings.CHECK = True  # every reused frame encoding is compared with a fresh one
import mv2.index.lex as _lex  # noqa: E402

_lex.CHECK_KNOWN_PARTS = True  # every reused Tantivy segment file is compared with the one on disk


def gold_id(p: Path) -> str:
    return f"{p.parent.name}/{p.stem}"


def oracle(p: Path) -> dict:
    return json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8"))


def producer_release(p: Path) -> str:
    """The memvid release that wrote gold file ``p`` (its folder's name, ``memvid-sdk-2.0.151``,
    ``memvid-cli-2.0.151``, ``memvid-node-2.0.159``). memvid's npm packages carry the version of
    the memvid-sdk release that writes the same TOC revision (gold/README.md)."""
    return p.parent.name.rsplit("-", 1)[-1]


# The producer's default find passage size (gold/README.md): the oracles were taken with it,
# and it changes how many passages, hence hits, a frame yields.
SNIPPET_CHARS = {"memvid-sdk-2.0.123": 240, "memvid-sdk-2.0.140": 240, "memvid-sdk-2.0.151": 240,
                 "memvid-sdk-2.0.160": 480, "memvid-cli-2.0.151": 480, "memvid-cli-2.0.160": 480,
                 "memvid-node-2.0.159": 480}


# memvid's semantic score is 1 - L2 distance, except memvid-sdk 2.0.151, the Node SDK's vecSearch
# (and the pq96 file, see gold/README.md), which report 1 - distance/2: same hits, same order,
# a constant factor.
SEM_SCORE_SCALE = {"memvid-sdk-2.0.151": 0.5, "memvid-node-2.0.159": 0.5}


def sem_score_scale(p: Path) -> float:
    return 0.5 if p.stem == "vectors-pq96" else SEM_SCORE_SCALE.get(p.parent.name, 1.0)


def snippet_chars(p: Path) -> int:
    return SNIPPET_CHARS[p.parent.name]


def applies_wal(p: Path) -> bool:
    """Whether the oracle of ``p`` includes pending WAL records. memvid reads a killed writer's
    file either after replaying them (read-write open) or, when it cannot, without them."""
    return not oracle(p).get("committed_only", False)


@pytest.fixture(params=GOLD_FILES, ids=gold_id)
def gold(request) -> Path:
    return request.param


@pytest.fixture
def single_160() -> bytes:
    return (GOLD / "memvid-sdk-2.0.160" / "single.mv2").read_bytes()


@pytest.fixture
def single_123() -> bytes:
    return (GOLD / "memvid-sdk-2.0.123" / "single.mv2").read_bytes()

