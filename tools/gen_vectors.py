"""Generate the writer's golden vectors, or check that they are still reproduced exactly.

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
    s["wal-full"] = dict(desc="many puts one by one fill a small WAL, which commits and restarts", wal_size=4096, ops=[
        op for i in range(40) for op in ([{"op": "put", "text": words(i, 20), "timestamp": i}] + ([{"op": "seal"}] if i % 9 == 8 else []))])
    s["empty-texts"] = dict(desc="puts with empty and whitespace-only text", wal_size=65536, ops=[
        {"op": "put", "text": t, "timestamp": i} for i, t in enumerate(["", "   ", "\n\t", "x"])])
    return s


def produce(name: str, sc: dict, workdir: Path) -> tuple[str, str, str]:
    """Apply the scenario; return (script text, file sha256, canonical dump)."""
    import mv2
    from mv2 import script

    text = "".join(json.dumps(op, ensure_ascii=False, sort_keys=True) + "\n" for op in sc["ops"])
    path = workdir / f"{name}.mv2"
    mem = mv2.create(path, wal_size=sc["wal_size"])
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
            entry = {"name": name, "description": sc["desc"], "ops": f"{name}.ops.jsonl", "wal_size": sc["wal_size"],
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate or check the writer's golden vectors.")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    problems = run(write=args.write)
    if args.check and problems:
        print("golden vectors are not reproduced:", *problems, sep="\n  ")
        return 1
    print("vectors written" if args.write else "all vectors reproduced exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
