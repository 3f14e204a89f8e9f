"""The runner never imports an implementation: it reaches them all, the reference too, through HP/1."""

from __future__ import annotations

import ast
import os
import subprocess

from conformance_support import CONFORMANCE, PY, ROOT

PACKAGE = CONFORMANCE / "mv2_conformance"


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_module_of_the_runner_imports_mv2():
    offenders = [(p.relative_to(CONFORMANCE).as_posix(), m) for p in sorted(PACKAGE.rglob("*.py"))
                 for m in _imported_modules(p) if m == "mv2" or m.startswith("mv2.")]
    assert offenders == []
    assert len(list(PACKAGE.rglob("*.py"))) >= 10  # the scan saw the package


def test_loading_and_listing_leave_mv2_unimported():
    code = ("import sys, mv2_conformance.cli as c, mv2_conformance.runner, mv2_conformance.serve; "
            "c.main(['list', '--only', 'gold/memvid-sdk-2.0.160/single']); "
            "assert 'mv2' not in sys.modules, 'mv2 was imported'")
    res = subprocess.run([PY, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(CONFORMANCE)),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "gold/memvid-sdk-2.0.160/single:dump" in res.stdout
