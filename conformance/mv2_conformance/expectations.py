"""Expected-failure files: the known failures of one implementation, each with its reason.

One entry per line: a test id (or a glob such as ``valid/*:sha256``), then ``#`` and the
reason, which is required so that nobody has to guess later why a failure was accepted.
Blank lines and lines starting with ``#`` are comments. A listed test that fails is
reported ``xfail``; a listed test that passes is reported ``xpass`` and fails the run, so
that the file cannot silently go stale.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path


class ExpectationsError(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    pattern: str
    reason: str
    line: int


class Expectations:
    def __init__(self, entries: list[Entry] | None = None, source: str = ""):
        self.entries = entries or []
        self.source = source

    @classmethod
    def load(cls, path: str | Path) -> "Expectations":
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ExpectationsError(f"cannot read expectations file {p}: {exc}") from None
        return cls(parse(text, str(p)), str(p))

    def reason_for(self, test_id: str) -> str | None:
        for e in self.entries:
            if e.pattern == test_id or fnmatch.fnmatchcase(test_id, e.pattern):
                return e.reason
        return None

    def unused(self, test_ids: list[str]) -> list[Entry]:
        """Entries that match none of ``test_ids`` (a typo, or a test that no longer exists)."""
        return [e for e in self.entries
                if not any(e.pattern == t or fnmatch.fnmatchcase(t, e.pattern) for t in test_ids)]


def parse(text: str, source: str = "<expectations>") -> list[Entry]:
    entries = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, sep, reason = line.partition("#")
        pattern, reason = pattern.strip(), reason.strip()
        if not sep or not reason:
            raise ExpectationsError(f"{source}:{n}: give a reason after '#': {line!r}")
        if ":" not in pattern:
            raise ExpectationsError(f"{source}:{n}: {pattern!r} is not a test id (<case>:<check>)")
        entries.append(Entry(pattern, reason, n))
    return entries
