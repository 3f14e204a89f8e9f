"""Generate the spec's byte tables from the Construct schema, or check that they match it.

A spec page marks a generated table with a pair of HTML comments::

    <!-- BEGIN GENERATED table header.Header -->
    ...
    <!-- END GENERATED -->

The name after ``table`` is ``<module>.<attribute>`` under ``mv2.format`` (for example
``frame.Frame`` or ``toc.SegmentCatalog``), or ``errors`` for the error-code registry, or
``revision.<name>`` for a whole TOC revision. ``--write`` rewrites the tables in place;
``--check`` (used by the test suite) fails if any table differs from what the schema says, so
the spec and the code cannot drift apart.

    python tools/spec_tables.py --write
    python tools/spec_tables.py --check
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

from construct import Array, Bytes, Const, Construct, FormatField, Renamed, Struct

from mv2.format import bincode as B

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
MODULES = ["header", "footer", "wal", "frame", "toc", "time_index", "segments", "memories", "vecseg"]
BLOCK = re.compile(r"(<!-- BEGIN GENERATED table (\S+) -->\n)(.*?)(<!-- END GENERATED -->)", re.S)

_FMT = {"<Q": "u64", "<q": "i64", "<I": "u32", "<L": "u32", "<l": "i32", "<H": "u16", "<B": "u8", "<f": "f32", "<d": "f64"}


def _names() -> dict[int, str]:
    names: dict[int, str] = {}
    for m in MODULES:
        mod = importlib.import_module(f"mv2.format.{m}")
        for attr, val in vars(mod).items():
            if isinstance(val, Construct) and not attr.startswith("_") and id(val) not in names:
                names[id(val)] = attr
    return names


NAMES = _names()


def unwrap(c):
    while isinstance(c, Renamed):
        c = c.subcon
    return c


def type_name(c, *, top: bool = False) -> str:
    c = unwrap(c)
    if not top and id(c) in NAMES and isinstance(c, (Struct, B.Tagged)):
        return NAMES[id(c)]
    if isinstance(c, FormatField):
        return _FMT.get(c.fmtstr, c.fmtstr)
    if isinstance(c, Const):
        return f"{type_name(c.subcon)} = {c.value}"
    if isinstance(c, Bytes):
        return f"[u8; {c.length}]" if isinstance(c.length, int) else "bytes"
    if isinstance(c, Array):
        n = c.count if isinstance(c.count, int) else "count"
        return f"[{type_name(c.subcon)}; {n}]"
    if isinstance(c, B.Bool):
        return "bool"
    if isinstance(c, B.String):
        return "String"
    if isinstance(c, B.ByteVec):
        return "Vec<u8>"
    if isinstance(c, B.Option):
        return f"Option<{type_name(c.subcon)}>"
    if isinstance(c, B.Vec):
        return f"Vec<{type_name(c.subcon)}>"
    if isinstance(c, B.Map):
        return f"Map<{type_name(c.key)}, {type_name(c.value)}>"
    if isinstance(c, B.Enum):
        return f"{c.rust_name} (u32)"
    if isinstance(c, B.Tagged):
        return c.rust_name
    if isinstance(c, Struct):
        return "struct { " + ", ".join(f"{sc.name}: {type_name(sc)}" for sc in c.subcons) + " }" if c.subcons else "() (0 bytes)"
    return type(c).__name__


def fixed_size(c) -> int | None:
    try:
        return unwrap(c).sizeof()
    except Exception:
        return None


def struct_table(s: Struct) -> str:
    rows = []
    fixed = all(fixed_size(sc) is not None for sc in s.subcons if not isinstance(unwrap(sc), Array))
    off = 0
    if fixed:
        rows.append("| Offset | Size | Field | Type | Meaning |")
        rows.append("|---:|---:|---|---|---|")
    else:
        rows.append("| # | Field | Type | Meaning |")
        rows.append("|---:|---|---|---|")
    for i, sc in enumerate(s.subcons):
        doc = (sc.docs or "").replace("|", "\\|").replace("\n", " ")
        t = type_name(sc).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        if fixed:
            size = fixed_size(sc)
            rows.append(f"| {off} | {size if size is not None else 'var'} | `{sc.name}` | {t} | {doc} |")
            off += size or 0
        else:
            rows.append(f"| {i + 1} | `{sc.name}` | {t} | {doc} |")
    return "\n".join(rows) + "\n"


def enum_table(e: B.Enum) -> str:
    rows = ["| Value | Variant |", "|---:|---|"]
    rows += [f"| {i} | `{v}` |" for i, v in enumerate(e.variants)]
    return "\n".join(rows) + "\n"


def tagged_table(t: B.Tagged) -> str:
    rows = ["| Index | Variant | Body |", "|---:|---|---|"]
    rows += [f"| {i} | `{name}` | {type_name(sub).replace('<', '&lt;').replace('>', '&gt;')} |"
             for i, (name, sub) in enumerate(t.variants)]
    return "\n".join(rows) + "\n"


def errors_table() -> str:
    from mv2.errors import CODES

    rows = ["| Code | Kind | Meaning | Chapter |", "|---|---|---|---|"]
    for info in CODES.values():
        rows.append(f"| `{info.code}` | {info.kind} | {info.title} | {info.section} |")
    return "\n".join(rows) + "\n"


def revisions_table() -> str:
    from mv2.format.revisions import REVISION_ORDER, REVISIONS

    rows = ["| Revision | Written by | TOC fields (in order) | Frame fields | Notes |", "|---|---|---|---:|---|"]
    for name in REVISION_ORDER:
        r = REVISIONS[name]
        fields = ", ".join(f"`{sc.name}`" for sc in r.toc.subcons)
        rows.append(f"| `{name}` | {r.written_by} | {fields} | {len(r.frame.subcons)} | {r.notes} |")
    return "\n".join(rows) + "\n"


def field_paths(c, prefix: str = "") -> dict[str, str]:
    """Every field under ``c`` by dotted path (through Option and Vec), with its type."""
    c = unwrap(c)
    while isinstance(c, (B.Option, B.Vec)):
        c = unwrap(c.subcon)
    out = {}
    if isinstance(c, Struct):
        for sc in c.subcons:
            if sc.name:
                path = f"{prefix}{sc.name}"
                out[path] = type_name(sc)
                out.update(field_paths(sc, path + "."))
    return out


def revision_differences_table() -> str:
    """The fields some revision lacks: one row per field, one column per revision."""
    from mv2.format.revisions import REVISION_ORDER, REVISIONS

    paths = {name: field_paths(REVISIONS[name].toc) for name in REVISION_ORDER}
    newest = paths[REVISION_ORDER[0]]
    every = list(newest) + [p for name in REVISION_ORDER[1:] for p in paths[name] if p not in newest]
    rows = ["| Field | Type | " + " | ".join(f"`{n}`" for n in REVISION_ORDER) + " |",
            "|---|---|" + "---|" * len(REVISION_ORDER)]
    differing: set[str] = set()
    for path in every:
        have = [path in paths[n] for n in REVISION_ORDER]
        if all(have):
            continue
        differing.add(path)
        if any(path.startswith(d + ".") for d in differing):
            continue  # inside a field that is itself absent: listed once, at the top
        kind = next(paths[n][path] for n in REVISION_ORDER if path in paths[n])
        rows.append(f"| `{path}` | {kind} | " + " | ".join("yes" if h else "—" for h in have) + " |")
    return "\n".join(rows) + "\n"


def render(name: str) -> str:
    if name == "errors":
        return errors_table()
    if name == "revisions":
        return revisions_table()
    if name == "revision-differences":
        return revision_differences_table()
    if name.startswith("revision."):
        from mv2.format.revisions import REVISIONS

        return struct_table(REVISIONS[name.split(".", 1)[1]].toc)
    mod, attr = name.split(".", 1)
    obj = getattr(importlib.import_module(f"mv2.format.{mod}"), attr)
    obj = unwrap(obj)
    if isinstance(obj, B.Enum):
        return enum_table(obj)
    if isinstance(obj, B.Tagged):
        return tagged_table(obj)
    if isinstance(obj, Struct):
        return struct_table(obj)
    raise SystemExit(f"cannot render {name}: {type(obj).__name__}")


NOT_TABLED = {
    "toc.Toc_2_0_160": "the whole TOC, tabled per revision (`revision.<name>`)",
}
"""Schema objects that have no table of their own, and why."""


def schema_structures() -> dict[str, list[str]]:
    """Every structure, enum and tagged enum the schema defines, as ``{canonical: [aliases]}``.

    An object re-exported by another module (``wal.DocMetadata`` is ``frame.DocMetadata``)
    is one structure; its canonical name is the first under :data:`MODULES` order."""
    seen: dict[int, list[str]] = {}
    for m in MODULES:
        mod = importlib.import_module(f"mv2.format.{m}")
        for attr, val in vars(mod).items():
            if attr.startswith("_"):
                continue
            obj = unwrap(val) if isinstance(val, Construct) else None
            if isinstance(obj, (Struct, B.Enum, B.Tagged)):
                seen.setdefault(id(obj), []).append(f"{m}.{attr}")
    return {names[0]: names for names in seen.values()}


def tabled_names() -> set[str]:
    return {m.group(2) for page in SPEC.rglob("*.md") for m in BLOCK.finditer(page.read_text(encoding="utf-8"))}


def untabled() -> list[str]:
    """Structures of the schema that no spec page has a generated table for."""
    have = tabled_names()
    return sorted(c for c, names in schema_structures().items()
                  if c not in NOT_TABLED and not have.intersection(names))


def process(write: bool) -> list[str]:
    stale = []
    for page in sorted(SPEC.rglob("*.md")):
        text = page.read_text(encoding="utf-8")

        def repl(m):
            want = render(m.group(2))
            if m.group(3) != want:
                stale.append(f"{page.relative_to(ROOT)}: table {m.group(2)}")
            return m.group(1) + want + m.group(4)

        new = BLOCK.sub(repl, text)
        if write and new != text:
            page.write_text(new, encoding="utf-8")
    return stale


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate or check the spec's byte tables.")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    stale = process(write=args.write)
    if args.check and stale:
        print("spec tables differ from the schema (run tools/spec_tables.py --write):", *stale, sep="\n  ")
        return 1
    if args.write:
        print(f"updated {len(stale)} table(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
