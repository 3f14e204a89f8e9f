"""The bincode primitives: exact round trips, canonical form, and bounded work on hostile input."""

from __future__ import annotations

import struct
import time

import pytest
from construct import Struct
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mv2.format.bincode import (
    F32, I64, U64, BincodeError, Bool, ByteVec, Enum, Exact, Map, Option, String, Vec, to_plain,
)
from mv2.format.frame import Frame
from mv2.format.revisions import REVISIONS

text = st.text(max_size=40)
Shape = Struct(
    "a" / U64,
    "b" / I64,
    "c" / Option(String()),
    "d" / Vec(String(), min_item=8),
    "e" / Map(String(), String()),
    "f" / Bool(),
    "g" / ByteVec(),
    "h" / Enum("E", ["x", "y", "z"]),
    "i" / Option(Vec(F32, min_item=4)),
)


@st.composite
def shape_values(draw):
    return dict(
        a=draw(st.integers(0, 2**64 - 1)),
        b=draw(st.integers(-(2**63), 2**63 - 1)),
        c=draw(st.none() | text),
        d=draw(st.lists(text, max_size=5)),
        e=draw(st.dictionaries(text, text, max_size=5)),
        f=draw(st.booleans()),
        g=draw(st.binary(max_size=50)),
        h=draw(st.sampled_from(["x", "y", "z"])),
        i=draw(st.none() | st.lists(st.floats(width=32, allow_nan=False), max_size=6)),
    )


@pytest.mark.req("R-ENC-001", "R-ENC-004")
@given(shape_values())
@example(dict(a=0, b=0, c=None, d=[], e={"_io": "x", "_": ""}, f=False, g=b"", h="x", i=None))  # keys like Construct's internals
@settings(max_examples=200, deadline=None)
def test_round_trip_is_exact(v):
    raw = Shape.build(v)
    back = to_plain(Exact(Shape).parse(raw))
    assert Shape.build(back) == raw  # one byte form per value
    assert back["e"] == v["e"] and list(back["e"]) == sorted(v["e"], key=lambda k: k.encode())


@pytest.mark.req("R-ENC-001")
def test_known_encodings():
    assert U64.build(1) == b"\x01" + b"\x00" * 7
    assert I64.build(-2) == b"\xfe" + b"\xff" * 7
    assert String().build("é") == struct.pack("<Q", 2) + "é".encode()
    assert Option(U64).build(None) == b"\x00"
    assert Option(U64).build(3) == b"\x01" + U64.build(3)
    assert Enum("E", ["a", "b"]).build("b") == b"\x01\x00\x00\x00"
    assert Map(String(), String()).build({"b": "1", "a": "2"}).startswith(struct.pack("<Q", 2) + struct.pack("<Q", 1) + b"a")


@pytest.mark.req("R-ENC-002")
@pytest.mark.parametrize("con,raw,kind", [
    (Bool(), b"\x02", "bool"),
    (Option(U64), b"\x05", "option"),
    (Enum("E", ["a"]), b"\x01\x00\x00\x00", "enum"),
])
def test_invalid_values_rejected(con, raw, kind):
    with pytest.raises(BincodeError) as ei:
        con.parse(raw)
    assert ei.value.kind == kind and ei.value.offset == 0


@pytest.mark.req("R-ENC-003")
def test_invalid_utf8_rejected_with_offset():
    raw = struct.pack("<Q", 3) + b"a\xffb"
    with pytest.raises(BincodeError) as ei:
        String().parse(raw)
    assert ei.value.kind == "utf8" and ei.value.offset == 9


@pytest.mark.req("R-ENC-005")
@pytest.mark.parametrize("con", [Vec(U64, min_item=8), ByteVec(), String(), Map(String(), String()), Vec(Struct())])
def test_huge_counts_fail_fast_without_allocating(con):
    raw = struct.pack("<Q", 2**63 - 1) + b"\x00" * 64
    t = time.perf_counter()
    with pytest.raises(BincodeError) as ei:
        con.parse(raw)
    assert ei.value.kind == "length"
    assert time.perf_counter() - t < 0.5


@pytest.mark.req("R-ENC-004")
def test_unsorted_or_duplicate_map_keys_rejected():
    m = Map(String(), String())
    good = m.build({"a": "1", "b": "2"})
    a_entry = String().build("a") + String().build("1")
    b_entry = String().build("b") + String().build("2")
    assert good == struct.pack("<Q", 2) + a_entry + b_entry
    for bad in (struct.pack("<Q", 2) + b_entry + a_entry, struct.pack("<Q", 2) + a_entry + a_entry):
        with pytest.raises(BincodeError) as ei:
            m.parse(bad)
        assert ei.value.kind == "order"


@pytest.mark.req("R-ENC-006")
def test_exact_rejects_trailing_bytes():
    with pytest.raises(BincodeError) as ei:
        Exact(U64).parse(b"\x00" * 9)
    assert ei.value.kind == "trailing"


def test_empty_frame_encodes_to_minimum_size():
    from mv2.format.frame import FRAME_MIN_SIZE

    f = {sc.name: None for sc in Frame.subcons}
    f.update(id=0, timestamp=0, payload_offset=0, payload_length=0, checksum=bytes(32), canonical_encoding="plain",
             tags=[], labels=[], extra_metadata={}, content_dates=[], role="document", status="active",
             enrichment_state="searchable")
    assert len(Frame.build(f)) == FRAME_MIN_SIZE
    assert len(REVISIONS["memvid-2.0.123"].frame.build(f)) == FRAME_MIN_SIZE - 2 - 4
