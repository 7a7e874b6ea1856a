//! The system's views: load per shard (the hot shard stands out), cache hit ratio over
//! time, the bit layout of the ids the current strategy makes, and the latest ids issued.

use super::{Node, Strategy};
use crate::blocks::{base62, snowflake};
use crate::sim::world::World;
use crate::view::{SeriesLine, SeriesView, Table, View};

pub fn views(world: &World<Node>) -> Vec<View> {
    vec![shard_table(world), hit_ratio(world), id_layout(world), recent_ids(world)]
}

fn strategy(world: &World<Node>) -> (Strategy, u64) {
    world
        .nodes()
        .iter()
        .find_map(|n| match n {
            Node::Api(a) => Some((a.w.strategy, a.w.id_space)),
            _ => None,
        })
        .unwrap_or((Strategy::Random, 0))
}

fn shard_table(world: &World<Node>) -> View {
    let total: u64 = world.nodes().iter().map(|n| if let Node::Shard(s) = n { s.served } else { 0 }).sum();
    let mut rows = Vec::new();
    for (n, m) in world.nodes().iter().zip(world.meta()) {
        if let Node::Shard(s) = n {
            let status = m.status.as_str();
            rows.push(vec![
                m.name.clone(),
                status.to_string(),
                s.map.len().to_string(),
                s.served.to_string(),
                format!("{}%", s.served * 100 / total.max(1)),
                s.queue_len().to_string(),
                s.max_queue.to_string(),
                s.overwrites.to_string(),
            ]);
        }
    }
    let columns = ["shard", "status", "keys", "ops", "share", "queue", "max queue", "overwrites"];
    View::Table(Table { title: "Shards: load and keys".into(), columns: columns.map(String::from).to_vec(), rows })
}

fn hit_ratio(world: &World<Node>) -> View {
    let s = &world.metrics.series;
    let hits = s.get("cache_hit").unwrap_or(&[]);
    let misses = s.get("cache_miss").unwrap_or(&[]);
    let len = hits.len().max(misses.len());
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(0.0);
    let ratio = (0..len)
        .map(|i| {
            let looks = at(hits, i) + at(misses, i);
            if looks > 0.0 {
                100.0 * at(hits, i) / looks
            } else {
                0.0
            }
        })
        .collect();
    let redirects = (0..len).map(|i| at(hits, i) + at(misses, i)).collect();
    View::Series(SeriesView {
        title: "Cache hit ratio (and cache lookups per interval)".into(),
        unit: "%".into(),
        interval_ms: s.interval_ms,
        lines: vec![
            SeriesLine { name: "hit ratio %".into(), values: ratio },
            SeriesLine { name: "lookups".into(), values: redirects },
        ],
    })
}

fn id_layout(world: &World<Node>) -> View {
    let (strat, space) = strategy(world);
    let bits = 64 - space.saturating_sub(1).leading_zeros();
    let row = |f: &str, b: String, m: &str| vec![f.to_string(), b, m.to_string()];
    let rows = match strat {
        Strategy::Random => {
            vec![row("random", format!("{bits} (space {space})"), "uniform draw, checked then inserted")]
        }
        Strategy::Hash => vec![row("FNV-1a(url) mod space", format!("{bits} (space {space})"), "same URL, same id")],
        Strategy::Counter => {
            vec![row("counter", "64".into(), "block from the ticket service + offset; printed in base62")]
        }
        Strategy::Snowflake | Strategy::SnowflakeNaive => snowflake::layout()
            .iter()
            .map(|&(f, b, hi, lo)| row(f, b.to_string(), &format!("bits {hi}..{lo}")))
            .collect(),
    };
    View::Table(Table {
        title: "Id layout".into(),
        columns: vec!["field".into(), "bits".into(), "meaning".into()],
        rows,
    })
}

fn recent_ids(world: &World<Node>) -> View {
    let (strat, _) = strategy(world);
    let mut all: Vec<(u64, String, u64)> = Vec::new();
    for (n, m) in world.nodes().iter().zip(world.meta()) {
        if let Node::Api(a) = n {
            all.extend(a.recent.iter().map(|&(at, id)| (at, m.name.clone(), id)));
        }
    }
    all.sort();
    let rows = all
        .iter()
        .rev()
        .take(12)
        .map(|(at, api, id)| {
            let fields = match strat {
                Strategy::Snowflake | Strategy::SnowflakeNaive => {
                    let p = snowflake::decode(*id);
                    format!("t={} w={} s={}", p.timestamp_ms, p.worker, p.sequence)
                }
                _ => id.to_string(),
            };
            vec![format!("{at} ms"), api.clone(), base62::encode(*id), fields]
        })
        .collect();
    let columns = vec!["at".into(), "issued by".into(), "short id".into(), "fields".into()];
    View::Table(Table { title: "Recent ids".into(), columns, rows })
}
