"""Lexical search over the Tantivy index a file carries (spec: "Search").

The pipeline is memvid's, step by step, so that the same query on the same file returns the
same hits:

1. parse the query (``query.py``);
2. **sketch pre-filter** (only with ``prefilter=True``): score every frame's sketch entry
   against the query's sketch and keep those whose term filter overlaps the query's and whose
   SimHash is within Hamming distance 32, best first, at most max(10 k, 500). This is memvid's
   speed heuristic; it discards about half of the matching frames, so it is off by default
   and on only when hits must equal memvid-sdk's;
3. search Tantivy with the query tree and, when step 2 produced candidates, a ``frame_id``
   set restriction; fetch max(4 k, 20) documents (no more than the candidates);
4. for each document, take the frame its ``frame_id`` names (memvid's indexes hold extra
   documents keyed by WAL sequence numbers, which land on whatever frame has that id),
   evaluate the query against that frame's own text, and cut snippet passages around the
   query tokens;
5. re-rank by ``0.4 s + 0.6 s r`` where ``s`` is the BM25 score and
   ``r = exp(-ln 2 / 1 day × (newest - timestamp))`` over the result set, in ``f32``;
6. emit one hit per frame with its best passage (with ``prefilter=True``, as memvid, one hit per
   passage), at most ``k``.

Our own files hold one document per active frame, so step 4 is exact for them.
"""

from __future__ import annotations

import bisect
import re
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tantivy

from ..errors import CorruptFileError, UsageError
from ..format.sketch import FILTER_BITS, sketch_entry, tokens as sketch_tokens
from . import lex
from .lex import register_tokenizers, unpack
from .query import DateRange, Field, Node, ParsedQuery, Phrase, Wildcard, Word, parse_query

HAMMING_THRESHOLD = 32
MAX_PASSAGES = 64
"""Most passages compared when choosing a frame's best one (one hit per frame)."""
DECAY = np.float32(0.00000802)  # ln 2 / 86 400 s, as memvid rounds it


@dataclass
class Hit:
    rank: int
    frame_id: int
    uri: str
    title: str | None
    score: float
    snippet: str
    range: tuple[int, int]

    def to_json(self) -> dict:
        return {"rank": self.rank, "frame_id": self.frame_id, "uri": self.uri, "title": self.title,
                "score": self.score, "snippet": self.snippet}


class LexIndex:
    """A Tantivy index opened from packed files (R-LEX-002)."""

    def __init__(self, files: list[tuple[str, bytes]] | None, *, directory: str | None = None):
        """Open packed ``files`` (unpacked into a scratch directory of this index's own), or,
        with ``directory``, a scratch directory already holding an index (it then belongs to
        this object, which removes it on close)."""
        if directory is None:
            self._dir = lex.scratch_path("mv2-search-", sum(len(b) for _, b in files))
        else:
            self._dir = directory
        try:
            if directory is None:
                unpack(files, Path(self._dir))
            self.index = tantivy.Index.open(self._dir)
            register_tokenizers(self.index)
            self.schema = self.index.schema
            self.analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                             .filter(tantivy.Filter.lowercase())
                             .filter(tantivy.Filter.stemmer("english")).build())
            self.index.reload()
            self.searcher = self.index.searcher()
            self._frame_ids: dict[tuple[int, int], int] = {}
            # An index dropped without close() (a handle never closed) takes its scratch
            # directory with it instead of holding memory on /dev/shm until the process ends.
            self._remove = weakref.finalize(self, shutil.rmtree, self._dir, True)
        except (ValueError, OSError) as exc:
            # Checksums can all match bytes that are not a usable index (a file renamed, one
            # missing): a coded error, never Tantivy's own exception.
            shutil.rmtree(self._dir, ignore_errors=True)
            raise CorruptFileError(f"the Tantivy files do not open as an index: {exc}", code="MV2-E-LEX-FILES") from None
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    @classmethod
    def of_documents(cls, docs: list) -> "LexIndex":
        """A new index of ``docs`` (``lex.LexDoc``), built in place: the same documents, order
        and segment as :func:`lex.pack` gives, without collecting the files."""
        d = lex.scratch_path("mv2-search-", 4 * sum(len(x.content) for x in docs))
        try:
            lex.build_directory(docs, Path(d))
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise
        return cls(None, directory=d)

    def segment_count(self) -> int:
        return int(self.searcher.num_segments)

    def document_count(self) -> int:
        return int(self.searcher.num_docs)

    @property
    def directory(self) -> str:
        return self._dir

    def refresh(self, *, appended: bool) -> None:
        """Search what was last committed to this index's directory (a live writer's commit).
        The frame ids remembered by document address stay valid when the commit only
        ``appended`` segments (the earlier ones keep their positions)."""
        try:
            self.index.reload()
            self.searcher = self.index.searcher()
        except ValueError as exc:
            raise CorruptFileError(f"the Tantivy files do not work as an index: {exc}", code="MV2-E-LEX-FILES") from None
        if not appended:
            self._frame_ids.clear()

    def close(self) -> None:
        self.searcher = None
        self.index = None
        self._remove()

    def analyse(self, text: str) -> list[str]:
        return list(self.analyzer.analyze(text))

    # -- the query tree, as memvid builds it ------------------------------------------------------
    def _term(self, field: str, value: str, option: str = "basic"):
        return tantivy.Query.term_query(self.schema, field, value, index_option=option)

    def _text_alternatives(self, word: str):
        toks = self.analyse(word)
        if not toks:
            return tantivy.Query.all_query()
        if len(toks) == 1:
            content = self._term("content", toks[0], "position")
        else:
            content = tantivy.Query.phrase_query(self.schema, "content", toks)
        norm = word.lower() if word.isascii() else "".join(c.lower() if c.isascii() else c for c in word)
        qs = [content] + [self._term(f, norm) for f in ("tags", "labels", "track", "uri")]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in qs])

    def build(self, n: Node):
        if n.op in ("and", "or"):
            if not n.children:
                return tantivy.Query.all_query()
            if len(n.children) == 1:
                return self.build(n.children[0])
            occ = tantivy.Occur.Must if n.op == "and" else tantivy.Occur.Should
            return tantivy.Query.boolean_query([(occ, self.build(c)) for c in n.children])
        if n.op == "not":
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query()),
                                                (tantivy.Occur.MustNot, self.build(n.children[0]))])
        t = n.term
        if isinstance(t, (Word, Phrase)):
            return tantivy.Query.all_query() if not t.text else self._text_alternatives(t.text)
        if isinstance(t, Wildcard):
            # memvid passes its anchored ^...$ pattern, which Tantivy refuses ("empty match
            # operators"), so its wildcards always fail; Tantivy's term regexes are anchored.
            try:
                return tantivy.Query.regex_query(self.schema, "content", _ascii_lower_str(t.term_pattern()))
            except ValueError as exc:
                raise UsageError(f"wildcard {t.raw!r} cannot be searched: {exc}") from None
        if isinstance(t, DateRange):
            lo = t.start if t.start is not None else -(1 << 63)
            hi = t.end if t.end is not None else (1 << 63) - 1
            return tantivy.Query.range_query(self.schema, "timestamp", tantivy.FieldType.Integer, lo, hi)
        f: Field = t
        if f.name == "scope":
            return tantivy.Query.all_query()
        target = {"uri": "uri", "track": "track", "tag": "tags", "label": "labels"}[f.name]
        return self._term(target, f.value)

    def _frame_id(self, addr) -> int:
        """The frame_id stored with a hit's document, read once per document and remembered:
        a first search reads only its own hits, later ones mostly nothing."""
        key = (addr.segment_ord, addr.doc)
        fid = self._frame_ids.get(key)
        if fid is None:
            fid = self._frame_ids[key] = int(self.searcher.doc(addr).get_first("frame_id"))
        return fid

    def search_documents(self, parsed: ParsedQuery, frame_filter: list[int] | None, limit: int) -> list[tuple[int, float]]:
        """The top ``limit`` documents as (frame_id, score), as memvid's Tantivy query returns them.

        memvid restricts to candidate frames with ``Must(TermSetQuery(frame_id ∈ filter))``, which
        also adds a constant 1.0 to every score. tantivy-py builds ``u64`` terms wrongly when given
        Python integers (they never match), so the set is written in Tantivy's own query syntax,
        ``frame_id: IN [...]``, whose parser types the terms from the schema: the query is then
        exactly memvid's."""
        q = self.build(parsed.expr)
        if frame_filter:
            allowed = self.index.parse_query("frame_id: IN [" + " ".join(str(int(i)) for i in frame_filter) + "]", ["content"])
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, allowed)])
        try:
            res = self.searcher.search(q, limit=max(limit, 1))
            return [(self._frame_id(addr), float(score)) for score, addr in res.hits]
        except ValueError as exc:
            # Tantivy opens a segment's files lazily: a damaged directory can surface only now.
            raise CorruptFileError(f"the Tantivy files do not work as an index: {exc}", code="MV2-E-LEX-FILES") from None


# --- sketch pre-filter ----------------------------------------------------------------------------


class SketchFilter:
    """Frame sketches as a numpy table, scored against a query the way memvid scores them."""

    def __init__(self, entries: list[bytes]):
        raw = np.frombuffer(b"".join(entries), dtype=np.uint8).reshape(-1, 32) if entries else np.zeros((0, 32), np.uint8)
        self.simhash = raw[:, 0:8].copy().view("<u8").ravel()
        self.filter = raw[:, 8:24].copy().view("<u8").reshape(-1, 2)
        self.top = raw[:, 24:32].copy().view("<u4").reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.simhash)

    def candidates(self, query: str, max_candidates: int) -> list[int]:
        if not len(self):
            return []
        q = sketch_entry(query)
        qtoks = sketch_tokens(query)
        if not qtoks:
            return []
        q_simhash = int.from_bytes(q[0:8], "little")
        q_filter = np.frombuffer(q[8:24], dtype="<u8")
        q_top = [t for t in np.frombuffer(q[24:32], dtype="<u4")[: min(2, len(set(qtoks)))]]
        overlaps = ((self.filter[:, 0] & q_filter[0]) | (self.filter[:, 1] & q_filter[1])) != 0
        hamming = np.bitwise_count(self.simhash ^ np.uint64(q_simhash))
        ok = overlaps & (hamming <= HAMMING_THRESHOLD)
        ids = np.nonzero(ok)[0]
        if not len(ids):
            return []
        # score = 0.5 term overlap + 0.4 SimHash similarity + 0.1 length compatibility, in f32
        top = self.top[ids]
        match = np.zeros(len(ids), dtype=np.float32)
        for t in q_top:
            match += ((top == t) & (top != 0)).sum(axis=1).astype(np.float32)
        term_score = match / np.float32(max(len(q_top), 1))
        sim_score = np.float32(1.0) - hamming[ids].astype(np.float32) / np.float32(64.0)
        qlen = np.float32(min(len(qtoks) // 10, 255))
        len_score = np.float32(1.0) / (np.float32(1.0) + np.abs(qlen - np.float32(0)) * np.float32(0.1))
        score = np.float32(0.5) * term_score + np.float32(0.4) * sim_score + np.float32(0.1) * len_score
        order = np.argsort(-score, kind="stable")[:max_candidates]  # stable, as Rust's sort_by
        return ids[order].tolist()


# --- snippets -----------------------------------------------------------------------------------


def token_occurrences(content_lower: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Byte ranges of every occurrence of each token in the text (non-overlapping per token)."""
    data = content_lower.encode("utf-8")
    occ = set()
    for tok in tokens:
        needle = tok.strip().encode("utf-8")
        if not needle:
            continue
        start = 0
        while True:
            pos = data.find(needle, start)
            if pos < 0:
                break
            occ.add((pos, pos + len(needle)))
            start = pos + len(needle)
    return sorted(occ)


def _prev_boundary(b: bytes, i: int) -> int:
    i = min(i, len(b))
    while 0 < i < len(b) and (b[i] & 0xC0) == 0x80:
        i -= 1
    return i


def _next_boundary(b: bytes, i: int) -> int:
    i = min(i, len(b))
    while i < len(b) and (b[i] & 0xC0) == 0x80:
        i += 1
    return i


def _advance(b: bytes, start: int, window: int) -> int:
    """Byte offset after ``window`` characters from ``start`` (memvid's advance_boundary).

    Only the next ``4 window`` bytes are decoded: no UTF-8 character is longer than 4 bytes."""
    if start >= len(b):
        return len(b)
    chunk = b[start:start + 4 * window]
    text = chunk.decode("utf-8", errors="ignore")
    if start + len(chunk) >= len(b) and window >= len(text):
        return len(b)
    return start + len(text[:window].encode("utf-8"))  # the chunk holds at least window characters


_SENTENCE_END = re.compile(rb"[.!?\n]")
_SPACE = re.compile(rb"[ \t\n\r\x0c]*")


class _Sentences:
    """The byte positions of sentence ends (``.``, ``!``, ``?``, newline) in a text, found
    once, so that widening each passage is a binary search rather than a scan: cutting
    passages is linear in the text, however many occurrences it has."""

    def __init__(self, b: bytes):
        self.b = b
        self.ends = [m.start() for m in _SENTENCE_END.finditer(b)]

    def start_before(self, idx: int) -> int | None:
        """memvid's sentence start for ``idx``: after the last end before it, and its spaces."""
        b = self.b
        if idx == 0:
            return 0
        idx = _prev_boundary(b, min(idx, len(b)))
        i = bisect.bisect_left(self.ends, idx) - 1
        if i < 0:
            return None
        pos = _next_boundary(b, self.ends[i] + 1)
        if pos < len(b):
            pos = _SPACE.match(b, pos).end()
        return _prev_boundary(b, pos)

    def end_after(self, idx: int) -> int | None:
        """memvid's sentence end for ``idx``: the first end from it on (after the punctuation,
        at a newline)."""
        b = self.b
        if idx >= len(b):
            return len(b)
        idx = _prev_boundary(b, idx)
        i = bisect.bisect_left(self.ends, idx)
        if i == len(self.ends):
            return None
        g = self.ends[i]
        return g if b[g] == 0x0A else _next_boundary(b, g + 1)


def snippet_slices(content: str, occurrences: list[tuple[int, int]], window: int, max_snippets: int) -> list[tuple[int, int]]:
    """Passages around the occurrences, widened to sentence edges and merged (memvid's rule)."""
    b = content.encode("utf-8")
    if not b:
        return []
    if not occurrences:
        return [(0, _advance(b, 0, window))]
    sentences = _Sentences(b)
    merged: list[list[int]] = []
    half = window // 2
    for start, end in occurrences:
        s = max(start - half, 0)
        e = min(end + half, len(b))
        adj = sentences.start_before(s)
        if adj is not None:
            s = adj
        adj = sentences.end_after(e)
        if adj is not None:
            e = adj
        s = _prev_boundary(b, s)
        e = _next_boundary(b, e)
        if e <= s:
            continue
        if merged and s <= merged[-1][1] + 20:
            merged[-1][1] = max(merged[-1][1], e)
            continue
        merged.append([min(s, len(b)), min(e, len(b))])
        if len(merged) >= max_snippets:
            break
    if not merged:
        merged.append([0, _advance(b, 0, window)])
    return [(s, e) for s, e in merged]


def best_slice(slices: list[tuple[int, int]], occurrences: list[tuple[int, int]]) -> tuple[int, int]:
    """The passage holding the most occurrences (the first of equal ones)."""
    starts = [s for s, _ in occurrences]
    best, best_n = slices[0], -1
    for s, e in slices:
        n = bisect.bisect_left(starts, e) - bisect.bisect_left(starts, s)
        if n > best_n:
            best, best_n = (s, e), n
    return best


def recency_order(items: list, score_of, ts_of) -> list:
    """memvid's recency re-rank, computed in f32 like memvid's."""
    if len(items) <= 1:
        return items
    newest = max(ts_of(x) for x in items)
    keyed = []
    for x in items:
        s = np.float32(score_of(x))
        age = np.float32(max(newest - ts_of(x), 0))
        r = np.exp(-DECAY * age, dtype=np.float32)
        keyed.append((float(s * np.float32(0.4) + s * r * np.float32(0.6)), x))
    keyed.sort(key=lambda kx: -kx[0])
    return [x for _, x in keyed]


__all__ = ["LexIndex", "SketchFilter", "Hit", "token_occurrences", "snippet_slices", "recency_order",
           "parse_query", "FILTER_BITS"]


@dataclass
class FindContext:
    """What the lexical pipeline needs from a memory, independent of how it is stored."""

    frames: object  # frame field dicts, by id (a sequence)
    index: LexIndex | None
    sketch: SketchFilter | None
    chunk_context: object  # callable(frame_id) -> (start, end, text)
    lowered: dict | None = None  # frame_id -> lower-cased evaluation text (a cache)
    sketch_factory: object = None  # callable() -> SketchFilter | None, for a sketch built on first use

    def sketch_filter(self) -> SketchFilter | None:
        if self.sketch is None and self.sketch_factory is not None:
            self.sketch = self.sketch_factory()
            self.sketch_factory = None
        return self.sketch

    def eval_text(self, fid: int, text: str) -> str:
        if self.lowered is None:
            self.lowered = {}
        t = self.lowered.get(fid)
        if t is None:
            st = self.frames[fid]["search_text"]
            t = self.lowered[fid] = _lower(st if st is not None else text)
        return t


DEEPEST = 1 << 16
"""How many documents a search fetches at most while looking for ``k`` that pass the query's
check (R-SRCH-013): about two seconds of checks, for a word whose stem matches most of a
large file."""


def lexical_find(ctx: FindContext, query: str, *, k: int = 10, snippet_chars: int = 480,
                 prefilter: bool = False, statuses=("active",), since: int | None = None,
                 until: int | None = None, visible: set[int] | None = None) -> list[Hit]:
    """Lexical hits for ``query``. ``prefilter=True`` applies memvid's sketch pre-filter, which
    makes the hits identical to memvid-sdk's and loses recall; by default every frame is
    searched. ``visible``, when given, restricts results to those frame ids (time travel)."""
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        raise UsageError(f"k must be a positive integer, not {k!r}")
    parsed = parse_query(query)
    tokens = sorted({_lower(t) for t in parsed.text_tokens() if t.strip()})
    if not tokens and not parsed.contains_field_terms() and not parsed.contains_wildcards():
        raise UsageError("query must include at least one search term or field filter")
    if ctx.index is None:
        return []
    frames = ctx.frames
    candidates: set[int] | None = None
    rng = parsed.required_date_range()
    if since is not None or until is not None:
        rng = DateRange(since, until) if rng is None else rng.intersect(DateRange(since, until))
    if rng is not None:
        if rng.is_empty():
            return []
        candidates = {f["id"] for f in frames if rng.contains(f["timestamp"])}
        if not candidates:
            return []
    if visible is not None:
        candidates = set(visible) if candidates is None else candidates & set(visible)
        if not candidates:
            return []
    sketch = ctx.sketch_filter() if prefilter and tokens else None
    if sketch is not None and len(sketch):
        sk = sketch.candidates(query, max(k * 10, 500))
        if sk:
            s = set(sk)
            if candidates is None:
                candidates = s
            else:
                both = candidates & s
                candidates = both if both else s
    # Never ask the index for more documents than it has: a huge k (10**20) must neither
    # overflow nor allocate for results that cannot exist.
    limit = min(max(k * 4, 20), max(ctx.index.document_count(), 1))
    if candidates is not None:
        limit = min(limit, max(len(candidates), 1))
    stemmed: list[str] = []
    for t in tokens:
        stemmed += ctx.index.analyse(t)
    window = max(snippet_chars, 80)
    only = sorted(candidates) if candidates is not None else None
    total = ctx.index.document_count()
    passed: dict[int, tuple | None] = {}  # frame id → (start, text, eval_text) if it passes the filters

    def check(fid: int):
        if fid in passed:
            return passed[fid]
        passed[fid] = None
        if not 0 <= fid < len(frames):
            return None  # a document whose frame_id names no frame (memvid's stale ids)
        f = frames[fid]
        if visible is not None:
            if fid not in visible:
                return None
        elif f["status"] not in statuses:
            return None
        if since is not None and f["timestamp"] < since or until is not None and f["timestamp"] > until:
            return None
        start, end, text = ctx.chunk_context(fid)
        eval_text = ctx.eval_text(fid, text)
        if not parsed.evaluate(f, eval_text) or not text:  # no passage can be cut from an empty text
            return None
        passed[fid] = (start, text, eval_text)
        return passed[fid]

    while True:
        docs = ctx.index.search_documents(parsed, only, limit)
        evaluated = []
        for fid, score in docs:
            got = check(fid)
            if got is not None:
                evaluated.append((fid, score, got[0], got[1], got[2]))
        # The index matches stemmed terms and the filter asks for the words themselves
        # ("pythons" matches every "python"), so the first documents may all fail it while
        # a matching one ranks lower: by default the search goes on, four times deeper each
        # time, until k frames pass or the index has no more. memvid's mode keeps its cut.
        if prefilter or len(docs) < limit or limit >= min(total, DEEPEST) or len({e[0] for e in evaluated}) >= k:
            break
        limit = min(limit * 4, total, max(DEEPEST, limit))
    evaluated = recency_order(evaluated, lambda x: x[1], lambda x: frames[x[0]]["timestamp"])
    hits: list[Hit] = []
    seen: set[int] = set()
    for fid, score, start, text, eval_text in evaluated:
        f = frames[fid]
        if not prefilter:
            # One hit per frame, with its best passage (memvid emits every passage, so a
            # frame can fill several ranks; its compatible mode keeps that).
            if fid in seen:
                continue
            seen.add(fid)
        # Passages are cut only for documents that are emitted (every non-empty text has one).
        occ = token_occurrences(eval_text, stemmed)
        slices = snippet_slices(text, occ, window, k if prefilter else min(k, MAX_PASSAGES))
        if not prefilter and slices:
            slices = [best_slice(slices, occ)]
        b = text.encode("utf-8")
        for s, e in slices:
            if len(hits) == k:
                break
            s2, e2 = min(s, len(b)), min(e, len(b))
            if e2 <= s2:
                continue
            hits.append(Hit(len(hits) + 1, fid, f["uri"] or f"mv2://frames/{fid}", f["title"], score,
                            b[s2:e2].decode("utf-8", errors="replace"), (start + s2, start + e2)))
        if len(hits) == k:
            break
    return hits


def _ascii_lower_str(s: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in s)


def _lower(s: str) -> str:
    # ASCII-only lower-casing, as Rust's to_ascii_lowercase: bytes.lower() touches only A-Z.
    return s.encode("utf-8").lower().decode("utf-8")
