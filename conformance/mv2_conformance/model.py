"""The runner's vocabulary: a case (one vector), its named checks, and a check's result.

A test id is ``<case id>:<check name>``, for example ``invalid/header.magic.001:code``. It is
what ``--only`` selects, what an expectations file lists and what a report names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REQUIRED, RECOMMENDED = "required", "recommended"

# Outcomes. crashed and timeout are failures whose cause is known; warned is a failed
# RECOMMENDED check; xfail and xpass come from an expectations file.
PASSED, FAILED, CRASHED, TIMEOUT, WARNED, SKIPPED, XFAIL, XPASS = (
    "passed", "failed", "crashed", "timeout", "warned", "skipped", "xfail", "xpass")
NOT_PASSED = (FAILED, CRASHED, TIMEOUT, WARNED)


@dataclass(frozen=True)
class Check:
    name: str
    needs: frozenset[str]  # adapter capabilities without which the check is skipped
    level: str = REQUIRED
    description: str = ""


@dataclass
class Result:
    outcome: str
    message: str = ""

    @classmethod
    def ok(cls) -> "Result":
        return cls(PASSED)

    @classmethod
    def fail(cls, message: str) -> "Result":
        return cls(FAILED, message)


@dataclass
class Case:
    """One vector and how to test it. ``run(session, active)`` returns a Result for each
    check name in ``active`` (the checks that are selected and whose capabilities exist)."""

    id: str
    family: str
    checks: list[Check]
    run: Callable[["object", set[str]], dict[str, Result]]
    files: list[Path] = field(default_factory=list)  # vector files the case reads (for listing)

    def check_id(self, check: Check) -> str:
        return f"{self.id}:{check.name}"


@dataclass
class CheckRecord:
    """A finished check as reported."""

    id: str
    family: str
    level: str
    outcome: str
    message: str = ""
    reason: str = ""  # the expectations file's reason, for xfail and xpass
    seconds: float = 0.0

    def to_json(self) -> dict:
        d = {"id": self.id, "family": self.family, "level": self.level, "outcome": self.outcome,
             "seconds": round(self.seconds, 4)}
        if self.message:
            d["message"] = self.message
        if self.reason:
            d["expected_failure"] = self.reason
        return d
