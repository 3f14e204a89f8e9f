"""Write gold files with an installed memvid-sdk release: the scenarios of ``vectors/gold/``.

    MEMVID_TELEMETRY=0 VENV/bin/python tools/gold_write.py OUT_DIR [--only NAME ...]

Runs inside the environment of the memvid-sdk release that is to write the files (it imports
only ``memvid_sdk``, never ``mv2``), one scenario per file, each in a fresh process so that a
killed writer leaves exactly what memvid left. Then record each file's oracle with
``tools/gold_oracle.py`` in the same environment. A scenario the release cannot run (memvid-sdk
before 2.0.147 has no ``remove``) is skipped and said so.

Scenarios (all texts and timestamps fixed; memvid itself is not deterministic, so two runs
give different bytes but the same logical content):

* ``single``: one ``put``.
* ``put-loop``: 20 ``put``s with kind, track, tags, labels and metadata.
* ``same-uri``: 4 ``put``s to one URI.
* ``multi-seal``: 3 rounds of ``put`` x3, ``seal``, close, reopen.
* ``deleted``: 10 ``put``s, then 3 ``remove``d.
* ``unicode``: texts and URIs outside ASCII.
* ``vectors-8d``: ``put_many`` of 40 documents with 8-d embeddings, then a second batch of 10.
* ``vectors-384d``: ``put_many`` of 30 documents with 384-d embeddings.
* ``unsealed-crash``: one sealed ``put``, then 5 ``put``s and the process killed before ``seal``.
* ``killed-mid-batch``: one sealed ``put``, then ``put_many`` of 3,000 documents, the process
  killed with SIGKILL after 1.5 s (what is pending then depends on the release).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_TS = 1_767_225_600  # 2026-01-01T00:00:00Z
WORDS = ["auth", "memory", "frame", "token", "penicillin", "index", "vector", "ledger", "river", "lantern"]


def _text(i: int) -> str:
    rng = random.Random(i)
    return f"Document {i}: " + " ".join(rng.choice(WORDS) for _ in range(24)) + "."


def _vec(i: int, dim: int) -> list[float]:
    rng = random.Random(1000 + i)
    return [round(rng.uniform(-1, 1), 6) for _ in range(dim)]


def _create(sdk, path: str, vec: bool = False):
    return sdk.use("basic", path, mode="create", enable_lex=True, enable_vec=vec)


def _reopen(sdk, path: str):
    return sdk.use("basic", path, mode="open")


def s_single(sdk, path):
    m = _create(sdk, path)
    m.put(title="Single", label="note", metadata={}, text="A single auth note about memory frames.",
          uri="mv2://single", timestamp=BASE_TS)
    m.seal(); m.close()


def s_put_loop(sdk, path):
    m = _create(sdk, path)
    for i in range(20):
        m.put(title=f"Note {i}", label="note", metadata={"n": i, "even": i % 2 == 0}, text=_text(i),
              uri=f"mv2://loop/{i}", tags=[f"t{i % 3}"], labels=["loop"], kind="note", track="loop",
              timestamp=BASE_TS + 60 * i)
    m.seal(); m.close()


def s_same_uri(sdk, path):
    m = _create(sdk, path)
    for i in range(4):
        m.put(title=f"Version {i}", label="doc", metadata={"version": i}, text=f"version {i} of the auth doc",
              uri="mv2://same", timestamp=BASE_TS + i)
    m.seal(); m.close()


def s_multi_seal(sdk, path):
    m = _create(sdk, path)
    for r in range(3):
        if r:
            m = _reopen(sdk, path)
        for j in range(3):
            i = 3 * r + j
            m.put(title=f"Round {r} #{j}", label="round", metadata={}, text=_text(i), uri=f"mv2://round/{r}/{j}",
                  timestamp=BASE_TS + 100 * i)
        m.seal(); m.close()


def s_deleted(sdk, path):
    m = _create(sdk, path)
    ids = [m.put(title=f"Doc {i}", label="doc", metadata={}, text=_text(i), uri=f"mv2://del/{i}",
                 timestamp=BASE_TS + i) for i in range(10)]
    m.seal()
    for i in (2, 5, 7):
        m.remove(ids[i])
    m.seal(); m.close()


def s_unicode(sdk, path):
    m = _create(sdk, path)
    for i, t in enumerate(["Grüße aus Köln: auth", "日本語のメモリ frame", "emoji 🧠 memory", "Ελληνικά και penicillin"]):
        m.put(title=t[:12], label="intl", metadata={"lang": i}, text=t, uri=f"mv2://ünï/{i}", timestamp=BASE_TS + i)
    m.seal(); m.close()


def _vec_batch(m, start, n, dim):
    docs = [{"title": f"Vec {i}", "label": "vec", "text": _text(i), "uri": f"mv2://vec/{i}", "timestamp": BASE_TS + i}
            for i in range(start, start + n)]
    m.put_many(docs, embeddings=[_vec(i, dim) for i in range(start, start + n)])


def s_vectors_8d(sdk, path):
    m = _create(sdk, path, vec=True)
    _vec_batch(m, 0, 40, 8)
    m.seal()
    _vec_batch(m, 40, 10, 8)
    m.seal(); m.close()


def s_vectors_384d(sdk, path):
    m = _create(sdk, path, vec=True)
    _vec_batch(m, 0, 30, 384)
    m.seal(); m.close()


def s_unsealed_crash(sdk, path):
    m = _create(sdk, path)
    m.put(title="Sealed", label="doc", metadata={}, text="sealed before the crash: auth", uri="mv2://sealed",
          timestamp=BASE_TS)
    m.seal()
    for i in range(5):
        m.put(title=f"Pending {i}", label="doc", metadata={}, text=_text(i), uri=f"mv2://pending/{i}",
              timestamp=BASE_TS + 1 + i)
    os.kill(os.getpid(), signal.SIGKILL)


def s_killed_mid_batch(sdk, path):
    m = _create(sdk, path)
    m.put(title="Sealed", label="doc", metadata={}, text="committed before the batch: auth", uri="mv2://first",
          timestamp=BASE_TS)
    m.seal()
    docs = [{"title": f"Batch {i}", "label": "batch", "text": _text(i), "uri": f"mv2://batch/{i}",
             "timestamp": BASE_TS + 1 + i} for i in range(3000)]
    print("batch", flush=True)
    m.put_many(docs)
    m.seal(); m.close()


SCENARIOS = {"single": s_single, "put-loop": s_put_loop, "same-uri": s_same_uri, "multi-seal": s_multi_seal,
             "deleted": s_deleted, "unicode": s_unicode, "vectors-8d": s_vectors_8d, "vectors-384d": s_vectors_384d,
             "unsealed-crash": s_unsealed_crash, "killed-mid-batch": s_killed_mid_batch}
NEEDS = {"deleted": "remove"}
KILL_AFTER = {"killed-mid-batch": 1.5}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--run", help=argparse.SUPPRESS)  # child: run one scenario
    args = ap.parse_args(argv)
    os.environ.setdefault("MEMVID_TELEMETRY", "0")
    import memvid_sdk

    if args.run:
        SCENARIOS[args.run](memvid_sdk, str(args.out / f"{args.run}.mv2"))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    probe = memvid_sdk.use("basic", str(args.out / ".probe.mv2"), mode="create")
    have = {name for name in dir(probe)}
    probe.close()
    (args.out / ".probe.mv2").unlink()
    for name in args.only or SCENARIOS:
        if NEEDS.get(name) and NEEDS[name] not in have:
            print(f"skip {name}: this release has no {NEEDS[name]}()")
            continue
        target = args.out / f"{name}.mv2"
        if target.exists():
            target.unlink()
        cmd = [sys.executable, __file__, str(args.out), "--run", name]
        if name in KILL_AFTER:
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            p.stdout.readline()  # the batch has started
            time.sleep(KILL_AFTER[name])
            p.send_signal(signal.SIGKILL)
            p.wait()
        else:
            subprocess.run(cmd, check=name != "unsealed-crash")
        for side in args.out.glob(f"{name}.mv2.*"):  # memvid's sidecars (lock, manifest.wal)
            side.unlink()
        for side in args.out.glob(f"{name}.manifest.wal"):
            side.unlink()
        print(f"wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
