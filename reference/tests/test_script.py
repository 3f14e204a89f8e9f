"""Operation scripts: the format, checking before writing, and the apply/recover commands."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

import mv2
from mv2 import script
from mv2.cli.main import app
from mv2.errors import UsageError

runner = CliRunner()


def lines(*ops) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in ops) + "\n"


@pytest.mark.req("R-OPS-001")
def test_parse_all_operations():
    ops = script.parse(lines(
        {"op": "put", "text": "a", "timestamp": 1, "tags": ["x"]},
        "",
        {"op": "put", "bytes_b64": "AAEC", "timestamp": 2},
        {"op": "supersede", "frame_id": 0, "text": "b", "timestamp": 3},
        {"op": "delete", "frame_id": 1},
        {"op": "seal"},
    ))
    assert [o.op for o in ops] == ["put", "put", "supersede", "delete", "seal"]
    assert ops[1].args["content"] == b"\x00\x01\x02" and ops[0].args["content"] == "a"
    assert [o.line for o in ops] == [1, 3, 4, 5, 6]


@pytest.mark.req("R-OPS-002")
@pytest.mark.parametrize("bad,msg", [
    ('{"op":"put","text":"a"', "not JSON"),
    ('{"op":"rename"}', "one of"),
    ('{"op":"put","text":"a","timestamp":1,"colour":"red"}', "unknown fields"),
    ('{"op":"put","text":"a","bytes_b64":"AA==","timestamp":1}', "not both"),
    ('{"op":"put","timestamp":1}', "needs text"),
    ('{"op":"put","bytes_b64":"@@@","timestamp":1}', "base64"),
    ('{"op":"put","text":"\\ud800","timestamp":1}', "not valid Unicode"),
    ('{"op":"delete","frame_id":"0"}', "integer"),
    ('{"op":"put","text":1,"timestamp":1}', "string"),
])
def test_malformed_lines_are_rejected(bad, msg):
    with pytest.raises(UsageError, match=msg):
        script.parse(bad)


@pytest.mark.req("R-OPS-002")
@pytest.mark.parametrize("ops,msg", [
    ([{"op": "delete", "frame_id": 0}], "does not exist"),
    ([{"op": "put", "text": "a", "timestamp": 1}, {"op": "delete", "frame_id": 0}, {"op": "delete", "frame_id": 0}], "is deleted"),
    ([{"op": "put", "text": "a", "timestamp": 1}, {"op": "supersede", "frame_id": 0, "timestamp": 2},
      {"op": "supersede", "frame_id": 0, "timestamp": 3}], "is superseded"),
    ([{"op": "put", "text": "a", "timestamp": 1}, {"op": "put", "text": "b"}], "timestamp is required"),
    ([{"op": "put", "text": "a", "timestamp": 1}, {"op": "put", "text": "b", "timestamp": 2, "tags": "x"}], "list of strings"),
])
def test_invalid_scripts_leave_the_file_unchanged(tmp_path, ops, msg):
    path = tmp_path / "m.mv2"
    with mv2.create(path) as m:
        m.put("existing", timestamp=0)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    shifted = [dict(o, frame_id=o["frame_id"] + 1) if "frame_id" in o else o for o in ops]
    ops_file = tmp_path / "ops.jsonl"
    ops_file.write_text(lines(*shifted))
    with pytest.raises(UsageError, match=msg):
        script.run_file(ops_file, path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_apply_creates_then_appends(tmp_path):
    ops = tmp_path / "ops.jsonl"
    ops.write_text(lines({"op": "put", "text": "first", "timestamp": 1}, {"op": "put", "text": "second", "timestamp": 2}))
    path = tmp_path / "m.mv2"
    r = runner.invoke(app, ["apply", str(ops), str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["frame_ids"] == [0, 1]
    r = runner.invoke(app, ["apply", str(ops), str(path), "--json"])
    assert json.loads(r.stdout)["frame_ids"] == [2, 3]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines({"op": "delete", "frame_id": 99}))
    r = runner.invoke(app, ["apply", str(bad), str(path)])
    assert r.exit_code == 2 and "does not exist" in r.output
    assert runner.invoke(app, ["apply", str(tmp_path / "none.jsonl"), str(path)]).exit_code == 2


@pytest.mark.req("R-WAL-013")
def test_stale_header_means_nothing_is_pending(tmp_path):
    """A writer that stops between its commit and its header update leaves a stale header."""
    path = tmp_path / "m.mv2"

    class Stop(BaseException):
        pass

    def stop_before_wal_reset(point):
        if point == "wal-reset":
            raise Stop
    m = mv2.create(path)
    m.put("one", timestamp=1)
    m.put("two", timestamp=2)
    m._file.fault = stop_before_wal_reset
    with pytest.raises(Stop):
        m.seal()
    import os
    os.close(m._file.fd)
    from mv2.storage.snapshot import read_snapshot

    with read_snapshot(path) as s:
        assert s.header_stale and s.pending_count == 0
        assert [fs.fields["search_text"].split("\n")[0] for fs in s.frames] == ["one", "two"]
    a = mv2.verify(path)  # a crash state, not damage: valid, with a hint to recover (spec 12.4)
    assert a.ok and [w.code for w in a.warnings] == ["MV2-W-NEEDS-RECOVERY"]
    r = runner.invoke(app, ["recover", str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["header_was_stale"] is True
    assert mv2.verify(path).ok
    with mv2.open(path) as m2:
        assert len(m2.frames()) == 2
