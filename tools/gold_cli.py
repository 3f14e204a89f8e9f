"""Write gold files with memvid's command-line tool (npm memvid-cli, @memvid/cli-linux-x64), and record its oracles.

    MEMVID_TELEMETRY=0 python tools/gold_cli.py write BINARY OUT_DIR [--only NAME ...]
    MEMVID_TELEMETRY=0 python tools/gold_cli.py oracle BINARY FILE.mv2 [--replay]

BINARY is the installed tool (``npm install --ignore-scripts @memvid/cli-linux-x64@2.0.160``:
``node_modules/@memvid/cli-linux-x64/memvid``; npm ``memvid-cli@2.0.151`` installs the same
path). Each ``memvid`` command opens, changes and commits the file itself, so every ``put`` is
its own commit. The scenarios are those of ``tools/gold_write.py`` as far as the tool takes
them: texts through ``--input``, ``same-uri`` with ``--allow-duplicate`` (without it the tool
refuses a second put of a URI), vectors one ``put --embedding-vec`` each (``put-many`` takes no
timestamps), ``deleted`` with ``delete --frame-id``, ``killed-mid-batch`` a ``put-many`` of
3,000 documents killed with SIGKILL after 1.5 s.

``oracle`` writes ``FILE.expected.json`` in the shape ``tools/gold_oracle.py`` writes, from the
tool's own read-back: ``stats --json`` (its ``raw`` member), ``timeline --json``, ``view --json``
(the frame) and ``view --binary`` (the payload), ``find --json`` (lexical, the tool's default
passage size), ``vec-search --json`` (its hits carry a ``distance``, not a score) and
``verify --deep --json``. This module imports nothing of mv2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_TS = 1_767_225_600  # 2026-01-01T00:00:00Z
WORDS = ["auth", "memory", "frame", "token", "penicillin", "index", "vector", "ledger", "river", "lantern"]
QUERIES = ["auth", "memory frame", "penicillin"]
FRAME_FIELDS = ("id", "kind", "labels", "tags", "timestamp", "title", "track", "uri")
STATS_FIELDS = ("active_frame_count", "frame_count", "has_lex_index", "has_time_index", "has_vec_index", "wal_bytes")


def _text(i: int) -> str:
    rng = random.Random(i)
    return f"Document {i}: " + " ".join(rng.choice(WORDS) for _ in range(24)) + "."


def _vec(i: int, dim: int) -> list[float]:
    rng = random.Random(1000 + i)
    return [round(rng.uniform(-1, 1), 6) for _ in range(dim)]


class Tool:
    def __init__(self, binary: str, work: Path):
        self.binary, self.work = binary, work
        self.env = dict(os.environ, MEMVID_TELEMETRY="0")

    def run(self, *args: str, data: bytes | None = None, check: bool = True) -> bytes:
        p = subprocess.run([self.binary, *args], capture_output=True, env=self.env, input=data, timeout=300)
        if check and p.returncode != 0:
            raise SystemExit(f"memvid {args[0]} exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
        return p.stdout

    def json(self, *args: str):
        out = self.run(*args).decode()
        starts = [i for i in (out.find("{"), out.find("[")) if i >= 0]
        return json.loads(out[min(starts):])

    def put(self, path: Path, text: str, *, uri: str, title: str, ts: int, extra: tuple[str, ...] = ()) -> None:
        src = self.work / "payload.txt"
        src.write_text(text, encoding="utf-8")
        self.run("put", str(path), "--input", str(src), "--uri", uri, "--title", title, "--timestamp", str(ts), *extra)


def s_single(t: Tool, p: Path):
    t.run("create", str(p))
    t.put(p, "A single auth note about memory frames.", uri="mv2://single", title="Single", ts=BASE_TS,
          extra=("--label", "note"))


def s_put_loop(t: Tool, p: Path):
    t.run("create", str(p))
    for i in range(20):
        t.put(p, _text(i), uri=f"mv2://loop/{i}", title=f"Note {i}", ts=BASE_TS + 60 * i,
              extra=("--label", "note", "--label", "loop", "--tag", f"t={i % 3}", "--kind", "note", "--track", "loop",
                     "--metadata", json.dumps({"n": i, "even": i % 2 == 0})))


def s_same_uri(t: Tool, p: Path):
    t.run("create", str(p))
    for i in range(4):
        t.put(p, f"version {i} of the auth doc", uri="mv2://same", title=f"Version {i}", ts=BASE_TS + i,
              extra=("--label", "doc", "--allow-duplicate"))


def s_multi_seal(t: Tool, p: Path):
    t.run("create", str(p))
    for i in range(9):
        t.put(p, _text(i), uri=f"mv2://round/{i // 3}/{i % 3}", title=f"Round {i // 3} #{i % 3}", ts=BASE_TS + 100 * i,
              extra=("--label", "round"))


def s_deleted(t: Tool, p: Path):
    t.run("create", str(p))
    for i in range(10):
        t.put(p, _text(i), uri=f"mv2://del/{i}", title=f"Doc {i}", ts=BASE_TS + i, extra=("--label", "doc"))
    for i in (2, 5, 7):
        t.run("delete", str(p), "--frame-id", str(i), "--yes")


def s_vectors_8d(t: Tool, p: Path):
    t.run("create", str(p))
    vec = t.work / "vec.json"
    for i in range(12):
        vec.write_text(json.dumps(_vec(i, 8)))
        t.put(p, _text(i), uri=f"mv2://vec/{i}", title=f"Vec {i}", ts=BASE_TS + i,
              extra=("--label", "vec", "--embedding-vec", str(vec)))


def s_killed_mid_batch(t: Tool, p: Path):
    t.run("create", str(p))
    t.put(p, "committed before the batch: auth", uri="mv2://first", title="Sealed", ts=BASE_TS, extra=("--label", "doc"))
    batch = t.work / "batch.json"
    batch.write_text(json.dumps([{"title": f"Batch {i}", "label": "batch", "text": _text(i), "uri": f"mv2://batch/{i}"}
                                 for i in range(3000)]))
    proc = subprocess.Popen([t.binary, "put-many", str(p), "--input", str(batch)], env=t.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


SCENARIOS = {"single": s_single, "put-loop": s_put_loop, "same-uri": s_same_uri, "multi-seal": s_multi_seal,
             "deleted": s_deleted, "vectors-8d": s_vectors_8d, "killed-mid-batch": s_killed_mid_batch}


def write(binary: str, out: Path, only: list[str] | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gold-cli-") as work:
        tool = Tool(binary, Path(work))
        for name in only or SCENARIOS:
            target = out / f"{name}.mv2"
            target.unlink(missing_ok=True)
            SCENARIOS[name](tool, target)
            for side in out.glob(f"{name}.mv2.*"):  # the tool's sidecars (lock)
                side.unlink()
            print(f"wrote {target} ({target.stat().st_size} bytes)")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def oracle(binary: str, path: Path, replay: bool) -> dict:
    before = path.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="gold-cli-oracle-"))
    tool = Tool(binary, work)
    # The tool's reading commands open the file read-only; a copy is read all the same, so that
    # a tool that writes when it opens cannot change the gold file.
    opened = work / path.name
    shutil.copyfile(path, opened)
    note, committed_only = None, False
    if replay:
        ro = tool.json("stats", str(opened), "--json")["raw"]["frame_count"]
        # `memvid doctor` with no repair option replays pending records, as memvid's read-write
        # open does; on a second copy, so that a failed replay leaves the read-only view intact.
        replayed = work / ("replayed-" + path.name)
        shutil.copyfile(path, replayed)
        tool.run("doctor", str(replayed), check=False)
        try:
            now = tool.json("stats", str(replayed), "--json")["raw"]["frame_count"]
        except SystemExit as exc:  # memvid-cli 2.0.151 cannot reopen its own killed file
            note = (f"the tool cannot replay the pending WAL records ({str(exc).strip().splitlines()[-1]}); "
                    f"oracle = its read-only view ({ro} frame(s))")
            committed_only = True
        else:
            note = (f"oracle = state after `memvid doctor` on a copy (it replays pending WAL records): {now} "
                    f"frame(s); its read-only commands show {ro}")
            opened, committed_only = replayed, False
    stats = tool.json("stats", str(opened), "--json")["raw"]
    out: dict = {"file_sha256": sha256(before), "sdk": f"memvid-cli {tool.run('--version').decode().split()[-1]}",
                 "stats": {k: stats.get(k) for k in STATS_FIELDS}}
    if note:
        out["note"] = note
        if committed_only:
            out["committed_only"] = True  # readers compare their view without pending records
    out["timeline"] = [{"frame_id": e["frame_id"], "preview": e["preview"], "timestamp": e["timestamp"], "uri": e["uri"]}
                       for e in tool.json("timeline", str(opened), "--json", "--limit", "1000000")]
    frames = {}
    for e in out["timeline"]:
        f = tool.json("view", str(opened), "--frame-id", str(e["frame_id"]), "--json")["frame"]
        blob = tool.run("view", str(opened), "--frame-id", str(e["frame_id"]), "--binary")
        frames[e["uri"]] = {"blob_len": len(blob), "blob_sha256": sha256(blob),
                            "frame": {k: f.get(k) for k in FRAME_FIELDS if k in f}}
    out["frames_by_uri"] = frames
    # After replaying a killed writer's records memvid's lexical index answers some queries
    # with the committed frames only and others with replayed ones too: no oracle to compare
    # (the memvid-sdk 2.0.160 killed-writer oracle has none either).
    out["find"] = {} if replay and not committed_only else {q: [{"frame_id": h["frame_id"], "rank": h["rank"], "uri": h["uri"]}
                       for h in tool.json("find", str(opened), "--query", q, "--top-k", "10", "--json")["hits"]]
                   for q in QUERIES}
    dim = (tool.json("stats", str(opened), "--json").get("embedding_quality") or {}).get("dimension")
    if stats.get("has_vec_index") and dim:
        rng = random.Random(0)
        q = [round(rng.uniform(-1, 1), 6) for _ in range(int(dim))]
        hits = tool.json("vec-search", str(opened), "--vector", ",".join(repr(x) for x in q), "--limit", "5", "--json")
        out["find_sem"] = {"dimension": int(dim), "query_embedding_seed": 0,
                           "hits": [{"distance": h["distance"], "frame_id": h["frame_id"], "rank": r + 1}
                                    for r, h in enumerate(hits)]}
        out["find_sem_note"] = ("vec-search --vector Q --limit 5, Q = uniform(-1,1) x dim from random.Random(0), "
                                "rounded to 6 places; the tool reports distances, not scores")
    p = subprocess.run([binary, "verify", str(opened), "--deep", "--json"], capture_output=True, env=tool.env)
    try:
        text = p.stdout.decode()
        out["verify"] = json.loads(text[text.find("{"):])
    except ValueError:
        out["verify"] = {"error": f"exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[-300:]}"}
    if "file_path" in out["verify"]:
        out["verify"]["file_path"] = path.name
    shutil.rmtree(work)
    if path.read_bytes() != before:
        raise SystemExit(f"{path}: changed while its oracle was taken; no oracle written")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("binary")
    w.add_argument("out", type=Path)
    w.add_argument("--only", nargs="*", default=None)
    o = sub.add_parser("oracle")
    o.add_argument("binary")
    o.add_argument("file", type=Path)
    o.add_argument("--replay", action="store_true", help="oracle of the state after the tool replays pending records")
    args = ap.parse_args(argv)
    if args.cmd == "write":
        write(args.binary, args.out, args.only)
        return 0
    out = oracle(args.binary, args.file, args.replay)
    target = args.file.with_suffix(".expected.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out['timeline'])} timeline entries, {len(out['frames_by_uri'])} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
