//! sdlab-web: the playground. It draws the shapes sdlab-core describes (catalog entries,
//! topology, views, checks) and never names a system's own types, so a new system appears
//! here without any change to this crate.

pub mod app;
pub mod pages;
pub mod panic_panel;
pub mod route;

/// Installs the panic panel and renders the app into `#app` (or the body).
pub fn start() {
    panic_panel::install();
    let root = gloo::utils::document().get_element_by_id("app");
    match root {
        Some(el) => yew::Renderer::<app::App>::with_root(el).render(),
        None => yew::Renderer::<app::App>::new().render(),
    };
}
