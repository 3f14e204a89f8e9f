"""Check that spec/mv2.ksy (Kaitai Struct) reads real files as the Construct schema does.

The Kaitai description is compiled to Python with the npm package ``kaitai-struct-compiler``
(its JavaScript build: it has no command-line program, so a small Node driver calls its
``compile`` API; ``npx kaitai-struct-compiler`` does not work) and run with the PyPI runtime
``kaitaistruct``. Every ``*.mv2`` file is then parsed both ways and compared field by field:

* header: every field of ``mv2.format.header.Header``;
* footer: every field of ``mv2.format.footer.Footer`` (last 56 bytes), and Kaitai's ``toc``
  against the ``toc_len`` bytes before the footer;
* WAL: the records found by walking the region with ``WalRecordHeader`` from offset 0 to the
  sentinel (48 zero bytes) or to fewer than 48 bytes left: sequence, length, reserved,
  checksum and payload of each, the record count and whether the log ended at a sentinel;
* TOC: decoded by Construct (``mv2.format.revisions.decode_toc``) and by the .ksy's ``toc``
  type, which takes the revision as a parameter and is tried with each revision of its
  ``toc_revision`` enum, newest first, the first that consumes every byte winning (spec 11);
  both must pick the same revision, and then every value (every field of every frame, of
  every manifest, catalog descriptor, the ticket, binding, replay manifest and enrichment
  queue; every Option tag, count and map entry) must be equal;
* time index: located through the TOC, parsed with ``TimeIndex`` and with Kaitai's
  ``time_index`` type: magic, count, every entry, and the bytes consumed.

Why npm and a cache rather than a committed parser: kaitai-struct-compiler is not on PyPI;
its npm build runs on Node (present wherever the suite runs), so the check installs it
itself, once, and always compiles the .ksy as it is. A committed generated parser would
test a stale copy whenever the .ksy changed without regeneration.

Any difference is a bug in the .ksy or in the Construct schema. Usage::

    python tools/ksy_check.py                    # vectors/gold (else ../shared/interop)
    python tools/ksy_check.py DIR_OR_FILE ...    # other files
    python tools/ksy_check.py --ksc-version 0.10.0 -v

Exit status: 0 if every file agrees, 1 on any mismatch, 2 if the parser cannot be built.
The compiler is installed once with ``npm install --prefix`` under the cache directory
(``$MV2_KSC_CACHE``, else ``$XDG_CACHE_HOME/mv2/ksc``, else ``~/.cache/mv2/ksc``); the
compiled parser is cached there too, keyed by the .ksy's hash and the compiler version.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
KSY = ROOT / "spec" / "mv2.ksy"
GOLD = ROOT / "vectors" / "gold"
INTEROP = ROOT.parent / "shared" / "interop"

KSC_VERSION = "0.11.0"
"""kaitai-struct-compiler release used by default (npm). 0.10.0 works too."""
JS_YAML_VERSION = "4.1.0"
"""YAML parser the driver uses to load the .ksy (the JS compiler takes a parsed object)."""

_DRIVER = r"""
// Compile a .ksy with the JavaScript build of kaitai-struct-compiler (no CLI of its own).
const fs = require("fs"), path = require("path");
const [ksyPath, outDir, lang] = process.argv.slice(2);
const yaml = require("js-yaml");
let ksc = require("kaitai-struct-compiler");
if (typeof ksc === "function") ksc = new ksc();  // before 0.11 the module exports a constructor
const ksy = yaml.load(fs.readFileSync(ksyPath, "utf8"));
ksc.compile(lang || "python", ksy, null, false).then((files) => {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(outDir, name), text);
  process.stdout.write(JSON.stringify({ version: String(ksc.version), files: Object.keys(files) }) + "\n");
}).catch((e) => {
  process.stderr.write(String((e && (e.stack || e.s)) || e) + "\n");
  process.exit(1);
});
"""


# --- building the parser ------------------------------------------------------------------------


class SetupError(RuntimeError):
    """The Kaitai parser could not be built (no Node, npm failed, the .ksy does not compile)."""


def node_available() -> bool:
    """True if ``node`` and ``npm`` are on PATH (what compiling needs)."""
    return shutil.which("node") is not None and shutil.which("npm") is not None


def cache_dir() -> Path:
    if os.environ.get("MV2_KSC_CACHE"):
        return Path(os.environ["MV2_KSC_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mv2" / "ksc"


def ensure_compiler(version: str = KSC_VERSION, cache: Path | None = None) -> Path:
    """Install kaitai-struct-compiler ``version`` (and js-yaml) under the cache once; return the driver."""
    if not node_available():
        raise SetupError("node and npm are needed to compile spec/mv2.ksy")
    prefix = (cache or cache_dir()) / f"ksc-{version}"
    pkg = prefix / "node_modules" / "kaitai-struct-compiler" / "package.json"
    have = None
    if pkg.exists() and (prefix / "node_modules" / "js-yaml").is_dir():
        have = json.loads(pkg.read_text(encoding="utf-8")).get("version")
    if have != version:
        prefix.mkdir(parents=True, exist_ok=True)
        cmd = ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
               f"kaitai-struct-compiler@{version}", f"js-yaml@{JS_YAML_VERSION}"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise SetupError(f"{' '.join(cmd)} failed:\n{run.stderr.strip()}")
    driver = prefix / "ksc-driver.js"
    if not driver.exists() or driver.read_text(encoding="utf-8") != _DRIVER:
        driver.write_text(_DRIVER, encoding="utf-8")
    return driver


def compile_ksy(outdir: Path, *, ksy: Path = KSY, version: str = KSC_VERSION, cache: Path | None = None) -> Path:
    """Compile ``ksy`` to Python in ``outdir``; return the generated module's path."""
    driver = ensure_compiler(version, cache)
    outdir.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(["node", str(driver), str(ksy), str(outdir), "python"], capture_output=True, text=True)
    if run.returncode != 0:
        raise SetupError(f"kaitai-struct-compiler {version} rejected {ksy}:\n{run.stderr.strip()}")
    files = json.loads(run.stdout.strip().splitlines()[-1])["files"]
    if len(files) != 1:
        raise SetupError(f"expected one generated Python file, got {files}")
    return outdir / files[0]


def cached_compile(*, ksy: Path = KSY, version: str = KSC_VERSION, cache: Path | None = None) -> Path:
    """Compile into the cache, keyed by the .ksy's content and the compiler version."""
    key = hashlib.sha256(ksy.read_bytes()).hexdigest()[:16]
    outdir = (cache or cache_dir()) / "build" / f"{version}-{key}"
    done = outdir / ".done"
    if done.exists():
        return outdir / done.read_text(encoding="utf-8").strip()
    path = compile_ksy(outdir, ksy=ksy, version=version, cache=cache)
    done.write_text(path.name, encoding="utf-8")
    return path


def load_parser(py_path: Path) -> type:
    """Import the generated module under a private name (``mv2.py`` would shadow the ``mv2`` package)."""
    try:
        import kaitaistruct  # noqa: F401
    except ImportError as exc:
        raise SetupError("the Kaitai runtime is missing: pip install kaitaistruct (part of the test extra)") from exc
    name = f"_mv2_kaitai_{hashlib.sha256(str(py_path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, py_path)
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Mv2


# --- comparing ------------------------------------------------------------------------------------


@dataclass
class FileReport:
    path: Path
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _show(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        b = bytes(v)
        return f"{len(b)} bytes {b[:16].hex()}{'…' if len(b) > 16 else ''}"
    return repr(v)


def _same(rep: FileReport, what: str, kaitai, construct) -> bool:
    if isinstance(kaitai, bytearray):
        kaitai = bytes(kaitai)
    if isinstance(construct, bytearray):
        construct = bytes(construct)
    if kaitai != construct:
        rep.mismatches.append(f"{what}: kaitai {_show(kaitai)} != construct {_show(construct)}")
        return False
    return True


def _compare_struct(rep: FileReport, what: str, kobj, cvalue, names: list[str]) -> None:
    for name in names:
        if not hasattr(kobj, name):
            rep.mismatches.append(f"{what}.{name}: in the Construct schema, missing from the .ksy")
            continue
        _same(rep, f"{what}.{name}", getattr(kobj, name), cvalue[name])


def walk_wal(region: bytes) -> tuple[list[dict], bool, list[str]]:
    """The WAL records by the Construct schema: (records, ended_at_sentinel, notes).

    Walks from region offset 0 to the sentinel (48 zero bytes) or to fewer than 48 bytes left,
    as spec chapter 4.1 says. Does not validate records (that is ``mv2 verify``'s job).
    """
    from mv2.format.wal import WAL_RECORD_HEADER_SIZE, WalRecordHeader

    records, notes, pos = [], [], 0
    while len(region) - pos >= WAL_RECORD_HEADER_SIZE:
        raw = region[pos : pos + WAL_RECORD_HEADER_SIZE]
        h = WalRecordHeader.parse(raw)
        if raw == bytes(WAL_RECORD_HEADER_SIZE):
            return records, True, notes
        if h.sequence == 0 and h.length == 0:
            notes.append(f"WAL offset {pos}: sequence 0 and length 0 but not all 48 bytes zero "
                         "(not a sentinel by spec 4.1; a sequence+length test would stop here)")
        start = pos + WAL_RECORD_HEADER_SIZE
        payload = region[start : start + h.length]
        if len(payload) < h.length:
            notes.append(f"WAL offset {pos}: payload of {h.length} bytes runs past the region")
        records.append(dict(offset=pos, sequence=h.sequence, length=h.length, reserved=h.reserved,
                            checksum=h.checksum, payload=payload))
        pos = start + h.length
    return records, False, notes


def kaitai_toc(toc: bytes, Mv2: type):
    """Decode the TOC bytes with the .ksy's ``toc`` type as spec 11 says: each revision of its
    ``toc_revision`` enum, newest first; the first that consumes every byte wins.
    Returns (revision number, parsed object) or (None, reason)."""
    from kaitaistruct import BytesIO, KaitaiStream

    reasons = []
    for rev in sorted((r.value for r in Mv2.TocRevision), reverse=True):
        io_ = KaitaiStream(BytesIO(toc))
        try:
            obj = Mv2.Toc(rev, io_)
        except Exception as exc:  # noqa: BLE001 - any failure means "not this revision"
            reasons.append(f"{rev}: {type(exc).__name__}")
            continue
        if io_.pos() == len(toc):
            return rev, obj
        reasons.append(f"{rev}: {len(toc) - io_.pos()} bytes left")
    return None, "; ".join(reasons)


def compare_value(rep: FileReport, what: str, kobj, cvalue, con) -> int:
    """Compare a Kaitai-parsed value with the Construct value ``cvalue`` of schema ``con``,
    field by field and element by element; return how many leaf values were compared."""
    from construct import Bytes, Const, FormatField, Renamed, Struct

    from mv2.format import bincode as B

    while isinstance(con, Renamed):
        con = con.subcon
    if isinstance(con, Struct):
        n = 0
        for sc in con.subcons:
            if not hasattr(kobj, sc.name):
                rep.mismatches.append(f"{what}.{sc.name}: in the Construct schema, missing from the .ksy")
                continue
            n += compare_value(rep, f"{what}.{sc.name}", getattr(kobj, sc.name), cvalue[sc.name], sc)
        return n
    if isinstance(con, B.Option):
        if not _same(rep, f"{what} (Option tag)", kobj.tag, 0 if cvalue is None else 1) or cvalue is None:
            return 1
        return 1 + compare_value(rep, what, kobj.value, cvalue, con.subcon)
    if isinstance(con, B.Vec):
        if not _same(rep, f"{what} (count)", kobj.count, len(cvalue)):
            return 1
        return 1 + sum(compare_value(rep, f"{what}[{i}]", k, c, con.subcon)
                       for i, (k, c) in enumerate(zip(kobj.items, cvalue)))
    if isinstance(con, B.Map):
        if not _same(rep, f"{what} (count)", kobj.count, len(cvalue)):
            return 1
        n = 1
        for i, (e, (key, value)) in enumerate(zip(kobj.entries, cvalue.items())):
            n += compare_value(rep, f"{what}[{i}].key", e.key, key, con.key)
            n += compare_value(rep, f"{what}[{i}].value", e.value, value, con.value)
        return n
    if isinstance(con, B.String):
        _same(rep, what, kobj.value, cvalue)
    elif isinstance(con, B.Enum):
        _same(rep, what, getattr(kobj, "name", kobj), cvalue)
    elif isinstance(con, B.Bool):
        _same(rep, what, kobj, int(cvalue))
    elif isinstance(con, (Bytes, FormatField, Const)):
        _same(rep, what, kobj, cvalue)
    else:
        rep.mismatches.append(f"{what}: no comparison for {type(con).__name__}")
    return 1


def _check_toc(rep: FileReport, toc: bytes, rev_name: str, toc_value: dict, Mv2: type) -> None:
    """Every field of the TOC (frames, manifests, catalog descriptors, ticket, binding, replay,
    enrichment queue) as the .ksy reads it, against the Construct decode."""
    from mv2.format.revisions import REVISIONS

    rev, obj = kaitai_toc(toc, Mv2)
    if rev is None:
        rep.mismatches.append(f"toc: no revision of the .ksy decodes it exactly ({obj}); Construct: {rev_name}")
        return
    if f"memvid-2.0.{rev}" != rev_name:
        rep.mismatches.append(f"toc: the .ksy decodes it as revision {rev}, Construct as {rev_name}")
        return
    n = compare_value(rep, "toc", obj, toc_value, REVISIONS[rev_name].toc)
    rep.summary["toc_fields"] = f"{n} values"


def decode_toc_any(toc: bytes):
    """(revision name, TOC value as plain dicts) for any revision ``mv2.format.revisions`` knows."""
    from mv2.format import revisions

    rev, value = revisions.decode_toc(toc)
    return rev.name, value


def check_file(path: Path, Mv2: type) -> FileReport:
    """Parse ``path`` with the Kaitai parser class ``Mv2`` and with Construct; record every difference."""
    from kaitaistruct import BytesIO, KaitaiStream

    from mv2.format.bincode import fields
    from mv2.format.footer import FOOTER_SIZE, Footer
    from mv2.format.header import HEADER_SIZE, Header
    from mv2.format.time_index import TimeIndex
    from mv2.format.wal import WalRecordHeader

    rep = FileReport(path)
    data = path.read_bytes()

    try:
        k = Mv2.from_bytes(data)
    except Exception as exc:  # noqa: BLE001
        rep.mismatches.append(f"kaitai cannot parse the file: {type(exc).__name__}: {exc}")
        return rep

    # header
    h = Header.parse(data[:HEADER_SIZE])
    _compare_struct(rep, "header", k.header, h, fields(Header))
    _same(rep, "header (bytes consumed)", k.header._io.pos(), Header.sizeof())
    rep.summary["header"] = f"{len(fields(Header))} fields"

    # footer and TOC bytes
    try:
        kf = k.footer
    except Exception as exc:  # noqa: BLE001
        rep.mismatches.append(f"kaitai cannot parse the footer: {type(exc).__name__}: {exc}")
        return rep
    f = Footer.parse(data[-FOOTER_SIZE:])
    _compare_struct(rep, "footer", kf, f, fields(Footer))
    _same(rep, "footer (bytes consumed)", kf._io.pos(), Footer.sizeof())
    rep.summary["footer"] = f"{len(fields(Footer))} fields"
    toc = data[len(data) - FOOTER_SIZE - f.toc_len : len(data) - FOOTER_SIZE]
    _same(rep, "toc", k.toc, toc)
    rep.summary["toc"] = f"{len(toc)} B"
    if h.footer_offset != len(data) - FOOTER_SIZE - f.toc_len:
        rep.notes.append(f"header.footer_offset {h.footer_offset} is not the TOC before the last 56 bytes "
                         f"({len(data) - FOOTER_SIZE - f.toc_len})")

    # WAL
    region = data[h.wal_offset : h.wal_offset + h.wal_size]
    try:
        kw = k.wal
        krecs = list(getattr(kw, "records", None) or [])  # absent when the region is < 48 bytes
        khas_sentinel, knum = kw.has_sentinel, kw.num_records
    except Exception as exc:  # noqa: BLE001
        rep.mismatches.append(f"kaitai cannot parse the WAL: {type(exc).__name__}: {exc}")
    else:
        crecs, c_sentinel, notes = walk_wal(region)
        rep.notes += notes
        _same(rep, "wal.has_sentinel", khas_sentinel, c_sentinel)
        _same(rep, "wal.num_records", knum, len(crecs))
        klive = krecs[:-1] if khas_sentinel else krecs
        _same(rep, "wal.records (count)", len(klive), len(crecs))
        for i, (kr, cr) in enumerate(zip(klive, crecs)):
            where = f"wal.records[{i}] (offset {cr['offset']})"
            for name in fields(WalRecordHeader):
                _same(rep, f"{where}.{name}", getattr(kr.header, name), cr[name])
            _same(rep, f"{where}.payload", kr.payload, cr["payload"])
            if kr.header.is_sentinel:
                rep.mismatches.append(f"{where}: kaitai calls a record before the end a sentinel")
        if khas_sentinel:
            s = krecs[-1]
            if not (s.header.is_sentinel and s.header.length == 0 and s.payload == b""):
                rep.mismatches.append("wal: kaitai's last record is not an empty sentinel")
        head = (crecs[-1]["offset"] + 48 + crecs[-1]["length"]) if crecs else 0
        rep.summary["wal"] = (f"{len(crecs)} records, " + (f"sentinel at {head}" if c_sentinel else f"no sentinel, end {head}")
                              + f" of {h.wal_size}")

    # time index, located through the TOC
    try:
        rev, toc_value = decode_toc_any(toc)
    except Exception as exc:  # noqa: BLE001
        rep.notes.append(f"time index skipped: no known TOC revision decodes the TOC ({type(exc).__name__}: "
                         f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''})")
        rep.summary["time_index"] = "skipped"
        return rep
    rep.summary["revision"] = rev
    _check_toc(rep, toc, rev, toc_value, Mv2)
    _check_memories(rep, data, toc_value, Mv2)
    m = toc_value["time_index"]
    if m is None:
        rep.summary["time_index"] = "none"
        return rep
    seg = data[m["bytes_offset"] : m["bytes_offset"] + m["bytes_length"]]
    stream = io.BytesIO(seg)
    try:
        ct = TimeIndex.parse_stream(stream)
        c_used = stream.tell()
    except Exception as exc:  # noqa: BLE001
        ct, c_used = None, None
        c_err = f"{type(exc).__name__}: {exc}"
    try:
        kio = KaitaiStream(BytesIO(seg))
        kt = Mv2.TimeIndex(kio)
        k_used = kio.pos()
    except Exception as exc:  # noqa: BLE001
        kt, k_used = None, None
        k_err = f"{type(exc).__name__}: {exc}"
    if ct is None or kt is None:
        if ct is None and kt is None:
            rep.notes.append(f"time index at {m['bytes_offset']}: neither parser reads it (construct: {c_err}; kaitai: {k_err})")
        else:
            rep.mismatches.append("time index: only one parser reads it: "
                                  + (f"construct fails ({c_err})" if ct is None else f"kaitai fails ({k_err})"))
        return rep
    _same(rep, "time_index.magic", kt.magic, ct.magic)
    _same(rep, "time_index.count", kt.count, ct.count)
    kent = [(e.timestamp, e.frame_id) for e in kt.entries]
    cent = [(e.timestamp, e.frame_id) for e in ct.entries]
    _same(rep, "time_index.entries (count)", len(kent), len(cent))
    diff = [i for i, (a, b) in enumerate(zip(kent, cent)) if a != b]
    for i in diff[:3]:
        _same(rep, f"time_index.entries[{i}] (timestamp, frame_id)", kent[i], cent[i])
    if len(diff) > 3:
        rep.mismatches.append(f"time_index.entries: {len(diff) - 3} more entries differ")
    _same(rep, "time_index (bytes consumed)", k_used, c_used)
    if c_used != len(seg):
        rep.notes.append(f"time index: {len(seg)} bytes in the manifest, {c_used} read")
    if ct.count != m["entry_count"]:
        rep.notes.append(f"time index: count {ct.count} != manifest entry_count {m['entry_count']}")
    rep.summary["time_index"] = f"{ct.count} entries"
    return rep


def _check_memories(rep: FileReport, data: bytes, toc_value: dict, Mv2: type) -> None:
    """The memories track's framing, read by both parsers."""
    from kaitaistruct import BytesIO, KaitaiStream

    from mv2.format.segments import TrackHeader

    m = toc_value.get("memories_track")
    if m is None or not m["bytes_length"]:
        rep.summary["memories"] = "none"
        return
    seg = data[m["bytes_offset"] : m["bytes_offset"] + m["bytes_length"]]
    try:
        ct = TrackHeader.parse(seg)
        kio = KaitaiStream(BytesIO(seg))
        kt = Mv2.TrackHeader(kio)
    except Exception as exc:  # noqa: BLE001
        rep.mismatches.append(f"memories track at {m['bytes_offset']}: a parser fails ({type(exc).__name__}: {exc})")
        return
    _same(rep, "memories.magic", bytes(kt.magic), bytes(ct.magic))
    _same(rep, "memories.version", kt.version, ct.version)
    _same(rep, "memories.length", kt.length, ct.length)
    _same(rep, "memories (bytes consumed)", kio.pos(), len(seg))
    rep.summary["memories"] = f"{ct.length} body bytes"


# --- driving --------------------------------------------------------------------------------------


def default_paths() -> list[Path]:
    if any(GOLD.rglob("*.mv2")):
        return [GOLD]
    return [INTEROP]


def collect(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out += sorted(p.rglob("*.mv2")) if p.is_dir() else [p]
    return out


def check_all(files: list[Path], Mv2: type) -> list[FileReport]:
    return [check_file(p, Mv2) for p in files]


def _label(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, help="files or directories (default: vectors/gold, else ../shared/interop)")
    ap.add_argument("--ksy", type=Path, default=KSY)
    ap.add_argument("--ksc-version", default=KSC_VERSION, help=f"kaitai-struct-compiler version (default {KSC_VERSION})")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where the compiler and the compiled parser are kept")
    ap.add_argument("--outdir", type=Path, default=None, help="compile here (always recompiles) instead of the cache")
    ap.add_argument("-v", "--verbose", action="store_true", help="print notes for files that agree too")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    try:
        if args.outdir:
            py = compile_ksy(args.outdir, ksy=args.ksy, version=args.ksc_version, cache=args.cache_dir)
        else:
            py = cached_compile(ksy=args.ksy, version=args.ksc_version, cache=args.cache_dir)
        Mv2 = load_parser(py)
    except SetupError as exc:
        print(f"ksy_check: {exc}", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    import kaitaistruct

    print(f"parser: {py} (kaitai-struct-compiler {args.ksc_version}, kaitaistruct {kaitaistruct.__version__}), "
          f"{t1 - t0:.2f} s")

    files = collect(args.paths or default_paths())
    if not files:
        print("ksy_check: no .mv2 files found", file=sys.stderr)
        return 2
    reports = check_all(files, Mv2)
    t2 = time.perf_counter()
    for r in reports:
        s = r.summary
        line = ", ".join(f"{k} {v}" for k, v in s.items() if k != "revision")
        rev = f" [{s['revision']}]" if "revision" in s else ""
        print(f"{'ok  ' if r.ok else 'FAIL'}  {_label(r.path)}: {line}{rev}")
        for m in r.mismatches:
            print(f"      mismatch: {m}")
        if args.verbose or not r.ok or any("skipped" in n for n in r.notes):
            for n in r.notes:
                print(f"      note: {n}")
    bad = sum(not r.ok for r in reports)
    print(f"checked {len(reports)} files in {t2 - t1:.2f} s")
    print(f"ksy_check: {len(reports) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
