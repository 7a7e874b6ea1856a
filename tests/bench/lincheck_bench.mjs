// The linearizability checker's wasm twin: the 102 Jepsen etcd histories (read in place
// from ../shared/data/jepsen-etcd) checked in headless Chromium by the shipped wasm and by
// the native CLI (`sdlab lincheck --time`, built with the bench-native profile), in one
// run; prints both totals and their ratio. Porcupine's figure for the set on this machine
// class is 0.73 s.
import { serve, launch, openPage, ROOT } from "../e2e/harness.mjs";
import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const DATA = join(ROOT, "..", "shared", "data", "jepsen-etcd");
if (!existsSync(DATA)) {
  if (process.env.CI === "true") throw new Error(`${DATA} is missing`);
  console.log(`lincheck bench skipped: ${DATA} is absent (it ships beside the project, not in it)`);
  process.exit(0);
}
const NATIVE = join(ROOT, "target", "bench-native", "sdlab");
const files = readFileSync(join(DATA, "verdicts.tsv"), "utf8").split("\n").filter((l) => l.includes("\t")).map((l) => l.split("\t")[0]);
const texts = files.map((f) => readFileSync(join(DATA, f), "utf8"));
const REPEAT = 5;

const out = execFileSync(NATIVE, ["lincheck", "--time", "--repeat", `${REPEAT}`, ...files.map((f) => join(DATA, f))], { encoding: "utf8", maxBuffer: 1 << 26 }).split("\n");
const total = out.find((l) => l.startsWith("verdicts for"));
const nativeMs = parseFloat(total.match(/in ([\d.]+) ms/)[1]);
const nativeLinearizable = out.filter((l) => /: linearizable/.test(l)).length;

const server = await serve();
const browser = await launch();
try {
  const { page } = await openPage(browser, server.url);
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_lincheck);
  const [seconds, count, linearizable] = await page.evaluate(([t, r]) => Array.from(window.wasmBindings.bench_lincheck(t, r)), [texts.join("\u001e"), REPEAT]);
  if (count !== files.length) throw new Error(`wasm parsed ${count} of ${files.length} histories`);
  if (linearizable !== nativeLinearizable) throw new Error(`verdicts differ: wasm ${linearizable} linearizable, native ${nativeLinearizable}`);
  console.log(`lincheck, ${files.length} etcd histories (${linearizable} linearizable), search only, best of ${REPEAT}`);
  console.log(`  native: ${nativeMs.toFixed(2)} ms`);
  console.log(`  wasm:   ${(seconds * 1000).toFixed(2)} ms (Chromium)`);
  console.log(`  wasm/native: ${((seconds * 1000) / nativeMs).toFixed(2)}x; porcupine 730 ms is ${(730 / (seconds * 1000)).toFixed(0)}x the wasm time`);
} finally {
  await browser.close();
  await server.close();
}
