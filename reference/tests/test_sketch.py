"""Sketch entries computed many at a time equal the definition, and verify still finds the first
wrong entry (spec 9.3)."""

from __future__ import annotations

from unittest import mock

import blake3
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import crafting as C
import mv2
import mv2.format.sketch as sketch
import mv2.storage.verify as verify_module
from conftest import GOLD_FILES
from mv2.format.sketch import sketch_entries, sketch_entry
from mv2.index.context import stored_sketches
from mv2.storage.snapshot import read_snapshot
from mv2.storage.source import Source
from mv2.storage.verify import analyze
from mv2.storage.view import frame_text

# Words that stress the tokeniser's edges: repeats past the weight cap, one-byte tokens (dropped
# in ASCII, kept when non-ASCII), case folding with a final sigma, NFKC compatibility forms,
# combining marks, digits of other scripts, a NUL (it separates frames inside the batch).
_WORDS = ["a", "ab", "AB", "harbor", "Harbor", "tide", "x1", "é", "é", "ΣΑΣ", "σας", "ﬁle", "ＡＢ",
          "नमस्ते", "٣٤", "²", "Ⅻ", "中文", "\x00", "\u0301", "İ", "ß", "ǅ"]
_word_texts = st.lists(st.sampled_from(_WORDS), max_size=30).flatmap(
    lambda ws: st.lists(st.sampled_from([" ", "", ".", "-", "\x00", "\n", "\u200d"]), min_size=len(ws), max_size=len(ws))
    .map(lambda seps: "".join(w + s for w, s in zip(ws, seps))))
_texts = st.one_of(st.none(), st.just(""), st.text(max_size=200), _word_texts,
                   st.sampled_from(_WORDS).map(lambda w: (w + " ") * 7))


@pytest.mark.req("R-SKT-003")
@settings(max_examples=300, deadline=None)
@given(st.lists(_texts, max_size=12), st.sampled_from([1, 7, 1 << 22]), st.sampled_from([1, 3, 1 << 14]))
@example(["", "one", "ab ab ab ab", "ab cd", None], 1 << 22, 1 << 14)
@example(["σας ΣΑΣ", "word\x00word", "é é é é", "Ab aB AB"], 1, 1)
def test_sketch_entries_equal_the_definition(texts, batch_chars, rows):
    """Batches of any size and bit-matrix chunks of any size give sketch_entry's bytes."""
    with mock.patch.object(sketch, "SKETCH_BATCH_CHARS", batch_chars), mock.patch.object(sketch, "_CHUNK_ROWS", rows):
        assert sketch_entries(texts) == [sketch_entry(t) for t in texts]
        assert sketch_entries(iter(texts)) == [sketch_entry(t) for t in texts]


@pytest.mark.req("R-SKT-003")
def test_sketch_entries_equal_every_gold_entry():
    compared = 0
    for p in GOLD_FILES:
        with read_snapshot(p) as s:
            entries = stored_sketches(s)
            committed = [fr for fr in s.frames if not fr.pending]
            if entries is None or len(entries) != len(committed):
                continue
            assert sketch_entries(frame_text(s, fr) for fr in committed) == list(entries), p.name
            compared += len(entries)
    assert compared > 1000


def _file(tmp_path, n=6):
    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        for i in range(n):
            m.put(f"harbor tide {i} " + "word " * i, timestamp=i)
    return path.read_bytes()


def _wrong_entry(data, k):
    """Entry ``k``'s simhash changed, the track's checksum made to match; with the entry's offset."""
    m = C.parts(data)[0]["sketch_track"]
    off, n = m["bytes_offset"], m["bytes_length"]
    seg = bytearray(data[off:off + n])
    at = 24 + 32 * k
    seg[at] ^= 0x01
    data = C.set_bytes(data, off, bytes(seg))
    return C.rewrite_toc(data, lambda t: t["sketch_track"].__setitem__("checksum", blake3.blake3(bytes(seg)).digest())), off + at


def _unreadable_text(data, k):
    """Frame ``k``'s text only in its payload, and that payload a zstd frame that does not decode
    (its checksum right)."""
    fr = C.parts(data)[0]["frames"][k]
    garbage = b"\x28\xb5\x2f\xfd" + b"\xff" * (fr["payload_length"] - 4)
    data = C.set_bytes(data, fr["payload_offset"], garbage)

    def f(toc):
        toc["frames"][k]["checksum"] = blake3.blake3(garbage).digest()
        toc["frames"][k]["search_text"] = None
    return C.rewrite_toc(data, f)


@pytest.mark.req("R-SKT-003")
@pytest.mark.parametrize("batch_chars", [1, 40, 1 << 22])
@pytest.mark.parametrize("k", [0, 3, 5])
def test_verify_reports_the_first_wrong_entry_at_its_offset(tmp_path, k, batch_chars):
    """Wherever the wrong entry falls in verify's batches, the verdict names it and its offset."""
    data, at = _wrong_entry(_file(tmp_path), k)
    data, _ = _wrong_entry(data, 5) if k < 5 else (data, None)  # a later wrong entry is not the verdict
    with mock.patch.object(verify_module, "SKETCH_BATCH_CHARS", batch_chars):
        e = analyze(Source(data)).first_error
    assert (e.code, e.offset) == ("MV2-E-SKETCH-MISMATCH", at)
    assert f"sketch entry {k} " in e.message


@pytest.mark.parametrize("batch_chars", [1, 1 << 22])
def test_a_wrong_entry_before_an_unreadable_text_is_reported_and_the_checks_go_on(tmp_path, batch_chars):
    """Entry 1 wrong, frame 3's text unreadable: the mismatch is found (as frame by frame), and
    the payload check after it still reports frame 3."""
    data, at = _wrong_entry(_file(tmp_path), 1)
    data = _unreadable_text(data, 3)
    with mock.patch.object(verify_module, "SKETCH_BATCH_CHARS", batch_chars):
        a = analyze(Source(data))
    codes = [(f.code, f.offset) for f in a.findings if f.severity == "error"]
    assert codes[0] == ("MV2-E-SKETCH-MISMATCH", at)
    assert [c for c, _ in codes[1:]] == ["MV2-E-FRAME-DECODE"]


@pytest.mark.parametrize("batch_chars", [1, 1 << 22])
def test_an_unreadable_text_before_a_wrong_entry_stops_the_sketch_check(tmp_path, batch_chars):
    """Frame 1's text unreadable, entry 3 wrong: entry 3 is never reached."""
    data, _ = _wrong_entry(_file(tmp_path), 3)
    data = _unreadable_text(data, 1)
    with mock.patch.object(verify_module, "SKETCH_BATCH_CHARS", batch_chars):
        a = analyze(Source(data))
    assert [f.code for f in a.findings if f.severity == "error"] == ["MV2-E-FRAME-DECODE"]
