// memvid's Node.js SDK for tools/compat_matrix.py: write the matrix's file, or probe one.
//   node tools/compat/node_sdk.mjs write OUT.mv2 BATCH.json [BATCH.json ...]
//   node tools/compat/node_sdk.mjs probe FILE.mv2
// The SDK's directory comes from MEMVID_NODE_SDK. Prints one line of JSON.
import { createRequire } from "node:module";
import { readFileSync, writeSync } from "node:fs";
import path from "node:path";

process.env.MEMVID_TELEMETRY = "0";
const require = createRequire(import.meta.url);
const sdk = require(path.resolve(process.env.MEMVID_NODE_SDK));
console.log = console.info = console.warn = (...a) => process.stderr.write(a.join(" ") + "\n");
const out = (v) => writeSync(1, JSON.stringify(v) + "\n");
const [cmd, file, ...batches] = process.argv.slice(2);

try {
  if (cmd === "write") {
    const m = await sdk.use("basic", file, { mode: "create", enableLex: true, enableVec: true });
    for (const b of batches) {
      await m.putMany(JSON.parse(readFileSync(b, "utf8")));
      await m.seal();
    }
    if (m.close) await m.close();  // not every release has close(); exiting releases the lock
    out({ ok: true });
  } else {
    const m = await sdk.use("basic", file, { mode: "open", readOnly: true, enableVec: true });
    const timeline = await m.timeline({ limit: 100000 });
    const lex = await m.find("auth", { k: 5, mode: "lex" });
    const sem = await m.vecSearch("", new Array(8).fill(0.1), { k: 5 });
    const report = await m.verify({ deep: true });
    if (m.close) await m.close();  // not every release has close(); exiting releases the lock
    out({ ok: report.overall_status === "passed", timeline: timeline.length, lex: lex.hits.length,
          sem: sem.hits.length, verify: report.overall_status });
  }
} catch (e) {
  out({ ok: false, error: `${e && e.name}: ${String(e && e.message).slice(0, 200)}` });
}
