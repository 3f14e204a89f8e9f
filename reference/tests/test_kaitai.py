"""spec/mv2.ksy (Kaitai Struct) reads the gold files exactly as the Construct schema does.

The .ksy is compiled once per test session into a temporary directory (tools/ksy_check.py;
the npm compiler itself is installed once under the user cache). Skipped only when Node/npm
are not installed; a missing ``kaitaistruct`` runtime is a failure, not a skip.
"""

from __future__ import annotations

import struct

import pytest

from conftest import GOLD, GOLD_FILES

import ksy_check
from mv2.format.revisions import REVISIONS

WAL_OFFSET = 4096
SENTINEL_160_SINGLE = 2114
"""Region offset of the WAL sentinel in memvid-sdk-2.0.160/single.mv2 (2 records before it)."""


@pytest.fixture(scope="session")
def Mv2(tmp_path_factory):
    if not ksy_check.node_available():
        pytest.skip("node and npm are not installed: cannot compile spec/mv2.ksy with kaitai-struct-compiler")
    try:
        import kaitaistruct  # noqa: F401
    except ImportError:
        pytest.fail("the Kaitai runtime is missing: pip install kaitaistruct (it belongs to the test extra)")
    try:
        py = ksy_check.compile_ksy(tmp_path_factory.mktemp("kaitai"))
        return ksy_check.load_parser(py)
    except ksy_check.SetupError as exc:
        pytest.fail(str(exc))


def test_gold_files_exist():
    assert len(GOLD_FILES) >= 20, f"expected the gold vectors under {GOLD}"


def test_ksy_agrees_with_construct(Mv2, gold):
    rep = ksy_check.check_file(gold, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    # Every gold file's TOC decodes under a known revision, so the time index is never skipped,
    # and the .ksy's toc type read every field of it.
    assert rep.summary.get("time_index") != "skipped", rep.notes
    assert "toc_fields" in rep.summary, rep.summary


@pytest.fixture(scope="session")
def valid_files(tmp_path_factory):
    """The files of vectors/valid, built from their operation scripts (and checked to be them)."""
    import hashlib
    import json

    import mv2
    from mv2 import script

    folder = GOLD.parent / "valid"
    out = []
    tmp = tmp_path_factory.mktemp("valid")
    for v in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["vectors"]:
        path = tmp / f"{v['name']}.mv2"
        with mv2.create(path, wal_size=v["wal_size"], **v.get("policy", {})) as mem:
            script.apply(mem, script.parse((folder / v["ops"]).read_text(encoding="utf-8")))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == v["sha256"], v["name"]
        out.append(path)
    return out


def test_ksy_agrees_with_construct_on_the_valid_files(Mv2, valid_files):
    for path in valid_files:
        rep = ksy_check.check_file(path, Mv2)
        assert rep.mismatches == [], f"{path.name}:\n" + "\n".join(rep.mismatches)
        assert "toc_fields" in rep.summary, (path.name, rep.summary)


def test_the_toc_check_fails_when_the_ksy_is_wrong(Mv2, tmp_path):
    """A .ksy that forgets a revision's difference (the vec manifest's model is absent in
    2.0.123) no longer decodes those files: the check can fail."""
    text = ksy_check.KSY.read_text(encoding="utf-8")
    model = "      - id: model\n        type: opt_bstr\n        if: revision >= 160\n"
    assert model in text
    bad = tmp_path / "mv2.ksy"
    bad.write_text(text.replace(model, model.replace("        if: revision >= 160\n", "")), encoding="utf-8")
    Bad = ksy_check.load_parser(ksy_check.compile_ksy(tmp_path / "out", ksy=bad))
    rep = ksy_check.check_file(GOLD / "memvid-sdk-2.0.123" / "vectors-8d.mv2", Bad)
    assert any("no revision of the .ksy decodes it" in m for m in rep.mismatches), rep.mismatches
    assert ksy_check.check_file(GOLD / "memvid-sdk-2.0.160" / "vectors-8d.mv2", Bad).ok


def test_checker_sees_every_part(Mv2):
    reports = ksy_check.check_all(GOLD_FILES, Mv2)
    assert all(r.ok for r in reports)
    assert {r.summary["revision"] for r in reports} == set(REVISIONS)  # a gold folder for every revision
    assert sum(r.summary["time_index"] not in ("none", "skipped") for r in reports) >= 20
    assert all("sentinel at" in r.summary["wal"] for r in reports)
    assert any(r.summary.get("memories", "none") != "none" for r in reports)  # the memory-cards file


# --- crafted edge cases of the WAL framing: both parsers must still agree -------------------------


def _crafted(tmp_path, name: str, edit):
    data = bytearray((GOLD / "memvid-sdk-2.0.160" / "single.mv2").read_bytes())
    edit(data)
    p = tmp_path / f"{name}.mv2"
    p.write_bytes(bytes(data))
    return p


def _set_wal_size(data: bytearray, size: int) -> None:
    struct.pack_into("<Q", data, 24, size)


def test_zero_sequence_and_length_is_not_a_sentinel_unless_all_zero(Mv2, tmp_path):
    # Sequence 0, length 0, one checksum byte set: spec 4.1 says only 48 zero bytes end the log.
    p = _crafted(tmp_path, "fake-sentinel",
                 lambda d: d.__setitem__(WAL_OFFSET + SENTINEL_160_SINGLE + 16, 1))
    rep = ksy_check.check_file(p, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    assert rep.summary["wal"].startswith("3 records, sentinel at 2162"), rep.summary
    assert any("not a sentinel" in n for n in rep.notes)


@pytest.mark.parametrize("extra, expect", [
    (0, "2 records, no sentinel, end 2114"),      # region ends exactly after the last record
    (40, "2 records, no sentinel, end 2114"),     # fewer than 48 bytes left: the log ends
    (48, "2 records, sentinel at 2114"),          # exactly room for the sentinel
])
def test_log_ends_where_the_region_ends(Mv2, tmp_path, extra, expect):
    p = _crafted(tmp_path, f"short-{extra}", lambda d: _set_wal_size(d, SENTINEL_160_SINGLE + extra))
    rep = ksy_check.check_file(p, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    assert rep.summary["wal"].startswith(expect), rep.summary


def test_region_smaller_than_a_record_header(Mv2, tmp_path):
    p = _crafted(tmp_path, "tiny-wal", lambda d: _set_wal_size(d, 20))
    rep = ksy_check.check_file(p, Mv2)
    assert rep.mismatches == [], "\n".join(rep.mismatches)
    assert rep.summary["wal"].startswith("0 records, no sentinel"), rep.summary
