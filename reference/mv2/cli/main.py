"""The ``mv2`` command line (spec: "Command line" in the docs).

Exit codes are part of the interface: 0 success (for ``verify``: the file is valid), 1 the
file is corrupt or the requested item does not exist, 2 the command could not run (missing
file, I/O error, bad arguments). Commands whose output is data take ``--json``.

Everything beyond typer and rich is imported inside the commands: ``mv2 --help`` and a
one-shot read then load only what they use. The writing commands live in ``write.py``.
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

# Plain help formatting: rich's Markdown renderer would add a quarter of a second to every start.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Read, verify and write MV2 memory files.")
# Tables stay legible when piped: a terminal keeps its own width, anything else gets 160.
out = Console(width=None if sys.stdout.isatty() else 160)
# Messages are single lines: never wrapped mid-sentence, whatever the terminal width.
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"mv2 {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Read, verify and write MV2 memory files."""

EXIT_OK, EXIT_CORRUPT, EXIT_CANNOT_RUN = 0, 1, 2


def _fail(exc: MV2Error, as_json: bool) -> "typer.Exit":
    code = EXIT_CANNOT_RUN if exc.kind in ("io", "usage", "unsupported") and not isinstance(exc, NotFoundError) else EXIT_CORRUPT
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
def verify(file: Path = typer.Argument(..., help="Memory file."), json_out: bool = typer.Option(False, "--json", help="Print the report as JSON.")):
    """Check every checksum and invariant. Exit 0 if valid, 1 if corrupt (code on stdout), 2 if it cannot run."""
    from ..storage.verify import analyze

    _file(file)
    try:
        a = analyze(file)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    hint = _recovery_hint(a, file)
    if json_out:
        report = a.to_json()
        if hint:
            report["hint"] = hint
        print(json.dumps(report, sort_keys=True))
    elif a.ok:
        print(f"ok {file} ({a.revision}, {a.frame_count} frames, generation {a.generation}"
              + (f", {a.pending} pending WAL records" if a.pending else "") + ")")
        for w in a.warnings:
            print(f"warning {w.code} at byte {w.offset}: {w.message}")
    else:
        e = a.first_error
        print(f"{e.code} at byte {e.offset}: {e.message}")
    if hint and not json_out:
        err.print(f"hint: {hint}", highlight=False)
    # An unknown revision or feature is not corruption: this reader cannot judge the file.
    raise typer.Exit(EXIT_OK if a.ok else EXIT_CANNOT_RUN if a.first_error.kind == "unsupported" else EXIT_CORRUPT)


# What a crash leaves (spec 12): records not yet committed, a WAL tail cut mid-record, a header
# that still names the previous commit. Opening the file for writing repairs all three.
_CRASH_CODES = {"MV2-W-NEEDS-RECOVERY", "MV2-E-HDR-CHECKPOINT", "MV2-E-HDR-TOC-PTR", "MV2-E-HDR-TOC-HASH",
                "MV2-E-FILE-TRAILING"}


def _recovery_hint(a, file: Path) -> str | None:
    codes = {f.code for f in a.findings}
    if "MV2-E-WAL-DAMAGED" in codes:
        return (f"the WAL is damaged, not torn: mv2 recover {file} refuses; mv2 recover --salvage {file} "
                "keeps the records before the damage and drops the rest")
    if "MV2-E-COMMIT-LOST" in codes:
        return f"the newest commit is lost: mv2 recover --rollback {file} returns to the last valid one"
    if a.pending or codes & _CRASH_CODES:
        return f"needs recovery: run mv2 recover {file}"
    return None


@app.command()
def inspect(file: Path = typer.Argument(..., help="Memory file."),
            all_regions: bool = typer.Option(False, "--all", help="List every region, not only a summary by kind."),
            json_out: bool = typer.Option(False, "--json", help="Print everything as JSON (all regions)."),
            svg: Optional[str] = typer.Option(None, "--svg", metavar="OUT",
                                              help="Draw the regions to scale as SVG to OUT ('-': stdout) instead of the table.")):
    """Map the file's regions: name, offset, length, what checksum covers it and whether it matches.
    By default one row per kind of region; --all lists each one."""
    from ..storage.verify import analyze

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
    elif a.header is not None:  # a TOC of unknown revision: what the header and footer say
        h = a.header
        info.update(spec_version=f"{h['spec_major']}.{h['spec_minor']}", wal_size=h["wal_size"],
                    wal_sequence=h["wal_sequence"], wal_checkpoint_pos=h["wal_checkpoint_pos"],
                    toc_offset=h["toc_offset"], toc_len=h["toc_len"])
    info["regions"] = [r.to_json() for r in a.regions]
    if svg is not None:
        from ..storage.layout_svg import write_svg
        try:
            write_svg(a, svg)
        except MV2Error as exc:
            raise _fail(exc, json_out)
        raise typer.Exit(EXIT_OK if a.ok else EXIT_CORRUPT)
    if json_out:
        print(json.dumps(info, sort_keys=True))
    else:
        def known(v, fmt="{}"):
            return "unknown" if v is None else fmt.format(v)

        out.print(f"[bold]{file}[/bold]  {info['size']:,} bytes  spec {known(info.get('spec_version'))}  "
                  f"TOC revision {known(info['revision'])}  WAL {known(info.get('wal_size'), '{:,} bytes')}  "
                  f"generation {known(info['generation'])}  frames {info['frames']}  "
                  f"pending {info['pending_wal_records']}", highlight=False, soft_wrap=True)
        if info.get("writer"):
            out.print(f"writer (from the bytes): {info['writer']}; Tantivy segments named by {info['segment_naming']}; "
                      f"revision first written by {info.get('written_by_revision')}", highlight=False, soft_wrap=True)
        colour = {"ok": "green", "bad": "red", "stale": "yellow", "uncovered": "magenta", "unchecked": "white"}
        t = Table(show_lines=False)
        if all_regions:
            for col in ("offset", "length", "end", "region", "covered by", "status"):
                t.add_column(col, justify="right" if col in ("offset", "length", "end") else "left")
            for r in a.regions:
                t.add_row(str(r.offset), str(r.length), str(r.end), r.name, r.covered_by, f"[{colour[r.status]}]{r.status}[/]")
        else:
            for col in ("kind", "regions", "bytes", "first offset", "covered by", "status"):
                t.add_column(col, justify="right" if col in ("regions", "bytes", "first offset") else "left")
            for row in _region_summary(a.regions):
                t.add_row(row["kind"], f"{row['count']:,}", f"{row['bytes']:,}", str(row["first"]), row["covered_by"],
                          ", ".join(f"[{colour[k]}]{n} {k}[/]" for k, n in sorted(row["statuses"].items())))
        out.print(t)
        if not all_regions and len(a.regions) > len(_region_summary(a.regions)):
            out.print(f"{len(a.regions):,} regions; --all lists each one", highlight=False)
        if a.first_error:
            e = a.first_error
            out.print(f"[red]{e.code}[/red] at byte {e.offset}: {e.message}", highlight=False)
        for w in a.warnings:
            out.print(f"[yellow]{w.code}[/yellow] at byte {w.offset}: {w.message}", highlight=False)
    # An unknown revision or feature is not corruption: this reader cannot judge the file.
    raise typer.Exit(EXIT_OK if a.ok else EXIT_CANNOT_RUN if a.first_error.kind == "unsupported" else EXIT_CORRUPT)


_KIND_LABELS = {"lex": "Tantivy files", "frame": "frame payloads", "wal-record": "WAL records", "header": "header",
                "footer": "footers", "vec": "vector segments", "toc": "TOCs"}


def _region_summary(regions) -> list[dict]:
    """One row per kind of region (frame payloads, Tantivy files, ...), in file order of first appearance."""
    rows: dict[str, dict] = {}
    names: dict[str, set] = {}
    for r in regions:
        names.setdefault(r.kind, set()).add(r.name)
    for r in regions:
        label = next(iter(names[r.kind])) if len(names[r.kind]) == 1 else _KIND_LABELS.get(r.kind, r.kind)
        row = rows.setdefault(r.kind, {"kind": label, "count": 0, "bytes": 0, "first": r.offset, "covered_by": r.covered_by,
                                       "statuses": {}})
        row["count"] += 1
        row["bytes"] += r.length
        row["first"] = min(row["first"], r.offset)
        if row["covered_by"] != r.covered_by:
            row["covered_by"] = "(various)"
        row["statuses"][r.status] = row["statuses"].get(r.status, 0) + 1
    return sorted(rows.values(), key=lambda x: x["first"])


@app.command("dump")
def dump_cmd(file: Path = typer.Argument(..., help="Memory file."),
             output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
             pretty: bool = typer.Option(False, "--pretty", help="Indented JSON, for reading (the default is canonical: one line).")):
    """Print the canonical JSON logical view (every frame, every status)."""
    from ..storage.snapshot import read_snapshot
    from ..storage.view import canonical_json, dump

    _file(file)
    try:
        with read_snapshot(file) as snap:
            obj = dump(snap)
    except MV2Error as exc:
        raise _fail(exc, False)
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n" if pretty else canonical_json(obj)
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            err.print(f"mv2: cannot write {output}: {exc.strerror}", highlight=False)
            raise typer.Exit(EXIT_CANNOT_RUN)
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
def cat(file: Path = typer.Argument(..., help="Memory file."),
        ref: str = typer.Argument(..., help="Frame id or URI (the newest frame with that URI)."),
        text: bool = typer.Option(False, "--text", help="Write the frame's text (a chunked document's whole text) "
                                                          "instead of its payload."),
        payload: bool = typer.Option(False, "--payload", help="Write the payload bytes even when they are empty."),
        index_lines: bool = typer.Option(False, "--index-lines", help="With the text: keep the title/uri/tags lines "
                                                                        "memvid appends to it for its index.")):
    """Write a frame's payload (decompressed) to stdout. A frame whose payload is empty, as memvid
    stores most texts, gives its text instead."""
    from ..display import document_text
    from ..storage.snapshot import read_snapshot

    _file(file)
    try:
        with read_snapshot(file) as snap:
            fr = _find_frame(snap, ref)
            data = snap.canonical_payload(fr)
            if text or (not payload and not data):
                t = document_text(snap, fr, index_lines=index_lines)
                data = (t or "").encode("utf-8")
                if data and not data.endswith(b"\n") and sys.stdout.isatty():
                    data += b"\n"
    except MV2Error as exc:
        raise _fail(exc, False)
    sys.stdout.buffer.write(data)


@app.command()
def timeline(
    file: Path = typer.Argument(..., help="Memory file."),
    since: Optional[int] = typer.Option(None, help="Only frames with timestamp >= SINCE (Unix seconds)."),
    until: Optional[int] = typer.Option(None, help="Only frames with timestamp <= UNTIL."),
    reverse: bool = typer.Option(False, "--reverse", help="Newest first."),
    limit: Optional[int] = typer.Option(None, min=0, help="At most this many entries."),
    index_lines: bool = typer.Option(False, "--index-lines", help="Keep the title/uri/tags lines memvid appends to texts."),
    json_out: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
):
    """List active documents in time order, as memvid's timeline does."""
    from ..display import strip_index_lines
    from ..index.time import timeline as build
    from ..storage.snapshot import read_snapshot
    from ..storage.view import frame_text

    def shown(fr):
        t = frame_text(snap, fr)
        return t if index_lines else strip_index_lines(t, fr.fields)

    _file(file)
    try:
        with read_snapshot(file) as snap:
            entries = build(snap, shown, since=since, until=until, reverse=reverse, limit=limit)
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
    script: Path = typer.Argument(..., help="Operation script (JSON Lines); '-' reads standard input."),
    file: Path = typer.Argument(..., help="Memory file; created if it does not exist."),
    wal_size: Optional[int] = typer.Option(None, help="WAL size for a new file (bytes)."),
    wal_grow_limit: Optional[int] = typer.Option(None, help="Largest size a full WAL grows to before the writer commits instead (spec 4.4)."),
    compact_min_dead: Optional[int] = typer.Option(None, help="Dead bytes a commit must leave before it is written compacted (spec 12.6)."),
    expect_sha256: Optional[str] = typer.Option(None, "--expect-sha256", metavar="HEX",
                                                help="Exit 1 unless the file's SHA-256 afterwards is HEX (a golden check)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Apply an operation script to FILE (created if missing). Deterministic: same script and parameters, same bytes."""
    import hashlib

    from ..script import run_text

    if str(script) == "-":
        data = sys.stdin.buffer.read()
    elif not script.is_file():
        err.print(f"mv2: no such script: {script}", highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN)
    else:
        try:
            data = script.read_bytes()
        except OSError as exc:
            err.print(f"mv2: cannot read {script}: {exc.strerror}", highlight=False)
            raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        err.print(f"mv2: {script} is not UTF-8 text (byte {exc.start}); an operation script is JSON Lines", highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        policy = {k: v for k, v in (("wal_grow_limit", wal_grow_limit), ("compact_min_dead", compact_min_dead)) if v is not None}
        ids = run_text(text, file, wal_size=wal_size, policy=policy)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    matches = expect_sha256 is None or digest == expect_sha256.lower()
    if json_out:
        print(json.dumps({"ok": matches, "frame_ids": ids, "sha256": digest}))
    else:
        print(f"applied {script} to {file}: {len(ids)} frame(s) created; sha256 {digest}")
    if not matches:
        err.print(f"mv2 apply: sha256 {digest} is not the expected {expect_sha256} (mv2 diff GOLDEN {file} shows why)",
                  highlight=False)
        raise typer.Exit(EXIT_CORRUPT)


@app.command()
def recover(file: Path = typer.Argument(..., help="Memory file."), json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
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
def compact(file: Path = typer.Argument(..., help="Memory file."), json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")):
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
    file: Path = typer.Argument(..., help="Memory file."),
    query: str = typer.Argument(..., help="Query text (for vec and hybrid modes, embedded with the local model unless --vector is given)."),
    k: int = typer.Option(10, "-k", help="Number of hits."),
    mode: str = typer.Option("lex", "--mode", help="lex (BM25) | vec (nearest vectors) | hybrid (both, fused by rank)."),
    since: Optional[int] = typer.Option(None, help="Only frames with timestamp >= SINCE."),
    until: Optional[int] = typer.Option(None, help="Only frames with timestamp <= UNTIL."),
    include: str = typer.Option("active", help="Statuses to search, comma-separated: active,superseded,deleted."),
    vector: Optional[str] = typer.Option(None, help="Query vector as a JSON array (for --mode vec/hybrid), instead of embedding QUERY."),
    memvid_compatible: bool = typer.Option(False, "--memvid-compatible",
                                           help="Apply memvid's sketch pre-filter: hits equal memvid-sdk's, recall is lower."),
    index_lines: bool = typer.Option(False, "--index-lines", help="Keep the title/uri/tags lines memvid appends to texts in snippets."),
    json_out: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
):
    """Search FILE. --json prints {"hits": [{frame_id, uri, title, score, snippet}, ...]} (vector hits
    add similarity; searches beyond active frames add status)."""
    from ..memory import open as open_memory

    _file(file)
    try:
        vec = json.loads(vector) if vector else None
    except json.JSONDecodeError:
        err.print("mv2: --vector must be a JSON array of numbers")
        raise typer.Exit(EXIT_CANNOT_RUN)
    statuses = tuple(x.strip() for x in include.split(",") if x.strip())
    note = None
    try:
        with open_memory(file) as mem:
            if mode in ("vec", "hybrid") and not mem.stats()["vector_count"]:
                note = ("the memory holds no vectors, so a vector search finds nothing; "
                        "put or ingest with --embed to add them")
                if mode == "hybrid":
                    note += " (these are the full-text hits alone)"
            if mode in ("vec", "hybrid") and vec is None and note is None:
                from .write import _local_embedder

                mem.embedder = _local_embedder(mem.model)
            if note is not None and mode == "vec":
                hits = []
            else:
                hits = mem.find(query, k=k, mode=mode if note is None else "lex", since=since, until=until,
                                include=statuses, vector=vec, prefilter=memvid_compatible, index_lines=index_lines)
            status_of = {h["frame_id"]: mem._snap.frames[h["frame_id"]].fields["status"] for h in hits}
    except MV2Error as exc:
        raise _fail(exc, json_out)
    show_status = statuses != ("active",)
    show_sim = mode == "vec"
    if json_out:
        keys = ("frame_id", "uri", "title", "score", "snippet") + (("similarity",) if show_sim else ())
        rows = [{key: h.get(key) for key in keys} for h in hits]
        if show_status:
            for r in rows:
                r["status"] = status_of[r["frame_id"]]
        obj = {"hits": rows}
        if note:
            obj["note"] = note
        print(json.dumps(obj, ensure_ascii=False))
        return
    if note:
        err.print(f"note: {note}", highlight=False)
        if not hits:
            return
    t = Table()
    cols = ["rank", "id"] + (["status"] if show_status else []) + (["similarity"] if show_sim else ["score"]) + ["uri", "snippet"]
    for col in cols:
        t.add_column(col)
    for h in hits:
        row = [str(h["rank"]), str(h["frame_id"])]
        if show_status:
            row.append(status_of[h["frame_id"]])
        row.append(f"{h['similarity']:.4f}" if show_sim else f"{h['score']:.4f}")
        row += [h["uri"] or "", (h["snippet"] or "")[:160].replace("\n", " ⏎ ")]
        t.add_row(*row)
    out.print(t)


@app.command()
def ask(file: Path = typer.Argument(..., help="Memory file."), question: str = typer.Argument(..., help="The question."),
        k: int = typer.Option(5, "-k", help="Passages to answer from."), json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")):
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
    src: Path = typer.Argument(..., help="Memory file to convert (never modified)."),
    dst: Optional[Path] = typer.Argument(None, help="Output file (must not exist)."),
    target: Optional[str] = typer.Option(None, "--target", help="TOC revision to write, e.g. memvid-2.0.160."),
    allow_loss: bool = typer.Option(False, "--allow-loss", help="Convert even if the target cannot hold some fields."),
    check_only: bool = typer.Option(False, "--check", help="Only say which revisions SRC converts to without loss."),
    rebuild_indexes: bool = typer.Option(False, "--rebuild-indexes", help="Rebuild the indexes from the frames instead of carrying them."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
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
        res = do_convert(src, dst, target, allow_loss=allow_loss, rebuild_indexes=rebuild_indexes)
    except MV2Error as exc:
        raise _fail(exc, json_out)
    except OSError as exc:  # e.g. DST's folder is missing or read-only
        err.print(f"mv2: cannot write {dst}: {exc.strerror}", highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN)
    if json_out:
        print(json.dumps(res.to_json()))
    else:
        print(f"converted {src} ({res.source_revision}) to {dst} ({target})"
              + (f"; lost: {', '.join(res.losses)}" if res.losses else "; nothing lost") + f"; sha256 {res.sha256}")


from . import diffcmd, mergecmd  # noqa: E402  (diff, textconv, merge, git-setup)

for _extra in (diffcmd, mergecmd):
    _extra.register(app)
from .import_v1 import import_v1_cmd  # noqa: E402  (the command lives in its own module)

app.command("import-v1")(import_v1_cmd)


def main() -> None:  # pragma: no cover - console entry point
    # The command owns its process, so a file's decoded frames may skip the collector's
    # scans (format/gcpause.py); tests that call ``app`` in their own process leave this off.
    from ..format import gcpause

    gcpause.FREEZE = True
    app()


from . import write  # noqa: E402,F401  (registers the writing commands on ``app``)


if __name__ == "__main__":  # pragma: no cover
    main()
