//! Time-series database (catalog entry 21): a scraper writes a sample of every series on
//! a fixed schedule and queries them back; the database keeps a write-ahead log and a
//! memtable, flushes immutable tables, compacts them across levels (an LSM tree whose
//! upper levels are time-partitioned blocks with rollups), indexes series by label,
//! answers raw and aggregate range queries and drops data past its retention. Its disk is
//! a node of its own, so a fault can slow or stall it.
//!
//! Three designs: rows of 16 bytes plus the series name per point (correct, but several
//! times the storage budget), Gorilla blocks without a WAL (acknowledged points in the
//! memtable vanish in a crash), and the robust WAL + Gorilla blocks + compaction. The
//! checks judge everything against the scraper's own record of acknowledged points. See
//! `explainer.md`.

pub mod checks;
pub mod db;
pub mod disk;
pub mod lsm;
pub mod msg;
pub mod node;
pub mod query;
pub mod scraper;
pub mod table;
pub mod views;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    RowUncompressed,
    NoWal,
    GorillaWal,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "row-uncompressed" => Strategy::RowUncompressed,
            "no-wal" => Strategy::NoWal,
            "gorilla-wal" => Strategy::GorillaWal,
            _ => return None,
        })
    }

    pub fn wal(self) -> bool {
        self != Strategy::NoWal
    }

    pub fn compressed(self) -> bool {
        self != Strategy::RowUncompressed
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "row-uncompressed",
        title: "A row per point",
        robust: false,
        summary: "WAL, memtable and compaction as in the robust design, but every point is stored as a row: an 8-byte timestamp, an 8-byte value and the series name repeated. Nothing is lost and every answer is right; the disk holds several times the storage budget.",
    },
    StrategyDef {
        id: "no-wal",
        title: "Gorilla blocks, no WAL",
        robust: false,
        summary: "Compressed blocks and compaction, but a write is acknowledged as soon as it is in the memtable. A crash takes the memtable with it: points the scraper was told are stored are gone, and read-backs and aggregates over them are wrong.",
    },
    StrategyDef {
        id: "gorilla-wal",
        title: "WAL + Gorilla blocks + compaction",
        robust: true,
        summary: "Each batch is appended to the write-ahead log and fsynced before the acknowledgement; the memtable flushes to Gorilla-compressed tables (delta-of-delta timestamps, XOR values) that compact into time blocks with rollups; compaction swaps tables atomically; a restart replays the WAL.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("series", "Series", "series", 3, 500, 60, "Series scraped (three metrics per host)."),
    ParamSpec::int(
        "scrapes_per_s",
        "Scrape rate",
        "points/s per series",
        1,
        20,
        10,
        "Every series gets a point this often.",
    ),
    ParamSpec::int(
        "memtable_points",
        "Memtable size",
        "points",
        100,
        20_000,
        1_500,
        "The memtable flushes to a level-0 table at this many points (writes are refused at twice this).",
    ),
    ParamSpec::int(
        "block_ms",
        "Block duration",
        "ms",
        500,
        8_000,
        2_000,
        "Level-1 blocks cover this much time; the memtable also flushes this often.",
    ),
    ParamSpec::int(
        "fanout",
        "Compaction fan-out",
        "tables",
        2,
        6,
        4,
        "Level-0 tables that trigger a compaction; level-1 blocks per level-2 block.",
    ),
    ParamSpec::int("retention_ms", "Retention", "ms", 4_000, 60_000, 12_000, "Tables older than this are dropped."),
    ParamSpec::float(
        "budget",
        "Storage budget",
        "bytes/point",
        1.0,
        64.0,
        4.0,
        "The live tables' size per point must stay within this.",
    ),
    ParamSpec::int("fsync_ms", "Disk fsync", "ms", 1, 50, 4, "Each disk write costs this much plus its bytes."),
    ParamSpec::int("disk_mb_s", "Disk bandwidth", "MB/s", 1, 500, 50, "Write bandwidth of the disk."),
    ParamSpec::int("queries_per_s", "Queries", "queries/s", 1, 10, 4, "Read-backs and aggregate queries."),
    ParamSpec::int(
        "slow_disk_ms",
        "Slow disk",
        "ms",
        0,
        500,
        150,
        "Default faults: from 13 s to 16 s every disk I/O takes this much longer.",
    ),
    ParamSpec::int(
        "db_down_ms",
        "Database crash",
        "ms",
        0,
        5_000,
        400,
        "Default faults: the database crashes at 15 s and is down this long.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "acked-durable",
        kind: CheckKind::Safety,
        description: "Every acknowledged point a read-back covers is returned with its value, whatever crashed in between (reads inside the retention, judged against the scraper's record of acknowledgements).",
    },
    CheckDef {
        name: "query-exact",
        kind: CheckKind::Safety,
        description: "Raw answers hold only acknowledged points with their values, and every aggregate window equals a brute-force scan of the acknowledged points of the series the matchers select.",
    },
    CheckDef {
        name: "bytes-per-point",
        kind: CheckKind::Slo,
        description: "At the end of the run the live tables' real encoded bytes per point are within the storage budget.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// The scraper writes for at most this long (a link may ask for a longer workload; the
/// per-series record would grow with it).
pub const MAX_WRITE_MS: u64 = 30_000;
/// The scraper retries an unacknowledged batch after this long.
pub const WRITE_TIMEOUT_MS: u64 = 500;
/// The database resends a disk I/O unanswered this long.
pub const IO_TIMEOUT_MS: u64 = 400;

pub const DEF: SystemDef = SystemDef {
    id: "time-series-db",
    number: 21,
    title: "Time-series database",
    theme: "Storage",
    question: "How do you store millions of samples a second compactly, answer range and aggregate queries fast, keep every acknowledged point through a crash, and forget data past its retention?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 6_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

/// The scrape interval: timestamps sit on this schedule (1000 / rate, whole ms).
pub fn scrape_ms(p: &Params) -> i64 {
    1_000 / p.int("scrapes_per_s").max(1)
}

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: p.int("scrapes_per_s") as f64,
        think_ms: 0,
        duration_ms: 20_000,
        keys: p.int("series") as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// A slow disk from 13 s to 16 s and a database crash at 15 s inside it: flushes and
/// compactions are in flight when the process dies. A zero leaves a fault out.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let slow = p.int("slow_disk_ms") as u64;
    if slow > 0 {
        let (from, to) = ("db".to_string(), "disk".to_string());
        out.push(TimedFault {
            at_ms: 13_000,
            fault: Fault::Clog { from: from.clone(), to: to.clone(), extra_ms: slow },
        });
        out.push(TimedFault { at_ms: 16_000, fault: Fault::Unclog { from, to } });
    }
    let down = p.int("db_down_ms") as u64;
    if down > 0 {
        out.push(TimedFault { at_ms: 15_000, fault: Fault::Crash { node: "db".into() } });
        out.push(TimedFault { at_ms: 15_000 + down, fault: Fault::Restart { node: "db".into() } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(_p: &Params) -> Vec<String> {
    ["scraper", "db", "disk"].map(String::from).to_vec()
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::assemble(scenario, opts, specs, props, views::views)
}

pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::world(scenario, opts, specs, props)
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Node ids: the scraper 0, the database 1, its disk 2.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("time-series-db has no strategy {:?}", scenario.strategy.id)))?;
    let series = p.int("series") as u32;
    let scrape_ms = scrape_ms(p);
    let retention_ms = p.int("retention_ms");
    let block_ms = p.int("block_ms");
    let scfg = scraper::ScraperCfg {
        db: 1,
        series,
        scrape_ms,
        duration_ms: scenario.workload.duration_ms.min(MAX_WRITE_MS) as i64,
        timeout_ms: WRITE_TIMEOUT_MS,
        query_every_ms: (1_000 / p.int("queries_per_s")).max(1) as u64,
        retention_ms,
        block_ms,
    };
    let rng = crate::sim::rng::Prng::new(scenario.seed).fork("scraper-values");
    let dcfg = db::DbCfg {
        strategy,
        disk: 2,
        memtable_points: p.int("memtable_points") as usize,
        block_ms,
        fanout: p.int("fanout") as usize,
        retention_ms,
        io_timeout_ms: IO_TIMEOUT_MS,
    };
    let specs = vec![
        NodeSpec::new("scraper", "scraper", Node::Scraper(Box::new(scraper::Scraper::new(scfg, rng)))),
        NodeSpec::new("db", "db", Node::Db(Box::new(db::Db::new(dcfg)))),
        NodeSpec::new(
            "disk",
            "disk",
            Node::Disk(disk::Disk::new(p.int("fsync_ms") as u64 * 1_000, p.int("disk_mb_s") as u64 * 1_000)),
        ),
    ];
    let record = checks::Record::new(series, scrape_ms, retention_ms);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::AckedDurable::new(record.clone())),
        Box::new(checks::QueryExact::new(record)),
        Box::new(checks::BytesPerPoint::new(p.float("budget"))),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let series = p.int("series") as f64;
    let rate = series * 1_000.0 / scrape_ms(p) as f64;
    let day = rate * 86_400.0;
    let name = 40.0;
    let raw = 16.0;
    let row = raw + name + 1.0;
    // Gorilla on gauges like these: ~1 bit of timestamp, a few to ~20 bits of value, plus
    // a 16-byte first point and a 24-byte header per chunk of one block.
    let per_chunk = (p.int("block_ms") / scrape_ms(p)).max(1) as f64;
    let gorilla = 1.2 + 40.0 / per_chunk;
    let retention_s = p.int("retention_ms") as f64 / 1_000.0;
    vec![
        Estimate::new("Ingest", format!("{} points/s", estimate::si(rate)), "series × scrapes per second"),
        Estimate::new("Raw", format!("{}B/day", estimate::si(day * raw)), "points/day × 16 B (timestamp + value)"),
        Estimate::new(
            "Row store",
            format!("{}B/day", estimate::si(day * row)),
            "points/day × (16 B + the series name, ~40 B) repeated per point",
        ),
        Estimate::new(
            "Gorilla blocks",
            format!("≈ {}B/day ({:.1} B/point)", estimate::si(day * gorilla), gorilla),
            "≈ 1.2 B/point for these gauges + a 40 B chunk header over the points of one block",
        ),
        Estimate::new(
            "Held at retention",
            format!("≈ {}B", estimate::si(rate * retention_s * gorilla)),
            "points/s × retention × compressed bytes/point",
        ),
    ]
}
