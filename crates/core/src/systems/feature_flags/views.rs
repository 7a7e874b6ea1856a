//! The views: the rollout bar (each flag's percentage in the store, drawn as a bar, next
//! to the share of answers that were `on` lately), the share of `on` answers per flag
//! over time, each SDK's cache version and lease, and the store's audit log. All
//! bounded: the audit log keeps its last entries, series are per interval.

use super::flags::FlagConfig;
use super::msg::pct;
use super::node::Node;
use super::sdk::{Sdk, Updates};
use super::store::Store;
use crate::sim::world::World;
use crate::view::{Log, LogLane, SeriesLine, SeriesView, Table, View};

/// Series intervals folded into one point of the chart.
const FOLD: usize = 5;
const BAR: u32 = 20;

fn series(w: &World<Node>, name: &str) -> Vec<f64> {
    w.metrics.series.get(name).map(<[f64]>::to_vec).unwrap_or_default()
}

fn bar(bp: u32) -> String {
    let full = (bp * BAR).div_ceil(10_000).min(BAR);
    format!("{}{}", "█".repeat(full as usize), "░".repeat((BAR - full) as usize))
}

/// Share of answers `on` per folded interval, in %.
fn on_share(w: &World<Node>, key: &str) -> Vec<f64> {
    let (on, all) = (series(w, &format!("on:{key}")), series(w, &format!("evals:{key}")));
    all.chunks(FOLD)
        .enumerate()
        .map(|(i, chunk)| {
            let n: f64 = chunk.iter().sum();
            let k: f64 = on.iter().skip(i * FOLD).take(FOLD).sum();
            if n == 0.0 {
                0.0
            } else {
                100.0 * k / n
            }
        })
        .collect()
}

fn store(w: &World<Node>) -> Option<&Store> {
    w.nodes().iter().find_map(|n| match n {
        Node::Store(s) => Some(&**s),
        _ => None,
    })
}

fn flag_state(f: &FlagConfig) -> String {
    if !f.enabled {
        return "OFF".into();
    }
    if f.weights.len() > 2 {
        let w: Vec<String> = f.weights.iter().map(|b| pct(*b)).collect();
        format!("{} in ({})", pct(f.pct_bp), w.join("/"))
    } else {
        pct(f.pct_bp)
    }
}

fn sdk_row(name: String, s: &Sdk, w: &World<Node>, latest: u64) -> Vec<String> {
    let mode = match s.updates {
        Updates::Poll { every_ms } => format!("poll every {} s", every_ms as f64 / 1_000.0),
        Updates::Stream { .. } => "stream".into(),
    };
    let lease = match (s.updates, s.confirmed) {
        (Updates::Poll { .. }, _) => "—".to_string(),
        (Updates::Stream { lease_ms, .. }, Some(t)) => {
            // Read on true time for the view; the SDK itself reads its own clock.
            let age = (w.now().as_ms() - t.as_ms()).max(0.0);
            if age < lease_ms as f64 {
                format!("held ({age:.0} ms old)")
            } else {
                format!("EXPIRED ({age:.0} ms old)")
            }
        }
        (Updates::Stream { .. }, None) => "none".to_string(),
    };
    let flags: Vec<String> = s.flags.iter().map(|f| format!("{} {}", f.key, flag_state(f))).collect();
    let behind = latest.saturating_sub(s.version);
    vec![
        name,
        mode,
        if s.flags.is_empty() { "empty".into() } else { format!("v{}", s.version) },
        if behind == 0 { "current".into() } else { format!("{behind} behind") },
        lease,
        flags.join(", "),
        s.evals.to_string(),
        s.fallbacks.to_string(),
        s.gaps.to_string(),
    ]
}

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let st = store(world);
    let latest = st.map_or(0, |s| s.version);
    let columns = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut out = Vec::new();
    if let Some(s) = st {
        let rows = s
            .flags
            .iter()
            .map(|f| {
                let share = on_share(world, f.key);
                let last = share.iter().rev().find(|v| **v > 0.0).copied().unwrap_or(0.0);
                vec![
                    f.key.to_string(),
                    if f.enabled { "on".into() } else { "OFF (killed)".into() },
                    if f.enabled { bar(f.pct_bp) } else { bar(0) },
                    flag_state(f),
                    format!("{last:.0}%"),
                ]
            })
            .collect();
        out.push(View::Table(Table {
            title: format!("Rollout bar: each flag in the store at v{latest}, and the share of answers `on` lately"),
            columns: columns(&["flag", "switch", "rollout", "rollout (weights)", "answers on"]),
            rows,
        }));
        let lines =
            s.flags.iter().map(|f| SeriesLine { name: f.key.to_string(), values: on_share(world, f.key) }).collect();
        out.push(View::Series(SeriesView {
            title: "Share of answers `on` per flag (rules and rollout together)".into(),
            unit: "%".into(),
            interval_ms: world.metrics.series.interval_ms * FOLD as u64,
            lines,
        }));
    }
    let rows = world
        .nodes()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            Node::Sdk(s) => Some(sdk_row(names[i].clone(), s, world, latest)),
            _ => None,
        })
        .collect();
    out.push(View::Table(Table {
        title: "SDKs: the flag version each app server evaluates with".into(),
        columns: columns(&["sdk", "updates", "cache", "vs store", "lease", "flags", "answers", "fallbacks", "gaps"]),
        rows,
    }));
    if let Some(s) = st {
        let entries: Vec<String> = s
            .audit
            .iter()
            .map(|e| format!("v{} · {:.3} s · {} · {}: {}", e.version, e.at.as_ms() / 1_000.0, e.actor, e.flag, e.what))
            .collect();
        let committed = entries.len();
        out.push(View::Log(Log {
            title: format!("Audit log ({} changes; the last {} shown, store clock)", s.audited, committed),
            lanes: vec![LogLane { name: "flag store".into(), entries, committed }],
        }));
    }
    out
}
