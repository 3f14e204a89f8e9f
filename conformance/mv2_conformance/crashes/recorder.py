"""Building the iotrace recorder and starting an adapter under it.

The recorder is ``iotrace.c``, compiled here with the machine's C compiler (``$CC``, else
``cc``/``gcc``) into a cache directory keyed by the source's hash, and loaded into the adapter
with ``LD_PRELOAD``. It was chosen over strace because it needs no package and costs little;
the measurements that decided it are in docs/conformance.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "iotrace.c"


class RecorderUnavailable(Exception):
    """No C compiler, or the recorder does not build here: the checks that need it are skipped."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mv2-conformance"


def build(out_dir: Path | None = None) -> Path:
    """The path of the compiled recorder, building it if this source was not built yet."""
    src = SOURCE.read_bytes()
    digest = hashlib.sha256(src).hexdigest()[:16]
    out_dir = out_dir or cache_dir()
    lib = out_dir / f"iotrace-{digest}.so"
    if lib.is_file():
        return lib
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RecorderUnavailable("no C compiler (cc or gcc) to build the system-call recorder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".so")  # built aside, renamed: parallel runs may race
        os.close(fd)
    except OSError as exc:
        raise RecorderUnavailable(f"cannot write the recorder to {out_dir}: {exc}") from None
    res = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE), "-ldl", "-lpthread"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        os.unlink(tmp)
        raise RecorderUnavailable(f"the recorder does not build: {res.stderr.strip()[-500:]}")
    os.replace(tmp, lib)
    return lib


def environment(lib: Path, trace: Path, tmpdir: Path) -> dict[str, str]:
    """The adapter's environment under the recorder: the trace file, and a temporary directory
    of its own so that scratch files land where the crash states include them."""
    env = dict(os.environ)
    preload = env.get("LD_PRELOAD")
    env.update(LD_PRELOAD=str(lib) + (" " + preload if preload else ""), MV2_IOTRACE=str(trace),
               TMPDIR=str(tmpdir), MEMVID_TELEMETRY="0",
               UV_USE_IO_URING="0")  # Node's libuv would otherwise submit file writes through io_uring
    return env
