// HP/1 adapter for memvid's Node.js SDK (npm @memvid/sdk).
//
//   node conformance/adapters/memvid_node/adapter.mjs
//
// with @memvid/sdk installed where Node resolves it, or its directory named by MEMVID_NODE_SDK
// (install: npm install --legacy-peer-deps --ignore-scripts @memvid/sdk@2.0.159; its onnxruntime
// post-install step downloads from outside and is not needed here). Like the memvid-sdk adapter
// it declares only verify, find and find-vec: memvid reports damage by throwing its own errors,
// without MV2 codes or offsets, so errors carry code and offset null; it has no dump, and its
// writer cannot follow an operation script faithfully.
//
// Replies go to the protocol stream (a copy of stdout); console output of the SDK goes to stderr.

import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { writeSync } from "node:fs";
import path from "node:path";

process.env.MEMVID_TELEMETRY = "0";
const require = createRequire(import.meta.url);
const where = process.env.MEMVID_NODE_SDK;
const sdkPath = where ? path.resolve(where) : "@memvid/sdk";
const sdk = require(sdkPath);
const pkg = require(where ? path.join(path.resolve(where), "package.json") : "@memvid/sdk/package.json");
const PROTO = 1; // file descriptor of stdout
console.log = console.info = console.warn = console.debug = (...a) => process.stderr.write(a.join(" ") + "\n");

const send = (msg) => writeSync(PROTO, JSON.stringify(msg) + "\n");
const error = (message) => ({ ok: false, error: { code: null, offset: null, message } });
const describe = (e) => `${e && e.name ? e.name : "Error"}: ${e && e.message ? e.message : String(e)}`.slice(0, 400);

async function openRead(p) {
  try {
    return await sdk.use("basic", p, { mode: "open", readOnly: true, enableVec: true });
  } catch (e) {
    // A file the Node SDK wrote without vectors has no vector index, and enableVec (its default)
    // refuses it with MV011; such a file is opened without.
    if (!e || e.code !== "MV011") throw e;
    return sdk.use("basic", p, { mode: "open", readOnly: true, enableVec: false });
  }
}

async function verify(req) {
  let m;
  try {
    m = await openRead(req.path);
    const report = await m.verify({ deep: true });
    if (report && report.overall_status === "passed") return { ok: true, warnings: [] };
    const failed = ((report && report.checks) || []).filter((c) => c.status !== "passed").map((c) => c.name);
    return error(`verify({deep: true}) says ${report && report.overall_status}: ${JSON.stringify(failed)}`);
  } catch (e) {
    return error(describe(e));
  } finally {
    if (m && m.close) { try { await m.close(); } catch (_) { /* closing a failed handle */ } }
  }
}

async function find(req) {
  let m;
  try {
    m = await openRead(req.path);
    const res = req.mode === "vec"
      ? await m.vecSearch("", req.vector, { k: req.k })
      : await m.find(req.query, { k: req.k, snippetChars: req.snippet_chars ?? 480, mode: "lex" });
    return { hits: (res.hits || []).map((h) => ({ frame_id: h.frame_id, uri: h.uri ?? null, score: h.score ?? null })) };
  } catch (e) {
    return error(describe(e));
  } finally {
    if (m && m.close) { try { await m.close(); } catch (_) { /* closing a failed handle */ } }
  }
}

const HELLO = {
  protocol: 1,
  implementation: { name: "memvid-node-sdk", version: pkg.version, language: "javascript+rust" },
  capabilities: ["verify", "find", "find-vec"],
};
const handlers = { verify, find };

const rl = createInterface({ input: process.stdin, terminal: false });
const queue = [];
let busy = false;
rl.on("line", (line) => { if (line.trim()) { queue.push(line); pump(); } });

async function pump() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const line = queue.shift();
    let req;
    try { req = JSON.parse(line); } catch (e) { send({ seq: null, errored: { message: `request is not JSON: ${e}` } }); continue; }
    const { seq, cmd } = req;
    if (cmd === "stop") process.exit(0);
    if (cmd === "hello") { send({ seq, result: HELLO }); continue; }
    const h = handlers[cmd];
    if (!h) { send({ seq, skipped: `command ${JSON.stringify(cmd)} is not supported` }); continue; }
    try { send({ seq, result: await h(req) }); } catch (e) { send({ seq, errored: { message: describe(e) } }); }
  }
  busy = false;
}
rl.on("close", () => { const wait = () => (busy || queue.length ? setTimeout(wait, 10) : process.exit(0)); wait(); });
