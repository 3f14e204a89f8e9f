"""mkdocs hook: publish the conformance suite's own documents as site pages, and draw files.

The HP/1 protocol, its JSON Schema, the normative INTERPRETING.md and the Python adapter
template live beside the code they describe (``conformance/``), where implementers copy them
from. Rather than keep copies under ``docs/`` that could drift, this hook adds them to the
build as generated pages under ``conformance/`` (see ``PAGES``); other pages link them like any
page, e.g. ``[HP/1](conformance/protocol.md)``. A repository path written in backticks in one of
these documents becomes a link when it names another published document.

It also draws the pictures of the layout page (``LAYOUTS``) with ``mv2 inspect --svg``'s
renderer, from the committed vectors, so they always show what the current code reads.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]

# site page -> (repository file, how to present it, title for wrapped files)
PAGES = {
    "conformance/interpreting.md": ("conformance/INTERPRETING.md", "markdown", None),
    "conformance/protocol.md": ("conformance/protocol/README.md", "markdown", None),
    "conformance/hp1-schema.md": ("conformance/protocol/hp1.schema.json", "json", "HP/1 JSON Schema"),
    "conformance/adapter-template.md": ("conformance/adapters/template-python/adapter.py", "python",
                                        "Adapter template (Python)"),
}
# Raw copies, for downloading or pointing a schema validator at.
RAW = {"conformance/hp1.schema.json": "conformance/protocol/hp1.schema.json",
       "conformance/adapter.py": "conformance/adapters/template-python/adapter.py"}

# picture -> a gold file, or an operation script the reference writer runs (spec 13.2)
LAYOUTS = {
    "img/layout/many-commits.svg": "vectors/valid/many-commits.ops.jsonl",
    "img/layout/put-loop.svg": "vectors/gold/memvid-sdk-2.0.160/put-loop.mv2",
    "img/layout/vectors-1200.svg": "vectors/gold/memvid-sdk-2.0.123/vectors-1200.mv2",
}

_BY_REPO_PATH = {repo: page for page, (repo, _, _) in PAGES.items()}
_TICKED = re.compile(r"(?<!\[)`([^`\s]+)`(?!\])")


def _link_paths(text: str, repo_path: str, page: str) -> str:
    """Turn `relative/path` mentions of other published documents into links."""
    here = posixpath.dirname(repo_path)

    def sub(m: re.Match) -> str:
        target = _BY_REPO_PATH.get(posixpath.normpath(posixpath.join(here, m.group(1))))
        if target is None or target == page:
            return m.group(0)
        return f"[`{m.group(1)}`]({posixpath.relpath(target, posixpath.dirname(page))})"

    # Leave fenced code blocks alone.
    parts = re.split(r"(^```.*?^```)", text, flags=re.S | re.M)
    return "".join(p if i % 2 else _TICKED.sub(sub, p) for i, p in enumerate(parts))


def render(page: str) -> str:
    repo_path, kind, title = PAGES[page]
    text = (ROOT / repo_path).read_text(encoding="utf-8")
    origin = f"In the repository: `{repo_path}`."
    if kind == "markdown":
        head, _, rest = text.partition("\n")
        return f"{head}\n\n*{origin}*\n{_link_paths(rest, repo_path, page)}"
    raw = next(k for k, v in RAW.items() if v == repo_path)
    return (f"# {title}\n\n*{origin} Download: [{posixpath.basename(raw)}]({posixpath.basename(raw)}).*\n\n"
            f"```{kind}\n{text.rstrip()}\n```\n")


def draw(repo_path: str) -> str:
    import tempfile

    from mv2.script import run_file
    from mv2.storage.layout_svg import render
    from mv2.storage.verify import analyze

    src = ROOT / repo_path
    if src.suffix == ".mv2":
        return render(analyze(src), title=f"{src.parent.name}/{src.name}")
    with tempfile.TemporaryDirectory(prefix="mv2-docs-") as tmp:
        out = Path(tmp) / (src.name.split(".")[0] + ".mv2")
        run_file(src, out)
        return render(analyze(out), title=f"{out.name}, written by mv2 from {src.name}")


def on_files(files: Files, config) -> Files:
    for dest, repo_path in LAYOUTS.items():
        files.append(File.generated(config, dest, content=draw(repo_path)))
    for page in PAGES:
        files.append(File.generated(config, page, content=render(page)))
    for dest, repo_path in RAW.items():
        files.append(File.generated(config, dest, abs_src_path=str(ROOT / repo_path)))
    return files


def on_serve(server, config, builder):
    # `mkdocs serve` rebuilds when the included documents change.
    for repo_path, _, _ in PAGES.values():
        server.watch(str(ROOT / repo_path))
    return server
