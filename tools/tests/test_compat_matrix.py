"""The compatibility matrix (tools/compat_matrix.py) on two releases of different revisions.
Slow: installs both memvid-sdk releases (cached under MV2_CACHE)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import compat_matrix  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.req("R-REV-004")
def test_each_release_reads_its_own_file_natively_and_the_others_after_convert(tmp_path):
    impls = [compat_matrix.PySdk("2.0.140"), compat_matrix.PySdk("2.0.160")]
    m = compat_matrix.matrix(impls, tmp_path)
    a, b = (i.name for i in impls)
    assert m["cells"][a][a]["result"] == m["cells"][b][b]["result"] == "native"
    for w, r in ((a, b), (b, a)):
        cell = m["cells"][w][r]
        assert not cell["native"]["ok"] and "error" in cell["native"]  # the revisions differ (spec 11)
        assert cell["result"] == "after convert" and cell["after"]["verify"] == "passed", cell
        assert cell["after"]["lex"] > 0 and cell["after"]["sem"] == 5
    page = compat_matrix.markdown(m)
    assert f"| {a} (`memvid-2.0.131`) | native | after convert |" in page
