"""Which memvid release opens which release's files, natively or after ``mv2 convert``: docs/compat.md.

    .venv/bin/python tools/compat_matrix.py --write docs/compat.md
    .venv/bin/python tools/compat_matrix.py --releases 2.0.140 2.0.160   # print the table only

Slow: installs each memvid-sdk release into its own virtual environment (cached under
``$MV2_CACHE``, default ``~/.cache/mv2``, as the slow tests do), then

1. each release (the *writer*) writes the same file: ``put_many`` of 40 documents with 8-d
   vectors, a second batch of 10, sealed after each (``tools/gold_write.py``, scenario
   ``vectors-8d``);
2. each release (the *reader*) opens every writer's file read-only and lists, searches
   (lexical and vector) and verifies it. A cell is **native** when that works and the timeline
   has every document; otherwise mv2 converts the file to the reader's TOC revision
   (``mv2.convert``, losses allowed and listed) and the reader tries again: **after convert**
   when that works, **no** when it does not.

The page records the releases, the revision each writes (spec 11) and every conversion loss.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "reference"))

DEFAULT_RELEASES = ["2.0.123", "2.0.140", "2.0.151", "2.0.160"]
SCENARIO = "vectors-8d"
DOCUMENTS = 50

PROBE = r"""
import json, sys, memvid_sdk
path = sys.argv[1]
try:
    m = memvid_sdk.use("basic", path, mode="open", read_only=True, enable_vec=True)
    timeline = m.timeline(limit=100000)
    lex = m.find("auth", k=5, mode="lex")["hits"]
    sem = m.find("", k=5, mode="sem", query_embedding=[0.1] * 8)["hits"]
    status = m.verify(deep=True)["overall_status"]
    m.close()
    print(json.dumps({"ok": status == "passed", "timeline": len(timeline), "lex": len(lex), "sem": len(sem),
                      "verify": status}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}))
"""


def release_python(version: str) -> str:
    base = Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2")) / f"venv-memvid-{version}"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"memvid-sdk=={version}"], check=True,
                       env=dict(os.environ, MEMVID_TELEMETRY="0"))
    return str(py)


def _env() -> dict:
    return dict(os.environ, MEMVID_TELEMETRY="0")


def write_file(version: str, out: Path) -> Path:
    subprocess.run([release_python(version), str(ROOT / "tools" / "gold_write.py"), str(out), "--only", SCENARIO],
                   check=True, env=_env(), capture_output=True)
    return out / f"{SCENARIO}.mv2"


def probe(version: str, path: Path) -> dict:
    res = subprocess.run([release_python(version), "-c", PROBE, str(path)], capture_output=True, text=True,
                         env=_env(), timeout=600)
    try:
        out = json.loads(res.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        out = {"ok": False, "error": (res.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    out["ok"] = bool(out.get("ok")) and out.get("timeline") == DOCUMENTS
    return out


def matrix(releases: list[str], work: Path) -> dict:
    from mv2.convert import convert
    from mv2.format.revisions import revision_for_release

    files = {w: write_file(w, work / f"written-by-{w}") for w in releases}
    cells: dict[str, dict[str, dict]] = {}
    for w, path in files.items():
        cells[w] = {}
        for r in releases:
            native = probe(r, path)
            cell = {"native": native}
            if native["ok"]:
                cell["result"] = "native"
            else:
                target = revision_for_release(r)
                out = work / f"{w}-for-{r}.mv2"
                conv = convert(path, out, target, allow_loss=True)
                after = probe(r, out)
                cell.update(converted_to=target, losses=conv.losses, after=after)
                cell["result"] = "after convert" if after["ok"] else "no"
            cells[w][r] = cell
    return {"releases": releases, "revisions": {v: revision_for_release(v) for v in releases}, "cells": cells}


def markdown(m: dict) -> str:
    rel, revs = m["releases"], m["revisions"]
    lines = [
        "# Compatibility between memvid releases",
        "",
        "Each row is the memvid-sdk release that wrote a file (40 documents with 8-d vectors, then 10",
        "more, sealed after each batch); each column a release that opened it read-only and listed,",
        "searched (lexical and vector) and verified it. **native**: it opens as written; **after",
        "convert**: it opens once `mv2 convert FILE OUT --target REVISION` has rewritten it in the",
        "reader's TOC revision ([spec 11](spec/11-revisions.md)); **no**: not even then.",
        "",
        "Generated by `tools/compat_matrix.py` (slow: it installs every release into its own",
        "environment):",
        "",
        "```",
        ".venv/bin/python tools/compat_matrix.py --write docs/compat.md",
        "```",
        "",
        "| writer ↓ / reader → | " + " | ".join(f"{r} (`{revs[r]}`)" for r in rel) + " |",
        "|---|" + "---|" * len(rel),
    ]
    for w in rel:
        lines.append(f"| memvid-sdk {w} (`{revs[w]}`) | " + " | ".join(m["cells"][w][r]["result"] for r in rel) + " |")
    losses = sorted({(w, r, ", ".join(c["losses"])) for w in rel for r, c in m["cells"][w].items() if c.get("losses")})
    lines += ["", "What a release says when it opens a file of another revision, and what the conversion lost:", ""]
    lines += ["| writer | reader | natively | conversion loses |", "|---|---|---|---|"]
    for w in rel:
        for r in rel:
            c = m["cells"][w][r]
            if c["result"] == "native":
                continue
            err = c["native"].get("error") or f"verify {c['native'].get('verify')}, {c['native'].get('timeline')} documents"
            lost = ", ".join(f"`{x}`" for x in c.get("losses", [])) or "nothing"
            lines.append(f"| {w} | {r} | `{err.replace('|', '/')}` | {lost} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--releases", nargs="+", default=DEFAULT_RELEASES)
    ap.add_argument("--write", type=Path, help="write the page here (default: print it)")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mv2-compat-") as tmp:
        m = matrix(args.releases, Path(tmp))
    if args.json:
        print(json.dumps(m, indent=1, sort_keys=True))
    text = markdown(m)
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    elif not args.json:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
