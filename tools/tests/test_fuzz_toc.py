"""Structure-aware fuzzing (tools/fuzz_toc.py): one TOC value changed, every checksum right.

The reader, the verifier and the writer may refuse such a file only with an ``mv2`` error,
within a time limit; a file that still verifies must still verify after a write."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import fuzz_toc  # noqa: E402
import gen_vectors  # noqa: E402

GOLD_BASES = [fuzz_toc.GOLD / b for b in fuzz_toc.DEFAULT_BASES]


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """memvid's files, and files our writer made: extended indexes, vector segments, compaction."""
    d = tmp_path_factory.mktemp("fuzz-bases")
    ours = ["many-commits", "compaction", "vectors-8d"]
    for name in ours:
        gen_vectors.produce(name, gen_vectors.scenarios()[name], d)
    return GOLD_BASES + [d / f"{name}.mv2" for name in ours]


@pytest.mark.req("R-VFY-003")
def test_a_short_round_finds_nothing(bases):
    out = fuzz_toc.run(bases, iterations=200, seed=11)
    assert out["forged"] > 50
    assert out["findings"] == []


@pytest.mark.slow
@pytest.mark.req("R-VFY-003")
def test_a_long_round_finds_nothing(bases):
    out = fuzz_toc.run(bases, iterations=4000, seed=12)
    assert out["findings"] == []


def test_the_fuzzer_reports_what_it_should():
    """A forged case that makes the reader fail with a foreign exception is a finding."""
    import mv2.storage.snapshot as snapshot

    original = snapshot.Snapshot.memory_cards

    def broken(self):
        raise KeyError("planted")

    snapshot.Snapshot.memory_cards = broken
    try:
        out = fuzz_toc.run([fuzz_toc.GOLD / "memvid-sdk-2.0.160" / "single.mv2"], iterations=5, seed=1)
    finally:
        snapshot.Snapshot.memory_cards = original
    assert out["findings"] and all("KeyError" in f["error"] for f in out["findings"])


def test_a_forged_file_keeps_every_checksum():
    from mv2.storage.verify import analyze
    from mv2.storage.source import Source

    data = (fuzz_toc.GOLD / "memvid-sdk-2.0.160" / "single.mv2").read_bytes()
    rng = random.Random(3)
    seen = 0
    for _ in range(40):
        forged = fuzz_toc.forge(data, rng)
        if forged is None:
            continue
        seen += 1
        first = analyze(Source(forged[0])).first_error
        # The footer and the TOC's own checksums always match: a change is caught, if at all,
        # by the rule it breaks.
        assert first is None or first.code not in ("MV2-E-FTR-HASH", "MV2-E-TOC-HASH", "MV2-E-HDR-TOC-HASH"), forged[1]
    assert seen > 10
