"""A tour of mv2 on a real file written by memvid-sdk: verify it, map it, list it, dump it.

    python tools/demo.py [FILE]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "vectors" / "gold" / "memvid-sdk-2.0.160" / "put-loop.mv2"


def mv2(*args: str) -> str:
    exe = Path(sys.executable).with_name("mv2")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mv2.cli.main"]
    res = subprocess.run(cmd + list(args), capture_output=True, text=True)
    return res.stdout + res.stderr


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    print(f"== {path.name}: written by memvid-sdk; mv2 reads it without writing a byte\n")
    print("$ mv2 verify", path.name)
    print(mv2("verify", str(path)))
    print("$ mv2 inspect", path.name, "(first regions)")
    print("\n".join(mv2("inspect", str(path)).splitlines()[:16]), "\n")
    print("$ mv2 timeline --reverse --limit 3", path.name)
    print(mv2("timeline", str(path), "--reverse", "--limit", "3"))
    dump = json.loads(mv2("dump", str(path)))
    f = dump["frames"][0]
    print(f"$ mv2 dump {path.name}  -> {len(dump['frames'])} frames; frame 0:")
    print(json.dumps({k: f[k] for k in ("id", "uri", "title", "timestamp", "status", "tags", "payload_sha256")}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
