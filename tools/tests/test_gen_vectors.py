"""The committed golden vectors are exactly what the writer produces today."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gen_vectors  # noqa: E402


@pytest.mark.req("R-DET-001")
def test_vectors_are_reproduced():
    assert gen_vectors.run(write=False) == []


@pytest.mark.req("R-DUR-001")
def test_negative_and_crash_vectors_are_reproduced():
    assert gen_vectors.negative(write=False) == []
    assert gen_vectors.crash(write=False) == []


def test_every_vector_verifies(tmp_path):
    import mv2

    for name, sc in gen_vectors.scenarios().items():
        gen_vectors.produce(name, sc, tmp_path)
        a = mv2.verify(tmp_path / f"{name}.mv2")
        assert a.ok, (name, a.first_error)
        assert not a.warnings, (name, a.warnings)
