"""``mv2 import-v1``: a Memvid V1 memory (QR video + index JSON + FAISS file) into a new MV2 file.

The import itself is :func:`mv2.v1.import_v1`; this module is its command line: a progress
bar on a terminal, the report (what both copies gave, what only one did, what neither did)
as text or ``--json``, and the usual exit codes (0 imported, 1 the input is not a usable V1
memory, 2 the command cannot run: a missing file, a missing ``v1`` extra, bad arguments).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import MV2Error


def import_v1_cmd(
    video: Path = typer.Argument(..., help="The V1 video (.mp4 or .mkv)."),
    index_json: Path = typer.Argument(..., help="Its index JSON (NAME_index.json; NAME_index.faiss beside it)."),
    output: Path = typer.Argument(..., help="The MV2 file to write (must not exist)."),
    source: str = typer.Option("both", "--source", help="Which copy is authoritative where they disagree: both (they must agree), video or index. index does not decode the video."),
    timestamp: Optional[int] = typer.Option(None, "--timestamp", help="Unix time for every frame (default: the video file's mtime)."),
    faiss: Optional[Path] = typer.Option(None, "--faiss", help="The FAISS file, if not beside the index JSON."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Import a Memvid V1 memory: one frame per V1 frame, its vector and V1's chunk id and frame number kept."""
    from ..v1 import SOURCES, import_v1
    from ..v1.video import decoder_available
    from .main import EXIT_CANNOT_RUN, _fail, err

    if source not in SOURCES:
        err.print(f"mv2 import-v1: --source must be one of {', '.join(SOURCES)}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    if source != "index" and not decoder_available():
        err.print("mv2 import-v1: reading the video needs the v1 extra (pip install 'mv2[v1]'); "
                  "--source index imports from the index alone", markup=False, highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        with _progress() as progress:
            report = import_v1(video, index_json, output, source=source, timestamp=timestamp, faiss=faiss,
                               progress=progress)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return
    r = report
    read = "not decoded" if r.video_frames is None else f"{r.video_frames} frames"
    print(f"imported {video} ({read}) and {index_json} ({r.index_chunks} chunks) into {output}: "
          f"{r.frames_written} frames, {r.vectors_written} vectors ({r.model}), timestamps from {r.timestamp_source}")
    if r.video_frames is not None:
        print(f"  both copies agree: {r.agreeing} frames")
    if r.video_error:
        print(f"  the video could not be decoded past frame {r.video_frames}: {r.video_error}")
    for label, ids in (("video frames not readable (text from the index)", r.unreadable),
                       ("copies disagree (text from the " + r.source + ")", r.disagreeing),
                       ("only in the video (no vector)", r.video_only),
                       ("only in the index", r.index_only),
                       ("frame numbers the index skips (video not decoded)", r.index_gaps),
                       ("not imported (neither copy gives them)", r.not_imported),
                       ("vectors dropped (text is not the index's)", r.vectors_dropped)):
        if ids:
            print(f"  {label}: {len(ids)}: {', '.join(map(str, ids))}")
    print(f"  sha256 {r.sha256}")


class _progress:
    """A Rich progress bar on stderr while decoding and writing, when stderr is a terminal."""

    def __enter__(self):
        from .main import err

        if not err.is_terminal:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                             console=err, transient=True)
        self._bar.__enter__()
        self._tasks: dict[str, int] = {}
        return self.update

    def update(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task("decoding QR frames" if stage == "decode" else "writing frames", total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)

    def __exit__(self, *exc):
        if hasattr(self, "_bar"):
            self._bar.__exit__(*exc)
        return False
