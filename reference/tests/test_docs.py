"""The documentation site builds without warnings (its spec pages are spec/)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


def test_mkdocs_build_strict(tmp_path):
    if shutil.which("mkdocs") is None and not (ROOT / ".venv" / "bin" / "mkdocs").exists():
        pytest.importorskip("mkdocs")
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_site_pages_show_the_repository_files():
    """The protocol schema and adapter template pages are the files themselves (tools/site_pages.py)."""
    import site_pages

    assert site_pages.process(write=False) == []


def test_implementers_guide_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in ("implementers.md", "protocol/hp1.md", "protocol/schema.md", "protocol/interpreting.md",
                 "protocol/adapter-template.md"):
        assert page in nav and (ROOT / "docs" / page).exists(), page
