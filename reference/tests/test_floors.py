"""The declared dependency floors work: the lowest versions pyproject.toml allows run the CLI tests.

Slow (a fresh venv and an install): ``pytest -m slow reference/tests/test_floors.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT

# The extras the CLI tests need; pinned to their floors as well.
EXTRAS = "test"


def lowest_constraints() -> list[str]:
    """``name==floor`` for every requirement with a ``>=`` floor (exact pins stay as they are)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"][EXTRAS])
    out = []
    for r in reqs:
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*(.*)$", r.split(";")[0].strip())
        name, spec = m.group(1), m.group(2)
        floor = re.search(r">=\s*([0-9][^,\s]*)", spec)
        if floor:
            out.append(f"{name}=={floor.group(1)}")
    return out


def test_floors_are_declared_for_every_unpinned_dependency():
    names = {c.split("==")[0].lower() for c in lowest_constraints()}
    assert {"numpy", "typer", "click", "rich", "blake3"} <= names


@pytest.mark.slow
def test_cli_tests_pass_on_the_lowest_allowed_versions(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    constraints = tmp_path / "lowest.txt"
    constraints.write_text("\n".join(lowest_constraints()) + "\n", encoding="utf-8")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "-c", str(constraints), "-e", f"{ROOT}[{EXTRAS}]"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-4000:]
    listed = subprocess.run([str(py), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    for c in lowest_constraints():
        assert c.lower() in listed.lower(), f"{c} was not installed:\n{listed}"
    r = subprocess.run([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow and not interop",
                        "reference/tests/test_cli.py", "reference/tests/test_cli_write.py", "reference/tests/test_search.py"],
                       cwd=ROOT, capture_output=True, text=True, timeout=1800, env={**os.environ, "MEMVID_TELEMETRY": "0"})
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
