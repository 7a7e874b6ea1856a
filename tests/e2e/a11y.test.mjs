// Accessibility as a gate: axe-core (WCAG 2 A and AA rules) on every route, in both
// themes, with the page in the states a user reaches — a system mid-run with its checks
// failing and the fault panel open. axe is evaluated through the driver (the page's CSP
// allows no inline script), and every violation is printed with its rule, element and,
// for contrast, the measured ratio.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { serve, launch, sdlab } from "./harness.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
let server, browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function audit(route, theme, prepare) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: theme });
  await page.goto(server.url + route);
  await page.waitForSelector("main, [data-testid]");
  if (prepare) await prepare(page);
  await page.waitForTimeout(400);
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return r.violations.map((v) => ({
      rule: v.id,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}${n.any[0]?.data?.contrastRatio ? ` (${n.any[0].data.contrastRatio}:1)` : ""}`),
    }));
  });
  await page.close();
  return violations.flatMap((v) => v.nodes.map((n) => `${route} [${theme}] ${v.rule}: ${n}`));
}

/** A system page mid-run: scrubbed to the middle (naive checks red) with a node selected. */
async function midRun(page) {
  await page.waitForSelector('[data-testid="scrubber"]');
  await page.$eval('[data-testid="scrubber"]', (el) => {
    el.value = Math.floor(el.max / 2);
    el.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await page.waitForTimeout(800);
  const node = await page.$('[data-testid="topology"] [data-node]');
  if (node) await node.click();
}

test("axe finds no WCAG 2 A/AA violation on any route in either theme", { timeout: 600_000 }, async () => {
  const systems = sdlab(["list", "--json"]).map((s) => s.id);
  const found = [];
  for (const theme of ["light", "dark"]) {
    found.push(...(await audit("#/", theme)));
    found.push(...(await audit("#/method", theme)));
    for (const id of systems) {
      found.push(...(await audit(`#/s/${id}`, theme, midRun)));
      found.push(...(await audit(`#/compare/${id}`, theme, (p) => p.waitForSelector('[data-testid="compare"]'))));
    }
  }
  assert.deepEqual(found, [], `accessibility violations:\n${found.join("\n")}`);
});

test("the gate sees a violation when there is one (grey on grey text, an unlabelled button)", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(server.url + "#/");
  await page.waitForSelector('[data-testid="system-card"]');
  await page.evaluate(() => {
    const p = document.createElement("p");
    p.textContent = "hard to read";
    p.style.color = "#777777";
    p.style.background = "#888888";
    document.body.appendChild(p);
    document.body.appendChild(document.createElement("button"));
  });
  await page.evaluate(AXE);
  const rules = await page.evaluate(async () =>
    (await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } })).violations.map((v) => v.id),
  );
  await page.close();
  assert.ok(rules.includes("color-contrast"), `${rules}`);
  assert.ok(rules.includes("button-name"), `${rules}`);
});
