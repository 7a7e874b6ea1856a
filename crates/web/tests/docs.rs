//! Browser tests for the explainer renderer and the method page: mount a component into a
//! fresh div, let Yew render, and read the DOM the way a reader (or a screen reader) would.
#![cfg(target_arch = "wasm32")]

use sdlab_core::catalog::CATALOG;
use sdlab_core::scenario::link;
use sdlab_web::markdown::{sections, Explainer, ExplainerProps};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{mount, settle};

async fn explainer(markdown: &str, estimates: Vec<(String, String)>) -> Element {
    let root = mount();
    let props = ExplainerProps { markdown: markdown.to_string().into(), system: "rate-limiter".into(), estimates };
    yew::Renderer::<Explainer>::with_root_and_props(root.clone(), props).render();
    settle().await;
    root
}

fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| wasm_bindgen::JsCast::dyn_into(n).ok()).collect()
}

fn text(root: &Element, selector: &str) -> String {
    root.query_selector(selector).unwrap().and_then(|e| e.text_content()).unwrap_or_default()
}

const SAMPLE: &str = "# API rate limiter\n\n## Requirements\n\n- one\n- two with `code`\n\n\
## Deep dive\n\n| a | b |\n|---|--:|\n| x | 1 |\n\n```rust\nlet x = 1;\n```\n\n\
Paragraph before\nShow me: {\"version\":1,\"system\":\"rate-limiter\",\"strategy\":\"token-bucket\",\"seed\":3}\n\
and after.\n\nShow me: {\"version\":1,\"system\":\"rate-limiter\",\"strategy\":\"no-such\"}\n\n\
Show me: {oops\n";

#[wasm_bindgen_test]
async fn headings_get_the_ids_sections_reports() {
    let root = explainer(SAMPLE, Vec::new()).await;
    assert!(root.query_selector("h1").unwrap().is_none(), "the page owns the h1");
    let ids: Vec<String> = all(&root, "h2").iter().map(|h| h.id()).collect();
    assert_eq!(ids, vec!["sec-api-rate-limiter", "sec-requirements", "sec-deep-dive"]);
    for (id, title) in sections(SAMPLE) {
        let h = root.query_selector(&format!("#{id}")).unwrap().expect("section heading rendered");
        assert_eq!(h.text_content().unwrap(), title);
    }
}

#[wasm_bindgen_test]
async fn lists_tables_and_code_render_as_elements() {
    let root = explainer(SAMPLE, Vec::new()).await;
    assert_eq!(all(&root, "ul > li").len(), 2);
    assert_eq!(text(&root, "li code"), "code");
    assert_eq!(all(&root, "table.md-table thead th[scope=col]").len(), 2);
    assert_eq!(all(&root, "table.md-table tbody td").len(), 2);
    assert!(root.query_selector("td.align-right").unwrap().is_some());
    assert_eq!(text(&root, "pre.code-block code.language-rust"), "let x = 1;\n");
}

#[wasm_bindgen_test]
async fn show_me_lines_become_links_that_decode_to_their_scenario() {
    let root = explainer(SAMPLE, Vec::new()).await;
    let links = all(&root, "a[data-testid=show-me]");
    assert_eq!(links.len(), 1);
    let a = &links[0];
    assert!(a.text_content().unwrap().starts_with("▶ Show me"));
    assert!(a.get_attribute("aria-label").unwrap().starts_with("Show me"));
    let href = a.get_attribute("href").unwrap();
    let (route, l) = href.split_once('?').unwrap();
    assert_eq!(route, "#/s/rate-limiter");
    let spec = link::decode(l).unwrap();
    assert_eq!((spec.strategy.as_deref(), spec.seed), (Some("token-bucket"), 3));
    // The paragraph is split around the link, and the JSON is not shown as text.
    let paragraphs: Vec<String> = all(&root, "p").iter().filter_map(|p| p.text_content()).collect();
    assert!(paragraphs.iter().any(|p| p.trim() == "Paragraph before"), "{paragraphs:?}");
    assert!(paragraphs.iter().any(|p| p.trim() == "and after."), "{paragraphs:?}");
    assert!(!root.text_content().unwrap().contains("\"seed\":3"));
}

#[wasm_bindgen_test]
async fn broken_show_me_lines_warn_visibly() {
    let root = explainer(SAMPLE, Vec::new()).await;
    let warnings: Vec<String> =
        all(&root, "[data-testid=show-me-broken]").iter().filter_map(|w| w.text_content()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("no-such"), "{}", warnings[0]);
    assert!(warnings[1].contains("not valid"), "{}", warnings[1]);
}

#[wasm_bindgen_test]
async fn raw_html_is_text_and_unsafe_links_are_dropped() {
    let md = "<script>alert(1)</script>\n\nHi <b onclick=\"x()\">there</b> \
[bad](javascript:alert(1)) [plain](http://example.org) [ok](https://example.org) [app](#/s/rate-limiter)\n\n\
![pic](https://example.org/p.png)\n";
    let root = explainer(md, Vec::new()).await;
    assert!(root.query_selector("script, b, img, [onclick]").unwrap().is_none());
    assert!(root.text_content().unwrap().contains("<script>alert(1)</script>"));
    assert!(root.text_content().unwrap().contains("<b onclick=\"x()\">"));
    let hrefs: Vec<String> = all(&root, "a").iter().filter_map(|a| a.get_attribute("href")).collect();
    assert_eq!(hrefs, vec!["https://example.org", "#/s/rate-limiter"]);
    assert_eq!(all(&root, ".link-dropped").len(), 2);
    assert!(text(&root, ".image-alt").contains("pic"));
}

#[wasm_bindgen_test]
async fn estimates_show_as_a_table_on_top() {
    let est =
        vec![("Peak redirects".to_string(), "40 000 /s".to_string()), ("Storage".to_string(), "3 TB".to_string())];
    let root = explainer("## Requirements\n\nText.\n", est).await;
    let table = root.query_selector("[data-testid=estimates]").unwrap().expect("estimates table");
    assert_eq!(text(&table, "caption"), "Back of the envelope");
    assert_eq!(all(&table, "th[scope=row]").len(), 2);
    assert_eq!(text(&table, "td"), "40 000 /s");
    let article = root.first_element_child().unwrap();
    assert_eq!(article.first_element_child().unwrap().tag_name(), "TABLE");

    let none = explainer("Text.\n", Vec::new()).await;
    assert!(none.query_selector("[data-testid=estimates]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn method_page_links_every_step_to_catalog_systems() {
    let root = mount();
    yew::Renderer::<sdlab_web::pages::method::MethodPage>::with_root(root.clone()).render();
    settle().await;
    assert_eq!(all(&root, "h1").len(), 1);
    let steps = all(&root, "h2");
    assert!(steps.len() >= 8, "{} sections", steps.len());
    for title in ["requirements", "scope", "high-level design", "deep dive", "bottlenecks", "trade-offs", "pitfalls"] {
        assert!(
            steps.iter().any(|h| h.text_content().unwrap().to_lowercase().contains(title)),
            "no section about {title}"
        );
    }
    let hrefs: Vec<String> = all(&root, "a").iter().filter_map(|a| a.get_attribute("href")).collect();
    for def in CATALOG {
        assert!(hrefs.contains(&format!("#/s/{}", def.id)), "no link to {}", def.id);
    }
    for h in hrefs.iter().filter(|h| h.starts_with("#/s/")) {
        assert!(sdlab_core::catalog::find(&h[4..]).is_some(), "dead link {h}");
    }
    // The advice itself; the closing list of systems grows by one line per catalog entry.
    let text = root.text_content().unwrap();
    let advice = text.split("Systems to practise on").next().unwrap_or_default();
    let words = advice.split_whitespace().count();
    assert!((700..=1_500).contains(&words), "{words} words of advice");
}

/// The real explainers: every `Show me:` line, in a paragraph of its own or at the end of
/// one, becomes a working link, and none is reported broken.
#[wasm_bindgen_test]
async fn real_explainers_render_every_show_me_line() {
    let explainers = [
        include_str!("../../core/src/systems/url_shortener/explainer.md"),
        include_str!("../../core/src/systems/rate_limiter/explainer.md"),
        include_str!("../../core/src/systems/distributed_lock/explainer.md"),
    ];
    for md in explainers {
        let root = explainer(md, Vec::new()).await;
        let want = sdlab_web::markdown::show_me_lines(md).len();
        assert!(want > 0);
        assert_eq!(all(&root, "a[data-testid=show-me]").len(), want);
        assert!(root.query_selector("[data-testid=show-me-broken]").unwrap().is_none());
        assert!(!root.text_content().unwrap().contains("Show me:"));
    }
}
