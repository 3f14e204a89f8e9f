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


def textconv_lines(path):
    """The text git diffs for an .mv2 file: its canonical dump, one frame per block.

    Each frame is a line ``frame ID STATUS URI`` and its canonical JSON (its Appendix A record
    without the text), then its
    text, one line per line, indented. git's line diff then shows frame-level changes."""
    from ..storage.snapshot import read_snapshot
    from ..storage.view import DUMP_VERSION, canonical_json, frame_record

    with read_snapshot(path) as snap:
        yield f"mv2 dump_version {DUMP_VERSION}: {len(snap.frames)} frames\n"
        for fs in snap.frames:
            rec = frame_record(snap, fs)
            text = rec.pop("text")
            yield f"frame {rec['id']} {rec['status']} {rec['uri']} " + canonical_json(rec)
            if text is None:
                yield "    (payload is not text)\n"
            else:
                for line in text.splitlines():
                    yield "    " + line + "\n"
        for card in snap.memory_cards() or []:
            yield "card " + canonical_json(card)


def register(app) -> None:
    from .main import EXIT_CANNOT_RUN, EXIT_CORRUPT, EXIT_OK, _fail, _file

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
        from ..diff import diff_files, format_text

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
            sys.stdout.write("".join(line + "\n" for line in format_text(d, limit=limit)))
        same = d.logically_same if logical else d.identical
        raise typer.Exit(EXIT_OK if same else EXIT_CORRUPT)

    @app.command("textconv")
    def textconv_cmd(file: Path = typer.Argument(..., help="Memory file.")):
        """Print FILE's canonical dump as lines (one frame per block), for git's diff textconv."""
        _file(file)
        try:
            for line in textconv_lines(file):
                sys.stdout.write(line)
        except MV2Error as exc:
            raise _fail(exc, False)
