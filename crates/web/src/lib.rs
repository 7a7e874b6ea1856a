//! sdlab-web: the playground. It draws the shapes sdlab-core describes (catalog entries,
//! topology, views, checks) and never names a system's own types, so a new system appears
//! here without any change to this crate.

pub mod app;
pub mod explore;
pub mod markdown;
pub mod pages;
pub mod panic_panel;
pub mod play;
pub mod route;
pub mod theme;
pub mod views;

/// Installs the panic panel and renders the app into `#app` (or the body).
pub fn start() {
    panic_panel::install();
    let root = gloo::utils::document().get_element_by_id("app");
    match root {
        Some(el) => yew::Renderer::<app::App>::with_root(el).render(),
        None => yew::Renderer::<app::App>::new().render(),
    };
}

/// The kernel benchmark's workload (`sim::pingpong`), exported so `cargo xtask bench` can
/// time the shipped wasm in Chromium against the same workload natively. Returns the
/// number of kernel events handled.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_kernel(nodes: u32, window: u32, horizon_ms: u32, seed: u32) -> f64 {
    sdlab_core::sim::pingpong::run(
        u64::from(seed),
        nodes.clamp(2, 512),
        window.clamp(1, 64),
        u64::from(horizon_ms.min(10_000)),
    ) as f64
}

/// The linearizability checker's benchmark in wasm: `histories` holds the text of several
/// history files (Jepsen log lines or EDN maps) separated by the ASCII record separator
/// (U+001E). Each is parsed once outside the timing; then every verdict is searched
/// `repeat` times and the best total kept. Returns `[seconds, histories, linearizable]`, so
/// `tests/bench/lincheck_bench.mjs` can check the verdict count against the native run's.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_lincheck(histories: &str, repeat: u32) -> Vec<f64> {
    use sdlab_core::blocks::lincheck::{self, AppendKv, ParsedHistory, Register};
    let parsed: Vec<ParsedHistory> = histories
        .split('\u{1e}')
        .filter(|t| !t.trim().is_empty())
        .filter_map(|t| lincheck::parse_history(t).ok())
        .collect();
    let verdicts = || {
        parsed
            .iter()
            .filter(|h| match h {
                ParsedHistory::Register(ops) => {
                    lincheck::check(&Register, ops).is_ok_and(|r| r.verdict.is_linearizable())
                }
                ParsedHistory::Kv(ops) => lincheck::check(&AppendKv, ops).is_ok_and(|r| r.verdict.is_linearizable()),
            })
            .count()
    };
    let now = || web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
    let (mut best, mut linearizable) = (f64::MAX, 0);
    for _ in 0..repeat.max(1) {
        let t0 = now();
        linearizable = verdicts();
        best = best.min((now() - t0) / 1_000.0);
    }
    vec![best, parsed.len() as f64, linearizable as f64]
}
