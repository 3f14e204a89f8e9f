"""Generate the site pages that show repository files verbatim, or check that they match.

The documentation site shows the conformance protocol's JSON Schema and the adapter template
as pages. Their text lives in the repository (``conformance/protocol/hp1.schema.json``,
``conformance/adapters/template-python/adapter.py``); each page here is a short introduction
followed by the file in a code block, so the site and the files cannot drift apart.

    python tools/site_pages.py --write
    python tools/site_pages.py --check     # used by the test suite
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGES = {
    "docs/protocol/schema.md": (
        "conformance/protocol/hp1.schema.json", "json",
        "# HP/1 JSON Schema\n\nEvery HP/1 message as a JSON Schema (draft 2020-12). The protocol itself is described "
        "in [HP/1](hp1.md); this is the file `conformance/protocol/hp1.schema.json`.\n",
    ),
    "docs/protocol/adapter-template.md": (
        "conformance/adapters/template-python/adapter.py", "python",
        "# Adapter template\n\nA complete HP/1 adapter skeleton in Python: copy it, fill in the handlers your "
        "implementation has, and list exactly those in `CAPABILITIES` ([implementer's guide](../implementers.md)). "
        "This is the file `conformance/adapters/template-python/adapter.py`.\n",
    ),
}


def render(source: str, lang: str, intro: str) -> str:
    text = (ROOT / source).read_text(encoding="utf-8")
    fence = "````" if "```" in text else "```"
    return f"{intro}\n{fence}{lang}\n{text.rstrip()}\n{fence}\n"


def process(write: bool) -> list[str]:
    stale = []
    for page, (source, lang, intro) in PAGES.items():
        want = render(source, lang, intro)
        path = ROOT / page
        if not path.exists() or path.read_text(encoding="utf-8") != want:
            stale.append(page)
            if write:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(want, encoding="utf-8")
    return stale


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate or check the site pages that show repository files.")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    stale = process(write=args.write)
    if args.check and stale:
        print("site pages differ from their files (run tools/site_pages.py --write):", *stale, sep="\n  ")
        return 1
    if args.write:
        print(f"updated {len(stale)} page(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
