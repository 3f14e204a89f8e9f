// Write gold files with memvid's Node.js SDK (npm @memvid/sdk), and record its oracles.
//
//   MEMVID_NODE_SDK=DIR node tools/gold_node.mjs write OUT_DIR [NAME ...]
//   MEMVID_NODE_SDK=DIR node tools/gold_node.mjs oracle FILE.mv2 [--replay]
//
// DIR is the installed package (npm install --legacy-peer-deps --ignore-scripts @memvid/sdk@2.0.159;
// its onnxruntime post-install step downloads from outside and is not needed). The scenarios
// are those of tools/gold_write.py as far as the Node SDK takes them: its putMany takes no
// timestamps, so vectors are written by put() with an embedding each. `oracle` writes
// FILE.expected.json in the shape tools/gold_oracle.py writes, from the SDK's own read-back:
// stats(), timeline(), getFrameInfo() (memvid's frame(uri) has no Node counterpart; the frame
// is the timeline's), view() as the payload, find() and vecSearch(), verify({deep: true}).

import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

process.env.MEMVID_TELEMETRY = "0";
const require = createRequire(import.meta.url);
const where = process.env.MEMVID_NODE_SDK;
const sdk = require(where ? path.resolve(where) : "@memvid/sdk");
const pkg = require(where ? path.join(path.resolve(where), "package.json") : "@memvid/sdk/package.json");

const BASE_TS = 1767225600; // 2026-01-01T00:00:00Z
const WORDS = ["auth", "memory", "frame", "token", "penicillin", "index", "vector", "ledger", "river", "lantern"];
const QUERIES = ["auth", "memory frame", "penicillin"];

// A small seeded generator (mulberry32): texts and vectors are fixed, though not the same as
// those of tools/gold_write.py (Python's random module).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const text = (i) => { const r = rng(i); return `Document ${i}: ` + Array.from({ length: 24 }, () => WORDS[Math.floor(r() * 10)]).join(" ") + "."; };
const vec = (i, dim) => { const r = rng(1000 + i); return Array.from({ length: dim }, () => Math.round((r() * 2 - 1) * 1e6) / 1e6); };

const create = (p, vecOn = false) => sdk.use("basic", p, { mode: "create", enableLex: true, enableVec: vecOn });
const reopen = (p) => sdk.use("basic", p, { mode: "open" });

const SCENARIOS = {
  async single(p) {
    const m = await create(p);
    await m.put({ title: "Single", label: "note", text: "A single auth note about memory frames.", uri: "mv2://single", timestamp: BASE_TS });
    await m.seal();
  },
  async "put-loop"(p) {
    const m = await create(p);
    for (let i = 0; i < 20; i++) {
      await m.put({ title: `Note ${i}`, label: "note", metadata: { n: i, even: i % 2 === 0 }, text: text(i), uri: `mv2://loop/${i}`,
        tags: [`t${i % 3}`], labels: ["loop"], kind: "note", track: "loop", timestamp: BASE_TS + 60 * i });
    }
    await m.seal();
  },
  async "same-uri"(p) {
    const m = await create(p);
    for (let i = 0; i < 4; i++) {
      await m.put({ title: `Version ${i}`, label: "doc", metadata: { version: i }, text: `version ${i} of the auth doc`, uri: "mv2://same", timestamp: BASE_TS + i });
    }
    await m.seal();
  },
  async "multi-seal"(p) {
    for (let r = 0; r < 3; r++) {
      const m = r ? await reopen(p) : await create(p);
      for (let j = 0; j < 3; j++) {
        const i = 3 * r + j;
        await m.put({ title: `Round ${r} #${j}`, label: "round", text: text(i), uri: `mv2://round/${r}/${j}`, timestamp: BASE_TS + 100 * i });
      }
      await m.seal();
    }
  },
  async deleted(p) {
    const m = await create(p);
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await m.put({ title: `Doc ${i}`, label: "doc", text: text(i), uri: `mv2://del/${i}`, timestamp: BASE_TS + i }));
    await m.seal();
    for (const i of [2, 5, 7]) await m.remove(String(ids[i]));
    await m.seal();
  },
  async "vectors-8d"(p) {
    const m = await create(p, true);
    for (let i = 0; i < 12; i++) {
      await m.put({ title: `Vec ${i}`, label: "vec", text: text(i), uri: `mv2://vec/${i}`, timestamp: BASE_TS + i, embedding: vec(i, 8) });
      if (i === 7) await m.seal();
    }
    await m.seal();
  },
  async "unsealed-crash"(p) {
    const m = await create(p);
    await m.put({ title: "Sealed", label: "doc", text: "sealed before the crash: auth", uri: "mv2://sealed", timestamp: BASE_TS });
    await m.seal();
    for (let i = 0; i < 5; i++) await m.put({ title: `Pending ${i}`, label: "doc", text: text(i), uri: `mv2://pending/${i}`, timestamp: BASE_TS + 1 + i });
    process.kill(process.pid, "SIGKILL");
  },
  async "killed-mid-batch"(p) {
    // Killed by the parent 1.5 s after the batch starts (KILL_AFTER_MS). putMany takes no
    // timestamps: the batch's frames carry the clock's time.
    const m = await create(p);
    await m.put({ title: "Sealed", label: "doc", text: "committed before the batch: auth", uri: "mv2://first", timestamp: BASE_TS });
    await m.seal();
    const docs = Array.from({ length: 3000 }, (_, i) => ({ title: `Batch ${i}`, text: text(i), uri: `mv2://batch/${i}`, labels: ["batch"] }));
    process.stdout.write("batch\n");
    await m.putMany(docs);
    await m.seal();
  },
};
const KILL_AFTER_MS = { "killed-mid-batch": 1500 };

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

async function oracle(file, replay) {
  const before = fs.readFileSync(file);
  let opened = file;
  let note = null;
  if (replay) {
    const ro = await sdk.use("basic", file, { mode: "open", readOnly: true, enableVec: false });
    const roCount = (await ro.stats()).frame_count;
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gold-oracle-")), path.basename(file));
    fs.copyFileSync(file, tmp);
    try {
      await sdk.use("basic", tmp, { mode: "open", enableVec: false });
      note = `oracle = state after the Node SDK's read-write open of a copy (it replays pending WAL records); its read-only open shows only ${roCount} frame(s)`;
      opened = tmp;
    } catch (e) {
      note = `the Node SDK's read-write open of a copy fails (${e.message}); oracle = its read-only view (${roCount} frame(s))`;
    }
  }
  let m;
  try {
    m = await sdk.use("basic", opened, { mode: "open", readOnly: true, enableVec: true });
  } catch (e) {
    if (e.code !== "MV011") throw e; // a file without vectors refuses enableVec
    m = await sdk.use("basic", opened, { mode: "open", readOnly: true, enableVec: false });
  }
  const stats = await m.stats();
  const out = { file_sha256: sha256(before), sdk: `@memvid/sdk ${pkg.version}`, stats: {} };
  for (const k of ["active_frame_count", "frame_count", "has_lex_index", "has_time_index", "has_vec_index", "wal_bytes"]) out.stats[k] = stats[k] ?? null;
  if (note) { out.note = note; if (opened === file) out.committed_only = true; }
  out.timeline = (await m.timeline({ limit: 1000000 })).map((t) => ({ frame_id: t.frame_id, preview: t.preview, timestamp: t.timestamp, uri: t.uri }));
  out.frames_by_uri = {};
  for (const t of out.timeline) {
    const f = await m.getFrameInfo(t.frame_id);
    const blob = Buffer.from(await m.view(t.frame_id), "utf8");
    const frame = {};
    for (const k of ["id", "kind", "labels", "tags", "timestamp", "title", "track", "uri"]) frame[k] = f[k];
    out.frames_by_uri[t.uri] = { blob_len: blob.length, blob_sha256: sha256(blob), frame };
  }
  out.find = {};
  // After replaying a killed writer's records memvid's lexical index answers some queries with
  // the committed frames only, others with replayed ones too: no oracle to compare.
  if (!(replay && opened !== file)) for (const q of QUERIES) out.find[q] = (await m.find(q, { k: 10, mode: "lex" })).hits.map((h) => ({ frame_id: h.frame_id, rank: h.rank, uri: h.uri }));
  const dim = stats.effective_vec_dimension;
  if (dim) {
    // The query of every gold oracle: Python's random.Random(0).uniform(-1, 1) draws, rounded to 6
    // places (tools/gold_oracle.py; readers rebuild it from query_embedding_seed). The caller
    // passes them in GOLD_QUERY_VECTOR (a JSON list), as tools/gold_npm.py does.
    const q = JSON.parse(fs.readFileSync(process.env.GOLD_QUERY_VECTOR, "utf8")).slice(0, dim);
    const hits = (await m.vecSearch("", q, { k: 5 })).hits;
    out.find_sem = { dimension: dim, query_embedding_seed: 0, hits: hits.map((h) => ({ frame_id: h.frame_id, rank: h.rank, score: h.score, uri: h.uri })) };
    out.find_sem_note = "vecSearch('', q, {k: 5}), q = Python random.Random(0).uniform(-1, 1) x dim, rounded to 6 places";
  }
  try { out.verify = await m.verify({ deep: true }); } catch (e) { out.verify = { error: `${e.name}: ${e.message}` }; }
  if (out.verify && out.verify.file_path) out.verify.file_path = path.basename(file);
  if (!fs.readFileSync(file).equals(before)) throw new Error(`${file}: the Node SDK modified the file while reading it`);
  const target = file.replace(/\.mv2$/, ".expected.json");
  fs.writeFileSync(target, JSON.stringify(sortKeys(out), null, 1) + "\n");
  console.log(`wrote ${target}: ${out.timeline.length} timeline entries`);
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

const [cmd, target, ...rest] = process.argv.slice(2);
if (cmd === "run") {
  await SCENARIOS[rest[0]](path.join(target, `${rest[0]}.mv2`));
} else if (cmd === "write") {
  fs.mkdirSync(target, { recursive: true });
  for (const name of rest.length ? rest : Object.keys(SCENARIOS)) {
    const file = path.join(target, `${name}.mv2`);
    fs.rmSync(file, { force: true });
    const kill = KILL_AFTER_MS[name];
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "run", target, name],
      { stdio: ["ignore", kill ? "pipe" : "inherit", "inherit"] });
    if (kill) {
      child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), kill)); // the batch has started
    }
    await new Promise((ok) => child.on("exit", ok));
    for (const side of fs.readdirSync(target)) if (side.startsWith(`${name}.mv2.`)) fs.rmSync(path.join(target, side), { force: true });
    console.log(`wrote ${file} (${fs.statSync(file).size} bytes)`);
  }
} else if (cmd === "oracle") {
  await oracle(target, rest.includes("--replay"));
} else {
  console.error("usage: gold_node.mjs write OUT_DIR [NAME ...] | oracle FILE.mv2 [--replay]");
  process.exit(2);
}
