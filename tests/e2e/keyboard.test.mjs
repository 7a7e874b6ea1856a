// Keyboard only (issue 16): from the catalog, open a system, play, inject a fault on a node
// and on a link, jump to a violation and copy the link — Tab, Shift+Tab and Enter, never the
// mouse — and at every step the focused element shows a visible focus indicator: a
// :focus-visible outline of at least 2 px on HTML controls, the dashed halo on topology
// nodes and links. Screenshots of the focused node and link go to tests/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { serve, launch, openPage, screenshot, ARTIFACTS } from "./harness.mjs";

let server, browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Presses Tab (or Shift+Tab) until the focused element matches `selector`. */
async function tabTo(page, selector, { back = false, max = 400 } = {}) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`${max} presses of ${back ? "Shift+Tab" : "Tab"} never reached ${selector}`);
}

/** What makes the focused element's focus visible, or a reason it is not. */
async function focusRing(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { ok: false, why: "nothing focused" };
    if (!el.matches(":focus-visible")) return { ok: false, why: `${el.tagName} is focused but not :focus-visible` };
    const halo = el.querySelector(":scope > .focus-halo");
    if (halo) {
      const s = getComputedStyle(halo);
      const ok = s.visibility === "visible" && s.stroke !== "none" && parseFloat(s.strokeWidth) >= 2;
      return { ok, why: `halo ${s.visibility} ${s.stroke} ${s.strokeWidth}`, what: el.getAttribute("aria-label") };
    }
    const s = getComputedStyle(el);
    const ok = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    return { ok, why: `outline ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, what: el.textContent.trim().slice(0, 40) };
  });
}

async function step(page, selector, opts) {
  await tabTo(page, selector, opts);
  const ring = await focusRing(page);
  assert.ok(ring.ok, `${selector}: focus not visible (${ring.why})`);
  return ring;
}

/** A screenshot of the topology only (the focused part), into tests/artifacts/. */
async function shot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.locator('[data-testid="topology"]').screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

const simTime = async (page) => parseFloat(await page.textContent('[data-testid="sim-time"]'));

test("keyboard only: catalog → system → play → fault a node and a link → jump to the violation → copy the link", async () => {
  const { page, problems } = await openPage(browser, `${server.url}#/`);
  await page.waitForSelector('[data-testid="system-card"]');

  await step(page, 'a[data-system="distributed-lock"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="topology"] [data-node="worker-1"]');
  assert.match(page.url(), /#\/s\/distributed-lock/);

  // Play (10×, with the + shortcut) until a check fails and offers a jump to its
  // violation — the default scenario's GC pause makes a worker write after its lease ran
  // out — then pause.
  await step(page, '[data-testid="play-toggle"]');
  for (let i = 0; i < 3; i++) await page.keyboard.press("+");
  assert.equal(await page.textContent('[data-testid="speed-value"]'), "10×");
  await page.keyboard.press("Enter");
  await page.waitForSelector("button.jump", { timeout: 30_000 });
  await page.keyboard.press("Enter"); // pause, focus still on the button
  assert.equal(await page.getAttribute('[data-testid="play-toggle"]', "aria-pressed"), "false");

  await step(page, '[data-node="worker-1"]');
  await shot(page, "keyboard-node-focused");
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute('[data-node="worker-1"]', "aria-pressed"), "true");
  await step(page, '[data-testid="fault-pause"]');
  await page.keyboard.press("Enter");
  assert.match(await page.textContent(".fault-msg"), /Scheduled at \d+ ms: pause worker-1/);

  // Links come before nodes in the drawing, so go back to one.
  await step(page, "[data-link]", { back: true });
  const link = await page.evaluate(() => document.activeElement.getAttribute("data-link"));
  await shot(page, "keyboard-link-focused");
  await page.keyboard.press("Enter");
  await step(page, '[data-testid="fault-clog"]');
  await page.keyboard.press("Enter");
  const [a, b] = link.split("|");
  assert.match(await page.textContent(".fault-msg"), new RegExp(`clog ${a}->${b} \\+100ms`));

  const jump = await step(page, "button.jump");
  const at = parseFloat(/at ([\d.]+) ms/.exec(await page.evaluate(() => document.activeElement.getAttribute("aria-label")))[1]);
  await page.keyboard.press("Enter");
  await page.waitForFunction((t) => Math.abs(parseFloat(document.querySelector('[data-testid="sim-time"]').textContent) - t) < 1, at);
  assert.ok(jump.ok);

  await step(page, '[data-testid="copy-link"]', { back: true });
  await page.keyboard.press("Enter");
  const shared = await page.inputValue('[data-testid="share-url"]');
  assert.match(shared, /#\/s\/distributed-lock\?v2\./);
  assert.ok(Math.abs((await simTime(page)) - at) < 1.5, "copying keeps the playhead at the violation");
  await screenshot(page, "keyboard-done");
  assert.deepEqual(problems, []);
  await page.close();
});
