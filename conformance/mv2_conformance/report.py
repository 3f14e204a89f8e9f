"""Reports: the summary line, the text listing of what did not pass, and the JSON document.

The summary line is ``N passed, N failed, N xfail, N skipped``; ``warned`` and ``xpass``
counts are appended when there are any. ``failed`` includes crashes and timeouts (the text
names them). A run fails when anything failed or passed unexpectedly.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from . import CONTRACT_VERSION, PROTOCOL_VERSION, SUITE_VERSION
from .model import CRASHED, FAILED, PASSED, SKIPPED, TIMEOUT, WARNED, XFAIL, XPASS, CheckRecord

FAILING = (FAILED, CRASHED, TIMEOUT)
FAMILIES = ("valid", "gold", "invalid", "crash", "crash-explore", "determinism")


@dataclass
class Report:
    implementation: dict = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    records: list[CheckRecord] = field(default_factory=list)
    seconds: float = 0.0
    restarts: int = 0
    expectations: str = ""
    unused_expectations: list[str] = field(default_factory=list)

    def counts(self, family: str | None = None) -> Counter:
        c = Counter()
        for r in self.records:
            if family is None or r.family == family:
                c["failed" if r.outcome in FAILING else r.outcome] += 1
        return c

    @property
    def ok(self) -> bool:
        c = self.counts()
        return c["failed"] == 0 and c[XPASS] == 0

    def summary(self, family: str | None = None) -> str:
        c = self.counts(family)
        line = f"{c[PASSED]} passed, {c['failed']} failed, {c[XFAIL]} xfail, {c[SKIPPED]} skipped"
        extra = [f"{c[k]} {k}" for k in (WARNED, XPASS) if c[k]]
        return line + "".join(", " + e for e in extra)

    def text(self, verbose: bool = False) -> str:
        impl = self.implementation
        lines = [f"implementation: {impl.get('name')} {impl.get('version')}; capabilities: "
                 f"{', '.join(self.capabilities) or 'none'}"]
        if self.expectations:
            lines.append(f"expectations: {self.expectations}")
        shown = {FAILED, CRASHED, TIMEOUT, WARNED, XPASS} | ({PASSED, XFAIL, SKIPPED} if verbose else set())
        for r in self.records:
            if r.outcome in shown:
                tail = f" — {r.message}" if r.message else ""
                if r.reason:
                    tail += f" [expected: {r.reason}]"
                lines.append(f"{r.outcome.upper():8} {r.id}{tail}")
        for e in self.unused_expectations:
            lines.append(f"note: expectation matches no test that ran: {e}")
        for fam in FAMILIES:
            if any(r.family == fam for r in self.records):
                lines.append(f"  {fam + ':':9} {self.summary(fam)}")
        lines.append(f"{self.summary()} in {self.seconds:.1f} s"
                     + (f" ({self.restarts} adapter restart{'s' if self.restarts != 1 else ''})" if self.restarts else ""))
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "suite_version": SUITE_VERSION, "protocol": PROTOCOL_VERSION, "contract_version": CONTRACT_VERSION,
            "implementation": self.implementation, "capabilities": self.capabilities,
            "expectations": self.expectations or None,
            "summary": self.summary(), "ok": self.ok, "seconds": round(self.seconds, 3), "restarts": self.restarts,
            "counts": dict(self.counts()),
            "families": {f: dict(self.counts(f)) for f in FAMILIES if any(r.family == f for r in self.records)},
            "unused_expectations": self.unused_expectations,
            "results": [r.to_json() for r in self.records],
        }

    def write_json(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=1, ensure_ascii=False)
            f.write("\n")
