//! Browser tests for the explore panel and compare mode (`wasm-pack test --headless
//! --chrome crates/web -- --test explore`). The real worker binary is not built by
//! wasm-pack, so the panel tests point it at small stand-in workers served from Blob URLs
//! that speak the same JSON protocol; the real worker is covered by the end-to-end run
//! against a trunk build.
#![cfg(target_arch = "wasm32")]

use sdlab_core::catalog::CATALOG;
use sdlab_web::explore::{ExplorePanel, ExploreProps};
use sdlab_web::pages::compare::{ComparePage, CompareProps};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Blob, BlobPropertyBag, Element, HtmlElement, HtmlSelectElement, Url};

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{mount, wait as settle};

fn worker_url(js: &str) -> String {
    let opts = BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let parts = js_sys::Array::of1(&JsValue::from_str(js));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &opts).unwrap();
    Url::create_object_url_with_blob(&blob).unwrap()
}

fn text(root: &Element, testid: &str) -> Option<String> {
    root.query_selector(&format!("[data-testid={testid}]")).unwrap().and_then(|e| e.text_content())
}

fn click(root: &Element, testid: &str) {
    let el: HtmlElement = root.query_selector(&format!("[data-testid={testid}]")).unwrap().unwrap().dyn_into().unwrap();
    el.click();
}

fn disabled(root: &Element, testid: &str) -> bool {
    root.query_selector(&format!("[data-testid={testid}]")).unwrap().unwrap().has_attribute("disabled")
}

fn panel(js: &str) -> Element {
    let root = mount();
    let props = ExploreProps { spec: CATALOG[0].default_spec(), worker_url: worker_url(js).into() };
    yew::Renderer::<ExplorePanel>::with_root_and_props(root.clone(), props).render();
    root
}

const FINDS_SEED_7: &str = r#"
postMessage(JSON.stringify({type: "ready"}));
onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.type !== "start" || !m.spec || m.count < 1) { postMessage(JSON.stringify({type: "error", message: "bad start"})); return; }
  postMessage(JSON.stringify({type: "progress", done: 1, total: m.count}));
  postMessage(JSON.stringify({type: "progress", done: 2, total: m.count}));
  postMessage(JSON.stringify({type: "hit", seed: m.from + 6, check: "no-lost-writes", detail: "lost 3", link: "v1.abc"}));
  postMessage(JSON.stringify({type: "done"}));
};"#;

#[wasm_bindgen_test]
async fn a_hit_shows_seed_check_and_link() {
    let root = panel(FINDS_SEED_7);
    settle(30).await;
    assert!(disabled(&root, "explore-cancel"));
    click(&root, "explore-find");
    settle(200).await;
    let hit = text(&root, "explore-hit").unwrap();
    assert!(hit.contains("Seed 7") && hit.contains("no-lost-writes") && hit.contains("lost 3"), "{hit}");
    let href = root.query_selector("[data-testid=explore-hit-link]").unwrap().unwrap().get_attribute("href").unwrap();
    assert_eq!(href, format!("#/s/{}?v1.abc", CATALOG[0].id));
    let progress = root.query_selector("progress").unwrap().unwrap();
    assert_eq!(progress.get_attribute("value").as_deref(), Some("2"));
    assert_eq!(progress.get_attribute("aria-label").as_deref(), Some("Sweep progress"));
    assert!(!disabled(&root, "explore-find"));
}

#[wasm_bindgen_test]
async fn a_dying_worker_is_restarted_and_the_panel_says_so() {
    let root = panel("postMessage('{\"type\":\"ready\"}'); onmessage = () => { throw new Error('boom'); };");
    settle(30).await;
    click(&root, "explore-find");
    settle(300).await;
    let notice = text(&root, "explore-notice").unwrap();
    assert!(notice.contains("boom") && notice.contains("fresh worker"), "{notice}");
    assert!(!disabled(&root, "explore-find"));
    // The fresh worker takes the next sweep (and dies the same way, once more).
    click(&root, "explore-find");
    settle(300).await;
    assert!(text(&root, "explore-notice").unwrap().contains("fresh worker"));
}

#[wasm_bindgen_test]
async fn cancel_stops_a_running_sweep() {
    let slow = r#"postMessage(JSON.stringify({type: "ready"})); onmessage = (e) => { const m = JSON.parse(e.data); let done = 0;
      setInterval(() => { done += 1; postMessage(JSON.stringify({type: "progress", done, total: m.count})); }, 20); };"#;
    let root = panel(slow);
    settle(30).await;
    click(&root, "explore-find");
    settle(150).await;
    assert!(text(&root, "explore-status").unwrap().starts_with("Sweeping"));
    assert!(!disabled(&root, "explore-cancel"));
    click(&root, "explore-cancel");
    settle(30).await;
    let value = root.query_selector("progress").unwrap().unwrap().get_attribute("value");
    settle(150).await;
    assert_eq!(
        root.query_selector("progress").unwrap().unwrap().get_attribute("value"),
        value,
        "progress moved after Cancel"
    );
    assert!(text(&root, "explore-status").unwrap().starts_with("Cancelled"));
    assert!(!disabled(&root, "explore-find"));
}

fn compare(a: Option<&str>, b: Option<&str>) -> Element {
    let root = mount();
    let props = CompareProps { id: CATALOG[0].id.to_string(), a: a.map(Into::into), b: b.map(Into::into) };
    yew::Renderer::<ComparePage>::with_root_and_props(root.clone(), props).render();
    root
}

fn hashes(root: &Element) -> Vec<String> {
    let list = root.query_selector_all("[data-testid=trace-hash]").unwrap();
    (0..list.length()).map(|i| list.item(i).unwrap().text_content().unwrap()).collect()
}

#[wasm_bindgen_test]
async fn compare_runs_both_sides_and_a_picker_reruns_one() {
    let root = compare(None, None);
    settle(50).await;
    let before = hashes(&root);
    assert_eq!(before.len(), 2);
    assert!(before.iter().all(|h| h.len() == 16), "{before:?}");
    assert!(text(&root, "compare-seed").unwrap().starts_with("Both sides run seed"));
    assert!(root.query_selector("[data-metric=requests]").unwrap().is_some());
    let rows = root.query_selector_all("[data-testid=compare-checks] tbody tr").unwrap();
    assert_eq!(rows.length() as usize, CATALOG[0].checks.len());
    assert!(root.query_selector("tr[data-differs=true]").unwrap().is_some(), "naive and robust agree on every check");
    let open = root.query_selector_all("[data-testid=open-side]").unwrap();
    assert_eq!(open.length(), 2);

    // Side A takes side B's strategy: same seed, same strategy, so the same hash.
    let pickers = root.query_selector_all("[data-testid=strategy-picker]").unwrap();
    let a: HtmlSelectElement = pickers.item(0).unwrap().dyn_into().unwrap();
    let b: HtmlSelectElement = pickers.item(1).unwrap().dyn_into().unwrap();
    a.set_value(&b.value());
    a.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    settle(50).await;
    let after = hashes(&root);
    assert_eq!(after[0], after[1], "{after:?}");
    assert!(root.query_selector("tr[data-differs=true]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn compare_bad_link_shows_error_and_keeps_text() {
    let root = compare(Some("v1.not-a-link"), None);
    settle(50).await;
    assert!(text(&root, "link-error").is_some());
    let raw: web_sys::HtmlTextAreaElement =
        root.query_selector("[data-testid=raw-link]").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(raw.value(), "v1.not-a-link");
    assert_eq!(hashes(&root).len(), 2, "the default still runs");
}
