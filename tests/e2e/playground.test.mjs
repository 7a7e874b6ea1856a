// The playground as a user meets it: every system page plays; a clicked fault changes the
// drawing and lands in the scenario; a copied link opened in a fresh browser context
// replays to the same trace hash; keyboard shortcuts work; compare mode, the method page
// and the seed sweep work; and nothing logs a console error or a CSP violation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, launch, openPage, screenshot, sdlab, replayedTo } from "./harness.mjs";

let server, browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const simTime = async (page) => parseFloat(await page.textContent('[data-testid="sim-time"]'));

test("every system page plays and the clock advances", async () => {
  for (const { id } of sdlab(["list", "--json"])) {
    const { page, problems } = await openPage(browser, `${server.url}#/s/${id}`);
    await page.waitForSelector('[data-testid="topology"] [data-node]');
    assert.equal(await simTime(page), 0);
    await page.click('[data-testid="play-toggle"]');
    await page.waitForFunction(() => parseFloat(document.querySelector('[data-testid="sim-time"]').textContent) > 300, null, { timeout: 20_000 });
    await page.click('[data-testid="play-toggle"]');
    assert.ok((await page.$$('[data-testid="checks"] [data-check]')).length >= 2, `${id}: checks shown`);
    await screenshot(page, `system-${id}`);
    assert.deepEqual(problems, [], `${id}: console errors`);
    await page.close();
  }
});

test("a fault click changes what is drawn, and a copied link replays the same run elsewhere", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/distributed-cache`);
  await page.waitForSelector('[data-node="cache-1"]');
  await page.click('[data-testid="play-toggle"]');
  await page.waitForFunction(() => parseFloat(document.querySelector('[data-testid="sim-time"]').textContent) > 400);
  await page.click('[data-testid="play-toggle"]');
  assert.equal(await page.getAttribute('[data-node="cache-1"]', "data-status"), "up");
  await page.click('[data-node="cache-1"]');
  await page.click('[data-testid="fault-crash"]');
  await page.waitForFunction(() => document.querySelector('[data-node="cache-1"]').dataset.status === "down");
  await screenshot(page, "fault-crash");
  await page.click('[data-testid="step"]');
  await page.click('[data-testid="copy-link"]');
  const url = await page.inputValue('[data-testid="share-url"]');
  const hash = await page.textContent('[data-testid="trace-hash"]');
  const time = await simTime(page);
  assert.match(url, /#\/s\/distributed-cache\?v2\./);
  const ctx = await browser.newContext();
  const fresh = await ctx.newPage();
  const freshProblems = [];
  fresh.on("console", (m) => m.type() === "error" && freshProblems.push(m.text()));
  await fresh.goto(url);
  await fresh.waitForSelector('[data-testid="trace-hash"]');
  await replayedTo(fresh, time);
  assert.equal(await fresh.textContent('[data-testid="trace-hash"]'), hash, "same trace hash at the playhead");
  assert.equal(await simTime(fresh), time);
  assert.equal(await fresh.getAttribute('[data-node="cache-1"]', "data-status"), "down");
  assert.deepEqual([...problems, ...freshProblems], []);
  await ctx.close();
  await page.close();
});

test("the new-user story: play, crash a node, naive goes red, robust stays green, the link replays", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/distributed-cache`);
  await page.waitForSelector('[data-node="cache-2"]');
  assert.equal(await page.inputValue('[data-testid="strategy"]'), "modulo");
  await page.click('[data-testid="play-toggle"]');
  await page.waitForFunction(() => parseFloat(document.querySelector('[data-testid="sim-time"]').textContent) > 250);
  await page.click('[data-testid="play-toggle"]');
  await page.click('[data-node="cache-2"]');
  await page.click('[data-testid="fault-crash"]');
  await page.waitForFunction(() => document.querySelector('[data-node="cache-2"]').dataset.status === "down");
  await page.click('[data-testid="copy-link"]');
  const naiveUrl = await page.inputValue('[data-testid="share-url"]');
  const toEnd = () => page.$eval('[data-testid="scrubber"]', (el) => { el.value = el.max; el.dispatchEvent(new Event("input", { bubbles: true })); });
  await toEnd();
  await page.waitForSelector('[data-check][data-ok="false"]');
  await screenshot(page, "story-naive-red");
  // The same scenario, crash included, under a robust strategy.
  await page.selectOption('[data-testid="strategy"]', "consistent");
  await page.waitForFunction(() => document.querySelector('[data-testid="strategy"]').value === "consistent");
  await page.waitForSelector('[data-testid="scrubber"]');
  await toEnd();
  await page.waitForFunction(() => parseFloat(document.querySelector('[data-testid="sim-time"]').textContent) > 5000);
  assert.equal((await page.$$('[data-check][data-ok="false"]')).length, 0, "the robust strategy passes every check");
  assert.ok((await page.textContent('[data-testid="fault-panel"], .fault-panel')) !== null);
  await page.click('[data-testid="copy-link"]');
  const robustUrl = await page.inputValue('[data-testid="share-url"]');
  const robustHash = await page.textContent('[data-testid="trace-hash"]');
  const robustTime = await simTime(page);
  await screenshot(page, "story-robust-green");
  // A second browser replays the robust run exactly.
  const other = await launch();
  const fresh = await other.newPage();
  await fresh.goto(robustUrl);
  await fresh.waitForSelector('[data-testid="trace-hash"]');
  await replayedTo(fresh, robustTime);
  assert.equal(await fresh.textContent('[data-testid="trace-hash"]'), robustHash);
  assert.equal(await fresh.$$eval('[data-check][data-ok="false"]', (els) => els.length), 0);
  await other.close();
  assert.match(naiveUrl, /modulo|v2\./);
  assert.deepEqual(problems, []);
  await page.close();
});

test("keyboard shortcuts: Space, arrows, + and −, ?", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/rate-limiter`);
  await page.waitForSelector('[data-testid="play-toggle"]');
  // Yew renders asynchronously, and a playing page is busy: wait for each change to show.
  await page.keyboard.press("Space");
  await page.waitForSelector('[data-testid="play-toggle"][aria-pressed="true"]', { timeout: 5_000 });
  await page.waitForTimeout(300);
  await page.keyboard.press("Space");
  await page.waitForSelector('[data-testid="play-toggle"][aria-pressed="false"]', { timeout: 5_000 });
  await page.waitForTimeout(300);
  const before = parseInt(await page.textContent('[data-testid="events"]'), 10);
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(
    (b) => parseInt(document.querySelector('[data-testid="events"]').textContent, 10) === b + 1,
    before,
    { timeout: 5_000 },
  );
  const speed = await page.textContent('[data-testid="speed-value"]');
  await page.keyboard.press("+");
  assert.notEqual(await page.textContent('[data-testid="speed-value"]'), speed);
  await page.keyboard.press("-");
  assert.equal(await page.textContent('[data-testid="speed-value"]'), speed);
  await page.keyboard.press("?");
  await page.waitForSelector('[data-testid="help"]');
  await screenshot(page, "help");
  assert.deepEqual(problems, []);
  await page.close();
});

test("find a failing seed runs in a Web Worker and its hit opens as a link", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/url-shortener`);
  await page.waitForSelector('[data-testid="explore-find"]');
  await page.click('[data-testid="explore-find"]');
  await page.waitForSelector('[data-testid="explore-hit"] a', { timeout: 30_000 });
  const href = await page.getAttribute('[data-testid="explore-hit"] a', "href");
  assert.match(href, /^#\/s\/url-shortener\?v2\./);
  await screenshot(page, "explore-hit");
  // A robust strategy: start a long sweep, then cancel it; the page stays responsive.
  await page.selectOption('[data-testid="strategy"]', "counter");
  await page.waitForFunction(() => document.querySelector('[data-testid="strategy"]').value === "counter");
  await page.fill('[data-testid="explore"] input[type=number]', "5000");
  await page.click('[data-testid="explore-find"]');
  await page.waitForTimeout(300);
  await page.click('[data-testid="explore-cancel"]');
  await page.waitForFunction(() => !document.querySelector('[data-testid="explore-find"]').disabled);
  assert.deepEqual(problems, []);
  await page.close();
});

test("compare mode, the method page and dark mode render", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/compare/url-shortener`);
  await page.waitForSelector('[data-testid="compare"] [data-testid="trace-hash"]', { timeout: 30_000 });
  const hashes = await page.$$eval('[data-testid="compare"] [data-testid="trace-hash"]', (els) => els.map((e) => e.textContent));
  assert.equal(hashes.length, 2);
  assert.notEqual(hashes[0], hashes[1]);
  await screenshot(page, "compare");
  await page.goto(`${server.url}#/method`);
  await page.waitForSelector("h1, h2");
  await screenshot(page, "method");
  await page.click('[data-testid="theme-toggle"]');
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  assert.ok(theme === "dark" || theme === "light");
  await page.goto(`${server.url}#/s/url-shortener`);
  await page.waitForSelector('[data-testid="topology"] [data-node]');
  await screenshot(page, `system-url-shortener-${theme}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("export and import the scenario as JSON; export the topology as SVG and PNG", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/rate-limiter`);
  await page.waitForSelector('[data-testid="export-json"]');
  const [json] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-json"]')]);
  const text = await (await import("node:fs/promises")).readFile(await json.path(), "utf8");
  const spec = JSON.parse(text);
  assert.equal(spec.system, "rate-limiter");
  spec.seed = 4242;
  await page.setInputFiles('[data-testid="import-json"]', { name: "s.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(spec)) });
  await page.waitForFunction(() => document.querySelector('[data-testid="seed"]').value === "4242");
  await page.setInputFiles('[data-testid="import-json"]', { name: "bad.json", mimeType: "application/json", buffer: Buffer.from("{not json") });
  await page.waitForSelector('[data-testid="io-message"]');
  assert.match(await page.textContent('[data-testid="io-message"]'), /not a scenario/);
  const [svg] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-svg"]')]);
  const svgText = await (await import("node:fs/promises")).readFile(await svg.path(), "utf8");
  assert.match(svgText, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svgText, /data-node="gateway-0"|data-node="client-0"/);
  const [png] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-png"]')]);
  assert.match(png.suggestedFilename(), /\.png$/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the explainer's contents scroll to their section without leaving the page", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/distributed-lock`);
  await page.waitForSelector(".toc-link");
  const url = page.url();
  const links = await page.$$(".toc-link");
  assert.ok(links.length >= 6, "requirements … trade-offs and follow-ups listed");
  await links[links.length - 1].click();
  await page.waitForFunction(() => window.scrollY > 500);
  assert.equal(page.url(), url);
  assert.ok(await page.$('a[href^="#/s/distributed-lock?v2."]'), "a Show me link is on the page");
  assert.deepEqual(problems, []);
  await page.close();
});

test("a phone-sized screen still reads", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/s/rate-limiter`, { width: 390, height: 844 });
  await page.waitForSelector('[data-testid="play-toggle"]');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);
  await screenshot(page, "phone-rate-limiter");
  assert.deepEqual(problems, []);
  await page.close();
});
