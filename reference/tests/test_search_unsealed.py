"""Search before seal(): the hits of unsealed puts, supersedes and deletes equal the hits the
same file gives once sealed (the index searched is the one the commit writes, spec 14.1)."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mv2
from conftest import GOLD
from mv2.index.lex import MAX_SEGMENTS

WORDS = ["penicillin", "allergy", "harbor", "deploy", "kubernetes", "aspirin", "window", "registry",
         "patient", "quarterly", "json", "parser", "notes", "review"]
QUERIES = ["penicillin", "harbor OR deploy", "allergy patient", "json", '"quarterly window"', "review NOT notes",
           "registry", "tag:t1", "aspirin OR json OR harbor"]


def _text(rng_words: list[int]) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in rng_words) + "."


def _hits(m) -> dict:
    return {q: [(h["frame_id"], h["score"], h["snippet"], h["rank"]) for h in m.find(q, k=8)] for q in QUERIES}


ops = st.lists(st.one_of(
    st.tuples(st.just("put"), st.lists(st.integers(0, 40), min_size=1, max_size=12)),
    st.tuples(st.just("supersede"), st.integers(0, 1000), st.lists(st.integers(0, 40), min_size=1, max_size=12)),
    st.tuples(st.just("delete"), st.integers(0, 1000)),
    st.tuples(st.just("find"),),
    st.tuples(st.just("seal"),),
), min_size=1, max_size=14)


def _apply(m, op, ts):
    active = [f["id"] for f in m.frames() if f["status"] == "active"]
    if op[0] == "put":
        m.put(_text(op[1]), timestamp=ts, tags=["t1"] if len(op[1]) % 2 else [])
    elif op[0] == "supersede" and active:
        m.supersede(active[op[1] % len(active)], _text(op[2]), timestamp=ts)
    elif op[0] == "delete" and active:
        m.delete(active[op[1] % len(active)])
    elif op[0] == "find":
        _hits(m)  # searching in between must not change what later searches see
    elif op[0] == "seal":
        m.seal()


@pytest.mark.req("R-SRCH-010")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=12), min_size=0, max_size=12), script=ops)
def test_find_after_put_equals_find_after_seal(tmp_path_factory, base, script):
    path = tmp_path_factory.mktemp("u") / "u.mv2"
    with mv2.create(path) as m:
        for i, words in enumerate(base):
            m.put(_text(words), timestamp=1000 + i)
    with mv2.open(path, "a") as m:
        for i, op in enumerate(script):
            _apply(m, op, 5000 + i)
        before = _hits(m)
        m.seal()
        assert _hits(m) == before
    with mv2.open(path) as r:
        assert _hits(r) == before


def _segments(m) -> int:
    from mv2.index.context import _index_files

    return len(json.loads(dict(_index_files(m._snap))["meta.json"])["segments"])


@pytest.mark.req("R-SRCH-010")
def test_unsealed_search_past_the_segment_limit(tmp_path):
    """A file whose index is at its segment limit: the next commit rebuilds the index, and the
    unsealed search gives the rebuilt index's hits, deletions included."""
    path = tmp_path / "s.mv2"
    with mv2.create(path) as m:
        i = 0
        while _segments(m) < MAX_SEGMENTS:  # one segment per commit, up to the limit
            m.put(_text([i, i + 3, i + 7]), timestamp=100 + i)
            m.seal()
            i += 1
        for j in range(3):
            m.put(_text([j, 2 * j + 1]), timestamp=200 + j)
            before = _hits(m)
        assert m._lex_search._base[3] is False  # the rebuild path
        m.delete(2)
        m.supersede(3, _text([1, 2, 3]), timestamp=250)
        before = _hits(m)
        m.put(_text([5, 9]), timestamp=300)
        before = _hits(m)
        m.seal()
        assert _segments(m) == 1
        assert _hits(m) == before


@pytest.mark.req("R-SRCH-010")
def test_unsealed_search_on_a_file_another_writer_indexed(tmp_path):
    """memvid's own index is never extended: the unsealed search indexes the frames as the
    commit will."""
    path = tmp_path / "g.mv2"
    shutil.copy(GOLD / "memvid-sdk-2.0.160" / "single.mv2", path)
    with mv2.open(path, "a") as m:
        m.put("penicillin harbor deploy notes.", timestamp=1_800_000_000)
        m.put("json parser review.", timestamp=1_800_000_001)
        before = _hits(m)
        m.seal()
        assert _hits(m) == before


def test_a_find_without_new_changes_reuses_the_unsealed_index(tmp_path):
    path = tmp_path / "r.mv2"
    with mv2.create(path) as m:
        m.put("harbor registry.", timestamp=1)
    with mv2.open(path, "a") as m:
        m.put("harbor window.", timestamp=2)
        m.find("harbor")
        ctx = m._lex_context(("active",))
        m.find("window")
        assert m._lex_context(("active",)) is ctx
        m.put("harbor again.", timestamp=3)
        assert m._lex_context(("active",)) is not ctx
        assert [h["frame_id"] for h in m.find("harbor")] == [2, 1, 0]


def _timeline_oracle(m, **kw) -> list[int]:
    """The timeline read directly: active documents sorted by (timestamp, id), filtered."""
    rows = sorted((f["timestamp"], f["id"]) for f in m.frames() if f["status"] == "active")
    rows = [(t, i) for t, i in rows if (kw.get("since") is None or t >= kw["since"]) and
            (kw.get("until") is None or t <= kw["until"])]
    if kw.get("reverse"):
        rows.reverse()
    return [i for _, i in rows][: kw.get("limit")]


@pytest.mark.req("R-TIME-004")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.lists(st.integers(0, 30), min_size=0, max_size=15), script=ops,
       since=st.one_of(st.none(), st.integers(0, 6000)), until=st.one_of(st.none(), st.integers(0, 6000)),
       reverse=st.booleans(), limit=st.one_of(st.none(), st.integers(0, 8)))
def test_timeline_of_a_handle_follows_its_changes(tmp_path_factory, base, script, since, until, reverse, limit):
    path = tmp_path_factory.mktemp("t") / "t.mv2"
    with mv2.create(path) as m:
        for i, t in enumerate(base):
            m.put(_text([i]), timestamp=1000 + 7 * t)  # equal timestamps on purpose
    kw = dict(since=since, until=until, reverse=reverse, limit=limit)
    with mv2.open(path, "a") as m:
        for i, op in enumerate(script):
            m.timeline(**kw)  # the kept view must follow every change
            _apply(m, op, 5000 - 13 * i)
            assert [e["frame_id"] for e in m.timeline(**kw)] == _timeline_oracle(m, **kw)


def test_timeline_of_an_empty_file_then_puts(tmp_path):
    """A file created empty has no time index; once frames are put, the timeline is sorted."""
    path = tmp_path / "e.mv2"
    mv2.create(path).close()
    with mv2.open(path, "a") as m:
        assert m.timeline() == []
        m.put("late.", timestamp=500)
        m.put("early.", timestamp=100)
        assert [e["frame_id"] for e in m.timeline()] == [1, 0]


# --- the live index kept across finds ----------------------------------------------------------


def _all_hits(m, q="harbor", k=40, **kw) -> list:
    return [(h["frame_id"], h["score"], h["snippet"]) for h in m.find(q, k=k, **kw)]


def _sealed_equal(m, checks) -> None:
    """Each check's hits before seal() equal those after, on the handle and on a fresh reader."""
    before = [_all_hits(m, **c) for c in checks]
    m.seal()
    assert [_all_hits(m, **c) for c in checks] == before
    with mv2.open(m.path) as r:
        assert [_all_hits(r, **c) for c in checks] == before


@pytest.mark.req("R-SRCH-010")
def test_ties_keep_the_order_of_the_sealed_file(tmp_path):
    """Equal scores are ordered by document address: segments in the order the commit lists
    them, which decides which documents make the cut of the ``4 k`` fetched."""
    path = tmp_path / "t.mv2"
    with mv2.create(path) as m:
        for _ in range(4):
            for _ in range(6):
                m.put("harbor deploy notes.", timestamp=100)
            m.seal()
    with mv2.open(path, "a") as m:
        for j in range(3):
            for _ in range(2):
                m.put("harbor deploy notes.", timestamp=100)
            _all_hits(m, k=3)  # one more segment per find
        ranked = [h[0] for h in _all_hits(m, k=25)]
        assert ranked == sorted(ranked)  # all tie: committed first, then the unsealed ones in frame order
        _sealed_equal(m, [dict(k=3), dict(k=25), dict(k=40)])


@pytest.mark.req("R-SRCH-010")
def test_deactivating_an_unsealed_frame_between_finds(tmp_path):
    """A document put, searched, then deleted or superseded before the commit is not in the
    committed index at all (not even as a deleted document that BM25 would count)."""
    path = tmp_path / "d.mv2"
    with mv2.create(path) as m:
        for i in range(5):
            m.put(f"harbor registry {'window ' * i}notes.", timestamp=100 + i)
    with mv2.open(path, "a") as m:
        a = m.put("harbor harbor deploy.", timestamp=200)
        b = m.put("harbor window json.", timestamp=201)
        first = _all_hits(m)
        assert {a, b} <= {h[0] for h in first}
        m.delete(b)
        assert b not in {h[0] for h in _all_hits(m)}
        c = m.supersede(a, "harbor aspirin.", timestamp=202)
        hits = _all_hits(m)
        assert c in {h[0] for h in hits} and a not in {h[0] for h in hits}
        m.put("harbor again.", timestamp=203)
        _sealed_equal(m, [dict(), dict(q="window"), dict(q="harbor", include=("active", "deleted", "superseded")),
                          dict(q="json", include=("deleted",))])


@pytest.mark.req("R-SRCH-010")
def test_put_find_put_find_and_committed_deletes(tmp_path):
    """Each find after new changes adds only what changed; the result always equals the
    sealed file's, and the kept writer is the same object throughout."""
    path = tmp_path / "p.mv2"
    with mv2.create(path) as m:
        for i in range(8):
            m.put(f"harbor {WORDS[i]} {WORDS[(3 * i) % len(WORDS)]}.", timestamp=100 + i)
    with mv2.open(path, "a") as m:
        m.put("harbor review.", timestamp=300)
        _all_hits(m)
        live = m._lex_search._live
        m.delete(2)  # a committed frame: its document is deleted in place, no new segment
        assert 2 not in {h[0] for h in _all_hits(m)}
        m.put("harbor patient notes.", timestamp=301)
        m.supersede(4, "harbor quarterly.", timestamp=302)
        hits = _all_hits(m)
        assert 4 not in {h[0] for h in hits}
        assert m._lex_search._live is live and len(live.added) == 3
        assert _all_hits(m, include=("deleted",), q="harbor") == [h for h in _all_hits(m, include=("deleted",))]
        assert {h[0] for h in _all_hits(m, include=("deleted",))} == {2}
        _sealed_equal(m, [dict(), dict(q="review OR quarterly"), dict(include=("superseded",)),
                          dict(since=301), dict(q="tag:t1")])


@pytest.mark.req("R-SRCH-010")
def test_more_finds_than_the_segment_limit(tmp_path):
    """One segment per find would pass Tantivy's merge threshold: the live index is remade
    with the unsealed documents in one segment, and still equals the sealed file."""
    path = tmp_path / "l.mv2"
    with mv2.create(path) as m:
        m.put("harbor start.", timestamp=1)
    with mv2.open(path, "a") as m:
        for i in range(2 * MAX_SEGMENTS + 1):
            m.put(f"harbor {WORDS[i % len(WORDS)]} {'deploy ' * (i % 3)}.", timestamp=10 + i)
            got = _all_hits(m, k=5)
            assert len(got) == min(5, i + 2)
            assert _segments_live(m) <= MAX_SEGMENTS
        _sealed_equal(m, [dict(k=5), dict(q="deploy")])


def _segments_live(m) -> int:
    return int(m._lex_search._live.index.segment_count())


@pytest.mark.req("R-SRCH-010")
def test_pending_records_of_a_killed_writer_delete_committed_documents(tmp_path):
    """Deletes that only pending WAL records hold (the handle searching did not make them)
    are applied to the index searched: a deleted document left in it would take one of the
    ``4 k`` places fetched and push a live one out."""
    import os

    path = tmp_path / "k.mv2"
    with mv2.create(path) as m:
        for _ in range(30):
            m.put("harbor deploy notes.", timestamp=100)
    m = mv2.open(path, "a")
    for i in range(16):
        m.delete(i)
    m.put("harbor review.", timestamp=200)
    os.close(m._file.fd)  # the writer dies: its records stay pending in the WAL
    m._file.closed = True
    with mv2.open(path) as r:
        pending = _all_hits(r, k=5)
    assert len(pending) == 5 and not {h[0] for h in pending} & set(range(16))
    with mv2.open(path, "a") as m:
        m.seal()
        assert _all_hits(m, k=5) == pending
