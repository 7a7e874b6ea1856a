//! The views: the LSM levels (every live table with its level, time range, points and
//! bytes, the memtables above them), the block compression ratio per level (real encoded
//! bytes against 16 raw bytes a point), the last query's plan (which tables it decoded,
//! answered from rollups, or skipped and why), the LSM event log (flushes, compactions,
//! retention drops, crash and replay) and the scraper's latest queries.

use super::db::Db;
use super::node::Node;
use super::query::Use;
use super::scraper::Scraper;
use crate::sim::world::World;
use crate::view::{Log, LogLane, Table, View};

pub fn views(world: &World<Node>) -> Vec<View> {
    let (mut db, mut scraper) = (None, None);
    for n in world.nodes() {
        match n {
            Node::Db(d) => db = Some(&**d),
            Node::Scraper(s) => scraper = Some(&**s),
            Node::Disk(_) => {}
        }
    }
    let mut out = Vec::new();
    if let Some(d) = db {
        out.push(View::Table(levels(d)));
        out.push(View::Table(compression(d)));
        out.push(View::Table(plan(d)));
        out.push(View::Log(events(d)));
    }
    if let Some(s) = scraper {
        out.push(View::Log(queries(s)));
    }
    out
}

fn per_point(bytes: u64, points: u64) -> String {
    if points == 0 {
        "—".into()
    } else {
        format!("{:.2}", bytes as f64 / points as f64)
    }
}

fn levels(d: &Db) -> Table {
    let mut rows = vec![vec![
        "memtable".into(),
        "—".into(),
        "—".into(),
        d.mem.len().to_string(),
        "(memory)".into(),
        "—".into(),
        "—".into(),
    ]];
    if let Some(f) = &d.imm {
        rows.push(vec![
            "flushing".into(),
            format!("#{}", f.table.id),
            format!("{}–{}", f.table.min_ts, f.table.max_ts),
            f.table.points.to_string(),
            f.table.bytes().to_string(),
            per_point(f.table.bytes(), f.table.points),
            "—".into(),
        ]);
    }
    let mut tables: Vec<&super::table::Table> = d.tables.iter().collect();
    tables.sort_by_key(|t| (t.level, t.min_ts, t.id));
    for t in tables {
        rows.push(vec![
            format!("L{}", t.level),
            format!("#{}", t.id),
            format!("{}–{}", t.min_ts, t.max_ts),
            t.points.to_string(),
            t.bytes().to_string(),
            per_point(t.bytes(), t.points),
            if t.rollups.is_empty() { "—".into() } else { format!("{} rows", t.rollups.len()) },
        ]);
    }
    let [l0, l1, l2] = d.levels();
    let busy = match &d.compacting {
        Some(c) => format!("; compacting {} tables → L{}", c.inputs.len(), c.level),
        None => String::new(),
    };
    Table {
        title: format!(
            "LSM levels (L0 {l0} · L1 {l1} · L2 {l2}; WAL {} records, {} durable{busy})",
            d.wal.len(),
            d.wal.durable_len()
        ),
        columns: ["level", "table", "time range (ms)", "points", "bytes", "B/point", "rollups"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

fn compression(d: &Db) -> Table {
    let mut rows = Vec::new();
    let (mut all_b, mut all_p) = (0, 0);
    for level in 0..=2u8 {
        let ts: Vec<&super::table::Table> = d.tables.iter().filter(|t| t.level == level).collect();
        let points: u64 = ts.iter().map(|t| t.points).sum();
        let bytes: u64 = ts.iter().map(|t| t.bytes()).sum();
        let rollup: u64 = ts.iter().map(|t| t.rollup_bytes()).sum();
        all_b += bytes;
        all_p += points;
        rows.push(vec![
            format!("L{level}"),
            ts.len().to_string(),
            points.to_string(),
            (points * 16).to_string(),
            bytes.to_string(),
            per_point(bytes, points),
            if bytes == 0 { "—".into() } else { format!("{:.1}×", (points * 16) as f64 / bytes as f64) },
            rollup.to_string(),
        ]);
    }
    Table {
        title: format!(
            "Block compression ({} B/point overall, {} encoding)",
            per_point(all_b, all_p),
            if d.cfg.strategy.compressed() { "Gorilla" } else { "row" }
        ),
        columns: [
            "level",
            "tables",
            "points",
            "raw bytes (16/pt)",
            "encoded bytes",
            "B/point",
            "ratio",
            "rollup bytes",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

fn plan(d: &Db) -> Table {
    let Some(p) = &d.last_plan else {
        return Table { title: "Query plan (no query yet)".into(), columns: vec!["table".into()], rows: Vec::new() };
    };
    let rows = p
        .tables
        .iter()
        .map(|(id, level, u)| {
            let what = match u {
                Use::SkippedTime => "skipped: time range misses".to_string(),
                Use::SkippedSeries => "skipped: no matching series".to_string(),
                Use::Rollup(n) => format!("rollups: {n} rows, no point decoded"),
                Use::Decoded(n) => format!("decoded {n} chunks"),
            };
            vec![format!("#{id}"), format!("L{level}"), what]
        })
        .collect();
    Table {
        title: format!("Query plan: {} ({} series; {} memtable points)", p.query, p.series, p.memtable_points),
        columns: ["table", "level", "use"].map(String::from).to_vec(),
        rows,
    }
}

fn events(d: &Db) -> Log {
    let entries: Vec<String> = d.events.iter().map(|(at, t)| format!("{at:.0} ms {t}")).collect();
    let committed = entries.len();
    Log {
        title: format!(
            "LSM events ({} flushes, {} compactions, {} tables dropped, {} crashes)",
            d.flushes, d.compactions, d.dropped_tables, d.crashes
        ),
        lanes: vec![LogLane { name: "db".into(), entries, committed }],
    }
}

fn queries(s: &Scraper) -> Log {
    let entries: Vec<String> = s.recent.iter().map(|(q, a)| format!("{q} → {a}")).collect();
    let committed = entries.len();
    Log { title: "Latest queries".into(), lanes: vec![LogLane { name: "scraper".into(), entries, committed }] }
}
