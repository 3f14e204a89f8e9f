"""The runner catches adapters that lie, crash, hang, leave files behind or modify what they read."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess

import pytest

from conformance_support import CONFORMANCE, PY, ROOT, fake, outcomes, run_suite
from mv2_conformance.adapter import Adapter, AdapterError
from mv2_conformance.expectations import Expectations, ExpectationsError, parse
from mv2_conformance.vectors import VectorError, load_cases

# One case of each family, chosen so that an honest answer and a lie differ in every check.
SAMPLE = ["valid/single", "gold/memvid-sdk-2.0.160/deleted", "invalid/header.magic.001", "crash/wal.torn.001"]
MAGIC = ["invalid/header.magic."]  # three cases with the same expectation


def test_a_lying_adapter_fails_every_family():
    report = run_suite(fake("lie"), only=SAMPLE)
    got = outcomes(report)
    assert got["valid/single:dump"] == got["valid/single:sha256"] == "failed"
    assert got["gold/memvid-sdk-2.0.160/deleted:dump"] == "failed"
    assert got["gold/memvid-sdk-2.0.160/deleted:find:penicillin"] == "failed"
    assert got["invalid/header.magic.001:detect"] == got["invalid/header.magic.001:code"] == "failed"
    assert got["invalid/header.magic.001:offset"] == "warned"  # RECOMMENDED: reported, does not fail the run
    assert got["crash/wal.torn.001:recover"] == "failed"
    assert not report.ok


def test_memory_cards_are_checked():
    from mv2_conformance.families.gold import compare_cards

    got = outcomes(run_suite(fake("lie"), only=["gold/memvid-sdk-2.0.160/memory-cards"]))
    assert got["gold/memvid-sdk-2.0.160/memory-cards:memories"] == "failed"
    card = {"id": 1, "kind": "fact", "entity": "a", "slot": "b", "value": "c"}
    assert compare_cards({"memory_cards": [dict(card, created_at=5)]}, [dict(card, polarity=None)]).outcome == "passed"
    assert compare_cards({"memory_cards": [dict(card, value="d")]}, [card]).outcome == "failed"
    assert compare_cards({"memory_cards": []}, [card]).outcome == "failed"


def test_a_crash_is_recorded_and_the_adapter_restarted():
    report = run_suite(fake("crash", "header.magic.002"), only=MAGIC)
    got = outcomes(report)
    assert {got[f"invalid/header.magic.002:{c}"] for c in ("detect", "code", "offset")} == {"crashed"}
    # the cases after the crash ran against a fresh adapter and passed
    assert {v for k, v in got.items() if "magic.002" not in k} == {"passed"}
    assert report.restarts == 1 and not report.ok
    assert "1 adapter restart" in report.text()


def test_a_hang_times_out_and_the_run_goes_on():
    report = run_suite(fake("hang", "header.magic.001"), only=MAGIC, timeout=2)
    got = outcomes(report)
    assert got["invalid/header.magic.001:detect"] == "timeout"
    assert got["invalid/header.magic.003:code"] == "passed"
    assert report.counts()["failed"] == 3  # timeouts count as failures


@pytest.mark.parametrize("mode,message", [
    ("sidecar", "files appeared beside the memory file"),
    ("modify", "a read-only command modified the file"),
    ("garbage", "the reply broke the protocol"),
])
def test_single_file_read_only_and_protocol_violations_fail(mode, message):
    report = run_suite(fake(mode, "memvid-sdk-2.0.160/single"), only=["gold/memvid-sdk-2.0.160/single:verify"])
    [rec] = report.records
    assert rec.outcome == "failed" and message in rec.message


def test_a_wrong_handshake_is_refused():
    with pytest.raises(AdapterError, match="protocol 2"):
        Adapter(fake("badhello")).start()
    with pytest.raises(AdapterError, match="cannot start"):
        Adapter(["/nonexistent/adapter"]).start()


def test_expected_failures_become_xfail_and_stale_ones_xpass():
    exp = Expectations(parse(
        "# the lying adapter\n"
        "invalid/header.magic.001:detect  # it says ok to everything\n"
        "invalid/header.magic.001:code    # same\n"
        "invalid/header.magic.001:offset  # same\n"
        "invalid/header.magic.002:*       # honest for this one, so this entry is stale\n"
        "invalid/nonexistent:detect       # matches nothing\n"))
    report = run_suite(fake("lie", "magic.001"), only=["invalid/header.magic.001", "invalid/header.magic.002"],
                       expectations=exp)
    got = outcomes(report)
    assert {got[f"invalid/header.magic.001:{c}"] for c in ("detect", "code", "offset")} == {"xfail"}
    assert got["invalid/header.magic.002:code"] == "xpass"
    assert not report.ok  # an unexpected pass fails the run, so the file cannot go stale
    assert report.summary().startswith("0 passed, 0 failed, 3 xfail, 0 skipped")
    assert report.unused_expectations == ["invalid/nonexistent:detect (line 6)"]


@pytest.mark.parametrize("text", ["invalid/header.magic.001:code\n", "invalid/header.magic.001:code #\n",
                                  "invalid/header.magic.001  # no check named\n"])
def test_expectation_entries_need_a_test_id_and_a_reason(text):
    with pytest.raises(ExpectationsError):
        parse(text)


def test_undeclared_capabilities_are_skipped_not_failed():
    report = run_suite(fake("lie", "never"), only=SAMPLE)  # honest, all capabilities: a baseline
    assert set(outcomes(report).values()) == {"passed"}
    template = [PY, str(CONFORMANCE / "adapters" / "template-python" / "adapter.py")]
    report = run_suite(template, only=SAMPLE)  # declares verify, implements nothing
    got = outcomes(report)
    assert got["valid/single:dump"] == "skipped" and got["crash/wal.torn.001:recover"] == "skipped"
    assert got["invalid/header.magic.001:detect"] == "skipped"  # declined by the adapter itself
    assert report.ok


@pytest.mark.req("R-LEX-008")
def test_an_implementation_without_tantivy_gets_its_lexical_checks_skipped():
    gold = ["gold/memvid-sdk-2.0.160/deleted", "gold/memvid-sdk-2.0.160/vectors-8d"]
    got = outcomes(run_suite(fake("notantivy"), only=gold))
    lexical = {k: v for k, v in got.items() if ":find:" in k}
    assert lexical and set(lexical.values()) == {"skipped"}
    others = {k: v for k, v in got.items() if k not in lexical}
    assert others and set(others.values()) == {"passed"}, others


def test_damaged_vectors_stop_the_run(tmp_path):
    vectors = tmp_path / "vectors"
    vectors.mkdir()
    for family in ("valid", "gold", "invalid"):
        (vectors / family).symlink_to(ROOT / "vectors" / family)
    shutil.copytree(ROOT / "vectors" / "crash", vectors / "crash")
    victim = vectors / "crash" / "wal.torn.001.mv2"
    data = bytearray(victim.read_bytes())
    data[5000] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(VectorError, match="wal.torn.001.mv2"):
        load_cases(vectors)
    res = subprocess.run([PY, "-m", "mv2_conformance", "run", "--adapter", "proc:" + shlex.join(fake("lie")),
                          "--vectors", str(vectors)], env=dict(os.environ, PYTHONPATH=str(CONFORMANCE)),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "damaged vectors" in res.stderr


def test_cli_exit_status_and_json_report(tmp_path):
    out = tmp_path / "r.json"
    cmd = [PY, "-m", "mv2_conformance", "run", "--adapter", "proc:" + shlex.join(fake("lie", "magic.001")),
           "--only", "invalid/header.magic.00[12]", "--json", str(out)]
    res = subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=str(CONFORMANCE)), capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1, res.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"] == "3 passed, 2 failed, 0 xfail, 0 skipped, 1 warned"
    assert report["implementation"] == {"name": "fake-lie", "version": "0"}
    assert {r["id"] for r in report["results"] if r["outcome"] == "failed"} == {
        "invalid/header.magic.001:detect", "invalid/header.magic.001:code"}
