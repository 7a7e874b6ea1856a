// The kernel benchmark's wasm twin: times `bench_kernel` (the same pingpong workload as
// `cargo bench -p sdlab-core --bench kernel`) inside headless Chromium on the release
// build in dist/, times the native CLI on the same workload in the same run, and prints
// both and the wasm/native ratio.
import { serve, launch, openPage, sdlab, DIST } from "../e2e/harness.mjs";
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const NODES = 64, WINDOW = 8, HORIZON_MS = 200, REPEAT = 10;
const server = await serve();
const browser = await launch();
try {
  const { page } = await openPage(browser, server.url);
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_kernel);
  const wasm = await page.evaluate(([n, w, h, r]) => {
    let best = Infinity, events = 0;
    window.wasmBindings.bench_kernel(n, w, h, 1); // warm-up
    for (let i = 0; i < r; i++) {
      const t0 = performance.now();
      events = window.wasmBindings.bench_kernel(n, w, h, 1);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return { events, seconds: best, events_per_s: events / best };
  }, [NODES, WINDOW, HORIZON_MS, REPEAT]);
  const native = sdlab(["bench", "--nodes", `${NODES}`, "--window", `${WINDOW}`, "--horizon-ms", `${HORIZON_MS}`, "--repeat", `${REPEAT}`]);
  if (native.events !== wasm.events) throw new Error(`event counts differ: native ${native.events}, wasm ${wasm.events}`);
  const fmt = (x) => (x / 1e6).toFixed(2);
  console.log(`kernel pingpong ${NODES}x${WINDOW}, ${HORIZON_MS} ms, ${native.events} events (best of ${REPEAT})`);
  console.log(`  native: ${fmt(native.events_per_s)} M events/s`);
  console.log(`  wasm:   ${fmt(wasm.events_per_s)} M events/s (Chromium)`);
  console.log(`  wasm/native time ratio: ${(wasm.seconds / native.seconds).toFixed(2)}x`);

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
