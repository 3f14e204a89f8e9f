"""``mv2 diff`` and ``mv2 textconv``: comparing files, and the text view git diffs (spec 15.1, 15.6).

Exit codes follow diff(1): 0 the files are the same, 1 they differ, 2 the comparison could
not run (a file missing or unreadable). "The same" means byte-identical; with ``--logical``
it means the same frames, cards and indexes whatever the bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..errors import MV2Error


def _short(v, width: int = 60) -> str:
    s = json.dumps(v, ensure_ascii=False, sort_keys=True) if not isinstance(v, str) else repr(v)
    return s if len(s) <= width else s[: width - 1] + "…"


def _print_report(d, limit: int, out) -> None:
    from rich.table import Table

    for tag, s in (("A", d.a), ("B", d.b)):
        verdict = "valid" if s.ok else f"{s.error['code']} at byte {s.error['offset']}"
        print(f"{tag}: {s.path}  {s.size} bytes  sha256 {s.sha256[:16]}…  {s.revision}  generation {s.generation}  "
              f"{s.frames} frames  {verdict}")
    if d.identical:
        print("identical: same bytes")
        return
    print(f"frames: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, "
          f"{len(d.status_changes)} status changes" + ("  (logically the same)" if d.logically_same else ""))
    shown = 0
    for fid in d.removed:
        if shown < limit:
            print(f"- frame {fid} (only in A)")
        shown += 1
    for fid in d.added:
        if shown < limit:
            print(f"+ frame {fid} (only in B)")
        shown += 1
    for c in d.changed:
        if shown < limit:
            print(f"~ frame {c.id}")
            for k, (va, vb) in c.fields.items():
                print(f"    {k}: {_short(va)} -> {_short(vb)}")
            if c.text_diff:
                for line in c.text_diff.splitlines():
                    print("    " + line)
        shown += 1
    if shown > limit:
        print(f"… {shown - limit} more frame differences (--limit N, or --json for all)")
    cards = d.cards
    if any(cards.values()):
        print(f"memory cards: {len(cards['added'])} added, {len(cards['removed'])} removed, {len(cards['changed'])} changed")
    for name, side in sorted(d.indexes.items()):
        parts = [f"{k.replace('_', ' ')} {v[:20]}{'…' if len(v) > 20 else ''}" for k, v in side.items() if v]
        if parts:
            print(f"{name} index: " + "; ".join(parts))
    if d.regions is None:
        return
    print(f"bytes: first difference at byte {d.first_byte_difference}")
    diff = [r for r in d.regions if r.status != "same"]
    counts = {s: sum(r.status == s for r in d.regions) for s in ("same", "moved", "differ", "only-a", "only-b")}
    print("regions: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    if not diff:
        return
    t = Table()
    for col in ("region", "status", "A offset", "B offset", "first diff A", "first diff B", "covered by"):
        t.add_column(col, justify="right" if "offset" in col or "diff" in col else "left")
    for r in diff[:limit]:
        fd = r.first_difference or {}
        t.add_row(r.name, r.status, "" if r.a is None else str(r.a[0]), "" if r.b is None else str(r.b[0]),
                  str(fd.get("a", "")), str(fd.get("b", "")), r.covered_by)
    out.print(t)
    if len(diff) > limit:
        print(f"… {len(diff) - limit} more regions (--limit N, or --json for all)")


def textconv_lines(path):
    """The text git diffs for an .mv2 file: its canonical dump, one frame per block.

    Each frame is one line of canonical JSON (its Appendix A record without the text), then its
    text, one line per line, indented. git's line diff then shows frame-level changes."""
    from ..storage.snapshot import read_snapshot
    from ..storage.view import DUMP_VERSION, canonical_json, frame_record

    with read_snapshot(path) as snap:
        yield f"mv2 dump_version {DUMP_VERSION}: {len(snap.frames)} frames\n"
        for fs in snap.frames:
            rec = frame_record(snap, fs)
            text = rec.pop("text")
            yield f"frame {rec['id']} {rec['status']} " + canonical_json(rec)
            if text is None:
                yield "    (payload is not text)\n"
            else:
                for line in text.splitlines():
                    yield "    " + line + "\n"
        for card in snap.memory_cards() or []:
            yield "card " + canonical_json(card)


def register(app) -> None:
    from .main import EXIT_CANNOT_RUN, EXIT_CORRUPT, EXIT_OK, _fail, _file, out

    @app.command("diff")
    def diff_cmd(
        a: Path = typer.Argument(..., help="First file."),
        b: Path = typer.Argument(..., help="Second file."),
        json_out: bool = typer.Option(False, "--json", help="Print the whole comparison as JSON."),
        logical: bool = typer.Option(False, "--logical", help="Exit 0 when the files mean the same, whatever their bytes."),
        no_bytes: bool = typer.Option(False, "--no-bytes", help="Skip the byte-level region view."),
        limit: int = typer.Option(50, "--limit", min=1, help="Frames and regions listed in the table view."),
        context: int = typer.Option(3, "-U", "--context", min=0, help="Lines of context in text diffs."),
    ):
        """Compare two memory files: frames, statuses, texts, cards, indexes, and which byte regions differ.
        Exit 0 same, 1 different, 2 cannot run."""
        from ..diff import diff_files

        _file(a)
        _file(b)
        try:
            d = diff_files(a, b, byte_view=not no_bytes, context=context)
        except MV2Error as exc:
            _fail(exc, json_out)
            raise typer.Exit(EXIT_CANNOT_RUN)  # any failure to compare is trouble, as in diff(1)
        if json_out:
            print(json.dumps(d.to_json(), ensure_ascii=False, sort_keys=True))
        else:
            _print_report(d, limit, out)
        same = d.logically_same if logical else d.identical
        raise typer.Exit(EXIT_OK if same else EXIT_CORRUPT)

    @app.command("textconv")
    def textconv_cmd(file: Path):
        """Print FILE's canonical dump as lines (one frame per block), for git's diff textconv."""
        _file(file)
        try:
            for line in textconv_lines(file):
                sys.stdout.write(line)
        except MV2Error as exc:
            raise _fail(exc, False)
