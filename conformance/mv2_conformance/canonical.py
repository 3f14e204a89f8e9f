"""Canonical JSON, the hashes the manifests use, and a readable first difference between dumps.

The runner judges an implementation's dump by its value, not its formatting: it parses what
the adapter wrote and compares values, so an adapter need not reproduce canonical text
byte for byte (the manifests' hashes are taken over the canonical text of the value).
"""

from __future__ import annotations

import hashlib
import json


def canonical_text(value) -> str:
    """Appendix A.2 of the specification: sorted members, no whitespace, UTF-8, final newline."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def crash_dump_hash(dump: dict) -> str:
    """The crash manifest's ``dump_hash``: canonical JSON of {dump_version, frames} without
    each frame's ``pending`` member and without the final newline.

    ``pending`` is dropped because a recovered file has committed what was pending; whether a
    reader still calls a frame pending says nothing about what the file holds."""
    frames = [{k: v for k, v in f.items() if k != "pending"} for f in dump["frames"]]
    text = json.dumps({"dump_version": dump["dump_version"], "frames": frames}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return sha256_hex(text.encode("utf-8"))


def _short(v) -> str:
    s = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return s if len(s) <= 80 else s[:77] + "..."


def first_difference(got, want, path: str = "$") -> str | None:
    """Where two JSON values first differ, as ``path: got X, expected Y``; None when equal.

    Numbers compare by value (1 equals 1.0), as JSON does not distinguish them; bool is not a
    number here, because ``true`` and ``1`` are different dump values."""
    if isinstance(got, bool) or isinstance(want, bool):
        return None if (type(got) is type(want) and got == want) else f"{path}: got {_short(got)}, expected {_short(want)}"
    if isinstance(got, dict) and isinstance(want, dict):
        missing = sorted(set(want) - set(got))
        if missing:
            return f"{path}: member {missing[0]!r} missing"
        extra = sorted(set(got) - set(want))
        if extra:
            return f"{path}: unexpected member {extra[0]!r}"
        for key in sorted(want):
            d = first_difference(got[key], want[key], f"{path}.{key}")
            if d:
                return d
        return None
    if isinstance(got, list) and isinstance(want, list):
        for i, (g, w) in enumerate(zip(got, want)):
            d = first_difference(g, w, f"{path}[{i}]")
            if d:
                return d
        if len(got) != len(want):
            return f"{path}: {len(got)} items, expected {len(want)}"
        return None
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(want, numbers):
        return None if got == want else f"{path}: got {_short(got)}, expected {_short(want)}"
    if type(got) is not type(want) or got != want:
        return f"{path}: got {_short(got)}, expected {_short(want)}"
    return None
