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
