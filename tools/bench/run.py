"""Benchmark mv2 against memvid-sdk 2.0.160 on the same corpus, in the same run.

    .venv/bin/python tools/bench/run.py --sizes 1000 10000 all --mv2-rev HEAD --out docs/benchmarks.md
    .venv/bin/python tools/bench/run.py --quick                  # 200-document smoke run

Every number is reported for both libraries and as a ratio mv2 ÷ memvid-sdk, with the direction
that is better. The corpus is the paragraphs of the standard library's docstrings (see
``corpus.py``); vectors are a synthetic 384-d pseudo-embedding that measures index mechanics, not
semantic quality.

A size-*n* run uses the first *n* documents of the corpus; ``all`` is the whole corpus. A requested
size larger than the corpus is never silently shrunk: the run warns at the start and at the end,
and the report says so at the top (``--strict-sizes`` makes it an error instead).

Each (size, library) pair runs in its own worker process (``--worker``) so that neither library's
native state, threads or caches touch the other's numbers; the parent shows a progress bar and
writes the results table (markdown, ``--out``) and the raw results
(``tools/bench/results/<date>.json``).

The mv2 calls the harness makes, and nothing else of mv2's API:

    mem = mv2.create(path); ids = mem.put_many(items); mem.close()     # items: {"content", "uri",
                                                                       #  "title", "timestamp", "embedding"}
    mem = mv2.create(path); mem.put(text, uri=, title=, timestamp=); mem.close()
    mem = mv2.open(path)                                               # read-only
    mem.find(query, k=10, mode="lex")  -> [{"frame_id": int, ...}, ...]
    mem.find_vector(vector, k=10)      -> [{"frame_id": int, ...}, ...]
    mem.stats(); mem.close(); mv2.verify(path).ok

``find``/``find_vector`` are reported "n/a" while mv2 does not have them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["MEMVID_TELEMETRY"] = "0"  # before memvid_sdk is imported anywhere

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

MEMVID_VERSION = "2.0.160"
LIBS = ("mv2", "memvid")
LIB_LABEL = {"mv2": "mv2", "memvid": f"memvid-sdk {MEMVID_VERSION}"}
K = 10
MB = 1_000_000


# =================================================================================================
# Library adapters (used in the worker process)
# =================================================================================================
class NotAvailable(Exception):
    """The library does not offer this operation (reported as n/a)."""


class Mv2Lib:
    name = "mv2"
    hit_by = "frame_id"  # the ids put_many returned

    def __init__(self):
        import mv2

        self.mv2 = mv2

    def create(self, path):
        return self.mv2.create(path)

    def prepare(self, docs, vecs):
        items = []
        for d, v in zip(docs, vecs):
            it = {"content": d["text"], "uri": d["uri"], "title": d["title"], "timestamp": d["timestamp"]}
            if v is not None:
                it["embedding"] = v
            items.append(it)
        return items

    def put_prepared(self, h, items) -> list:
        return h.put_many(items)

    def put_one(self, h, d):
        return h.put(d["text"], uri=d["uri"], title=d["title"], timestamp=d["timestamp"])

    def finish(self, h):
        h.close()  # seals

    def open_rw(self, path):
        return self.mv2.open(path, "a")

    def seal(self, h):
        h.seal()

    def open_ro(self, path):
        return self.mv2.open(path)

    def close_ro(self, h):
        h.close()

    def lex(self, h, q):
        if not hasattr(h, "find"):
            raise NotAvailable("mv2 Memory.find does not exist yet")
        return list(h.find(q, k=K, mode="lex"))

    def vec(self, h, v):
        if not hasattr(h, "find_vector"):
            raise NotAvailable("mv2 Memory.find_vector does not exist yet")
        return list(h.find_vector(v, k=K))

    def verify(self, h, path) -> bool:
        return bool(self.mv2.verify(path).ok)

    def frame_count(self, h) -> int:
        return int(h.stats()["frame_count"])


class MemvidLib:
    name = "memvid"
    hit_by = "uri"  # put_many's return values are not frame ids (see the observations); chunk URIs end in #page-N

    def __init__(self):
        import memvid_sdk

        self.sdk = memvid_sdk

    def create(self, path):
        return self.sdk.use("basic", path, mode="create", enable_vec=True, enable_lex=True)

    def prepare(self, docs, vecs):
        reqs = [{"title": d["title"], "label": "doc", "text": d["text"], "uri": d["uri"]} for d in docs]
        embs = None if vecs[0] is None else list(vecs)
        return reqs, embs

    def put_prepared(self, h, prepared) -> list:
        reqs, embs = prepared
        return h.put_many(reqs, embeddings=embs)

    def put_one(self, h, d):
        return h.put(title=d["title"], label="doc", text=d["text"], uri=d["uri"], timestamp=d["timestamp"],
                     auto_tag=False, extract_dates=False, enable_embedding=False)

    def finish(self, h):
        h.seal()
        h.close()

    def open_rw(self, path):
        return self.sdk.use("basic", path, mode="open")

    def seal(self, h):
        h.seal()

    def open_ro(self, path):
        return self.sdk.use("basic", path, mode="open", read_only=True)

    def close_ro(self, h):
        h.close()

    def lex(self, h, q):
        return list(h.find(q, k=K, mode="lex")["hits"])

    def vec(self, h, v):
        return list(h.find("", k=K, mode="sem", query_embedding=v)["hits"])

    def verify(self, h, path) -> bool:
        return h.verify(deep=True)["overall_status"] == "passed"

    def frame_count(self, h) -> int:
        return int(dict(h.stats())["frame_count"])


# =================================================================================================
# Worker
# =================================================================================================
def emit(**ev) -> None:
    sys.stdout.write(json.dumps(ev) + "\n")
    sys.stdout.flush()


class Task:
    def __init__(self, tid: str, desc: str, total: int):
        self.tid = tid
        emit(ev="task", id=tid, desc=desc, total=total)

    def advance(self, n: int = 1) -> None:
        emit(ev="adv", id=self.tid, n=n)


def pct(xs, p):
    import numpy as np

    return float(np.percentile(np.asarray(xs, dtype=np.float64), p)) if xs else None


def exact_topk(Q, X, cols=None):
    """Exact top-K document indexes for each query (dot product = cosine on unit vectors)."""
    import numpy as np

    if cols is not None:
        X = X[cols]
    S = Q @ X.T
    k = min(K, X.shape[0])
    part = np.argpartition(-S, k - 1, axis=1)[:, :k]
    out = []
    for r in range(S.shape[0]):
        row = part[r][np.argsort(-S[r, part[r]], kind="stable")]
        out.append([int(cols[j]) if cols is not None else int(j) for j in row])
    return out


def peak_rss_mb() -> float | None:
    """This process's peak resident set (VmHWM; ru_maxrss would include the parent's, kept across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def worker(args) -> None:
    import numpy as np

    params = json.loads(args.params)
    n = args.size
    lib = Mv2Lib() if args.worker == "mv2" else MemvidLib()
    res: dict = {"lib": lib.name, "size": n, "load_start": load_avg(), "errors": {}, "notes": []}
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    docs = corpus.load(n)
    sha = corpus.corpus_sha256(docs)
    if params.get("sha") and sha != params["sha"]:
        raise SystemExit(f"corpus mismatch: worker {sha} != parent {params['sha']}")
    X = corpus.embed_docs(docs)
    qs = corpus.queries(docs, params["queries"])
    Q = corpus.embed_queries(qs)
    uri_to_doc = {d["uri"]: i for i, d in enumerate(docs)}
    xlists = [[float(x) for x in row] for row in X]
    qlists = [[float(x) for x in row] for row in Q]

    # ---- batch ingest (with embeddings) ----------------------------------------------------------
    path = str(work / f"{lib.name}-{n}.mv2")
    for p in (path,):
        if os.path.exists(p):
            os.remove(p)
    B = params["batch"]
    batches = [(docs[i:i + B], xlists[i:i + B]) for i in range(0, n, B)]
    prepared = [lib.prepare(bd, bv) for bd, bv in batches]
    t = Task("ingest", "put_many + seal", n)
    frame_to_doc: dict[int, int] = {}
    t0 = time.perf_counter()
    h = lib.create(path)
    base = 0
    try:
        for (bd, _), prep in zip(batches, prepared):
            ids = lib.put_prepared(h, prep)
            for j, fid in enumerate(ids):
                frame_to_doc[int(fid)] = base + j
            base += len(bd)
            t.advance(len(bd))
        t1 = time.perf_counter()
        lib.finish(h)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - e.g. memvid-sdk's capacity limit: record how far it got, measure nothing else
        dt = time.perf_counter() - t0
        res["ingest_failed"] = {"after_docs": base, "of_docs": n, "seconds": dt, "docs_per_s_before": base / dt if dt else None,
                                "file_bytes": os.path.getsize(path) if os.path.exists(path) else None,
                                "error": f"{type(e).__name__}: {e}"}
        res["errors"]["ingest"] = f"failed after {base:,} of {n:,} documents: {type(e).__name__}: {e}"
        try:
            h.close()
        except BaseException:  # noqa: BLE001
            pass
        res["ingest_failed"]["peak_rss_mb"] = peak_rss_mb()  # not in the table: nothing comparable was done
        res["load_end"] = load_avg()
        res["corpus_sha256"] = sha
        if os.path.exists(path):
            os.remove(path)
        emit(ev="result", data=res)
        return
    t2 = time.perf_counter()
    res["ingest"] = {"seconds": t2 - t0, "put_seconds": t1 - t0, "seal_close_seconds": t2 - t1,
                     "docs_per_s": n / (t2 - t0), "batch": B, "ids_returned": len(frame_to_doc)}
    size = os.path.getsize(path)
    res["file"] = {"bytes": size, "bytes_per_doc": size / n}

    def hit_doc(hit) -> int | None:
        if lib.hit_by == "uri":
            uri = hit.get("uri")
            return uri_to_doc.get(uri.split("#page-")[0]) if uri else None
        fid = hit.get("frame_id")
        return frame_to_doc.get(int(fid)) if fid is not None else None

    # ---- single puts (no embeddings) ----------------------------------------------------------------
    ns = min(params["single"], n)
    spath = str(work / f"{lib.name}-{n}-single.mv2")
    if os.path.exists(spath):
        os.remove(spath)
    t = Task("single", f"put x{ns} + seal", ns)
    t0 = time.perf_counter()
    h = lib.create(spath)
    for d in docs[:ns]:
        lib.put_one(h, d)
        t.advance()
    t1 = time.perf_counter()
    lib.finish(h)
    t2 = time.perf_counter()
    res["single_put"] = {"docs": ns, "seconds": t2 - t0, "put_seconds": t1 - t0, "docs_per_s": ns / (t2 - t0)}
    os.remove(spath)

    # ---- commit per document, into the full file ------------------------------------------------------
    # What an application that makes every document durable and searchable at once pays: a
    # commit's cost grows with the file, so it is measured on the size-n file (a copy of it).
    nc = min(params.get("commits", 20), n)
    cpath = str(work / f"{lib.name}-{n}-commits.mv2")
    shutil.copyfile(path, cpath)
    t = Task("commits", f"put + seal x{nc} into the {n}-document file", nc)
    h = lib.open_rw(cpath)
    times = []
    for d in docs[:nc]:
        t0 = time.perf_counter()
        lib.put_one(h, dict(d, uri=d["uri"] + "#again", timestamp=d["timestamp"] + 10**9))
        lib.seal(h)
        times.append(time.perf_counter() - t0)
        t.advance()
    lib.close_ro(h)
    res["commit_each"] = {"docs": nc, "median_s": pct(times, 50), "mean_s": sum(times) / len(times)}
    os.remove(cpath)

    # ---- open ---------------------------------------------------------------------------------------
    R = params["repeat"]
    t = Task("open", "read-only open", R)
    times = []
    for _ in range(R):
        t0 = time.perf_counter()
        h = lib.open_ro(path)
        times.append(time.perf_counter() - t0)
        lib.close_ro(h)
        t.advance()
    res["open"] = {"median_s": pct(times, 50), "min_s": min(times), "repeat": R}

    # ---- lexical find -----------------------------------------------------------------------------
    h = lib.open_ro(path)
    res["frames"] = lib.frame_count(h)
    t = Task("lex", f"find lex x{len(qs)}", len(qs))
    lat, hits_docs, nhits, dups, dup_frames, failed, done = [], [], [], 0, 0, [], 0
    try:
        t0 = time.perf_counter()
        try:
            lib.lex(h, qs[0])
        except (NotAvailable, KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - counted in the pass below
            pass
        res["lex_first_query_s"] = time.perf_counter() - t0
        for q in qs:
            t0 = time.perf_counter()
            try:
                hits = lib.lex(h, q)
            except (NotAvailable, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:  # noqa: BLE001 - a rejected query, or a Rust panic (pyo3's PanicException
                # derives from BaseException): count it, go on
                failed.append({"query": q, "error": f"{type(e).__name__}: {e}"})
                hits_docs.append(None)
                done += 1
                t.advance()
                continue
            lat.append(time.perf_counter() - t0)
            fids = [x.get("frame_id") for x in hits]
            dup_frames += len(fids) - len(set(fids))
            seen, uniq = set(), []
            for dd in (hit_doc(x) for x in hits):
                if dd in seen:
                    dups += 1
                else:
                    seen.add(dd)
                    uniq.append(dd)
            hits_docs.append(uniq)
            nhits.append(len(hits))
            done += 1
            t.advance()
        res["lex"] = {"p50_s": pct(lat, 50), "p95_s": pct(lat, 95), "p99_s": pct(lat, 99),
                      "mean_s": float(np.mean(lat)) if lat else None, "queries": len(qs),
                      "mean_hits": float(np.mean(nhits)) if nhits else None, "duplicate_hits": dups,
                      "duplicate_frame_hits": dup_frames, "failed_queries": len(failed), "failures": failed[:20],
                      "unmapped_hits": sum(d is None for u in hits_docs if u for d in u), "hits": hits_docs}
    except NotAvailable as e:
        res["errors"]["lex"] = f"n/a: {e}"
        res.pop("lex_first_query_s", None)
        t.advance(len(qs) - done)

    # ---- vector find --------------------------------------------------------------------------------
    exact = exact_topk(Q, X)
    t = Task("vec", f"find vector x{len(qs)}", len(qs))
    lat, got, dups, vfailed, done = [], [], 0, [], 0
    try:
        for qi, qv in enumerate(qlists):
            t0 = time.perf_counter()
            try:
                hits = lib.vec(h, qv)
            except (NotAvailable, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:  # noqa: BLE001 - see the lexical loop
                vfailed.append({"query": qi, "error": f"{type(e).__name__}: {e}"})
                got.append(None)
                done += 1
                t.advance()
                continue
            lat.append(time.perf_counter() - t0)
            seen, uniq = set(), []
            for x in hits:
                dd = hit_doc(x)
                if dd in seen:
                    dups += 1
                else:
                    seen.add(dd)
                    uniq.append(dd)
            got.append(uniq[:K])
            done += 1
            t.advance()
        recall = [len(set(g) & set(e)) / len(e) for g, e in zip(got, exact) if g is not None]
        res["vec"] = {"p50_s": pct(lat, 50), "p95_s": pct(lat, 95), "p99_s": pct(lat, 99),
                      "mean_s": float(np.mean(lat)) if lat else None,
                      "recall_at_10": float(np.mean(recall)) if recall else None, "duplicate_hits": dups, "queries": len(qs),
                      "failed_queries": len(vfailed), "failures": vfailed[:20]}
    except NotAvailable as e:
        res["errors"]["vec"] = f"n/a: {e}"
        t.advance(len(qs) - done)

    # ---- verify -------------------------------------------------------------------------------------
    t = Task("verify", "verify", R)
    times, oks = [], []
    try:
        for _ in range(R):
            t0 = time.perf_counter()
            oks.append(lib.verify(h, path))
            times.append(time.perf_counter() - t0)
            t.advance()
        med = pct(times, 50)
        res["verify"] = {"median_s": med, "mb_per_s": size / MB / med, "ok": all(oks), "repeat": R}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001
        res["errors"]["verify"] = f"error: {type(e).__name__}: {e}"
        t.advance(R - len(times))
    lib.close_ro(h)

    # ---- after the clock: what the file holds, read with mv2's reader (works on both files) ------
    try:
        import mv2

        with mv2.open(path) as m:
            frames = m.frames()
            st = m.stats()
            vec_ids = {f["id"] for f in frames if m.vector(f["id"]) is not None}  # outside any timing
        by_id = {f["id"]: f for f in frames}
        with_vec = sorted({uri_to_doc[by_id[f]["uri"].split("#page-")[0]] for f in vec_ids
                           if by_id.get(f) and by_id[f]["uri"] and by_id[f]["uri"].split("#page-")[0] in uri_to_doc})
        res["stored"] = {"frames": len(frames), "chunk_frames": sum(f.get("role") == "document_chunk" for f in frames),
                         "vectors": len(vec_ids), "docs_with_vector": len(with_vec),
                         "wal_size": st.get("wal_size"), "generation": st.get("generation"),
                         "returned_ids_matching_frames": sum(
                             1 for fid, i in frame_to_doc.items()
                             if by_id.get(fid) and by_id[fid]["uri"] == docs[i]["uri"]),
                         "timestamps_kept": sum(1 for f in frames if f["uri"] in uri_to_doc
                                                and f["timestamp"] == docs[uri_to_doc[f["uri"]]]["timestamp"])}
        if "vec" in res and len(with_vec) == n:
            res["vec"]["recall_at_10_over_stored"] = res["vec"]["recall_at_10"]
        elif "vec" in res and 0 < len(with_vec) < n:
            ex2 = exact_topk(Q, X, cols=np.asarray(with_vec))
            rs = [len(set(g) & set(e)) / len(e) for g, e in zip(got, ex2) if g is not None]
            res["vec"]["recall_at_10_over_stored"] = float(np.mean(rs)) if rs else None
    except BaseException as e:  # noqa: BLE001
        res["errors"]["stored"] = f"error: {type(e).__name__}: {e}"

    res["peak_rss_mb"] = peak_rss_mb()
    res["load_end"] = load_avg()
    res["corpus_sha256"] = sha
    try:
        import mv2 as _m

        res["mv2_file"] = _m.__file__
    except Exception:  # noqa: BLE001
        pass
    res["queries_sha256"] = __import__("hashlib").sha256(json.dumps(qs).encode()).hexdigest()
    os.remove(path)
    emit(ev="result", data=res)


# =================================================================================================
# Parent: machine, BLAKE3, orchestration, reports
# =================================================================================================
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def versions() -> dict:
    from importlib import metadata

    out = {}
    for pkg in ("mv2", "construct", "blake3", "zstandard", "tantivy", "numpy", "regex", "memvid-sdk", "rich"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def git_rev() -> str | None:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "reference"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except Exception:  # noqa: BLE001
        return None


def machine() -> dict:
    return {"cpu": cpu_model(), "logical_cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "mem_gib": mem_total_gib(), "os": f"{platform.system()} {platform.release()}",
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "versions": versions(), "mv2_git": git_rev()}


def blake3_throughput(mib: int, repeat: int = 3) -> dict:
    import blake3
    import numpy as np

    data = np.random.default_rng(0).bytes(mib << 20)
    out = {"buffer_mib": mib}
    for label, kw in (("single", {}), ("multi", {"max_threads": blake3.blake3.AUTO})):
        best = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            blake3.blake3(data, **kw).digest()
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        out[f"{label}_mb_per_s"] = len(data) / MB / best
    return out


def run_worker(lib: str, n: int, workdir: str, params: dict, progress, log, label: str, pythonpath: str | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", lib, "--size", str(n), "--workdir", workdir,
           "--params", json.dumps(params)]
    errpath = Path(workdir) / f"{lib}-{n}.stderr"
    tasks: dict[str, int] = {}
    marks: dict[str, int] = {}
    result = None
    with open(errpath, "w") as err:
        env = dict(os.environ, MEMVID_TELEMETRY="0", PYTHONUNBUFFERED="1")
        if pythonpath:
            env["PYTHONPATH"] = pythonpath + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        for line in proc.stdout:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev["ev"] == "task":
                tasks[ev["id"]] = progress.add_task(f"{label} · {ev['desc']}", total=ev["total"])
                marks[ev["id"]] = 0
            elif ev["ev"] == "adv":
                tid = tasks[ev["id"]]
                progress.advance(tid, ev["n"])
                task = progress.tasks[tid]
                if not progress.console.is_terminal:  # in a log: ingest every 10%, every task when done
                    step = int(10 * task.completed / max(task.total, 1))
                    if step > marks[ev["id"]] and (ev["id"] == "ingest" or task.completed >= task.total):
                        marks[ev["id"]] = step
                        log(f"{task.description}: {int(task.completed)}/{int(task.total)} ({task.elapsed or 0:.1f}s)")
            elif ev["ev"] == "result":
                result = ev["data"]
        proc.wait()
    if result is None:
        text = errpath.read_text()
        tail = text if len(text) <= 6000 else text[:3000] + "\n[...]\n" + text[-3000:]
        return {"lib": lib, "size": n, "failed": True, "returncode": proc.returncode, "stderr_tail": tail, "errors": {}}
    return result


# ---- reporting -------------------------------------------------------------------------------------
def _get(r: dict, path: str):
    cur = r
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


# (key, label, unit, scale, better, fmt)
METRICS = [
    ("ingest.docs_per_s", "Batch ingest (put_many + seal)", "docs/s", 1, "higher", "{:,.1f}"),
    ("single_put.docs_per_s", "Single put (+ seal), no vectors", "docs/s", 1, "higher", "{:,.1f}"),
    ("commit_each.median_s", "Put + seal of one document into the file (median)", "ms", 1000, "lower", "{:,.1f}"),
    ("open.median_s", "Open, read-only (median)", "ms", 1e3, "lower", "{:,.2f}"),
    ("lex_first_query_s", "First lexical find after open", "ms", 1e3, "lower", "{:,.2f}"),
    ("lex.p50_s", "Lexical find p50 (k=10)", "ms", 1e3, "lower", "{:,.3f}"),
    ("lex.p95_s", "Lexical find p95", "ms", 1e3, "lower", "{:,.3f}"),
    ("lex.p99_s", "Lexical find p99", "ms", 1e3, "lower", "{:,.3f}"),
    ("lex.mean_hits", "Lexical hits per query (mean)", "", 1, "info", "{:,.2f}"),
    ("lex.duplicate_frame_hits", "Lexical hits repeating a frame_id in the same result (total)", "", 1, "lower", "{:,.0f}"),
    ("lex.duplicate_hits", "Lexical hits repeating a document (same frame or its chunk) (total)", "", 1, "lower", "{:,.0f}"),
    ("lex.failed_queries", "Lexical queries that raised an error", "", 1, "lower", "{:,.0f}"),
    ("vec.p50_s", "Vector find p50 (k=10)", "ms", 1e3, "lower", "{:,.3f}"),
    ("vec.p95_s", "Vector find p95", "ms", 1e3, "lower", "{:,.3f}"),
    ("vec.failed_queries", "Vector queries that raised an error", "", 1, "lower", "{:,.0f}"),
    ("vec.recall_at_10", "Vector recall@10 vs exact, all documents", "", 1, "higher", "{:.3f}"),
    ("vec.recall_at_10_over_stored", "Vector recall@10 vs exact, documents it stored a vector for", "", 1, "higher", "{:.3f}"),
    ("stored.docs_with_vector", "Documents with a stored vector", "", 1, "higher", "{:,.0f}"),
    ("frames", "Frames in the file", "", 1, "info", "{:,.0f}"),
    ("stored.generation", "Commits in the file (generation)", "", 1, "info", "{:,.0f}"),
    ("stored.wal_size", "WAL region", "KiB", 1 / 1024, "info", "{:,.0f}"),
    ("verify.median_s", "Verify time (median)", "ms", 1e3, "lower", "{:,.1f}"),
    ("verify.mb_per_s", "Verify throughput (file bytes ÷ time)", "MB/s", 1, "higher", "{:,.1f}"),
    ("verify_vs_blake3", "Verify ÷ BLAKE3 single-thread", "", 1, "higher", "{:.4f}"),
    ("file.bytes_per_doc", "File bytes per document", "B", 1, "lower", "{:,.0f}"),
    ("peak_rss_mb", "Worker peak RSS", "MB", 1, "lower", "{:,.0f}"),
]


def value(r: dict, key: str, blake: dict):
    if key == "verify_vs_blake3":
        v = _get(r, "verify.mb_per_s")
        return v / blake["single_mb_per_s"] if v is not None and blake else None
    return _get(r, key)


def cell(v, scale, fmt, r: dict, key: str) -> str:
    if v is None:
        area = key.split(".")[0].replace("_first_query_s", "")
        err = (r.get("errors") or {}).get(area)
        if r.get("failed") or r.get("ingest_failed"):
            return "failed"
        return "n/a" if (err is None or err.startswith("n/a")) else "error"
    return fmt.format(v * scale)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def size_table(sr: dict, blake: dict) -> list[str]:
    a, b = sr["mv2"], sr["memvid"]
    lines = [f"| Metric | mv2 | {LIB_LABEL['memvid']} | mv2 ÷ memvid | better |", "|---|---:|---:|---:|---|"]
    for key, label, unit, scale, better, fmt in METRICS:
        va, vb = value(a, key, blake), value(b, key, blake)
        r = ratio(va, vb)
        lab = f"{label} ({unit})" if unit else label
        rs = "n/a" if r is None else f"{r:,.3f}" if r < 10 else f"{r:,.1f}"
        lines.append(f"| {lab} | {cell(va, scale, fmt, a, key)} | {cell(vb, scale, fmt, b, key)} | {rs} | {better} |")
    return lines


def observations(sizes: list[dict]) -> list[str]:
    out = []
    for sr in sizes:
        n = sr["n"]
        a, b = sr["mv2"], sr["memvid"]
        for lib, r in (("mv2", a), ("memvid-sdk", b)):
            if r.get("failed"):
                out.append(f"- {n} docs, {lib}: the worker failed (exit {r.get('returncode')}); see the JSON for its stderr.")
            fi = r.get("ingest_failed") or {}
            cap = re.search(r"Limit: (\d+) bytes", fi.get("error", ""))
            for area, e in sorted((r.get("errors") or {}).items()):
                if not (area == "ingest" and cap):  # a capacity failure gets its own explanation below
                    out.append(f"- {n} docs, {lib}, {area}: {e}")
            if "CapacityExceeded" in fi.get("error", "") and cap:
                lim = int(cap.group(1))
                out.append(f"- {n} docs: {lib} refuses to grow a file past its capacity limit ({lim:,} bytes = "
                           f"{lim / 2**20:,.0f} MiB, the default without a capacity ticket from memvid's service, which "
                           f"this benchmark does not use), so it cannot hold {n:,} documents with their 384-d vectors: "
                           f"`put_many` raised `{fi['error']}` after {fi['after_docs']:,} documents. Its columns at "
                           f"this size are empty; the mv2 columns are still measured.")
        st = b.get("stored") or {}
        if st:
            if st.get("docs_with_vector", n) < n:
                out.append(f"- {n} docs: memvid-sdk stored a vector for only {st['docs_with_vector']} of {n} documents "
                           f"(read back with mv2's reader; memvid's own `find(mode=\"sem\")` searches the same set). "
                           f"Its recall over all documents counts the missing ones as misses; the next row counts only "
                           f"the documents it stored.")
            if st.get("chunk_frames"):
                out.append(f"- {n} docs: memvid-sdk `put_many` split long documents into {st['chunk_frames']} extra "
                           f"`document_chunk` frames ({st['frames']} frames for {n} documents); mv2 stores one frame per document.")
            m_ = st.get("returned_ids_matching_frames")
            if m_ is not None and m_ < n:
                out.append(f"- {n} docs: only {m_} of the {n} ids memvid-sdk `put_many` returned are the frame id of "
                           f"that document (they look like WAL sequence numbers: 1-based, and skipping over chunk "
                           f"frames); hits are mapped to documents by URI instead.")
            if st.get("timestamps_kept", 0) == 0:
                out.append(f"- {n} docs: memvid-sdk `put_many` takes no timestamp: its frames carry the wall-clock "
                           f"time of ingestion, mv2's carry the corpus timestamps.")
        for lib, r in (("mv2", a), ("memvid-sdk", b)):
            f = _get(r, "lex.failures")
            if f:
                ex = "; ".join(f"`{x['query']}` → {x['error']}" for x in f[:3])
                out.append(f"- {n} docs: {lib} lexical `find` raised on {_get(r, 'lex.failed_queries')} of "
                           f"{_get(r, 'lex.queries')} queries (excluded from latency and agreement), e.g. {ex}.")
            f = _get(r, "vec.failures")
            if f:
                errs = sorted({x["error"] for x in f})
                out.append(f"- {n} docs: {lib} vector search raised on {_get(r, 'vec.failed_queries')} of "
                           f"{_get(r, 'vec.queries')} queries (excluded from latency and recall): "
                           + "; ".join(f"`{e}`" for e in errs[:3]) + ".")
        for lib, r in (("mv2", a), ("memvid-sdk", b)):
            df, dd = _get(r, "lex.duplicate_frame_hits"), _get(r, "lex.duplicate_hits")
            if df or dd:
                out.append(f"- {n} docs: {lib} lexical `find` returned {df} hits whose `frame_id` already appeared earlier "
                           f"in the same result (another passage of the same frame, with its own snippet: long texts are "
                           f"indexed as several passages), and {dd} hits repeating a document counting its chunk "
                           f"frames; latency and hit counts include them, agreement de-duplicates.")
        ag = sr.get("lex_agreement")
        if ag is not None:
            out.append(f"- {n} docs: lexical top-10 agreement (mean Jaccard of the de-duplicated document sets) "
                       f"between mv2 and memvid-sdk: {ag:.3f}.")
    return out


def agreement(a: dict, b: dict):
    ha, hb = _get(a, "lex.hits"), _get(b, "lex.hits")
    if not ha or not hb or len(ha) != len(hb):
        return None
    js = []
    for x, y in zip(ha, hb):
        if x is None or y is None:
            continue
        sx, sy = set(x[:K]), set(y[:K])
        js.append(1.0 if not sx and not sy else len(sx & sy) / len(sx | sy))
    return sum(js) / len(js) if js else None


def markdown(report: dict) -> str:
    m = report["machine"]
    c = report["corpus"]
    bl = report["blake3"]
    v = m["versions"]
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append("mv2 measured against memvid-sdk %s in the same run, on the same corpus and machine. "
             "Generated by `tools/bench/run.py`; do not edit by hand — rerun it." % MEMVID_VERSION)
    L.append("")
    L.append("Ratios are **mv2 ÷ memvid-sdk**; the *better* column says which direction is better for that row "
             "(for throughput, >1 means mv2 is faster; for latency, time and size, <1 means mv2 is faster or smaller).")
    L.append("")
    msg = size_warning(report.get("clamped") or [], c["documents"],
                       {s["n"]: s.get("requested") or [] for s in report["sizes"]})
    if msg:
        L.append(f"> **Warning:** {msg[0].upper() + msg[1:]}. The size columns below are what was measured.")
        L.append("")
    L.append("## Rerun")
    L.append("")
    L.append("```sh")
    L.append(report["command"])
    L.append("```")
    L.append("")
    L.append(f"Run on {report['date']} (UTC), {report['elapsed_s'] / 60:.1f} minutes. Raw results: "
             f"`{report['json_path']}`.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    L.append(f"| CPU | {m['cpu']} |")
    L.append(f"| Cores | {m['logical_cpus']} logical ({m['usable_cpus']} usable) |")
    L.append(f"| Memory | {m['mem_gib']} GiB |")
    L.append(f"| OS | {m['os']} |")
    L.append(f"| Python | {m['python']} |")
    L.append(f"| mv2 | {v.get('mv2')}, git {m.get('mv2_git')} |")
    L.append("| mv2 dependencies | " + ", ".join(f"{k} {v.get(k)}" for k in
                                                 ("construct", "blake3", "zstandard", "tantivy", "numpy", "regex")) + " |")
    L.append(f"| memvid-sdk | {v.get('memvid-sdk')} |")
    L.append(f"| Load average (1/5/15 min) at start → end | {' / '.join(map(str, report['load_start']))} → "
             f"{' / '.join(map(str, report['load_end']))} |")
    L.append("")
    L.append("The machine is shared: other work ran concurrently, so treat differences under ~20% as noise. "
             "Each worker's load average at its start and end is in the JSON.")
    L.append("")
    L.append("## Corpus")
    L.append("")
    L.append(f"The paragraphs of the docstrings in the Python {c['python']} standard-library source "
             f"(`tools/bench/corpus.py`): {c['documents']:,} documents, {c['characters']:,} characters, SHA-256 of the "
             f"canonical JSON `{c['sha256']}`. Every `.py` file of the standard library (tests included, "
             f"`site-packages` excluded) is parsed with `ast` — nothing is imported — in sorted path order; within a "
             f"file, the module, class and function docstrings come in source order. Each docstring is cleaned "
             f"(`inspect.cleandoc`) and split at blank lines; a paragraph is whitespace-normalised and kept if it "
             f"has at least 40 characters, is not doctest code (`>>>`) and was not seen before. (Whole docstrings "
             f"would be too few for a 10,000-document size.) The paragraphs are mostly English prose with some "
             f"inline code" + (f"; median {c['median_chars']:,} characters, longest {c['max_chars']:,}"
                                if c.get("median_chars") else "") + ".")
    L.append("")
    L.append("Document *i* has URI `py://<module>:<qualname>#p<k>` (*k*: the paragraph's position in its "
             "docstring), the dotted qualified name as title, the paragraph as text and timestamp "
             "1700000000 + 60·*i*. A size-*n* run uses the first *n* documents" +
             ("; the last one of each size: " + ", ".join(f"{int(n):,} → `{u}`" for n, u in c["last_uri"].items())
              if c.get("last_uri") else "") + ".")
    L.append("")
    L.append(f"Queries: {report['params']['queries']} per size, 1–3 distinctive words drawn (seed 0) from the "
             f"documents of that size. Vectors: **a synthetic 384-d pseudo-embedding** (each word token hashed with "
             f"BLAKE3 to seed a random unit vector; a text's vector is the L2-normalized sum). It gives the vector "
             f"indexes realistic neighborhoods, so recall and latency are meaningful, but it has **no semantic "
             f"quality** — these numbers say nothing about retrieval relevance.")
    if msg:
        L.append("")
        L.append(f"**{msg[0].upper() + msg[1:]}.**")
    L.append("")
    L.append("## BLAKE3 on this machine")
    L.append("")
    L.append(f"blake3 {v.get('blake3')} over a {bl['buffer_mib']} MiB buffer (best of 3): "
             f"single-thread **{bl['single_mb_per_s']:,.0f} MB/s**, multi-thread (`max_threads=blake3.AUTO`) "
             f"**{bl['multi_mb_per_s']:,.0f} MB/s**. Verify rows below divide by the single-thread figure. "
             f"(MB = 10⁶ bytes throughout.)")
    L.append("")
    sizes = report["sizes"]
    if len(sizes) > 1:
        L.append("## Summary: mv2 ÷ memvid-sdk")
        L.append("")
        L.append("| Metric | " + " | ".join(f"{s['n']:,} docs" + (" (all)" if s["n"] == c["documents"] else "")
                                           for s in sizes) + " | better |")
        L.append("|---|" + "---:|" * len(sizes) + "---|")
        for key, label, unit, scale, better, fmt in METRICS:
            if better == "info":
                continue
            rs = []
            for s in sizes:
                r = ratio(value(s["mv2"], key, bl), value(s["memvid"], key, bl))
                down = [LIB_LABEL[x].split()[0] for x in LIBS if s[x].get("failed") or s[x].get("ingest_failed")]
                rs.append(f"{' and '.join(down)} failed" if down and r is None
                          else "n/a" if r is None else f"{r:,.3f}" if r < 10 else f"{r:,.1f}")
            L.append(f"| {label} | " + " | ".join(rs) + f" | {better} |")
        L.append("")
        for s in sizes:
            for lib in LIBS:
                fi = s[lib].get("ingest_failed")
                if fi:
                    L.append(f"- At {s['n']:,} documents {LIB_LABEL[lib]} could not store them all (it stopped after "
                             f"{fi['after_docs']:,} documents: `{fi['error'].split('.')[0]}`); see the observations.")
                elif s[lib].get("failed"):
                    L.append(f"- At {s['n']:,} documents the {LIB_LABEL[lib]} worker failed; see the JSON.")
        L.append("")
    for s in sizes:
        L.append(f"## {size_heading(s, c['documents'])}")
        L.append("")
        L.extend(size_table(s, bl))
        L.append("")
        for lib in LIBS:
            r = s[lib]
            la, lb = r.get("load_start"), r.get("load_end")
            if la and r.get("ingest_failed"):
                fi = r["ingest_failed"]
                L.append(f"- {LIB_LABEL[lib]} worker: load average {la[0]} → {lb[0] if lb else '?'}; "
                         f"**ingest failed** after {fi['after_docs']:,} of {fi['of_docs']:,} documents "
                         f"({_fmt_s(fi['seconds'])}, {fi['docs_per_s_before'] or 0:,.1f} docs/s until then): "
                         f"`{fi['error']}`. Nothing else was measured for it at this size.")
            elif la:
                L.append(f"- {LIB_LABEL[lib]} worker: load average {la[0]} → {lb[0] if lb else '?'}; "
                         f"ingest {_fmt_s(_get(r, 'ingest.seconds'))} (seal + close {_fmt_s(_get(r, 'ingest.seal_close_seconds'))}).")
        L.append("")
    obs = observations(sizes)
    if obs:
        L.append("## Observations")
        L.append("")
        L.extend(obs)
        L.append("")
    L.append("## What each row measures")
    L.append("")
    p = report["params"]
    L.append(f"- **Batch ingest**: create a file, store the documents with their vectors in `put_many` calls of "
             f"{p['batch']} documents, then seal and close; documents ÷ wall time of the whole. "
             f"mv2: `mv2.create(path)`, `mem.put_many(items)` (items `{{\"content\", \"uri\", \"title\", \"timestamp\", "
             f"\"embedding\"}}`), `mem.close()` (seals). memvid-sdk: `memvid_sdk.use(\"basic\", path, mode=\"create\", "
             f"enable_vec=True, enable_lex=True)`, `put_many(requests, embeddings=vectors)` (requests `{{\"title\", "
             f"\"label\", \"text\", \"uri\"}}`; it accepts no timestamp), `seal()`, `close()`.")
    L.append(f"- **Single put**: the first {p['single']} documents (or all, if fewer), one `put` each without vectors, "
             f"then seal and close. memvid-sdk: `put(title=, label=, text=, uri=, timestamp=, auto_tag=False, "
             f"extract_dates=False, enable_embedding=False)`.")
    L.append("- **Put + seal of one document into the file**: on a copy of the batch-ingested file, opened for "
             "writing, 20 times one `put` (no vector) followed by `seal()`; the median time of one put + seal. "
             "This is the cost of making each document durable *and* searchable at once, and it grows with "
             "the file: every commit writes a new TOC. (mv2's puts are durable without a seal, and its "
             "searches see unsealed documents; memvid-sdk commits inside every `put`.)")
    L.append(f"- **Open**: `mv2.open(path)` / `memvid_sdk.use(\"basic\", path, mode=\"open\", read_only=True)` then "
             f"close, median of {p['repeat']}. Lazy loading shows up in *first lexical find after open*.")
    L.append(f"- **Lexical find**: one pass over the queries on one read-only handle, after one warm-up query; "
             f"`mem.find(query, k=10, mode=\"lex\")` / `find(query, k=10, mode=\"lex\")`. Latency includes "
             f"building the hit dicts (memvid-sdk also builds 480-character snippets, its default).")
    L.append("- **Vector find**: `mem.find_vector(vector, k=10)` / `find(\"\", k=10, mode=\"sem\", "
             "query_embedding=vector)`. Recall@10 is |returned ∩ exact| ÷ 10, where *exact* is the top 10 by dot "
             "product over the same float32 vectors (numpy), averaged over the queries; returned hits are "
             "de-duplicated by document first.")
    L.append(f"- **Verify**: `mv2.verify(path)` / `verify(deep=True)` on a read-only handle, median of {p['repeat']}; "
             f"file bytes ÷ time.")
    L.append("- **File bytes per document**: size of the sealed batch-ingest file ÷ documents (includes the WAL "
             "region each library reserves, and the vectors: 1,536 bytes per 384-d float32 vector).")
    L.append("- Hits are mapped to documents by `frame_id` for mv2 (the ids `put_many` returned) and by URI for "
             "memvid-sdk (its chunk frames `…#page-N` map to their document).")
    L.append("")
    return "\n".join(L)


def _fmt_s(x):
    return "n/a" if x is None else f"{x:,.2f} s"


def parent(args) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console(stderr=False)
    started = time.time()
    date = _dt.datetime.now(_dt.timezone.utc)
    if args.quick:
        args.sizes = args.sizes or ["200"]
        args.single = min(args.single, 50)
        args.repeat = min(args.repeat, 3)
    sizes_req = args.sizes or ["1000", "10000", "all"]

    def log(msg):
        console.log(msg)

    load_start = load_avg()
    console.log("machine and library versions…")
    mach = machine()
    console.log("extracting the corpus…")
    all_docs = corpus.load()
    total = len(all_docs)
    sizes, clamped = [], []
    requested: dict[int, list[str]] = {}  # size -> the --sizes entries that became it
    for s in sizes_req:
        n = total if s == "all" else int(s)
        if n > total:
            clamped.append(n)
            n = total
        if n not in sizes:
            sizes.append(n)
        requested.setdefault(n, []).append(s)
    corp = {"documents": total, "characters": sum(len(d["text"]) for d in all_docs), "sha256": corpus.corpus_sha256(all_docs),
            "python": platform.python_version(),
            "median_chars": int(sorted(len(d["text"]) for d in all_docs)[total // 2]),
            "max_chars": max(len(d["text"]) for d in all_docs),
            "last_uri": {str(n): all_docs[n - 1]["uri"] for n in sizes}}
    console.log(f"corpus: {total} documents, {corp['characters']:,} characters, sha256 {corp['sha256']}")
    clamp_msg = size_warning(clamped, total, requested)
    if clamp_msg:
        if args.strict_sizes:
            raise SystemExit(f"error: requested size(s) {', '.join(f'{c:,}' for c in clamped)} exceed the corpus "
                             f"({total:,} documents)")
        console.log(f"[bold red]WARNING: {clamp_msg}[/bold red]")
    console.log(f"BLAKE3 over {args.blake3_mib} MiB…")
    bl = blake3_throughput(args.blake3_mib)
    console.log(f"BLAKE3 single {bl['single_mb_per_s']:,.0f} MB/s, multi {bl['multi_mb_per_s']:,.0f} MB/s")

    workdir = args.workdir or tempfile.mkdtemp(prefix="mv2-bench-")
    pythonpath = None
    if args.mv2_rev:
        # Benchmark a committed revision of mv2 (exported from git), not the working tree.
        src = Path(workdir) / "mv2-src"
        src.mkdir(parents=True, exist_ok=True)
        arch = subprocess.run(["git", "archive", args.mv2_rev, "reference/mv2"], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=arch, check=True)
        pythonpath = str(src / "reference")
        rev = subprocess.run(["git", "rev-parse", "--short", args.mv2_rev], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        mach["mv2_git"] = f"{rev}, exported with `git archive` (the working tree was not used)"
        console.log(f"mv2 from git {rev}: {pythonpath}")
    params_base = {"queries": args.queries, "batch": args.batch, "single": args.single, "repeat": args.repeat}
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        for n in sizes:
            sr = {"n": n, "requested": requested[n]}
            params = dict(params_base, sha=corpus.corpus_sha256(all_docs[:n]))
            for lib in args.libs:
                label = f"{n} docs · {LIB_LABEL[lib]}"
                log(f"{label}: start (load {load_avg()[0]})")
                r = run_worker(lib, n, workdir, params, progress, log, label, pythonpath)
                if r.get("failed"):
                    log(f"[red]{label}: worker failed[/red]\n{r.get('stderr_tail', '')[-1500:]}")
                elif r.get("ingest_failed"):
                    log(f"[bold red]{label}: ingest {r['errors']['ingest']}[/bold red]")
                else:
                    log(f"{label}: done — ingest {r['ingest']['docs_per_s']:,.1f} docs/s; errors: {r.get('errors') or 'none'}")
                sr[lib] = r
            for lib in LIBS:
                sr.setdefault(lib, {"lib": lib, "size": n, "errors": {lib: "n/a: not run"}})
            sr["lex_agreement"] = agreement(sr["mv2"], sr["memvid"])
            results.append(sr)

    elapsed = time.time() - started
    cmd = ".venv/bin/python tools/bench/run.py " + " ".join(args.argv)
    json_path = Path(args.json) if args.json else HERE / "results" / (date.strftime("%Y-%m-%d") + ("-quick" if args.quick else "") + ".json")
    try:
        json_rel = str(json_path.resolve().relative_to(ROOT))
    except ValueError:
        json_rel = str(json_path)
    report = {"date": date.strftime("%Y-%m-%d %H:%M"), "command": cmd, "elapsed_s": elapsed, "machine": mach,
              "corpus": corp, "blake3": bl, "params": params_base, "sizes": results, "clamped": clamped,
              "load_start": load_start, "load_end": load_avg(), "json_path": json_rel}
    report = scrub(report, {workdir: "$WORKDIR", str(ROOT): "$REPO", sys.prefix: "$PREFIX",
                            sys.base_prefix: "$BASE_PREFIX", str(Path.home()): "~"})

    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    console.log(f"raw results: {json_path}")
    if args.out:
        Path(args.out).write_text(markdown(report))
        console.log(f"report: {args.out}")

    for s in results:
        t = Table(title=f"{size_heading(s, corp['documents'])} — mv2 vs {LIB_LABEL['memvid']}")
        for col in ("metric", "mv2", "memvid-sdk", "mv2 ÷ memvid", "better"):
            t.add_column(col, justify="left" if col in ("metric", "better") else "right")
        for line in size_table(s, bl)[2:]:
            t.add_row(*[x.strip() for x in line.strip("|").split("|")])
        console.print(t)
    for o in observations(results):
        console.print(o)
    if clamp_msg:
        console.log(f"[bold red]WARNING: {clamp_msg}[/bold red]")
    if not args.workdir and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


def size_warning(clamped: list[int], total: int, requested: dict[int, list[str]]) -> str | None:
    """The loud message for requested sizes the corpus cannot supply (None when there are none)."""
    if not clamped:
        return None
    msg = (f"the corpus has only {total:,} documents; requested size(s) {', '.join(f'{c:,}' for c in clamped)} "
           f"were run as the whole corpus ({total:,})")
    merged = requested.get(total, [])
    if len(merged) > 1:
        msg += f", so --sizes {' '.join(merged)} measured one size, not {len(merged)}"
    return msg


def scrub(obj, subs: dict[str, str]):
    """``obj`` with every occurrence of the given machine paths in its strings replaced (longest first)."""
    pairs = sorted(((k, v) for k, v in subs.items() if k and len(k) > 1), key=lambda kv: -len(kv[0]))
    if isinstance(obj, str):
        for k, v in pairs:
            obj = obj.replace(k, v)
        return obj
    if isinstance(obj, dict):
        return {scrub(k, subs): scrub(v, subs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub(x, subs) for x in obj]
    return obj


def size_heading(s: dict, total: int) -> str:
    req = s.get("requested") or []
    label = f"{s['n']:,} documents"
    if s["n"] == total:
        label += " (the whole corpus)"
    asked = [r for r in req if r != "all" and int(r) != s["n"]]
    if asked:
        label += f" — requested {', '.join(f'{int(r):,}' for r in asked)}, which the corpus cannot supply"
    return label


def regenerate(args) -> None:
    """Rewrite the markdown report from a results JSON (no measuring)."""
    report = json.loads(Path(args.from_json).read_text())
    if not args.out:
        raise SystemExit("--from-json needs --out")
    Path(args.out).write_text(markdown(report))


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", help="document counts, or 'all' (default: 1000 10000 all)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 200 documents, 50 single puts, 3 repeats")
    ap.add_argument("--strict-sizes", action="store_true",
                    help="fail instead of warning when a requested size exceeds the corpus")
    ap.add_argument("--out", help="write the markdown report here (e.g. docs/benchmarks.md)")
    ap.add_argument("--json", help="raw results path (default tools/bench/results/<date>.json)")
    ap.add_argument("--queries", type=int, default=corpus.N_QUERIES)
    ap.add_argument("--batch", type=int, default=100, help="documents per put_many call")
    ap.add_argument("--single", type=int, default=200, help="documents for the single-put rate")
    ap.add_argument("--repeat", type=int, default=5, help="repeats of open and verify")
    ap.add_argument("--blake3-mib", type=int, default=256)
    ap.add_argument("--libs", nargs="+", default=list(LIBS), choices=LIBS)
    ap.add_argument("--mv2-rev", help="benchmark this git revision of mv2 (e.g. HEAD) instead of the working tree")
    ap.add_argument("--workdir", help="where the files go (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--from-json", help="only rewrite --out from this results JSON")
    ap.add_argument("--worker", choices=LIBS, help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.argv = argv
    if args.worker:
        worker(args)
    elif args.from_json:
        regenerate(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
