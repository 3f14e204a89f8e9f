"""HP/1 as the runner reads it: the documented schema matches the runner, and bad replies are named."""

from __future__ import annotations

import json

import pytest

from conformance_support import CONFORMANCE
from mv2_conformance.adapter import COMMANDS, KNOWN_CAPABILITIES, AdapterError, check_hello, parse_reply

SCHEMA = json.loads((CONFORMANCE / "protocol" / "hp1.schema.json").read_text(encoding="utf-8"))


def test_schema_lists_the_runners_commands_and_capabilities():
    assert SCHEMA["$defs"]["request"]["properties"]["cmd"]["enum"] == list(COMMANDS)
    caps = SCHEMA["$defs"]["hello_result"]["properties"]["capabilities"]["items"]["enum"]
    assert caps == list(KNOWN_CAPABILITIES)


@pytest.mark.parametrize("line,kind", [
    ('{"seq": 7, "result": {"ok": true}}', "result"),
    ('{"seq": 7, "skipped": "not yet"}', "skipped"),
    ('{"seq": 7, "errored": {"message": "boom"}}', "errored"),
    ('{"seq": 6, "result": {"ok": true}}', "protocol"),          # a reply to another request
    ('{"seq": 7, "result": {}, "skipped": "x"}', "protocol"),    # two answers at once
    ('{"seq": 7, "result": [1]}', "protocol"),                   # result must be an object
    ("ok", "protocol"),
])
def test_replies_are_classified(line, kind):
    assert parse_reply(line, 7).kind == kind


@pytest.mark.parametrize("hello,message", [
    ({"protocol": 1, "implementation": {"name": "x"}, "capabilities": []}, "name the implementation"),
    ({"protocol": 1, "implementation": {"name": "x", "version": "1"}, "capabilities": ["teleport"]}, "unknown capabilities"),
    ({"protocol": 1, "implementation": {"name": "x", "version": "1"}}, "list capabilities"),
])
def test_bad_handshakes_are_refused(hello, message):
    with pytest.raises(AdapterError, match=message):
        check_hello(hello)
