// The catalog and the system shell, driven as a user would: every system card is listed,
// every system page loads and runs in wasm, and the trace hash shown equals the hash the
// native CLI computes for the same link.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, launch, openPage, screenshot, sdlab } from "./harness.mjs";

let server, browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("the catalog lists every system the CLI knows", async () => {
  const systems = sdlab(["list", "--json"]);
  const { page, problems } = await openPage(browser, server.url);
  await page.waitForSelector('[data-testid="system-card"]');
  const ids = await page.$$eval('[data-testid="system-card"]', (els) => els.map((e) => e.dataset.system));
  assert.deepEqual(ids.sort(), systems.map((s) => s.id).sort());
  await screenshot(page, "catalog");
  await page.fill('[data-testid="catalog-search"]', "lock");
  const filtered = await page.$$eval('[data-testid="system-card"]', (els) => els.map((e) => e.dataset.system));
  assert.ok(filtered.length >= 1 && filtered.every((id) => id.includes("lock")), `search kept ${filtered}`);
  assert.deepEqual(problems, []);
});

test("every system page runs in wasm and matches the native trace hash", async () => {
  const systems = sdlab(["list", "--json"]);
  for (const { id } of systems) {
    const native = sdlab(["run", "--system", id, "--json"]);
    const { page, problems } = await openPage(browser, `${server.url}#/s/${id}?${native.link}`);
    await page.click('[data-testid="run"]');
    await page.waitForSelector('[data-testid="trace-hash"]', { timeout: 60_000 });
    const hash = await page.textContent('[data-testid="trace-hash"]');
    assert.equal(hash, native.trace_hash, `${id}: wasm and native disagree`);
    const checks = await page.$$eval("[data-check]", (els) => els.map((e) => [e.dataset.check, e.dataset.ok === "true"]));
    assert.deepEqual(checks, native.checks.map((c) => [c.name, c.ok]), `${id}: checks differ`);
    await screenshot(page, `system-${id}`);
    assert.deepEqual(problems, [], `${id}: console errors`);
    await page.close();
  }
});

test("a broken link shows its error and keeps the raw text", async () => {
  const systems = sdlab(["list", "--json"]);
  const id = systems[0].id;
  const bad = "v1.this-is-not-a-scenario";
  const { page, problems } = await openPage(browser, `${server.url}#/s/${id}?${bad}`);
  await page.waitForSelector('[data-testid="link-error"]');
  const text = await page.textContent('[data-testid="link-error"]');
  assert.match(text, /could not be opened/);
  assert.equal(await page.inputValue('[data-testid="raw-link"]'), bad);
  await screenshot(page, "bad-link");
  assert.deepEqual(problems, []);
});
