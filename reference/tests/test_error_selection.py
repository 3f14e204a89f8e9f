"""Which error a reader reports when a file breaks several rules, and the offset it names
(spec 10.1 "Choosing among failures", "The offset reported"), with the reading rules that
decide what a file means (5.4, 5.6, 5.3, 9.3, appendix A).
"""

from __future__ import annotations

import json
import re
import struct

import pytest

import crafting as C
from conftest import GOLD, GOLD_FILES, ROOT
from mv2.errors import CODES, CorruptFileError, MV2Error
from mv2.format.footer import FOOTER_MAGIC
from mv2.format.revisions import REVISION_ORDER, decode_toc
from mv2.storage.snapshot import read_snapshot
from mv2.storage.verify import analyze

SPEC10 = (ROOT / "spec" / "10-errors.md").read_text(encoding="utf-8")
INVALID = ROOT / "vectors" / "invalid"


def _verdict(tmp_path, data: bytes, name: str = "x.mv2"):
    p = tmp_path / name
    p.write_bytes(data)
    e = analyze(p).first_error
    return (e.code, e.offset) if e else None


# --- offsets --------------------------------------------------------------------------------------


def _offset_table() -> dict[str, str]:
    part = SPEC10.split("### The offset reported", 1)[1].split("## 10.2", 1)[0]
    rows = {}
    for line in part.splitlines():
        if line.startswith("| `"):
            cell, rule = line.split("|")[1:3]
            for code in re.findall(r"`([A-Z0-9-]+)`", cell):
                rows[code] = rule.strip()
    return rows


@pytest.mark.req("R-VFY-004")
def test_the_offset_table_names_every_file_error_code():
    table = _offset_table()
    file_codes = {c[len("MV2-E-"):] for c, info in CODES.items()
                  if c.startswith("MV2-E-") and info.kind in ("malformed", "invalid")}
    assert file_codes - set(table) == set(), "codes without an offset rule in spec 10.1"


@pytest.mark.req("R-VFY-004")
def test_every_invalid_vector_names_its_offset_and_the_reference_reports_it():
    m = json.loads((INVALID / "manifest.json").read_text(encoding="utf-8"))
    for t in m["tests"]:
        assert t["expect"]["offset"] is not None, f"{t['id']} names no offset"
        e = analyze(INVALID / t["file"]).first_error
        assert (e.code, e.offset) == (t["expect"]["code"], t["expect"]["offset"]), t["id"]


# --- footer candidates ----------------------------------------------------------------------------


@pytest.mark.req("R-FTR-006")
def test_the_last_candidate_decides_when_none_is_valid(tmp_path, single_160):
    end = len(single_160)
    bad_hash = C.flip(single_160, end - 56 + 20)  # the only footer: its toc_hash is wrong
    assert _verdict(tmp_path, bad_hash) == ("MV2-E-FTR-HASH", end - 56)
    # A later candidate with an impossible toc_len is examined first and decides.
    later = bad_hash + FOOTER_MAGIC + struct.pack("<Q", 0) + bytes(40)
    assert _verdict(tmp_path, later) == ("MV2-E-FTR-LENGTH", end)
    # Magic in the last 56 bytes: a candidate too close to the end is FTR-LENGTH too.
    tail = bad_hash + FOOTER_MAGIC + bytes(8)
    assert _verdict(tmp_path, tail) == ("MV2-E-FTR-LENGTH", end)
    # No magic after the WAL region at all: FTR-MISSING at the file's length.
    no_magic = single_160[:end - 56] + bytes(56)
    assert _verdict(tmp_path, no_magic) == ("MV2-E-FTR-MISSING", end)


# --- revisions ------------------------------------------------------------------------------------


@pytest.mark.req("R-VFY-005")
def test_when_no_revision_decodes_the_one_that_got_furthest_is_reported():
    data = (GOLD / "memvid-sdk-2.0.123" / "single.mv2").read_bytes()
    toc_off, toc_len = C.parts(data)[2], len(data) - 56 - C.parts(data)[2]
    toc = bytearray(data[toc_off:toc_off + toc_len])
    assert toc[-65] == 0  # replay_manifest's Option tag (None), just before merkle_root
    toc[-65] = 2  # late in the TOC: only the 2.0.123 decoder gets there
    errors = {}
    for rev in REVISION_ORDER:
        with pytest.raises(CorruptFileError) as exc:
            decode_toc(bytes(toc), base_offset=toc_off, revision=rev)
        errors[rev] = exc.value
    furthest = max(errors.values(), key=lambda e: e.offset)
    assert errors["memvid-2.0.123"] is furthest and errors["memvid-2.0.160"].offset < furthest.offset
    with pytest.raises(CorruptFileError) as exc:
        decode_toc(bytes(toc), base_offset=toc_off)
    assert (exc.value.code, exc.value.offset) == (furthest.code, furthest.offset)


@pytest.mark.req("R-VFY-005")
def test_a_tie_goes_to_the_revision_tried_first():
    with pytest.raises(CorruptFileError) as exc:
        decode_toc(bytes(8), base_offset=100)  # every revision runs out after toc_version
    assert REVISION_ORDER[0] in exc.value.message


# --- regions ---------------------------------------------------------------------------------------


@pytest.mark.req("R-VFY-006")
def test_regions_are_judged_in_toc_order_not_offset_order(tmp_path, single_160):
    toc = C.parts(single_160)[0]
    time_off = toc["time_index"]["bytes_offset"]
    lex = toc["indexes"]["lex_segments"]
    later_lex = max(lex, key=lambda x: x["bytes_offset"])
    assert time_off < later_lex["bytes_offset"]
    # Both checksums fail; the Tantivy file comes first in TOC order although it lies later.
    data = C.flip(C.flip(single_160, time_off + 14), later_lex["bytes_offset"] + 1)
    assert _verdict(tmp_path, data) == ("MV2-E-SEG-HASH", later_lex["bytes_offset"])
    # Bounds and checksums come before overlaps.
    def f(t):
        t["time_index"]["bytes_offset"] = t["indexes"]["lex_segments"][2]["bytes_offset"] + 1
    overlapped = C.rewrite_toc(single_160, f)
    data = C.flip(overlapped, later_lex["bytes_offset"] + 1)
    assert _verdict(tmp_path, data)[0] == "MV2-E-SEG-HASH"


# --- the stale header ---------------------------------------------------------------------------------


@pytest.mark.req("R-VFY-007")
def test_a_stale_header_is_a_warning_and_nothing_is_pending(tmp_path):
    p = ROOT / "vectors" / "crash" / "commit.staleheader.001.mv2"
    a = analyze(p)
    assert a.ok and [(w.code, w.offset) for w in a.warnings] == [("MV2-W-NEEDS-RECOVERY", 8)]
    # Only one of the two fields naming the earlier commit: damage, not staleness.
    data = p.read_bytes()
    toc_off = C.parts(data)[2]
    one = data[:8] + struct.pack("<Q", toc_off) + data[16:]
    assert _verdict(tmp_path, one) == ("MV2-E-HDR-TOC-HASH", 48)
    with read_snapshot(p) as s:
        assert s.header_stale and s.pending_count == 0


# --- reading rules -----------------------------------------------------------------------------------


@pytest.mark.req("R-SKT-003")
def test_every_gold_sketch_entry_is_computed_from_its_frame_text():
    from mv2.format.sketch import sketch_entry
    from mv2.index.context import stored_sketches
    from mv2.storage.view import frame_text

    compared = 0
    for p in GOLD_FILES:
        with read_snapshot(p) as s:
            entries = stored_sketches(s)
            committed = [fr for fr in s.frames if not fr.pending]
            if entries is None or len(entries) != len(committed):
                continue
            for k, fr in enumerate(committed):
                assert entries[k] == sketch_entry(frame_text(s, fr)), f"{p.name} entry {k}"
                compared += 1
    assert compared > 1000


@pytest.mark.req("R-SKT-003")
def test_sketch_tokens_follow_rust_alphanumeric():
    from mv2.format.sketch import tokens

    assert tokens("नमस्ते Ünïcode ＡＢ x1") == ["नमस", "ते", "ünïcode", "ab", "x1"]


@pytest.mark.req("R-FRM-012")
@pytest.mark.parametrize("uri, title", [
    ("mv2://notes/meeting-notes_2024.txt", "Meeting Notes 2024"),
    ("mv2://frames/7", "7"),
    ("mv2://x/report.v2.pdf", "Report.v2"),
    ("mv2://x/.env", None),
    ("mv2://a/b/?q=1#f", "B"),
    ("  ", None),
])
def test_title_derivation_examples(uri, title):
    from mv2.format.text import title_from_uri

    assert title_from_uri(uri) == title


@pytest.mark.req("R-FRM-009")
def test_chunk_texts_are_joined_with_no_separator():
    from types import SimpleNamespace

    from mv2.storage.view import children_of, frame_text

    joined = 0
    for p in GOLD_FILES:
        with read_snapshot(p) as s:
            for fr in s.frames:
                f = fr.fields
                if f["role"] == "document" and f["chunk_manifest"] is not None:
                    # memvid gives chunked documents a search_text; without it, the text is
                    # the chunks' payloads concatenated.
                    bare = SimpleNamespace(id=fr.id, pending=fr.pending, fields={**f, "search_text": None})
                    kids = children_of(s, fr.id)
                    assert len(kids) == f["chunk_count"] > 1
                    assert frame_text(s, bare) == b"".join(s.canonical_payload(k) for k in kids).decode("utf-8")
                    joined += 1
    assert joined >= 1


@pytest.mark.req("R-FRM-015")
def test_a_payload_without_canonical_length_is_bounded_when_materialised():
    import zstandard

    from mv2.format.payload import decode_payload

    bomb = zstandard.ZstdCompressor(level=3).compress(bytes(1 << 20))
    assert len(bomb) < 1000
    with pytest.raises(MV2Error) as exc:
        decode_payload(bomb, "zstd", None, frame_id=0, limit=1 << 16)
    assert exc.value.code == "MV2-E-LIMIT"
    assert len(decode_payload(bomb, "zstd", None, frame_id=0, limit=1 << 21)) == 1 << 20


@pytest.mark.req("R-DMP-003")
def test_doc_metadata_members_and_float_form():
    from construct import Struct

    from mv2.format.bincode import F32
    from mv2.format.frame import DocMetadata
    from mv2.storage.view import canonical_json, dump

    names = [sc.name for sc in DocMetadata.subcons]
    seen = 0
    for p in GOLD_FILES:
        with read_snapshot(p) as s:
            for rec in dump(s)["frames"]:
                if rec["doc_metadata"] is not None:
                    assert list(rec["doc_metadata"]) == names
                    seen += 1
    assert seen >= 1
    x = Struct("x" / F32).parse(struct.pack("<f", 0.1))["x"]
    assert canonical_json({"x": x}) == '{"x":0.10000000149011612}\n'


@pytest.mark.req("R-TOC-005")
def test_the_reference_writers_empty_mirror_is_not_stale(tmp_path):
    import mv2

    p = tmp_path / "m.mv2"
    with mv2.create(p) as mem:
        for i in range(3):
            mem.put(f"note {i}", timestamp=1700000000 + i, embedding=[float(i), 1.0, 0.0, 0.5])
            mem.seal()
    a = analyze(p)
    assert a.ok and not a.warnings, a.warnings
    toc = C.parts(p.read_bytes())[0]
    assert toc["segment_catalog"]["vec_segments"] and not toc["segment_catalog"]["index_segments"]


# --- Tantivy: what a verifier checks ----------------------------------------------------------------


def _retantivy(data: bytes, path: str, new: bytes) -> bytes:
    """Replace the bytes of one Tantivy file in place (same length), fixing both checksums."""
    import blake3

    toc = C.parts(data)[0]
    x = next(x for x in toc["indexes"]["lex_segments"] if x["path"] == path)
    assert len(new) == x["bytes_length"]
    data = C.set_bytes(data, x["bytes_offset"], new)
    digest = blake3.blake3(new).digest()

    def f(t):
        for y in t["indexes"]["lex_segments"]:
            if y["path"] == path:
                y["checksum"] = digest
        for y in t["segment_catalog"]["tantivy_segments"]:
            if y["path"] == path:
                y["common"]["checksum"] = digest
    return C.rewrite_toc(data, f)


@pytest.mark.req("R-LEX-007")
def test_verify_checks_tantivy_names_and_meta_json_but_not_tantivy_internals(tmp_path, single_160):
    toc = C.parts(single_160)[0]
    store = next(x for x in toc["indexes"]["lex_segments"] if x["path"].endswith(".store"))
    body = bytearray(single_160[store["bytes_offset"]:store["bytes_offset"] + store["bytes_length"]])
    body[-1] ^= 0xFF  # inside Tantivy's own footer (its CRC32): not a verifier's concern
    assert _verdict(tmp_path, _retantivy(single_160, store["path"], bytes(body))) is None
    meta = next(x for x in toc["indexes"]["lex_segments"] if x["path"] == "meta.json")
    text = single_160[meta["bytes_offset"]:meta["bytes_offset"] + meta["bytes_length"]]
    doc = json.loads(text)
    doc["segments"][0]["deletes"] = {"num_deleted_docs": 1, "opstamp": 7}
    forged = json.dumps(doc, separators=(",", ":")).encode()
    assert len(forged) <= len(text)  # memvid's meta.json is pretty-printed: room to spare
    forged = forged[:-1] + b" " * (len(text) - len(forged)) + forged[-1:]
    assert _verdict(tmp_path, _retantivy(single_160, "meta.json", forged))[0] == "MV2-E-LEX-FILES"


@pytest.mark.req("R-LEX-008")
def test_a_file_without_a_lexical_index_is_valid(tmp_path, single_160):
    def f(t):
        t["indexes"]["lex_segments"] = []
        t["segment_catalog"]["tantivy_segments"] = []
        t["segment_catalog"]["lex_enabled"] = False
    p = tmp_path / "nolex.mv2"
    p.write_bytes(C.rewrite_toc(single_160, f))
    a = analyze(p)
    assert a.ok and a.first_error is None
