"""Render the documentation site in headless Chromium and check its layout.

Builds the site (``mkdocs build --strict``), serves it on 127.0.0.1, opens the key pages at a
desktop width (1280 px) and a phone width (420 px) and fails when:

* the page scrolls sideways (the document is wider than the window);
* the top bar takes more than one row, or a navigation tab is hidden (1280 px);
* a page has fewer tables than it should, or a table has no borders or no room between its
  columns (the site's stylesheet did not apply), or an image did not load;
* the page loaded anything from another host (the site works offline);
* searching for a word of the WAL chapter does not find it.

Chromium is driven over the DevTools protocol on a pipe (no extra packages): the viewport is
set exactly, and a small script measures each page once it has loaded.
With ``--screenshots DIR`` it also saves a PNG of each page at each width.

    python tools/browser_check.py [--screenshots DIR] [--site DIR] [--chromium PATH]

Chromium is Debian's package (``apt-get install -y chromium``); ``--install`` runs that
when it is missing (root only). Exit 0: every check passed; 1: a check failed; 2: cannot run.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WIDTHS = (1280, 420)
HEIGHT = 900
# page (site path) -> the fewest tables it must render
PAGES = {"": 2, "spec/03-header/": 1, "benchmarks/": 3, "layout/": 0}

# Evaluated in the page once it has loaded: measurements of what the reader sees.
PROBE = r"""
new Promise(done => setTimeout(() => {
  const de = document.documentElement;
  const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]) || 0;
  const header = document.querySelector(".md-header");
  const tabs = document.querySelector(".md-tabs__list");
  const tabItems = tabs ? [...tabs.querySelectorAll(".md-tabs__item")] : [];
  const visible = el => el.offsetParent !== null && getComputedStyle(el).display !== "none";
  const tables = [...document.querySelectorAll(".md-content table")].map(t => {
    const td = t.querySelector("td") || t.querySelector("th");
    return {rows: t.rows.length,
            border: td ? px(td, "borderLeftWidth") : 0,
            padding: td ? px(td, "paddingLeft") : 0};
  });
  const wide = [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > de.clientWidth + 1
                  && !el.closest(".md-typeset__scrollwrap, pre, .highlight, .md-sidebar, .md-search")
                  && visible(el))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ")[0] : ""));
  const foreign = performance.getEntriesByType("resource").map(r => r.name)
    .filter(u => new URL(u).host !== location.host);
  done({
    width: de.clientWidth, scrollWidth: de.scrollWidth,
    headerHeight: header ? header.offsetHeight : null,
    tabsVisible: tabs ? visible(tabs) : false,
    tabsOverflow: tabs ? tabs.scrollWidth - tabs.clientWidth : 0,
    tabRows: new Set(tabItems.filter(visible).map(i => i.offsetTop)).size,
    tables, wide, foreign,
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    stylesheet: [...document.styleSheets].some(s => (s.href || "").endsWith("/extra.css")),
  });
}, 300))
"""


# Search: typed into the search box once its index has loaded; the hits' links.
SEARCH_QUERY, SEARCH_HIT = "checkpoint", "spec/04-wal/"
SEARCH_READY = r"""
new Promise(done => { const t0 = Date.now(); const poll = () => {
  const meta = document.querySelector(".md-search-result__meta");
  if ((meta && !/Initializing/i.test(meta.textContent)) || Date.now() - t0 > 15000) return done(true);
  setTimeout(poll, 100); }; poll(); })
"""
# The hits of the whole query: while it is being typed, the results of its first letters show
# (their links end in ?h=c, ?h=ch, ...); wait for those of the full word.
SEARCH_HITS = r"""
new Promise(done => { const t0 = Date.now(); const poll = () => {
  const items = [...document.querySelectorAll(".md-search-result__item a")].map(a => a.getAttribute("href"));
  const full = items.length && items.every(h => h.includes("h=QUERY"));
  if (full || Date.now() - t0 > 3000) return done(items);
  setTimeout(poll, 100); }; poll(); })
""".replace("QUERY", SEARCH_QUERY)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
    JSON messages separated by NUL bytes on file descriptors 3 and 4), so that the viewport can
    be set exactly (a headless window is never narrower than 500 px)."""

    def __init__(self, chromium: str, profile: Path):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def fds() -> None:  # in the child, before exec: the pipe ends become fds 3 and 4
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self._log = profile / "chromium.log"  # a file: an unread pipe would fill and stall the browser
        with open(self._log, "wb") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                         preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._seq = 0
        self._events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=self.session)

    def _read(self, timeout: float) -> dict:
        import select

        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._r], [], [], timeout)
            chunk = os.read(self._r, 1 << 20) if ready else b""
            if not chunk:
                tail = self._log.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(("chromium stopped answering" if ready else "chromium timed out")
                                   + (": " + " | ".join(tail) if tail else ""))
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params) -> dict:
        self._seq += 1
        msg = {"id": self._seq, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._seq:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        while True:
            for i, ev in enumerate(self._events):
                if ev.get("method") == method:
                    return self._events.pop(i)
            self._events.append(self._read(timeout))

    def open(self, url: str, width: int) -> None:
        s = self.session
        self.call("Emulation.setDeviceMetricsOverride", session=s, width=width, height=HEIGHT,
                  deviceScaleFactor=1, mobile=False)
        self._events.clear()
        self.call("Page.navigate", session=s, url=url)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", session=self.session, expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"probe failed: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def type_into(self, selector: str, text: str) -> None:
        """Focus ``selector`` and type ``text`` as a user would (trusted input events)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        for ch in text:  # key down (which inserts the character) and key up, as a keyboard sends them
            self.call("Input.dispatchKeyEvent", session=self.session, type="keyDown", key=ch, text=ch)
            self.call("Input.dispatchKeyEvent", session=self.session, type="keyUp", key=ch)

    def screenshot(self, dest: Path) -> None:
        import base64

        data = self.call("Page.captureScreenshot", session=self.session, format="png")["data"]
        dest.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except RuntimeError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


def problems(page: str, width: int, p: dict) -> list[str]:
    """What is wrong with the page as measured; empty when it looks right."""
    where = f"/{page} at {width} px"
    out = []
    if p["scrollWidth"] > p["width"]:
        out.append(f"{where}: scrolls sideways ({p['scrollWidth']} px of content in {p['width']} px; "
                   f"too wide: {', '.join(p['wide']) or 'unknown'})")
    if p["headerHeight"] is None or p["headerHeight"] > 64:
        out.append(f"{where}: the top bar is {p['headerHeight']} px tall (more than one row)")
    if width >= 1280:
        if not p["tabsVisible"]:
            out.append(f"{where}: the navigation tabs are not shown")
        elif p["tabRows"] != 1 or p["tabsOverflow"] > 0:
            out.append(f"{where}: the navigation tabs take {p['tabRows']} rows, {p['tabsOverflow']} px hidden")
    if len(p["tables"]) < PAGES.get(page, 0):
        out.append(f"{where}: {len(p['tables'])} tables rendered, expected at least {PAGES[page]}")
    for i, t in enumerate(p["tables"]):
        if t["border"] < 1 or t["padding"] < 8:
            out.append(f"{where}: table {i + 1} has border {t['border']} px and cell padding {t['padding']} px")
            break
    if p["brokenImages"]:
        out.append(f"{where}: images did not load: {', '.join(p['brokenImages'][:3])}")
    if not p["stylesheet"]:
        out.append(f"{where}: the site stylesheet (extra.css) is not loaded")
    if p["foreign"]:
        out.append(f"{where}: loaded from other hosts: {', '.join(p['foreign'][:3])}")
    return out


def build(dest: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(dest)], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    if res.returncode != 0:
        raise RuntimeError("mkdocs build --strict failed:\n" + res.stdout + res.stderr)


def check(site: Path, chromium: str, *, screenshots: Path | None = None) -> tuple[list[str], dict]:
    """Probe every page at every width; return (problems, measurements)."""
    server, base = serve(site)
    found: list[str] = []
    measured = {}
    with tempfile.TemporaryDirectory(prefix="mv2-chromium-") as profile:
        browser = Browser(chromium, Path(profile))
        try:
            for page in PAGES:
                for width in WIDTHS:
                    browser.open(base + page, width)
                    p = browser.evaluate(PROBE)
                    if screenshots is not None:
                        browser.screenshot(screenshots / f"{page.strip('/').replace('/', '-') or 'home'}-{width}.png")
                    measured[f"/{page}@{width}"] = p
                    found += problems(page, width, p)
            browser.open(base, WIDTHS[0])
            browser.evaluate(SEARCH_READY)
            hits = []
            for _ in range(15):  # a query typed while the search worker still loads its index is lost: retype
                browser.evaluate('document.querySelector(".md-search__input").value = ""')
                browser.type_into(".md-search__input", SEARCH_QUERY)
                hits = browser.evaluate(SEARCH_HITS)
                if any(SEARCH_HIT in h for h in hits):
                    break
            measured["search"] = hits
            if not any(SEARCH_HIT in h for h in hits):
                found.append(f'search: "{SEARCH_QUERY}" did not find /{SEARCH_HIT} (hits: {hits[:3]})')
        finally:
            browser.close()
            server.shutdown()
            server.server_close()
    return found, measured


def install_chromium() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("chromium is missing; install it with: sudo apt-get install -y chromium")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, help="an already built site (default: build one in a temporary directory)")
    ap.add_argument("--screenshots", type=Path, help="save a PNG of every page at every width here")
    ap.add_argument("--chromium", default=CHROMIUM)
    ap.add_argument("--install", action="store_true", help="apt-get install chromium if it is missing (root)")
    ap.add_argument("--json", action="store_true", help="print the measurements")
    args = ap.parse_args(argv)
    try:
        if not shutil.which(args.chromium):
            if not args.install:
                print(f"browser_check: {args.chromium} not found; install it with apt-get install -y chromium "
                      "(or pass --install)", file=sys.stderr)
                return 2
            install_chromium()
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mv2-site-") as tmp:
            site = args.site
            if site is None:
                site = Path(tmp) / "site"
                build(site)
            found, measured = check(site, args.chromium, screenshots=args.screenshots)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"browser_check: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(measured, indent=1, sort_keys=True))
    for line in found:
        print(line)
    print(f"{len(PAGES) * len(WIDTHS)} renderings, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
