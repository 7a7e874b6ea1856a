//! Component tests in headless Chromium (`wasm-pack test --headless --chrome crates/web`):
//! mount a page, let Yew render, click, and read the DOM as a user would.
#![cfg(target_arch = "wasm32")]

use sdlab_core::catalog::CATALOG;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{mount, settle};

#[wasm_bindgen_test]
async fn catalog_shows_one_card_per_system() {
    let root = mount();
    yew::Renderer::<sdlab_web::pages::catalog::CatalogPage>::with_root(root.clone()).render();
    settle().await;
    let cards = root.query_selector_all("[data-testid=system-card]").unwrap();
    assert_eq!(cards.length() as usize, CATALOG.len());
}

#[wasm_bindgen_test]
async fn system_page_steps_plays_and_shows_hash_and_checks() {
    let Some(def) = CATALOG.first() else { return };
    let root = mount();
    let props = sdlab_web::pages::system::Props { id: def.id.to_string(), link: None };
    yew::Renderer::<sdlab_web::pages::system::SystemPage>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let text = |sel: &str| root.query_selector(sel).unwrap().unwrap().text_content().unwrap();
    let click = |sel: &str| {
        let el: HtmlElement = root.query_selector(sel).unwrap().unwrap().dyn_into().unwrap();
        el.click();
    };
    assert_eq!(text("[data-testid=trace-hash]").len(), 16);
    assert_eq!(text("[data-testid=events]"), "0");
    click("[data-testid=step]");
    settle().await;
    assert_eq!(text("[data-testid=events]"), "1");
    click("[data-testid=play-toggle]");
    settle().await;
    let toggle = root.query_selector("[data-testid=play-toggle]").unwrap().unwrap();
    assert_eq!(toggle.get_attribute("aria-pressed").as_deref(), Some("true"));
    let checks = root.query_selector_all("[data-testid=checks] [data-check]").unwrap();
    assert_eq!(checks.length() as usize, def.checks.len());
    let nodes = root.query_selector_all("[data-testid=topology] [data-node]").unwrap();
    assert!(nodes.length() > 1);
}

#[wasm_bindgen_test]
async fn bad_link_shows_error_and_keeps_text() {
    let Some(def) = CATALOG.first() else { return };
    let root = mount();
    let props = sdlab_web::pages::system::Props { id: def.id.to_string(), link: Some("v9.garbage".into()) };
    yew::Renderer::<sdlab_web::pages::system::SystemPage>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let err = root.query_selector("[data-testid=link-error]").unwrap().unwrap().text_content().unwrap();
    assert!(err.contains("newer sdlab"), "{err}");
    let raw: web_sys::HtmlTextAreaElement =
        root.query_selector("[data-testid=raw-link]").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(raw.value(), "v9.garbage");
}

/// A link that validates but names a node the world does not have (a hand-edited or
/// imported scenario) is a bad link like any other: the page keeps working on the defaults,
/// says what is wrong and keeps the text — it used to replace the whole page.
#[wasm_bindgen_test]
async fn link_with_a_fault_on_a_ghost_node_shows_the_bad_link_box() {
    let def = sdlab_core::catalog::find("distributed-lock").expect("in the catalog");
    let spec = r#"{"version":1,"system":"distributed-lock","faults":[{"at_ms":100,"kind":"crash","node":"ghost"}]}"#;
    let link = sdlab_core::scenario::link::encode(&sdlab_core::scenario::link::parse_json(spec).unwrap());
    let root = mount();
    let props = sdlab_web::pages::system::Props { id: def.id.to_string(), link: Some(link.clone()) };
    yew::Renderer::<sdlab_web::pages::system::SystemPage>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let err =
        root.query_selector("[data-testid=link-error]").unwrap().expect("the bad-link box").text_content().unwrap();
    assert!(err.contains("ghost"), "{err}");
    let raw: web_sys::HtmlTextAreaElement =
        root.query_selector("[data-testid=raw-link]").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(raw.value(), link);
    assert!(root.query_selector("[data-testid=play-toggle]").unwrap().is_some(), "the default scenario still plays");
}

/// Hardening item 12: a seed the box cannot take shows why, inline, and changes nothing.
#[wasm_bindgen_test]
async fn a_bad_seed_shows_an_inline_error_and_keeps_the_scenario() {
    let Some(def) = CATALOG.first() else { return };
    let root = mount();
    let props = sdlab_web::pages::system::Props { id: def.id.to_string(), link: None };
    yew::Renderer::<sdlab_web::pages::system::SystemPage>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let before = web_sys::window().unwrap().location().hash().unwrap();
    for bad in ["-1", "99999999999999999999", "1.5"] {
        let input: web_sys::HtmlInputElement =
            root.query_selector("[data-testid=seed]").unwrap().unwrap().dyn_into().unwrap();
        input.set_value(bad);
        input.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
        settle().await;
        let err = root.query_selector("[data-testid=seed-error]").unwrap().expect("an inline error");
        assert!(err.text_content().unwrap().contains("a seed is a whole number"), "{bad}");
        assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
        assert_eq!(web_sys::window().unwrap().location().hash().unwrap(), before, "{bad} navigated");
    }
}
