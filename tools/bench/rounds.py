"""Interleaved rounds: mv2 and memvid side by side, medians of several rounds (docs/benchmarks.md).

    python tools/bench/rounds.py --sizes 1000 8000 100000 --rounds 5 --peer-max 8000

Each library's file of *n* documents is built once (put_many with embeddings, then seal);
then, in every round, each library is measured in turn, the order rotating from round to
round, and BLAKE3 hashes the same file in the same round, so that a slow minute on a shared
machine lands on both. Every number reported is the median over the rounds.

Per library and round, three fresh processes:

* **probe** (read-only): import, open (and the RSS it leaves), the first lexical and the first
  vector query of the process, then steady-state lexical and vector queries (medians over the
  query set; mv2 both by default and in its memvid-compatible mode, ``prefilter=True``),
  ``timeline(limit=100)``, and recall@10 of vector search against exact search;
* **writer**: open for writing (a copy of the file), then five times a put of one document
  followed by a lexical find, before any seal (the put and the find are timed apart: memvid
  makes each put searchable inside the put, mv2 at the next find);
* **verify**: the library's full verification of the file.

Sizes beyond the corpus use synthetic documents: corpus document ``i mod C`` with two words
drawn (seeded by ``i``) from the corpus vocabulary appended, a URI made unique and
timestamps continuing. Where memvid-sdk refuses a file past its 50 MiB capacity, the peer is
memvid-sdk-free 2.0.159 (the same core, about 10 TB capacity), installed in its own cached
virtual environment. A log-log plot of each metric against *n* is written next to the report.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["MEMVID_TELEMETRY"] = "0"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

K = 10
QUERIES = 50
PUTS = 5
BATCH = 1000
MEMVID_CAPACITY_DOCS = 20_000  # above this the corpus' files pass memvid-sdk's 50 MiB: use the free build
FREE_VERSION = "2.0.159"


# ---- documents ---------------------------------------------------------------------------------
def documents(n: int) -> list[dict]:
    base = corpus.load()
    c = len(base)
    if n <= c:
        return base[:n]
    vocab = sorted({t for d in base for t in corpus.tokens(d["text"]) if 4 <= len(t) <= 12})
    out = base[:]
    for i in range(c, n):
        d = base[i % c]
        rng = random.Random(i)
        out.append({"uri": f"{d['uri']}~{i // c}", "title": d["title"], "timestamp": 1700000000 + 60 * i,
                    "text": f"{d['text']} {rng.choice(vocab)} {rng.choice(vocab)}"})
    return out


# ---- libraries (worker side) ----------------------------------------------------------------------
class Mv2:
    def __init__(self):
        import mv2
        # What mv2 loads lazily on open and on the first query is loaded here, so that (as with
        # memvid-sdk, which loads everything on import) the import row holds all module loading
        # and the open and first-query rows hold only the work on the file.
        import mv2.index.lexsearch  # noqa: F401
        import mv2.index.vecsearch  # noqa: F401
        import mv2.memory  # noqa: F401

        self.m = mv2

    def build(self, path, docs, X):
        h = self.m.create(path)
        for i in range(0, len(docs), BATCH):
            h.put_many([{"content": d["text"], "uri": d["uri"], "title": d["title"], "timestamp": d["timestamp"],
                         "embedding": X[i + j].tolist()} for j, d in enumerate(docs[i:i + BATCH])])
        h.close()

    def open_ro(self, path):
        return self.m.open(path)

    def open_rw(self, path):
        return self.m.open(path, "a")

    def lex(self, h, q, compat=False):
        return h.find(q, k=K, prefilter=compat)

    def vec(self, h, v):
        return h.find_vector(v, k=K)

    def timeline(self, h):
        return h.timeline(limit=100)

    def put(self, h, d):
        h.put(d["text"], uri=d["uri"], title=d["title"], timestamp=d["timestamp"])

    def verify(self, path):
        return self.m.verify(path).ok


class Memvid:
    def __init__(self):
        import memvid_sdk

        self.sdk = memvid_sdk

    def build(self, path, docs, X):
        h = self.sdk.use("basic", path, mode="create", enable_vec=True, enable_lex=True)
        for i in range(0, len(docs), BATCH):
            part = docs[i:i + BATCH]
            h.put_many([{"title": d["title"], "label": "doc", "text": d["text"], "uri": d["uri"]} for d in part],
                       embeddings=[X[i + j].tolist() for j in range(len(part))])
        h.seal()
        h.close()

    def open_ro(self, path):
        return self.sdk.use("basic", path, mode="open", read_only=True, enable_lex=True, enable_vec=True)

    def open_rw(self, path):
        return self.sdk.use("basic", path, mode="open", enable_lex=True, enable_vec=True)

    def lex(self, h, q, compat=False):
        return h.find(q, k=K, mode="lex")["hits"]

    def vec(self, h, v):
        return h.find("", k=K, mode="sem", query_embedding=v)["hits"]

    def timeline(self, h):
        return h.timeline(limit=100)

    def put(self, h, d):
        h.put(title=d["title"], label="doc", text=d["text"], uri=d["uri"], timestamp=d["timestamp"],
              auto_tag=False, extract_dates=False, enable_embedding=False)

    def verify(self, path):
        h = self.open_ro(path)
        try:
            return h.verify(deep=True)["overall_status"] == "passed"
        finally:
            h.close()


def rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _try(f, *a):
    try:
        return f(*a)
    except Exception as e:  # noqa: BLE001 - e.g. memvid-sdk refusing one query with LexIndexDisabledError
        return e


def _timed(f, *a):
    t = time.perf_counter()
    r = f(*a)
    return time.perf_counter() - t, r


def worker(args) -> None:
    t0 = time.perf_counter()
    lib = Mv2() if args.worker == "mv2" else Memvid()
    out: dict = {"import_s": time.perf_counter() - t0}
    if args.worker == "mv2":
        out["mv2_from"] = str(Path(lib.m.__file__).parent.parent)
    job = json.loads(Path(args.job).read_text())
    if args.op == "build":
        import numpy as np

        docs = documents(job["n"])
        X = np.load(job["X"])
        out["ingest_s"], _ = _timed(lib.build, args.path, docs, X)
    elif args.op == "probe":
        import numpy as np

        qs, Q = job["queries"], np.load(job["Q"])
        out["import_probe_s"] = out["import_s"]
        base = rss_mb()
        out["open_s"], h = _timed(lib.open_ro, args.path)
        out["rss_open_mb"] = (rss_mb() or 0) - (base or 0)
        out["first_lex_s"], _ = _timed(lambda q: _try(lib.lex, h, q), qs[0])
        out["first_vec_s"], _ = _timed(lib.vec, h, Q[0].tolist())
        lat, failed = [], []
        for q in qs:
            t = time.perf_counter()
            err = _try(lib.lex, h, q)
            if isinstance(err, BaseException):
                failed.append(f"{q!r}: {type(err).__name__}")
            else:
                lat.append(time.perf_counter() - t)
        out["lex_s"] = statistics.median(lat)
        out["lex_failed"] = failed  # a query the library refuses is left out of the median, and listed
        if args.worker == "mv2":
            out["lex_compat_s"] = statistics.median([_timed(lib.lex, h, q, True)[0] for q in qs])
        uri_doc = {u: i for i, u in enumerate(job["uris"])}
        vl, rec = [], []
        for qi, q in enumerate(Q):
            dt, hits = _timed(lib.vec, h, q.tolist())
            vl.append(dt)
            got = [uri_doc.get((x.get("uri") or "").split("#page-")[0]) for x in hits]
            rec.append(len(set(got) & set(job["exact"][qi])) / K)
        out["vec_s"], out["recall_at_10"] = statistics.median(vl), sum(rec) / len(rec)
        out["timeline_s"] = statistics.median([_timed(lib.timeline, h)[0] for _ in range(20)])
    elif args.op == "writer":
        docs = documents(job["n"])
        out["open_rw_s"], h = _timed(lib.open_rw, args.path)
        lat, put = [], []
        for j in range(PUTS):
            d = dict(docs[j], uri=docs[j]["uri"] + "#new", timestamp=docs[-1]["timestamp"] + 60 * (j + 1))
            put.append(_timed(lib.put, h, d)[0])
            lat.append(_timed(lib.lex, h, job["queries"][j])[0])
        out["find_after_put_s"] = statistics.median(lat)
        out["put_unsealed_s"] = statistics.median(put)  # memvid indexes (commits Tantivy) inside put
        # What an agent's turn costs: memvid commits its index in the put, mv2 in the next find,
        # so neither row alone compares the two.
        out["put_then_find_s"] = statistics.median([a + b for a, b in zip(put, lat)])
    elif args.op == "verify":
        out["verify_s"], ok = _timed(lib.verify, args.path)
        out["verify_ok"] = bool(ok)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no seal or close: a writer's unsealed puts are left in its WAL, the copy is discarded


# ---- parent ------------------------------------------------------------------------------------------
def free_python() -> str:
    """Python of a cached virtual environment with memvid-sdk-free (its module is memvid_sdk too)."""
    base = Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2")) / f"venv-memvid-sdk-free-{FREE_VERSION}"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"memvid-sdk-free=={FREE_VERSION}", "numpy", "blake3"],
                       check=True, env=dict(os.environ, MEMVID_TELEMETRY="0"))
    return str(py)


def run(python: str, lib: str, op: str, path: str, job: str, timeout: float = 7200) -> dict:
    env = dict(os.environ, MEMVID_TELEMETRY="0", OPENBLAS_NUM_THREADS="1")
    # mv2 from this checkout (the tree this script is in), whatever is installed.
    env["PYTHONPATH"] = str(ROOT / "reference") + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([python, str(Path(__file__)), "--worker", lib, "--op", op, "--path", path, "--job", job],
                       capture_output=True, text=True, timeout=timeout, env=env)
    lines = [x for x in r.stdout.splitlines() if x.startswith("{")]
    if r.returncode != 0 or not lines:
        return {"error": (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1][:300]}
    return json.loads(lines[-1])


def blake3_s(path: str) -> float:
    import blake3

    t = time.perf_counter()
    h = blake3.blake3(max_threads=1)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    h.digest()
    return time.perf_counter() - t


METRICS = [  # key, label, unit scale, better
    ("ingest_s", "ingest (put_many + seal), s", 1, "lower"),
    ("import_probe_s", "import in a fresh process (all modules open and find use), ms", 1e3, "lower"),
    ("open_s", "open read-only, ms", 1e3, "lower"),
    ("rss_open_mb", "RSS added by open, MB", 1, "lower"),
    ("open_rw_s", "open for writing, ms", 1e3, "lower"),
    ("first_lex_s", "first lexical find in a fresh process, ms", 1e3, "lower"),
    ("first_vec_s", "first vector find in a fresh process, ms", 1e3, "lower"),
    ("lex_s", "lexical find p50, ms", 1e3, "lower"),
    ("lex_compat_s", "lexical find p50, memvid-compatible mode, ms", 1e3, "lower"),
    ("vec_s", "vector find p50, ms", 1e3, "lower"),
    ("recall_at_10", "vector recall@10", 1, "higher"),
    ("put_unsealed_s", "put of one document before a find (no seal), ms", 1e3, "lower"),
    ("find_after_put_s", "find after an unsealed put, ms", 1e3, "lower"),
    ("put_then_find_s", "put of one document then a find (both above, one turn), ms", 1e3, "lower"),
    ("timeline_s", "timeline(limit=100), ms", 1e3, "lower"),
    ("verify_s", "verify, s", 1, "lower"),
    ("verify_mb_s", "verify throughput, MB/s", 1, "higher"),
    ("blake3_mb_s", "BLAKE3 of the same file (same rounds), MB/s", 1, "higher"),
    ("file_mb", "file size, MB", 1, "lower"),
]


def measure(sizes: list[int], rounds: int, work: Path, log, peer_max: int | None = None, save=None) -> dict:
    import numpy as np

    results: dict = {"sizes": {}, "rounds": rounds, "peer_max": peer_max,
                     "load": " / ".join(f"{x:.1f}" for x in os.getloadavg())}
    for n in sizes:
        docs = documents(n)
        qs = corpus.queries(docs, QUERIES)
        X, Q = corpus.embed_docs(docs), corpus.embed_queries(qs)
        S = Q @ X.T
        exact = [np.lexsort((np.arange(n), -S[i]))[:K].tolist() for i in range(len(qs))]
        np.save(work / f"X{n}.npy", X)
        np.save(work / f"Q{n}.npy", Q)
        job = work / f"job{n}.json"
        job.write_text(json.dumps({"n": n, "X": str(work / f"X{n}.npy"), "Q": str(work / f"Q{n}.npy"), "queries": qs,
                                   "uris": [d["uri"] for d in docs], "exact": exact}))
        libs = {"mv2": (sys.executable, "mv2")}
        peer = ("memvid", f"memvid-sdk {corpus_memvid_version()}")
        built: dict = {}
        for name in ("mv2", "memvid"):
            path = str(work / f"{name}-{n}.mv2")
            if name == "memvid" and peer_max is not None and n > peer_max:
                log(f"n={n}: the peer is not measured above --peer-max {peer_max}")
                break
            python = sys.executable
            if name == "memvid" and n > MEMVID_CAPACITY_DOCS:
                python, peer = free_python(), ("memvid", f"memvid-sdk-free {FREE_VERSION}")
            log(f"n={n}: building the {name} file")
            b = run(python, name, "build", path, str(job))
            if name == "memvid" and "capacity" in b.get("error", "").lower() and python == sys.executable:
                log(f"n={n}: memvid-sdk refused ({b['error']}); memvid-sdk-free {FREE_VERSION} instead")
                python, peer = free_python(), ("memvid", f"memvid-sdk-free {FREE_VERSION}")
                b = run(python, name, "build", path, str(job))
            libs[name] = (python, name)
            built[name] = b
        per: dict = {name: [] for name in libs}
        for r in range(rounds):
            order = list(libs) if r % 2 == 0 else list(libs)[::-1]
            for name in order:
                python, lib = libs[name]
                path = str(work / f"{name}-{n}.mv2")
                row: dict = {}
                if "error" in built[name]:
                    per[name].append({"error": built[name]["error"]})
                    continue
                row["blake3_s"] = blake3_s(path)
                for op in ("probe", "writer", "verify"):
                    target = path
                    if op == "writer":
                        target = str(work / f"{name}-{n}-rw.mv2")
                        shutil.copyfile(path, target)
                    log(f"n={n} round {r + 1}/{rounds}: {name} {op}")
                    row.update(run(python, lib, op, target, str(job)))
                    if op == "writer":
                        os.remove(target)
                size = os.path.getsize(path)
                row["file_mb"] = size / 1e6
                row["blake3_mb_s"] = size / 1e6 / row["blake3_s"]
                if row.get("verify_s"):
                    row["verify_mb_s"] = size / 1e6 / row["verify_s"]
                per[name].append(row)
        med: dict = {}
        for name, rows in per.items():
            m: dict = {"label": "mv2" if name == "mv2" else peer[1], "errors": sorted({x["error"] for x in rows if "error" in x})}
            if "ingest_s" in built[name]:
                m["ingest_s"] = built[name]["ingest_s"]
            for key, *_ in METRICS:
                vals = [x[key] for x in rows if isinstance(x.get(key), (int, float))]
                if vals and key != "ingest_s":
                    m[key] = statistics.median(vals)
            med[name] = m
        results["sizes"][str(n)] = {"n": n, "median": med, "rounds": per, "round_count": rounds}
        if save is not None:
            save(results)  # after every size: a long run interrupted later keeps what it measured
        for name in libs:
            p = work / f"{name}-{n}.mv2"
            if p.exists():
                p.unlink()
    return results


def corpus_memvid_version() -> str:
    try:
        from importlib.metadata import version

        return version("memvid-sdk")
    except Exception:  # noqa: BLE001
        return "?"


def plots(results: dict, outdir: Path) -> list[tuple[str, str]]:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plots", file=sys.stderr)
        return []

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir.mkdir(parents=True, exist_ok=True)
    made = []
    sizes = sorted(results["sizes"].values(), key=lambda s: s["n"])
    for key, label, scale, _ in METRICS:
        series = {}
        for s in sizes:
            for name, m in s["median"].items():
                if isinstance(m.get(key), (int, float)) and m[key] > 0:
                    series.setdefault(name, []).append((s["n"], m[key] * scale))
        if not series or all(len(v) < 1 for v in series.values()):
            continue
        fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
        for name, pts in series.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label="mv2" if name == "mv2" else "memvid")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents (N)")
        ax.set_title(label, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        name = f"{key}.png"
        fig.savefig(outdir / name, metadata={"Software": None})
        plt.close(fig)
        made.append((label, name))
    return made


def markdown(results: dict, made: list[tuple[str, str]], imgdir: str, command: str, rev: str = "") -> str:
    lines = ["## Interleaved rounds", "",
             f"Generated by `{command}` at mv2 git {rev}, on a shared 2-core machine (load average "
             f"{results.get('load', '?')} at the start). In each round "
             "the two libraries run in turn (the order alternating) and BLAKE3 hashes the same file, one "
             "thread, in the same round. Each probe is a fresh process. The vectors are the corpus' "
             "synthetic pseudo-embeddings (see Corpus below), not a model's.", ""]
    for s in sorted(results["sizes"].values(), key=lambda s: s["n"]):
        med = s["median"]
        a, b = med.get("mv2", {}), med.get("memvid", {"label": "memvid (not measured at this size)"})
        lines += [f"### {s['n']:,} documents", "", f"Medians of {s.get('round_count', results['rounds'])} rounds.", "", f"| metric | mv2 | {b.get('label', 'memvid')} | mv2 ÷ peer |", "|---|---:|---:|---:|"]
        for key, label, scale, better in METRICS:
            va, vb = a.get(key), b.get(key)
            if va is None and vb is None:
                continue
            fa = "—" if va is None else f"{va * scale:,.3g}" if va * scale < 100 else f"{va * scale:,.0f}"
            fb = "—" if vb is None else f"{vb * scale:,.3g}" if vb * scale < 100 else f"{vb * scale:,.0f}"
            if key == "lex_compat_s" and vb is None:
                vb = b.get("lex_s")  # the compatible mode against memvid's own lexical find
                fb = "—" if vb is None else f"{vb * scale:,.3g}"
            ratio = f"{va / vb:.2f}×" if va and vb else "—"
            lines.append(f"| {label} ({better} is better) | {fa} | {fb} | {ratio} |")
        for name, m in med.items():
            for e in m.get("errors", []):
                lines.append(f"\n{m['label']}: {e}")
            refused = sorted({q for r in s["rounds"].get(name, []) for q in r.get("lex_failed", [])})
            if refused:
                lines.append(f"\n{m['label']} refused {len(refused)} of the {QUERIES} queries (left out of its "
                             f"lexical median): {', '.join(refused)}")
        lines.append("")
    if made:
        lines += ["### Plots (log-log, against N)", ""]
        for label, name in made:
            lines.append(f"![{label}]({imgdir}/{name})")
        lines.append("")
    return "\n".join(lines)


BEGIN, END = "<!-- BEGIN rounds.py -->", "<!-- END rounds.py -->"


def into(text: str, block: str) -> str:
    """``text`` with this tool's block replaced, or inserted after the first paragraph."""
    if BEGIN in text and END in text:
        a, b = text.index(BEGIN), text.index(END) + len(END)
        return text[:a] + block + text[b:]
    if not text:
        return "# Benchmarks\n\n" + block + "\n"
    head, sep, rest = text.partition("\n\n")
    second, sep2, rest2 = rest.partition("\n\n")
    return head + sep + second + sep2 + block + "\n\n" + rest2


def git_rev() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker")
    ap.add_argument("--op")
    ap.add_argument("--path")
    ap.add_argument("--job")
    ap.add_argument("--sizes", nargs="+", type=int, default=[1000, 8000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"),
                    help="the report; an existing file keeps everything outside this tool's marked block")
    ap.add_argument("--json", default=None, help="also write the raw results here")
    ap.add_argument("--render", metavar="JSON", help="write the report from saved raw results, measuring nothing")
    ap.add_argument("--peer-max", type=int, default=None,
                    help="measure the peer only up to this many documents (memvid ingests about 30 documents/s)")
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return
    if args.render:
        res = json.loads(Path(args.render).read_text())
        args.sizes = sorted(int(n) for n in res["sizes"])
        args.rounds, args.peer_max = res["rounds"], res.get("peer_max")
    else:
        work = Path(tempfile.mkdtemp(prefix="mv2-rounds-"))
        try:
            save = (lambda r: Path(args.json).write_text(json.dumps(dict(r, mv2_git=git_rev()), indent=1))) if args.json else None
            res = measure(args.sizes, args.rounds, work, lambda s: print(s, file=sys.stderr, flush=True), args.peer_max, save)
            res["mv2_git"] = git_rev()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    imgdir = out.parent / "img" / "bench"
    made = plots(res, imgdir)
    cmd = ".venv/bin/python tools/bench/rounds.py --sizes " + " ".join(map(str, args.sizes)) + f" --rounds {args.rounds}"
    if args.peer_max is not None:
        cmd += f" --peer-max {args.peer_max}"
    block = BEGIN + "\n" + markdown(res, made, os.path.relpath(imgdir, out.parent), cmd, res.get("mv2_git") or git_rev()) + "\n" + END
    out.write_text(into(out.read_text() if out.exists() else "", block))
    if args.json and not args.render:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
