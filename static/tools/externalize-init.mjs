// Post-build hook for trunk: moves the inline `<script type="module">` that trunk writes
// into index.html into a file of its own, so the page runs under
// `script-src 'self' 'wasm-unsafe-eval'` with no inline script at all.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("externalize-init: TRUNK_STAGING_DIR is not set (run me as a trunk hook)");
  process.exit(1);
}
const htmlPath = join(dir, "index.html");
let html = readFileSync(htmlPath, "utf8");
const inline = /<script type="module"( nonce="[^"]*")?>([\s\S]*?)<\/script>/g;
let count = 0;
html = html.replace(inline, (_all, _nonce, body) => {
  const name = `init-${createHash("sha256").update(body).digest("hex").slice(0, 16)}.js`;
  writeFileSync(join(dir, name), body);
  count += 1;
  return `<script type="module" src="./${name}"></script>`;
});
html = html.replace(/ nonce="[^"]*"/g, "");
writeFileSync(htmlPath, html);
console.log(`externalize-init: moved ${count} inline module script(s) out of index.html`);
