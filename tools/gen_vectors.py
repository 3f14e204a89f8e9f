"""Generate the conformance vectors, or check that they are still reproduced exactly.

* ``vectors/valid/``: operation scripts, the SHA-256 of the file the reference writer produces
  from each, and that file's canonical dump;
* ``vectors/invalid/``: broken files (``tools/mutations.py``), each with the error code a
  verifier must report;
* ``vectors/crash/``: files as a crash leaves them, each with the canonical dumps a correct
  recovery may produce.


Each vector in ``vectors/valid/`` is an operation script (``<name>.ops.jsonl``) with the WAL
size to create the file with, the SHA-256 of the file that script produces, and the file's
canonical dump (``<name>.dump.json``). The list is ``vectors/valid/manifest.json``. The
scripts are generated from the scenario definitions below, so that long ones need not be
written by hand, and are committed so that other implementations can use them as they are.

    python tools/gen_vectors.py --write     # regenerate scripts, hashes and dumps
    python tools/gen_vectors.py --check     # regenerate in a temporary directory and compare

``--check`` runs in CI: any change to the bytes the writer produces shows up as a failure
here, and must be made on purpose (with --write) and explained.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "vectors" / "valid"
INVALID = ROOT / "vectors" / "invalid"
CRASH = ROOT / "vectors" / "crash"
sys.path.insert(0, str(Path(__file__).resolve().parent))

WORDS = ("penicillin harbor ledger aspirin quantum violet deploy roadmap audit session token cobalt "
         "saffron lattice tundra ember vector index compliance invoice").split()


def words(i: int, n: int) -> str:
    return " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(n))


def scenarios() -> dict[str, dict]:
    s: dict[str, dict] = {}
    s["empty"] = dict(desc="a new file with no frames", wal_size=65536, ops=[], reqs=["R-FTR-002"])
    s["single"] = dict(desc="one put with every field", wal_size=65536, reqs=["R-FRM-009", "R-FRM-010"], ops=[
        {"op": "put", "uri": "mv2://profile/allergy", "title": "Allergy", "text": "The user is allergic to penicillin.",
         "timestamp": 1700000000, "tags": ["health", "allergic"], "labels": ["Medical"],
         "metadata": {"source": "intake", "confidence": 0.9}, "kind": "fact", "track": "profile"}])
    s["put-loop"] = dict(desc="25 puts with kind, track, tags and metadata, one commit", wal_size=65536, ops=[
        {"op": "put", "uri": f"mv2://notes/{i}", "title": f"Note {i}", "text": words(i, 12), "timestamp": 1700000000 + 86400 * i,
         "tags": [WORDS[i % 20]], "kind": "note", "track": "daily", "metadata": {"n": i}} for i in range(25)])
    s["unicode"] = dict(desc="texts in several scripts, emoji, combining marks", wal_size=65536, ops=[
        {"op": "put", "text": t, "timestamp": 1700000000 + i, "uri": f"mv2://u/{i}"} for i, t in enumerate([
            "naïve café — crème brûlée", "日本語のテキストと検索", "Ελληνικά κείμενα με τόνους", "नमस्ते दुनिया",
            "emoji 🎉🚀 and ZWJ 👩‍💻", "Straße ß and İstanbul ı", "\u0041\u030a combining ring", "tab\there\nnewline"])])
    s["binary"] = dict(desc="payloads that are not text, stored plain", wal_size=65536, ops=[
        {"op": "put", "bytes_b64": base64.b64encode(bytes(range(256))).decode(), "timestamp": 1, "uri": "mv2://bin/all-bytes"},
        {"op": "put", "bytes_b64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(100)).decode(), "timestamp": 2, "title": "image"},
        {"op": "put", "bytes_b64": "", "timestamp": 3, "uri": "mv2://bin/empty"}])
    s["supersede-chain"] = dict(desc="three versions of one document, with and without new content", wal_size=65536,
                                reqs=["R-FRM-003", "R-FRM-011"], ops=[
        {"op": "put", "uri": "mv2://doc/policy", "text": "Version one of the policy.", "timestamp": 100},
        {"op": "seal"},
        {"op": "supersede", "frame_id": 0, "text": "Version two of the policy.", "timestamp": 200},
        {"op": "supersede", "frame_id": 1, "timestamp": 300, "tags": ["reviewed"]}])
    s["delete"] = dict(desc="ten puts, three deletes", wal_size=65536, reqs=["R-FRM-004"], ops=[
        {"op": "put", "uri": f"mv2://del/{i}", "text": words(i, 8), "timestamp": 1700000000 + i} for i in range(10)] + [
        {"op": "delete", "frame_id": i} for i in (2, 5, 7)])
    s["vectors-8d"] = dict(desc="puts with 8-dimensional embeddings, one deleted", wal_size=65536, reqs=["R-VEC-001"], ops=[
        {"op": "put", "text": words(i, 6), "timestamp": 1700000000 + i,
         "embedding": [round(((i * 31 + k * 17) % 97) / 97 - 0.5, 6) for k in range(8)]} for i in range(12)] + [
        {"op": "delete", "frame_id": 4}])
    s["multi-seal"] = dict(desc="three rounds of puts and seals", wal_size=65536, ops=[
        op for r in range(3) for op in ([{"op": "put", "text": words(r * 5 + i, 10), "timestamp": 1700000000 + r * 100 + i,
                                           "uri": f"mv2://round/{r}/{i}"} for i in range(5)] + [{"op": "seal"}])])
    s["wal-growth"] = dict(desc="a payload larger than the WAL makes it grow", wal_size=4096, ops=[
        {"op": "put", "text": "small first", "timestamp": 1},
        {"op": "put", "text": words(3, 3000), "timestamp": 2, "uri": "mv2://big"},
        {"op": "put", "text": "small after", "timestamp": 3}])
    s["wal-full"] = dict(desc="puts and deletes fill a small WAL that may not grow: it commits and restarts", wal_size=4096,
                         policy={"wal_grow_limit": 4096}, ops=[
        op for i in range(40) for op in ([{"op": "put", "text": words(i, 20), "timestamp": i}]
                                         + ([{"op": "delete", "frame_id": i - 1}] if i % 3 == 2 else []))])
    s["wal-grow-pending"] = dict(desc="puts fill a small WAL, which doubles carrying its pending records", wal_size=4096,
                                 reqs=["R-WAL-014"], ops=[
        op for i in range(30) for op in ([{"op": "put", "text": words(i, 40), "timestamp": i, "uri": f"mv2://g/{i}"}]
                                         + ([{"op": "delete", "frame_id": i - 2}] if i % 4 == 3 else []))])
    s["compaction"] = dict(desc="a seal after every put; each commit that leaves more dead bytes than live ones "
                                "is written compacted", wal_size=4096, policy={"compact_min_dead": 0}, reqs=["R-DUR-004"], ops=[
        op for i in range(12) for op in ([{"op": "put", "text": words(i, 30), "timestamp": i, "uri": f"mv2://c/{i}"}]
                                         + ([{"op": "delete", "frame_id": i - 2}] if i % 5 == 4 else []) + [{"op": "seal"}])])
    s["many-commits"] = dict(
        desc="26 puts with 4-dimensional embeddings, a seal after every second put, a delete every seventh: the "
             "full-text index grows by segments with deletion bitsets and is rebuilt at its segment limit; "
             "vector segments are merged geometrically", wal_size=65536, reqs=["R-LEX-005", "R-VEC-003"], ops=[
            op for i in range(26) for op in (
                [{"op": "put", "text": words(i, 10), "timestamp": 1700000000 + 60 * i, "uri": f"mv2://m/{i}",
                  "embedding": [round(((i * 13 + k * 7) % 23) / 23 - 0.5, 6) for k in range(4)]}]
                + ([{"op": "delete", "frame_id": i - 3}] if i % 7 == 6 else [])
                + ([{"op": "seal"}] if i % 2 else []))])
    s["empty-texts"] = dict(desc="puts with empty and whitespace-only text", wal_size=65536, ops=[
        {"op": "put", "text": t, "timestamp": i} for i, t in enumerate(["", "   ", "\n\t", "x"])])
    return s


def produce(name: str, sc: dict, workdir: Path) -> tuple[str, str, str]:
    """Apply the scenario; return (script text, file sha256, canonical dump)."""
    import mv2
    from mv2 import script

    text = "".join(json.dumps(op, ensure_ascii=False, sort_keys=True) + "\n" for op in sc["ops"])
    path = workdir / f"{name}.mv2"
    mem = mv2.create(path, wal_size=sc["wal_size"], **sc.get("policy", {}))
    with mem:
        script.apply(mem, script.parse(text))
    with mv2.open(path) as r:
        dump = r.dump_json()
    return text, hashlib.sha256(path.read_bytes()).hexdigest(), dump


def run(write: bool) -> list[str]:
    problems = []
    manifest = {"description": "Operation scripts and the exact files the reference writer produces from them.",
                "vectors": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name, sc in scenarios().items():
            text, digest, dump = produce(name, sc, Path(tmp))
            entry = {"name": name, "description": sc["desc"], "ops": f"{name}.ops.jsonl",
                     "ops_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "wal_size": sc["wal_size"],
                     "policy": sc.get("policy", {}),
                     "sha256": digest, "dump": f"{name}.dump.json",
                     "dump_sha256": hashlib.sha256(dump.encode()).hexdigest(), "requirements": sc.get("reqs", [])}
            manifest["vectors"].append(entry)
            files = {f"{name}.ops.jsonl": text, f"{name}.dump.json": dump}
            for fname, content in files.items():
                p = VALID / fname
                if write:
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_text(content, encoding="utf-8")
                elif not p.exists() or p.read_text(encoding="utf-8") != content:
                    problems.append(f"{fname} differs from what the writer produces now")
    mtext = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    mp = VALID / "manifest.json"
    if write:
        mp.write_text(mtext, encoding="utf-8")
    elif not mp.exists() or mp.read_text(encoding="utf-8") != mtext:
        old = json.loads(mp.read_text(encoding="utf-8")) if mp.exists() else {"vectors": []}
        olds = {v["name"]: v["sha256"] for v in old["vectors"]}
        for v in manifest["vectors"]:
            if olds.get(v["name"]) != v["sha256"]:
                problems.append(f"{v['name']}: file SHA-256 is now {v['sha256']}, manifest says {olds.get(v['name'])}")
        if not problems:
            problems.append("manifest.json differs")
    return problems


def _emit(folder: Path, files: dict[str, bytes], manifest: dict, write: bool, problems: list[str]) -> None:
    mtext = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
    files = dict(files, **{"manifest.json": mtext})
    for name, content in files.items():
        p = folder / name
        if write:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content)
        elif not p.exists() or p.read_bytes() != content:
            problems.append(f"{p.relative_to(ROOT)} differs from what the generator produces now")
    if write:
        for p in folder.glob("*"):
            if p.name not in files:
                p.unlink()
    else:
        extra = sorted(p.name for p in folder.glob("*") if p.name not in files) if folder.exists() else []
        problems += [f"{folder.relative_to(ROOT)}/{n} is not generated" for n in extra]


def negative(write: bool) -> list[str]:
    import mutations as M

    problems: list[str] = []
    files, entries = {}, []
    for c in M.CASES:
        data = c.build()
        base = M.BASES[c.base].read_bytes()
        files[f"{c.id}.mv2"] = data
        entries.append({"id": f"invalid/{c.id}", "file": f"{c.id}.mv2", "sha256": hashlib.sha256(data).hexdigest(),
                        "size": len(data), "description": c.description,
                        "base": str(M.BASES[c.base].relative_to(ROOT)),
                        "expect": {"result": "error", "code": c.code,
                                   "offset": c.offset(base) if c.offset else None},
                        "requirements": c.requirements})
    manifest = {"description": "Files that break exactly one rule, each with the error a verifier must report "
                               "(the code is required; the offset, when given, is recommended).",
                "tests": entries}
    _emit(INVALID, files, manifest, write, problems)
    return problems


def _norm_dump(dump: dict) -> str:
    frames = [{k: v for k, v in f.items() if k != "pending"} for f in dump["frames"]]
    return hashlib.sha256(json.dumps({"dump_version": dump["dump_version"], "frames": frames}, sort_keys=True,
                                     ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


class _Stop(BaseException):
    pass


def _crash_image(ops: list[dict], wal_size: int, point: str, nth: int, workdir: Path, *, torn: bool = False):
    """Run ``ops`` one at a time and stop before the ``nth`` time the writer reaches ``point``
    (``torn``: after writing only the first half of that write). Returns (file bytes, acked ops)."""
    import os

    import mv2
    import mv2.storage.file as sfile
    from mv2 import script

    seen = [0]
    real = sfile._pwrite_all

    def hook(p):
        if p == point:
            seen[0] += 1
            if seen[0] == nth:
                if torn:
                    sfile._pwrite_all = lambda fd, data, off: (real(fd, data[: len(data) // 2], off), (_ for _ in ()).throw(_Stop()))
                    return
                raise _Stop
    path = workdir / f"crash-{point}-{nth}-{int(torn)}.mv2"
    acked = 0
    m = mv2.create(path, wal_size=wal_size, fault=hook)
    try:
        for op in script.parse("".join(json.dumps(o) + "\n" for o in ops)):
            script.apply(m, [op])
            acked += 1
        m.close()
    except _Stop:
        os.close(m._file.fd)
        m._file.closed = True
    finally:
        sfile._pwrite_all = real
    grow = Path(str(path) + ".mv2-grow")
    if grow.exists():
        grow.unlink()  # a separate file; the vector is the main file, which recovery must accept as it is
    return path.read_bytes(), acked


CRASH_OPS = [
    {"op": "put", "uri": "mv2://c/0", "text": "first note about penicillin", "timestamp": 100},
    {"op": "put", "uri": "mv2://c/1", "text": "second note about the harbor", "timestamp": 200},
    {"op": "seal"},
    {"op": "delete", "frame_id": 1},
    {"op": "put", "uri": "mv2://c/2", "text": "third note, after the delete", "timestamp": 300},
    {"op": "supersede", "frame_id": 0, "text": "first note, revised", "timestamp": 400},
    {"op": "put", "uri": "mv2://c/big", "text": "x" * 5000, "timestamp": 500},
    {"op": "seal"},
]
CRASH_CASES = [
    # id, description, point, nth, torn
    ("wal.torn.001", "the fifth operation's WAL write torn in half", "wal-write", 4, True),
    ("wal.pending.001", "stopped before the last seal: every operation is a pending WAL record", "commit-write", 2, False),
    ("commit.partial.001", "the commit's write torn in half: junk after the last valid commit", "commit-write", 2, True),
    ("commit.staleheader.001", "commit synced, the WAL not yet reset, the header not updated", "wal-reset", 2, False),
    ("commit.walreset.001", "commit synced and the WAL reset, the header not updated", "header-write", 2, False),
    ("grow.norename.001", "the WAL growth image written but not renamed over the file", "grow-rename", 1, False),
]


def crash(write: bool) -> list[str]:
    import tempfile

    import mv2
    from mv2 import script

    problems: list[str] = []
    files, entries = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        states = []
        m = mv2.create(d / "clean.mv2", wal_size=4096)
        states.append(_norm_dump(m.dump()))
        for op in script.parse("".join(json.dumps(o) + "\n" for o in CRASH_OPS)):
            script.apply(m, [op])
            states.append(_norm_dump(m.dump()))
        m.close()
        ops_text = "".join(json.dumps(o, sort_keys=True) + "\n" for o in CRASH_OPS)
        files["scenario.ops.jsonl"] = ops_text.encode()
        for cid, desc, point, nth, torn in CRASH_CASES:
            data, acked = _crash_image(CRASH_OPS, 4096, point, nth, d, torn=torn)
            ok = [states[acked]] + ([states[acked + 1]] if acked + 1 < len(states) else [])
            files[f"{cid}.mv2"] = data
            entries.append({"id": f"crash/{cid}", "file": f"{cid}.mv2", "sha256": hashlib.sha256(data).hexdigest(),
                            "size": len(data), "description": desc, "scenario": "scenario.ops.jsonl",
                            "acknowledged_ops": acked,
                            "expect": {"result": "recoverable", "dump_sha256": ok},
                            "requirements": ["R-DUR-001", "R-DUR-002"]})
    src = ROOT / "vectors" / "gold" / "memvid-sdk-2.0.160" / "killed-mid-batch.mv2"
    data = src.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "k.mv2"
        p.write_bytes(data)
        with mv2.open(p, "a") as rec:
            expected = _norm_dump(rec.dump())
    files["memvid.killed.001.mv2"] = data
    entries.append({"id": "crash/memvid.killed.001", "file": "memvid.killed.001.mv2", "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data), "description": "memvid-sdk put_many killed by SIGKILL: 32 pending WAL records",
                    "expect": {"result": "recoverable", "dump_sha256": [expected], "frames": 33},
                    "requirements": ["R-WAL-010", "R-WAL-011"]})
    manifest = {"description": "Files as a crash leaves them. After recovery (opening for write), the canonical dump "
                               "(without the 'pending' member) must have one of the listed SHA-256s: the state after "
                               "the acknowledged operations, or that plus the one in flight.",
                "dump_hash": "SHA-256 of canonical JSON {dump_version, frames} with 'pending' removed from each frame",
                "tests": entries}
    _emit(CRASH, files, manifest, write, problems)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate or check the writer's golden vectors.")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    problems = run(write=args.write) + negative(write=args.write) + crash(write=args.write)
    if args.check and problems:
        print("golden vectors are not reproduced:", *problems, sep="\n  ")
        return 1
    print("vectors written" if args.write else "all vectors reproduced exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
