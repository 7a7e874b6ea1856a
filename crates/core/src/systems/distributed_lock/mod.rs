//! Distributed lock (catalog entry 4, SYSTEMS.md entry 15): workers take a lock, do a
//! read-modify-write on a protected storage node, and release. Five designs, from a Redis
//! `SET NX PX` with a blind `DEL` to a Raft-replicated lock whose revision fences the
//! storage (the etcd/Chubby "sequencer" approach). The lesson, after Kleppmann's critique
//! of Redlock ("How to do distributed locking", 2016): a lease alone cannot stop a paused
//! holder from writing after it expired; only the resource checking a monotonically
//! increasing token can.

pub mod checks;
pub mod msg;
pub mod node;
pub mod raft;
pub mod server;
pub mod storage;
pub mod views;
pub mod worker;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamKind, ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, StrategyDef, SystemDef};
use crate::system::{Run, Simulation};
use msg::Obs;
use node::Node;
use server::{LockServer, ServerMode};

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    SetnxBlind,
    TokenRelease,
    Fencing,
    Redlock,
    Consensus,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here, which `build`
    /// refuses (and the conformance suite, building every `StrategyDef`, would catch).
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "setnx-blind-del" => Strategy::SetnxBlind,
            "token-release" => Strategy::TokenRelease,
            "fencing" => Strategy::Fencing,
            "redlock" => Strategy::Redlock,
            "consensus" => Strategy::Consensus,
            _ => return None,
        })
    }

    /// Whether the storage checks tokens.
    pub fn fenced(self) -> bool {
        matches!(self, Strategy::Fencing | Strategy::Consensus)
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "setnx-blind-del",
        title: "SETNX + TTL, blind DEL",
        robust: false,
        summary: "One Redis-like server: SET NX with a TTL to acquire, DEL to release. A worker that outlived its TTL deletes whoever holds the lock now, and writes anyway.",
    },
    StrategyDef {
        id: "token-release",
        title: "Token-checked release",
        robust: false,
        summary: "The lock value is a random token and release deletes only a matching key, so nobody frees another's lock — but a paused holder still writes after its lease expired.",
    },
    StrategyDef {
        id: "fencing",
        title: "Fencing tokens",
        robust: true,
        summary: "The server persists a counter before each grant and hands it out as a token; the storage refuses any access with a token lower than the highest it has seen.",
    },
    StrategyDef {
        id: "redlock",
        title: "Redlock over 5 nodes",
        robust: false,
        summary: "Acquire on a majority of independent instances within validity = TTL − elapsed − drift. Survives an instance crash, but gives no token: pauses and clock jumps still let two holders write.",
    },
    StrategyDef {
        id: "consensus",
        title: "Consensus-backed lock (Raft)",
        robust: true,
        summary: "Replicas agree on grants through a Raft log; the grant's log index is the fencing token (as etcd's revision). Survives a minority crash and partitions; the storage still fences.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "workers",
        label: "Workers",
        unit: "workers",
        kind: ParamKind::Int { min: 2, max: 8, default: 3 },
        help: "Workers competing for the one lock.",
    },
    ParamSpec {
        key: "ttl_ms",
        label: "Lease TTL",
        unit: "ms",
        kind: ParamKind::Int { min: 50, max: 5_000, default: 300 },
        help: "How long a grant lasts unless released; a crashed holder blocks others this long.",
    },
    ParamSpec {
        key: "work_ms",
        label: "Work per hold",
        unit: "ms",
        kind: ParamKind::Int { min: 1, max: 1_000, default: 40 },
        help: "Compute time between reading the counter and writing it back.",
    },
    ParamSpec {
        key: "gc_pause_ms",
        label: "GC pause",
        unit: "ms",
        kind: ParamKind::Int { min: 0, max: 5_000, default: 700 },
        help: "Length of each stop-the-world pause in the default scenario (longer than the TTL breaks leases).",
    },
    ParamSpec {
        key: "instances",
        label: "Redlock instances",
        unit: "nodes",
        kind: ParamKind::Int { min: 3, max: 7, default: 5 },
        help: "Independent lock servers Redlock asks (it needs a majority).",
    },
    ParamSpec {
        key: "replicas",
        label: "Consensus replicas",
        unit: "nodes",
        kind: ParamKind::Int { min: 3, max: 7, default: 3 },
        help: "Raft replicas of the consensus lock; a minority may fail.",
    },
    ParamSpec {
        key: "drift_pct",
        label: "Redlock drift factor",
        unit: "%",
        kind: ParamKind::Int { min: 0, max: 50, default: 1 },
        help: "Clock-drift allowance Redlock subtracts from the validity, as a share of the TTL.",
    },
    ParamSpec {
        key: "durable_counter",
        label: "Durable token counter",
        unit: "",
        kind: ParamKind::Bool { default: true },
        help: "Fencing only: persist the counter before granting. Off, a restarted server re-issues old tokens.",
    },
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "no-stale-write",
        kind: CheckKind::Safety,
        description: "No update is lost: every write the storage accepts was computed from the value the previous accepted write left.",
    },
    CheckDef {
        name: "single-holder",
        kind: CheckKind::Safety,
        description: "No two workers hold the lock at once in true time (a hold ends with the critical section, the lease, or a higher fencing token).",
    },
    CheckDef {
        name: "tokens-increase",
        kind: CheckKind::Safety,
        description: "The storage accepts writes in the order the lock service granted their leases.",
    },
    CheckDef {
        name: "progress",
        kind: CheckKind::Liveness,
        description: "After the last fault ends, the lock is granted and a write accepted again within 2·TTL + 1.5 s.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "distributed-lock",
    number: 15,
    title: "Distributed lock",
    theme: "Coordination",
    question: "How do you let many workers take turns on a shared resource when processes pause, clocks jump and servers crash?",
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

fn default_workload(_p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Closed,
        rate_per_s: 20.0,
        think_ms: 20,
        duration_ms: 10_000,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// Eight stop-the-world pauses of `gc_pause_ms` (longer than the default TTL), 850 ms
/// apart, taking turns between worker-0 and worker-1. Only those two: the default
/// scenario is built once from the default parameters and kept when a parameter changes
/// (`sdlab run --set workers=2`), so its plan must name nodes that exist for every worker
/// count. Eight rather than a few, because a pause breaks a lease only when it catches the
/// worker mid-computation; the last ends by 7.7 s, leaving `progress` time to be judged
/// before the workload stops at 10 s. A zero-length pause is no fault.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let for_ms = p.int("gc_pause_ms").max(0) as u64;
    if for_ms == 0 {
        return Vec::new();
    }
    (0..8u64)
        .map(|i| TimedFault {
            at_ms: 1_000 + 850 * i,
            fault: Fault::Pause { node: format!("worker-{}", i % 2), for_ms },
        })
        .collect()
}

/// Lock servers for a strategy: how many, and their names.
fn server_names(p: &Params, strategy: Strategy) -> Vec<String> {
    let n = match strategy {
        Strategy::Redlock => p.int("instances"),
        Strategy::Consensus => p.int("replicas"),
        _ => 1,
    };
    (0..n).map(|i| format!("lock-{i}")).collect()
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("workers")).map(|i| format!("worker-{i}")).collect();
    // Names valid for every strategy: `lock-0` always exists, and the role `lock` hits
    // every lock server at once (the whole cluster, for Redlock and consensus).
    t.push("lock-0".into());
    t.push("lock".into());
    t.push("storage".into());
    t
}

/// When the last fault of a plan is over; `None` if one never ends (a skew counts as
/// instantaneous).
pub fn quiet_from(faults: &[TimedFault]) -> Option<SimTime> {
    crate::sim::fault::quiet_from(faults, false)
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    Ok(Run::boxed(build_world(scenario, opts)?, views::views))
}

/// The world of a scenario: workers first (so a worker's node id is its lease's `worker`),
/// then the lock servers, then the storage.
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("distributed-lock has no strategy {:?}", scenario.strategy.id)))?;
    let workers = p.int("workers") as u32;
    let ttl_ms = p.int("ttl_ms") as u64;
    let servers = server_names(p, strategy);
    let server_ids: Vec<NodeId> = (0..servers.len() as u32).map(|i| workers + i).collect();
    let storage_id = workers + servers.len() as u32;
    let mut specs = Vec::new();
    for i in 0..workers {
        let cfg = worker::WorkerCfg {
            strategy,
            servers: server_ids.clone(),
            storage: storage_id,
            ttl_ms,
            work_ms: p.int("work_ms") as u64,
            drift_pct: p.int("drift_pct") as u64,
            workload: scenario.workload.clone(),
        };
        specs.push(NodeSpec::new(format!("worker-{i}"), "worker", Node::Worker(worker::Worker::new(cfg))));
    }
    for (name, &id) in servers.iter().zip(&server_ids) {
        let node = match strategy {
            Strategy::Consensus => Node::Replica(raft::Replica::new(id, server_ids.clone(), ttl_ms)),
            Strategy::SetnxBlind => Node::Server(LockServer::new(ServerMode::BlindDelete, false)),
            Strategy::TokenRelease => Node::Server(LockServer::new(ServerMode::CheckedDelete, false)),
            Strategy::Redlock => Node::Server(LockServer::new(ServerMode::CheckedDelete, true)),
            Strategy::Fencing => {
                Node::Server(LockServer::new(ServerMode::Fencing { durable: p.flag("durable_counter") }, false))
            }
        };
        specs.push(NodeSpec::new(name.clone(), "lock", node));
    }
    specs.push(NodeSpec::new("storage", "storage", Node::Storage(storage::Storage::new(strategy.fenced()))));
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let workload_end = SimTime::from_ms(scenario.workload.duration_ms);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoStaleWrite::new(names.clone())),
        Box::new(checks::SingleHolder::new(names.clone(), worker_crashes(&scenario.faults, &names, workers))),
        Box::new(checks::TokensIncrease::new(names)),
        Box::new(checks::Progress::new(quiet_from(&scenario.faults), 2 * ttl_ms + 1_500, workload_end)),
    ];
    crate::system::world(scenario, opts, specs, props)
}

/// When the plan crashes each worker (by name, or all of them by the role `worker`).
fn worker_crashes(faults: &[TimedFault], names: &[String], workers: u32) -> Vec<Vec<SimTime>> {
    let mut out = vec![Vec::new(); workers as usize];
    for f in faults {
        let Fault::Crash { node } = &f.fault else { continue };
        for (w, crashes) in out.iter_mut().enumerate() {
            if node == "worker" || names.get(w) == Some(node) {
                crashes.push(SimTime::from_ms(f.at_ms));
            }
        }
    }
    for c in &mut out {
        c.sort();
    }
    out
}

/// Back-of-the-envelope figures: lock throughput and how long a pause must be to hurt.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let (ttl, work) = (p.int("ttl_ms") as f64, p.int("work_ms") as f64);
    let workers = p.int("workers") as f64;
    vec![
        Estimate::new(
            "Lock hand-offs",
            format!("≤ {} /s", estimate::si(1_000.0 / work.max(1.0))),
            "one holder at a time, each working work_ms",
        ),
        Estimate::new("Waiting workers", estimate::si(workers - 1.0), "everyone but the holder queues or retries"),
        Estimate::new(
            "Safety margin",
            format!("{} ms", estimate::si(ttl - work)),
            "TTL − work time: a longer pause outlives the lease",
        ),
        Estimate::new(
            "Injected GC pause",
            format!("{} ms", p.int("gc_pause_ms")),
            "longer than the TTL ⇒ a stale holder",
        ),
        Estimate::new(
            "Redlock quorum",
            format!("{} of {}", p.int("instances") / 2 + 1, p.int("instances")),
            "majority of independent lock servers",
        ),
    ]
}
