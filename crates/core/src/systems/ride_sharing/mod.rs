//! Ride-sharing (catalog entry 6): drivers drive a city street grid and report noisy GPS;
//! riders ask for rides. A location service smooths the fixes into position estimates,
//! keeps each driver's reservation and the trip table, and publishes the available
//! supply; matcher shards (one per vertical band of surge cells) match riders to drivers
//! and price each geohash cell from its supply and demand; the trip state machine runs
//! requested → matched → arriving → on trip → completed (or cancelled: "no driver").
//!
//! Three designs: greedy nearest-driver matching with a blind assignment (two shards near
//! a band edge hand one driver two riders), batched optimal assignment with reservations
//! but raw GPS (a multipath outlier makes a far driver look near), and the robust one:
//! batched Hungarian assignment, Kalman-filtered positions with outlier gating, and
//! reservations by compare-and-set on the driver's epoch. See `explainer.md`.

pub mod checks;
pub mod city;
pub mod fleet;
pub mod location;
pub mod matcher;
pub mod msg;
pub mod node;
pub mod riders;
pub mod views;

#[cfg(test)]
mod tests;

use crate::blocks::geohash;
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::rng::Prng;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// How long riders keep arriving by default.
pub const DURATION_MS: u64 = 20_000;
/// Riders arrive for at most this long, whatever the workload asks (trips and tracks
/// grow with it).
pub const MAX_DURATION_MS: u64 = 60_000;
/// The riders' rate is capped here.
pub const MAX_RIDERS_PER_S: f64 = 100.0;
/// After the last request the fleet keeps driving this long: trips finish.
pub const DRAIN_MS: u64 = 30_000;

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    GreedyNearest,
    NoSmoothing,
    Robust,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "greedy-nearest" => Strategy::GreedyNearest,
            "no-smoothing" => Strategy::NoSmoothing,
            "batched-filtered" => Strategy::Robust,
            _ => return None,
        })
    }

    pub fn batched(self) -> bool {
        self != Strategy::GreedyNearest
    }

    pub fn filtered(self) -> bool {
        self != Strategy::NoSmoothing
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "greedy-nearest",
        title: "Greedy nearest, blind assignment",
        robust: false,
        summary: "Each request is matched the moment it arrives to the nearest free driver in the shard's copy of the supply, and the driver is assigned with a plain write. Two shards near their band edge both see the same driver free until the next publication: it is sent two riders.",
    },
    StrategyDef {
        id: "no-smoothing",
        title: "Batched optimal, raw GPS",
        robust: false,
        summary: "Riders are matched in windows by optimal assignment and drivers reserved by compare-and-set, but the location service takes each phone's latest fix as the truth. A multipath outlier or an urban-canyon burst puts a driver hundreds of metres from where it is: it gets matched to riders it is far from.",
    },
    StrategyDef {
        id: "batched-filtered",
        title: "Batched optimal + Kalman filter + CAS reservations",
        robust: true,
        summary: "A constant-velocity Kalman filter per driver weighs fixes by their claimed accuracy and gates outliers; only confirmed tracks are offered. Each window a shard solves riders × drivers with the Hungarian method and reserves each driver with a compare-and-set on its epoch; a lost race re-queues the rider.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "drivers",
        "Drivers",
        "drivers",
        20,
        2_000,
        400,
        "Drivers on the 12 × 12 km grid (60 % start in three busy districts).",
    ),
    ParamSpec::int(
        "riders_per_s",
        "Ride requests",
        "riders/s",
        1,
        100,
        8,
        "New riders per second, Poisson arrivals, from 3 s for 20 s.",
    ),
    ParamSpec::int(
        "matchers",
        "Matcher shards",
        "shards",
        1,
        4,
        2,
        "Matchers, each owning the surge cells of one vertical band of the city.",
    ),
    ParamSpec::int(
        "window_ms",
        "Matching window",
        "ms",
        100,
        2_000,
        250,
        "Batch window of the matchers, the supply publication period and the surge repricing period.",
    ),
    ParamSpec::int(
        "max_wait_ms",
        "Longest wait",
        "ms",
        500,
        10_000,
        2_000,
        "A rider not matched this long after first asking is told \"no driver\".",
    ),
    ParamSpec::int(
        "retry_ms",
        "Rider retry",
        "ms",
        100,
        2_000,
        500,
        "An unanswered rider asks again after this plus a jittered backoff (up to 4×).",
    ),
    ParamSpec::int("update_ms", "GPS fix interval", "ms", 500, 3_000, 1_000, "How often each phone reports a fix."),
    ParamSpec::int("speed_kmh", "Driving speed", "km/h", 10, 80, 36, "How fast drivers drive the grid."),
    ParamSpec::int(
        "gps_noise_m",
        "GPS noise",
        "m",
        5,
        100,
        25,
        "Standard deviation of a fix per axis (the accuracy the phone reports).",
    ),
    ParamSpec::int(
        "outlier_pct",
        "Multipath outliers",
        "% of fixes",
        0,
        20,
        4,
        "Fixes 300–1200 m off that still claim the normal accuracy.",
    ),
    ParamSpec::int(
        "burst_noise_m",
        "Noise burst",
        "m",
        5,
        500,
        250,
        "GPS noise (and reported accuracy) during the burst.",
    ),
    ParamSpec::int(
        "burst_ms",
        "Noise burst length",
        "ms",
        0,
        10_000,
        2_000,
        "Default run: an urban-canyon noise burst over the whole fleet from 8 s (0: none).",
    ),
    ParamSpec::float("surge_cap", "Surge cap", "×", 1.5, 5.0, 3.0, "The highest multiplier a cell may quote."),
    ParamSpec::float(
        "surge_step",
        "Surge step",
        "× per window",
        0.05,
        1.0,
        0.2,
        "The most a cell's multiplier may move per window.",
    ),
    ParamSpec::flag(
        "surge_damping",
        "Damped surge",
        true,
        "Move the multiplier halfway toward its target, by at most a step per window. Off, it jumps to the target.",
    ),
    ParamSpec::int(
        "answer_slo_ms",
        "Answer SLO",
        "ms",
        1_000,
        20_000,
        5_000,
        "Every rider hears \"driver\" or \"no driver\" within this of asking (or of the last fault ending).",
    ),
    ParamSpec::int(
        "pickup_slack_m",
        "Pickup slack",
        "m per pair",
        50,
        2_000,
        250,
        "A matching decision's true pickup distance may exceed the true optimum by this much per pair.",
    ),
    ParamSpec::int(
        "matcher_down_ms",
        "Matcher crash",
        "ms",
        0,
        5_000,
        1_000,
        "Default faults: matcher-0 crashes at 10 s for this long (0: no crash).",
    ),
    ParamSpec::int(
        "partition_ms",
        "Fleet partition",
        "ms",
        0,
        5_000,
        1_500,
        "Default faults: the fleet is cut off from the location service at 14 s for this long.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "one-rider-per-driver",
        kind: CheckKind::Safety,
        description: "From the phones' own history of dispatches and drop-offs: no driver is sent a second rider while it still serves another.",
    },
    CheckDef {
        name: "answered-in-time",
        kind: CheckKind::Liveness,
        description: "Every rider is told a driver or \"no driver\" within the answer SLO of true simulated time after first asking (or after the last fault ended).",
    },
    CheckDef {
        name: "surge-bounded",
        kind: CheckKind::Safety,
        description: "Every multiplier quoted to a rider is within [1, cap], and per cell it moves at most one step per pricing window between quotes.",
    },
    CheckDef {
        name: "pickup-distance",
        kind: CheckKind::Slo,
        description: "Every matching decision's pickup distance, measured from the drivers' TRUE positions, is within the slack per pair of a brute-force optimum over the same riders and candidate drivers.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "ride-sharing",
    number: 6,
    title: "Ride sharing",
    theme: "Marketplaces and platforms",
    question: "How do you match riders to nearby drivers fast and fairly, from noisy GPS, without ever booking one driver twice, and price a district's surge without wild swings?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: DRAIN_MS,
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
        rate_per_s: p.int("riders_per_s") as f64,
        think_ms: 0,
        duration_ms: DURATION_MS,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// A matcher crash and a partition between the fleet and the location service (the
/// GPS noise burst is a parameter of the phones, not a fault).
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let down = p.int("matcher_down_ms") as u64;
    if down > 0 {
        out.push(TimedFault { at_ms: 10_000, fault: Fault::Crash { node: "matcher-0".into() } });
        out.push(TimedFault { at_ms: 10_000 + down, fault: Fault::Restart { node: "matcher-0".into() } });
    }
    let cut = p.int("partition_ms") as u64;
    if cut > 0 {
        let (a, b) = (vec!["fleet".to_string()], vec!["location".to_string()]);
        out.push(TimedFault { at_ms: 14_000, fault: Fault::Partition { a, b, one_way: false } });
        out.push(TimedFault { at_ms: 14_000 + cut, fault: Fault::Heal });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("matchers")).map(|i| format!("matcher-{i}")).collect();
    t.push("location".into());
    t
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

/// Node ids: the riders' apps 0, matchers `1..=k`, the location service, the fleet.
fn parts(s: &Scenario) -> Result<Parts, BuildError> {
    let p = &s.params;
    let strategy = Strategy::from_id(s.strategy.id)
        .ok_or_else(|| BuildError(format!("ride-sharing has no strategy {:?}", s.strategy.id)))?;
    let shards = p.int("matchers") as u32;
    let drivers = p.int("drivers") as u32;
    let (matcher_base, location, fleet): (NodeId, NodeId, NodeId) = (1, 1 + shards, 2 + shards);
    let window_ms = p.int("window_ms") as u64;
    let workload = s.workload.capped(MAX_RIDERS_PER_S, MAX_DURATION_MS);
    let mut specs = Vec::new();
    let riders = riders::Riders::new(workload.clone(), matcher_base, shards, p.int("retry_ms") as u64);
    specs.push(NodeSpec::new("riders", "riders", Node::Riders(Box::new(riders))));
    let all_cells = geohash::covering(&city::area(0.0), city::CELL_CHARS, 10_000).unwrap_or_default();
    let (cap, step) = (p.float("surge_cap"), p.float("surge_step"));
    for i in 0..shards {
        let cells: Vec<geohash::Cell> = all_cells.iter().copied().filter(|c| city::owner(*c, shards) == i).collect();
        let cfg = matcher::MatcherCfg {
            idx: i,
            batched: strategy.batched(),
            location,
            riders: 0,
            window_ms,
            max_wait_ms: p.int("max_wait_ms") as u64,
            cap,
            step,
            damped: p.flag("surge_damping"),
        };
        specs.push(NodeSpec::new(
            format!("matcher-{i}"),
            "matcher",
            Node::Matcher(Box::new(matcher::Matcher::new(cfg, &cells))),
        ));
    }
    let update_ms = p.int("update_ms") as u64;
    let loc = location::Location::new(
        drivers,
        strategy.filtered(),
        !strategy.batched(),
        (0..shards).map(|i| matcher_base + i).collect(),
        fleet,
        window_ms,
        3 * update_ms,
    );
    specs.push(NodeSpec::new("location", "location", Node::Location(Box::new(loc))));
    let burst_ms = p.int("burst_ms") as u64;
    let gps = fleet::Gps {
        noise_m: p.int("gps_noise_m") as f64,
        outlier_pct: p.int("outlier_pct") as f64,
        burst_from: SimTime::from_ms(8_000),
        burst_until: SimTime::from_ms(8_000 + burst_ms),
        burst_noise_m: p.int("burst_noise_m") as f64,
    };
    let until = SimTime::from_ms(workload.duration_ms + DRAIN_MS);
    let mut rng = Prng::new(s.seed).fork("fleet-placement");
    let f = fleet::Fleet::new(drivers, location, update_ms, p.int("speed_kmh") as f64, gps, until, &mut rng);
    specs.push(NodeSpec::new("fleet", "fleet", Node::Fleet(Box::new(f))));
    let quiet = crate::sim::fault::quiet_from(&s.faults, false).unwrap_or(SimTime::MAX);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::OneRiderPerDriver::new(drivers as usize)),
        Box::new(checks::AnsweredInTime::new(p.int("answer_slo_ms") as u64, quiet)),
        Box::new(checks::SurgeBounded::new(cap, step, window_ms)),
        Box::new(checks::PickupDistance::new(drivers as usize, p.int("pickup_slack_m") as f64)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let drivers = p.int("drivers") as f64;
    let rate = (p.int("riders_per_s") as f64).min(MAX_RIDERS_PER_S);
    let update_s = p.int("update_ms") as f64 / 1_000.0;
    let window_s = p.int("window_ms") as f64 / 1_000.0;
    let shards = p.int("matchers") as f64;
    let speed = p.int("speed_kmh") as f64 / 3.6;
    let batch = (rate * window_s / shards).clamp(1.0, matcher::BATCH_MAX as f64);
    // Mean trip ≈ 1.3 km of pickup + 1 km ride on the grid (Manhattan ≈ 1.27 × straight).
    let trip_s = 2.3 * 1_000.0 * 1.27 / speed;
    vec![
        Estimate::new(
            "GPS fixes",
            format!("{} /s", estimate::si(drivers / update_s)),
            "drivers / fix interval: the location service is write-heavy",
        ),
        Estimate::new(
            "Fix bandwidth",
            format!("{}/s", estimate::bytes(drivers / update_s * 40.0)),
            "≈ 40 B per fix (id, x, y, accuracy, trip status)",
        ),
        Estimate::new(
            "Riders per window per shard",
            format!("≈ {}", estimate::si(batch)),
            format!("{} riders/s × {} ms / {} shards (≤ {})", rate, p.int("window_ms"), shards, matcher::BATCH_MAX),
        ),
        Estimate::new(
            "Hungarian work per window",
            format!("≈ {} steps", estimate::si(batch * batch * batch * batch)),
            "n riders × n² candidates (each rider's n nearest) × n rows",
        ),
        Estimate::new(
            "Drivers busy at steady state",
            format!("≈ {}", estimate::si((rate * trip_s).min(drivers))),
            format!("riders/s × ≈ {trip_s:.0} s per trip (Little's law), at most the fleet"),
        ),
        Estimate::new(
            "Track memory",
            estimate::bytes(drivers * 96.0),
            "≈ 96 B per driver (two axes: position, velocity, covariance)",
        ),
    ]
}
