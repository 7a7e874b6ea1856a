//! What the page draws: the key ownership ring as the first live client sees it (tokens
//! for the ring scheme, and a sample of keys coloured by owner for every scheme), the hit
//! ratio over time, database load against its capacity, and a per-node table (with how
//! many entries each node evicted, since a full node trades hits for room).

use super::config::Cfg;
use super::Node;
use crate::blocks::hash_ring::{key_hash, AnyPlacement, Placement};
use crate::sim::world::{Status, World};
use crate::view::{Ring, RingPoint, SeriesLine, SeriesView, Table, View};

/// Keys drawn on the ring.
const RING_KEYS: usize = 96;

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

pub fn views(w: &World<Node>) -> Vec<View> {
    let client = w
        .nodes()
        .iter()
        .zip(w.meta())
        .find_map(|(n, m)| match n {
            Node::Client(c) if m.status != Status::Down => Some(c),
            _ => None,
        })
        .or_else(|| w.nodes().iter().find_map(|n| if let Node::Client(c) = n { Some(c) } else { None }));
    let mut out = Vec::new();
    if let Some(c) = client {
        out.push(View::Ring(ring(&c.placement, &c.cfg, c.idx)));
    }
    out.push(View::Series(hit_ratio(w)));
    if let Some(c) = client {
        out.push(View::Series(db_load(w, c.cfg.db_capacity_qps)));
        out.push(View::Table(table(w, &c.placement, &c.cfg)));
    }
    out
}

fn ring(p: &AnyPlacement, cfg: &Cfg, client: u32) -> Ring {
    let mut points = Vec::new();
    if let AnyPlacement::Ring(r) = p {
        for &(t, m) in r.tokens() {
            points.push(RingPoint { pos: unit(t), owner: Cfg::cache_name(m), kind: "token".into() });
        }
    }
    let step = (cfg.universe.len() / RING_KEYS).max(1);
    for &k in cfg.universe.iter().step_by(step) {
        if let Some(m) = p.owner(k) {
            points.push(RingPoint { pos: unit(key_hash(k)), owner: Cfg::cache_name(m), kind: "key".into() });
        }
    }
    Ring { title: format!("Key ownership as client-{client} sees it ({} nodes)", p.members().len()), points }
}

fn series(w: &World<Node>, name: &str) -> Vec<f64> {
    w.metrics.series.get(name).map(<[f64]>::to_vec).unwrap_or_default()
}

fn hit_ratio(w: &World<Node>) -> SeriesView {
    let (hits, misses) = (series(w, "cache_hits"), series(w, "cache_misses"));
    let n = hits.len().max(misses.len());
    let values = (0..n)
        .map(|i| {
            let (h, m) = (hits.get(i).copied().unwrap_or(0.0), misses.get(i).copied().unwrap_or(0.0));
            if h + m == 0.0 {
                0.0
            } else {
                100.0 * h / (h + m)
            }
        })
        .collect();
    SeriesView {
        title: "Cache hit ratio".into(),
        unit: "%".into(),
        interval_ms: w.metrics.series.interval_ms,
        lines: vec![SeriesLine { name: "hit ratio".into(), values }],
    }
}

fn db_load(w: &World<Node>, capacity: f64) -> SeriesView {
    let per_s = 1_000.0 / w.metrics.series.interval_ms as f64;
    let qps: Vec<f64> = series(w, "db_arrivals").iter().map(|v| v * per_s).collect();
    let cap = vec![capacity; qps.len()];
    SeriesView {
        title: "Database load vs capacity".into(),
        unit: "queries/s".into(),
        interval_ms: w.metrics.series.interval_ms,
        lines: vec![
            SeriesLine { name: "queries/s".into(), values: qps },
            SeriesLine { name: "capacity".into(), values: cap },
        ],
    }
}

fn table(w: &World<Node>, p: &AnyPlacement, cfg: &Cfg) -> Table {
    let mut rows = Vec::new();
    for (n, m) in w.nodes().iter().zip(w.meta()) {
        let Node::Cache(c) = n else { continue };
        let owned = cfg.universe.iter().filter(|&&k| p.owner(k) == Some(c.idx)).count();
        let share = if cfg.universe.is_empty() { 0.0 } else { 100.0 * owned as f64 / cfg.universe.len() as f64 };
        let total = c.hits + c.misses;
        let ratio = if total == 0 { 0.0 } else { 100.0 * c.hits as f64 / total as f64 };
        let status = m.status.as_str();
        rows.push(vec![
            m.name.clone(),
            status.to_string(),
            c.store.len().to_string(),
            c.dirty.len().to_string(),
            format!("{share:.1}%"),
            c.hits.to_string(),
            c.misses.to_string(),
            format!("{ratio:.0}%"),
            c.evictions.to_string(),
        ]);
    }
    Table {
        title: "Cache nodes".into(),
        columns: ["node", "status", "keys", "dirty", "owns", "hits", "misses", "hit ratio", "evicted"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows,
    }
}
