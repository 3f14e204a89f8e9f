"""A picture of a file's layout: every region of the verifier's region map, drawn to scale (spec 2).

:func:`render` turns an :class:`~mv2.storage.verify.Analysis` (its ``regions``, the map that
``mv2 inspect`` prints) into a standalone SVG document: one bar for the whole file, where the
write-ahead log usually dominates, and one for the data area after it, each to its own scale,
then a legend with the bytes each kind of region takes. Each drawn region carries a tooltip
with its name, offset, length and checksum status. Regions that failed their checksum are
outlined in red; stale manifests (which point at bytes another structure owns) are counted in
the legend but not drawn over their owners. The output depends only on the analysis, so the
same file always gives the same picture.

    mv2 inspect --svg layout.svg FILE
"""

from __future__ import annotations

import os
import sys
from xml.sax.saxutils import escape

from ..errors import StorageIOError
from .verify import Analysis, Region

WIDTH = 800
MARGIN = 16
BAR_H = 34

# kind -> (group shown in the legend, fill colour)
_GROUPS = [
    ("header", "header", "#5c6bc0"),
    ("wal", "write-ahead log", "#b0bec5"),
    ("wal-record", "WAL records", "#546e7a"),
    ("payload", "frame payloads", "#66bb6a"),
    ("lex", "full-text index (Tantivy)", "#42a5f5"),
    ("vec", "vector index", "#ab47bc"),
    ("time", "time index", "#ffa726"),
    ("temporal", "time index", "#ffa726"),
    ("sketch", "sketch track", "#26a69a"),
    ("catalog-lex", "catalog segments (parallel builder)", "#b39ddb"),
    ("catalog-vec", "catalog segments (parallel builder)", "#b39ddb"),
    ("catalog-time", "catalog segments (parallel builder)", "#b39ddb"),
    ("memories", "memories track", "#ec407a"),
    ("toc", "table of contents", "#fdd835"),
    ("footer", "commit footer", "#8d6e63"),
    ("gap", "unreferenced (earlier commits)", "#e0e0e0"),
]
_KIND = {k: (g, c) for k, g, c in _GROUPS}
_OTHER = ("other", "#9e9e9e")
_SHORT = {"header": "header", "write-ahead log": "WAL", "frame payloads": "payloads",
          "full-text index (Tantivy)": "Tantivy", "vector index": "vectors", "time index": "time",
          "table of contents": "TOC", "catalog segments (parallel builder)": "catalog", "unreferenced (earlier commits)": "unreferenced"}


def _group(r: Region) -> tuple[str, str]:
    return _KIND.get(r.kind, _OTHER)


def _n(x: int) -> str:
    return f"{x:,}"


def _size(x: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if x >= scale:
            return f"{x / scale:.1f} {unit}"
    return f"{x} B"


def _bar(regions: list[Region], lo: int, hi: int, y: int, label: str) -> list[str]:
    """One bar spanning bytes [lo, hi), to scale; WAL records as a strip inside the WAL."""
    x0, w = MARGIN, WIDTH - 2 * MARGIN
    span = max(hi - lo, 1)

    def sx(off: int) -> float:
        return x0 + w * (min(max(off, lo), hi) - lo) / span

    out = [f'<text x="{x0}" y="{y - 6}" class="label">{escape(label)}</text>',
           f'<rect x="{x0}" y="{y}" width="{w}" height="{BAR_H}" fill="#fafafa" stroke="#9e9e9e"/>']
    for r in regions:
        if r.status == "stale" or r.end <= lo or r.offset >= hi:
            continue
        group, fill = _group(r)
        a, b = sx(r.offset), sx(r.end)
        inner = r.kind == "wal-record"
        ry, rh = (y + BAR_H * 2 / 3, BAR_H / 3) if inner else (y, BAR_H)
        stroke = ' stroke="#d32f2f" stroke-width="2"' if r.status == "bad" else ""
        tip = f"{r.name}: bytes {_n(r.offset)}-{_n(r.end)} ({_n(r.length)} bytes), {r.covered_by}, {r.status}"
        out.append(f'<rect x="{a:.2f}" y="{ry:.2f}" width="{max(b - a, 0.5):.2f}" height="{rh:.2f}" '
                   f'fill="{fill}"{stroke}><title>{escape(tip)}</title></rect>')
    # Name each run of neighbouring regions of one kind where the run is wide enough to hold it.
    runs: list[list] = []
    for r in regions:
        if r.status == "stale" or r.kind == "wal-record" or r.end <= lo or r.offset >= hi:
            continue
        short = _SHORT.get(_group(r)[0], "")
        if runs and runs[-1][0] == short and r.offset <= runs[-1][2]:
            runs[-1][2] = max(runs[-1][2], r.end)
        else:
            runs.append([short, r.offset, r.end])
    for short, a, b in runs:
        if short and sx(b) - sx(a) >= 7 * len(short) + 8:
            out.append(f'<text x="{(sx(a) + sx(b)) / 2:.2f}" y="{y + BAR_H / 2 - 2:.2f}" class="in" '
                       f'text-anchor="middle">{escape(short)}</text>')
    out.append(f'<text x="{x0}" y="{y + BAR_H + 15}" class="tick">{_n(lo)}</text>')
    out.append(f'<text x="{x0 + w}" y="{y + BAR_H + 15}" class="tick" text-anchor="end">{_n(hi)}</text>')
    return out


def render(a: Analysis, *, title: str | None = None) -> str:
    """The SVG document for analysis ``a``."""
    regions = sorted(a.regions, key=lambda r: (r.offset, -r.length, r.name))
    size = max([a.size] + [r.end for r in regions if r.status != "stale"])
    wal = [r for r in regions if r.kind == "wal"]
    data_start = wal[0].end if wal else 4096
    title = title or os.path.basename(a.path)
    state = "valid" if a.ok else f"invalid: {a.first_error.code}"
    sub = (f"{_n(a.size)} bytes ({_size(a.size)}), TOC revision {a.revision or '?'}, generation "
           f"{a.generation if a.generation is not None else '?'}, {a.frame_count} frames, {state}")

    totals: dict[str, list] = {}
    for r in regions:
        if r.kind == "wal-record":
            continue  # inside the WAL region, already counted there
        group, fill = _group(r)
        t = totals.setdefault(group, [fill, 0, 0, 0])
        if r.status == "stale":
            t[2] += 1
        else:
            t[1] += r.length
        t[3] += r.status == "bad"
    order = list(dict.fromkeys(g for _, g, _ in _GROUPS)) + [_OTHER[0]]
    legend = [(g, *totals[g]) for g in order if g in totals]

    y = 28
    body = [f'<text x="{MARGIN}" y="{y}" class="title">{escape(title)}</text>',
            f'<text x="{MARGIN}" y="{y + 20}" class="sub">{escape(sub)}</text>']
    y += 62
    body += _bar(regions, 0, size, y, "the whole file, to scale (bytes)")
    y += BAR_H + 52
    body += _bar(regions, data_start, size, y, f"after the write-ahead log: bytes {_n(data_start)} to {_n(size)}, "
                                               "to scale")
    y += BAR_H + 40
    lines = []
    for group, fill, nbytes, stale, bad in legend:
        note = f"{group}: {_n(nbytes)} bytes, {100 * nbytes / max(a.size, 1):.1f}%"
        if stale:
            note += f"; {stale} stale manifest{'s' if stale > 1 else ''}, not drawn"
        if bad:
            note += f"; {bad} failed checksum"
        lines.append((fill, note))
    col_w = (WIDTH - 2 * MARGIN) // 2
    cols = 2 if max((len(n) for _, n in lines), default=0) * 7 + 24 < col_w else 1  # ~7 px a character
    for i, (fill, note) in enumerate(lines):
        cx = MARGIN + (i % cols) * col_w
        cy = y + (i // cols) * 22
        body.append(f'<rect x="{cx}" y="{cy - 11}" width="14" height="14" fill="{fill}" stroke="#757575" '
                    'stroke-width="0.5"/>')
        body.append(f'<text x="{cx + 20}" y="{cy}" class="legend">{escape(note)}</text>')
    height = y + ((len(lines) + cols - 1) // cols) * 22 + 8
    style = ("text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;fill:#212121}"
             ".title{font-size:17px;font-weight:600}.sub{font-size:13px;fill:#555}"
             ".label{font-size:13px}.tick{font-size:11px;fill:#666}.legend{font-size:12.5px}"
             ".in{font-size:11px;fill:#1a1a1a;pointer-events:none}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="mv2-layout" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}: '
            f'layout of its regions">\n<style>{style}</style>\n'
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>\n' + "\n".join(body) + "\n</svg>\n")


def write_svg(a: Analysis, dest: str) -> None:
    """Write the picture of ``a`` to the file ``dest`` (``-``: standard output)."""
    text = render(a)
    if dest == "-":
        sys.stdout.write(text)
        return
    try:
        with open(dest, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    except OSError as exc:
        raise StorageIOError(f"cannot write {dest}: {exc.strerror or exc}") from None
