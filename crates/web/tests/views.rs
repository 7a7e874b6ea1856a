//! Browser tests for the view renderers: mount each component into a fresh div, let Yew
//! render, and read the DOM the way a user or a screen reader would (roles, labels,
//! counts of drawn shapes).
#![cfg(target_arch = "wasm32")]

use sdlab_core::sim::net::DropReason;
use sdlab_core::sim::time::SimTime;
use sdlab_core::trace::{TraceEvent, TraceKind};
use sdlab_core::view::*;
use sdlab_web::views::line_chart::LineChartProps;
use sdlab_web::views::panel::ViewListProps;
use sdlab_web::views::sequence::SequenceProps;
use sdlab_web::views::{LineChart, SequenceDiagram, ViewList};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{mount, settle};

fn count(root: &Element, sel: &str) -> u32 {
    root.query_selector_all(sel).unwrap().length()
}

fn one(root: &Element, sel: &str) -> Element {
    root.query_selector(sel).unwrap().unwrap_or_else(|| panic!("nothing matches {sel}"))
}

fn chart_props(cursor_ms: Option<f64>) -> LineChartProps {
    LineChartProps {
        title: "Latency".into(),
        unit: "ms".into(),
        interval_ms: 100,
        lines: vec![("p50".into(), vec![1.0, 2.0, 3.0]), ("p99".into(), vec![5.0, 9.0, 7.0])],
        cursor_ms,
    }
}

#[wasm_bindgen_test]
async fn line_chart_draws_lines_legend_summary_and_moves_its_cursor() {
    let root = mount();
    let mut app = yew::Renderer::<LineChart>::with_root_and_props(root.clone(), chart_props(None)).render();
    settle().await;
    assert_eq!(count(&root, "path.vw-line"), 2);
    assert_eq!(count(&root, ".vw-legend li"), 2);
    assert_eq!(count(&root, "[data-testid=chart-cursor]"), 0);
    let svg = one(&root, "svg.vw-svg");
    assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(svg.get_attribute("viewBox").as_deref(), Some("0 0 600 220"));
    let label = svg.get_attribute("aria-label").unwrap();
    assert!(label.contains("p99: latest 7, min 5, max 9"), "{label}");
    assert!(one(&root, ".vw-legend").text_content().unwrap().contains("7 ms"));

    app.update(chart_props(Some(100.0)));
    settle().await;
    let cursor = one(&root, "[data-testid=chart-cursor]");
    let x: f64 = cursor.get_attribute("x1").unwrap().parse().unwrap();
    assert!((x - (48.0 + 540.0 / 2.0)).abs() < 0.2, "cursor at {x}");
    // Moving the cursor must not disturb the lines.
    assert_eq!(count(&root, "path.vw-line"), 2);
}

fn every_shape() -> Vec<View> {
    vec![
        View::Ring(Ring {
            title: "Ring".into(),
            points: vec![
                RingPoint { pos: 0.1, owner: "a".into(), kind: "token".into() },
                RingPoint { pos: 0.6, owner: "b".into(), kind: "token".into() },
                RingPoint { pos: 0.3, owner: "b".into(), kind: "key".into() },
            ],
        }),
        View::Table(Table {
            title: "Shards".into(),
            columns: vec!["shard".into(), "keys".into()],
            rows: vec![vec!["s1".into(), "10".into()], vec!["s2".into()]],
        }),
        View::Log(Log {
            title: "Replica logs".into(),
            lanes: vec![
                LogLane { name: "r1".into(), entries: vec!["x=1".into(), "x=2".into(), "x=3".into()], committed: 2 },
                LogLane { name: "r2".into(), entries: vec!["x=1".into()], committed: 9 },
            ],
        }),
        View::Map(MapView {
            title: "Map".into(),
            width: 100.0,
            height: 50.0,
            cells: vec![MapCell { x: 0.0, y: 0.0, w: 50.0, h: 50.0, label: "9q".into(), weight: 0.7 }],
            points: vec![MapPoint { x: 10.0, y: 10.0, label: "d1".into(), kind: "driver".into() }],
            circles: vec![MapCircle { x: 10.0, y: 10.0, r: 5.0, label: "radius".into() }],
        }),
        View::Tree(Tree {
            title: "Tree".into(),
            nodes: vec![
                TreeNode { id: "r".into(), parent: None, label: "root".into() },
                TreeNode { id: "c".into(), parent: Some("r".into()), label: "child".into() },
            ],
        }),
        View::Docs(Docs {
            title: "Docs".into(),
            replicas: vec![
                DocReplica { name: "A".into(), text: "hello\nworld".into() },
                DocReplica { name: "B".into(), text: "hello\nthere".into() },
            ],
        }),
        View::Timeline(Timeline {
            title: "Locks".into(),
            lanes: vec![TimelineLane {
                name: "c1".into(),
                spans: vec![Span { start_ms: 0.0, end_ms: 400.0, label: "holds".into(), kind: "bad".into() }],
            }],
        }),
        View::Series(SeriesView {
            title: "Queue".into(),
            unit: "msgs".into(),
            interval_ms: 50,
            lines: vec![SeriesLine { name: "depth".into(), values: vec![0.0, 4.0, 2.0] }],
        }),
    ]
}

#[wasm_bindgen_test]
async fn view_list_draws_every_shape_with_accessible_svgs() {
    let root = mount();
    let props = ViewListProps { views: every_shape(), cursor_ms: None };
    yew::Renderer::<ViewList>::with_root_and_props(root.clone(), props).render();
    settle().await;
    for shape in ["ring", "table", "log", "map", "tree", "docs", "timeline", "series"] {
        assert_eq!(count(&root, &format!("[data-shape={shape}]")), 1, "{shape}");
    }
    let svgs = root.query_selector_all("svg:not([aria-hidden])").unwrap();
    assert!(svgs.length() >= 4);
    for i in 0..svgs.length() {
        let svg: Element = wasm_bindgen::JsCast::dyn_into(svgs.item(i).unwrap()).unwrap();
        assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
        assert!(!svg.get_attribute("aria-label").unwrap_or_default().is_empty());
    }
    // No inline styles anywhere: the CSP would block them.
    assert_eq!(count(&root, "[style]"), 0);

    // Ring: tokens, smaller keys, a legend per owner.
    assert_eq!(count(&root, "circle.vw-token"), 2);
    assert_eq!(count(&root, "circle.vw-key"), 1);
    assert_eq!(count(&root, "[data-shape=ring] .vw-legend li"), 2);
    // Table: caption, headers with scope, padded short row, focusable scroll region.
    assert_eq!(one(&root, "[data-shape=table] caption").text_content().unwrap(), "Shards");
    assert_eq!(count(&root, "th[scope=col]"), 2);
    assert_eq!(count(&root, "[data-shape=table] tbody td"), 4);
    assert_eq!(one(&root, "[data-shape=table]").get_attribute("tabindex").as_deref(), Some("0"));
    // Log: committed prefix, commit index clamped to the lane length.
    assert_eq!(count(&root, "[data-committed=true]"), 3);
    assert_eq!(count(&root, "[data-committed=false]"), 1);
    // Map, tree, docs, timeline.
    assert_eq!(count(&root, "rect.vw-cell"), 1);
    assert_eq!(count(&root, "circle.vw-point"), 1);
    assert_eq!(count(&root, "circle.vw-range"), 1);
    assert_eq!(count(&root, "[data-shape=tree] li"), 2);
    assert_eq!(count(&root, "[data-shape=tree] li li"), 1);
    assert_eq!(count(&root, "mark.vw-diff"), 1);
    assert_eq!(one(&root, "mark.vw-diff").text_content().unwrap(), "there");
    assert_eq!(count(&root, ".vw-span.vw-bad rect"), 1);
    assert_eq!(count(&root, "[data-shape=series] path.vw-line"), 1);
}

fn trace() -> Vec<TraceEvent> {
    let ev = |seq, at_ms, node, kind| TraceEvent { seq, at: SimTime::from_ms(at_ms), node, kind };
    vec![
        ev(0, 1, 0, TraceKind::Timer { tag: 0 }),
        ev(1, 5, 1, TraceKind::Deliver { from: 0, sent_at: SimTime::from_ms(1), label: "get".into() }),
        ev(2, 9, 0, TraceKind::Deliver { from: 1, sent_at: SimTime::from_ms(6), label: "value".into() }),
        ev(3, 10, 2, TraceKind::Drop { from: 0, to: 2, label: "put".into(), reason: DropReason::Loss }),
        ev(4, 11, 2, TraceKind::Fault { text: "crash".into() }),
        ev(5, 12, 1, TraceKind::Note { text: "leader".into() }),
        ev(6, 13, 1, TraceKind::Violation { check: "one leader".into(), detail: "two".into() }),
    ]
}

#[wasm_bindgen_test]
async fn sequence_diagram_draws_lifelines_arrows_and_markers() {
    let root = mount();
    let names = vec!["client".to_string(), "server".to_string(), "db".to_string()];
    let props = SequenceProps { events: trace(), names: names.clone(), max: 50 };
    let mut app = yew::Renderer::<SequenceDiagram>::with_root_and_props(root.clone(), props).render();
    settle().await;
    assert_eq!(count(&root, ".vw-lifeline"), 3);
    assert_eq!(one(&root, ".vw-lifeline text").text_content().unwrap(), "client");
    assert_eq!(count(&root, ".vw-msg"), 2);
    assert_eq!(count(&root, ".vw-msg polygon"), 2);
    assert_eq!(count(&root, ".vw-drop"), 1);
    assert_eq!(count(&root, ".vw-fault"), 1);
    assert_eq!(count(&root, ".vw-note"), 1);
    assert_eq!(count(&root, ".vw-violation"), 1);
    let svg = one(&root, "svg.vw-seq-svg");
    assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
    let label = svg.get_attribute("aria-label").unwrap();
    assert!(label.contains("2 delivered, 1 dropped, 1 fault, 1 violation"), "{label}");
    assert_eq!(one(&root, ".vw-scroll").get_attribute("tabindex").as_deref(), Some("0"));

    app.update(SequenceProps { events: trace(), names, max: 2 });
    settle().await;
    assert_eq!(count(&root, ".vw-msg"), 0);
    assert_eq!(count(&root, ".vw-note"), 1);
    assert_eq!(count(&root, ".vw-violation"), 1);
    assert_eq!(count(&root, ".vw-lifeline"), 1);
}

/// Every system in the catalog, run a little way: its own views and its recent trace
/// render without a panic, and every drawing carries an accessible name.
#[wasm_bindgen_test]
async fn every_catalog_system_renders_its_views_and_trace() {
    use sdlab_core::catalog::CATALOG;
    use sdlab_core::system::BuildOptions;
    for def in CATALOG {
        let scenario = sdlab_core::run::open(&def.default_spec()).unwrap();
        let opts = BuildOptions { keep_trace: 200, ..BuildOptions::default() };
        let mut sim = scenario.build(&opts).unwrap();
        let half = SimTime(sim.horizon().0 / 2);
        sim.run_until(half);
        let root = mount();
        let props = ViewListProps { views: sim.views(), cursor_ms: Some(half.as_ms()) };
        yew::Renderer::<ViewList>::with_root_and_props(root.clone(), props).render();
        let seq = mount();
        let props = SequenceProps { events: sim.recent_trace(), names: sim.node_names(), max: 80 };
        yew::Renderer::<SequenceDiagram>::with_root_and_props(seq.clone(), props).render();
        settle().await;
        assert_eq!(count(&root, ".vw-panel"), sim.views().len() as u32, "{}", def.id);
        for r in [&root, &seq] {
            assert_eq!(count(r, "svg[role=img]:not([aria-label])"), 0, "{}", def.id);
        }
        assert_eq!(count(&seq, "svg.vw-seq-svg[role=img]"), 1, "{}", def.id);
    }
}
