"""``gold/<producer>/<name>``: files written by released memvid-sdk versions, read back.

Each file's ``NAME.expected.json`` holds what that memvid release itself read from it (its
stats, timeline, ``frame(uri)``, ``blob(uri)`` hashes and ``find`` hits). Checks:

* ``verify`` (required): the file is reported valid.
* ``dump`` (required): the dump agrees with the oracle: frame and active-frame counts; for
  every URI, the newest frame with it has the oracle's id, payload hash and length, title,
  kind, track, timestamp, tags, labels and metadata; every timeline entry names a frame with
  that timestamp and URI.
* ``find:<query>`` (required): memvid-compatible lexical search returns the oracle's frame
  ids in order, with k = 10 and the producer's passage size.
* An oracle with ``committed_only`` (memvid could not replay the killed writer's WAL, so it
  read only the committed frames) is compared with the dump's frames that are not pending,
  and has no ``find`` checks.
* ``find-vec`` (required, when the oracle has one): the k nearest vectors to the oracle's
  query vector are the oracle's frames, in order.
* ``memories`` (required, when the oracle has memory cards): the dump's ``memory_cards``, seen
  through the members memvid's ``memories()`` reports, are the oracle's cards.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

from ..model import Case, Check, Result
from ..session import Session, reply_failure
from ..vectors import Integrity, load_json

# memvid's default passage size per release changes how many passages, hence hits, a frame
# yields (gold/README.md); each oracle was taken with its own release's default.
SNIPPET_CHARS = {"memvid-sdk-2.0.123": 240, "memvid-sdk-2.0.140": 240, "memvid-sdk-2.0.151": 240,
                 "memvid-sdk-2.0.160": 480, "memvid-cli-2.0.151": 480, "memvid-cli-2.0.160": 480,
                 "memvid-node-2.0.159": 480}
FIND_K = 10
SHOWN_PROBLEMS = 3
# The card members memvid's memories() reports; a member a stored card lacks reads as null.
CARD_MEMBERS = ("id", "kind", "entity", "slot", "value", "polarity", "confidence", "source_frame_id", "source_uri",
                "engine", "engine_version")


def cases(root: Path, integrity: Integrity) -> list[Case]:
    folder = root / "gold"
    sums = _sha256sums(folder / "SHA256SUMS")
    for stray in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.mv2")):
        if stray not in sums:
            integrity.problems.append(f"gold/{stray} is not listed in gold/SHA256SUMS")
    out = []
    for rel, sha in sorted(sums.items()):
        path = integrity.check(folder / rel, sha)
        if not rel.endswith(".mv2"):
            continue
        producer = path.parent.name
        if producer not in SNIPPET_CHARS:
            integrity.problems.append(f"gold/{rel}: no passage size known for producer {producer}")
            continue
        oracle_path = folder / rel.removesuffix(".mv2")
        oracle = load_json(oracle_path.with_name(oracle_path.name + ".expected.json"))
        if oracle.get("file_sha256") != sha:
            integrity.problems.append(f"gold/{rel}: its oracle describes another file")
        checks = [Check("verify", frozenset({"verify"}), description="reported valid"),
                  Check("dump", frozenset({"dump"}), description="the dump agrees with memvid's reading")]
        if not oracle.get("committed_only"):  # else memvid's hits leave out the pending frames a reader replays
            checks += [Check(f"find:{q}", frozenset({"find"}), description=f"lexical hits for {q!r}")
                       for q in oracle.get("find", {})]
        if "find_sem" in oracle:
            checks.append(Check("find-vec", frozenset({"find-vec"}), description="nearest vectors"))
        if "memories" in oracle:
            checks.append(Check("memories", frozenset({"dump"}), description="memory cards as memvid reads them"))
        case_id = "gold/" + rel.removesuffix(".mv2")
        out.append(Case(id=case_id, family="gold", checks=checks,
                        run=functools.partial(run, path, oracle, SNIPPET_CHARS[producer]), files=[path]))
    return out


def _sha256sums(path: Path) -> dict[str, str]:
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest
    return sums


def run(path: Path, oracle: dict, snippet: int, session: Session, active: set[str]) -> dict[str, Result]:
    copy = session.copy_in(path)
    results: dict[str, Result] = {}
    if "verify" in active:
        results["verify"] = session.verify_ok(copy)
    if "dump" in active or "memories" in active:
        dump, failure = session.read_dump(copy)
        if "memories" in active:
            results["memories"] = failure or compare_cards(dump, oracle["memories"])
        if "dump" in active:
            if failure is None:
                problems = oracle_mismatches(dump, oracle)
                failure = Result.fail(_summarise(problems)) if problems else None
            results["dump"] = failure or Result.ok()
    for query, want in oracle.get("find", {}).items():
        name = f"find:{query}"
        if name in active:
            reply = session.request("find", path=copy, mode="lex", query=query, k=FIND_K, snippet_chars=snippet,
                                    compat="memvid")
            results[name] = compare_hits(reply, [h["frame_id"] for h in want], "find")
    if "find-vec" in active:
        sem = oracle["find_sem"]
        want = [h["frame_id"] for h in sem["hits"]]
        reply = session.request("find", path=copy, mode="vec", vector=query_vector(sem), k=len(want))
        results["find-vec"] = compare_hits(reply, want, "find")
    return results


def compare_cards(dump: dict, want: list[dict]) -> Result:
    cards = dump.get("memory_cards")
    if not isinstance(cards, list) or not all(isinstance(c, dict) for c in cards):
        return Result.fail("the dump has no memory_cards list")
    got = sorted(({k: c.get(k) for k in CARD_MEMBERS} for c in cards), key=lambda c: repr(c.get("id")))
    exp = sorted(({k: c.get(k) for k in CARD_MEMBERS} for c in want), key=lambda c: repr(c.get("id")))
    if got == exp:
        return Result.ok()
    missing = [c["id"] for c in exp if c not in got]
    return Result.fail(f"{len(got)} cards, memvid reads {len(exp)}; cards differing from memvid's: {missing[:SHOWN_PROBLEMS]}")


def query_vector(sem: dict) -> list[float]:
    # How the oracle's query was made: seeded uniform numbers, rounded so that JSON carries
    # them exactly.
    rng = random.Random(sem["query_embedding_seed"])
    return [round(rng.uniform(-1, 1), 6) for _ in range(sem["dimension"])]


def compare_hits(reply, want: list[int], what: str) -> Result:
    failure = reply_failure(reply, what)
    if failure:
        return failure
    hits = reply.data.get("hits")
    if not isinstance(hits, list) or not all(isinstance(h, dict) and type(h.get("frame_id")) is int for h in hits):
        return Result.fail("the reply has no list of hits with integer frame_id")
    got = [h["frame_id"] for h in hits]
    return Result.ok() if got == want else Result.fail(f"frame ids {got}, memvid's {want}")


def oracle_mismatches(dump: dict, oracle: dict) -> list[str]:
    frames = [f for f in dump["frames"] if isinstance(f, dict)]
    if oracle.get("committed_only"):
        # memvid could not replay this killed writer's WAL; its reading is the committed frames.
        frames = [f for f in frames if not f.get("pending")]
    stats = oracle["stats"]
    problems = []
    if len(frames) != stats["frame_count"]:
        problems.append(f"{len(frames)} frames, memvid counts {stats['frame_count']}")
    active = sum(f.get("status") == "active" for f in frames)
    if active != stats["active_frame_count"]:
        problems.append(f"{active} active frames, memvid counts {stats['active_frame_count']}")
    for uri, o in sorted(oracle["frames_by_uri"].items()):
        with_uri = [f for f in frames if f.get("uri") == uri]
        if not with_uri:
            problems.append(f"no frame has URI {uri}")
            continue
        # memvid's frame(uri) answers with the newest frame holding that URI.
        newest = max(with_uri, key=lambda f: f.get("id", -1))
        want = o["frame"]
        pairs = [("id", newest.get("id"), want["id"]),
                 ("payload_sha256", newest.get("payload_sha256"), o["blob_sha256"]),
                 ("payload_length", newest.get("payload_length"), o["blob_len"])]
        pairs += [(k, newest.get(k), want[k]) for k in ("title", "kind", "track", "timestamp", "tags", "labels") if k in want]
        if "extra_metadata" in want:
            pairs.append(("metadata", newest.get("metadata"), want["extra_metadata"]))
        problems += [f"{uri} {k}: {got!r}, memvid {exp!r}" for k, got, exp in pairs if got != exp]
    by_id = {f.get("id"): f for f in frames}
    for t in oracle["timeline"]:
        f = by_id.get(t["frame_id"])
        if f is None:
            problems.append(f"timeline frame {t['frame_id']} is not in the dump")
        elif (f.get("timestamp"), f.get("uri")) != (t["timestamp"], t["uri"]):
            problems.append(f"frame {t['frame_id']}: ({f.get('timestamp')}, {f.get('uri')}), "
                            f"memvid's timeline ({t['timestamp']}, {t['uri']})")
    return problems


def _summarise(problems: list[str]) -> str:
    more = len(problems) - SHOWN_PROBLEMS
    return "; ".join(problems[:SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
