"""Importing a Memvid V1 memory into a new MV2 file (docs: import-v1).

A V1 memory holds each chunk twice: as a QR code in a video frame and as text in the index
JSON (with its vector in the FAISS file). The import reads both, compares them frame by frame,
and writes one MV2 frame per V1 frame number, in frame order, through the public writer API:

* text: where both copies were read they must agree, unless ``source`` names the authority
  (``video`` or ``index``); a frame only one copy has is imported from that copy. The frame's
  metadata says which copy its text came from.
* vector: the chunk's FAISS vector, unchanged, when the imported text is the index's text
  (the vector was computed from it); the vec manifest names V1's model.
* timestamp: V1 has none; an explicit one, or the video file's mtime, and the metadata says
  which.

Everything that does not line up is reported, never dropped in silence: frames whose QR code
could not be read, frames where the copies disagree, frames only the video has (V1 leaves
empty chunks out of its index) and index entries the video lacks. With ``source="index"`` the
video is not decoded at all (no ``v1`` extra needed); the frame numbers the index skips are
reported instead.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from ..errors import CorruptFileError, MV2Error, StorageIOError, UsageError
from .faiss import read_flat_index
from .index import MAX_INDEX_JSON_BYTES, parse_index
from ..entries import check_timestamp
from .video import TAIL_ERROR, VideoFrame, read_video

SOURCES = ("both", "video", "index")
PUT_BATCH = 1000  # frames per WAL write: bounded memory, one sync each


@dataclass
class ImportReport:
    """What the import found and wrote. Frame numbers are V1's (positions in the video)."""

    video: str
    index: str
    output: str
    source: str
    timestamp: int
    timestamp_source: str            # "explicit" or "video-mtime"
    model: str
    video_frames: int | None         # None when the video was not decoded (source="index")
    index_chunks: int
    video_error: str | None = None   # why decoding stopped before the end of the video, if it did
    frames_written: int = 0
    vectors_written: int = 0
    agreeing: int = 0                # frames both copies gave with the same text
    unreadable: list[int] = field(default_factory=list)      # video frames without a usable V1 QR code
    disagreeing: list[int] = field(default_factory=list)     # both read, texts differ
    video_only: list[int] = field(default_factory=list)      # in the video, not in the index
    index_only: list[int] = field(default_factory=list)      # in the index, not in the video
    index_gaps: list[int] = field(default_factory=list)      # frame numbers the index skips (source="index")
    not_imported: list[int] = field(default_factory=list)    # frames neither copy could give
    vectors_dropped: list[int] = field(default_factory=list) # imported text is not the text the vector was made from
    sha256: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _read(path: str, what: str, limit: int) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > limit:
            raise CorruptFileError(f"{path}: {size} bytes is too large for a V1 {what}", code="MV2-E-V1-FORMAT")
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise StorageIOError(f"the V1 {what} {path} does not exist", code="MV2-E-V1-MISSING") from None
    except IsADirectoryError:
        raise StorageIOError(f"the V1 {what} {path} is a directory", code="MV2-E-V1-MISSING") from None
    except OSError as exc:
        raise StorageIOError(f"cannot read the V1 {what} {path}: {exc.strerror}", code="MV2-E-V1-MISSING") from None


def faiss_path_for(index_json: str) -> str:
    """Where V1 puts the FAISS file: the index JSON's path with ``.faiss`` for ``.json``."""
    root, ext = os.path.splitext(index_json)
    return (root if ext == ".json" else index_json) + ".faiss"


def import_v1(video: str | os.PathLike, index_json: str | os.PathLike, output: str | os.PathLike, *,
              source: str = "both", timestamp: int | None = None, faiss: str | os.PathLike | None = None,
              progress: Callable[[str, int, int | None], None] | None = None) -> ImportReport:
    """Import the V1 memory ``video`` + ``index_json`` (+ its ``.faiss``) into a new MV2 file.

    ``progress(stage, done, total)`` is called while decoding (``stage="decode"``) and writing
    (``"write"``). Raises ``MV2-E-V1-*`` errors before writing anything; ``output`` must not exist."""
    video, index_json, output = os.fspath(video), os.fspath(index_json), os.fspath(output)
    faiss = os.fspath(faiss) if faiss is not None else faiss_path_for(index_json)
    if source not in SOURCES:
        raise UsageError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if os.path.lexists(output):
        raise UsageError(f"{output} already exists")
    if not os.path.isfile(video):
        raise StorageIOError(f"the V1 video {video} does not exist", code="MV2-E-V1-MISSING")
    if timestamp is not None:
        ts, ts_source = check_timestamp(timestamp), "explicit"
    else:
        ts, ts_source = int(os.stat(video).st_mtime), "video-mtime"
    index = parse_index(_read(index_json, "index JSON", MAX_INDEX_JSON_BYTES), name=index_json)
    flat = read_flat_index(_read(faiss, "FAISS index", 1 << 34), name=faiss)
    _check_vectors(index, flat, index_json, faiss)
    rows = {int(cid): i for i, cid in enumerate(flat.ids.tolist())}

    _check_container(video)
    frames: list[VideoFrame] | None = None
    video_error = None
    if source != "index":
        frames = read_video(video, progress=(lambda d, t: progress("decode", d, t)) if progress else None)
        if frames and frames[-1].problem and frames[-1].problem.startswith(TAIL_ERROR):
            video_error = frames.pop().problem
    report = ImportReport(video=os.path.basename(video), index=os.path.basename(index_json),
                          output=os.path.basename(output), source=source, timestamp=ts, timestamp_source=ts_source,
                          model=index.model, video_frames=None if frames is None else len(frames),
                          index_chunks=len(index.chunks), video_error=video_error)
    plan = _plan(index, frames, report, video)
    items = []
    for frame_no, chunk, text, text_source in plan:
        vec = None
        if chunk is not None and text == chunk.text:
            vec = flat.vectors[rows[chunk.id]]
        elif chunk is not None:
            report.vectors_dropped.append(frame_no)
        meta = {"v1_frame": frame_no, "v1_chunk_id": None if chunk is None else chunk.id,
                "v1_text_source": text_source, "v1_timestamp_source": ts_source}
        items.append(dict(content=text, uri=f"mv2://v1/{_stem(video)}/{frame_no}",
                          title=f"V1 frame {frame_no}", timestamp=ts, metadata=meta, embedding=vec))
    report.vectors_written = sum(1 for it in items if it["embedding"] is not None)
    report.frames_written = len(items)
    _write(output, items, index.model, progress)
    with open(output, "rb") as f:
        report.sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    return report


def _check_container(video: str) -> None:
    """V1 writes MP4 (OpenCV) or Matroska (ffmpeg); anything else is not a V1 video, even
    when the video is not decoded."""
    with open(video, "rb") as f:
        head = f.read(12)
    if head[4:8] != b"ftyp" and head[:4] != b"\x1a\x45\xdf\xa3":
        raise CorruptFileError(f"{video}: not an MP4 or Matroska video, so not a V1 memory", code="MV2-E-V1-FORMAT", offset=0)


def _stem(video: str) -> str:
    return os.path.splitext(os.path.basename(video))[0]


def _check_vectors(index, flat, index_json: str, faiss: str) -> None:
    ids = {c.id for c in index.chunks}
    if set(flat.ids.tolist()) != ids:
        extra = sorted(set(flat.ids.tolist()) - ids)[:10]
        missing = sorted(ids - set(flat.ids.tolist()))[:10]
        raise CorruptFileError(f"{faiss} and {index_json} are not one V1 index: vector ids without a chunk {extra}, "
                               f"chunks without a vector {missing}", code="MV2-E-V1-MISMATCH")
    if index.dimension is not None and index.dimension != flat.dimension:
        raise CorruptFileError(f"{index_json} says dimension {index.dimension}, {faiss} holds {flat.dimension}",
                               code="MV2-E-V1-MISMATCH")


def _plan(index, frames: list[VideoFrame] | None, report: ImportReport, video: str):
    """(frame number, index chunk or None, text, text source) for every frame to import."""
    by_frame = index.by_frame()
    out = []
    if frames is None:
        report.index_gaps = sorted(set(range(max(by_frame, default=-1) + 1)) - set(by_frame))
        return [(c.frame, c, c.text, "index") for c in index.chunks]
    decoded = [f for f in frames if f.payload is not None]
    if frames and not decoded:
        raise CorruptFileError(f"{video}: none of its {len(frames)} frames holds a readable V1 QR code "
                               "(not a V1 video? --source index imports from the index alone)", code="MV2-E-V1-FORMAT")
    compared = agree = 0
    for f in decoded:
        c = by_frame.get(f.frame)
        if c is not None:
            compared += 1
            agree += f.payload["text"] == c.text and f.payload["frame"] == f.frame
    if compared and agree * 2 < compared:
        raise CorruptFileError(f"{video} and {report.index} are different memories: {compared - agree} of the "
                               f"{compared} frames both hold disagree", code="MV2-E-V1-MISMATCH")
    for f in frames:
        c = by_frame.get(f.frame)
        p = f.payload
        if p is not None and p["frame"] != f.frame:
            p = None  # a code that names another frame is no evidence about this one: unreadable
        if p is None:
            report.unreadable.append(f.frame)
        if c is None and p is None:
            report.not_imported.append(f.frame)
            continue
        if c is None:
            report.video_only.append(f.frame)
            out.append((f.frame, None, p["text"], "video"))
        elif p is None:
            out.append((f.frame, c, c.text, "index"))
        elif p["text"] == c.text:
            report.agreeing += 1
            out.append((f.frame, c, c.text, "video+index"))
        else:
            report.disagreeing.append(f.frame)
            out.append((f.frame, c, p["text"] if report.source == "video" else c.text, report.source))
    for c in index.chunks:
        if c.frame >= len(frames):
            report.index_only.append(c.frame)
            out.append((c.frame, c, c.text, "index"))
    if report.disagreeing and report.source == "both":
        raise CorruptFileError(f"the video and the index disagree on {len(report.disagreeing)} frame(s) "
                               f"{_ids(report.disagreeing)}; choose the authority with source='video' or 'index'",
                               code="MV2-E-V1-MISMATCH")
    return out


def _ids(xs: list[int], n: int = 20) -> str:
    return "[" + ", ".join(map(str, xs[:n])) + (", ..." if len(xs) > n else "") + "]"


def _write(output: str, items: list[dict], model: str, progress) -> None:
    """Write every frame into a new file beside ``output`` and rename it into place, so that
    a failed import leaves nothing behind."""
    from .. import memory

    tmp = output + ".importing"
    if os.path.lexists(tmp):
        os.remove(tmp)
    try:
        with memory.create(tmp) as mem:
            for start in range(0, len(items), PUT_BATCH):
                batch = items[start:start + PUT_BATCH]
                mem.put_many([dict(it, embedding=None if it["embedding"] is None else np.asarray(it["embedding"]).tolist())
                              for it in batch])
                if progress:
                    progress("write", start + len(batch), len(items))
            if any(it["embedding"] is not None for it in items):
                mem.set_vector_model(model)
        os.replace(tmp, output)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise


__all__ = ["import_v1", "ImportReport", "SOURCES", "faiss_path_for", "MV2Error"]
