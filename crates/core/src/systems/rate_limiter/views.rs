//! What the system page draws: limiter levels for the abuser's key and two honest keys,
//! allowed vs rejected per interval, the store's queue (its deepest point and what it
//! refused per interval), and a table of the store's queue and per-key limiter state.

use super::node::Node;
use super::store::{QUEUE_SERIES, SHED_SERIES};
use crate::sim::world::World;
use crate::view::{SeriesLine, SeriesView, Table, View};

/// Series names of the level chart, by key (key 0 is the abuser's).
pub const LEVEL_SERIES: [&str; 3] = ["level k0 (abuser)", "level k1", "level k2"];
pub const OUTCOME_SERIES: [&str; 5] = ["allowed", "limited", "busy", "unavailable", "fail-open"];

pub fn views(world: &World<Node>) -> Vec<View> {
    let series = &world.metrics.series;
    let lines = |names: &[&str]| -> Vec<SeriesLine> {
        names
            .iter()
            .map(|n| SeriesLine { name: n.to_string(), values: series.get(n).map(<[f64]>::to_vec).unwrap_or_default() })
            .collect()
    };
    let levels = SeriesView {
        title: "Limiter level per key (tokens left for buckets, requests counted otherwise)".into(),
        unit: "requests".into(),
        interval_ms: series.interval_ms,
        lines: lines(&LEVEL_SERIES),
    };
    let outcomes = SeriesView {
        title: "Allowed vs rejected".into(),
        unit: "requests / interval".into(),
        interval_ms: series.interval_ms,
        lines: lines(&OUTCOME_SERIES),
    };
    let queue = SeriesView {
        title: "Store queue: deepest per interval, and commands refused because it was full".into(),
        unit: "commands".into(),
        interval_ms: series.interval_ms,
        lines: lines(&[QUEUE_SERIES, SHED_SERIES]),
    };
    let now_us = world.now().micros();
    let mut rows = Vec::new();
    for n in world.nodes() {
        match n {
            Node::Store(s) => rows.extend(s.rows(now_us)),
            Node::Gateway(g) => rows.extend(g.rows(now_us)),
            Node::Client(_) => {}
        }
    }
    rows.truncate(40);
    let table = Table {
        title: "Per-key limiter state".into(),
        columns: vec!["key".into(), "state".into(), "admitted".into(), "denied".into()],
        rows,
    };
    vec![View::Series(levels), View::Series(outcomes), View::Series(queue), View::Table(table)]
}
