"""The ``mv2`` commands that write: create, put, supersede, delete, ingest; and stats (spec: "Command line").

Each command opens the memory for writing, does its work and closes it, which commits. A
file is created only when asked (``create``, or ``--create`` on put and ingest); replacing an
existing file needs ``--force``. A put without ``--timestamp`` records the current time;
ingest gives each file its modification time. Heavy modules are imported inside the
commands, so that ``mv2 --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .main import EXIT_CANNOT_RUN, EXIT_OK, _fail, _file, app, err

_FIELDS_HELP = dict(
    uri="URI of the frame (default mv2://frames/ID).",
    title="Title (default: derived from the URI).",
    tags="Tags, comma-separated.",
    labels="Labels, comma-separated.",
    kind="Kind, e.g. a MIME type or 'note'.",
    track="Track name.",
    timestamp="Unix seconds (default: now).",
    metadata="Metadata as a JSON object; each value is stored as JSON text.",
    embedding="The frame's vector as a JSON array (instead of --embed).",
)


def _split(value: Optional[str]) -> Optional[list[str]]:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _json_arg(value: Optional[str], what: str, kind: type):
    if value is None:
        return None
    try:
        obj = json.loads(value)
    except json.JSONDecodeError as exc:
        err.print(f"mv2: {what} is not valid JSON: {exc.msg}", highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN)
    if not isinstance(obj, kind):
        err.print(f"mv2: {what} must be a JSON {'object' if kind is dict else 'array'}", highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN)
    return obj


def _read_content(text: Optional[str], from_file: Optional[Path]) -> str | bytes:
    """The content of a put: the TEXT argument, --file, or standard input ('-' or no TEXT)."""
    if text is not None and from_file is not None:
        err.print("mv2: give TEXT or --file, not both")
        raise typer.Exit(EXIT_CANNOT_RUN)
    if from_file is not None:
        try:
            data = sys.stdin.buffer.read() if str(from_file) == "-" else from_file.read_bytes()
        except OSError as exc:
            err.print(f"mv2: cannot read {from_file}: {exc.strerror}", highlight=False)
            raise typer.Exit(EXIT_CANNOT_RUN)
    elif text is None or text == "-":
        if text is None and sys.stdin.isatty():
            err.print("mv2: give the text as an argument, with --file PATH, or on standard input")
            raise typer.Exit(EXIT_CANNOT_RUN)
        data = sys.stdin.buffer.read()
    else:
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data  # stored as bytes; not searchable


def _local_embedder(model: Optional[str]):
    from ..embed import embedder_for

    return embedder_for(model)


def _open_writable(file: Path, *, create: bool, force: bool, wal_size: Optional[int], embed: Optional[bool],
                   embedding_given: bool = False):
    """Open (or create) FILE for writing, with the local embedder when asked for or when the
    memory's vectors are bound to it."""
    from .. import memory as m

    if force or (create and not file.exists()):
        mem = m.create(file, overwrite=force, wal_size=wal_size or m.DEFAULT_WAL_SIZE)
    else:
        if not file.exists():
            err.print(f"mv2: no such file: {file} (pass --create to make a new memory)", highlight=False)
            raise typer.Exit(EXIT_CANNOT_RUN)
        _file(file)
        mem = m.open(file, "a")
    if embed is False or embedding_given:
        return mem
    if embed or mem.model is not None:
        try:
            mem.embedder = _local_embedder(mem.model)
        except Exception:
            mem.close()
            raise
    return mem


_EMBED_HELP = ("Embed the text with the local model (the embed extra) so that vector search finds it. "
               "Default: on when the memory's vectors were made by that model.")


@app.command("create")
def create_cmd(
    file: Path = typer.Argument(..., help="The new memory file."),
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
    wal_size: Optional[int] = typer.Option(None, help="WAL size in bytes (default 64 KiB; it grows on demand)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Create an empty memory file."""
    from ..errors import MV2Error

    from .. import memory as m

    try:
        with m.create(file, overwrite=force, wal_size=wal_size or m.DEFAULT_WAL_SIZE):
            pass
    except MV2Error as exc:
        raise _fail(exc, json_out)
    size = file.stat().st_size
    if json_out:
        print(json.dumps({"ok": True, "file": str(file), "size": size}))
    else:
        print(f"created {file} ({size:,} bytes)")


@app.command()
def put(
    file: Path = typer.Argument(..., help="Memory file."),
    text: Optional[str] = typer.Argument(None, help="The text to store; '-' or nothing reads standard input."),
    from_file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the content from this file ('-': stdin)."),
    uri: Optional[str] = typer.Option(None, help=_FIELDS_HELP["uri"]),
    title: Optional[str] = typer.Option(None, help=_FIELDS_HELP["title"]),
    tags: Optional[str] = typer.Option(None, help=_FIELDS_HELP["tags"]),
    labels: Optional[str] = typer.Option(None, help=_FIELDS_HELP["labels"]),
    kind: Optional[str] = typer.Option(None, help=_FIELDS_HELP["kind"]),
    track: Optional[str] = typer.Option(None, help=_FIELDS_HELP["track"]),
    timestamp: Optional[int] = typer.Option(None, help=_FIELDS_HELP["timestamp"]),
    metadata: Optional[str] = typer.Option(None, help=_FIELDS_HELP["metadata"]),
    embedding: Optional[str] = typer.Option(None, help=_FIELDS_HELP["embedding"]),
    embed: Optional[bool] = typer.Option(None, "--embed/--no-embed", help=_EMBED_HELP),
    chunk: bool = typer.Option(True, "--chunk/--no-chunk", help="Split a text of 2,400+ characters into chunk frames, as memvid does."),
    create: bool = typer.Option(False, "--create", help="Create FILE if it does not exist."),
    force: bool = typer.Option(False, "--force", help="Replace FILE with a new memory first."),
    wal_size: Optional[int] = typer.Option(None, help="WAL size in bytes for a new file."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Store one frame in FILE and print its id."""
    from ..errors import MV2Error

    content = _read_content(text, from_file)
    fields = dict(uri=uri, title=title, tags=_split(tags), labels=_split(labels), kind=kind, track=track,
                  timestamp=timestamp, metadata=_json_arg(metadata, "--metadata", dict),
                  embedding=_json_arg(embedding, "--embedding", list))
    try:
        with _open_writable(file, create=create, force=force, wal_size=wal_size, embed=embed,
                            embedding_given=embedding is not None) as mem:
            before = mem.frame_count
            fid = mem.put(content, chunk=chunk, **fields)
            frames = mem.frame_count - before
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps({"ok": True, "frame_id": fid, "frames_added": frames}))
    else:
        print(fid if frames == 1 else f"{fid} (a document of {frames - 1} chunks)")


@app.command()
def supersede(
    file: Path = typer.Argument(..., help="Memory file."),
    frame_id: int = typer.Argument(..., help="Id of the active frame to replace."),
    text: Optional[str] = typer.Argument(None, help="The new text; '-' reads standard input; nothing keeps the old content."),
    from_file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the new content from this file."),
    uri: Optional[str] = typer.Option(None, help="New URI (default: the old frame's)."),
    title: Optional[str] = typer.Option(None, help="New title (default: the old frame's)."),
    tags: Optional[str] = typer.Option(None, help="New tags, comma-separated (default: the old frame's)."),
    labels: Optional[str] = typer.Option(None, help="New labels, comma-separated (default: the old frame's)."),
    kind: Optional[str] = typer.Option(None, help="New kind (default: the old frame's)."),
    track: Optional[str] = typer.Option(None, help="New track (default: the old frame's)."),
    timestamp: Optional[int] = typer.Option(None, help="Unix seconds (default: the old frame's)."),
    metadata: Optional[str] = typer.Option(None, help=_FIELDS_HELP["metadata"]),
    embed: Optional[bool] = typer.Option(None, "--embed/--no-embed", help=_EMBED_HELP),
    chunk: bool = typer.Option(True, "--chunk/--no-chunk", help="Split a new text of 2,400+ characters into chunk frames, as memvid does."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Store a new version of frame FRAME_ID; the old one becomes superseded. Prints the new id.
    New text for a chunked document replaces its chunks too."""
    from ..errors import MV2Error

    content = None
    if text is not None or from_file is not None:
        content = _read_content(text, from_file)
    fields = {k: v for k, v in dict(uri=uri, title=title, tags=_split(tags), labels=_split(labels), kind=kind,
                                     track=track, timestamp=timestamp,
                                     metadata=_json_arg(metadata, "--metadata", dict)).items() if v is not None}
    _file(file)
    try:
        with _open_writable(file, create=False, force=False, wal_size=None, embed=embed) as mem:
            if content is None and 0 <= frame_id < mem.frame_count \
                    and mem._snap.frames[frame_id].fields["chunk_manifest"] is not None:
                from ..errors import UsageError

                raise UsageError(f"frame {frame_id} is a chunked document: give its new text (its chunks are "
                                 f"then replaced too)")
            fid = mem.supersede(frame_id, content, chunk=chunk, **fields)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps({"ok": True, "frame_id": fid, "superseded": frame_id}))
    else:
        print(fid)


@app.command()
def delete(
    file: Path = typer.Argument(..., help="Memory file."),
    frame_ids: list[int] = typer.Argument(..., help="Ids of the active frames to delete."),
    timestamp: Optional[int] = typer.Option(None, help="Unix seconds recorded on the tombstone (default: the frame's)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Delete frames: each stays in the file with status 'deleted' and leaves the indexes. Deleting a
    chunked document deletes its chunks too."""
    from ..errors import MV2Error

    _file(file)
    chunks: list[int] = []
    try:
        with _open_writable(file, create=False, force=False, wal_size=None, embed=False) as mem:
            for fid in frame_ids:
                mem.delete(fid, timestamp=timestamp)
                if mem._snap.frames[fid].fields["chunk_manifest"] is not None:
                    for fs in mem._snap.frames:
                        if fs.fields["parent_id"] == fid and fs.fields["role"] == "document_chunk" \
                                and fs.fields["status"] == "active":
                            mem.delete(fs.id, timestamp=timestamp)
                            chunks.append(fs.id)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps({"ok": True, "deleted": frame_ids, "chunks_deleted": chunks}))
    else:
        print(f"deleted {', '.join(map(str, frame_ids))}" + (f" and {len(chunks)} chunk(s)" if chunks else ""))


@app.command()
def stats(
    file: Path = typer.Argument(..., help="Memory file."),
    json_out: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
):
    """Frame counts by status and role, vectors, sizes."""
    from ..errors import MV2Error
    from ..memory import open as open_memory

    _file(file)
    try:
        with open_memory(file) as mem:
            s = mem.stats()
            frames = mem._snap.frames
            by_status: dict[str, int] = {}
            by_role: dict[str, int] = {}
            for fs in frames:
                by_status[fs.fields["status"]] = by_status.get(fs.fields["status"], 0) + 1
                by_role[fs.fields["role"]] = by_role.get(fs.fields["role"], 0) + 1
            s.update(statuses=by_status, roles=by_role, model=mem.model)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    if json_out:
        print(json.dumps(s, sort_keys=True))
        return
    print(f"{file}: {s['file_size']:,} bytes, {s['revision']}, generation {s['generation']}, WAL {s['wal_size']:,} bytes")
    print("frames: " + f"{s['frame_count']} (" + ", ".join(f"{n} {k}" for k, n in sorted(by_status.items())) + "; "
          + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(by_role.items())) + ")" if frames else "frames: 0")
    if s["pending_frames"]:
        print(f"pending (not yet committed): {s['pending_frames']}")
    vec = f"vectors: {s['vector_count']}"
    if s["vector_count"]:
        vec += f" of dimension {s['dimension']}" + (f", model {s['model']}" if s["model"] else ", model not recorded")
    print(vec)


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="Memory file."),
    paths: list[str] = typer.Argument(..., help="Files, folders (recursive) and glob patterns ('docs/**/*.md')."),
    timestamp: Optional[int] = typer.Option(None, help="Unix seconds for every file (default: each file's modification time)."),
    tags: Optional[str] = typer.Option(None, help="Tags for every file, comma-separated."),
    labels: Optional[str] = typer.Option(None, help="Labels for every file, comma-separated."),
    track: Optional[str] = typer.Option(None, help="Track for every file."),
    uri_prefix: str = typer.Option("mv2://", help="Prefix of each file's URI, before its relative path."),
    embed: Optional[bool] = typer.Option(None, "--embed/--no-embed", help=_EMBED_HELP),
    create: bool = typer.Option(False, "--create", help="Create FILE if it does not exist."),
    force: bool = typer.Option(False, "--force", help="Replace FILE with a new memory first."),
    wal_size: Optional[int] = typer.Option(None, help="WAL size in bytes for a new file."),
    batch: int = typer.Option(64, min=1, help="Files per WAL write (and per embedding batch)."),
    skip_existing: bool = typer.Option(False, "--skip-existing",
                                       help="Skip files whose URI already names an active document (re-running on a folder adds only new files)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary instead of a line of text."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Load text and Markdown files into FILE. Long files become a document frame and chunk frames,
    as memvid stores them."""
    from ..errors import MV2Error
    from ..ingest import Skipped, collect, read_item

    t0 = time.monotonic()
    try:
        found = collect(paths, uri_prefix=uri_prefix)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    skipped = list(found.skipped)
    files = frames = chunked = size = 0
    try:
        with _open_writable(file, create=create, force=force, wal_size=wal_size, embed=embed) as mem:
            first = mem.frame_count
            existing = {fs.fields["uri"] for fs in mem._snap.frames
                        if fs.fields["role"] == "document" and fs.fields["status"] == "active"} if skip_existing else set()
            with _progress(len(found.sources), quiet=quiet or not err.is_terminal) as advance:
                for s in range(0, len(found.sources), batch):
                    items = []
                    for src in found.sources[s: s + batch]:
                        if src.uri in existing:
                            skipped.append(Skipped(str(src.path), f"already in the memory as {src.uri}"))
                            continue
                        item = read_item(src, timestamp=timestamp, tags=_split(tags), labels=_split(labels), track=track)
                        if isinstance(item, Skipped):
                            skipped.append(item)
                        else:
                            items.append(item)
                            size += len(item["content"].encode("utf-8"))
                    if items:
                        mem.put_many(items)
                        files += len(items)
                    advance(len(found.sources[s: s + batch]))
            frames = mem.frame_count - first
            chunked = sum(1 for fs in mem._snap.frames[first:] if fs.fields["chunk_manifest"] is not None)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    seconds = time.monotonic() - t0
    summary = {"ok": True, "file": str(file), "files": files, "frames": frames, "chunked_documents": int(chunked),
               "bytes": size, "seconds": round(seconds, 3),
               "skipped": [{"path": k.path, "reason": k.reason} for k in skipped]}
    if json_out:
        print(json.dumps(summary))
    else:
        print(f"ingested {files} file(s) into {file}: {frames} frame(s), {int(chunked)} chunked document(s), "
              f"{size:,} bytes of text in {seconds:.1f} s")
        known = [k for k in skipped if k.reason.startswith("already in the memory")]
        if known:
            err.print(f"skipped {len(known)} file(s) already in the memory", highlight=False)
        for k in skipped:
            if k not in known:
                err.print(f"skipped {k.path}: {k.reason}", highlight=False)
    raise typer.Exit(EXIT_OK)


class _progress:
    """A rich progress bar on stderr with count and rate, or nothing when quiet."""

    def __init__(self, total: int, *, quiet: bool):
        self.total, self.quiet = total, quiet

    def __enter__(self):
        if self.quiet:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        class Rate(TextColumn):
            def render(self, task):
                speed = task.finished_speed or task.speed
                if not speed and task.elapsed:
                    speed = task.completed / task.elapsed
                from rich.text import Text

                return Text(f"{speed:,.1f} files/s" if speed else "")

        self._p = Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), Rate(""), TimeElapsedColumn(),
                           console=err, transient=False)
        self._p.__enter__()
        task = self._p.add_task("ingest", total=self.total)
        return lambda n: self._p.advance(task, n)

    def __exit__(self, *exc):
        if not self.quiet:
            self._p.__exit__(*exc)
