"""The specification and the code cannot drift: byte tables match the schema, requirement IDs are cited."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

SPEC = ROOT / "spec"
REQ = re.compile(r"\[(R-[A-Z]+-\d{3})\]")
CITE = re.compile(r"""["'](R-[A-Z]+-\d{3})["']""")


def spec_ids() -> dict[str, str]:
    ids = {}
    for page in sorted(SPEC.glob("*.md")):
        for m in REQ.finditer(page.read_text(encoding="utf-8")):
            assert m.group(1) not in ids or ids[m.group(1)] == page.name, f"{m.group(1)} defined twice"
            ids[m.group(1)] = page.name
    return ids


def cited_ids() -> set[str]:
    """IDs that tests cite, and those the vectors' manifests name (every vector is run by
    the tests: test_bad_input, test_gen_vectors, the conformance suite)."""
    import json

    cited = set()
    for folder in ("reference/tests", "conformance", "tools/tests"):
        for p in (ROOT / folder).rglob("*.py"):
            cited |= set(CITE.findall(p.read_text(encoding="utf-8")))
    for manifest in (ROOT / "vectors").glob("*/manifest.json"):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        for entry in m.get("tests", []) + m.get("vectors", []):
            cited |= set(entry.get("requirements", []))
    return cited


def untested() -> dict[str, str]:
    path = SPEC / "untested.txt"
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rid, _, why = line.partition(" ")
            out[rid] = why.strip()
    return out


def test_byte_tables_match_schema():
    import spec_tables

    assert spec_tables.process(write=False) == []


def test_every_schema_structure_has_a_table():
    """No structure, enum or tagged enum of the Construct schema is left without a generated
    table: a new one fails here until a spec page lays it out."""
    import spec_tables

    structures = spec_tables.schema_structures()
    assert {"toc.SegmentSpan", "toc.IndexSegmentRef", "segments.LexSection", "toc.MemoryBinding",
            "frame.DocExif", "segments.HnswUpperNode", "toc.SegmentCompression"} <= set(structures)
    assert spec_tables.untabled() == []


def test_every_table_names_a_schema_structure():
    import spec_tables

    known = {n for names in spec_tables.schema_structures().values() for n in names}
    for name in spec_tables.tabled_names():
        if name in ("errors", "revisions", "revision-differences") or name.startswith("revision."):
            continue
        assert name in known, f"spec table {name} names nothing in the schema"


def test_every_requirement_is_tested_or_listed():
    ids, cited, listed = spec_ids(), cited_ids(), untested()
    assert ids, "no requirement IDs found in spec/"
    missing = sorted(set(ids) - cited - set(listed))
    assert not missing, f"requirements neither cited by a test nor listed in spec/untested.txt: {missing}"
    stale = sorted(set(listed) & cited)
    assert not stale, f"spec/untested.txt lists requirements that tests now cite: {stale}"
    unknown = sorted(cited - set(ids))
    assert not unknown, f"tests cite requirement IDs the spec does not define: {unknown}"
    assert all(why for why in listed.values()), "every untested requirement needs a reason"


@pytest.mark.parametrize("page", sorted(p.name for p in SPEC.glob("*.md")))
def test_generated_blocks_are_closed(page):
    text = (SPEC / page).read_text(encoding="utf-8")
    assert text.count("<!-- BEGIN GENERATED") == text.count("<!-- END GENERATED -->")
