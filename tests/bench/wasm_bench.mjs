// The kernel benchmark's wasm twin: times `bench_kernel` (the same pingpong workload as
// `cargo bench -p sdlab-core --bench kernel`) inside headless Chromium on the release
// build in dist/, times the native CLI on the same workload in the same run, and prints
// both and the wasm/native ratio.
import { serve, launch, openPage, sdlab } from "../e2e/harness.mjs";

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
} finally {
  await browser.close();
  await server.close();
}
