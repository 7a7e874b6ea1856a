// Shared harness for the end-to-end tests: serves dist/ on a free loopback port, launches
// Debian's Chromium through playwright-core (no browser download), and records console
// errors and Content-Security-Policy violations so every test can assert there were none.
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { extname, join, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST = join(ROOT, "dist");
export const ARTIFACTS = join(ROOT, "tests", "artifacts");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json",
  ".png": "image/png", ".webmanifest": "application/manifest+json",
};

/** Serves dist/ on 127.0.0.1 at a free port. */
export async function serve() {
  if (!existsSync(join(DIST, "index.html"))) {
    throw new Error("dist/index.html is missing: build the site first (cargo xtask build)");
  }
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(DIST, path === "/" ? "index.html" : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

/** Launches headless Chromium with the flags this machine needs (see TOOLCHAIN.md). */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.SDLAB_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    // playwright gives every launch a fresh, empty profile directory of its own.
  });
}

/** Opens a page that records console errors, page errors and CSP violations. */
export async function openPage(browser, url, viewport = { width: 1280, height: 860 }) {
  const page = await browser.newPage({ viewport });
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(url);
  return { page, problems };
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Runs the native CLI (built by the sweeps or e2e tier) and parses its JSON. */
export function sdlab(args) {
  const bin = join(ROOT, "target", "release", "sdlab");
  const cmd = existsSync(bin) ? bin : "cargo";
  const full = existsSync(bin) ? args : ["run", "--quiet", "--release", "-p", "sdlab-cli", "--", ...args];
  let out;
  try {
    out = execFileSync(cmd, full, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    out = e.stdout; // exit 1 (a failing check) still prints the report
  }
  return JSON.parse(out);
}

/** Runs the native CLI with `input` on stdin and returns what it prints. */
export function sdlabStdin(args, input) {
  const bin = join(ROOT, "target", "release", "sdlab");
  const cmd = existsSync(bin) ? bin : "cargo";
  const full = existsSync(bin) ? args : ["run", "--quiet", "--release", "-p", "sdlab-cli", "--", ...args];
  return execFileSync(cmd, full, { cwd: ROOT, encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

// A page opened on a link replays to the link's playhead in slices, one per frame, so its
// first render can show the run part-way. This waits until the replay has finished and the
// clock shows `ms` (the time the sharing page showed) before anything is compared.
export async function replayedTo(page, ms) {
  await page.waitForFunction(
    (ms) =>
      !document.querySelector('[data-testid="seek-progress"]') &&
      parseFloat(document.querySelector('[data-testid="sim-time"]')?.textContent) === ms,
    ms,
    { timeout: 60_000 },
  );
}
