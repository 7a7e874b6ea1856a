// The README's first command, as a user runs it: `cargo xtask serve` serves the playground
// on 127.0.0.1:8080, and a page loaded from it logs no console error and no CSP violation
// (trunk's live-reload script is inline, which the page's CSP blocks; the dev server runs
// without it). Runs after the e2e tier's build, so trunk finds the build up to date.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { ROOT, launch, openPage } from "./harness.mjs";

const URL = "http://127.0.0.1:8080/";
let server, browser;
after(async () => {
  await browser?.close();
  if (server) {
    try {
      process.kill(-server.pid, "SIGTERM"); // trunk and its cargo child share the group
    } catch {}
  }
});

async function waitForServer(deadlineMs) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(URL);
      if (r.ok) return;
    } catch {}
    await new Promise((ok) => setTimeout(ok, 1_000));
  }
  throw new Error(`cargo xtask serve did not answer on ${URL} within ${deadlineMs / 1000} s`);
}

test("cargo xtask serve: the page loads with no console error or CSP violation", { timeout: 600_000 }, async () => {
  server = spawn("cargo", ["xtask", "serve"], { cwd: ROOT, detached: true, stdio: "ignore" });
  await waitForServer(540_000);
  browser = await launch();
  const { page, problems } = await openPage(browser, `${URL}#/s/distributed-lock`);
  await page.waitForSelector('[data-testid="play-toggle"]');
  await page.waitForTimeout(1_000);
  assert.deepEqual(problems, [], "a page served by xtask serve is clean");
  await page.close();
});
