// The seed-sweep worker. It runs the page's own wasm (no second binary): the page passes
// the URLs of its JS glue and wasm, whose names trunk hashes, in the query string. A
// module worker from our own origin, so the page's CSP needs no inline script.
const params = new URL(self.location.href).searchParams;
const glue = await import(new URL(params.get("js"), self.location.href).href);
await glue.default({ module_or_path: new URL(params.get("wasm"), self.location.href).href });
glue.explore_worker_start();
