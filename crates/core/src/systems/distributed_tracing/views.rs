//! The views, all read from storage as a trace UI would (Jaeger's search page and trace
//! page): the waterfall of one trace — the latest stored trace with an error, else the
//! latest whole one — with its critical path as a lane of its own; the same trace as a span
//! tree; a table of recent stored traces; the collector's latest tail decisions; where the
//! time on the critical path goes, by service; and every exporter's queue.

use super::collector::{Collector, Mode, Reason};
use super::msg::SpanRec;
use super::node::Node;
use super::storage::Storage;
use crate::blocks::critical_path::{critical_path, Interval, Segment};
use crate::sim::world::World;
use crate::view::{Span, Table, Timeline, TimelineLane, Tree, TreeNode, View};
use std::collections::{BTreeMap, BTreeSet};

/// Stored traces listed in the table.
const ROWS: usize = 12;
/// Stored traces searched for the featured trace and summed for the critical path.
const SCAN: usize = 300;

pub fn views(world: &World<Node>) -> Vec<View> {
    let names: Vec<String> = world.meta().iter().map(|m| m.name.clone()).collect();
    let name = |id: u32| names.get(id as usize).cloned().unwrap_or_else(|| "?".into());
    let mut storage = None;
    let mut collector = None;
    let mut exporters = Vec::new();
    for (i, n) in world.nodes().iter().enumerate() {
        match n {
            Node::Storage(s) => storage = Some(s),
            Node::Collector(c) => collector = Some(c.as_ref()),
            Node::Service(s) => exporters.push((name(i as u32), s.as_ref())),
            Node::Client(_) => {}
        }
    }
    let mut out = Vec::new();
    if let Some(st) = storage {
        if let Some(trace) = featured(st) {
            out.push(View::Timeline(waterfall(trace, &name)));
            out.push(View::Tree(tree(trace, &name)));
        }
        out.push(View::Table(recent(st, &name)));
        out.push(View::Table(critical_by_service(st, &name)));
    }
    if let Some(c) = collector {
        out.push(View::Table(decisions(c)));
    }
    out.push(View::Table(Table {
        title: "Exporters: spans waiting for an acknowledgement".into(),
        columns: ["service", "calls served", "failed", "queued spans", "dropped (queue full)"]
            .map(String::from)
            .to_vec(),
        rows: exporters
            .iter()
            .map(|(n, s)| {
                vec![
                    n.clone(),
                    s.served.to_string(),
                    s.failed.to_string(),
                    s.exporter.len().to_string(),
                    s.exporter.dropped.to_string(),
                ]
            })
            .collect(),
    }));
    out
}

/// The root span of a trace, if exactly one span has no parent.
fn root(spans: &[SpanRec]) -> Option<&SpanRec> {
    let mut roots = spans.iter().filter(|s| s.parent.is_none());
    let r = roots.next()?;
    roots.next().is_none().then_some(r)
}

/// Whether the spans form a whole tree: one root and every call's span present.
fn whole(spans: &[SpanRec]) -> bool {
    root(spans).is_some()
        && spans.iter().all(|s| spans.iter().filter(|c| c.parent == Some(s.span)).count() == usize::from(s.children))
}

fn featured(st: &Storage) -> Option<&[SpanRec]> {
    let latest = || st.order.iter().rev().take(SCAN).filter_map(|t| st.traces.get(t));
    latest()
        .find(|v| v.iter().any(|s| s.error) && root(v).is_some())
        .or_else(|| latest().find(|v| v.len() > 1 && whole(v)))
        .or_else(|| latest().next())
        .map(Vec::as_slice)
}

fn intervals(spans: &[SpanRec]) -> Vec<Interval> {
    spans.iter().map(|s| Interval { id: s.span, parent: s.parent, start: s.start_us, end: s.end_us }).collect()
}

/// Spans in depth-first order from the roots (orphans after), with their depth.
fn dfs(spans: &[SpanRec]) -> Vec<(usize, &SpanRec)> {
    let ids: BTreeSet<u64> = spans.iter().map(|s| s.span).collect();
    let mut kids: BTreeMap<Option<u64>, Vec<&SpanRec>> = BTreeMap::new();
    for s in spans {
        let p = s.parent.filter(|p| ids.contains(p));
        kids.entry(p).or_default().push(s);
    }
    for v in kids.values_mut() {
        v.sort_by_key(|s| (s.start_us, s.span));
    }
    let mut out = Vec::new();
    let mut stack: Vec<(usize, &SpanRec)> = kids.get(&None).into_iter().flatten().rev().map(|s| (0, *s)).collect();
    while let Some((d, s)) = stack.pop() {
        out.push((d, s));
        if d < 16 {
            stack.extend(kids.get(&Some(s.span)).into_iter().flatten().rev().map(|c| (d + 1, *c)));
        }
    }
    out
}

fn ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}

fn waterfall(spans: &[SpanRec], name: &dyn Fn(u32) -> String) -> Timeline {
    let mut lanes: Vec<TimelineLane> = dfs(spans)
        .into_iter()
        .map(|(d, s)| TimelineLane {
            name: format!("{}{}", "· ".repeat(d), name(s.service)),
            spans: vec![Span {
                start_ms: ms(s.start_us),
                end_ms: ms(s.end_us),
                label: format!("{:.1} ms{}", ms(s.end_us - s.start_us), if s.error { " error" } else { "" }),
                kind: if s.error { "bad" } else { "ok" }.into(),
            }],
        })
        .collect();
    if let Some(r) = root(spans) {
        let by_id: BTreeMap<u64, &SpanRec> = spans.iter().map(|s| (s.span, s)).collect();
        let segs: Vec<Segment> = critical_path(&intervals(spans), r.span);
        lanes.push(TimelineLane {
            name: "critical path".into(),
            spans: segs
                .iter()
                .rev()
                .map(|g| Span {
                    start_ms: ms(g.start),
                    end_ms: ms(g.end),
                    label: by_id.get(&g.id).map(|s| name(s.service)).unwrap_or_default(),
                    kind: "warn".into(),
                })
                .collect(),
        });
    }
    let t = spans.first().map(|s| s.trace).unwrap_or(0);
    let what = if spans.iter().any(|s| s.error) { "latest stored error trace" } else { "latest stored trace" };
    Timeline { title: format!("Waterfall of trace {t:032x} ({what}; span times on each service's clock)"), lanes }
}

fn tree(spans: &[SpanRec], name: &dyn Fn(u32) -> String) -> Tree {
    let ids: BTreeSet<u64> = spans.iter().map(|s| s.span).collect();
    Tree {
        title: "The same trace assembled from parent ids".into(),
        nodes: dfs(spans)
            .into_iter()
            .map(|(_, s)| TreeNode {
                id: format!("{:016x}", s.span),
                parent: s.parent.filter(|p| ids.contains(p)).map(|p| format!("{p:016x}")),
                label: format!(
                    "{} {:.1} ms{}{}",
                    name(s.service),
                    ms(s.end_us - s.start_us),
                    if s.error { " ERROR" } else { "" },
                    match s.parent {
                        Some(p) if !ids.contains(&p) => format!(" (parent {p:016x} missing)"),
                        _ => String::new(),
                    }
                ),
            })
            .collect(),
    }
}

fn recent(st: &Storage, name: &dyn Fn(u32) -> String) -> Table {
    let rows = st
        .order
        .iter()
        .rev()
        .take(ROWS)
        .filter_map(|t| st.traces.get(t).map(|v| (t, v)))
        .map(|(t, v)| {
            let services: BTreeSet<String> = v.iter().map(|s| name(s.service)).collect();
            let duration = root(v).map(|r| format!("{:.1}", ms(r.end_us - r.start_us))).unwrap_or_else(|| "—".into());
            let shape = if whole(v) {
                "whole tree"
            } else if root(v).is_none() {
                "no single root"
            } else {
                "spans missing"
            };
            vec![
                format!("{:08x}…", (*t >> 96) as u32),
                v.len().to_string(),
                services.into_iter().collect::<Vec<_>>().join(", "),
                duration,
                if v.iter().any(|s| s.error) { "error" } else { "ok" }.into(),
                shape.into(),
            ]
        })
        .collect();
    Table {
        title: format!("Stored traces (latest {ROWS} of {}; {} spans)", st.traces.len(), st.spans),
        columns: ["trace", "spans", "services", "root ms", "status", "shape"].map(String::from).to_vec(),
        rows,
    }
}

fn critical_by_service(st: &Storage, name: &dyn Fn(u32) -> String) -> Table {
    let mut on_path: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut total = 0u64;
    for v in st.order.iter().rev().take(SCAN).filter_map(|t| st.traces.get(t)) {
        let Some(r) = root(v) else { continue };
        let by_id: BTreeMap<u64, &SpanRec> = v.iter().map(|s| (s.span, s)).collect();
        for g in critical_path(&intervals(v), r.span) {
            let Some(s) = by_id.get(&g.id) else { continue };
            let e = on_path.entry(name(s.service)).or_default();
            e.0 += g.end - g.start;
            total += g.end - g.start;
        }
        for s in v {
            on_path.entry(name(s.service)).or_default().1 += s.end_us - s.start_us;
        }
    }
    let mut rows: Vec<(String, u64, u64)> = on_path.into_iter().map(|(n, (c, all))| (n, c, all)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Table {
        title: format!("Where the critical path goes (latest {SCAN} stored traces with a root)"),
        columns: ["service", "ms on critical path", "share", "ms in its spans"].map(String::from).to_vec(),
        rows: rows
            .into_iter()
            .map(|(n, c, all)| {
                vec![
                    n,
                    format!("{:.1}", ms(c)),
                    format!("{:.0} %", 100.0 * c as f64 / total.max(1) as f64),
                    format!("{:.1}", ms(all)),
                ]
            })
            .collect(),
    }
}

fn decisions(c: &Collector) -> Table {
    let title = match c.mode {
        Mode::PassThrough => "Collector: pass-through (the services decided at the head)".to_string(),
        Mode::Tail { wait_ms, keep_pct, cap, .. } => format!(
            "Collector tail decisions (wait ≤ {wait_ms} ms, keep errors + {keep_pct} % of the rest; buffer {}/{cap} spans, peak {})",
            c.buffered, c.peak
        ),
    };
    Table {
        title,
        columns: ["at ms", "trace", "spans", "whole", "error", "decision", "why"].map(String::from).to_vec(),
        rows: c
            .recent
            .iter()
            .rev()
            .map(|d| {
                vec![
                    format!("{:.0}", d.at.as_ms()),
                    format!("{:08x}…", (d.trace >> 96) as u32),
                    d.spans.to_string(),
                    if d.complete { "yes" } else { "no" }.into(),
                    if d.error { "yes" } else { "no" }.into(),
                    if d.kept { "keep" } else { "drop" }.into(),
                    match d.reason {
                        Reason::Complete => "trace complete",
                        Reason::Waited => "decision wait over",
                        Reason::BufferFull => "buffer full: decided early",
                        Reason::Evicted => "buffer full: evicted unseen",
                    }
                    .into(),
                ]
            })
            .collect(),
    }
}
