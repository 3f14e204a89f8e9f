"""A deterministic benchmark corpus of real English text: docstring paragraphs of the Python standard library.

    from corpus import load, queries, embed_docs, embed_queries, corpus_sha256
    docs = load(1000)              # [{"uri", "title", "text", "timestamp"}, ...]
    qs = queries(docs)             # 200 query strings of 1-3 words
    X = embed_docs(docs)           # (n, 384) float32, L2-normalized
    Q = embed_queries(qs)          # (200, 384) float32

What it contains
----------------
One document per *paragraph* of a docstring in the standard-library source tree of the *running
interpreter* (``sysconfig.get_paths()["stdlib"]``). Nothing is imported: every file is parsed with
:mod:`ast`, so the walk has no side effects and does not depend on which modules import on this
machine. Whole docstrings alone are too few for a 10,000-document benchmark (CPython 3.11.7 has
8,919 distinct ones of 40 characters or more, tests included); their paragraphs give 14,434
documents (1,754,885 characters) there.

* Files: every ``*.py`` file under the stdlib directory, tests and GUI/IDLE code included, except
  the top-level ``site-packages``/``dist-packages`` directories (third-party code) and
  ``__pycache__``; read in sorted order of their ``/``-separated path relative to that directory
  (code-point order), so a size-*n* prefix is the first files alphabetically (``__future__``,
  ``_pydecimal``, ``argparse``, ``asyncio``, ...; ``test`` comes late). A file that this
  interpreter cannot parse (test data written in Python 2 or deliberately broken; 9 files on
  CPython 3.11.7) is skipped.
* Within a file, source order: the module docstring, then the docstring of every ``class``,
  ``def`` and ``async def`` in a depth-first walk of the statement bodies (so nested classes and
  functions, and definitions under ``if``/``try``/``with``/``for``/``while``/``match``, come
  where they are written).
* A docstring (``ast.get_docstring``, which applies ``inspect.cleandoc``) is split into
  paragraphs at blank lines; a paragraph's whitespace is normalised (``" ".join(p.split())``).
  Dropped: paragraphs shorter than 40 characters, paragraphs starting with ``>>>`` (doctest
  code, not prose), and any paragraph whose normalised text was seen before (first occurrence
  wins). What remains is mostly English prose, with some inline code and option listings.

Document ``i`` (0-based) is ``{"uri": "py://<module>:<qualname>#p<k>", "title": "<module>.<qualname>",
"text": <paragraph>, "timestamp": 1700000000 + 60*i}``: ``<module>`` is the dotted path of the file
(``json/decoder.py`` -> ``json.decoder``, ``json/__init__.py`` -> ``json``), ``<qualname>`` follows
Python's ``__qualname__`` (``Class.method``, ``func.<locals>.inner``) and is absent, with its colon,
for a module docstring; ``k`` is the 1-based position of the paragraph in its docstring (counting
dropped paragraphs too). When a module defines the same qualified name more than once (e.g. under
``if``/``else``), the second definition's qualname gets ``~2``, the third ``~3``, and so on, so
URIs are unique.

The extraction runs in a fresh interpreter (``sys.executable -I -S``: isolated, no ``site``) so that
nothing imported by the benchmark or set in the environment can change the walk. The result is
byte-for-byte identical across runs of the same Python build; :func:`corpus_sha256` is the SHA-256
of its canonical JSON (sorted keys, no spaces, UTF-8).

The synthetic embeddings
------------------------
No embedding model is available offline, so vector benchmarks use a *fixed pseudo-embedding*:
every lowercase ASCII word token ``t`` of a text is mapped to a random unit vector drawn from
``numpy.random.default_rng(int.from_bytes(BLAKE3(t)[:16], "little"))``; a text's vector is the
sum of its tokens' vectors (with multiplicity), L2-normalized, in float32, 384 dimensions.
Texts sharing words are therefore close, which gives the indexes realistic non-uniform
neighborhoods, but **the vectors carry no semantic meaning**: they measure index mechanics
(recall of approximate search against exact search, latency), not retrieval quality.

Run ``python tools/bench/corpus.py`` to print the count and SHA-256.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import re
import subprocess
import sys

MIN_CHARS = 40
BASE_TIMESTAMP = 1700000000
DIM = 384
N_QUERIES = 200

SKIP_TOP_DIRS = {"site-packages", "dist-packages"}


# -------------------------------------------------------------------------------------------------
# Extraction (runs in a fresh, isolated interpreter)
# -------------------------------------------------------------------------------------------------
def _source_files(root: str) -> list[tuple[str, str]]:
    """``(relative posix path, absolute path)`` of every ``.py`` file under ``root``, sorted by the former."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not (rel_dir == "." and d in SKIP_TOP_DIRS)]
        for f in filenames:
            if f.endswith(".py"):
                rel = f if rel_dir == "." else f"{rel_dir}/{f}"
                out.append((rel.replace(os.sep, "/"), os.path.join(dirpath, f)))
    out.sort()
    return out


def _module_name(rel: str) -> str:
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _paragraphs(doc: str) -> list[str]:
    """The blank-line-separated paragraphs of a cleaned docstring, whitespace-normalised."""
    paras, cur = [], []
    for line in doc.split("\n"):
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append(" ".join(" ".join(cur).split()))
            cur = []
    if cur:
        paras.append(" ".join(" ".join(cur).split()))
    return paras


def _extract() -> list[dict]:
    import ast
    import sysconfig
    import warnings

    warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes in old test files
    root = sysconfig.get_paths()["stdlib"]
    defs = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    bodies = ("body", "handlers", "orelse", "finalbody", "cases")  # source order of each statement kind

    docs: list[tuple[str, str, str]] = []  # (uri, title, text)
    seen_text: set[str] = set()
    seen_uri: set[str] = set()
    occurrences: dict[tuple[str, str], int] = {}  # (module, qualname) -> definitions seen so far

    for rel, path in _source_files(root):
        with open(path, "rb") as fh:
            source = fh.read()
        try:
            tree = ast.parse(source, filename=rel)
        except (SyntaxError, ValueError):  # Python 2 test data, deliberately broken files, NUL bytes
            continue
        module = _module_name(rel)

        def add(node, qualname: str) -> None:
            doc = ast.get_docstring(node, clean=True)
            if not doc:
                return
            for k, text in enumerate(_paragraphs(doc), 1):
                if len(text) < MIN_CHARS or text.startswith(">>>") or text in seen_text:
                    continue
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:  # lone surrogates from escapes in the source
                    continue
                uri = f"py://{module}:{qualname}#p{k}" if qualname else f"py://{module}#p{k}"
                if uri in seen_uri:  # cannot happen by construction; refuse to produce an ambiguous corpus
                    raise AssertionError(f"duplicate URI {uri}")
                seen_text.add(text)
                seen_uri.add(uri)
                docs.append((uri, f"{module}.{qualname}" if qualname else module, text))

        def visit(stmts, prefix: str) -> None:
            """Depth-first, in source order. ``prefix`` is the qualname prefix of this scope."""
            for node in stmts:
                if isinstance(node, defs):
                    qualname = prefix + node.name
                    count = occurrences[module, qualname] = occurrences.get((module, qualname), 0) + 1
                    if count > 1:
                        qualname = f"{qualname}~{count}"
                    add(node, qualname)
                    inner = qualname + (".<locals>." if not isinstance(node, ast.ClassDef) else ".")
                    visit(node.body, inner)
                else:
                    for field in bodies:
                        sub = getattr(node, field, None)
                        if isinstance(sub, list):
                            visit(sub, prefix)

        count = occurrences[module, ""] = occurrences.get((module, ""), 0) + 1  # two files, one module name
        add(tree, "" if count == 1 else f"~{count}")
        visit(tree.body, "")

    return [{"uri": u, "title": t, "text": x, "timestamp": BASE_TIMESTAMP + 60 * i}
            for i, (u, t, x) in enumerate(docs)]


# -------------------------------------------------------------------------------------------------
# Public API
# -------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _all() -> tuple[dict, ...]:
    res = subprocess.run([sys.executable, "-I", "-S", os.path.abspath(__file__), "--extract"],
                         capture_output=True, check=True, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
                         cwd="/")
    return tuple(json.loads(res.stdout.decode("utf-8")))


def load(n: int | None = None) -> list[dict]:
    """The first ``n`` documents (all when ``n`` is None). Fresh dicts each call."""
    docs = _all()
    if n is not None:
        docs = docs[:n]
    return [dict(d) for d in docs]


def canonical(docs: list[dict]) -> bytes:
    return json.dumps(docs, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def corpus_sha256(docs: list[dict] | None = None) -> str:
    return hashlib.sha256(canonical(load() if docs is None else docs)).hexdigest()


_WORD = re.compile(r"[A-Za-z]+")
STOPWORDS = frozenset("""a about above after again against all also an and any are as at be because been before
being below between both but by can could did do does doing down during each else few for from further had has have
having he her here hers him his how if in into is it its itself just may might more most must no nor not now of off on
once only or other our out over own same she should so some such than that the their them then there these they this
those through to too under until up upon very was we were what when where which while who whom why will with would
you your return returns returned none true false self object default value values given""".split())


def tokens(text: str) -> list[str]:
    """Lowercase ASCII word tokens (used for queries and the pseudo-embedding)."""
    return [t.lower() for t in _WORD.findall(text)]


def queries(docs: list[dict], count: int = N_QUERIES, seed: int = 0) -> list[str]:
    """``count`` queries of 1-3 distinctive words, each drawn from one document of ``docs``.

    A word is distinctive when it is 4-20 letters, not a stopword, and occurs in at least 2 and at
    most max(2, 1%) of the documents. Every query's words co-occur in at least one document."""
    df: dict[str, int] = {}
    per_doc = []
    for d in docs:
        ws = sorted(set(tokens(d["text"])))
        per_doc.append(ws)
        for w in ws:
            df[w] = df.get(w, 0) + 1
    hi = max(2, len(docs) // 100)
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        ws = [w for w in per_doc[rng.randrange(len(docs))] if 4 <= len(w) <= 20 and w not in STOPWORDS and 2 <= df[w] <= hi]
        if not ws:
            continue
        k = rng.randint(1, 3)
        out.append(" ".join(rng.sample(ws, min(k, len(ws)))))
    return out


def _token_vectors(vocab: list[str]):
    import blake3
    import numpy as np

    m = np.empty((len(vocab), DIM), dtype=np.float64)
    for i, t in enumerate(vocab):
        seed = int.from_bytes(blake3.blake3(t.encode("utf-8")).digest()[:16], "little")
        v = np.random.default_rng(seed).standard_normal(DIM)
        m[i] = v / np.linalg.norm(v)
    return m


def embed_texts(texts: list[str]):
    """The synthetic pseudo-embedding (see the module doc): (len(texts), 384) float32, unit rows.

    A text without any word token gets the unit vector e0."""
    import numpy as np

    toks = [tokens(t) for t in texts]
    vocab = sorted({t for ts in toks for t in ts})
    index = {t: i for i, t in enumerate(vocab)}
    tv = _token_vectors(vocab)
    out = np.zeros((len(texts), DIM), dtype=np.float64)
    for r, ts in enumerate(toks):
        if ts:
            ids = np.fromiter((index[t] for t in ts), dtype=np.int64, count=len(ts))
            uniq, counts = np.unique(ids, return_counts=True)
            out[r] = counts @ tv[uniq]
        norm = np.linalg.norm(out[r])
        if norm == 0:
            out[r, 0] = 1.0
        else:
            out[r] /= norm
    return out.astype(np.float32)


def embed_docs(docs: list[dict]):
    """Embedding of each document's title and text."""
    return embed_texts([f"{d['title']} {d['text']}" for d in docs])


def embed_queries(qs: list[str]):
    return embed_texts(qs)


if __name__ == "__main__":
    if sys.argv[1:] == ["--extract"]:
        sys.stdout.buffer.write(json.dumps(_extract(), ensure_ascii=False).encode("utf-8"))
    else:
        docs = load()
        print(f"{len(docs)} documents, {sum(len(d['text']) for d in docs)} characters, sha256 {corpus_sha256(docs)}")
        for d in docs[:3]:
            print(d["uri"], repr(d["text"][:80]))
