"""Which memvid release opens which release's files, natively or after ``mv2 convert``: docs/compat.md.

    .venv/bin/python tools/compat_matrix.py --write docs/compat.md
    .venv/bin/python tools/compat_matrix.py --releases 2.0.140 2.0.160 --no-npm   # print the table only

Slow: installs each memvid-sdk release into its own virtual environment and the npm packages
(memvid's command-line tool ``@memvid/cli-linux-x64`` 2.0.151 and 2.0.160 and Node.js SDK
``@memvid/sdk`` 2.0.159) into
their own directories, all cached under ``$MV2_CACHE`` (default ``~/.cache/mv2``, as the slow
tests do), then

1. each release (the *writer*) writes the same file: 40 documents with 8-d vectors in one
   batch, 10 more in a second, sealed after each (memvid-sdk: ``tools/gold_write.py``, scenario
   ``vectors-8d``; the CLI: ``memvid create`` and ``memvid put-many``; the Node.js SDK:
   ``putMany`` and ``seal``, ``tools/compat/node_sdk.mjs``);
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


def _cache() -> Path:
    return Path(os.environ.get("MV2_CACHE", Path.home() / ".cache" / "mv2"))


def release_python(version: str) -> str:
    base = _cache() / f"venv-memvid-{version}"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"memvid-sdk=={version}"], check=True,
                       env=_env())
    return str(py)


def npm_package(spec: str, folder: str, *extra: str) -> Path:
    """``node_modules`` of ``spec`` installed (once) into ``$MV2_CACHE/folder``."""
    base = _cache() / folder
    if not (base / "node_modules").exists():
        base.mkdir(parents=True, exist_ok=True)
        # --ignore-scripts: post-install steps download models from outside; nothing here needs them.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", *extra, spec], cwd=base,
                       check=True, capture_output=True)
    return base / "node_modules"


def _env() -> dict:
    return dict(os.environ, MEMVID_TELEMETRY="0")


def _json_line(res: subprocess.CompletedProcess) -> dict:
    try:
        return json.loads(res.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "error": (res.stderr.strip().splitlines() or ["no output"])[-1][:200]}


def _batches(work: Path) -> list[Path]:
    """The matrix's documents as put-many batches, the same texts and vectors gold_write.py uses."""
    sys.path.insert(0, str(ROOT / "tools"))
    from gold_write import _text, _vec

    out = []
    for n, (start, count) in enumerate([(0, 40), (40, 10)]):
        p = work / f"batch{n}.json"
        p.write_text(json.dumps([{"title": f"Vec {i}", "label": "vec", "text": _text(i), "uri": f"mv2://vec/{i}",
                                  "embedding": _vec(i, 8)} for i in range(start, start + count)]))
        out.append(p)
    return out


class PySdk:
    def __init__(self, version: str):
        from mv2.format.revisions import revision_for_release

        self.version, self.name, self.revision = version, f"memvid-sdk {version}", revision_for_release(version)

    def write(self, work: Path) -> Path:
        out = work / f"written-by-sdk-{self.version}"
        subprocess.run([release_python(self.version), str(ROOT / "tools" / "gold_write.py"), str(out), "--only",
                        SCENARIO], check=True, env=_env(), capture_output=True)
        return out / f"{SCENARIO}.mv2"

    def probe(self, path: Path) -> dict:
        return _json_line(subprocess.run([release_python(self.version), "-c", PROBE, str(path)], capture_output=True,
                                         text=True, env=_env(), timeout=600))


class Cli:
    """npm @memvid/cli-linux-x64, the binary of npm memvid-cli (2.0.160's reports memvid 2.0.140,
    2.0.151's memvid 2.0.134)."""

    def __init__(self, version: str = "2.0.160", revision: str = "memvid-2.0.160"):
        self.version, self.name, self.revision = version, f"@memvid/cli-linux-x64 {version} (npm)", revision

    def _bin(self) -> str:
        mods = npm_package(f"@memvid/cli-linux-x64@{self.version}", f"npm-memvid-cli-{self.version}")
        return str(mods / "@memvid" / "cli-linux-x64" / "memvid")

    def _run(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([self._bin(), *args], capture_output=True, text=True, env=_env(), timeout=600)

    def write(self, work: Path) -> Path:
        path = work / f"written-by-cli-{self.version}.mv2"
        for args in [("create", str(path))] + [("put-many", "--input", str(b), str(path)) for b in _batches(work)]:
            res = self._run(*args)
            if res.returncode:
                raise SystemExit(f"memvid {args[0]} failed: {res.stderr[-500:]}")
        return path

    def probe(self, path: Path) -> dict:
        def call(*args):
            res = self._run(*args, str(path))
            if res.returncode:
                raise RuntimeError((res.stderr.strip().splitlines() or ["exit %d" % res.returncode])[-1][:200])
            text = res.stdout
            return json.loads(text[min(i for i in (text.find("{"), text.find("[")) if i >= 0):])
        try:
            timeline = call("timeline", "--json", "--limit", "100000")
            lex = call("find", "--query", "auth", "--top-k", "5", "--json")["hits"]
            sem = call("vec-search", "--vector", ",".join(["0.1"] * 8), "--limit", "5", "--json")
            status = call("verify", "--deep", "--json")["overall_status"]
        except (RuntimeError, ValueError, KeyError) as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": status == "passed", "timeline": len(timeline), "lex": len(lex), "sem": len(sem), "verify": status}


class NodeSdk:
    def __init__(self, version: str = "2.0.159"):
        self.version, self.name, self.revision = version, f"@memvid/sdk {version} (npm)", "memvid-2.0.160"

    def _run(self, *args) -> dict:
        mods = npm_package(f"@memvid/sdk@{self.version}", f"npm-memvid-sdk-{self.version}", "--legacy-peer-deps")
        env = dict(_env(), MEMVID_NODE_SDK=str(mods / "@memvid" / "sdk"))
        return _json_line(subprocess.run(["node", str(ROOT / "tools" / "compat" / "node_sdk.mjs"), *args],
                                         capture_output=True, text=True, env=env, timeout=600))

    def write(self, work: Path) -> Path:
        path = work / "written-by-node.mv2"
        res = self._run("write", str(path), *map(str, _batches(work)))
        if not res.get("ok"):
            raise SystemExit(f"the Node.js SDK could not write: {res}")
        return path

    def probe(self, path: Path) -> dict:
        return self._run("probe", str(path))


def matrix(impls: list, work: Path) -> dict:
    from mv2.convert import convert

    files = {w.name: w.write(work) for w in impls}
    cells: dict[str, dict[str, dict]] = {}
    for w in impls:
        path = files[w.name]
        cells[w.name] = {}
        for n, r in enumerate(impls):
            native = r.probe(path)
            native["ok"] = bool(native.get("ok")) and native.get("timeline") == DOCUMENTS
            cell = {"native": native}
            if native["ok"]:
                cell["result"] = "native"
            else:
                out = work / f"{len(cells)}-for-{n}.mv2"
                conv = convert(path, out, r.revision, allow_loss=True)
                after = r.probe(out)
                after["ok"] = bool(after.get("ok")) and after.get("timeline") == DOCUMENTS
                cell.update(converted_to=r.revision, losses=conv.losses, after=after)
                cell["result"] = "after convert" if after["ok"] else "no"
                if not after["ok"]:  # the reader may not use the writer's indexes: rebuild them
                    out = work / f"{len(cells)}-for-{n}-rebuilt.mv2"
                    convert(path, out, r.revision, allow_loss=True, rebuild_indexes=True)
                    rebuilt = r.probe(out)
                    rebuilt["ok"] = bool(rebuilt.get("ok")) and rebuilt.get("timeline") == DOCUMENTS
                    cell["rebuilt"] = rebuilt
                    if rebuilt["ok"]:
                        cell["result"] = "after convert --rebuild-indexes"
            cells[w.name][r.name] = cell
    return {"implementations": [w.name for w in impls], "revisions": {w.name: w.revision for w in impls},
            "cells": cells}


def markdown(m: dict) -> str:
    rel, revs = m["implementations"], m["revisions"]
    lines = [
        "# Compatibility between memvid releases",
        "",
        "Each row is the memvid release that wrote a file (40 documents with 8-d vectors, then 10",
        "more, sealed after each batch); each column a release that opened it read-only and listed,",
        "searched (lexical and vector) and verified it. **native**: it opens as written; **after",
        "convert**: it opens once `mv2 convert FILE OUT --target REVISION` has rewritten it in the",
        "reader's TOC revision ([spec 11](spec/11-revisions.md)); **after convert --rebuild-indexes**:",
        "it opens once the conversion has also rebuilt the indexes from the frames; **no**: not even then.",
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
        lines.append(f"| {w} (`{revs[w]}`) | " + " | ".join(m["cells"][w][r]["result"] for r in rel) + " |")
    lines += ["", "What a release says when it opens a file of another revision, what the conversion lost, and",
              "what the release says of the converted file when it still fails:", ""]
    lines += ["| writer | reader | natively | conversion loses | after convert |", "|---|---|---|---|---|"]
    for w in rel:
        for r in rel:
            c = m["cells"][w][r]
            if c["result"] == "native":
                continue
            err = c["native"].get("error") or f"verify {c['native'].get('verify')}, {c['native'].get('timeline')} documents"
            lost = ", ".join(f"`{x}`" for x in c.get("losses", [])) or "nothing"
            after = c.get("after", {})
            after_text = "opens" if after.get("ok") else f"`{str(after.get('error', after)).replace('|', '/')}`"
            if "rebuilt" in c:
                after_text += "; with `--rebuild-indexes`: " + ("opens" if c["rebuilt"]["ok"] else "fails")
            lines.append(f"| {w} | {r} | `{err.replace('|', '/')}` | {lost} | {after_text} |")
    if any(c.get("rebuilt") for row in m["cells"].values() for c in row.values()):
        lines += ["", REBUILD_NOTE]
    return "\n".join(lines) + "\n"


REBUILD_NOTE = """Why a plain conversion can fail (measured): the Tantivy index that @memvid/cli-linux-x64 2.0.160
and @memvid/sdk 2.0.159 write holds two documents per frame, some naming frame ids the file does not
have. memvid-sdk 2.0.140, 2.0.151 and 2.0.160 skip such documents; 2.0.123 fails its lexical
search on them (`MV005 ... frame id out of range`). `mv2 convert` carries indexes byte for
byte, so the converted file keeps them; `mv2 convert --rebuild-indexes` rebuilds the indexes
from the frames (its lexical scores are then those of the rebuilt index)."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--releases", nargs="+", default=DEFAULT_RELEASES, help="memvid-sdk releases from PyPI")
    ap.add_argument("--no-npm", action="store_true", help="leave out the npm CLI and Node.js SDK")
    ap.add_argument("--write", type=Path, help="write the page here (default: print it)")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mv2-compat-") as tmp:
        impls = [PySdk(v) for v in args.releases] + ([] if args.no_npm else [Cli("2.0.151", "memvid-2.0.147"), Cli(), NodeSdk()])
        m = matrix(impls, Path(tmp))
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
