//! Geo-search (catalog no. 22): "find nearby" over a moving fleet. Drivers' phones stream
//! GPS fixes to index shards that own runs of geohash cells; riders ask a router for
//! everything within a radius or the k nearest; the router plans which shards and cells
//! to read, scatters, gathers and merges. Four designs: a linear scan (exact, but every
//! query reads every driver), a geohash search of the query's own cell (fast and wrong at
//! cell edges), geohash with the eight neighbours (exact), and a quadtree per shard with
//! best-first k-nearest search (exact, and reads the least).
//!
//! The checks hold answers to a brute-force scan of the true positions, query latency to
//! an SLO while nothing is broken, and position updates to a cost that does not grow with
//! the fleet.

pub mod area;
pub mod checks;
pub mod client;
pub mod fleet;
pub mod index;
pub mod msg;
pub mod node;
pub mod plan;
pub mod router;
pub mod shard;
pub mod views;

#[cfg(test)]
mod tests;

use crate::blocks::geohash;
use crate::blocks::haversine::LatLon;
use crate::check::slo::LatencySlo;
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::TimedFault;
use crate::sim::rng::Prng;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use area::ShardMap;
use index::{Index, Kind};
use msg::Obs;
use node::Node;
use plan::Design;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Fleets (groups of phones streaming fixes); drivers are dealt to them round-robin.
pub const FLEETS: u32 = 8;
/// Rider apps sending queries.
pub const CLIENTS: u32 = 2;
/// How long clients query and phones report.
pub const DURATION_MS: u64 = 8_000;

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "linear-scan",
        title: "Linear scan",
        robust: false,
        summary: "Every query goes to every shard, which computes the distance to every driver it holds. Always exact, and a position update is O(1) — but each query costs O(n), so at city scale the shards saturate and latency explodes.",
    },
    StrategyDef {
        id: "geohash-cell-only",
        title: "Geohash, own cell only",
        robust: false,
        summary: "Pick the geohash precision whose cell is as large as the search circle and read only the query's own cell — a prefix range scan. Fast, but a circle near a cell edge spills into cells nobody reads: drivers just across the edge go missing.",
    },
    StrategyDef {
        id: "geohash-neighbours",
        title: "Geohash + 8 neighbours",
        robust: true,
        summary: "Read the query's cell and its eight neighbours (nine range scans), then filter by exact haversine distance. The precision is chosen in degrees from the circle's bounding box, so the 3 × 3 block always holds the circle; k-nearest widens the radius until k hits lie inside it.",
    },
    StrategyDef {
        id: "quadtree",
        title: "Quadtree per shard",
        robust: true,
        summary: "Each shard keeps a point quadtree that splits crowded quadrants and merges emptied ones; radius search prunes quadrants by their exact least distance, k-nearest is best-first search. Reads far fewer drivers than nine geohash cells in a dense district.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("drivers", "Drivers", "drivers", 100, 50_000, 10_000, "Moving entities indexed (70 % gather around four busy districts)."),
    ParamSpec::int("shards", "Index shards", "shards", 1, 16, 4, "Shards, each owning a contiguous run of 3 × 5 km geohash cells in Z-order."),
    ParamSpec::int("update_ms", "GPS fix interval", "ms", 250, 10_000, 1_000, "How often each phone reports its position."),
    ParamSpec::int("speed_kmh", "Driving speed", "km/h", 0, 120, 40, "How fast drivers move between waypoints."),
    ParamSpec::int("query_rate", "Query rate", "queries/s", 10, 2_000, 500, "Rider queries per second, Poisson arrivals."),
    ParamSpec::int("knn_pct", "k-nearest share", "%", 0, 100, 50, "Share of queries asking for the k nearest; the rest ask for everything within the radius."),
    ParamSpec::int("k", "k", "drivers", 1, 50, 10, "How many nearest drivers a k-nearest query wants."),
    ParamSpec::int("radius_m", "Search radius", "m", 100, 5_000, 500, "Radius of a radius query."),
    ParamSpec::int("knn_max_m", "k-nearest horizon", "m", 500, 10_000, 4_000, "A k-nearest query returns fewer than k when fewer lie within this distance."),
    ParamSpec::int("step_ns", "Cost per index step", "ns", 10, 10_000, 500, "Shard CPU per step: one distance computed, one entry or tree node visited (with its cache miss)."),
    ParamSpec::int("leaf_capacity", "Quadtree leaf size", "drivers", 2, 64, 16, "Drivers a quadtree leaf holds before it splits into four."),
    ParamSpec::flag("reverse_index", "Remember each driver's entry", true, "Shards keep driver → indexed position, so a move deletes the old entry directly. Off, the old entry must be searched for: an update costs O(n)."),
    ParamSpec::int("slo_ms", "Latency SLO (p99)", "ms", 5, 2_000, 50, "p99 query latency promised while no fault disrupts the service."),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "exact-results",
        kind: CheckKind::Safety,
        description: "Every answer equals a brute-force scan of the drivers' true positions (their newest GPS fixes) at query time: everyone within reach, at their true distance, in order; drivers whose index entry was in motion during the query may go either way.",
    },
    CheckDef {
        name: "query-latency",
        kind: CheckKind::Slo,
        description: "p99 query latency (failed queries included) stays within the SLO, judged only when no fault disrupted the service.",
    },
    CheckDef {
        name: "update-cost",
        kind: CheckKind::Slo,
        description: "A position update costs the index a bounded number of steps on average over each batch (64 + 4 × leaf size), whatever the number of drivers.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "geo-search",
    number: 22,
    title: "Geo search (find nearby)",
    theme: "Marketplaces and platforms",
    question:
        "How do you find the drivers nearest to a rider, exactly and fast, when thousands of them move every second?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 1_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: p.int("query_rate") as f64,
        think_ms: 0,
        duration_ms: DURATION_MS,
        keys: p.int("drivers") as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// No faults by default: the latency SLO is judged only on undisrupted runs, and the
/// default run is where the linear scan meets it. Show-me lines add faults.
fn default_faults(_p: &Params) -> Vec<TimedFault> {
    Vec::new()
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = vec!["router".to_string()];
    t.extend((0..p.int("shards")).map(|i| format!("shard-{i}")));
    t
}

/// The per-update step bound of `update-cost`.
pub fn update_limit(p: &Params) -> u64 {
    64 + 4 * p.int("leaf_capacity") as u64
}

fn build(s: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (nodes, props) = parts(s)?;
    crate::system::assemble(s, opts, nodes, props, views::views)
}

/// A world's nodes and its checks.
pub type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// The nodes and checks of a scenario: clients, fleets, the router, the shards.
pub fn parts(s: &Scenario) -> Result<Parts, BuildError> {
    let p = &s.params;
    let design = Design::from_id(s.strategy.id)
        .ok_or_else(|| BuildError(format!("geo-search has no strategy {:?}", s.strategy.id)))?;
    let drivers = p.int("drivers") as u32;
    let shards = p.int("shards") as usize;
    let map = ShardMap::new(shards);
    let router_id: NodeId = CLIENTS + FLEETS;
    let shard_base: NodeId = router_id + 1;
    let mut nodes = Vec::new();
    let mix = client::Mix {
        knn_pct: p.int("knn_pct") as u64,
        k: p.int("k") as u32,
        knn_max_m: p.int("knn_max_m") as u32,
        radius_m: p.int("radius_m") as u32,
    };
    for i in 0..CLIENTS {
        let c = client::Client::new(router_id, s.workload.clone(), CLIENTS, mix);
        nodes.push(NodeSpec::new(format!("client-{i}"), "client", Node::Client(c)));
    }
    let until = SimTime::from_ms(s.workload.duration_ms);
    let seed = Prng::new(s.seed);
    for f in 0..FLEETS {
        let ids: Vec<u32> = (f..drivers).step_by(FLEETS as usize).collect();
        let mut rng = seed.fork_n("fleet-placement", u64::from(f));
        let fleet = fleet::Fleet::new(
            ids,
            map.clone(),
            shard_base,
            p.int("update_ms") as u64,
            p.int("speed_kmh") as f64,
            until,
            &mut rng,
        );
        nodes.push(NodeSpec::new(format!("fleet-{f}"), "fleet", Node::Fleet(Box::new(fleet))));
    }
    let r = router::Router::new(design, map, shard_base);
    nodes.push(NodeSpec::new("router", "router", Node::Router(Box::new(r))));
    let kind = match design {
        Design::LinearScan => Kind::Scan,
        Design::CellOnly | Design::Neighbours => Kind::Cells,
        Design::QuadTree => Kind::Quad { capacity: p.int("leaf_capacity") as usize },
    };
    for i in 0..shards {
        let index = Index::new(kind, drivers as usize, p.flag("reverse_index"));
        let sh = shard::Shard::new(i as u16, index, p.int("step_ns") as u64);
        nodes.push(NodeSpec::new(format!("shard-{i}"), "shard", Node::Shard(Box::new(sh))));
    }
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::ExactResults::new(drivers as usize)),
        Box::new(LatencySlo::new("query-latency", 0.99, p.int("slo_ms") as f64, true)),
        Box::new(checks::UpdateCost::new(update_limit(p))),
    ];
    Ok((nodes, props))
}

/// Back-of-the-envelope figures: the write stream, what each design reads per query, and
/// memory.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let n = p.int("drivers") as f64;
    let qps = p.int("query_rate") as f64;
    let update_s = p.int("update_ms") as f64 / 1_000.0;
    let step_us = p.int("step_ns") as f64 / 1_000.0;
    let r_km = p.int("radius_m") as f64 / 1_000.0;
    // Density in a busy district: 70 % of drivers over four 4 × 4 km districts.
    let dense = 0.7 * n / (4.0 * 16.0);
    let centre = LatLon::new(51.5136, -0.0890);
    let bbox = crate::blocks::haversine::cap_bbox(centre, r_km);
    let chars = plan::precision_for(centre, &bbox);
    let (w, h) = geohash::cell_size_deg(chars);
    let cell_km2 = w * 111.32 * libm::cos(centre.lat.to_radians()) * h * 110.574;
    let nine = (9.0 * cell_km2 * dense).min(n);
    let circle = std::f64::consts::PI * r_km * r_km * dense;
    vec![
        Estimate::new(
            "Position updates",
            format!("{} /s", estimate::si(n / update_s)),
            "drivers / fix interval: the index is write-heavy",
        ),
        Estimate::new(
            "Fix bandwidth",
            format!("{}/s", estimate::bytes(n / update_s * 24.0)),
            "24 B per fix (id, version, lat, lon)",
        ),
        Estimate::new("Queries", format!("{} /s", estimate::si(qps)), "the workload"),
        Estimate::new(
            "Linear scan per query",
            format!("{} ms", estimate::si(n * step_us / 1_000.0)),
            format!(
                "every driver × {} ns; a shard saturates above {} queries/s",
                p.int("step_ns"),
                estimate::si(1e6 / (n / p.int("shards") as f64 * step_us).max(1e-9))
            ),
        ),
        Estimate::new(
            "Geohash cells for the radius",
            format!("precision {chars}: {cell_km2:.2} km² each"),
            format!(
                "9 cells ≈ {} drivers read downtown for ~{} in the circle",
                estimate::si(nine),
                estimate::si(circle)
            ),
        ),
        Estimate::new(
            "1 M drivers, linear scan",
            format!("{} ms/query", estimate::si(1e6 * step_us / 1_000.0)),
            "why nobody scans",
        ),
        Estimate::new("Index memory", estimate::bytes(n * 48.0), "≈ 48 B per driver (key, id, position, version)"),
    ]
}
