"""Same operations, same bytes: across processes, hash seeds, time zones, locales and directories."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mv2
from mv2 import script

SCRIPT = [
    {"op": "put", "uri": "mv2://profile/allergy", "title": "Allergy", "text": "The user is allergic to penicillin.",
     "timestamp": 1700000000, "tags": ["health", "Allergy"], "labels": ["medical"], "metadata": {"source": "intake", "n": 3},
     "kind": "fact", "track": "profile"},
    {"op": "put", "text": "Ünïcødé — naïve café, 日本語のテキスト, emoji 🎉", "timestamp": 1700000001, "embedding": [0.1, -0.2, 0.3]},
    {"op": "put", "bytes_b64": base64.b64encode(bytes(range(256))).decode(), "timestamp": 1700000002, "uri": "mv2://bin"},
    {"op": "seal"},
    {"op": "supersede", "frame_id": 0, "text": "The user is allergic to penicillin and amoxicillin.", "timestamp": 1700000100},
    {"op": "delete", "frame_id": 2},
    {"op": "put", "text": "after the delete " * 50, "timestamp": 1699999999, "metadata": {"z": [1, 2], "a": {"b": None}}},
    {"op": "seal"},
    {"op": "put", "text": "unsealed at close", "timestamp": 1700000500},
]


def write_script(path) -> None:
    path.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in SCRIPT) + "\n", encoding="utf-8")


def run_apply(script_path, out, env_extra: dict, cwd, options=()) -> str:
    env = dict(os.environ, **env_extra)
    res = subprocess.run([sys.executable, "-m", "mv2.cli.main", "apply", str(script_path), str(out), "--json", *options],
                         env=env, cwd=cwd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["sha256"]


@pytest.mark.req("R-DET-001")
def test_same_script_same_bytes_in_different_environments(tmp_path):
    ops = tmp_path / "ops.jsonl"
    write_script(ops)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    h1 = run_apply(ops, tmp_path / "a" / "m.mv2", {"PYTHONHASHSEED": "1", "TZ": "UTC", "LC_ALL": "C", "LANG": "C"}, tmp_path / "a")
    h2 = run_apply(ops, tmp_path / "b" / "m.mv2", {"PYTHONHASHSEED": "987654", "TZ": "Pacific/Chatham",
                                                   "LC_ALL": "C.UTF-8", "LANG": "tr_TR.UTF-8"}, "/")
    assert h1 == h2
    assert hashlib.sha256((tmp_path / "a" / "m.mv2").read_bytes()).hexdigest() == h1
    # And in this process, through the Python API rather than the command line.
    mem = mv2.create(tmp_path / "c.mv2")
    with mem:
        script.apply(mem, script.parse(ops.read_text(encoding="utf-8")))
    assert hashlib.sha256((tmp_path / "c.mv2").read_bytes()).hexdigest() == h1


@pytest.mark.req("R-DET-001", "R-WAL-014", "R-DUR-004")
@pytest.mark.parametrize("name", ["wal-full", "wal-grow-pending", "compaction"])
def test_growth_and_compaction_are_deterministic(tmp_path, name):
    """The golden vectors that grow the WAL, commit when it is full and compact, written by the
    command line in two unlike environments, give the manifest's SHA-256 both times."""
    from conftest import ROOT

    v = next(v for v in json.loads((ROOT / "vectors" / "valid" / "manifest.json").read_text())["vectors"]
             if v["name"] == name)
    options = ["--wal-size", str(v["wal_size"])]
    for key, value in v["policy"].items():
        options += [f"--{key.replace('_', '-')}", str(value)]
    ops = ROOT / "vectors" / "valid" / v["ops"]
    (tmp_path / "a").mkdir()
    h1 = run_apply(ops, tmp_path / "a" / "m.mv2", {"PYTHONHASHSEED": "3", "TZ": "UTC", "LC_ALL": "C"}, tmp_path / "a", options)
    h2 = run_apply(ops, tmp_path / "b.mv2", {"PYTHONHASHSEED": "4242", "TZ": "Asia/Kathmandu", "LANG": "tr_TR.UTF-8"}, "/",
                   options)
    assert h1 == h2 == v["sha256"]


@pytest.mark.req("R-DET-002")
def test_a_reopened_file_reads_back_what_was_written(tmp_path):
    ops = script.parse("\n".join(json.dumps(o) for o in SCRIPT))
    mem = mv2.create(tmp_path / "m.mv2")
    script.apply(mem, ops)
    before = [{k: v for k, v in f.items() if k != "pending"} for f in mem.dump()["frames"]]
    mem.close()
    with mv2.open(tmp_path / "m.mv2") as r:
        after = [{k: v for k, v in f.items() if k != "pending"} for f in r.dump()["frames"]]
    assert before == after


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
put_op = st.fixed_dictionaries({
    "op": st.just("put"), "text": texts, "timestamp": st.integers(-(2**40), 2**40),
}, optional={"uri": texts, "title": texts, "tags": st.lists(texts, max_size=3),
             "metadata": st.dictionaries(texts, st.integers() | texts, max_size=3), "track": texts})


@st.composite
def op_lists(draw):
    ops = []
    active: list[int] = []
    n = 0
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["put", "put", "put", "seal", "delete", "supersede"]))
        if kind == "put":
            ops.append(draw(put_op))
            active.append(n)
            n += 1
        elif kind == "seal":
            ops.append({"op": "seal"})
        elif active:
            fid = draw(st.sampled_from(active))
            active.remove(fid)
            if kind == "delete":
                ops.append({"op": "delete", "frame_id": fid})
            else:
                ops.append({"op": "supersede", "frame_id": fid, "text": draw(texts), "timestamp": draw(st.integers(0, 2**31))})
                active.append(n)
                n += 1
    return ops


@pytest.mark.req("R-DET-001", "R-DET-002")
@given(op_lists())
@settings(max_examples=25, deadline=None)
def test_any_operation_sequence_is_reproducible(tmp_path_factory, ops):
    d = tmp_path_factory.mktemp("det")
    text = "\n".join(json.dumps(o) for o in ops)
    hashes, dumps = [], []
    for name in ("x.mv2", "y.mv2"):
        mem = mv2.create(d / name, wal_size=4096)
        script.apply(mem, script.parse(text))
        dumps.append([{k: v for k, v in f.items() if k != "pending"} for f in mem.dump()["frames"]])
        mem.close()
        hashes.append(hashlib.sha256((d / name).read_bytes()).hexdigest())
    assert hashes[0] == hashes[1]
    with mv2.open(d / "x.mv2") as r:
        assert [{k: v for k, v in f.items() if k != "pending"} for f in r.dump()["frames"]] == dumps[0]
    assert mv2.verify(d / "x.mv2").ok
