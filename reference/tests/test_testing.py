"""mv2.testing: golden-file assertions that explain a mismatch; mv2 apply --expect-sha256."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

import mv2
from mv2.cli.main import app
from mv2.testing import assert_golden

runner = CliRunner()


def write(path, text):
    with mv2.create(path) as m:
        m.put(text, uri="mv2://note", timestamp=1700000000)
    return path


def sha(p) -> str:
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


@pytest.mark.req("R-DIF-001", "R-DIF-002")
def test_assert_golden_explains_a_mismatch(tmp_path):
    golden = write(tmp_path / "golden.mv2", "alpha\nbeta\n")
    same = write(tmp_path / "same.mv2", "alpha\nbeta\n")
    other = write(tmp_path / "other.mv2", "alpha\nBETA\n")
    assert_golden(same, golden)
    assert_golden(same, sha256=sha(golden))
    assert_golden(same, golden, sha256=sha(golden).upper())
    with pytest.raises(AssertionError) as ei:
        assert_golden(other, golden)
    msg = str(ei.value)
    assert msg.startswith(f"{other}: SHA-256 {sha(other)}, expected {sha(golden)}")
    assert "~ frame 0" in msg and "-beta" in msg and "+BETA" in msg and "payload frame 0" in msg
    with pytest.raises(AssertionError, match="no golden file"):
        assert_golden(other, sha256=sha(golden))
    with pytest.raises(AssertionError, match="does not have the expected SHA-256"):
        assert_golden(same, golden, sha256=sha(other))


def test_pytest_fixture_and_update_option(tmp_path):
    golden = write(tmp_path / "golden.mv2", "old text\n")
    (tmp_path / "test_user.py").write_text(textwrap.dedent(f"""
        import mv2
        def test_writer(tmp_path, mv2_golden):
            out = tmp_path / "out.mv2"
            with mv2.create(out) as m:
                m.put("new text\\n", uri="mv2://note", timestamp=1700000000)
            mv2_golden(out, {str(golden)!r})
    """))
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    env["MEMVID_TELEMETRY"] = "0"  # the plugin is found through its entry point

    def pytest_run(*extra):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py", *extra],
                              cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)

    r = pytest_run()
    assert r.returncode == 1 and "-old text" in r.stdout and "+new text" in r.stdout
    assert pytest_run("--mv2-update-golden").returncode == 0
    # The golden file now holds what the test wrote (the writer is deterministic).
    assert sha(golden) == sha(write(tmp_path / "expected.mv2", "new text\n"))


def test_apply_expect_sha256(tmp_path):
    script = tmp_path / "ops.jsonl"
    script.write_text('{"op":"put","text":"hello","timestamp":1700000000}\n')
    r = runner.invoke(app, ["apply", str(script), str(tmp_path / "a.mv2")])
    digest = sha(tmp_path / "a.mv2")
    ok = runner.invoke(app, ["apply", str(script), str(tmp_path / "b.mv2"), "--expect-sha256", digest])
    assert r.exit_code == 0 and ok.exit_code == 0
    bad = runner.invoke(app, ["apply", str(script), str(tmp_path / "c.mv2"), "--expect-sha256", "0" * 64])
    assert bad.exit_code == 1 and digest in bad.stdout
