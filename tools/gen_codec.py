"""Write or check the compiled codec's Cython source, generated from the Construct schema.

    .venv/bin/python tools/gen_codec.py --write    # regenerate reference/mv2/format/_codec_c.pyx
    .venv/bin/python tools/gen_codec.py --check    # exit 1 if the committed file is stale

After ``--write``, reinstall (``.venv/bin/pip install -e .``) to compile it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "reference"))

from mv2.format.fastcodec_cy import generate  # noqa: E402

TARGET = ROOT / "reference" / "mv2" / "format" / "_codec_c.pyx"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="write the generated source")
    ap.add_argument("--check", action="store_true", help="fail if the committed source differs")
    args = ap.parse_args()
    text = generate()
    if args.write:
        TARGET.write_text(text)
        print(f"wrote {TARGET.relative_to(ROOT)} ({len(text.splitlines())} lines)")
        return 0
    if TARGET.exists() and TARGET.read_text() == text:
        print(f"{TARGET.relative_to(ROOT)} is up to date")
        return 0
    print(f"{TARGET.relative_to(ROOT)} is stale: run tools/gen_codec.py --write", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
