"""Finding the vectors and refusing damaged ones.

Every vector file is checked against the SHA-256 its manifest (or ``gold/SHA256SUMS``) gives
before any case is built: a suite whose inputs changed would judge implementations against
the wrong thing, so the runner stops instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from .canonical import file_sha256


class VectorError(Exception):
    """The vectors are missing or do not match their recorded hashes."""


def default_root() -> Path:
    """``vectors/`` of the checkout this package sits in, else ``./vectors``."""
    here = Path(__file__).resolve().parents[2] / "vectors"
    return here if here.is_dir() else Path.cwd() / "vectors"


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VectorError(f"missing: {path}") from None
    except json.JSONDecodeError as exc:
        raise VectorError(f"{path} is not JSON: {exc}") from None


class Integrity:
    """Collects hash mismatches so that one run reports all of them."""

    def __init__(self):
        self.problems: list[str] = []

    def check(self, path: Path, sha256: str) -> Path:
        if not path.is_file():
            self.problems.append(f"missing: {path}")
        elif file_sha256(path) != sha256:
            self.problems.append(f"{path}: SHA-256 differs from the manifest")
        return path

    def raise_if_any(self) -> None:
        if self.problems:
            raise VectorError("damaged vectors:\n  " + "\n  ".join(self.problems))


def load_cases(root: Path | None = None) -> list:
    from .families import crash, crash_explore, determinism, gold, invalid, valid

    root = root or default_root()
    if not root.is_dir():
        raise VectorError(f"no vectors directory at {root} (pass --vectors)")
    integrity = Integrity()
    cases = []
    for family in (valid, gold, invalid, crash, crash_explore, determinism):
        cases.extend(family.cases(root, integrity))
    integrity.raise_if_any()
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise VectorError("duplicate case ids in the manifests")
    return cases
