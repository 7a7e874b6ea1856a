// The catalog and the wasm/native agreement, driven as a user would: every system card is
// listed and keyboard reachable, and every system page, scrubbed to the end, shows the
// trace hash and check verdicts the native CLI computes for the same link.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, launch, openPage, screenshot, sdlab, sdlabStdin } from "./harness.mjs";

let server, browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("the catalog lists every system the CLI knows, searchable and keyboard navigable", async () => {
  const systems = sdlab(["list", "--json"]);
  const { page, problems } = await openPage(browser, server.url);
  await page.waitForSelector('[data-testid="system-card"]');
  const ids = await page.$$eval('[data-testid="system-card"]', (els) => els.map((e) => e.dataset.system));
  assert.deepEqual(ids.sort(), systems.map((s) => s.id).sort());
  await screenshot(page, "catalog");
  // Tab reaches a card; Enter opens it.
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.dataset?.testid === "system-card")) break;
  }
  const focused = await page.evaluate(() => document.activeElement?.dataset?.system);
  assert.ok(focused, "a system card takes keyboard focus");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="play-toggle"]');
  assert.match(page.url(), new RegExp(`#/s/${focused}`));
  await page.goto(server.url);
  await page.fill('[data-testid="catalog-search"]', "lock");
  const filtered = await page.$$eval('[data-testid="system-card"]', (els) => els.map((e) => e.dataset.system));
  assert.ok(filtered.length >= 1 && filtered.every((id) => id.includes("lock")), `search kept ${filtered}`);
  assert.deepEqual(problems, []);
});

test("every system, scrubbed to the end in wasm, matches the native trace hash and checks", async () => {
  const systems = sdlab(["list", "--json"]);
  for (const { id } of systems) {
    const native = sdlab(["run", "--system", id, "--json"]);
    const { page, problems } = await openPage(browser, `${server.url}#/s/${id}?${native.link}`);
    await page.waitForSelector('[data-testid="scrubber"]');
    await page.$eval('[data-testid="scrubber"]', (el) => {
      el.value = el.max;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await page.waitForFunction((h) => document.querySelector('[data-testid="trace-hash"]')?.textContent === h, native.trace_hash, { timeout: 60_000 });
    const checks = await page.$$eval('[data-testid="checks"] [data-check]', (els) => els.map((e) => [e.dataset.check, e.dataset.ok === "true"]));
    assert.deepEqual(checks, native.checks.map((c) => [c.name, c.ok]), `${id}: checks differ`);
    assert.deepEqual(problems, [], `${id}: console errors`);
    await page.close();
  }
});

test("a broken link shows its error, keeps the raw text and falls back to defaults", async () => {
  const id = sdlab(["list", "--json"])[0].id;
  for (const bad of ["v1.this-is-not-a-scenario", "v9.from-the-future", "v1." + "A".repeat(9000)]) {
    const { page, problems } = await openPage(browser, `${server.url}#/s/${id}?${bad}`);
    await page.waitForSelector('[data-testid="link-error"]');
    assert.match(await page.textContent('[data-testid="link-error"]'), /could not be opened/);
    assert.equal(await page.inputValue('[data-testid="raw-link"]'), bad);
    assert.ok(await page.$('[data-testid="play-toggle"]'), "the default scenario is still playable");
    if (bad.startsWith("v9")) await screenshot(page, "bad-link");
    assert.deepEqual(problems, []);
    await page.close();
  }
});

test("a link whose fault names a node that does not exist opens the defaults with the bad-link box", async () => {
  const spec = '{"version":1,"system":"distributed-lock","faults":[{"at_ms":100,"kind":"crash","node":"ghost"}]}';
  const link = sdlabStdin(["link", "encode"], spec).trim();
  const { page, problems } = await openPage(browser, `${server.url}#/s/distributed-lock?${link}`);
  await page.waitForSelector('[data-testid="link-error"]');
  assert.match(await page.textContent('[data-testid="link-error"]'), /ghost/);
  assert.equal(await page.inputValue('[data-testid="raw-link"]'), link);
  assert.ok(await page.$('[data-testid="play-toggle"]'), "the default scenario is still playable");
  assert.deepEqual(problems, []);
  await page.close();
});

test("in-bounds parameters keep the page: two workers get their own default pauses", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/distributed-lock`);
  await page.waitForSelector('[data-testid="play-toggle"]');
  await page.fill('input[data-param="workers"]', "2");
  await page.dispatchEvent('input[data-param="workers"]', "change");
  await page.waitForFunction(() => location.hash.includes("?v2."));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="topology"] [data-node]').length > 0);
  assert.equal(await page.$('[data-testid="link-error"]'), null, "no bad-link box");
  assert.equal(await page.$('[data-testid="not-found"]'), null, "no full-page error");
  const nodes = await page.$$eval('[data-testid="topology"] [data-node]', (els) => els.map((e) => e.dataset.node));
  assert.ok(!nodes.includes("worker-2"), `two workers only: ${nodes}`);
  assert.deepEqual(problems, []);
  await page.close();
});
