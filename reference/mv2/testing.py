"""Golden-file checks for tests of code that writes memory files (a pytest plugin; spec 15.1).

A golden SHA-256 that fails says only "different". These helpers say *what* differs: on a
mismatch the assertion message is the comparison ``mv2 diff GOLDEN ACTUAL`` prints (frames,
texts, indexes, and which byte regions moved).

    def test_my_writer(tmp_path, mv2_golden):
        write_my_memory(tmp_path / "out.mv2")
        mv2_golden(tmp_path / "out.mv2", "tests/golden/out.mv2")

``pytest --mv2-update-golden`` copies each actual file over its golden file instead of failing.
The plugin is registered through the ``pytest11`` entry point, so installing ``mv2`` is enough;
:func:`assert_golden` works without pytest too.
"""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest


def file_sha256(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def assert_golden(actual, golden=None, *, sha256: str | None = None, limit: int = 30) -> None:
    """Assert that ``actual`` has the bytes of ``golden`` (a file), of ``sha256`` (hex), or both.

    On a mismatch the ``AssertionError`` carries the structural diff from ``golden`` to
    ``actual`` when there is a golden file to compare with."""
    from .diff import diff_files, format_text

    if golden is None and sha256 is None:
        raise TypeError("give a golden file, a sha256, or both")
    got = file_sha256(actual)
    want = sha256.lower() if sha256 is not None else file_sha256(golden)
    if golden is not None and sha256 is not None and file_sha256(golden) != want:
        raise AssertionError(f"the golden file {os.fspath(golden)} does not have the expected SHA-256 {want}: "
                             "update one or the other")
    if got == want:
        return
    msg = [f"{os.fspath(actual)}: SHA-256 {got}, expected {want}"]
    if golden is not None:
        msg.append(f"mv2 diff {os.fspath(golden)} {os.fspath(actual)}:")
        msg += ["  " + line for line in format_text(diff_files(golden, actual), limit=limit)]
    else:
        msg.append("(no golden file to compare with: pass one to see what differs)")
    raise AssertionError("\n".join(msg))


def pytest_addoption(parser) -> None:
    parser.addoption("--mv2-update-golden", action="store_true", default=False,
                     help="mv2_golden: copy each actual .mv2 file over its golden file instead of failing")


@pytest.fixture
def mv2_golden(request):
    """``mv2_golden(actual, golden, sha256=None)``: :func:`assert_golden`, or with
    ``--mv2-update-golden`` a copy of ``actual`` over ``golden``."""
    update = request.config.getoption("--mv2-update-golden", default=False)

    def check(actual, golden=None, *, sha256: str | None = None) -> None:
        if update and golden is not None:
            os.makedirs(os.path.dirname(os.path.abspath(golden)), exist_ok=True)
            shutil.copyfile(actual, golden)
            return
        assert_golden(actual, golden, sha256=sha256)

    return check
