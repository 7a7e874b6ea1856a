//! The views: buffer level and bitrate per player over time (the first eight players,
//! with player 0's bandwidth drawn under its bitrate), the CDN's hit ratio per edge over
//! time and a table of every cache (hits, misses, collapsed misses, purges) with the
//! origin's egress, and the transcoding job queue (latest jobs, their state, tries and
//! lease holder) with its recent history.

use super::cdn::Cache;
use super::node::Node;
use super::origin::Origin;
use super::player::CHARTED;
use super::queue::{JobState, Queue};
use crate::sim::world::World;
use crate::view::{Log, LogLane, SeriesLine, SeriesView, Table, View};

/// Jobs shown (the latest).
const ROWS: usize = 16;

pub fn views(world: &World<Node>) -> Vec<View> {
    let mut out = vec![View::Series(buffers(world)), View::Series(bitrates(world)), View::Series(hit_ratio(world))];
    out.push(View::Table(cdn_table(world)));
    if let Some(q) = world.nodes().iter().find_map(|n| if let Node::Queue(q) = n { Some(&**q) } else { None }) {
        out.push(View::Table(jobs(world, q)));
        out.push(View::Log(history(q)));
    }
    out
}

fn series(w: &World<Node>, name: &str) -> Vec<f64> {
    w.metrics.series.get(name).map(<[f64]>::to_vec).unwrap_or_default()
}

fn charted(w: &World<Node>) -> u32 {
    let players = w.nodes().iter().filter(|n| matches!(n, Node::Player(_))).count() as u32;
    players.min(CHARTED)
}

fn buffers(w: &World<Node>) -> SeriesView {
    let lines =
        (0..charted(w)).map(|i| SeriesLine { name: format!("player-{i}"), values: series(w, &format!("buffer.p{i}")) });
    SeriesView {
        title: "Buffer level per player".into(),
        unit: "s".into(),
        interval_ms: w.metrics.series.interval_ms,
        lines: lines.collect(),
    }
}

fn bitrates(w: &World<Node>) -> SeriesView {
    let mut lines: Vec<SeriesLine> = (0..charted(w))
        .map(|i| SeriesLine { name: format!("player-{i}"), values: series(w, &format!("kbps.p{i}")) })
        .collect();
    if charted(w) > 0 {
        lines.push(SeriesLine { name: "player-0 bandwidth".into(), values: series(w, "bw.p0") });
    }
    SeriesView {
        title: "Bitrate per player".into(),
        unit: "kbps".into(),
        interval_ms: w.metrics.series.interval_ms,
        lines,
    }
}

/// Cumulative hit ratio of each cache, interval by interval.
fn hit_ratio(w: &World<Node>) -> SeriesView {
    let mut lines = Vec::new();
    for n in w.nodes() {
        let (Node::Edge(c) | Node::Shield(c)) = n else { continue };
        let name = c.series_name();
        let (hits, misses) = (series(w, &format!("{name}.hit")), series(w, &format!("{name}.miss")));
        let (mut h, mut m) = (0.0, 0.0);
        let values = (0..hits.len().max(misses.len()))
            .map(|i| {
                h += hits.get(i).copied().unwrap_or(0.0);
                m += misses.get(i).copied().unwrap_or(0.0);
                if h + m == 0.0 {
                    0.0
                } else {
                    100.0 * h / (h + m)
                }
            })
            .collect();
        lines.push(SeriesLine { name, values });
    }
    SeriesView {
        title: "CDN hit ratio per cache (cumulative)".into(),
        unit: "%".into(),
        interval_ms: w.metrics.series.interval_ms,
        lines,
    }
}

fn cache_row(name: String, c: &Cache, up: bool) -> Vec<String> {
    vec![
        name,
        if up { "up".into() } else { "down".into() },
        c.store.len().to_string(),
        c.hits.to_string(),
        c.misses.to_string(),
        format!("{:.1}%", 100.0 * c.hit_ratio()),
        c.coalesced.to_string(),
        c.purged.to_string(),
    ]
}

fn cdn_table(w: &World<Node>) -> Table {
    let mut rows = Vec::new();
    let mut origin: Option<&Origin> = None;
    for (n, m) in w.nodes().iter().zip(w.meta()) {
        let up = m.status.as_str() != "down";
        match n {
            Node::Edge(c) => rows.push(cache_row(format!("edge-{}", c.cfg.index), c, up)),
            Node::Shield(c) => rows.push(cache_row("shield".into(), c, up)),
            Node::Origin(o) => origin = Some(o),
            _ => {}
        }
    }
    if let Some(o) = origin {
        rows.push(vec![
            "origin".into(),
            format!("egress {:.1} MB", o.served_kbits as f64 / 8_000.0),
            o.stored.len().to_string(),
            "—".into(),
            o.served.to_string(),
            "—".into(),
            "—".into(),
            "—".into(),
        ]);
    }
    let columns =
        ["cache", "status", "objects", "hits", "misses", "hit ratio", "collapsed", "purged"].map(String::from).to_vec();
    Table { title: "CDN caches and origin".into(), columns, rows }
}

fn jobs(w: &World<Node>, q: &Queue) -> Table {
    let now = w.now();
    let rows = q
        .jobs
        .iter()
        .rev()
        .take(ROWS)
        .map(|(id, j)| {
            let state = match j.state {
                JobState::Queued => "queued".to_string(),
                JobState::Leased { .. } if q.ack_on_take => "deleted on hand-out".into(),
                JobState::Leased { to } if j.lease.live(now).is_some() => {
                    format!("leased to {}", w.node_names()[to as usize])
                }
                JobState::Leased { .. } => "lease expired".into(),
                JobState::Done => "done".into(),
            };
            vec![format!("#{id}"), j.chunk.to_string(), state, j.attempts.to_string()]
        })
        .collect();
    Table {
        title: format!(
            "Job queue (latest {ROWS} of {}; {} open, {} waiting, {} re-leased)",
            q.jobs.len(),
            q.open.len(),
            q.backlog(now),
            q.expired
        ),
        columns: ["job", "chunk", "state", "tries"].map(String::from).to_vec(),
        rows,
    }
}

fn history(q: &Queue) -> Log {
    let entries: Vec<String> = q.history.iter().map(|(at, t)| format!("{at:.0} ms {t}")).collect();
    let committed = entries.len();
    Log {
        title: "Job queue history (latest)".into(),
        lanes: vec![LogLane { name: "queue".into(), entries, committed }],
    }
}
