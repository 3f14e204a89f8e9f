"""Loading files into a memory: which files, and what each one's put holds (``mv2 ingest``).

Paths may be files, folders (walked recursively, hidden entries skipped) and glob patterns
(``**`` matches across folders). Folders and globs take the text formats below and PDF; a
file named explicitly is taken whatever its name, provided it is UTF-8 text or a PDF. A PDF's
text is extracted page by page with pypdf (the ``pdf`` extra) and stored as the frame's text;
the PDF's own bytes are not kept. Each file becomes one put
with ``chunk=True``, so that a long file is stored as memvid stores it: a document frame and
chunk frames (:mod:`mv2.chunking`). Its URI is ``mv2://`` and its path relative to the
current folder (or to the folder given, for files outside it); its title is a Markdown
file's first heading or the file's name; its timestamp is the file's modification time unless
one is given. The order is the sorted order of the paths, so the same tree gives the same
frames in the same order.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import UsageError

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".mdown", ".rst", ".org"}
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown"}
PDF_SUFFIXES = {".pdf"}
INGESTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES


@dataclass
class Source:
    path: Path
    uri: str


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class Collected:
    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _visible(rel: Path) -> bool:
    return not any(part.startswith(".") for part in rel.parts)


def _uri(path: Path, root: Path | None, prefix: str) -> str:
    cwd = Path.cwd().resolve()
    full = path.resolve()
    try:
        rel = full.relative_to(cwd)
    except ValueError:
        base = root.resolve().parent if root is not None else full.parent
        try:
            rel = full.relative_to(base)
        except ValueError:
            rel = Path(full.name)
    return prefix + PurePosixPath(*rel.parts).as_posix()


def collect(args: list[str], *, uri_prefix: str = "mv2://") -> Collected:
    """The files ``args`` name, sorted by URI and without repeats."""
    out = Collected()
    seen: dict[str, Source] = {}

    def add(p: Path, root: Path | None) -> None:
        uri = _uri(p, root, uri_prefix)
        key = os.fspath(p.resolve())
        if key not in seen:
            seen[key] = Source(p, uri)

    for arg in args:
        p = Path(arg)
        if p.is_file():
            add(p, None)
        elif p.is_dir():
            for sub in sorted(p.rglob("*")):
                if sub.is_file() and _visible(sub.relative_to(p)) and sub.suffix.lower() in INGESTED_SUFFIXES:
                    add(sub, p)
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file() and Path(m).suffix.lower() in INGESTED_SUFFIXES]
            if not files:
                out.skipped.append(Skipped(arg, "the pattern matches no text or PDF file"))
            for f in files:
                add(f, None)
        else:
            raise UsageError(f"no such file or folder: {arg}")
    out.sources = sorted(seen.values(), key=lambda s: (s.uri, os.fspath(s.path)))
    return out


def markdown_title(text: str) -> str | None:
    """The first ATX heading (``# Title``) of a Markdown text, outside code fences."""
    fenced = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("```") or s.startswith("~~~"):
            fenced = not fenced
            continue
        if not fenced and s.startswith("#"):
            title = s.lstrip("#")
            if title[:1] in (" ", "\t") and title.strip():
                return title.strip().rstrip("#").strip() or None
    return None


def read_item(src: Source, *, timestamp: int | None = None, **fields) -> dict | Skipped:
    """The put item of one file, or why it is skipped."""
    try:
        data = src.path.read_bytes()
        mtime = int(src.path.stat().st_mtime)
    except OSError as exc:
        return Skipped(os.fspath(src.path), f"cannot read it: {exc.strerror}")
    title = None
    is_pdf = data.startswith(b"%PDF-") or src.path.suffix.lower() in PDF_SUFFIXES
    if is_pdf:
        got = pdf_text(data)
        if isinstance(got, str):
            return Skipped(os.fspath(src.path), got)
        text, title = got
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Skipped(os.fspath(src.path), f"not UTF-8 text (byte {exc.start})")
        if text.startswith("\ufeff"):
            text = text[1:]
        if src.path.suffix.lower() in MARKDOWN_SUFFIXES:
            title = markdown_title(text)
    if not text.strip():
        return Skipped(os.fspath(src.path), "no text in the PDF (scanned pages?)" if is_pdf else "empty")
    item = dict(content=text, uri=src.uri, title=title or src.path.name,
                timestamp=timestamp if timestamp is not None else mtime, chunk=True)
    item.update({k: v for k, v in fields.items() if v is not None})
    return item


def pdf_text(data: bytes) -> tuple[str, str | None] | str:
    """(text of every page, the document's title) of a PDF, or why it cannot be read."""
    try:
        import io

        import pypdf
    except ImportError:
        return "a PDF needs the pdf extra: pip install 'mv2[pdf]'"
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return "the PDF is encrypted"
        pages = [(p.extract_text() or "").strip() for p in reader.pages]
        meta = reader.metadata
        title = (meta.title or "").strip() if meta is not None else ""
    except Exception as exc:  # pypdf raises many kinds on malformed input; any of them means "unreadable"
        return f"not a readable PDF ({type(exc).__name__})"
    return "\n\n".join(p for p in pages if p), (title or None)
