"""`mv2 inspect --svg`: a file's regions drawn to scale, from the verifier's region map."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from typer.testing import CliRunner

from conftest import GOLD, ROOT
from mv2.cli.main import app
from mv2.storage.layout_svg import MARGIN, WIDTH, render
from mv2.storage.verify import analyze

SVG = "{http://www.w3.org/2000/svg}"
runner = CliRunner()


def drawn(svg: str) -> list[tuple[float, float, str]]:
    """(x, width, tooltip) of every drawn region, both bars."""
    root = ET.fromstring(svg)
    return [(float(r.get("x")), float(r.get("width")), r.find(f"{SVG}title").text)
            for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_regions_are_drawn_to_scale():
    path = GOLD / "memvid-sdk-2.0.160" / "vectors-384d.mv2"
    a = analyze(path)
    svg = render(a)
    rects = drawn(svg)
    live = [r for r in a.regions if r.status != "stale"]
    wal = next(r for r in a.regions if r.kind == "wal")
    # Every live region appears in the whole-file bar, and those after the WAL once more.
    assert len(rects) == len(live) + sum(r.end > wal.end for r in live)
    scale = (WIDTH - 2 * MARGIN) / a.size
    toc = next(r for r in a.regions if r.kind == "toc")
    x, w, tip = next(t for t in rects if t[2].startswith("TOC:"))  # the first: the whole-file bar
    assert abs(x - (MARGIN + toc.offset * scale)) < 0.01 and abs(w - toc.length * scale) < 0.01
    assert f"{toc.length:,} bytes" in tip and "ok" in tip
    # The stale vector manifest is counted, not drawn over the bytes that own it.
    assert any(r.status == "stale" for r in a.regions) and "1 stale manifest, not drawn" in svg
    assert render(analyze(path)) == svg  # the same file, the same picture


def test_a_failed_checksum_is_outlined_in_red():
    a = analyze(ROOT / "vectors" / "invalid" / "frame.hash.001.mv2")
    assert not a.ok and any(r.status == "bad" for r in a.regions)
    root = ET.fromstring(render(a))
    red = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#d32f2f"]
    assert red and all(", bad" in r.find(f"{SVG}title").text for r in red)
    assert "invalid: MV2-E-FRAME-HASH" in ET.tostring(root, encoding="unicode")


def test_inspect_svg_writes_the_picture(tmp_path):
    path = GOLD / "memvid-sdk-2.0.160" / "put-loop.mv2"
    out = tmp_path / "layout.svg"
    r = runner.invoke(app, ["inspect", "--svg", str(out), str(path)])
    assert r.exit_code == 0 and r.stdout == ""
    assert out.read_text(encoding="utf-8") == render(analyze(path))
    r = runner.invoke(app, ["inspect", "--svg", "-", str(path)])
    assert r.exit_code == 0 and r.stdout == render(analyze(path))
    r = runner.invoke(app, ["inspect", "--svg", str(tmp_path / "no" / "such" / "dir.svg"), str(path)])
    assert r.exit_code == 2 and "MV2-E-IO" in r.stderr and "Traceback" not in r.stderr
    bad = runner.invoke(app, ["inspect", "--svg", str(tmp_path / "bad.svg"),
                              str(ROOT / "vectors" / "invalid" / "frame.hash.001.mv2")])
    assert bad.exit_code == 1 and (tmp_path / "bad.svg").exists()


def test_every_vector_renders():
    """Gold, damaged and crashed files alike give a well-formed picture whose regions stay in the bars."""
    paths = sorted((ROOT / "vectors").rglob("*.mv2"))
    assert len(paths) > 50
    for p in paths:
        root = ET.fromstring(render(analyze(p)))
        for r in root.iter(f"{SVG}rect"):
            x, w = float(r.get("x", 0)), float(r.get("width"))
            assert x >= 0 and x + w <= WIDTH + 0.01, (p.name, r.get("x"), r.get("width"))
