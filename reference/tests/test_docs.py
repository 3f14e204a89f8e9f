"""The documentation site builds without warnings (its spec pages are spec/), its home page's
quick start works as written, and its key pages render in a real browser.

The browser check (tools/browser_check.py) needs Debian's chromium. The default run uses it
when /usr/bin/chromium is installed and skips otherwise; ``pytest -m slow`` installs it with
apt-get first when it is missing and the tests run as root, so that the check is never
silently skipped there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import browser_check  # noqa: E402

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    dest = tmp_path_factory.mktemp("site") / "site"
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(dest)],
                         cwd=ROOT, capture_output=True, text=True, env=ENV)
    assert res.returncode == 0, res.stdout + res.stderr
    return dest


def test_mkdocs_build_strict(site):
    # The conformance suite's own documents are pages, generated from the files beside the code.
    for page in ("conformance/protocol", "conformance/interpreting", "conformance/hp1-schema",
                 "conformance/adapter-template"):
        assert (site / page / "index.html").is_file(), page
    proto = (site / "conformance" / "protocol" / "index.html").read_text(encoding="utf-8")
    assert "Transport" in proto and 'href="../hp1-schema/"' in proto
    assert (site / "conformance" / "hp1.schema.json").read_bytes() == \
        (ROOT / "conformance" / "protocol" / "hp1.schema.json").read_bytes()
    assert (site / "search" / "search_index.json").is_file()


def test_home_quick_start_runs_as_written(tmp_path):
    """The Python block of the home page's quick start prints what the page says it prints."""
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    section = text.split("## Quick start: keep a memory", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    (tmp_path / "quickstart.py").write_text(code, encoding="utf-8")
    res = subprocess.run([sys.executable, "quickstart.py"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == shown


def _chromium(request) -> str:
    if shutil.which(browser_check.CHROMIUM):
        return browser_check.CHROMIUM
    if request.node.get_closest_marker("slow") and os.geteuid() == 0:
        browser_check.install_chromium()
        return browser_check.CHROMIUM
    pytest.skip("chromium is not installed (apt-get install -y chromium, or run pytest -m slow as root)")


def _browser_check(request, site, tmp_path):
    chromium = _chromium(request)
    found, measured = browser_check.check(site, chromium, screenshots=tmp_path)
    assert found == []
    hits = measured.pop("search")
    assert any(h.split("?")[0].endswith("/spec/04-wal/") for h in hits)
    assert set(measured) == {f"/{p}@{w}" for p in browser_check.PAGES for w in browser_check.WIDTHS}
    assert all(m["width"] == int(k.rsplit("@", 1)[1]) for k, m in measured.items())  # the viewport was exact
    assert len(list(tmp_path.glob("*.png"))) == len(measured)


def test_site_renders_in_chromium(request, site, tmp_path):
    _browser_check(request, site, tmp_path)


@pytest.mark.slow
def test_site_renders_in_chromium_installing_it(request, site, tmp_path):
    _browser_check(request, site, tmp_path)


def test_browser_check_sees_broken_layout():
    """The probe's verdicts: a page that scrolls sideways, a wrapped top bar and unstyled or
    missing tables are each reported."""
    good = {"width": 1280, "scrollWidth": 1280, "headerHeight": 48, "tabsVisible": True, "tabsOverflow": 0,
            "tabRows": 1, "tables": [{"rows": 3, "border": 1, "padding": 12}], "wide": [], "foreign": [],
            "stylesheet": True, "brokenImages": []}
    assert browser_check.problems("spec/03-header/", 1280, good) == []
    cases = {"scrolls sideways": {"scrollWidth": 1400, "wide": ["table"]},
             "more than one row": {"headerHeight": 96},
             "tabs take 2 rows": {"tabRows": 2},
             "expected at least": {"tables": []},
             "cell padding 0": {"tables": [{"rows": 3, "border": 0, "padding": 0}]},
             "extra.css": {"stylesheet": False},
             "other hosts": {"foreign": ["https://fonts.example/x.css"]},
             "images did not load": {"brokenImages": ["http://127.0.0.1/img/plot.png"]}}
    for words, change in cases.items():
        found = browser_check.problems("spec/03-header/", 1280, {**good, **change})
        assert len(found) == 1 and words in found[0], (words, found)


def test_implementers_guide_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "implementers.md" in nav and (ROOT / "docs" / "implementers.md").exists()
    guide = (ROOT / "docs" / "implementers.md").read_text(encoding="utf-8")
    for page in ("conformance/protocol.md", "conformance/hp1-schema.md", "conformance/adapter-template.md"):
        assert f"]({page})" in guide, page
