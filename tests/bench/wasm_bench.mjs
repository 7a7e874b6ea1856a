// The kernel benchmark's wasm twin, measured so the ratio can be trusted: the same pingpong
// workload (`sim::pingpong`, as `cargo bench -p sdlab-core --bench kernel`) runs in
// headless Chromium on the release build in dist/ and in the native CLI built with the
// `bench-native` profile (the browser build's optimisation settings: fat LTO, one codegen
// unit). Each repetition lasts at least half a second (the horizon is calibrated natively
// first), native and wasm repetitions alternate (and swap which goes first) so drift in
// the machine's speed hits both, and the report is the median per-pair ratio with its
// spread. Also: the animation frame budget, first render, and the bundle size.
import { serve, launch, openPage, DIST, ROOT } from "../e2e/harness.mjs";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const CONFIGS = [[64, 8], [256, 16]];
const PAIRS = 7, MIN_SECONDS = 0.5;
const NATIVE = join(ROOT, "target", "bench-native", "sdlab");
if (!existsSync(NATIVE)) throw new Error(`${NATIVE} is missing: cargo build --profile bench-native -p sdlab-cli`);

const native = (nodes, window, horizon) =>
  JSON.parse(execFileSync(NATIVE, ["bench", "--nodes", `${nodes}`, "--window", `${window}`, "--horizon-ms", `${horizon}`, "--repeat", "1"], { encoding: "utf8" }));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const fmt = (x) => (x / 1e6).toFixed(2);

const server = await serve();
const browser = await launch();
try {
  const { page } = await openPage(browser, server.url);
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_kernel);
  const wasm = (nodes, window, horizon) => page.evaluate(([n, w, h]) => {
    const t0 = performance.now();
    const events = window.wasmBindings.bench_kernel(n, w, h, 1);
    const seconds = (performance.now() - t0) / 1000;
    return { events, seconds, events_per_s: events / seconds };
  }, [nodes, window, horizon]);
  for (const [nodes, window] of CONFIGS) {
    // Calibrate: the horizon that makes one native repetition last MIN_SECONDS or more.
    const probe = native(nodes, window, 100);
    const horizon = Math.min(10_000, Math.ceil((100 * MIN_SECONDS * 1.2) / Math.max(probe.seconds, 1e-4)));
    await wasm(nodes, window, horizon); // warm-up: compile and grow the heap once
    native(nodes, window, horizon);
    const n = [], w = [], ratio = [];
    for (let i = 0; i < PAIRS; i++) {
      let a, b;
      if (i % 2 === 0) { a = native(nodes, window, horizon); b = await wasm(nodes, window, horizon); }
      else { b = await wasm(nodes, window, horizon); a = native(nodes, window, horizon); }
      if (a.events !== b.events) throw new Error(`event counts differ: native ${a.events}, wasm ${b.events}`);
      n.push(a.events_per_s); w.push(b.events_per_s); ratio.push(b.seconds / a.seconds);
    }
    const events = native(nodes, window, horizon).events;
    console.log(`kernel pingpong ${nodes}x${window}, horizon ${horizon} ms, ${events} events per repetition, ${PAIRS} interleaved pairs`);
    console.log(`  native (bench-native): median ${fmt(median(n))} M events/s (range ${fmt(Math.min(...n))}–${fmt(Math.max(...n))}), shortest repetition ${(events / Math.max(...n)).toFixed(2)} s`);
    console.log(`  wasm (Chromium):       median ${fmt(median(w))} M events/s (range ${fmt(Math.min(...w))}–${fmt(Math.max(...w))})`);
    console.log(`  wasm/native time ratio: median ${median(ratio).toFixed(2)}x (range ${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}x)`);
  }

  // Animation: 100 nodes, 2,000 messages in flight, through the real topology + canvas.
  const anim = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await anim.goto(`${server.url}#/bench?nodes=100&window=20&speed=0.01`);
  await anim.waitForFunction(() => parseInt(document.querySelector('[data-testid="bench-stats"]')?.dataset.frames ?? "0", 10) >= 360, null, { timeout: 60_000 });
  const stats = await anim.$eval('[data-testid="bench-stats"]', (el) => ({ ...el.dataset }));
  console.log(`animation, 100 nodes / ${stats.drawn} messages drawn: frame interval p50 ${stats.p50} ms, p95 ${stats.p95} ms; work per frame p95 ${stats.workP95} ms`);

  // First meaningful render: navigation to the first catalog card on screen.
  const first = await browser.newPage();
  const t0 = Date.now();
  await first.goto(server.url);
  await first.waitForSelector('[data-testid="system-card"]');
  const fmr = Date.now() - t0;
  const nav = await first.evaluate(() => performance.now());
  console.log(`first meaningful render: ${fmr} ms from navigation (page clock ${nav.toFixed(0)} ms)`);

  // Bundle size, raw and gzip.
  let raw = 0, gz = 0;
  for (const f of readdirSync(DIST)) {
    const body = readFileSync(join(DIST, f));
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
    if (f.endsWith(".wasm")) console.log(`  ${f}: ${(body.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(body, { level: 9 }).length / 1024).toFixed(0)} KiB gzip`);
  }
  console.log(`bundle (all of dist/): ${(raw / 1024).toFixed(0)} KiB raw, ${(gz / 1024).toFixed(0)} KiB gzip (budget 1024 KiB gzip)`);
} finally {
  await browser.close();
  await server.close();
}
