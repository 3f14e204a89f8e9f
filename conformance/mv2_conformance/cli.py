"""The ``mv2-conformance`` command line: ``run`` an adapter against the vectors, or ``list`` the tests.

Exit status of ``run``: 0 when nothing failed and nothing passed unexpectedly, 1 otherwise,
2 when the run could not happen (the adapter did not start, the vectors are damaged, bad
arguments).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .adapter import Adapter, AdapterError, parse_connector
from .crashes.explore import Settings
from .expectations import Expectations, ExpectationsError
from .families import crash_explore
from .runner import run, selected
from .vectors import VectorError, load_cases

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mv2-conformance", description="Check an MV2 implementation against the vectors.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the suite against an adapter")
    r.add_argument("--adapter", required=True, help='how to start the adapter: "proc:<command line>"')
    r.add_argument("--only", action="append", metavar="PATTERN",
                   help="run only tests whose id or case id matches this glob or starts with it (repeatable)")
    r.add_argument("--expect", metavar="FILE", help="expected-failures file of this implementation")
    r.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    r.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each reply (default 60)")
    r.add_argument("--vectors", type=Path, help="vectors directory (default: the checkout's vectors/)")
    r.add_argument("--keep", type=Path, metavar="DIR", help="leave the scratch copies in DIR")
    r.add_argument("--crash-states", type=int, default=100, metavar="N",
                   help="crash states judged per workload in crash-explore/* (default 100; sampled, seeded)")
    r.add_argument("--crash-seed", type=int, default=0, metavar="S", help="seed of the crash-state sampler (default 0)")
    r.add_argument("--crash-vectors", type=Path, metavar="DIR",
                   help="save a crash vector (files, trace slice, workload, verdict) for each kind of failure in DIR")
    r.add_argument("--crash-report", type=Path, metavar="FILE",
                   help="append each crash exploration's counts to FILE (JSON lines)")
    r.add_argument("-v", "--verbose", action="store_true", help="list every test, passed ones too, as it finishes")
    ls = sub.add_parser("list", help="list test ids")
    ls.add_argument("--only", action="append", metavar="PATTERN")
    ls.add_argument("--vectors", type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cases = load_cases(args.vectors)
    except VectorError as exc:
        print(f"mv2-conformance: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if args.command == "list":
        for case, checks in selected(cases, args.only):
            for c in checks:
                needs = ",".join(sorted(c.needs))
                print(f"{case.check_id(c)}\t{c.level}\t{needs}\t{c.description}")
        return EXIT_OK
    return _run(args, cases)


def _run(args, cases) -> int:
    if not selected(cases, args.only):
        print(f"mv2-conformance: no test matches {args.only}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    try:
        expectations = Expectations.load(args.expect) if args.expect else None
        argv = parse_connector(args.adapter)
    except (ExpectationsError, AdapterError) as exc:
        print(f"mv2-conformance: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    crash_explore.SETTINGS = Settings(budget=args.crash_states, seed=args.crash_seed, vectors=args.crash_vectors,
                                      report=args.crash_report)
    live = (lambda rec: print(f"{rec.outcome.upper():8} {rec.id}" + (f" — {rec.message}" if rec.message else ""),
                              flush=True)) if args.verbose else None
    try:
        with Adapter(argv, timeout=args.timeout) as adapter:
            report = run(cases, adapter, only=args.only, expectations=expectations, keep=args.keep, on_record=live)
    except AdapterError as exc:
        print(f"mv2-conformance: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    # With -v every test was listed live; the report repeats only what needs attention.
    print(report.text())
    if args.json:
        report.write_json(args.json)
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
