"""Converting a file between TOC revisions (spec: "Revisions", 11.4).

A converted file holds the source's data area byte for byte (payloads, Tantivy files, time
index, vector segments, tracks), moved to follow the target's WAL, and the source's TOC
re-encoded in the target revision. Indexes are therefore carried, not rebuilt: the converted
file searches exactly as the source did. Pending WAL records are committed first (on a copy;
the source is never modified). ``rebuild_indexes`` instead rebuilds them from the frames on
that copy first, for a target release that cannot use an index another writer made.

The translation of the TOC is driven by the two revisions' Construct definitions: the trees
are walked together; a field only the target has receives its default (:data:`DEFAULTS`); a
field only the source has is *lost* unless its value equals that default (so that converting
back would restore it). Losses are reported by name before anything is written, and refused
unless ``allow_loss`` is set. Derived data the target cannot hold (the sketch track) is
rebuilt by readers and is not a loss.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field

from construct import Renamed, Struct

from .errors import UsageError
from .format import bincode as B
from .format.commit import encode_footer, encode_header, encode_toc_with_checksum
from .format.header import WAL_OFFSET
from .format.revisions import REVISIONS, REVISION_ORDER
from .storage.file import _fsync_dir, shift_offsets
from .storage.snapshot import read_snapshot

DEFAULTS = {
    # The value a field takes when a revision that lacks it is converted to one that has it:
    # memvid's own serde defaults, so that memvid reading a converted file sees what it would
    # see decoding an older layout.
    "source_sha256": None,
    "source_path": None,
    "enrichment_state": "searchable",
    "model": None,
    "verified": False,
    "sketch_track": None,
    "enrichment_queue": {"tasks": [], "updated_at": 0},
    "replay_manifest": None,
    "memories_track": None,
    "logic_mesh": None,
    "clip": None,
}
DERIVED = {"sketch_track"}
"""Fields whose content readers rebuild from the frames; dropping them loses nothing."""

WAL_SIZES = {"memvid-2.0.160": 64 * 1024, "memvid-2.0.147": 64 * 1024, "memvid-2.0.131": 64 * 1024,
             "memvid-2.0.123": 4 * 1024 * 1024}
"""The WAL size each release gives a new file; a converted file gets its target's."""


@dataclass
class Conversion:
    source: str
    target: str
    source_revision: str
    losses: list[str] = field(default_factory=list)
    written: bool = False
    sha256: str | None = None

    def to_json(self) -> dict:
        return {"source": self.source, "target": self.target, "source_revision": self.source_revision,
                "losses": self.losses, "written": self.written, "sha256": self.sha256}


def _un(c):
    while isinstance(c, Renamed):
        c = c.subcon
    return c


def adapt(value, src, dst, path: str, losses: list[str]):
    """``value`` (shaped by ``src``) reshaped for ``dst``; losses appended as dotted paths."""
    src, dst = _un(src), _un(dst)
    if value is None:
        return None
    if isinstance(dst, Struct) and isinstance(src, Struct):
        s_fields = {sc.name: sc for sc in src.subcons}
        d_fields = {sc.name: sc for sc in dst.subcons}
        out = {}
        for name, dsc in d_fields.items():
            if name in s_fields:
                out[name] = adapt(value[name], s_fields[name], dsc, f"{path}.{name}", losses)
            else:
                if name not in DEFAULTS:
                    raise UsageError(f"no default for {path}.{name}, which the target revision requires")
                out[name] = DEFAULTS[name]
        for name in s_fields.keys() - d_fields.keys():
            if name in DERIVED:
                continue
            if name not in DEFAULTS or value[name] != DEFAULTS[name]:
                losses.append(f"{path}.{name}")
        return out
    if isinstance(dst, B.Option) and isinstance(src, B.Option):
        return adapt(value, src.subcon, dst.subcon, path, losses)
    if isinstance(dst, B.Vec) and isinstance(src, B.Vec):
        return [adapt(v, src.subcon, dst.subcon, f"{path}[]", losses) for v in value]
    return value


def plan(snap, target: str) -> tuple[dict, list[str]]:
    """The TOC in the target revision and the sorted, de-duplicated losses."""
    if target not in REVISIONS:
        raise UsageError(f"unknown revision {target!r}; known: {', '.join(REVISION_ORDER)}")
    losses: list[str] = []
    toc = adapt(snap.toc, snap.revision.toc, REVISIONS[target].toc, "toc", losses)
    return toc, sorted(set(l.replace("[]", "") for l in losses))


def check(path) -> dict[str, list[str]]:
    """For every known revision, the fields a conversion to it would lose (empty: lossless)."""
    with read_snapshot(path) as snap:
        return {name: plan(snap, name)[1] for name in REVISION_ORDER}


def convert(src, dst, target: str, *, allow_loss: bool = False, rebuild_indexes: bool = False) -> Conversion:
    """Write ``src`` to ``dst`` in revision ``target``. With ``rebuild_indexes`` the indexes are not
    carried but rebuilt from the frames first (a commit on a copy, as the reference writer makes
    over any index it did not write), for a target release that cannot use the source's."""
    src, dst = os.fspath(src), os.fspath(dst)
    if os.path.exists(dst):
        raise UsageError(f"{dst} exists; convert never overwrites")
    if target not in REVISIONS:
        raise UsageError(f"unknown revision {target!r}; known: {', '.join(REVISION_ORDER)}")
    with tempfile.TemporaryDirectory(prefix="mv2-convert-") as tmp:
        work = src
        with read_snapshot(src) as snap:
            pending = snap.pending_count
            source_revision = snap.revision.name
        if pending or rebuild_indexes:
            # Commit on a copy: pending records, so that the data area covers every frame; or
            # a commit that rebuilds the indexes.
            from .memory import open as open_memory

            work = os.path.join(tmp, "recovered.mv2")
            shutil.copyfile(src, work)
            mem = open_memory(work, "a")
            try:
                if rebuild_indexes:
                    mem._seal_with(compact_min_dead=0)  # a commit with no new frame: indexes only
            finally:
                mem.close()
        with read_snapshot(work) as snap:
            toc, losses = plan(snap, target)
            conv = Conversion(src, dst, source_revision, losses)
            if losses and not allow_loss:
                raise UsageError(f"converting to {target} would lose: {', '.join(losses)} "
                                 "(use allow_loss / --allow-loss to convert anyway)", code="MV2-E-LIMIT")
            wal_size = WAL_SIZES.get(target, snap.header["wal_size"])
            old_start = snap.data_start
            data = snap.source.read(old_start, snap.commit.toc_offset - old_start, what="data area")
            toc = shift_offsets(toc, old_start, WAL_OFFSET + wal_size - old_start)
            toc_bytes = encode_toc_with_checksum(toc, target)
            toc_offset = WAL_OFFSET + wal_size + len(data)
            last_seq = max([r.sequence for r in snap.wal.records] + [snap.header["wal_sequence"]])
            header = encode_header(toc_offset=toc_offset, toc_bytes=toc_bytes, wal_size=wal_size,
                                   wal_checkpoint_pos=0, wal_sequence=last_seq)
            image = header + bytes(wal_size) + data + toc_bytes + encode_footer(toc_bytes, snap.commit.generation + 1)
        part = dst + ".mv2-convert"
        with open(part, "xb") as f:
            f.write(image)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, dst)
        _fsync_dir(dst)
    import hashlib

    conv.written = True
    conv.sha256 = hashlib.sha256(image).hexdigest()
    return conv


def describe(path) -> dict:
    """What a file says about its revision and writer (for ``mv2 inspect``)."""
    with read_snapshot(path) as snap:
        info = {"spec_version": f"{snap.header['spec_major']}.{snap.header['spec_minor']}",
                "toc_revision": snap.revision.name, "written_by_revision": snap.revision.written_by,
                "wal_size": snap.header["wal_size"]}
        info.update(writer_hints(snap))
        return info


def writer_hints(snap) -> dict:
    """Clues in the bytes about the writer: the Tantivy version in its file footers and how its
    segments are named (memvid: random UUID v4; the reference writer: content hashes)."""
    import json
    import re

    out = {}
    for x in snap.toc["indexes"]["lex_segments"]:
        name = x["path"]
        if not name.endswith(".term") or not snap.source.contains(x["bytes_offset"], x["bytes_length"]):
            continue
        tail = snap.source.read(x["bytes_offset"] + max(0, x["bytes_length"] - 256), min(256, x["bytes_length"]), what="t")
        m = re.search(rb'\{"version":\{"major":(\d+),"minor":(\d+),"patch":(\d+)', tail)
        if m:
            out["tantivy_version"] = ".".join(g.decode() for g in m.groups())
        uuid = name.split(".")[0]
        random_v4 = len(uuid) == 32 and uuid[12] == "4" and uuid[16] in "89ab"
        out["segment_naming"] = "random UUID v4" if random_v4 else "content hash"
        tv = out.get("tantivy_version", "?")
        out["writer"] = f"memvid-core (Tantivy {tv})" if random_v4 else "mv2 reference writer"
        break
    return out


__all__ = ["convert", "check", "plan", "describe", "Conversion", "DEFAULTS"]
