"""The ``mv2`` command line (spec: "Command line" in the docs).

Exit codes are part of the interface: 0 success (for ``verify``: the file is valid), 1 the
file is corrupt or the requested item does not exist, 2 the command could not run (missing
file, I/O error, bad arguments). Commands whose output is data take ``--json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import MV2Error, NotFoundError
from ..storage.snapshot import read_snapshot
from ..storage.verify import analyze
from ..storage.view import canonical_json, dump, frame_text

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Read, verify and write MV2 memory files.")
# Tables stay legible when piped: a terminal keeps its own width, anything else gets 160.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

EXIT_OK, EXIT_CORRUPT, EXIT_CANNOT_RUN = 0, 1, 2


def _fail(exc: MV2Error, as_json: bool) -> "typer.Exit":
    code = EXIT_CANNOT_RUN if exc.kind in ("io", "usage") and not isinstance(exc, NotFoundError) else EXIT_CORRUPT
    if as_json:
        print(json.dumps({"ok": False, "error": exc.to_json()}))
    else:
        err.print(f"[red]{exc.code}[/red] {'at byte ' + str(exc.offset) + ': ' if exc.offset is not None else ''}{exc.message}", highlight=False)
    return typer.Exit(code)


def _file(path: Path) -> Path:
    if not path.exists():
        err.print(f"mv2: no such file: {path}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    if not path.is_file():
        err.print(f"mv2: not a regular file: {path}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    return path


@app.command()
def verify(file: Path, json_out: bool = typer.Option(False, "--json", help="Print the report as JSON.")):
    """Check every checksum and invariant. Exit 0 if valid, 1 if corrupt (code on stdout), 2 if it cannot run."""
    _file(file)
    try:
        a = analyze(file)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps(a.to_json(), sort_keys=True))
    elif a.ok:
        print(f"ok {file} ({a.revision}, {a.frame_count} frames, generation {a.generation}"
              + (f", {a.pending} pending WAL records" if a.pending else "") + ")")
        for w in a.warnings:
            print(f"warning {w.code} at byte {w.offset}: {w.message}")
    else:
        e = a.first_error
        print(f"{e.code} at byte {e.offset}: {e.message}")
    raise typer.Exit(EXIT_OK if a.ok else EXIT_CORRUPT)


@app.command()
def inspect(file: Path, json_out: bool = typer.Option(False, "--json")):
    """Map every region of the file: name, offset, length, what checksum covers it and whether it matches."""
    _file(file)
    try:
        a = analyze(file, keep_snapshot=True)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    snap = a.snapshot
    info = a.to_json()
    if snap is not None:
        from ..convert import writer_hints

        info.update(spec_version=f"{snap.header['spec_major']}.{snap.header['spec_minor']}",
                    written_by_revision=snap.revision.written_by, **writer_hints(snap))
        h = snap.header
        info.update(wal_size=h["wal_size"], wal_sequence=h["wal_sequence"], wal_checkpoint_pos=h["wal_checkpoint_pos"],
                    toc_offset=snap.commit.toc_offset, toc_len=snap.commit.toc_len)
        snap.close()
    info["regions"] = [r.to_json() for r in a.regions]
    if json_out:
        print(json.dumps(info, sort_keys=True))
    else:
        out.print(f"[bold]{file}[/bold]  {info['size']} bytes  spec {info.get('spec_version')}  TOC revision {info['revision']}  "
                  f"WAL {info.get('wal_size')} bytes  generation {info['generation']}  frames {info['frames']}  "
                  f"pending {info['pending_wal_records']}", highlight=False)
        if info.get("writer"):
            out.print(f"writer (from the bytes): {info['writer']}; Tantivy segments named by {info['segment_naming']}; "
                      f"revision first written by {info.get('written_by_revision')}", highlight=False)
        t = Table(show_lines=False)
        for col in ("offset", "length", "end", "region", "covered by", "status"):
            t.add_column(col, justify="right" if col in ("offset", "length", "end") else "left")
        colour = {"ok": "green", "bad": "red", "stale": "yellow", "uncovered": "magenta", "unchecked": "white"}
        for r in a.regions:
            t.add_row(str(r.offset), str(r.length), str(r.end), r.name, r.covered_by, f"[{colour[r.status]}]{r.status}[/]")
        out.print(t)
        if a.first_error:
            e = a.first_error
            out.print(f"[red]{e.code}[/red] at byte {e.offset}: {e.message}", highlight=False)
        for w in a.warnings:
            out.print(f"[yellow]{w.code}[/yellow] at byte {w.offset}: {w.message}", highlight=False)
    raise typer.Exit(EXIT_OK if a.ok else EXIT_CORRUPT)


@app.command("dump")
def dump_cmd(file: Path, output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout.")):
    """Print the canonical JSON logical view (every frame, every status)."""
    _file(file)
    try:
        with read_snapshot(file) as snap:
            text = canonical_json(dump(snap))
    except MV2Error as exc:
        raise _fail(exc, False)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _find_frame(snap, ref: str):
    if ref.isdigit():
        fid = int(ref)
        if fid < len(snap.frames):
            return snap.frames[fid]
        raise NotFoundError(f"no frame with id {fid} (the file has {len(snap.frames)})")
    matches = [fr for fr in snap.frames if fr.fields["uri"] == ref]
    if not matches:
        raise NotFoundError(f"no frame with URI {ref!r}")
    return matches[-1]  # memvid's frame(uri): the newest frame with that URI


@app.command()
def cat(file: Path, ref: str = typer.Argument(..., help="Frame id or URI (the newest frame with that URI).")):
    """Write a frame's payload bytes (decompressed) to stdout."""
    _file(file)
    try:
        with read_snapshot(file) as snap:
            fr = _find_frame(snap, ref)
            data = snap.canonical_payload(fr)
    except MV2Error as exc:
        raise _fail(exc, False)
    sys.stdout.buffer.write(data)


@app.command()
def timeline(
    file: Path,
    since: Optional[int] = typer.Option(None, help="Only frames with timestamp >= SINCE (Unix seconds)."),
    until: Optional[int] = typer.Option(None, help="Only frames with timestamp <= UNTIL."),
    reverse: bool = typer.Option(False, "--reverse", help="Newest first."),
    limit: Optional[int] = typer.Option(None, min=0),
    json_out: bool = typer.Option(False, "--json"),
):
    """List active documents in time order, as memvid's timeline does."""
    from ..index.time import timeline as build

    _file(file)
    try:
        with read_snapshot(file) as snap:
            entries = build(snap, lambda fr: frame_text(snap, fr), since=since, until=until, reverse=reverse, limit=limit)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps({"entries": [e.to_json() for e in entries]}, ensure_ascii=False))
        return
    t = Table()
    for col in ("id", "timestamp", "uri", "preview"):
        t.add_column(col)
    for e in entries:
        t.add_row(str(e.frame_id), str(e.timestamp), e.uri or "", e.preview.replace("\n", " ⏎ "))
    out.print(t)


@app.command("apply")
def apply_cmd(
    script: Path = typer.Argument(..., help="Operation script (JSON Lines)."),
    file: Path = typer.Argument(..., help="Memory file; created if it does not exist."),
    wal_size: Optional[int] = typer.Option(None, help="WAL size for a new file (bytes)."),
    wal_grow_limit: Optional[int] = typer.Option(None, help="Largest size a full WAL grows to before the writer commits instead (spec 4.4)."),
    compact_min_dead: Optional[int] = typer.Option(None, help="Dead bytes a commit must leave before it is written compacted (spec 12.6)."),
    json_out: bool = typer.Option(False, "--json"),
):
    """Apply an operation script to FILE (created if missing). Deterministic: same script and parameters, same bytes."""
    import hashlib

    from ..script import run_file

    if not script.is_file():
        err.print(f"mv2: no such script: {script}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        policy = {k: v for k, v in (("wal_grow_limit", wal_grow_limit), ("compact_min_dead", compact_min_dead)) if v is not None}
        ids = run_file(script, file, wal_size=wal_size, policy=policy)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    if json_out:
        print(json.dumps({"ok": True, "frame_ids": ids, "sha256": digest}))
    else:
        print(f"applied {script} to {file}: {len(ids)} frame(s) created; sha256 {digest}")


@app.command()
def recover(file: Path, json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
            salvage: bool = typer.Option(False, "--salvage", help="Cut a damaged WAL before the damage, dropping the intact records after it (loses acknowledged data; reported)."),
            rollback: bool = typer.Option(False, "--rollback", help="Fall back to the last valid commit when the newest one is damaged (loses what it held)."),
            ):
    """Recover FILE after a crash: replay pending WAL records and commit them (needs the write lock).

    Recovery never discards acknowledged data on its own: damage is reported, and only
    --salvage or --rollback accept a loss."""
    from ..memory import open as open_memory

    _file(file)
    try:
        with open_memory(file, "a", salvage=salvage, rollback=rollback) as mem:
            report = dict(mem.recovery)
            frames = mem.frame_count
    except MV2Error as exc:
        raise _fail(exc, json_out)
    report["frames"] = frames
    if json_out:
        print(json.dumps(report, default=list))
    else:
        torn = report.get("torn_tail")
        if report.get("salvaged"):
            sv = report["salvaged"]
            print(f"salvaged: the WAL was cut at byte {sv['damage_at']} ({sv['code']}); "
                  f"{sv['intact_records_dropped']} intact record(s) after the damage were dropped")
        for note in report.get("notes", []):
            print(note)
        print(f"recovered {file}: {report['pending_records']} pending record(s) committed, "
              f"{'a torn WAL tail was cut' if torn else 'no torn WAL tail'}, "
              f"{'the header was repaired' if report.get('header_was_stale') else 'header current'}; {frames} frames")


@app.command()
def compact(file: Path, json_out: bool = typer.Option(False, "--json")):
    """Rewrite FILE without the bytes no commit uses any more (old indexes and TOCs). Every frame stays."""
    from ..memory import open as open_memory

    _file(file)
    try:
        with open_memory(file, "a") as mem:
            report = mem.compact()
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps(report))
    else:
        saved = report["before"] - report["after"]
        print(f"compacted {file}: {report['before']:,} -> {report['after']:,} bytes ({saved:,} bytes of dead data dropped)")


@app.command()
def find(
    file: Path,
    query: str,
    k: int = typer.Option(10, "-k", help="Number of hits."),
    mode: str = typer.Option("lex", "--mode", help="lex | vec | hybrid"),
    since: Optional[int] = typer.Option(None, help="Only frames with timestamp >= SINCE."),
    until: Optional[int] = typer.Option(None, help="Only frames with timestamp <= UNTIL."),
    include: str = typer.Option("active", help="Statuses to search, comma-separated: active,superseded,deleted."),
    vector: Optional[str] = typer.Option(None, help="Query vector as JSON (for --mode vec/hybrid)."),
    memvid_compatible: bool = typer.Option(False, "--memvid-compatible",
                                           help="Apply memvid's sketch pre-filter: hits equal memvid-sdk's, recall is lower."),
    json_out: bool = typer.Option(False, "--json"),
):
    """Search FILE. --json prints {"hits": [{frame_id, uri, title, score, snippet}, ...]}."""
    from ..memory import open as open_memory

    _file(file)
    try:
        vec = json.loads(vector) if vector else None
    except json.JSONDecodeError:
        err.print("mv2: --vector must be a JSON array of numbers")
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        with open_memory(file) as mem:
            hits = mem.find(query, k=k, mode=mode, since=since, until=until, include=tuple(include.split(",")),
                            vector=vec, prefilter=memvid_compatible)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        keys = ("frame_id", "uri", "title", "score", "snippet")
        print(json.dumps({"hits": [{key: h[key] for key in keys} for h in hits]}, ensure_ascii=False))
        return
    t = Table()
    for col in ("rank", "id", "score", "uri", "snippet"):
        t.add_column(col)
    for h in hits:
        t.add_row(str(h["rank"]), str(h["frame_id"]), f"{h['score']:.4f}", h["uri"] or "",
                  (h["snippet"] or "")[:160].replace("\n", " ⏎ "))
    out.print(t)


@app.command()
def ask(file: Path, question: str, k: int = typer.Option(5, "-k"), json_out: bool = typer.Option(False, "--json")):
    """Answer QUESTION from FILE's frames: the best-matching sentences, each citing its frame id."""
    from ..memory import open as open_memory

    _file(file)
    try:
        with open_memory(file) as mem:
            res = mem.ask(question, k=k)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps({"answer": res["answer"], "citations": res["citations"]}, ensure_ascii=False))
    else:
        print(res["answer"] or "(no answer: nothing in the memory matches)")
        if res["citations"]:
            print("sources: " + ", ".join(f"frame {c}" for c in res["citations"]))


@app.command()
def convert(
    src: Path,
    dst: Optional[Path] = typer.Argument(None, help="Output file (must not exist)."),
    target: Optional[str] = typer.Option(None, "--target", help="TOC revision to write, e.g. memvid-2.0.160."),
    allow_loss: bool = typer.Option(False, "--allow-loss", help="Convert even if the target cannot hold some fields."),
    check_only: bool = typer.Option(False, "--check", help="Only say which revisions SRC converts to without loss."),
    json_out: bool = typer.Option(False, "--json"),
):
    """Rewrite SRC in another TOC revision so that another memvid release can open it. SRC is never modified."""
    from ..convert import check, convert as do_convert

    _file(src)
    try:
        if check_only:
            res = check(src)
            if json_out:
                print(json.dumps({"revisions": res}))
            else:
                for rev, lost in res.items():
                    print(f"{rev}: " + ("lossless" if not lost else "loses " + ", ".join(lost)))
            return
        if dst is None or target is None:
            err.print("mv2 convert: give DST and --target (or --check)")
            raise typer.Exit(EXIT_CANNOT_RUN)
        res = do_convert(src, dst, target, allow_loss=allow_loss)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps(res.to_json()))
    else:
        print(f"converted {src} ({res.source_revision}) to {dst} ({target})"
              + (f"; lost: {', '.join(res.losses)}" if res.losses else "; nothing lost") + f"; sha256 {res.sha256}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
