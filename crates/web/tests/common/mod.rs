//! Helpers every browser test file shares: a fresh mount point, and a pause that lets
//! Yew's asynchronous render (and any click handlers) finish before the DOM is read.

use std::time::Duration;
use web_sys::Element;

/// A new `<div>` appended to the body, to render a component into.
pub fn mount() -> Element {
    let doc = gloo::utils::document();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    root
}

/// Yields for `ms` milliseconds.
pub async fn wait(ms: u64) {
    yew::platform::time::sleep(Duration::from_millis(ms)).await;
}

/// Yields long enough for one render to land.
#[allow(dead_code)] // not every test file needs the short form
pub async fn settle() {
    wait(30).await;
}
