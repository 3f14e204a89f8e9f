"""A deterministic benchmark corpus of real English text: the docstrings of the Python standard library.

    from corpus import load, queries, embed_docs, embed_queries, corpus_sha256
    docs = load(1000)              # [{"uri", "title", "text", "timestamp"}, ...]
    qs = queries(docs)             # 200 query strings of 1-3 words
    X = embed_docs(docs)           # (n, 384) float32, L2-normalized
    Q = embed_queries(qs)          # (200, 384) float32

What it contains
----------------
The docstrings of modules, classes, functions, methods and properties of the standard library
of the *running interpreter*, walked in a fixed order:

* top-level modules from ``sys.stdlib_module_names``, public ones (no leading ``_``) first, then
  private ones, each group sorted; the submodules of a package (``pkgutil.iter_modules``) come
  right after it, sorted, recursively;
* skipped: modules with import side effects or GUI/test modules (``antigravity``, ``this``,
  ``tkinter``, ``turtle``, ``turtledemo``, ``idlelib``, ``test`` and every ``test``/``tests``/
  ``idle_test`` subpackage, ``__main__`` submodules, ``__hello__``/``__phello__``), ``distutils``
  (``setuptools`` may replace it with its own copy, so its text depends on the environment),
  ``lib2to3`` (importing its grammar may write a pickle cache next to the standard library),
  and any module that fails to import;
* inside a module: the module docstring, then its public attributes in ``sorted(dir(module))``
  order that are classes or routines, each followed (for classes) by the public members of the
  class's own ``__dict__`` in sorted order (routines, properties, class/static methods, nested
  classes one level deep). An object is attributed to the module in its ``__module__`` when that
  is a module this walk visits, so re-exports are not counted twice;
* each docstring is cleaned with ``inspect.cleandoc``; docstrings shorter than 40 characters are
  dropped, and so is any docstring whose cleaned text was seen before (first occurrence wins).

Document ``i`` (0-based) is ``{"uri": "py://<qualified.name>", "title": "<qualified.name>",
"text": <docstring>, "timestamp": 1700000000 + 60*i}``.

The extraction runs in a fresh interpreter (``sys.executable -I -S``: isolated, no ``site``)
so that nothing imported by the benchmark or installed in site-packages can change the walk.
The result is byte-for-byte identical across runs of the same Python build; :func:`corpus_sha256`
is the SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8).

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

SKIP_TOP = {"antigravity", "this", "tkinter", "turtle", "turtledemo", "idlelib", "test", "distutils",
            "__hello__", "__phello__", "__main__", "_tkinter", "lib2to3"}
SKIP_PARTS = {"test", "tests", "idle_test", "__main__"}


# -------------------------------------------------------------------------------------------------
# Extraction (runs in a fresh, isolated interpreter)
# -------------------------------------------------------------------------------------------------
def _extract() -> list[dict]:
    import importlib
    import inspect
    import io
    import contextlib
    import pkgutil
    import types
    import warnings

    warnings.simplefilter("ignore")

    def skipped(name: str) -> bool:
        parts = name.split(".")
        if parts[0] in SKIP_TOP or parts[0].startswith("_test") or parts[0].startswith("xx"):
            return True
        return any(p in SKIP_PARTS or p.startswith("test_") for p in parts[1:])

    def try_import(name: str):
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                return importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - SystemExit, ImportError, OSError...: skip the module
            return None

    top = sorted(sys.stdlib_module_names)
    order = [n for n in top if not n.startswith("_")] + [n for n in top if n.startswith("_")]

    modules: list[tuple[str, types.ModuleType]] = []

    def walk(name: str) -> None:
        if skipped(name):
            return
        mod = try_import(name)
        if mod is None:
            return
        modules.append((name, mod))
        path = getattr(mod, "__path__", None)
        if path:
            subs = sorted({m.name for m in pkgutil.iter_modules(list(path))})
            for sub in subs:
                walk(f"{name}.{sub}")

    for n in order:
        walk(n)
    visited = {n for n, _ in modules}

    docs: list[tuple[str, str]] = []
    seen_text: set[str] = set()

    def add(qualname: str, obj) -> None:
        doc = getattr(obj, "__doc__", None)
        if not isinstance(doc, str):
            return
        text = inspect.cleandoc(doc)
        if len(text) < MIN_CHARS or text in seen_text:
            return
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return
        seen_text.add(text)
        docs.append((qualname, text))

    def is_member(v) -> bool:
        return inspect.isroutine(v) or isinstance(v, (property, classmethod, staticmethod)) or inspect.isclass(v) \
            or inspect.isdatadescriptor(v)

    def add_class(qualname: str, cls, depth: int) -> None:
        add(qualname, cls)
        try:
            members = sorted(vars(cls).items())
        except TypeError:
            return
        for k, v in members:
            if k.startswith("_") or not is_member(v):
                continue
            if inspect.isclass(v):
                if depth < 1 and v.__qualname__.startswith(cls.__qualname__ + "."):
                    add_class(f"{qualname}.{k}", v, depth + 1)
                continue
            if isinstance(v, (classmethod, staticmethod)):
                v = v.__func__
            add(f"{qualname}.{k}", v)

    for name, mod in modules:
        add(name, mod)
        for attr in sorted(dir(mod)):
            if attr.startswith("_"):
                continue
            try:
                obj = getattr(mod, attr)
            except Exception:  # noqa: BLE001
                continue
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            home = getattr(obj, "__module__", None)
            if home != name and home in visited:
                continue  # it is documented where it lives
            if inspect.isclass(obj):
                add_class(f"{name}.{attr}", obj, 0)
            else:
                add(f"{name}.{attr}", obj)

    return [{"uri": f"py://{q}", "title": q, "text": t, "timestamp": BASE_TIMESTAMP + 60 * i}
            for i, (q, t) in enumerate(docs)]


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
